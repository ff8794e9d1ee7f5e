//! Provider accounts (save, remove, show without secrets) and the provider a new order goes to
//! when nobody chose one.

use super::{field, ApiResult};
use crate::book::Book;
use crate::config::{EngineSettings, Registry};
use crate::secrets::{fields, BookKeys, SecretStore};
use serde::Serialize;
use topup_core::{ProductKind, ProviderId};

/// A provider's settings for the settings screen: never the secret, only whether one is stored.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct ProviderSettingsView {
    pub id: ProviderId,
    pub configured: bool,
    pub has_secret: bool,
    /// As stored (snake_case keys); `{}` when the provider is not configured.
    #[ts(type = "Record<string, unknown>")]
    pub settings: serde_json::Value,
    #[ts(type = "Record<string, unknown>")]
    pub defaults: serde_json::Value,
    /// Address fields (`base_url`, `query_base_url`) that send requests in clear text to another
    /// machine (`http://`, not loopback), stored or by default: the screen warns beside each.
    pub plain_http: Vec<String>,
}

/// Every provider's view, for the settings screen and `provider list`.
pub fn provider_views(book: &Book, secrets: &SecretStore) -> ApiResult<Vec<ProviderSettingsView>> {
    let keys = BookKeys::open(book, secrets)?;
    let mut providers = Vec::new();
    for id in ProviderId::ALL {
        let stored = shown_provider_settings(book, id)?;
        let configured = stored.is_some();
        let has_secret = configured && matches!(secrets.get(&keys.account(id)), Ok(Some(_)));
        let settings = stored.unwrap_or_else(|| serde_json::json!({}));
        providers.push(ProviderSettingsView {
            id,
            configured,
            has_secret,
            plain_http: topup_providers::plain_http_fields(id, &settings)
                .into_iter()
                .map(str::to_owned)
                .collect(),
            settings,
            defaults: topup_providers::default_settings(id),
        });
    }
    Ok(providers)
}

/// A provider's stored settings as they may be shown (the settings screen, `provider list`): never a
/// secret, even one an older version left in the order book ([`fields::public_view`]).
pub fn shown_provider_settings(book: &Book, id: ProviderId) -> ApiResult<Option<serde_json::Value>> {
    Ok(book.provider_settings(id)?.map(|s| fields::public_view(&s)))
}

/// Saves a provider's settings, for every front end (the window, `topup-desk provider set`).
///
/// `settings` may carry the key (`secret`, `key`, `md5key` or `appkey`), `secret` may give it beside
/// them; [`fields::split`] takes it out and refuses what it cannot place, so nothing secret reaches
/// SQLite. Without a key the book's stored one is kept (the first save needs one). The settings are
/// validated by building the client before anything is stored; the key goes to the keyring first.
pub fn save_provider(
    book: &Book,
    secrets: &SecretStore,
    id: ProviderId,
    settings: &serde_json::Value,
    secret: Option<String>,
) -> ApiResult<()> {
    let split = fields::split(settings, secret.as_deref())?;
    let account = BookKeys::open(book, secrets)?.account(id);
    let secret = match split.secret {
        Some(s) => s,
        None => secrets
            .get(&account)?
            .ok_or_else(|| field("密钥 / secret", "首次保存必须填写密钥 / required the first time"))?,
    };
    topup_providers::build(id, &split.public, secret.clone())?;
    secrets.set(&account, &secret)?;
    book.write(|tx| tx.put_provider_settings(id, &split.public))?;
    Ok(())
}

/// Forgets a provider: its settings in the book, then its key in the keyring.
pub fn remove_provider(book: &Book, secrets: &SecretStore, id: ProviderId) -> ApiResult<()> {
    let account = BookKeys::open(book, secrets)?.account(id);
    book.write(|tx| tx.delete_provider_settings(id))?;
    secrets.delete(&account)?;
    Ok(())
}

/// The providers a new order may go to as the engine would build them from this book: all three
/// (the simulator) in sandbox mode, else those configured with a key in the keyring (all configured
/// ones when the keyring cannot be asked: the engine then says which lacks its key).
pub fn available_providers(book: &Book, secrets: &SecretStore) -> ApiResult<Vec<ProviderId>> {
    if !Registry::any_configured(book)? {
        return Ok(ProviderId::ALL.to_vec());
    }
    let keys = BookKeys::open(book, secrets).ok();
    let mut available = Vec::new();
    for id in ProviderId::ALL {
        let has_key = keys.as_ref().is_none_or(|k| matches!(secrets.get(&k.account(id)), Ok(Some(_))));
        if book.provider_settings(id)?.is_some() && has_key {
            available.push(id);
        }
    }
    Ok(available)
}

/// The provider a new order of `kind` goes to when nobody chose one: the one rule
/// ([`EngineSettings::default_provider`]: the routing, else the first available that sells it), for
/// the order form's default, an import without `--provider`, and the order check itself.
pub fn default_provider(
    settings: &EngineSettings,
    available: &[ProviderId],
    kind: ProductKind,
) -> ApiResult<ProviderId> {
    settings
        .default_provider(kind, available)
        .ok_or_else(|| field("供应商 / provider", "没有可用的供应商 / no provider available"))
}
