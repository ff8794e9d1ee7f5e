//! Which fields of a provider's settings are secrets: the one split every front end uses.
//!
//! Why one function, and why strict: the window and `topup-desk provider set` both receive a
//! provider's settings as JSON, with the key inside (the command line) or beside them (the window).
//! Whatever the split misses is stored in plain text in SQLite and printed by `provider list`. So
//! [`split`] takes out every known secret field (`secret`, `key`, `md5key`, `appkey`, in any case and
//! with `_`/`-` ignored — the providers' own names for their key: dingyin `key`, oper `md5key`, juhe
//! `key`/AppKey), refuses a secret that is not text and two different secrets, and refuses any other
//! field whose name looks like a credential (`api_key`, `password`, `token`, `sign_key`…, at any
//! depth) with the field's name, instead of storing what it cannot place. The providers' settings
//! structs hold no secret field themselves (the key is passed to them separately), so nothing else
//! needs a place. [`public_view`] applies the same rule to what is shown or was stored by older
//! versions.

use serde_json::{Map, Value};
use topup_core::Sensitive;

/// Field names (normalised, see [`normalise`]) whose value is the provider's key.
const SECRET_FIELDS: &[&str] = &["secret", "key", "md5key", "appkey"];

/// Parts of a field name (normalised) that mark a credential the app has no place for. None of the
/// providers' public settings contains one (a test checks every default setting).
const CREDENTIAL_WORDS: &[&str] =
    &["key", "secret", "passw", "pwd", "token", "sign", "credential", "auth", "private", "cert"];

/// The field name in lower case without `_`, `-`, `.` and spaces: `App_Key` and `APPKEY` are `appkey`.
fn normalise(name: &str) -> String {
    name.chars().filter(|c| !matches!(c, '_' | '-' | '.' | ' ')).flat_map(char::to_lowercase).collect()
}

/// Whether `name` is one of the fields that carry the provider's key.
pub fn is_secret_field(name: &str) -> bool {
    SECRET_FIELDS.contains(&normalise(name).as_str())
}

/// Whether `name` looks like a credential of any kind (the key fields included).
pub fn looks_secret(name: &str) -> bool {
    let n = normalise(name);
    SECRET_FIELDS.contains(&n.as_str()) || CREDENTIAL_WORDS.iter().any(|w| n.contains(w))
}

/// Why provider settings were refused. Nothing is stored when any of these happens.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    NotObject,
    SecretNotText(String),
    TwoSecrets(String, String),
    Unplaced(String),
}

crate::coded!(SettingsError);

impl SettingsError {
    pub fn code(&self) -> crate::contract::ErrorCode {
        crate::contract::ErrorCode::InvalidField
    }

    pub fn message(&self) -> crate::contract::Message {
        use crate::msg;
        match self {
            SettingsError::NotObject => msg!("供应商设置必须是 JSON 对象", "provider settings must be a JSON object"),
            SettingsError::SecretNotText(f) => {
                msg!("字段“{f}”：密钥必须是文本，未保存任何内容", "field \"{f}\": the secret must be text; nothing was saved")
            }
            SettingsError::TwoSecrets(a, b) => msg!(
                "字段“{a}”和“{b}”是两个不同的密钥，无法确定使用哪一个，未保存任何内容",
                "fields \"{a}\" and \"{b}\" hold two different secrets; nothing was saved"
            ),
            SettingsError::Unplaced(f) => msg!(
                "字段“{f}”看起来是凭据，但充值台不知道它的用途；为免以明文保存，未保存任何内容。供应商密钥请放在 \"secret\" 字段",
                "field \"{f}\" looks like a credential the app has no place for; nothing was saved (it would be stored \
                 in plain text). Put the provider's key in \"secret\""
            ),
        }
    }
}

/// Provider settings split into what may be stored in SQLite and the key for the keyring.
#[derive(Debug)]
pub struct Split {
    /// The settings without any secret, and without `null` or empty-text fields (those mean "default").
    pub public: Value,
    /// The key, when one was given (a missing key keeps the stored one).
    pub secret: Option<Sensitive<String>>,
}

/// Splits `settings` (a JSON object) into public settings and the secret. `typed_secret` is a key
/// given beside the settings (the window's password box); blank means none.
pub fn split(settings: &Value, typed_secret: Option<&str>) -> Result<Split, SettingsError> {
    let object = settings.as_object().ok_or(SettingsError::NotObject)?;
    let mut found: Option<(String, String)> =
        typed_secret.map(str::trim).filter(|s| !s.is_empty()).map(|s| ("secret".to_owned(), s.to_owned()));
    let mut public = Map::new();
    for (name, value) in object {
        if is_secret_field(name) {
            let text = match value {
                Value::Null => continue,
                Value::String(s) => s.trim(),
                _ => return Err(SettingsError::SecretNotText(name.clone())),
            };
            if text.is_empty() {
                continue;
            }
            match &found {
                Some((first, other)) if other != text => {
                    return Err(SettingsError::TwoSecrets(first.clone(), name.clone()))
                }
                Some(_) => {}
                None => found = Some((name.clone(), text.to_owned())),
            }
            continue;
        }
        refuse_credentials(name, value)?;
        if value.is_null() || value.as_str() == Some("") {
            continue;
        }
        public.insert(name.clone(), value.clone());
    }
    Ok(Split { public: Value::Object(public), secret: found.map(|(_, s)| Sensitive::new(s)) })
}

/// Refuses `value` (the field `path`) when its name, or any name inside it, looks like a credential.
fn refuse_credentials(path: &str, value: &Value) -> Result<(), SettingsError> {
    if looks_secret(path.rsplit('.').next().unwrap_or(path)) {
        return Err(SettingsError::Unplaced(path.to_owned()));
    }
    match value {
        Value::Object(inner) => {
            inner.iter().try_for_each(|(name, v)| refuse_credentials(&format!("{path}.{name}"), v))
        }
        Value::Array(items) => items.iter().try_for_each(|v| refuse_credentials(path, v)),
        _ => Ok(()),
    }
}

/// `stored` without any field that looks like a credential, at any depth: what may be shown (the
/// settings screen, `provider list`) even of settings written by older versions, which stored some.
pub fn public_view(stored: &Value) -> Value {
    match stored {
        Value::Object(object) => Value::Object(
            object
                .iter()
                .filter(|(name, _)| !looks_secret(name))
                .map(|(name, v)| (name.clone(), public_view(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(public_view).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use topup_core::ProviderId;

    fn secret_of(split: &Split) -> Option<&str> {
        split.secret.as_ref().map(|s| s.expose().as_str())
    }

    #[test]
    fn every_key_field_in_any_spelling_is_taken_out() {
        for name in
            ["secret", "key", "md5key", "appkey", "Secret", "KEY", "MD5Key", "AppKey", "app_key", "md5-key"]
        {
            let s = split(&json!({"uid": "1", name: "the-key-123"}), None).unwrap();
            assert_eq!(s.public, json!({"uid": "1"}), "{name}");
            assert_eq!(secret_of(&s), Some("the-key-123"), "{name}");
        }
        // All four at once, same value: one secret, nothing left behind.
        let s = split(
            &json!({"secret": "k-1234", "key": "k-1234", "md5key": " k-1234 ", "appkey": "k-1234", "uid": "1"}),
            Some("k-1234"),
        )
        .unwrap();
        assert_eq!((&s.public, secret_of(&s)), (&json!({"uid": "1"}), Some("k-1234")));
    }

    #[test]
    fn blank_secrets_mean_keep_the_stored_one() {
        let s = split(&json!({"secret": "", "key": null, "uid": "1", "notify_url": ""}), Some("  ")).unwrap();
        assert_eq!((s.public, s.secret.is_none()), (json!({"uid": "1"}), true));
    }

    #[test]
    fn a_secret_that_is_not_text_is_refused() {
        for bad in [json!(123456), json!(true), json!(["k"]), json!({"v": "k"})] {
            assert_eq!(
                split(&json!({"uid": "1", "secret": bad}), None).unwrap_err(),
                SettingsError::SecretNotText("secret".into())
            );
        }
    }

    #[test]
    fn two_different_secrets_are_refused() {
        let err = split(&json!({"secret": "aaaa-1", "md5key": "bbbb-2"}), None).unwrap_err();
        assert!(matches!(err, SettingsError::TwoSecrets(_, _)), "{err:?}");
        let err = split(&json!({"appkey": "aaaa-1"}), Some("bbbb-2")).unwrap_err();
        assert_eq!(err, SettingsError::TwoSecrets("secret".into(), "appkey".into()));
        let text = err.to_string();
        assert!(text.contains("appkey") && text.contains("两个不同的密钥") && text.contains("different"));
    }

    #[test]
    fn credentials_without_a_place_are_refused_by_name() {
        for name in [
            "api_key",
            "apiKey",
            "password",
            "passwd",
            "pwd",
            "token",
            "access_token",
            "sign_key",
            "signkey",
            "private_key",
            "auth",
        ] {
            let err = split(&json!({"uid": "1", name: "x"}), Some("k-1234")).unwrap_err();
            assert_eq!(err, SettingsError::Unplaced(name.to_owned()));
            assert!(err.to_string().contains(name));
        }
        let err = split(&json!({"uid": "1", "http": {"proxy": {"password": "x"}}}), None).unwrap_err();
        assert_eq!(err, SettingsError::Unplaced("http.proxy.password".into()));
        assert_eq!(split(&json!("secret"), None).unwrap_err(), SettingsError::NotObject);
    }

    #[test]
    fn no_public_setting_of_any_provider_looks_like_a_credential() {
        for id in ProviderId::ALL {
            let defaults = topup_providers::default_settings(id);
            for name in defaults.as_object().unwrap().keys() {
                assert!(!looks_secret(name), "{id}: {name}");
            }
            let s = split(&defaults, Some("k-1234")).unwrap();
            assert_eq!(
                s.public.as_object().unwrap().len(),
                defaults
                    .as_object()
                    .unwrap()
                    .values()
                    .filter(|v| !v.is_null() && v.as_str() != Some(""))
                    .count()
            );
        }
    }

    #[test]
    fn the_public_view_hides_what_older_versions_stored() {
        let stored = json!({"uid": "1", "md5key": "leak-1", "api_key": "leak-2", "extra": {"token": "leak-3", "n": 1}});
        assert_eq!(public_view(&stored), json!({"uid": "1", "extra": {"n": 1}}));
    }
}
