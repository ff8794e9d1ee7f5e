//! Topup Desk (充值台): one binary. With no subcommand it opens the console window; with a subcommand it
//! runs headless on the same engine and order book (automation, tests, the provider simulator).

// No console window on Windows release builds; a command given in a terminal still prints there
// (console.rs).
#![cfg_attr(all(not(debug_assertions), target_os = "windows"), windows_subsystem = "windows")]

mod balance_timer;
mod cli;
mod cli_balance;
mod cli_engine;
mod cli_import;
mod cli_out;
mod cli_reconcile;
mod cli_report;
mod cli_rules;
mod cli_settings;
mod cmd;
mod console;
mod error;
mod events;
mod notify;
mod render;
mod state;

use clap::Parser;

fn main() -> std::process::ExitCode {
    console::attach_for_command_line();
    let args = cli::Args::parse();
    match args.command {
        None => {
            render::choose();
            match state::AppState::open(args.data_dir.as_deref()) {
                Ok((state, _log)) => {
                    run_window(state);
                    std::process::ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{e}");
                    std::process::ExitCode::from(2)
                }
            }
        }
        Some(command) => cli::run(command, args.data_dir.as_deref()),
    }
}

fn run_window(state: state::AppState) {
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_notification::init())
        .manage(state)
        .setup(|app| {
            events::start(app.handle().clone());
            balance_timer::start(app.handle().clone());
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            cmd::status::app_status,
            cmd::status::set_locale,
            cmd::orders::list_orders,
            cmd::orders::order_detail,
            cmd::orders::state_counts,
            cmd::orders::batch_counts,
            cmd::orders::order_preflight,
            cmd::orders::add_order,
            cmd::orders::phone_info,
            cmd::orders::query_order,
            cmd::orders::resolve_order,
            cmd::orders::resubmit_order,
            cmd::orders::export_orders,
            cmd::balances::balances,
            cmd::balances::test_provider,
            cmd::balances::provider_stats,
            cmd::balance_watch::balance_alerts,
            cmd::balance_watch::balance_windows,
            cmd::balance_watch::balance_statements,
            cmd::balance_watch::confirm_balance_window,
            cmd::settings::get_settings,
            cmd::settings::save_provider,
            cmd::settings::remove_provider,
            cmd::settings::save_engine_settings,
            cmd::import::import_preview,
            cmd::import::import_commit,
            cmd::report::report,
            cmd::report::export_report,
            cmd::reconcile::reconcile_run,
            cmd::reconcile::reconcile_cancel,
            cmd::reconcile::reconcile_runs,
            cmd::reconcile::reconcile_resolve,
            cmd::reconcile::reconcile_export,
        ])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        tracing::error!(error = %e, "window failed");
        eprintln!("无法打开窗口 / cannot open the window: {e}");
        std::process::exit(1);
    }
}

/// Restarts the session (new provider accounts or listener settings) and re-attaches the status watch.
pub async fn restart(app: &tauri::AppHandle, state: &state::AppState) -> error::CmdResult<()> {
    state.restart().await?;
    events::watch_engine(app.clone());
    Ok(())
}
