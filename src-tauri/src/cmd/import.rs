use super::blocking;
use crate::error::CmdResult;
use crate::state::AppState;
use tauri::{AppHandle, State};
use topup_engine::api::{self, ImportRequest};
use topup_engine::import::{Committed, Preview};

#[tauri::command]
pub async fn import_preview(
    app: AppHandle,
    state: State<'_, AppState>,
    request: ImportRequest,
) -> CmdResult<Preview> {
    state.ensure_balance(request.provider).await;
    blocking(app, move |s| Ok(api::import_preview(&s.book, &s.engine(), &s.balances, &request)?)).await
}

#[tauri::command]
pub async fn import_commit(app: AppHandle, request: ImportRequest) -> CmdResult<Committed> {
    blocking(app, move |s| Ok(api::import_commit(&s.book, &s.engine(), &s.balances, &request)?)).await
}
