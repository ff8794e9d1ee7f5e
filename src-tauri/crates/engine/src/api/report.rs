//! Reports for the window and the command line: the report of a range, and its xlsx export.

use crate::book::Book;
use crate::report::{ReportError, ReportQuery};
use std::path::{Path, PathBuf};

pub use crate::report::xlsx::ExtraSheet;
pub use crate::report::{report, Report, ReportLine};

/// The sheets added after the four views. The per-provider daily statement (issue 14 item 6) goes
/// here when the balance watch provides it.
pub fn extra_sheets(_book: &Book, _q: &ReportQuery) -> Result<Vec<ExtraSheet>, ReportError> {
    Ok(Vec::new())
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
