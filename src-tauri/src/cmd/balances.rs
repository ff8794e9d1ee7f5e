use crate::error::CmdResult;
use crate::state::AppState;
use tauri::{AppHandle, State};
use topup_engine::book::ProviderStats;
use topup_engine::console::{self, BalanceRow};
use topup_engine::ProviderId;

#[tauri::command]
pub async fn balances<R: tauri::Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> CmdResult<Vec<BalanceRow>> {
    let engine = state.engine();
    let mut rows = Vec::new();
    for id in engine.providers() {
        rows.push(console::balance(&engine, id).await);
    }
    crate::notify::low_balances(&app, &state, &rows);
    Ok(rows)
}

#[tauri::command]
pub async fn test_provider(state: State<'_, AppState>, id: ProviderId) -> CmdResult<BalanceRow> {
    Ok(console::balance(&state.engine(), id).await)
}

#[tauri::command]
pub async fn provider_stats<R: tauri::Runtime>(app: AppHandle<R>) -> CmdResult<Vec<ProviderStats>> {
    super::blocking(app, |s| Ok(s.book.provider_stats(console::local_day_start())?)).await
}
