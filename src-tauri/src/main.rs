//! Topup Desk (充值台): one binary. With no subcommand it opens the console window; with a subcommand it
//! runs headless on the same engine and order book (automation, tests, the provider simulator).

// No console window on Windows release builds.
#![cfg_attr(all(not(debug_assertions), target_os = "windows"), windows_subsystem = "windows")]

mod cli;
mod cli_engine;
mod cli_import;
mod cmd;
mod error;
mod events;
mod state;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = cli::Args::parse();
    match args.command {
        None => match state::AppState::open(args.data_dir.as_deref()) {
            Ok((state, _log)) => {
                run_window(state);
                std::process::ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                std::process::ExitCode::from(2)
            }
        },
        Some(command) => cli::run(command, args.data_dir.as_deref()),
    }
}

fn run_window(state: state::AppState) {
    let result = tauri::Builder::default()
        .manage(state)
        .setup(|app| {
            events::start(app.handle().clone());
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![cmd::status::app_status, cmd::status::set_locale])
        .run(tauri::generate_context!("../tauri.conf.json"));
    if let Err(e) = result {
        tracing::error!(error = %e, "window failed");
        eprintln!("无法打开窗口 / cannot open the window: {e}");
        std::process::exit(1);
    }
}
