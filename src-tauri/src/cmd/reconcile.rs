//! Reconciliation (对账) commands, one line each into `topup_engine::api::reconcile`. The API pass
//! reports its progress as `reconcile://progress` events and can be cancelled (one pass at a time per
//! window: a new one replaces the cancel switch of the last).

use super::blocking;
use crate::error::CmdResult;
use crate::state::AppState;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tauri::{AppHandle, Emitter, State};
use topup_engine::api::reconcile::{self as api, LinesExported, ReconcileRequest};
use topup_engine::book::{Order, ReconcileRun};
use topup_engine::reconcile::{Line, Progress, Reconciliation};

/// The event carrying [`Progress`].
pub const PROGRESS_EVENT: &str = "reconcile://progress";

/// The cancel switch of the API pass in progress.
static CANCEL: Mutex<Option<Arc<AtomicBool>>> = Mutex::new(None);

#[tauri::command]
pub async fn reconcile_run(
    app: AppHandle,
    state: State<'_, AppState>,
    request: ReconcileRequest,
) -> CmdResult<Reconciliation> {
    if request.bytes.is_some() {
        return blocking(app, move |s| Ok(api::by_file(&s.book, &request)?)).await;
    }
    let cancel = Arc::new(AtomicBool::new(false));
    *CANCEL.lock().unwrap_or_else(|p| p.into_inner()) = Some(cancel.clone());
    let progress = move |p: Progress| {
        let _ = app.emit(PROGRESS_EVENT, &p);
    };
    Ok(api::by_api(&state.engine(), &request, &progress, &cancel).await?)
}

#[tauri::command]
pub async fn reconcile_cancel() -> CmdResult<()> {
    if let Some(c) = CANCEL.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
        c.store(true, Ordering::Relaxed);
    }
    Ok(())
}

#[tauri::command]
pub async fn reconcile_runs(app: AppHandle) -> CmdResult<Vec<ReconcileRun>> {
    blocking(app, |s| Ok(api::runs(&s.book)?)).await
}

#[tauri::command]
pub async fn reconcile_resolve(
    app: AppHandle,
    run_id: String,
    order_id: String,
    outcome: String,
    note: String,
) -> CmdResult<Order> {
    blocking(app, move |s| Ok(api::resolve(&s.engine(), &run_id, &order_id, &outcome, &note)?)).await
}

#[tauri::command]
pub async fn reconcile_export(
    app: AppHandle,
    run_id: String,
    lines: Vec<Line>,
    format: String,
) -> CmdResult<LinesExported> {
    blocking(app, move |s| Ok(api::export(&s.data_dir, &run_id, &lines, &format)?)).await
}
