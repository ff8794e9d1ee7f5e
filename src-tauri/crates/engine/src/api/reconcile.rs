//! Reconciliation (对账) operations: run one by API or by a statement file, list the runs, resolve a
//! line's order through the one resolve path with a note naming the run, export the lines.
//!
//! Inputs arrive as the window and the command line have them (days as `yyyy-MM-dd`, a file's bytes,
//! mappings as `COLUMN=FIELD`); the rules are in [`crate::reconcile`].

use crate::book::{Book, Order, ReconcileRun};
use crate::import::{ExportFormat, SourceFile};
use crate::reconcile::{
    self, Line, Progress, ReconcileError, Reconciliation, Request, StatementMapping, TimeBasis,
};
use crate::run::Engine;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use topup_core::ProviderId;

/// A reconciliation as the window asks for it.
#[derive(Clone, Debug, Default, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase", default)]
pub struct ReconcileRequest {
    /// First day, `yyyy-MM-dd` (local).
    pub from_day: String,
    /// Last day, included; default `from_day`.
    pub to_day: Option<String>,
    pub basis: TimeBasis,
    /// Required for a statement; `None` with the API: every provider.
    pub provider: Option<ProviderId>,
    /// A statement file: its name and bytes. Absent: by API.
    pub file_name: Option<String>,
    pub bytes: Option<Vec<u8>>,
    pub sheet: Option<String>,
    pub mappings: Vec<StatementMapping>,
}

impl ReconcileRequest {
    pub fn request(&self) -> Result<Request, ReconcileError> {
        let to = self.to_day.as_deref().filter(|d| !d.trim().is_empty()).unwrap_or(&self.from_day);
        let (from, to) = reconcile::day_range(&self.from_day, to)?;
        Ok(Request { from, to, basis: self.basis, provider: self.provider })
    }
}

/// By API: every order of the range asked about again (progress after each answer; `cancel` stops it).
pub async fn by_api(
    engine: &Arc<Engine>,
    request: &ReconcileRequest,
    progress: &(dyn Fn(Progress) + Send + Sync),
    cancel: &AtomicBool,
) -> Result<Reconciliation, ReconcileError> {
    reconcile::by_api(engine, &request.request()?, progress, cancel).await
}

/// By the statement in `request` (its bytes).
pub fn by_file(book: &Book, request: &ReconcileRequest) -> Result<Reconciliation, ReconcileError> {
    let (Some(name), Some(bytes)) = (&request.file_name, &request.bytes) else {
        return Err(ReconcileError::Invalid("请选择对账单文件 / choose a statement file".into()));
    };
    let file = SourceFile::from_bytes(name.clone(), bytes.clone())?;
    by_source(book, request, &file)
}

/// By a statement read from disk (the command line).
pub fn by_path(
    book: &Book,
    request: &ReconcileRequest,
    path: &Path,
) -> Result<Reconciliation, ReconcileError> {
    by_source(book, request, &SourceFile::open(path)?)
}

fn by_source(
    book: &Book,
    request: &ReconcileRequest,
    file: &SourceFile,
) -> Result<Reconciliation, ReconcileError> {
    let sheet = request.sheet.as_deref().filter(|s| !s.is_empty());
    reconcile::by_file(book, &request.request()?, file, sheet, &request.mappings)
}

/// The latest runs, newest first.
pub fn runs(book: &Book) -> Result<Vec<ReconcileRun>, ReconcileError> {
    Ok(book.reconcile_runs(200)?)
}

/// The note a resolution from a reconciliation carries: the run named, then the person's words.
pub fn resolution_note(run_id: &str, note: &str) -> String {
    format!("对账 #{} / reconciliation #{}：{}", run_id.trim(), run_id.trim(), note.trim())
}

/// Resolves a line's order through the one resolve path, the note naming the run. `outcome`:
/// `succeeded` or `failed` for an order in manual review; anything for a flagged final order (its
/// flag is cleared, its state never changes).
pub fn resolve(
    engine: &Engine,
    run_id: &str,
    order_id: &str,
    outcome: &str,
    note: &str,
) -> Result<Order, ReconcileError> {
    if note.trim().is_empty() {
        return Err(ReconcileError::Invalid("请填写处理说明 / a note is required".into()));
    }
    let id = order_id
        .trim()
        .parse::<i64>()
        .map_err(|_| ReconcileError::Invalid(format!("订单编号“{order_id}”无效 / invalid order id")))?;
    let state = match outcome {
        "failed" => crate::book::OrderState::Failed,
        _ => crate::book::OrderState::Succeeded,
    };
    Ok(engine.resolve(id, state, &resolution_note(run_id, note))?)
}

/// Where an export went.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct LinesExported {
    pub path: String,
    pub rows: usize,
}

/// Writes `lines` to `path`, the format from its extension (`.xlsx` or `.csv`).
pub fn export_to(lines: &[Line], path: &Path) -> Result<LinesExported, ReconcileError> {
    let format = ExportFormat::from_path(path).ok_or_else(|| {
        ReconcileError::Invalid(format!(
            "导出文件 {} 应以 .xlsx 或 .csv 结尾 / the export file must end in .xlsx or .csv",
            path.display()
        ))
    })?;
    let rows = reconcile::export::export_lines(lines, path, format)?;
    Ok(LinesExported { path: path.display().to_string(), rows })
}

/// Writes `lines` to `<data dir>/exports/对账-<run>-<time>.<format>`.
pub fn export(
    data_dir: &Path,
    run_id: &str,
    lines: &[Line],
    format: &str,
) -> Result<LinesExported, ReconcileError> {
    if !matches!(format, "xlsx" | "csv") {
        return Err(ReconcileError::Invalid(format!(
            "格式“{format}”无效，应为 xlsx 或 csv / format must be xlsx or csv"
        )));
    }
    let stamp = crate::import::export::format_time(crate::book::now_ms()).replace([' ', ':', '-'], "");
    let run: String = run_id.chars().filter(char::is_ascii_digit).collect();
    let path: PathBuf = data_dir.join("exports").join(format!("对账-{run}-{stamp}.{format}"));
    export_to(lines, &path)
}
