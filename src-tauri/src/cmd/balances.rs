use crate::error::CmdResult;
use crate::state::AppState;
use tauri::{AppHandle, State};
use topup_engine::api::balance_watch;
use topup_engine::book::ProviderStats;
use topup_engine::console::{self, BalanceRow};
use topup_engine::ProviderId;

#[tauri::command]
pub async fn balances(app: AppHandle, state: State<'_, AppState>) -> CmdResult<Vec<BalanceRow>> {
    let engine = state.engine();
    let mut rows = Vec::new();
    for id in engine.providers() {
        rows.push(balance_watch::read(&engine, id, "balances").await);
    }
    crate::notify::low_balances(&app, &state, &rows);
    crate::notify::drifts(&app, &state);
    Ok(rows)
}

#[tauri::command]
pub async fn test_provider(state: State<'_, AppState>, id: ProviderId) -> CmdResult<BalanceRow> {
    Ok(balance_watch::read(&state.engine(), id, "check").await)
}

#[tauri::command]
pub async fn provider_stats(app: AppHandle) -> CmdResult<Vec<ProviderStats>> {
    super::blocking(app, |s| Ok(s.book.provider_stats(console::local_day_start())?)).await
}
