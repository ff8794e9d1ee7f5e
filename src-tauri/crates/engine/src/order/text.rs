//! Reading a raw value exactly: number-like text (phone, 户号, ID card), amounts, free text.
//!
//! Why so strict: a value read wrongly charges a customer (or tops up a stranger's phone). A number
//! typed into Excel becomes a float; a number in a narrow column is shown as `1.38123E+10`; a copied
//! number carries full-width digits or a zero-width space. Each is converted only when the result is
//! exact (a whole number, the right length), and every conversion is reported as a warning so the user
//! sees what was changed. Money never passes through f64: a float cell is turned into its shortest
//! decimal text and parsed by [`Li::parse_yuan`], which is exact or an error. The same reading applies
//! to every front end: text typed in the form is a [`Cell::Text`] like a spreadsheet's text cell.

use super::{Cell, FieldMessage, Level};
use crate::import::Field;
use topup_core::Li;

pub(crate) fn is_blank(c: &Cell<'_>) -> bool {
    match c {
        Cell::Empty => true,
        Cell::Text(s) => s.chars().all(|c| c.is_whitespace() || is_invisible(c)),
        _ => false,
    }
}

pub(crate) fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{FEFF}' | '\u{2060}' | '\u{00AD}' | '\u{202A}'..='\u{202E}')
}

/// Characters removed from number-like fields, and what the warning calls them.
fn strip_class(c: char) -> Option<(&'static str, &'static str)> {
    if is_invisible(c) {
        Some(("不可见字符", "invisible characters"))
    } else if c == '\u{00A0}' || c == '\u{3000}' || c.is_whitespace() {
        Some(("空格", "spaces"))
    } else if is_dash(c) {
        Some(("短横线", "dashes"))
    } else {
        None
    }
}

pub(crate) fn is_dash(c: char) -> bool {
    matches!(c, '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FF0D}' | '\u{FE63}')
}

/// Full-width ASCII (`１３８`, `Ｘ`) to ASCII.
pub(crate) fn half_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        c => c,
    }
}

/// Normalises a number-like text: full-width to ASCII, spaces/dashes/invisible characters removed.
/// Returns the text and the warning describing what changed (None when nothing did).
pub(crate) fn normalise_number_text(raw: &str, strip_dashes: bool) -> (String, Option<(String, String)>) {
    let mut out = String::with_capacity(raw.len());
    let (mut full_width, mut removed_zh, mut removed_en) = (false, Vec::new(), Vec::new());
    for c in raw.chars() {
        if let Some((zh, en)) = strip_class(c).filter(|(zh, _)| strip_dashes || *zh != "短横线") {
            if !removed_zh.contains(&zh) {
                removed_zh.push(zh);
                removed_en.push(en);
            }
            continue;
        }
        let h = half_width(c);
        full_width |= h != c;
        out.push(h);
    }
    // Surrounding ASCII spaces are not worth a warning: everyone types them.
    let only_edges = raw.trim() == out && !full_width;
    if (removed_zh.is_empty() && !full_width) || only_edges {
        return (out, None);
    }
    let mut zh = Vec::new();
    let mut en = Vec::new();
    if full_width {
        zh.push("全角字符已转为半角".to_owned());
        en.push("full-width characters converted".to_owned());
    }
    if !removed_zh.is_empty() {
        zh.push(format!("已去除{}", removed_zh.join("、")));
        en.push(format!("removed {}", removed_en.join(", ")));
    }
    let zh = format!("“{}”→“{out}”：{}", raw.trim(), zh.join("，"));
    let en = format!("“{}” → “{out}”: {}", raw.trim(), en.join("; "));
    (out, Some((zh, en)))
}

/// How many significant digits the mantissa of a scientific text carries (`1.38123E+10` → 6).
fn significant_digits(t: &str) -> usize {
    let mantissa = t.split(['e', 'E']).next().unwrap_or("");
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    digits.trim_start_matches('0').len()
}

/// A decimal or scientific text (`13812345678.0`, `1.38123E+10`) as integer digits when it is a whole
/// number. `None`: not such a text; `Some(Err)`: a number but not whole.
fn whole_number_digits(t: &str) -> Option<Result<String, ()>> {
    let (mantissa, exp) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let exp: i32 = match exp {
        Some(e) => {
            let e = e.strip_prefix('+').unwrap_or(e);
            if e.is_empty() || e.len() > 3 || !e.trim_start_matches('-').bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            e.parse().ok()?
        }
        None => 0,
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    if exp == 0 && frac.is_empty() {
        return Some(Ok(int.to_owned()));
    }
    let digits = format!("{int}{frac}");
    let point = int.len() as i64 + i64::from(exp);
    if point <= 0 {
        return Some(if digits.bytes().all(|b| b == b'0') { Ok("0".into()) } else { Err(()) });
    }
    let point = point as usize;
    let whole = if point >= digits.len() {
        format!("{digits}{}", "0".repeat(point - digits.len()))
    } else {
        if !digits[point..].bytes().all(|b| b == b'0') {
            return Some(Err(()));
        }
        digits[..point].to_owned()
    };
    // An exponent means the writer treated it as a number: leading zeros carry nothing.
    Some(Ok(if exp != 0 { whole.trim_start_matches('0').to_owned() } else { whole }))
}

/// How a number-like field (phone, 户号, ID card) may be read.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Digits {
    /// Digits only (phone numbers).
    Only,
    /// Digits, possibly with letters (户号, ID cards ending in X).
    Alnum,
}

/// Reads a number-like value exactly: whole floats and scientific texts are converted (warned),
/// anything inexact is an error. `what`: the value's name in Chinese and English.
pub(crate) fn number_like(
    cell: &Cell<'_>,
    field: Field,
    what: (&str, &str),
    digits: Digits,
    msgs: &mut Vec<FieldMessage>,
) -> Option<String> {
    let err = |code, zh: String, en: String| FieldMessage::new(Level::Error, code, Some(field), zh, en);
    let warn = |code, zh: String, en: String| FieldMessage::new(Level::Warning, code, Some(field), zh, en);
    match cell {
        Cell::Empty => Some(String::new()),
        Cell::Int(i) if *i >= 0 => {
            msgs.push(warn(
                "number_converted",
                format!("{}以数字存储，已转为文本 {i}", what.0),
                format!("{} was stored as a number, read as {i}", what.1),
            ));
            Some(i.to_string())
        }
        Cell::Float(f) => {
            // Whole and below 2^53: the float holds the number exactly.
            if f.is_finite() && *f >= 0.0 && f.fract() == 0.0 && *f < 9_007_199_254_740_992.0 {
                let n = *f as i64;
                msgs.push(warn(
                    "number_converted",
                    format!("{}以数字存储（{f:?}），已转为文本 {n}；请把该列设为文本格式", what.0),
                    format!(
                        "{} was stored as a number ({f:?}), read as {n}; format the column as text",
                        what.1
                    ),
                ));
                Some(n.to_string())
            } else {
                msgs.push(err(
                    "number_inexact",
                    format!("{}以数字存储（{f}），不是准确的整数，可能已丢失位数；请把该列设为文本后重新填写", what.0),
                    format!("{} was stored as a number ({f}) that is not an exact whole number (digits may be lost); format the column as text and re-enter it", what.1),
                ));
                None
            }
        }
        Cell::Text(s) => {
            let (t, changed) = normalise_number_text(s, true);
            if let Some((zh, en)) = changed {
                msgs.push(warn("normalised", format!("{}{zh}", what.0), format!("{}: {en}", what.1)));
            }
            if t.is_empty() {
                return Some(t);
            }
            let is_plain = t.bytes().all(|b| b.is_ascii_digit())
                || (digits == Digits::Alnum
                    && t.bytes().all(|b| b.is_ascii_alphanumeric())
                    && !t.contains(['e', 'E']));
            if is_plain {
                return Some(t);
            }
            match whole_number_digits(&t) {
                Some(Ok(n)) if t.contains(['e', 'E']) && significant_digits(&t) < n.len() => {
                    // `1.38123E+10` is what Excel *shows* for 13812345678 in a narrow column: the
                    // digits after the sixth are gone, and a top-up to a guessed number cannot be undone.
                    msgs.push(err(
                        "scientific_truncated",
                        format!("{}“{t}”是科学计数法，只剩 {} 位有效数字，号码已不完整：请把该列设为文本后重新导出", what.0, significant_digits(&t)),
                        format!("{} “{t}” is in scientific notation with only {} significant digits: the number is incomplete; format the column as text and export again", what.1, significant_digits(&t)),
                    ));
                    None
                }
                Some(Ok(n)) => {
                    let scientific = t.contains(['e', 'E']);
                    let (zh, en) = if scientific {
                        (
                            format!("{}“{t}”是科学计数法，已换算为 {n}；科学计数法常常只显示前几位，请核对号码是否完整", what.0),
                            format!("{} “{t}” is in scientific notation, read as {n}; such values are often truncated — check that the number is complete", what.1),
                        )
                    } else {
                        (format!("{}“{t}”已换算为 {n}", what.0), format!("{} “{t}” read as {n}", what.1))
                    };
                    msgs.push(warn(
                        if scientific { "scientific_converted" } else { "number_converted" },
                        zh,
                        en,
                    ));
                    Some(n)
                }
                Some(Err(())) => {
                    msgs.push(err(
                        "not_whole",
                        format!("{}“{t}”不是整数", what.0),
                        format!("{} “{t}” is not a whole number", what.1),
                    ));
                    None
                }
                None if digits == Digits::Alnum => {
                    msgs.push(err(
                        "bad_characters",
                        format!("{}“{t}”含有不允许的字符", what.0),
                        format!("{} “{t}” has characters that are not allowed", what.1),
                    ));
                    None
                }
                None => {
                    msgs.push(err(
                        "not_digits",
                        format!("{}“{t}”不是数字", what.0),
                        format!("{} “{t}” is not a number", what.1),
                    ));
                    None
                }
            }
        }
        other => {
            msgs.push(err(
                "wrong_cell_type",
                format!("{}单元格的内容“{other}”不是号码（日期、公式错误或逻辑值）", what.0),
                format!("{} cell “{other}” is not a number (a date, a formula error or a boolean)", what.1),
            ));
            None
        }
    }
}

/// Plain text of a free-text value (note, product id, area): trimmed, invisible characters removed.
pub(crate) fn plain_text(cell: &Cell<'_>) -> Option<String> {
    let s = match cell {
        Cell::Empty => return None,
        Cell::Text(s) => s.chars().filter(|c| !is_invisible(*c)).collect::<String>(),
        Cell::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => (*f as i64).to_string(),
        other => other.to_string(),
    };
    let t = s.trim().to_owned();
    (!t.is_empty()).then_some(t)
}

/// A face value as exact money (`50`, `49.9`, `￥100元`), or the message why not. Whether the
/// amount can be sold (more than zero, whole yuan, one of a provider's face values) is
/// `topup_providers::rules::face`'s question.
pub(crate) fn face_value(cell: &Cell<'_>, msgs: &mut Vec<FieldMessage>) -> Option<Li> {
    money_value(cell, Field::Face, ("面值", "face value"), "face_not_money", msgs)
}

/// An amount of money in `field` (a face value, a sale price) read exactly ([`yuan_amount`]), or the
/// message why not (`code`, naming the field as `name` in Chinese and English).
pub(crate) fn money_value(
    cell: &Cell<'_>,
    field: Field,
    name: (&str, &str),
    code: &'static str,
    msgs: &mut Vec<FieldMessage>,
) -> Option<Li> {
    match yuan_amount(cell) {
        Ok(v) => Some(v),
        Err(text) => {
            msgs.push(FieldMessage::new(
                Level::Error,
                code,
                Some(field),
                format!("{}“{text}”不是准确的金额（最多三位小数）", name.0),
                format!("{} “{text}” is not an exact amount (at most three decimals)", name.1),
            ));
            None
        }
    }
}

/// An amount in yuan as exact money (`50`, `49.9`, `￥100元`, `-1.065`), or the text that is not one.
/// The one reading of a money cell: face values, sale prices, and the amounts of a provider's statement.
pub(crate) fn yuan_amount(cell: &Cell<'_>) -> Result<Li, String> {
    match cell {
        Cell::Int(i) => Li::from_yuan(1).checked_mul(*i).ok_or_else(|| i.to_string()),
        Cell::Float(f) if f.is_finite() => {
            // Shortest text that reads back as the same float: what the user typed (`10.5`, `0.1`).
            let text = format!("{f}");
            Li::parse_yuan(&text).map_err(|_| text)
        }
        Cell::Text(s) => {
            // Dashes stay: a minus sign must not vanish from an amount.
            let (t, _) = normalise_number_text(s, false);
            let t = t.replace(['\u{2212}', '\u{FF0D}'], "-");
            let t =
                t.trim_start_matches(['¥', '￥']).trim_end_matches('元').trim_end_matches("RMB").to_owned();
            Li::parse_yuan(&t).map_err(|_| s.trim().to_owned())
        }
        other => Err(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn whole_numbers_from_decimal_and_scientific_text() {
        assert_eq!(whole_number_digits("13812345678.0"), Some(Ok("13812345678".into())));
        assert_eq!(whole_number_digits("1.38123E+10"), Some(Ok("13812300000".into())));
        assert_eq!(whole_number_digits("1.3812345678e10"), Some(Ok("13812345678".into())));
        assert_eq!(whole_number_digits("1.38123456789E+10"), Some(Err(())));
        assert_eq!(whole_number_digits("13812345678.5"), Some(Err(())));
        assert_eq!(whole_number_digits("abc"), None);
        assert_eq!(whole_number_digits("1e"), None);
    }

    #[test]
    fn normalises_and_reports() {
        let (t, w) = normalise_number_text("１３８ 1234-5678\u{200B}", true);
        assert_eq!(t, "13812345678");
        let (zh, en) = w.unwrap();
        assert!(
            zh.contains("全角") && zh.contains("空格") && zh.contains("短横线") && zh.contains("不可见"),
            "{zh}"
        );
        assert!(en.contains("full-width"), "{en}");
        assert_eq!(normalise_number_text(" 13812345678 ", true).1, None);
    }

    #[test]
    fn amounts_typed_in_every_usual_way() {
        let face = |s: &str| face_value(&Cell::Text(s), &mut Vec::new());
        assert_eq!(face("50"), Some(Li::from_yuan(50)));
        assert_eq!(face(" ￥１００元 "), Some(Li::from_yuan(100)));
        assert_eq!(face("49.9"), Some(Li(49_900)));
        assert_eq!(face("-10"), Some(Li::from_yuan(-10)), "read exactly; the sign is the face rule's");
        for bad in ["5O", "1.0005", "", "1e2", "１０元整"] {
            let mut msgs = Vec::new();
            assert_eq!(face_value(&Cell::Text(bad), &mut msgs), None, "{bad}");
            assert_eq!(msgs.len(), 1, "{bad}: {msgs:?}");
            assert_eq!(msgs[0].field, Some(Field::Face));
        }
    }

    proptest! {
        /// Any whole amount of 厘 written as yuan text reads back exactly, with or without ¥ and 元.
        #[test]
        fn an_amount_reads_back_exactly(li in 1i64..1_000_000_000_000, yen in any::<bool>(), yuan in any::<bool>()) {
            let text = format!("{}{}{}", if yen { "¥" } else { "" }, Li(li), if yuan { "元" } else { "" });
            prop_assert_eq!(face_value(&Cell::Text(&text), &mut Vec::new()), Some(Li(li)));
        }

        /// Whatever the text, a number-like read never panics and, when it answers, answers digits.
        #[test]
        fn number_like_answers_only_digits(s in "\\PC{0,20}") {
            let mut msgs = Vec::new();
            if let Some(t) = number_like(&Cell::Text(&s), Field::Account, ("手机号", "phone"), Digits::Only, &mut msgs) {
                prop_assert!(t.bytes().all(|b| b.is_ascii_digit()), "{t:?}");
            }
        }
    }
}
