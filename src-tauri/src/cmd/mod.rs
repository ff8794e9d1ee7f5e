//! Tauri commands: one file per screen or domain, each a one-line call into the engine's operations
//! layer (`topup_engine::api`, which the command line calls too). No logic lives here.
//!
//! Every command is `async`. Why: Tauri runs a command that is not `async` on the main thread, the
//! thread that also draws the window and handles input, so a count over 100,000 orders, a commit that
//! waits for the disk or a keyring lookup over D-Bus would freeze the window while it runs. Work that
//! blocks goes through [`blocking`], which runs it on a blocking thread of Tauri's runtime, not on an
//! async worker the engine needs. Left on the async worker: the settings commands' short keyring and
//! settings writes around a session restart (a user's click, not a hot path).

/// THE list of commands: the window's invoke handler (`main.rs`), the generated TypeScript names
/// (`ui/src/lib/backend/bindings/names.ts`, written by a test in `contract.rs`) and the dev server
/// are all built from it, so a command is named once. Calls `$m! { module::command, … }`.
macro_rules! for_each_command {
    ($($m:ident)::+) => {
        $($m)::+! {
            status::app_status,
            status::set_locale,
            orders::list_orders,
            orders::order_detail,
            orders::state_counts,
            orders::batch_counts,
            orders::order_preflight,
            orders::add_order,
            orders::phone_info,
            orders::query_order,
            orders::resolve_order,
            orders::resubmit_order,
            orders::export_orders,
            balances::balances,
            balances::test_provider,
            balances::provider_stats,
            balance_watch::balance_alerts,
            balance_watch::balance_windows,
            balance_watch::balance_statements,
            balance_watch::confirm_balance_window,
            settings::get_settings,
            settings::save_provider,
            settings::remove_provider,
            settings::save_engine_settings,
            import::import_preview,
            import::import_commit,
            report::report,
            report::export_report,
            reconcile::reconcile_run,
            reconcile::reconcile_cancel,
            reconcile::reconcile_runs,
            reconcile::reconcile_resolve,
            reconcile::reconcile_export,
        }
    };
}
pub(crate) use for_each_command;

/// The invoke handler of every command in [`for_each_command`].
macro_rules! invoke_handler {
    ($($module:ident::$name:ident),* $(,)?) => {
        tauri::generate_handler![$($crate::cmd::$module::$name),*]
    };
}
pub(crate) use invoke_handler;

macro_rules! command_names {
    ($($module:ident::$name:ident),* $(,)?) => {
        &[$(stringify!($name)),*]
    };
}

/// Every command's name, as the UI invokes it (read by the dev server and the generated names).
#[cfg_attr(not(any(test, feature = "dev-server")), allow(dead_code))]
pub const NAMES: &[&str] = for_each_command!(command_names);

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
use topup_engine::contract::ErrorCode;

/// Runs `f` (order-book reads and writes, keyring lookups, file export) on a blocking thread, never on
/// the window's main thread, and hands it the app's state.
pub async fn blocking<T, F, R: tauri::Runtime>(app: AppHandle<R>, f: F) -> CmdResult<T>
where
    T: Send + 'static,
    F: FnOnce(&AppState) -> CmdResult<T> + Send + 'static,
{
    tauri::async_runtime::spawn_blocking(move || f(&app.state::<AppState>())).await.map_err(|e| {
        CmdError::new(
            ErrorCode::Internal,
            topup_engine::msg!("后台任务失败：{e}", "background task failed: {e}"),
        )
    })?
}
