//! The settings screen's view, and the engine settings: validated and saved as a whole (the
//! settings screen) or one dotted key at a time (`topup-desk settings get|set`), through one check.
//!
//! Why dotted keys over the serde representation: every field of [`EngineSettings`] (and any a later
//! change adds) is reachable from the command line without code per setting — `callback.port`,
//! `routing.phone`, `query_delays_ms`, `low_balance.juhe` — and a value set by key is the settings
//! screen's value: the whole settings are deserialized, checked by [`validate`] and stored exactly as
//! a save from the window is.

use super::providers::{available_providers, provider_views, ProviderSettingsView};
use super::{ApiError, ApiResult};
use crate::book::Book;
use crate::config::{EngineSettings, Registry};
use crate::secrets::SecretStore;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use topup_core::{ProductKind, ProviderId};

#[derive(Clone, Debug, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct SettingsView {
    pub sandbox: bool,
    pub providers: Vec<ProviderSettingsView>,
    pub engine: EngineSettings,
    /// The provider a new order of each kind goes to when nobody chooses one (the engine's rule; the
    /// order form and the import screen show it and decide nothing themselves). A kind no available
    /// provider sells is absent.
    pub default_providers: BTreeMap<String, ProviderId>,
    pub callback_listening: Option<String>,
    pub data_dir: String,
    pub db_path: String,
}

pub fn settings_view(
    book: &Book,
    secrets: &SecretStore,
    callback_listening: Option<String>,
    data_dir: &std::path::Path,
) -> ApiResult<SettingsView> {
    let engine = EngineSettings::load(book)?;
    let available = available_providers(book, secrets)?;
    let default_providers = ProductKind::ALL
        .into_iter()
        .filter_map(|k| engine.default_provider(k, &available).map(|p| (k.as_str().to_owned(), p)))
        .collect();
    Ok(SettingsView {
        sandbox: !Registry::any_configured(book)?,
        providers: provider_views(book, secrets)?,
        engine,
        default_providers,
        callback_listening,
        data_dir: data_dir.display().to_string(),
        db_path: book.path().display().to_string(),
    })
}

fn invalid(key: impl Into<String>, message: impl Into<String>) -> ApiError {
    ApiError::Setting { key: key.into(), message: message.into() }
}

/// What the settings screen and `settings set` may store: every rule the types cannot say.
pub fn validate(s: &EngineSettings) -> ApiResult<()> {
    for (kind, provider) in &s.routing {
        let key = format!("routing.{kind}");
        let k: ProductKind =
            kind.parse().map_err(|e: topup_core::ParseIdError| invalid(&key, e.to_string()))?;
        if !provider.sells(k) {
            return Err(invalid(
                key,
                format!("{} 不卖{} / {provider} does not sell {kind}", provider.label_zh(), k.label_zh()),
            ));
        }
    }
    for (from, to) in &s.fallback {
        let key = format!("fallback.{from}");
        let f: ProviderId =
            from.parse().map_err(|e: topup_core::ParseIdError| invalid(&key, e.to_string()))?;
        if f == *to {
            return Err(invalid(key, "不能转给自己 / cannot fall back to itself"));
        }
    }
    for (provider, threshold) in &s.low_balance {
        let key = format!("low_balance.{provider}");
        provider.parse::<ProviderId>().map_err(|e| invalid(&key, e.to_string()))?;
        if *threshold < 0 {
            return Err(invalid(key, "不能为负数 / must not be negative"));
        }
    }
    if s.query_delays_ms.is_empty() {
        return Err(invalid("query_delays_ms", "至少一个间隔 / at least one delay"));
    }
    Ok(())
}

/// Checks and stores the engine settings (the settings screen's save). Returns whether the callback
/// listener's settings changed (then the session must restart to listen anew).
pub fn save_engine_settings(book: &Book, settings: &EngineSettings) -> ApiResult<bool> {
    validate(settings)?;
    let before = EngineSettings::load(book)?;
    settings.save(book)?;
    Ok(before.callback != settings.callback)
}

fn path_of(key: &str) -> Vec<&str> {
    key.split('.').map(str::trim).filter(|p| !p.is_empty()).collect()
}

fn at<'v>(value: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(value, |v, p| match v {
        Value::Object(m) => m.get(*p),
        Value::Array(a) => p.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

fn unknown(key: &str) -> ApiError {
    invalid(
        key,
        "没有这项设置（topup-desk settings get 列出全部） / no such setting (settings get lists them)",
    )
}

/// The engine settings (`key` empty or `None`: all of them), as their JSON representation.
pub fn get_setting(book: &Book, key: Option<&str>) -> ApiResult<Value> {
    let all = serde_json::to_value(EngineSettings::load(book)?).map_err(|e| invalid("", e.to_string()))?;
    let path = path_of(key.unwrap_or(""));
    at(&all, &path).cloned().ok_or_else(|| unknown(key.unwrap_or("")))
}

/// Every setting as `dotted.key → value` (leaves only; a map entry is a leaf of its map).
pub fn flatten(value: &Value) -> Vec<(String, Value)> {
    fn walk(prefix: &str, v: &Value, out: &mut Vec<(String, Value)>) {
        match v {
            Value::Object(m) if !m.is_empty() => {
                for (k, v) in m {
                    walk(&if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") }, v, out);
                }
            }
            _ => out.push((prefix.to_owned(), v.clone())),
        }
    }
    let mut out = Vec::new();
    walk("", value, &mut out);
    out
}

/// Sets one setting by dotted key and stores the settings as the settings screen would. `text` is
/// read as JSON (`8080`, `true`, `[10000,30000]`, `"123"`), else taken as text (`juhe`,
/// `0.0.0.0`); `null` puts the setting back to its default (removes a map entry such as
/// `routing.phone`). Returns the stored value of the key and whether the listener changed.
pub fn set_setting(book: &Book, key: &str, text: &str) -> ApiResult<(Value, bool)> {
    let path = path_of(key);
    let Some((last, parents)) = path.split_last() else { return Err(unknown(key)) };
    let value: Value = serde_json::from_str(text.trim()).unwrap_or_else(|_| Value::String(text.to_owned()));
    let mut all =
        serde_json::to_value(EngineSettings::load(book)?).map_err(|e| invalid(key, e.to_string()))?;
    let known = at(&all, &path).is_some();
    let parent = parents
        .iter()
        .try_fold(&mut all, |v, p| v.get_mut(*p).filter(|c| c.is_object()))
        .and_then(Value::as_object_mut)
        .ok_or_else(|| unknown(key))?;
    if value.is_null() {
        if !known {
            return Err(unknown(key));
        }
        parent.remove(*last);
    } else {
        parent.insert((*last).to_owned(), value.clone());
    }
    let settings: EngineSettings = serde_json::from_value(all).map_err(|e| invalid(key, e.to_string()))?;
    let stored = serde_json::to_value(&settings).map_err(|e| invalid(key, e.to_string()))?;
    let now = at(&stored, &path).cloned().unwrap_or(Value::Null);
    if !value.is_null() && now != value {
        return Err(unknown(key));
    }
    let listener_changed = save_engine_settings(book, &settings)?;
    Ok((now, listener_changed))
}
