//! Words people write for a product kind, a power grid and a carrier, in Chinese and English.
//!
//! Why a table: a spreadsheet says 话费 or 手机, the form says `phone`, the command line `--grid 国网`;
//! each means one thing, and anything not in the table is an error naming the value, never a guess.

use topup_core::ProductKind;
use topup_providers::{Carrier, Grid};

pub fn kind(s: &str) -> Option<ProductKind> {
    let t = s.trim().to_lowercase();
    Some(match t.as_str() {
        "话费" | "手机" | "话费充值" | "手机话费" | "phone" | "mobile" => ProductKind::Phone,
        "电费" | "电费充值" | "electricity" | "power" => ProductKind::Electricity,
        "游戏" | "游戏充值" | "game" => ProductKind::Game,
        "抖音" | "抖币" | "抖音币" | "douyin" => ProductKind::Douyin,
        _ => return t.parse().ok(),
    })
}

/// 快充 or 慢充: `Some(true)` for slow.
pub fn slow(s: &str) -> Option<bool> {
    let t = s.trim().to_lowercase();
    match t.as_str() {
        "慢充" | "慢" | "慢速" | "slow" => Some(true),
        "快充" | "快" | "快速" | "fast" => Some(false),
        _ => None,
    }
}

pub fn grid(s: &str) -> Option<Grid> {
    let t = s.trim().to_lowercase();
    match t.as_str() {
        "国网" | "国家电网" | "国家" | "国家电网公司" | "state" | "stategrid" | "sgcc" => {
            Some(Grid::State)
        }
        "南网" | "南方电网" | "南方" | "南方电网公司" | "south" | "southerngrid" | "csg" => {
            Some(Grid::South)
        }
        _ => None,
    }
}

pub fn carrier(s: &str) -> Option<Carrier> {
    let t = s.trim().to_lowercase();
    match t.as_str() {
        "移动" | "中国移动" | "mobile" | "cmcc" | "1" => Some(Carrier::Mobile),
        "联通" | "中国联通" | "unicom" | "cucc" | "2" => Some(Carrier::Unicom),
        "电信" | "中国电信" | "telecom" | "ctcc" | "3" => Some(Carrier::Telecom),
        _ => None,
    }
}
