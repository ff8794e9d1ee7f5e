use crate::error::CmdResult;
use crate::state::AppState;
use tauri::{AppHandle, State};
use topup_engine::api::{self, BalanceRow};
use topup_engine::book::ProviderStats;
use topup_engine::ProviderId;

#[tauri::command]
pub async fn balances(app: AppHandle, state: State<'_, AppState>) -> CmdResult<Vec<BalanceRow>> {
    let rows = api::balances(&state.engine()).await;
    crate::notify::low_balances(&app, &state, &rows);
    Ok(rows)
}

#[tauri::command]
pub async fn test_provider(state: State<'_, AppState>, id: ProviderId) -> CmdResult<BalanceRow> {
    Ok(api::balance(&state.engine(), id).await)
}

#[tauri::command]
pub async fn provider_stats(app: AppHandle) -> CmdResult<Vec<ProviderStats>> {
    super::blocking(app, |s| Ok(api::provider_stats(&s.book)?)).await
}
