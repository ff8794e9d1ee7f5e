//! Reading provider JSON without losing anything a money decision depends on.
//!
//! Why raw values: oper's order ids exceed 2^53 (`507831667054165634`) and a leading zero matters
//! (`0280399999349719680`); juhe amounts such as `1.060` must stay exact. Every field is therefore kept
//! as its raw JSON text and converted only by the caller (string contents, or the number's digits
//! exactly as sent). Codes may come as `"200"` or `200`; both read as the text `200`. A repeated key is
//! an error, as is anything that is not a JSON object.

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::fmt;

/// A JSON object whose values are kept raw.
#[derive(Debug)]
pub struct Obj(Vec<(String, Box<RawValue>)>);

impl Obj {
    /// Parses a whole reply body (UTF-8, optional BOM and white space around it).
    pub fn parse(bytes: &[u8]) -> Result<Obj, String> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        serde_json::from_slice::<Obj>(bytes).map_err(|e| e.to_string())
    }

    pub fn parse_str(text: &str) -> Result<Obj, String> {
        Obj::parse(text.as_bytes())
    }

    pub fn raw(&self, name: &str) -> Option<&RawValue> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_ref())
    }

    /// The field as text: a string's contents, or a number's exact digits. `None` when absent, null,
    /// or not a scalar.
    pub fn text(&self, name: &str) -> Option<String> {
        self.raw(name).and_then(scalar_text)
    }

    /// A nested object.
    pub fn obj(&self, name: &str) -> Option<Result<Obj, String>> {
        self.raw(name).map(|raw| serde_json::from_str::<Obj>(raw.get()).map_err(|e| e.to_string()))
    }

    /// The field as a JSON string's contents only (not a number), e.g. oper's `data`.
    pub fn string(&self, name: &str) -> Option<String> {
        self.raw(name).and_then(|raw| serde_json::from_str::<String>(raw.get()).ok())
    }
}

/// A string's contents, or the exact text of a number; `None` for null, bool, array, object.
pub fn scalar_text(raw: &RawValue) -> Option<String> {
    let text = raw.get().trim();
    if text.starts_with('"') {
        serde_json::from_str::<String>(text).ok()
    } else if text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
        Some(text.to_owned())
    } else {
        None
    }
}

impl<'de> Deserialize<'de> for Obj {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Obj;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Obj, A::Error> {
                let mut fields: Vec<(String, Box<RawValue>)> = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Box<RawValue>>()? {
                    if fields.iter().any(|(k, _)| *k == key) {
                        return Err(serde::de::Error::custom(format!("duplicate key {key}")));
                    }
                    fields.push((key, value));
                }
                Ok(Obj(fields))
            }
        }
        deserializer.deserialize_map(V)
    }
}

/// Digits of an integer as sent, with sign; `None` if the text is not an integer.
pub fn integer_text(text: &str) -> Option<&str> {
    let t = text.trim();
    let digits = t.strip_prefix('-').unwrap_or(t);
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(t)
}

/// An integer field as i64 (codes, fen amounts); `None` if absent, not an integer, or too large.
pub fn integer(text: Option<String>) -> Option<i64> {
    text.as_deref().and_then(integer_text).and_then(|t| t.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_ids_stay_exact_and_codes_read_alike() {
        let o = Obj::parse(
            br#"{"a":507831667054165634,"b":280399999349719680,"c":"0280399999349719680","d":99999999999999999999999,"code":"200","n":200,"x":null,"f":1.060}"#,
        )
        .unwrap();
        assert_eq!(o.text("a").unwrap(), "507831667054165634");
        assert_eq!(o.text("b").unwrap(), "280399999349719680");
        assert_eq!(o.text("c").unwrap(), "0280399999349719680");
        assert_eq!(o.text("d").unwrap(), "99999999999999999999999");
        assert_eq!(o.text("code"), o.text("n"));
        assert_eq!(o.text("x"), None);
        assert_eq!(o.text("f").unwrap(), "1.060");
    }

    #[test]
    fn refuses_duplicates_and_non_objects() {
        assert!(Obj::parse(br#"{"a":1,"a":2}"#).is_err());
        assert!(Obj::parse(b"[1]").is_err());
        assert!(Obj::parse(b"{\"a\":1").is_err());
        assert!(Obj::parse(b"\xEF\xBB\xBF {\"a\":1} ").is_ok());
    }
}
