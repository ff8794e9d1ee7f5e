//! The `provider_settings` and `app_settings` tables: each provider's public settings (JSON, never a
//! secret: those live in the keyring) and the application's key/value settings. Every write
//! publishes [`Change::Settings`].

use super::{now_ms, Book, BookError, Change, Tx};
use rusqlite::{params, Connection, OptionalExtension};
use topup_core::ProviderId;

fn provider_settings_text(c: &Connection, provider: ProviderId) -> Result<Option<String>, BookError> {
    Ok(c.prepare_cached("SELECT settings FROM provider_settings WHERE provider = ?1")?
        .query_row([provider.as_str()], |r| r.get(0))
        .optional()?)
}

fn app_setting(c: &Connection, key: &str) -> Result<Option<String>, BookError> {
    Ok(c.prepare_cached("SELECT value FROM app_settings WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

impl Tx<'_> {
    pub fn put_provider_settings(
        &mut self,
        provider: ProviderId,
        settings: &serde_json::Value,
    ) -> Result<(), BookError> {
        self.exec(
            "INSERT INTO provider_settings (provider, settings, updated_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT(provider) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at",
            params![provider.as_str(), settings.to_string(), now_ms()],
        )?;
        self.changed(Change::Settings);
        Ok(())
    }

    /// Removes a provider's settings (the provider is no longer configured).
    pub fn delete_provider_settings(&mut self, provider: ProviderId) -> Result<(), BookError> {
        self.exec("DELETE FROM provider_settings WHERE provider = ?1", [provider.as_str()])?;
        self.changed(Change::Settings);
        Ok(())
    }

    /// A provider's stored settings as text, inside the transaction.
    pub(crate) fn provider_settings_text(&self, provider: ProviderId) -> Result<Option<String>, BookError> {
        provider_settings_text(self.conn(), provider)
    }

    pub fn put_app_setting(&mut self, key: &str, value: &str) -> Result<(), BookError> {
        self.exec(
            "INSERT INTO app_settings (key, value) VALUES (?1, ?2) \
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        self.changed(Change::Settings);
        Ok(())
    }

    pub(crate) fn delete_app_setting(&mut self, key: &str) -> Result<(), BookError> {
        self.exec("DELETE FROM app_settings WHERE key = ?1", [key])?;
        self.changed(Change::Settings);
        Ok(())
    }

    /// An application setting, inside the transaction.
    pub(crate) fn app_setting(&self, key: &str) -> Result<Option<String>, BookError> {
        app_setting(self.conn(), key)
    }
}

impl Book {
    pub fn provider_settings(&self, provider: ProviderId) -> Result<Option<serde_json::Value>, BookError> {
        self.read(|c| {
            provider_settings_text(c, provider)?
                .map(|t| serde_json::from_str(&t).map_err(|e| BookError::Corrupt(e.to_string())))
                .transpose()
        })
    }

    pub fn app_setting(&self, key: &str) -> Result<Option<String>, BookError> {
        self.read(|c| app_setting(c, key))
    }
}
