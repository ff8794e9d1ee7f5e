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
}

impl FrontendEvent {
    pub const fn name(&self) -> &'static str {
        match self {
            FrontendEvent::Status => "engine://status",
            FrontendEvent::OrdersChanged => "orders://changed",
        }
    }
}

fn emit_status(app: &AppHandle) {
    let state = app.state::<AppState>();
    if let Ok(status) = state.status() {
        crate::notify::stuck(app, &state);
        crate::notify::attention(app, &state, status.attention_count);
        let _ = app.emit(FrontendEvent::Status.name(), status);
    }
}

/// Forwards coalesced order changes and engine state changes to the window.
pub fn start(app: AppHandle) {
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
pub fn watch_engine(app: AppHandle) {
    let mut engine_state = app.state::<AppState>().engine().state();
    tauri::async_runtime::spawn(async move {
        emit_status(&app);
        while engine_state.changed().await.is_ok() {
            emit_status(&app);
        }
    });
}
