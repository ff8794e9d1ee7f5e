//! What the window process holds: the data directory, the order book, the keyring store.

use crate::error::{CmdError, CmdResult};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use topup_engine::book::Book;
use topup_engine::logging::LogGuard;
use topup_engine::secrets::{KeyringStatus, SecretStore};
use topup_engine::ProviderId;

pub struct AppState {
    pub data_dir: PathBuf,
    pub book: Arc<Book>,
    pub secrets: SecretStore,
    keyring: OnceLock<KeyringStatus>,
}

/// The status line's content; also the payload of the `engine://status` event.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppStatus {
    pub version: &'static str,
    pub data_dir: String,
    pub db_path: String,
    pub engine: &'static str,
    pub sandbox: bool,
    pub locale: String,
    pub attention_count: i64,
    pub keyring: KeyringStatus,
}

pub const LOCALES: [&str; 2] = ["zh-CN", "en"];

impl AppState {
    pub fn open(explicit_dir: Option<&Path>) -> Result<(AppState, Option<LogGuard>), String> {
        let data_dir = topup_engine::paths::data_dir(explicit_dir);
        let log = topup_engine::logging::init(&data_dir, false)
            .map_err(|e| format!("无法写日志目录 {} / cannot write logs: {e}", data_dir.display()))?;
        let db = topup_engine::paths::db_path(&data_dir);
        let book = Book::open(&db).map_err(|e| e.to_string())?;
        tracing::info!(db = %db.display(), "order book opened");
        let service = std::env::var("TOPUP_DESK_KEYRING_SERVICE")
            .unwrap_or_else(|_| topup_engine::secrets::DEFAULT_SERVICE.to_owned());
        Ok((
            AppState {
                data_dir,
                book: Arc::new(book),
                secrets: SecretStore::new(service),
                keyring: OnceLock::new(),
            },
            log,
        ))
    }

    /// Sandbox mode (演示模式) until a real provider account is configured.
    pub fn sandbox(&self) -> CmdResult<bool> {
        for p in ProviderId::ALL {
            if self.book.provider_settings(p)?.is_some() {
                return Ok(false);
            }
        }
        Ok(true)
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
            engine: "idle",
            sandbox: self.sandbox()?,
            locale,
            attention_count: self.book.state_counts()?.attention,
            keyring: self.keyring_status(),
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
