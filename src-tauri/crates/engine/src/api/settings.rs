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
    ApiError::EngineSetting { key: key.into(), message: message.into() }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn book() -> (tempfile::TempDir, Book) {
        let dir = tempfile::tempdir().expect("temp dir");
        let book = Book::open(&dir.path().join("orders.sqlite3")).expect("open the book");
        (dir, book)
    }

    #[test]
    fn every_setting_by_dotted_key_stored_as_the_settings_screen_stores_it() {
        let (_dir, book) = book();
        assert_eq!(set_setting(&book, "callback.port", "18600").unwrap(), (json!(18600), true));
        assert_eq!(
            set_setting(&book, "callback.public_url", "https://x.example/t").unwrap().0,
            "https://x.example/t"
        );
        assert_eq!(
            set_setting(&book, "query_delays_ms", "[1000, 2000]").unwrap(),
            (json!([1000, 2000]), false)
        );
        assert_eq!(set_setting(&book, "routing.phone", "oper").unwrap().0, "oper");
        assert_eq!(set_setting(&book, "low_balance.juhe", "5000").unwrap().0, 5000);
        let stored = EngineSettings::load(&book).unwrap();
        assert_eq!(stored.callback.port, 18600);
        assert_eq!(stored.query_delays_ms, [1000, 2000]);
        assert_eq!(stored.routing.get("phone"), Some(&ProviderId::Oper));
        assert_eq!(get_setting(&book, Some("callback.port")).unwrap(), 18600);
        assert_eq!(get_setting(&book, Some("query_delays_ms.1")).unwrap(), 2000);
        let all = flatten(&get_setting(&book, None).unwrap());
        assert!(all.contains(&("callback.port".to_owned(), json!(18600))), "{all:?}");
        assert!(all.contains(&("routing.phone".to_owned(), json!("oper"))), "{all:?}");
        // null: back to the default, or the map entry gone.
        assert_eq!(set_setting(&book, "callback.port", "null").unwrap(), (json!(0), true));
        set_setting(&book, "routing.phone", "null").unwrap();
        assert!(EngineSettings::load(&book).unwrap().routing.is_empty());
    }

    #[test]
    fn unknown_keys_wrong_types_and_broken_rules_are_refused_naming_the_key() {
        let (_dir, book) = book();
        let before = EngineSettings::load(&book).unwrap();
        for (key, value) in [
            ("callback.prot", "1"),
            ("no_such_setting", "1"),
            ("callback.port.deeper", "1"),
            ("callback.port", "not-a-port"),
            ("callback.port", "70000"),
            ("callback.enabled", "maybe"),
            ("routing.electricity", "juhe"),
            ("routing.boats", "dingyin"),
            ("fallback.oper", "oper"),
            ("fallback.nobody", "oper"),
            ("low_balance.juhe", "-1"),
            ("query_delays_ms", "[]"),
            ("routing.phone.x", "null"),
            ("", "1"),
        ] {
            let e = set_setting(&book, key, value).expect_err(key);
            assert_eq!(e.code(), "invalid_setting", "{key}");
            assert!(e.is_usage());
            assert!(e.to_string().contains(key), "{key}: {e}");
        }
        assert_eq!(EngineSettings::load(&book).unwrap(), before, "nothing was stored");
    }

    /// The strictest of the rules that disagreed: the order form skipped a routing to a provider that
    /// does not sell the kind, the engine routed to it and refused the order; now it is never stored.
    #[test]
    fn the_settings_screen_cannot_route_a_kind_to_a_provider_that_does_not_sell_it() {
        let (_dir, book) = book();
        let mut s = EngineSettings::default();
        s.routing.insert("electricity".into(), ProviderId::Juhe);
        let e = save_engine_settings(&book, &s).expect_err("juhe sells no electricity");
        assert!(e.to_string().contains("routing.electricity"), "{e}");
        s.routing.insert("electricity".into(), ProviderId::Dingyin);
        assert!(!save_engine_settings(&book, &s).unwrap(), "the listener did not change");
        assert_eq!(EngineSettings::load(&book).unwrap(), s);
    }
}
