use crate::error::CmdResult;
use crate::state::AppState;
use tauri::State;
use topup_engine::console::{self, ImportRequest};
use topup_engine::import::{Committed, Preview};

#[tauri::command]
pub async fn import_preview(state: State<'_, AppState>, request: ImportRequest) -> CmdResult<Preview> {
    state.ensure_balance(request.provider).await;
    Ok(console::import_preview(&state.book, &state.engine(), &state.balances, &request)?)
}

#[tauri::command]
pub fn import_commit(state: State<'_, AppState>, request: ImportRequest) -> CmdResult<Committed> {
    Ok(console::import_commit(&state.book, &state.engine(), &state.balances, &request)?)
}
