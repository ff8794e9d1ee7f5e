//! Provider credentials in the OS keyring, and nowhere else.
//!
//! Why: a reseller's provider key can spend the reseller's whole balance. It is kept in the operating
//! system's credential store (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows),
//! read once and cached in memory as [`Sensitive`], and registered with [`crate::redact`] so that even an
//! accidental log line prints `<redacted>`. There is no plaintext fallback: when the store is missing or
//! locked, [`SecretStore`] says so in Chinese with how to fix it, and the app keeps running in sandbox
//! mode.
//!
//! Keys enter through [`fields::split`] (the one split of provider settings into public settings and
//! the key, for every front end) and are kept per order book ([`BookKeys`]).

pub mod book_keys;
pub mod fields;

pub use book_keys::BookKeys;
pub use fields::SettingsError;

use std::collections::HashMap;
use std::sync::Mutex;
use topup_core::Sensitive;

/// The keyring service name used by the app.
pub const DEFAULT_SERVICE: &str = "topup-desk";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    Unavailable(String),
    Corrupt(String),
    Empty,
}

crate::coded!(SecretError);

impl SecretError {
    pub fn code(&self) -> crate::contract::ErrorCode {
        use crate::contract::ErrorCode;
        match self {
            SecretError::Unavailable(_) => ErrorCode::KeyringUnavailable,
            SecretError::Corrupt(_) => ErrorCode::KeyringCorrupt,
            SecretError::Empty => ErrorCode::SecretEmpty,
        }
    }

    pub fn message(&self) -> crate::contract::Message {
        use crate::msg;
        match self {
            SecretError::Unavailable(why) => msg!(
                "无法使用系统钥匙串：{why}。请登录桌面会话并解锁系统钥匙串（Linux：GNOME 钥匙串或 KWallet 的“登录”钥匙串；\
                 macOS：钥匙串访问；Windows：凭据管理器），然后重新打开充值台。凭据绝不会以明文保存。",
                "The OS keyring is unavailable: {why}. Log in to a desktop session and unlock the system keyring, then \
                 restart. Credentials are never stored in plain text."
            ),
            SecretError::Corrupt(why) => msg!("钥匙串中的凭据无法读取：{why}", "the stored credential cannot be read: {why}"),
            SecretError::Empty => msg!("凭据不能为空", "the credential must not be empty"),
        }
    }
}

/// Whether the keyring can be used, for the status line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[ts(export)]
pub struct KeyringStatus {
    pub available: bool,
    /// What to do, in both languages, when unavailable.
    pub message: Option<crate::contract::Message>,
}

/// Reads and writes provider secrets in the OS keyring, caching what it read.
pub struct SecretStore {
    service: String,
    cache: Mutex<HashMap<String, Sensitive<String>>>,
}

impl SecretStore {
    pub fn new(service: impl Into<String>) -> SecretStore {
        SecretStore { service: service.into(), cache: Mutex::new(HashMap::new()) }
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    fn entry(&self, account: &str) -> Result<keyring::Entry, SecretError> {
        keyring::Entry::new(&self.service, account).map_err(map_err)
    }

    /// The secret stored under `account`, or `None` when there is none.
    pub fn get(&self, account: &str) -> Result<Option<Sensitive<String>>, SecretError> {
        if let Some(hit) = self.cache.lock().unwrap_or_else(|p| p.into_inner()).get(account) {
            return Ok(Some(hit.clone()));
        }
        match self.entry(account)?.get_password() {
            Ok(value) => {
                let secret = Sensitive::new(value);
                crate::redact::register(secret.expose());
                self.cache
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(account.to_owned(), secret.clone());
                Ok(Some(secret))
            }
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_err(e)),
        }
    }

    /// Stores `secret` under `account`, replacing what was there.
    pub fn set(&self, account: &str, secret: &Sensitive<String>) -> Result<(), SecretError> {
        if secret.expose().trim().is_empty() {
            return Err(SecretError::Empty);
        }
        self.entry(account)?.set_password(secret.expose()).map_err(map_err)?;
        crate::redact::register(secret.expose());
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).insert(account.to_owned(), secret.clone());
        Ok(())
    }

    /// Removes the secret under `account`; removing nothing is not an error.
    pub fn delete(&self, account: &str) -> Result<(), SecretError> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).remove(account);
        match self.entry(account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_err(e)),
        }
    }

    /// Checks that the store answers, without creating anything.
    pub fn status(&self) -> KeyringStatus {
        let probe = self.entry("__probe__").and_then(|e| match e.get_password() {
            Ok(_) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_err(e)),
        });
        match probe {
            Ok(()) => KeyringStatus { available: true, message: None },
            Err(e) => KeyringStatus { available: false, message: Some(e.message()) },
        }
    }
}

fn map_err(e: keyring::Error) -> SecretError {
    match e {
        keyring::Error::BadEncoding(_) => SecretError::Corrupt("不是 UTF-8 文本 / not UTF-8".into()),
        keyring::Error::Ambiguous(_) => {
            SecretError::Corrupt("存在多条同名凭据 / several matching entries".into())
        }
        keyring::Error::TooLong(what, _) => SecretError::Corrupt(format!("{what} 过长 / too long")),
        keyring::Error::Invalid(what, why) => SecretError::Corrupt(format!("{what}: {why}")),
        // PlatformFailure, NoStorageAccess and anything newer: the store itself is not usable.
        other => SecretError::Unavailable(other.to_string()),
    }
}
