//! Orders pasted from a chat: one order a line, a mobile number and an amount somewhere in it.
//!
//! Why: resellers receive orders as chat messages — `13812345678 100`, `138-1234-5678，50元`,
//! `张三 １３９１２３４５６７８：３０ 谢谢` — and retyping them into a spreadsheet is where numbers get
//! mistyped. This parser only *finds* the number and the amount on each line (full-width digits read
//! as ASCII; spaces, tabs, `,` `，` `、` `:` `：` `-` as separators; other words ignored and named in a
//! warning); the line then goes through the same [`super::check()`] as a spreadsheet row, with the
//! same preview and the same row errors. It never guesses: a line with two numbers or two amounts is
//! an error naming the line, not a choice.

use super::text::{half_width, is_dash, is_invisible};
use super::{FieldMessage, Level};
use crate::import::Field;

/// One line of pasted text, read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChatLine {
    /// 1-based line number.
    pub line: u32,
    /// Nothing to read (a blank line, or words without a digit: see `notes`).
    pub empty: bool,
    /// The mobile number found (digits only; a long digit run that is not a valid number is passed on
    /// so that the check names what is wrong with it).
    pub account: Option<String>,
    /// The amount found, as written (`100`, `49.9`).
    pub face: Option<String>,
    /// What reading the line found worth saying: errors (no number, two numbers, two amounts) and
    /// warnings (words ignored, full-width digits).
    pub notes: Vec<FieldMessage>,
}

impl ChatLine {
    pub fn has_errors(&self) -> bool {
        self.notes.iter().any(|m| m.level == Level::Error)
    }
}

#[derive(Debug, PartialEq)]
enum Item {
    Num(String),
    /// A separator; `true` for a space or a dash (which may also sit inside a number: 138 1234 5678).
    Sep(bool),
    Word(String),
}

fn is_separator(c: char) -> bool {
    c.is_whitespace() || is_dash(c) || matches!(c, ',' | '，' | '、' | ':' | '：' | ';' | '；' | '.' | '。')
}

/// Currency words around an amount: not worth a warning.
fn is_currency(w: &str) -> bool {
    matches!(w.to_lowercase().as_str(), "¥" | "￥" | "元" | "块" | "rmb" | "yuan")
}

/// Splits a line into numbers, separators and words (after full-width → ASCII).
fn items(line: &str) -> (Vec<Item>, bool) {
    let mut out: Vec<Item> = Vec::new();
    let mut full_width = false;
    let chars: Vec<char> = line
        .chars()
        .filter(|c| !is_invisible(*c))
        .map(|c| {
            let h = if c == '\u{3000}' { ' ' } else { half_width(c) };
            full_width |= h != c && h.is_ascii_alphanumeric();
            h
        })
        .collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            let mut n = String::new();
            while i < chars.len() {
                let d = chars[i];
                let decimal_point =
                    d == '.' && !n.contains('.') && chars.get(i + 1).is_some_and(char::is_ascii_digit);
                if !(d.is_ascii_digit() || decimal_point) {
                    break;
                }
                n.push(d);
                i += 1;
            }
            out.push(Item::Num(n));
        } else if is_separator(c) {
            out.push(Item::Sep(c.is_whitespace() || is_dash(c)));
            i += 1;
        } else {
            let mut w = String::new();
            while i < chars.len() && !chars[i].is_ascii_digit() && !is_separator(chars[i]) {
                w.push(chars[i]);
                i += 1;
            }
            out.push(Item::Word(w));
        }
    }
    (out, full_width)
}

/// Indices of the numbers that make up a mobile number written in groups (`138 1234 5678`,
/// `138-12345678`, `1381234 5678`), joined only across spaces and dashes.
fn grouped_number(items: &[Item]) -> Option<Vec<usize>> {
    const GROUPS: [&[usize]; 3] = [&[3, 4, 4], &[3, 8], &[7, 4]];
    let nums: Vec<usize> = (0..items.len()).filter(|i| matches!(items[*i], Item::Num(_))).collect();
    for (k, &start) in nums.iter().enumerate() {
        'pattern: for groups in GROUPS {
            let mut used = Vec::new();
            for (g, len) in groups.iter().enumerate() {
                let Some(&at) = nums.get(k + g) else { continue 'pattern };
                let Item::Num(n) = &items[at] else { continue 'pattern };
                if n.len() != *len || n.contains('.') {
                    continue 'pattern;
                }
                if let Some(&prev) = used.last() {
                    // Only spaces and dashes in between.
                    if !items[prev + 1..at].iter().all(|it| *it == Item::Sep(true)) {
                        continue 'pattern;
                    }
                }
                used.push(at);
            }
            if matches!(&items[start], Item::Num(n) if n.starts_with('1')) {
                return Some(used);
            }
        }
    }
    None
}

/// Reads one line (`line` is its 1-based number).
pub fn read_line(line: u32, text: &str) -> ChatLine {
    let mut out = ChatLine { line, ..ChatLine::default() };
    let (items, full_width) = items(text);
    let err =
        |code, zh: String, en: String| FieldMessage::new(Level::Error, code, Some(Field::Account), zh, en);
    let words: Vec<&str> = items
        .iter()
        .filter_map(|i| match i {
            Item::Word(w) if !is_currency(w) => Some(w.as_str()),
            _ => None,
        })
        .collect();
    let num = |i: usize| match &items[i] {
        Item::Num(n) => n.as_str(),
        _ => "",
    };
    let numbers: Vec<usize> = (0..items.len()).filter(|i| matches!(items[*i], Item::Num(_))).collect();
    if numbers.is_empty() {
        out.empty = true;
        if !words.is_empty() {
            out.notes.push(FieldMessage::new(
                Level::Warning,
                "no_digits",
                None,
                format!("没有数字，已跳过：“{}”", text.trim()),
                format!("no digits, skipped: “{}”", text.trim()),
            ));
        }
        return out;
    }
    // The number: an 11-digit run starting with 1, else one written in groups.
    let whole: Vec<usize> =
        numbers.iter().copied().filter(|&i| num(i).len() == 11 && num(i).starts_with('1')).collect();
    let phone: Vec<usize> = match whole.len() {
        0 => grouped_number(&items).unwrap_or_default(),
        1 => whole.clone(),
        _ => {
            let found: Vec<&str> = whole.iter().map(|&i| num(i)).collect();
            out.notes.push(err(
                "two_numbers",
                format!("这一行有不止一个手机号（{}），请一行一单", found.join("、")),
                format!("more than one mobile number on this line ({}): one order a line", found.join(", ")),
            ));
            return out;
        }
    };
    let phone = if phone.is_empty() {
        // No mobile number: a long digit run is passed on, so that the check says what is wrong with it.
        let long: Vec<usize> =
            numbers.iter().copied().filter(|&i| num(i).len() >= 7 && !num(i).contains('.')).collect();
        if long.len() != 1 {
            out.notes.push(err(
                "no_phone",
                format!("这一行找不到手机号：“{}”", text.trim()),
                format!("no mobile number on this line: “{}”", text.trim()),
            ));
            return out;
        }
        long
    } else {
        phone
    };
    out.account = Some(phone.iter().map(|&i| num(i)).collect());
    let amounts: Vec<&str> = numbers.iter().filter(|i| !phone.contains(i)).map(|&i| num(i)).collect();
    match amounts.as_slice() {
        [] => {}
        [one] => out.face = Some((*one).to_owned()),
        many => {
            out.notes.push(FieldMessage::new(
                Level::Error,
                "two_amounts",
                Some(Field::Face),
                format!("这一行有不止一个金额（{}），无法判断面值", many.join("、")),
                format!(
                    "more than one amount on this line ({}): cannot tell the face value",
                    many.join(", ")
                ),
            ));
            return out;
        }
    }
    if !words.is_empty() {
        out.notes.push(FieldMessage::new(
            Level::Warning,
            "words_ignored",
            None,
            format!("已忽略：{}", words.join("、")),
            format!("ignored: {}", words.join(", ")),
        ));
    }
    if full_width {
        out.notes.push(FieldMessage::new(
            Level::Warning,
            "normalised",
            None,
            "全角字符已转为半角".into(),
            "full-width characters converted".into(),
        ));
    }
    out
}

/// Reads pasted text, one order a line.
pub fn parse(text: &str) -> Vec<ChatLine> {
    text.lines().enumerate().map(|(i, l)| read_line(u32::try_from(i + 1).unwrap_or(u32::MAX), l)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn read(text: &str) -> (Option<String>, Option<String>, Vec<&'static str>) {
        let l = read_line(1, text);
        (l.account, l.face, l.notes.iter().map(|m| m.code).collect())
    }

    fn ok(phone: &str, face: &str) -> (Option<String>, Option<String>) {
        (Some(phone.into()), Some(face.into()))
    }

    #[test]
    fn the_usual_ways_of_writing_an_order() {
        for (text, face) in [
            ("13812345678 100", "100"),
            ("13812345678\t100", "100"),
            ("13812345678,100", "100"),
            ("13812345678，100", "100"),
            ("13812345678、100", "100"),
            ("13812345678:100", "100"),
            ("13812345678：100", "100"),
            ("13812345678-100", "100"),
            ("100 13812345678", "100"),
            ("13812345678 49.9", "49.9"),
            ("13812345678 100元", "100"),
            ("13812345678 ￥100", "100"),
            ("138 1234 5678 100", "100"),
            ("138-1234-5678，50", "50"),
            ("1381234 5678 50", "50"),
        ] {
            let (a, f, notes) = read(text);
            assert_eq!((a, f), ok("13812345678", face), "{text}");
            assert!(notes.is_empty(), "{text}: {notes:?}");
        }
    }

    #[test]
    fn stray_words_and_full_width_digits_are_read_and_named() {
        let l = read_line(4, "张三 １３９１２３４５６７８：３０ 谢谢！");
        assert_eq!((l.line, l.account.as_deref(), l.face.as_deref()), (4, Some("13912345678"), Some("30")));
        let codes: Vec<_> = l.notes.iter().map(|m| (m.level, m.code)).collect();
        assert_eq!(codes, [(Level::Warning, "words_ignored"), (Level::Warning, "normalised")]);
        assert!(l.notes[0].zh.contains("张三") && l.notes[0].zh.contains("谢谢"), "{:?}", l.notes);
        assert_eq!(read("帮我充 13812345678 100 块，谢谢").0.as_deref(), Some("13812345678"));
    }

    #[test]
    fn never_a_guess() {
        assert_eq!(read("13812345678 13912345678 100").2, ["two_numbers"]);
        assert_eq!(read("13812345678 100 2").2, ["two_amounts"]);
        assert_eq!(read("老板 100").2, ["no_phone"]);
        // A long run that is not a mobile number goes on to the check, which names it.
        assert_eq!(read("1381234567 100"), (Some("1381234567".into()), Some("100".into()), vec![]));
        // No amount: the check reports the missing face value.
        assert_eq!(read("13812345678"), (Some("13812345678".into()), None, vec![]));
    }

    #[test]
    fn blank_lines_and_chatter_are_skipped() {
        let lines = parse("13812345678 100\n\n   \n好的老板\r\n13912345678 50\r\n");
        assert_eq!(lines.len(), 5);
        assert!(lines[1].empty && lines[1].notes.is_empty());
        assert!(lines[2].empty);
        assert!(lines[3].empty && lines[3].notes[0].code == "no_digits", "{:?}", lines[3]);
        assert_eq!((lines[4].line, lines[4].face.as_deref()), (5, Some("50")));
    }

    proptest! {
        /// A valid number and a whole amount, with any separators and words around them, read back.
        #[test]
        fn a_number_and_an_amount_in_any_wrapping(
            phone in "1[3-9][0-9]{9}",
            yuan in 1u32..1000,
            before in "[张三李四请充 ]{0,6}",
            sep in "[ \t,，、:：-]{1,3}",
            after in "[元块谢 ]{0,4}",
        ) {
            let l = read_line(1, &format!("{before}{phone}{sep}{yuan}{after}"));
            prop_assert!(!l.has_errors(), "{:?}", l.notes);
            prop_assert_eq!(l.account, Some(phone));
            prop_assert_eq!(l.face, Some(yuan.to_string()));
        }

        /// Any text: no panic; a number found is digits only.
        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let l = read_line(1, &s);
            if let Some(a) = l.account {
                prop_assert!(a.bytes().all(|b| b.is_ascii_digit()));
            }
        }
    }
}
