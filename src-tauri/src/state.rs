//! What the window process holds: the running session (order book, keyring, engine, callback
//! listener, and in sandbox mode the simulator). Saving a provider account restarts the session so the
//! engine uses the new account (requests in flight are finished and stored first).

use crate::error::{CmdError, CmdResult};
use serde::Serialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use topup_engine::api::Balances;
use topup_engine::book::Book;
use topup_engine::logging::LogGuard;
use topup_engine::run::{Engine, EngineState};
use topup_engine::secrets::{KeyringStatus, SecretStore};
use topup_engine::session::{Session, SessionOptions};

pub struct AppState {
    pub data_dir: PathBuf,
    pub book: Arc<Book>,
    pub secrets: Arc<SecretStore>,
    engine: RwLock<Arc<Engine>>,
    callback_addr: RwLock<Option<SocketAddr>>,
    session: tokio::sync::Mutex<Option<Session>>,
    pub balances: Mutex<Balances>,
    /// The attention count last seen by [`crate::notify::attention`] (`None` before the first status).
    pub attention_seen: Mutex<Option<i64>>,
    keyring: OnceLock<KeyringStatus>,
}

/// The status line's content; also the payload of the `engine://status` event.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct AppStatus {
    pub version: &'static str,
    pub data_dir: String,
    pub db_path: String,
    pub engine: EngineState,
    pub sandbox: bool,
    pub locale: String,
    pub attention_count: i64,
    /// Orders past a stuck-order limit and still waiting (the navigation badge counts them too).
    pub overdue_count: i64,
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
                secrets: Arc::new(topup_engine::session::secret_store()),
                engine: RwLock::new(session.engine.clone()),
                callback_addr: RwLock::new(session.callback_addr),
                session: tokio::sync::Mutex::new(Some(session)),
                balances: Mutex::new(Balances::new()),
                attention_seen: Mutex::new(None),
                keyring: OnceLock::new(),
            },
            log,
        ))
    }

    /// The engine of the current session.
    pub fn engine(&self) -> Arc<Engine> {
        self.engine.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn callback_listening(&self) -> Option<String> {
        self.callback_addr.read().unwrap_or_else(|p| p.into_inner()).map(|a| a.to_string())
    }

    /// Stops the session (finishing requests in flight) and starts a new one on the same book.
    pub async fn restart(&self) -> CmdResult<Arc<Engine>> {
        let mut guard = self.session.lock().await;
        if let Some(old) = guard.take() {
            old.stop().await;
        }
        let session = Session::start(&self.data_dir, self.book.clone(), SessionOptions::default())
            .await
            .map_err(|e| CmdError::new(e.code(), e.to_string()))?;
        let engine = session.engine.clone();
        *self.engine.write().unwrap_or_else(|p| p.into_inner()) = engine.clone();
        *self.callback_addr.write().unwrap_or_else(|p| p.into_inner()) = session.callback_addr;
        *guard = Some(session);
        self.balances.lock().unwrap_or_else(|p| p.into_inner()).clear();
        Ok(engine)
    }

    /// Reads a provider's balance into the cache unless it is there already (import previews compare
    /// the batch's cost with it).
    pub async fn ensure_balance(&self, provider: topup_engine::ProviderId) {
        let cached = self.balances.lock().unwrap_or_else(|p| p.into_inner()).contains_key(&provider);
        if !cached {
            let row = topup_engine::api::balance(&self.engine(), provider).await;
            self.balances.lock().unwrap_or_else(|p| p.into_inner()).insert(provider, row);
        }
    }

    pub fn keyring_status(&self) -> KeyringStatus {
        self.keyring.get_or_init(|| self.secrets.status()).clone()
    }

    pub fn status(&self) -> CmdResult<AppStatus> {
        let locale = self.book.app_setting("locale")?.unwrap_or_else(|| LOCALES[0].to_owned());
        let engine = self.engine();
        let state = *engine.state().borrow();
        let counts = self.book.state_counts()?;
        Ok(AppStatus {
            version: env!("CARGO_PKG_VERSION"),
            data_dir: self.data_dir.display().to_string(),
            db_path: self.book.path().display().to_string(),
            engine: state,
            sandbox: engine.sandbox(),
            locale,
            attention_count: counts.attention,
            overdue_count: counts.overdue,
            keyring: self.keyring_status(),
            callback_url: engine.settings().callback.public_url,
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
