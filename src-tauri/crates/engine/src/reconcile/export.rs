//! A reconciliation's lines to xlsx or csv, through the one export writer (text cells, formulas
//! neutralised in csv, written whole or not at all): the list a reseller sends the provider.

use super::{Line, LineKind, ProviderState};
use crate::import::export::{format_time, write_table, ExportFormat, Table};
use crate::import::ImportError;
use std::path::Path;

pub const HEADINGS: [&str; 14] = [
    "类别",
    "商户订单号",
    "供应商订单号",
    "供应商",
    "账号",
    "账上状态",
    "供应商状态",
    "账上面值",
    "供应商面值",
    "账上成本",
    "供应商扣款",
    "对账单行",
    "时间",
    "说明",
];

pub fn kind_zh(kind: LineKind) -> &'static str {
    match kind {
        LineKind::StateDiffers => "状态不符",
        LineKind::StatementOnly => "仅供应商有",
        LineKind::AmountDiffers => "金额不符",
        LineKind::BookOnly => "仅账上有",
        LineKind::Unanswered => "未答复",
        LineKind::OutOfWindow => "超出查询期",
        LineKind::Matched => "一致",
    }
}

pub fn provider_state_zh(state: ProviderState) -> &'static str {
    match state {
        ProviderState::Succeeded => "成功",
        ProviderState::Failed => "失败",
        ProviderState::Pending => "处理中",
        ProviderState::NotFound => "查无此单",
    }
}

fn cells(l: &Line) -> Vec<String> {
    let money = |v: Option<topup_core::Li>| v.map(|v| v.to_string()).unwrap_or_default();
    vec![
        kind_zh(l.kind).to_owned(),
        l.merchant_order_id.clone().unwrap_or_default(),
        l.provider_order_id.clone().unwrap_or_default(),
        l.provider.map(|p| p.label_zh().to_owned()).unwrap_or_default(),
        l.account.clone().unwrap_or_default(),
        l.book_state.map(|s| s.label_zh().to_owned()).unwrap_or_default(),
        l.provider_state.map(|s| provider_state_zh(s).to_owned()).unwrap_or_default(),
        money(l.book_face),
        money(l.provider_face),
        money(l.book_amount),
        money(l.provider_amount),
        l.row.map(|r| r.to_string()).unwrap_or_default(),
        l.time.map(format_time).unwrap_or_default(),
        format!("{} / {}", l.zh, l.en),
    ]
}

/// Writes `lines` (in their ranked order) to `path`. Returns how many were written.
pub fn export_lines(lines: &[Line], path: &Path, format: ExportFormat) -> Result<usize, ImportError> {
    let rows: Vec<Vec<String>> = lines.iter().map(cells).collect();
    let table = Table {
        sheet: "对账",
        headings: &HEADINGS,
        widths: &[10, 24, 24, 8, 16, 8, 8, 10, 10, 10, 10, 8, 20, 40],
    };
    write_table(&table, &rows, path, format)?;
    Ok(lines.len())
}
