//! What the window process holds: the running session (order book, keyring, engine, callback
//! listener, and in sandbox mode the simulator).

use crate::error::{CmdError, CmdResult};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use topup_engine::book::Book;
use topup_engine::logging::LogGuard;
use topup_engine::run::{Engine, EngineState};
use topup_engine::secrets::{KeyringStatus, SecretStore};
use topup_engine::session::{Session, SessionOptions};

pub struct AppState {
    pub data_dir: PathBuf,
    pub book: Arc<Book>,
    pub secrets: Arc<SecretStore>,
    pub engine: Arc<Engine>,
    keyring: OnceLock<KeyringStatus>,
    /// Kept alive for the whole run (the simulator and listener stop when it drops).
    _session: Session,
}

/// The status line's content; also the payload of the `engine://status` event.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppStatus {
    pub version: &'static str,
    pub data_dir: String,
    pub db_path: String,
    pub engine: EngineState,
    pub sandbox: bool,
    pub locale: String,
    pub attention_count: i64,
    pub keyring: KeyringStatus,
    pub callback_url: Option<String>,
}

pub const LOCALES: [&str; 2] = ["zh-CN", "en"];

impl AppState {
    /// Opens the order book and starts the session (engine loop, callbacks, sandbox simulator).
    pub fn open(explicit_dir: Option<&Path>) -> Result<(AppState, Option<LogGuard>), String> {
        let data_dir = topup_engine::paths::data_dir(explicit_dir);
        let log = topup_engine::logging::init(&data_dir, false)
            .map_err(|e| format!("无法写日志目录 {} / cannot write logs: {e}", data_dir.display()))?;
        let book = topup_engine::session::open_book(&data_dir).map_err(|e| e.to_string())?;
        tracing::info!(db = %book.path().display(), "order book opened");
        let session = tauri::async_runtime::block_on(Session::start(
            &data_dir,
            book.clone(),
            SessionOptions::default(),
        ))
        .map_err(|e| e.to_string())?;
        Ok((
            AppState {
                data_dir,
                book,
                secrets: session.secrets.clone(),
                engine: session.engine.clone(),
                keyring: OnceLock::new(),
                _session: session,
            },
            log,
        ))
    }

    pub fn keyring_status(&self) -> KeyringStatus {
        self.keyring.get_or_init(|| self.secrets.status()).clone()
    }

    pub fn status(&self) -> CmdResult<AppStatus> {
        let locale = self.book.app_setting("locale")?.unwrap_or_else(|| LOCALES[0].to_owned());
        Ok(AppStatus {
            version: env!("CARGO_PKG_VERSION"),
            data_dir: self.data_dir.display().to_string(),
            db_path: self.book.path().display().to_string(),
            engine: *self.engine.state().borrow(),
            sandbox: self.engine.sandbox(),
            locale,
            attention_count: self.book.state_counts()?.attention,
            keyring: self.keyring_status(),
            callback_url: self.engine.settings().callback.public_url,
        })
    }

    pub fn set_locale(&self, locale: &str) -> CmdResult<()> {
        if !LOCALES.contains(&locale) {
            return Err(CmdError::new(
                "invalid_locale",
                format!("不支持的语言“{locale}” / unsupported language"),
            ));
        }
        self.book.write(|tx| tx.put_app_setting("locale", locale))?;
        Ok(())
    }
}
