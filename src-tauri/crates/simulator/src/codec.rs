//! Byte-level helpers: MD5, form bodies in GBK or UTF-8, multipart, XML text, yuan formatting.
//!
//! Why hand-written form decoding: `form_urlencoded::parse` decodes as UTF-8 (lossy), which would hide
//! exactly the mistake dingyin's GBK rule is about. Here a value is first percent-decoded to raw bytes,
//! then decoded with the charset the provider uses.

use encoding_rs::GBK;
use md5::{Digest, Md5};

/// Lower-case hex MD5.
pub fn md5_lower(bytes: &[u8]) -> String {
    hex::encode(Md5::digest(bytes))
}

/// Upper-case hex MD5.
pub fn md5_upper(bytes: &[u8]) -> String {
    md5_lower(bytes).to_ascii_uppercase()
}

/// Decode `application/x-www-form-urlencoded` into (name, raw value bytes) pairs; `+` is a space.
pub fn parse_form_raw(body: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    body.split(|b| *b == b'&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut it = part.splitn(2, |b| *b == b'=');
            let name = percent_decode(it.next().unwrap_or_default());
            let value = percent_decode(it.next().unwrap_or_default());
            (name, value)
        })
        .collect()
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decode to bytes; a malformed escape is kept literally.
pub fn percent_decode(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                match (input.get(i + 1).and_then(|b| hex_val(*b)), input.get(i + 2).and_then(|b| hex_val(*b)))
                {
                    (Some(h), Some(l)) => {
                        out.push(h * 16 + l);
                        i += 3;
                    }
                    _ => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// A form decoded with a charset: names are ASCII in practice; values as text.
#[derive(Debug, Default, Clone)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        Params { pairs }
    }

    /// First value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// First value of `name`, empty string when absent.
    pub fn get_or_empty(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }

    /// The value when present and not empty.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }
}

/// Decode bytes as GBK; `None` when they are not valid GBK.
pub fn gbk_decode_strict(bytes: &[u8]) -> Option<String> {
    GBK.decode_without_bom_handling_and_without_replacement(bytes).map(|c| c.into_owned())
}

/// Encode text as GBK bytes.
pub fn gbk_encode(text: &str) -> Vec<u8> {
    GBK.encode(text).0.into_owned()
}

/// Whether raw bytes look like UTF-8-encoded Chinese rather than GBK: valid UTF-8, not ASCII, and every
/// non-ASCII character a CJK ideograph or full-width punctuation. GBK-encoded Chinese practically never
/// passes this test, UTF-8 Chinese always does.
pub fn looks_like_utf8_chinese(bytes: &[u8]) -> bool {
    if bytes.is_ascii() {
        return false;
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => s.chars().filter(|c| !c.is_ascii()).all(|c| {
            let c = c as u32;
            (0x4E00..=0x9FFF).contains(&c) || (0x3000..=0x303F).contains(&c) || (0xFF00..=0xFFEF).contains(&c)
        }),
        Err(_) => false,
    }
}

/// Percent-encode bytes for a form (unreserved kept, space as `+`).
pub fn percent_encode_form(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for &b in bytes {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Build a GBK form body.
pub fn gbk_form(pairs: &[(&str, String)]) -> Vec<u8> {
    let parts: Vec<String> = pairs
        .iter()
        .map(|(n, v)| {
            format!("{}={}", percent_encode_form(n.as_bytes()), percent_encode_form(&gbk_encode(v)))
        })
        .collect();
    parts.join("&").into_bytes()
}

/// Build a UTF-8 form body.
pub fn utf8_form(pairs: &[(&str, String)]) -> Vec<u8> {
    let parts: Vec<String> = pairs
        .iter()
        .map(|(n, v)| format!("{}={}", percent_encode_form(n.as_bytes()), percent_encode_form(v.as_bytes())))
        .collect();
    parts.join("&").into_bytes()
}

/// Parse a UTF-8 form body (lossy for invalid UTF-8, which then fails the sign check).
pub fn utf8_params(body: &[u8]) -> Params {
    Params::from_pairs(
        parse_form_raw(body)
            .into_iter()
            .map(|(n, v)| {
                (String::from_utf8_lossy(&n).into_owned(), String::from_utf8_lossy(&v).into_owned())
            })
            .collect(),
    )
}

/// The `boundary` parameter of a multipart Content-Type.
pub fn multipart_boundary(content_type: &str) -> Option<String> {
    if !content_type.to_ascii_lowercase().starts_with("multipart/form-data") {
        return None;
    }
    content_type.split(';').skip(1).find_map(|p| {
        let p = p.trim();
        let (k, v) = p.split_once('=')?;
        if k.trim().eq_ignore_ascii_case("boundary") {
            let v = v.trim().trim_matches('"');
            (!v.is_empty()).then(|| v.to_string())
        } else {
            None
        }
    })
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > hay.len() {
        return None;
    }
    hay[from..].windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}

/// Parse a multipart/form-data body into UTF-8 params; `None` when it is malformed.
pub fn parse_multipart(body: &[u8], boundary: &str) -> Option<Params> {
    let delim = format!("--{boundary}");
    let delim = delim.as_bytes();
    let mut pairs = Vec::new();
    let mut pos = find(body, delim, 0)? + delim.len();
    loop {
        if body.get(pos..pos + 2) == Some(b"--") {
            return Some(Params::from_pairs(pairs));
        }
        // skip the CRLF after the delimiter
        if body.get(pos..pos + 2) == Some(b"\r\n") {
            pos += 2;
        } else {
            return None;
        }
        let head_end = find(body, b"\r\n\r\n", pos)?;
        let head = String::from_utf8_lossy(&body[pos..head_end]).into_owned();
        let content_start = head_end + 4;
        let mut next_delim = Vec::with_capacity(delim.len() + 2);
        next_delim.extend_from_slice(b"\r\n");
        next_delim.extend_from_slice(delim);
        let content_end = find(body, &next_delim, content_start)?;
        let name = head.lines().find_map(|line| {
            let (k, v) = line.split_once(':')?;
            if !k.trim().eq_ignore_ascii_case("content-disposition") {
                return None;
            }
            v.split(';').find_map(|p| {
                let (k, v) = p.trim().split_once('=')?;
                (k.trim() == "name").then(|| v.trim().trim_matches('"').to_string())
            })
        })?;
        let value = String::from_utf8_lossy(&body[content_start..content_end]).into_owned();
        pairs.push((name, value));
        pos = content_end + next_delim.len();
    }
}

/// Escape text for an XML element.
pub fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Li as yuan with trailing zeros trimmed: 98500 → "98.5", 100000 → "100", 1060 → "1.06".
pub fn yuan_trimmed(li: i64) -> String {
    let s = yuan_3(li);
    let s = s.trim_end_matches('0');
    s.trim_end_matches('.').to_string()
}

/// Li as yuan with three decimals: 1060 → "1.060".
pub fn yuan_3(li: i64) -> String {
    let sign = if li < 0 { "-" } else { "" };
    let a = li.unsigned_abs();
    format!("{sign}{}.{:03}", a / 1000, a % 1000)
}

/// Mobile operator of an 11-digit Chinese phone number by its segment: 1 移动, 2 联通, 3 电信.
pub fn phone_operator(phone: &str) -> Option<u8> {
    if phone.len() != 11 || !phone.bytes().all(|b| b.is_ascii_digit()) || !phone.starts_with('1') {
        return None;
    }
    let seg: u32 = phone[..3].parse().ok()?;
    match seg {
        134..=139 | 147 | 150..=152 | 157..=159 | 172 | 178 | 182..=184 | 187 | 188 | 195 | 197 | 198 => {
            Some(1)
        }
        130..=132 | 145 | 155 | 156 | 166 | 175 | 176 | 185 | 186 | 196 => Some(2),
        133 | 149 | 153 | 173 | 177 | 180 | 181 | 189 | 190 | 191 | 193 | 199 => Some(3),
        _ => None,
    }
}

/// Chinese name of an operator code.
pub fn operator_name(op: u8) -> &'static str {
    match op {
        1 => "移动",
        2 => "联通",
        _ => "电信",
    }
}

/// FNV-1a, for deterministic per-order choices.
pub fn fnv(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_keeps_bad_escapes() {
        assert_eq!(percent_decode(b"a%20b+c%zz%4"), b"a b c%zz%4".to_vec());
        assert_eq!(percent_decode(b"%"), b"%".to_vec());
        assert_eq!(percent_decode(b"%B"), b"%B".to_vec());
    }

    #[test]
    fn yuan_formats() {
        assert_eq!(yuan_trimmed(98_500), "98.5");
        assert_eq!(yuan_trimmed(100_000), "100");
        assert_eq!(yuan_trimmed(1_060), "1.06");
        assert_eq!(yuan_trimmed(0), "0");
        assert_eq!(yuan_3(1_060), "1.060");
        assert_eq!(yuan_3(-5), "-0.005");
    }

    #[test]
    fn multipart_parses() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nabc\r\n--XyZ\r\nContent-Disposition: form-data; name=\"cardnum\"\r\n\r\n10\r\n--XyZ--\r\n";
        let p = parse_multipart(body, "XyZ").expect("parses");
        assert_eq!(p.get("key"), Some("abc"));
        assert_eq!(p.get("cardnum"), Some("10"));
        assert!(parse_multipart(b"garbage", "XyZ").is_none());
        assert_eq!(multipart_boundary("multipart/form-data; boundary=\"XyZ\"").as_deref(), Some("XyZ"));
    }

    #[test]
    fn utf8_chinese_detection() {
        assert!(looks_like_utf8_chinese("江苏".as_bytes()));
        assert!(!looks_like_utf8_chinese(&gbk_encode("江苏南京")));
        assert!(!looks_like_utf8_chinese(b"abc"));
    }
}
