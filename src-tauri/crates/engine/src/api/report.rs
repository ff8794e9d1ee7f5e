//! Reports for the window and the command line: the report of a range, and its xlsx export.

use crate::api::balance_statement;
use crate::book::Book;
use crate::config::EngineSettings;
use crate::report::{ReportError, ReportQuery};
use crate::Li;
use std::path::{Path, PathBuf};

pub use crate::report::xlsx::ExtraSheet;
pub use crate::report::{report, Report, ReportLine};

/// The sheets added after the four views: the per-provider daily statement of the balance watch
/// (opening, deposits, spend, refunds, closing, expected against observed) over the report's days.
pub fn extra_sheets(book: &Book, q: &ReportQuery) -> Result<Vec<ExtraSheet>, ReportError> {
    let (from, to) = crate::report::range(book, q)?;
    let tolerance = Li(EngineSettings::load(book)?.balance_drift_tolerance_li);
    let statements = balance_statement::statements_over(
        book,
        &crate::report::day_text(from),
        &crate::report::day_text(to),
        balance_statement::local_offset(),
        tolerance,
    )?;
    let (headings, rows) = balance_statement::sheet_table(&statements);
    Ok(vec![ExtraSheet { name: balance_statement::SHEET_NAME.to_owned(), headings, rows }])
}

/// Writes the report of `q` to `path` (xlsx, one sheet per view, then [`extra_sheets`]).
pub fn export_to(book: &Book, q: &ReportQuery, path: &Path) -> Result<(String, String), ReportError> {
    let extra = extra_sheets(book, q)?;
    crate::report::xlsx::write(book, q, path, &extra)
}

/// Writes the report of `q` to `<data dir>/exports/报表-<from>-<to>.xlsx`; returns the file.
pub fn export(book: &Book, data_dir: &Path, q: &ReportQuery) -> Result<PathBuf, ReportError> {
    let (from, to) = crate::report::range(book, q)?;
    let path = data_dir.join("exports").join(format!(
        "报表-{}-{}.xlsx",
        crate::report::day_text(from),
        crate::report::day_text(to)
    ));
    export_to(book, q, &path)?;
    Ok(path)
}
