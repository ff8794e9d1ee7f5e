//! The one place where engine changes become UI events.
//!
//! Every event name the UI listens to is in [`FrontendEvent`]. Order-book changes arrive coalesced
//! from the engine (at most one batch per 100 ms, each order once at its latest state), so the window
//! gets at most ~10 updates a second whatever the load; engine state changes refresh the status line.

use crate::state::AppState;
use std::time::Duration;
use tauri::{AppHandle, Emitter, Manager};

/// Everything the backend tells the UI, mapped to event names in one place.
pub enum FrontendEvent {
    /// The status line changed (payload: `AppStatus`).
    Status,
    /// Orders changed (payload: `ChangeBatch`: each changed order's row, import batch counts, book counts).
    OrdersChanged,
    /// A reconciliation's API pass moved on (payload: `ReconcileProgress`).
    ReconcileProgress,
}

impl FrontendEvent {
    /// Every event (the generated TypeScript names and the dev server's event stream list them).
    #[cfg_attr(not(any(test, feature = "dev-server")), allow(dead_code))]
    pub const ALL: [FrontendEvent; 3] =
        [FrontendEvent::Status, FrontendEvent::OrdersChanged, FrontendEvent::ReconcileProgress];

    pub const fn name(&self) -> &'static str {
        match self {
            FrontendEvent::Status => "engine://status",
            FrontendEvent::OrdersChanged => "orders://changed",
            FrontendEvent::ReconcileProgress => "reconcile://progress",
        }
    }

    /// The key in the UI's `EVENTS` object.
    #[cfg(test)]
    pub const fn key(&self) -> &'static str {
        match self {
            FrontendEvent::Status => "engineStatus",
            FrontendEvent::OrdersChanged => "ordersChanged",
            FrontendEvent::ReconcileProgress => "reconcileProgress",
        }
    }
}

fn emit_status<R: tauri::Runtime>(app: &AppHandle<R>) {
    let state = app.state::<AppState>();
    if let Ok(status) = state.status() {
        crate::notify::stuck(app, &state);
        crate::notify::attention(app, &state, status.attention_count);
        let _ = app.emit(FrontendEvent::Status.name(), status);
    }
}

/// Forwards coalesced order changes and engine state changes to the window.
pub fn start<R: tauri::Runtime>(app: AppHandle<R>) {
    let state = app.state::<AppState>();
    let changes = state.book.subscribe();
    watch_engine(app.clone());
    let a = app.clone();
    tauri::async_runtime::spawn(async move {
        let mut batches = topup_engine::events::coalesce(changes, Duration::from_millis(100));
        while let Some(batch) = batches.recv().await {
            let _ = a.emit(FrontendEvent::OrdersChanged.name(), &batch);
            emit_status(&a);
        }
    });
}

/// Refreshes the status line whenever the current engine's state changes (call again after a restart:
/// the old engine's watch ends with it).
pub fn watch_engine<R: tauri::Runtime>(app: AppHandle<R>) {
    let mut engine_state = app.state::<AppState>().engine().state();
    tauri::async_runtime::spawn(async move {
        emit_status(&app);
        while engine_state.changed().await.is_ok() {
            emit_status(&app);
        }
    });
}
