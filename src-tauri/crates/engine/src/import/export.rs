//! Export of orders (a batch, or any filtered list) to xlsx or csv, with Chinese headings.
//!
//! Why these choices: Excel turns a long digit string into a float (`1.38123E+10`, and an 18-digit ID
//! or 户号 loses its last digits), so in xlsx the account and the ids are written as string cells with
//! the text format `@`. Money is written as exact yuan text (`98.50`, `1.065`), never through f64, so a
//! reconciliation reads back exactly what the book holds. csv is UTF-8 with a BOM so that Excel opens
//! Chinese text correctly.

use super::ImportError;
use crate::book::{Book, Order, OrderFilter};
use rust_xlsxwriter::{Format, Workbook};
use std::io::Write;
use std::path::Path;

/// The headings, in order.
pub const HEADINGS: [&str; 11] = [
    "商户订单号",
    "供应商",
    "类型",
    "账号",
    "面值",
    "成本",
    "状态",
    "供应商订单号",
    "创建时间",
    "完成时间",
    "备注/错误",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Xlsx,
    Csv,
}

impl ExportFormat {
    /// From the file extension (`.xlsx` or `.csv`).
    pub fn from_path(path: &Path) -> Option<ExportFormat> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "xlsx" => Some(ExportFormat::Xlsx),
            "csv" => Some(ExportFormat::Csv),
            _ => None,
        }
    }
}

/// Local time `yyyy-MM-dd HH:mm:ss` of a millisecond timestamp.
pub fn format_time(ms: i64) -> String {
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)) else { return String::new() };
    let t = t.to_offset(time::UtcOffset::current_local_offset().unwrap_or(time::UtcOffset::UTC));
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn cells(o: &Order) -> [String; 11] {
    let remark = match (&o.note, &o.last_error) {
        (Some(n), Some(e)) => format!("{n} / {e}"),
        (Some(n), None) => n.clone(),
        (None, Some(e)) => e.clone(),
        (None, None) => String::new(),
    };
    [
        o.merchant_order_id.clone(),
        o.provider.label_zh().to_owned(),
        o.kind.label_zh().to_owned(),
        o.account.clone(),
        o.face.to_string(),
        o.cost.map(|c| c.to_string()).unwrap_or_default(),
        o.state.label_zh().to_owned(),
        o.provider_order_id.clone().unwrap_or_default(),
        format_time(o.created_at),
        o.finished_at.map(format_time).unwrap_or_default(),
        remark,
    ]
}

/// Every order matching `filter` (all pages, `offset`/`limit` ignored), oldest first.
pub fn matching_orders(book: &Book, filter: &OrderFilter) -> Result<Vec<Order>, ImportError> {
    let mut f = filter.clone();
    f.limit = 1000;
    f.offset = 0;
    let mut all = Vec::new();
    loop {
        let page = book.list_orders(&f)?;
        let n = page.orders.len();
        all.extend(page.orders);
        if n == 0 || all.len() as i64 >= page.total {
            break;
        }
        f.offset += n as i64;
    }
    all.reverse();
    Ok(all)
}

/// Writes the orders matching `filter` to `path`. Returns how many were written.
pub fn export_orders(
    book: &Book,
    filter: &OrderFilter,
    path: &Path,
    format: ExportFormat,
) -> Result<usize, ImportError> {
    let orders = matching_orders(book, filter)?;
    match format {
        ExportFormat::Xlsx => write_xlsx(&orders, path)?,
        ExportFormat::Csv => write_csv(&orders, path)?,
    }
    Ok(orders.len())
}

fn write_xlsx(orders: &[Order], path: &Path) -> Result<(), ImportError> {
    let e = |err: rust_xlsxwriter::XlsxError| ImportError::Export(err.to_string());
    let mut wb = Workbook::new();
    let sheet = wb.add_worksheet();
    sheet.set_name("订单").map_err(e)?;
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    for (c, h) in HEADINGS.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &bold).map_err(e)?;
    }
    for (c, width) in [24, 10, 6, 16, 10, 10, 10, 24, 20, 20, 30].into_iter().enumerate() {
        sheet.set_column_width(c as u16, width).map_err(e)?;
    }
    for (i, o) in orders.iter().enumerate() {
        let row = i as u32 + 1;
        for (c, value) in cells(o).iter().enumerate() {
            if value.is_empty() {
                continue;
            }
            sheet.write_string_with_format(row, c as u16, value, &text).map_err(e)?;
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(e)?;
    wb.save(path).map_err(e)
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn write_csv(orders: &[Order], path: &Path) -> Result<(), ImportError> {
    let io =
        |err: std::io::Error| ImportError::Io { path: path.display().to_string(), message: err.to_string() };
    let file = std::fs::File::create(path).map_err(io)?;
    let mut w = std::io::BufWriter::new(file);
    w.write_all(b"\xEF\xBB\xBF").map_err(io)?;
    write!(w, "{}\r\n", HEADINGS.join(",")).map_err(io)?;
    for o in orders {
        let line: Vec<String> = cells(o).iter().map(|c| csv_field(c)).collect();
        w.write_all(line.join(",").as_bytes()).map_err(io)?;
        w.write_all(b"\r\n").map_err(io)?;
    }
    w.flush().map_err(io)
}
