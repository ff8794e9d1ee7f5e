//! Redaction, in one place: log lines and order histories pass through [`text`] before they are written.
//!
//! Two rules: every secret read from or written to the keyring is registered here and replaced wherever
//! it appears, and parameters named like keys (`key=`, `appkey=`, `md5key=`, `password=`) have their
//! values replaced even when the secret was never registered (e.g. a mistyped key echoed by a provider).

use std::borrow::Cow;
use std::sync::RwLock;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// What a redacted value is replaced with (the providers' own redaction uses the same mask, so that
/// their cut of a long reply can keep masks whole).
pub const MASK: &str = topup_providers::http::MASK;

const SECRET_PARAMS: &[&str] = &["key", "appkey", "md5key", "password", "secret"];

/// Registers a secret value to be masked wherever it appears. Short values (under 4 characters) are
/// not registered, so that masking cannot destroy ordinary text.
pub fn register(secret: &str) {
    if secret.chars().count() < 4 {
        return;
    }
    let mut all = SECRETS.write().unwrap_or_else(|p| p.into_inner());
    if !all.iter().any(|s| s == secret) {
        all.push(secret.to_owned());
        // Longest first, so a secret containing another is masked whole.
        all.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// `input` with every registered secret and every secret-named parameter value masked.
pub fn text(input: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(input);
    {
        let all = SECRETS.read().unwrap_or_else(|p| p.into_inner());
        for s in all.iter() {
            if out.contains(s.as_str()) {
                out = Cow::Owned(out.replace(s.as_str(), MASK));
            }
        }
    }
    if SECRET_PARAMS.iter().any(|p| out.contains(&format!("{p}=")) || out.contains(&format!("\"{p}\""))) {
        out = Cow::Owned(mask_params(&out));
    }
    out
}

/// Masks `name=value` (form/query) and `"name":"value"` (JSON) for the secret-named parameters.
fn mask_params(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let bytes = input.as_bytes();
    let mut i = 0;
    while i < input.len() {
        let rest = &input[i..];
        let boundary = i == 0 || matches!(bytes[i - 1], b'&' | b'?' | b' ' | b'\n' | b',' | b'{' | b'"');
        let mut matched = false;
        if boundary {
            for p in SECRET_PARAMS {
                if let Some(after) = rest.strip_prefix(p) {
                    if let Some(value) = after.strip_prefix('=') {
                        let end = value.find(['&', ' ', '\n', '"', ',']).unwrap_or(value.len());
                        out.push_str(p);
                        out.push('=');
                        out.push_str(MASK);
                        i += p.len() + 1 + end;
                        matched = true;
                        break;
                    }
                    if let Some(value) = after.strip_prefix("\":\"") {
                        let end = value.find('"').unwrap_or(value.len());
                        out.push_str(p);
                        out.push_str("\":\"");
                        out.push_str(MASK);
                        i += p.len() + 3 + end;
                        matched = true;
                        break;
                    }
                }
            }
        }
        if !matched {
            let ch = rest.chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets_are_masked_anywhere() {
        register("S3cretValue-xyz");
        let line = "request userid=1&sign=ABC failed for S3cretValue-xyz (S3cretValue-xyz)";
        let red = text(line);
        assert!(!red.contains("S3cretValue-xyz"), "{red}");
        assert_eq!(red.matches(MASK).count(), 2);
    }

    #[test]
    fn secret_named_parameters_are_masked_even_unregistered() {
        let red = text("GET /ofpay/mobile/ordersta?key=abcd1234unregistered&orderid=TD1");
        assert_eq!(red, "GET /ofpay/mobile/ordersta?key=<redacted>&orderid=TD1");
        let red = text(r#"{"uid":"1","md5key":"zzz-unregistered","x":1}"#);
        assert_eq!(red, r#"{"uid":"1","md5key":"<redacted>","x":1}"#);
        // A parameter that merely ends in "key" is not a secret name.
        assert_eq!(text("monkey=banana"), "monkey=banana");
    }

    #[test]
    fn short_values_are_not_registered() {
        register("ab");
        assert_eq!(text("tab and ab"), "tab and ab");
    }
}
