//! What every subcommand shares: opening the order book, an engine for one-off actions, printing a
//! result as text or as JSON (`--json`: one JSON document on stdout, stable field names, the same
//! types the window receives; a failure is `{"error": {"code", "message"}}`), and failures as exit
//! codes.
//!
//! Exit codes: 0 success, 1 the operation failed, 2 bad usage, bad input or the order book cannot be
//! opened, 3 `run --until-idle` timed out with orders still pending.

use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use topup_engine::api::ApiError;
use topup_engine::book::Book;
use topup_engine::run::Engine;
use topup_engine::session::{self, Session, SessionOptions};

pub const FAILED: u8 = 1;
pub const USAGE: u8 = 2;
pub const TIMEOUT: u8 = 3;

/// A subcommand's outcome: `Err` carries the exit code, the message already printed.
pub type Outcome = Result<(), ExitCode>;

/// Whether the command line asked for JSON: then a failure is also printed on stdout as
/// `{"error": {"code", "message"}}` (the window's error shape), so a script reads one document either way.
fn json_asked() -> bool {
    std::env::args_os().any(|a| a == "--json")
}

fn fail_coded(exit: u8, code: &str, zh_en: &dyn std::fmt::Display) -> ExitCode {
    let message = topup_engine::redact::text(&zh_en.to_string()).into_owned();
    eprintln!("错误 / error: {message}");
    if json_asked() {
        println!("{}", serde_json::json!({"error": {"code": code, "message": message}}));
    }
    ExitCode::from(exit)
}

pub fn fail(exit: u8, zh_en: impl std::fmt::Display) -> ExitCode {
    fail_coded(exit, if exit == USAGE { "usage" } else { "failed" }, &zh_en)
}

/// An operation's error: exit code 2 for what the caller got wrong, 1 for what failed; with `--json`
/// its stable code.
pub fn api_fail(e: ApiError) -> ExitCode {
    fail_coded(if e.is_usage() { USAGE } else { FAILED }, e.code(), &e)
}

pub fn done(outcome: Outcome) -> ExitCode {
    outcome.err().unwrap_or(ExitCode::SUCCESS)
}

/// Prints `value` as JSON when `json`, else as `text` says.
pub fn emit<T: Serialize>(json: bool, value: &T, text: impl FnOnce(&T)) {
    if json {
        println!("{}", serde_json::to_string_pretty(value).unwrap_or_default());
    } else {
        text(value);
    }
}

pub fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| fail(FAILED, format!("无法启动运行时 / cannot start the runtime: {e}")))
}

pub fn open(data_dir: Option<&Path>) -> Result<(PathBuf, Arc<Book>), ExitCode> {
    let dir = topup_engine::paths::data_dir(data_dir);
    let _ = topup_engine::logging::init(&dir, false).map(std::mem::forget);
    let book = session::open_book(&dir).map_err(|e| fail(USAGE, e))?;
    Ok((dir, book))
}

/// Opens the order book of `data_dir` and runs `f` with an engine on it ([`with_engine`]).
pub fn engine_at<F, Fut>(data_dir: Option<&Path>, f: F) -> ExitCode
where
    F: FnOnce(Arc<Engine>) -> Fut,
    Fut: std::future::Future<Output = Outcome>,
{
    match open(data_dir) {
        Ok((dir, book)) => with_engine(&dir, book, f),
        Err(c) => c,
    }
}

/// Runs `f` with an engine that does not run its loop or listener (for one-off actions).
pub fn with_engine<F, Fut>(dir: &Path, book: Arc<Book>, f: F) -> ExitCode
where
    F: FnOnce(Arc<Engine>) -> Fut,
    Fut: std::future::Future<Output = Outcome>,
{
    let rt = match runtime() {
        Ok(r) => r,
        Err(c) => return c,
    };
    rt.block_on(async {
        let options =
            SessionOptions { run_engine: false, serve_callbacks: false, ..SessionOptions::default() };
        let session = match Session::start(dir, book, options).await {
            Ok(s) => s,
            Err(e) => return fail(FAILED, e),
        };
        let result = f(session.engine.clone()).await;
        session.stop().await;
        done(result)
    })
}
