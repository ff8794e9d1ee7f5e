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
#[cfg(test)]
mod contract;
#[cfg(feature = "dev-server")]
mod dev_server;
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

/// The app on any Tauri runtime: the window's, or the dev server's mock runtime (`dev_server.rs`),
/// so both answer with the same state, plugins and invoke handler (built from the one command list).
fn app_builder<R: tauri::Runtime>(builder: tauri::Builder<R>, state: state::AppState) -> tauri::Builder<R> {
    builder
        .plugin(tauri_plugin_notification::init())
        .manage(state)
        .setup(|app| {
            events::start(app.handle().clone());
            balance_timer::start(app.handle().clone());
            Ok(())
        })
        .invoke_handler(cmd::for_each_command!(cmd::invoke_handler))
}

fn run_window(state: state::AppState) {
    let result = app_builder(tauri::Builder::default(), state).run(tauri::generate_context!());
    if let Err(e) = result {
        tracing::error!(error = %e, "window failed");
        eprintln!("无法打开窗口 / cannot open the window: {e}");
        std::process::exit(1);
    }
}

/// Restarts the session (new provider accounts or listener settings) and re-attaches the status watch.
pub async fn restart<R: tauri::Runtime>(
    app: &tauri::AppHandle<R>,
    state: &state::AppState,
) -> error::CmdResult<()> {
    state.restart().await?;
    events::watch_engine(app.clone());
    Ok(())
}
