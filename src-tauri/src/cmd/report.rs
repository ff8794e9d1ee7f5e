//! The 报表 screen: the report of a range, and its xlsx export to the data directory.

use super::blocking;
use crate::error::{CmdError, CmdResult};
use tauri::AppHandle;
use topup_engine::api::report::{self, Report};
use topup_engine::report::{ReportError, ReportQuery};

impl From<ReportError> for CmdError {
    fn from(e: ReportError) -> Self {
        CmdError::new(e.code(), e.to_string())
    }
}

#[tauri::command]
pub async fn report(app: AppHandle, query: ReportQuery) -> CmdResult<Report> {
    blocking(app, move |s| Ok(report::report(&s.book, &query)?)).await
}

/// Writes the report (one sheet per view) to `<data dir>/exports/`; returns the file's path.
#[tauri::command]
pub async fn export_report(app: AppHandle, query: ReportQuery) -> CmdResult<String> {
    blocking(app, move |s| Ok(report::export(&s.book, &s.data_dir, &query)?.display().to_string())).await
}
