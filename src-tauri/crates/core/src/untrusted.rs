//! Showing text that a stranger chose (callback field names and values, provider messages) in a log
//! line or an error message: one rule, used everywhere such text is written.
//!
//! Why: a log line is one event only if nothing inside it can start another. A callback field named
//! `"x\n2026-01-01T00:00:00Z ERROR forged"` written as it is would forge a second line; a bidi override
//! makes a line read differently from what it holds; a 16 KB field makes a 16 KB line. [`escape`]
//! writes such characters visibly (`\n`, `\u{202e}`); [`excerpt`] also bounds the length.

use std::borrow::Cow;

/// Whether `c` must not appear raw in a log line: control characters (newlines, escape sequences),
/// the Unicode line and paragraph separators, and the invisible direction marks and overrides.
pub fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// `text` with every character of [`needs_escape`] written as an escape: `\n`, `\r`, `\t`, else
/// `\u{…}`. Borrowed when nothing needed escaping.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        push_escaped(&mut out, c);
    }
    Cow::Owned(out)
}

/// [`escape`], cut after `max_chars` characters of the original text; a cut ends with `…(+N)`, N
/// being the characters left out.
pub fn excerpt(text: &str, max_chars: usize) -> Cow<'_, str> {
    let total = text.chars().count();
    if total <= max_chars {
        return escape(text);
    }
    let mut out = String::with_capacity(max_chars + 16);
    for c in text.chars().take(max_chars) {
        push_escaped(&mut out, c);
    }
    out.push_str(&format!("…(+{})", total - max_chars));
    Cow::Owned(out)
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newlines_and_controls_cannot_start_a_line() {
        let forged = "sign\n2026-01-01T00:00:00Z ERROR forged\r\x1b[2J\u{202e}txt";
        let shown = escape(forged);
        assert!(!shown.chars().any(needs_escape), "{shown}");
        assert_eq!(shown, "sign\\n2026-01-01T00:00:00Z ERROR forged\\r\\u{1b}[2J\\u{202e}txt");
        // Chinese text and ordinary punctuation pass untouched, without a copy.
        assert!(matches!(escape("字段 uid 重复 / field uid repeated"), Cow::Borrowed(_)));
    }

    #[test]
    fn excerpts_are_bounded() {
        let long = "名".repeat(1000);
        let shown = excerpt(&long, 10);
        assert_eq!(shown, format!("{}…(+990)", "名".repeat(10)));
        assert_eq!(excerpt("a\nb", 10), "a\\nb");
    }
}
