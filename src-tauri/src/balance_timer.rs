//! The app's own balance reads: every `auto_refresh_balance_secs` (0: never), whether or not the
//! Balances screen is open, each configured provider's balance is read — kept and judged by the drift
//! watch like every read — and the low-balance and drift notifications follow.
//!
//! Why: a charge the books do not know about shows only when a balance is read; a reseller who never
//! opens the Balances screen must still be told the same day. The settings are read again before
//! every round, so a change applies without a restart.

use crate::state::AppState;
use std::time::Duration;
use tauri::{AppHandle, Manager};

/// The shortest gap between two rounds, whatever the setting says (a provider's rate limit).
const MIN_GAP: Duration = Duration::from_secs(30);

pub fn start<R: tauri::Runtime>(app: AppHandle<R>) {
    tauri::async_runtime::spawn(async move {
        loop {
            let secs = app.state::<AppState>().engine().settings().auto_refresh_balance_secs;
            if secs == 0 {
                tokio::time::sleep(MIN_GAP).await;
                continue;
            }
            tokio::time::sleep(Duration::from_secs(secs).max(MIN_GAP)).await;
            let state = app.state::<AppState>();
            let engine = state.engine();
            let mut rows = Vec::new();
            for id in engine.providers() {
                rows.push(topup_engine::api::balance_watch::read(&engine, id, "timer").await);
            }
            crate::notify::low_balances(&app, &state, &rows);
            let a = app.clone();
            let _ = tauri::async_runtime::spawn_blocking(move || {
                crate::notify::drifts(&a, &a.state::<AppState>())
            })
            .await;
        }
    });
}
