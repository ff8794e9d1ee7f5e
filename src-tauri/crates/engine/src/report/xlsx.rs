//! The report as an xlsx workbook: one sheet per view (按日, 按供应商, 按批次, 按客户), then any extra
//! sheets the caller adds ([`ExtraSheet`]: the per-provider daily statement of the balance watch goes
//! here when it exists).
//!
//! As in the order export (`import::export`): money is exact yuan text (`98.50`), never a float, and
//! unknown is “—”, never 0; counts are numbers; every text cell is a typed string, never a formula.
//! The file is written beside its destination and renamed over it when complete.

use super::{labelled, range, total_line, ReportError, ReportLine, ReportQuery};
use crate::book::{Book, ReportBy};
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use std::path::Path;
use topup_core::Li;

/// The sheet of each view, in order.
pub const SHEETS: [(ReportBy, &str); 4] = [
    (ReportBy::Day, "按日"),
    (ReportBy::Provider, "按供应商"),
    (ReportBy::Batch, "按批次"),
    (ReportBy::Customer, "按客户"),
];

/// The headings of a view's sheet (the first names the grouping).
pub const HEADINGS: [&str; 17] = [
    "分组",
    "订单数",
    "成功",
    "失败",
    "处理中",
    "成功率",
    "面值合计",
    "成本",
    "成本未知(单)",
    "销售额",
    "售价未知(单)",
    "利润",
    "利润未知(单)",
    "应退客户",
    "应退(单)",
    "应退未知(单)",
    "平均成功用时(秒)",
];

/// Another sheet to add after the views (e.g. a daily statement): text cells, written as given.
#[derive(Clone, Debug, Default)]
pub struct ExtraSheet {
    pub name: String,
    pub headings: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Money as exact yuan text, unknown as “—”.
pub fn money(v: Option<Li>) -> String {
    v.map_or_else(|| "—".to_owned(), |v| v.to_string())
}

/// A success rate in basis points as `98.50%`, unknown as “—”.
pub fn rate(bp: Option<i64>) -> String {
    bp.map_or_else(|| "—".to_owned(), |bp| format!("{}.{:02}%", bp / 100, bp % 100))
}

/// Milliseconds as seconds with one decimal (`12.3`), unknown as “—”.
pub fn seconds(ms: Option<i64>) -> String {
    ms.map_or_else(|| "—".to_owned(), |ms| format!("{}.{}", ms / 1000, ms % 1000 / 100))
}

enum Cell {
    Text(String),
    Count(i64),
}

fn cells(l: &ReportLine) -> [Cell; 17] {
    use Cell::{Count, Text};
    [
        Text(l.label.clone()),
        Count(l.orders),
        Count(l.succeeded),
        Count(l.failed),
        Count(l.pending),
        Text(rate(l.success_rate_bp)),
        Text(money(Some(l.face))),
        Text(money(l.cost)),
        Count(l.cost_unknown),
        Text(money(l.sales)),
        Count(l.sale_unknown),
        Text(money(l.profit)),
        Count(l.profit_unknown),
        Text(money(l.refunds)),
        Count(l.refund_orders),
        Count(l.refund_unknown),
        Text(seconds(l.avg_success_ms)),
    ]
}

fn sheet(ws: &mut Worksheet, name: &str, lines: &[ReportLine], total: &ReportLine) -> Result<(), XlsxError> {
    ws.set_name(name)?;
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    for (c, h) in HEADINGS.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)?;
        ws.set_column_width(c as u16, if c == 0 { 28 } else { 12 })?;
    }
    for (i, l) in lines.iter().chain(std::iter::once(total)).enumerate() {
        let row = i as u32 + 1;
        for (c, cell) in cells(l).into_iter().enumerate() {
            match cell {
                Cell::Text(t) => ws.write_string_with_format(row, c as u16, t, &text)?,
                // Counts are whole numbers far below 2^53: exact as a spreadsheet number.
                Cell::Count(n) => ws.write_number(row, c as u16, n as f64)?,
            };
        }
    }
    ws.set_freeze_panes(1, 1)?;
    Ok(())
}

/// Writes the report of `q` (every view) and `extra` sheets to `path`. Returns the range written.
pub fn write(
    book: &Book,
    q: &ReportQuery,
    path: &Path,
    extra: &[ExtraSheet],
) -> Result<(String, String), ReportError> {
    let (from, to) = range(book, q)?;
    let mut views = Vec::new();
    let mut total = None;
    for (by, name) in SHEETS {
        let sums = book.report_sums(by, from, to)?;
        total.get_or_insert_with(|| total_line(&sums));
        views.push((name, labelled(book, by, &sums)?));
    }
    let total = total.unwrap_or_default();
    crate::import::export::write_whole(path, |part| {
        let mut wb = Workbook::new();
        for (name, rows) in &views {
            sheet(wb.add_worksheet(), name, rows, &total).map_err(|e| e.to_string())?;
        }
        for x in extra {
            let ws = wb.add_worksheet();
            let add = |ws: &mut Worksheet| -> Result<(), XlsxError> {
                ws.set_name(&x.name)?;
                for (c, h) in x.headings.iter().enumerate() {
                    ws.write_string(0, c as u16, h)?;
                }
                for (r, row) in x.rows.iter().enumerate() {
                    for (c, v) in row.iter().enumerate() {
                        ws.write_string(r as u32 + 1, c as u16, v)?;
                    }
                }
                Ok(())
            };
            add(ws).map_err(|e| e.to_string())?;
        }
        wb.save(part).map_err(|e| e.to_string())
    })?;
    Ok((super::day_text(from), super::day_text(to)))
}
