//! Form (`application/x-www-form-urlencoded`) bodies in UTF-8 or GBK, built and parsed byte-exactly.
//!
//! Why not `serde_urlencoded` / `form_urlencoded::parse`: both assume UTF-8. dingyin signs and sends GBK
//! bytes and calls back in GBK, so a value is first encoded to GBK bytes (refusing characters GBK
//! cannot hold instead of silently turning them into `&#NNNN;` as `encoding_rs` would) and then
//! percent-encoded byte by byte; parsing percent-decodes to bytes first and only then decodes text.

use encoding_rs::GBK;
use std::borrow::Cow;

/// The character set of a provider's form bodies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Charset {
    Utf8,
    Gbk,
}

/// A text that cannot be written in the provider's character set (an emoji in a GBK form).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("“{0}”含有无法用 GBK 表示的字符 / “{0}” has characters GBK cannot encode")]
pub struct EncodeError(pub String);

/// The bytes of `text` in `charset`; an error if any character has no encoding.
pub fn encode(text: &str, charset: Charset) -> Result<Cow<'_, [u8]>, EncodeError> {
    match charset {
        Charset::Utf8 => Ok(Cow::Borrowed(text.as_bytes())),
        Charset::Gbk => {
            let (bytes, _, had_errors) = GBK.encode(text);
            if had_errors {
                Err(EncodeError(text.to_owned()))
            } else {
                Ok(bytes)
            }
        }
    }
}

/// Strict decoding: `None` for bytes that are not valid in `charset`.
pub fn decode(bytes: &[u8], charset: Charset) -> Option<String> {
    match charset {
        Charset::Utf8 => std::str::from_utf8(bytes).ok().map(str::to_owned),
        Charset::Gbk => GBK.decode_without_bom_handling_and_without_replacement(bytes).map(Cow::into_owned),
    }
}

/// Lossy decoding for the audit trail only.
pub fn decode_lossy(bytes: &[u8], charset: Charset) -> String {
    match charset {
        Charset::Utf8 => String::from_utf8_lossy(bytes).into_owned(),
        Charset::Gbk => GBK.decode_without_bom_handling(bytes).0.into_owned(),
    }
}

/// `name=value&...` with each value encoded in `charset` and then percent-encoded (space as `+`,
/// `*-._` and ASCII alphanumerics kept, as `form_urlencoded` does). Names are ASCII.
pub fn body(pairs: &[(&str, &str)], charset: Charset) -> Result<String, EncodeError> {
    let mut out = String::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.extend(form_urlencoded::byte_serialize(name.as_bytes()));
        out.push('=');
        out.extend(form_urlencoded::byte_serialize(&encode(value, charset)?));
    }
    Ok(out)
}

/// A parsed form whose values are decoded text. A name that occurs twice is an error: which of two
/// values a provider meant is not something to guess when money depends on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form(Vec<(String, String)>);

impl Form {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }
}

/// Parses `a=1&b=%D6%D0` (also with `+` for space) into decoded text. Errors on a bad `%` escape,
/// on bytes not valid in `charset`, and on a repeated name.
pub fn parse(bytes: &[u8], charset: Charset) -> Result<Form, String> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for part in bytes.split(|&b| b == b'&') {
        if part.is_empty() {
            continue;
        }
        let (name, value) = match part.iter().position(|&b| b == b'=') {
            Some(i) => (&part[..i], &part[i + 1..]),
            None => (part, &[][..]),
        };
        let name = decode(&percent_decode(name)?, charset).ok_or("字段名编码错误 / bad name encoding")?;
        // The name is the sender's choice: shown escaped and cut (it reaches logs and messages).
        let shown = || topup_core::untrusted::excerpt(&name, 64).into_owned();
        let value = decode(&percent_decode(value)?, charset)
            .ok_or_else(|| format!("字段 {} 编码错误 / bad encoding", shown()))?;
        if pairs.iter().any(|(n, _)| *n == name) {
            let shown = shown();
            return Err(format!("字段 {shown} 重复 / field {shown} repeated"));
        }
        pairs.push((name, value));
    }
    Ok(Form(pairs))
}

/// The form of a callback: the body when there is one, else the query string (GET callbacks).
pub fn callback_bytes(request: &crate::CallbackRequest) -> &[u8] {
    if request.body.iter().all(u8::is_ascii_whitespace) {
        request.query.trim_start_matches('?').as_bytes()
    } else {
        &request.body
    }
}

fn percent_decode(input: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = input.get(i + 1..i + 3).ok_or("不完整的 % 转义 / truncated % escape")?;
                let text = std::str::from_utf8(hex).map_err(|_| "错误的 % 转义 / bad % escape")?;
                let byte = u8::from_str_radix(text, 16).map_err(|_| "错误的 % 转义 / bad % escape")?;
                out.push(byte);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gbk_body_is_percent_encoded_gbk_bytes() {
        // python3 -c "import urllib.parse;print(urllib.parse.quote_plus('江苏 南京'.encode('gbk')))"
        // -> %BD%AD%CB%D5+%C4%CF%BE%A9
        assert_eq!(
            body(&[("a", "江苏 南京"), ("b", "")], Charset::Gbk).unwrap(),
            "a=%BD%AD%CB%D5+%C4%CF%BE%A9&b="
        );
        // python3 -c "import urllib.parse;print(urllib.parse.quote_plus('江苏'))" -> %E6%B1%9F%E8%8B%8F
        assert_eq!(body(&[("a", "江苏")], Charset::Utf8).unwrap(), "a=%E6%B1%9F%E8%8B%8F");
    }

    #[test]
    fn gbk_refuses_what_it_cannot_hold() {
        assert!(body(&[("a", "充值😀")], Charset::Gbk).is_err());
        assert!(body(&[("a", "充值😀")], Charset::Utf8).is_ok());
    }

    #[test]
    fn gbk_round_trip() {
        let text = "国网 户号=123&南京";
        let b = body(&[("x", text), ("y", "鼎音")], Charset::Gbk).unwrap();
        let form = parse(b.as_bytes(), Charset::Gbk).unwrap();
        assert_eq!(form.get("x"), Some(text));
        assert_eq!(form.get("y"), Some("鼎音"));
    }

    #[test]
    fn parse_refuses_bad_escapes_encodings_and_repeats() {
        assert!(parse(b"a=%B", Charset::Gbk).is_err());
        assert!(parse(b"a=%ZZ", Charset::Gbk).is_err());
        assert!(parse(b"a=%FF", Charset::Utf8).is_err());
        assert!(parse(b"a=1&a=2", Charset::Utf8).is_err());
        assert_eq!(parse(b"a=1&&b", Charset::Utf8).unwrap().get("b"), Some(""));
    }

    #[test]
    fn a_field_name_cannot_forge_a_log_line_through_the_error() {
        let forged =
            b"x%0A2026-01-01T00:00:00Z%20ERROR%20forged=1&x%0A2026-01-01T00:00:00Z%20ERROR%20forged=2";
        let why = parse(forged, Charset::Utf8).unwrap_err();
        assert!(!why.contains('\n'), "{why}");
        assert!(why.contains("x\\n2026"), "{why}");
        let long = format!("{}=%FF", "n".repeat(10_000));
        let why = parse(long.as_bytes(), Charset::Utf8).unwrap_err();
        assert!(why.len() < 200, "{} bytes", why.len());
    }
}
