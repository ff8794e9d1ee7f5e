//! Reading juhe's `game_area` text ("浙江杭州移动") as province, city and carrier.
//!
//! Why here: the province table is a rule about what providers answer, read by the engine's number
//! lookup; it was inside the window's facade, beside unrelated operations.

use crate::Carrier;

/// The 31 mainland provinces, autonomous regions and municipalities, as juhe names them.
const PROVINCES: &[&str] = &[
    "北京",
    "天津",
    "河北",
    "山西",
    "内蒙古",
    "辽宁",
    "吉林",
    "黑龙江",
    "上海",
    "江苏",
    "浙江",
    "安徽",
    "福建",
    "江西",
    "山东",
    "河南",
    "湖北",
    "湖南",
    "广东",
    "广西",
    "海南",
    "重庆",
    "四川",
    "贵州",
    "云南",
    "西藏",
    "陕西",
    "甘肃",
    "青海",
    "宁夏",
    "新疆",
];

/// Splits juhe's `game_area` ("浙江杭州移动") into province, city and carrier.
pub fn parse_area(area: &str) -> (Option<String>, Option<String>, Option<Carrier>) {
    let carrier = if area.ends_with("移动") {
        Some(Carrier::Mobile)
    } else if area.ends_with("联通") {
        Some(Carrier::Unicom)
    } else if area.ends_with("电信") {
        Some(Carrier::Telecom)
    } else {
        None
    };
    let rest = area.trim_end_matches("移动").trim_end_matches("联通").trim_end_matches("电信");
    match PROVINCES.iter().find(|p| rest.starts_with(*p)) {
        Some(p) => {
            let city = rest[p.len()..].trim();
            (Some((*p).to_owned()), (!city.is_empty()).then(|| city.to_owned()), carrier)
        }
        None => (None, None, carrier),
    }
}
