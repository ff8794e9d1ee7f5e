//! The one place where engine changes become UI events.
//!
//! Every event name the UI listens to is in [`FrontendEvent`]; changes from the order book are coalesced
//! so the window gets at most ~10 updates a second whatever the load.

use crate::state::AppState;
use std::time::Duration;
use tauri::{AppHandle, Emitter, Manager};

/// Everything the backend tells the UI, mapped to event names in one place.
pub enum FrontendEvent {
    /// The status line changed (payload: `AppStatus`).
    Status,
}

impl FrontendEvent {
    pub const fn name(&self) -> &'static str {
        match self {
            FrontendEvent::Status => "engine://status",
        }
    }
}

/// Forwards order-book changes to the window, coalesced to one status event per 100 ms.
pub fn start(app: AppHandle) {
    let mut rx = app.state::<AppState>().book.subscribe();
    tauri::async_runtime::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            // Drain whatever else arrived meanwhile: one event covers them all.
            while let Ok(_) | Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) = rx.try_recv() {}
            if let Ok(status) = app.state::<AppState>().status() {
                let _ = app.emit(FrontendEvent::Status.name(), status);
            }
        }
    });
}
