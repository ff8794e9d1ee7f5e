//! The balance drift watch and daily statements (engine `api::balance_watch`, `api::balance_statement`).

use super::blocking;
use crate::error::CmdResult;
use tauri::AppHandle;
use topup_engine::api::balance_statement::{self, Statement};
use topup_engine::api::balance_watch::{self, BalanceAlerts, Window};
use topup_engine::contract::BalanceReadId;
use topup_engine::{Li, ProviderId};

#[tauri::command]
pub async fn balance_alerts<R: tauri::Runtime>(app: AppHandle<R>) -> CmdResult<BalanceAlerts> {
    blocking(app, |s| Ok(balance_watch::alerts(&s.book, tolerance(s), topup_engine::book::now_ms())?)).await
}

#[tauri::command]
pub async fn balance_windows<R: tauri::Runtime>(
    app: AppHandle<R>,
    provider: ProviderId,
    from: i64,
    to: i64,
) -> CmdResult<Vec<Window>> {
    blocking(app, move |s| Ok(balance_watch::windows(&s.book, provider, from, to, tolerance(s))?)).await
}

#[tauri::command]
pub async fn balance_statements<R: tauri::Runtime>(
    app: AppHandle<R>,
    day: String,
) -> CmdResult<Vec<Statement>> {
    let offset = balance_statement::local_offset();
    blocking(app, move |s| Ok(balance_statement::statements(&s.book, &day, offset, tolerance(s))?)).await
}

#[tauri::command]
pub async fn confirm_balance_window<R: tauri::Runtime>(
    app: AppHandle<R>,
    read_id: BalanceReadId,
    note: String,
) -> CmdResult<Window> {
    blocking(app, move |s| Ok(balance_watch::confirm(&s.book, read_id.get(), &note, tolerance(s))?)).await
}

fn tolerance(s: &crate::state::AppState) -> Li {
    Li(s.engine().settings().balance_drift_tolerance_li)
}
