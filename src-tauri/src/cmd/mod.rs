//! Tauri commands: one file per screen or domain, each a one-line call into the engine's operations
//! layer (`topup_engine::api`, which the command line calls too). No logic lives here.
//!
//! Every command is `async`. Why: Tauri runs a command that is not `async` on the main thread, the
//! thread that also draws the window and handles input, so a count over 100,000 orders, a commit that
//! waits for the disk or a keyring lookup over D-Bus would freeze the window while it runs. Work that
//! blocks goes through [`blocking`], which runs it on a blocking thread of Tauri's runtime, not on an
//! async worker the engine needs. Left on the async worker: the settings commands' short keyring and
//! settings writes around a session restart (a user's click, not a hot path).

pub mod balance_watch;
pub mod balances;
pub mod import;
pub mod orders;
pub mod reconcile;
pub mod report;
pub mod settings;
pub mod status;

use crate::error::{CmdError, CmdResult};
use crate::state::AppState;
use tauri::{AppHandle, Manager};

/// Runs `f` (order-book reads and writes, keyring lookups, file export) on a blocking thread, never on
/// the window's main thread, and hands it the app's state.
pub async fn blocking<T, F>(app: AppHandle, f: F) -> CmdResult<T>
where
    T: Send + 'static,
    F: FnOnce(&AppState) -> CmdResult<T> + Send + 'static,
{
    tauri::async_runtime::spawn_blocking(move || f(&app.state::<AppState>()))
        .await
        .map_err(|e| CmdError::new("internal", format!("后台任务失败 / background task failed: {e}")))?
}
