//! The 报表 screen: the report of a range, and its xlsx export to the data directory.

use super::blocking;
use crate::error::CmdResult;
use tauri::AppHandle;
use topup_engine::api::report::{self, Report};
use topup_engine::report::ReportQuery;

#[tauri::command]
pub async fn report<R: tauri::Runtime>(app: AppHandle<R>, query: ReportQuery) -> CmdResult<Report> {
    blocking(app, move |s| Ok(report::report(&s.book, &query)?)).await
}

/// Writes the report (one sheet per view) to `<data dir>/exports/`; returns the file's path.
#[tauri::command]
pub async fn export_report<R: tauri::Runtime>(app: AppHandle<R>, query: ReportQuery) -> CmdResult<String> {
    blocking(app, move |s| Ok(report::export(&s.book, &s.data_dir, &query)?.display().to_string())).await
}
