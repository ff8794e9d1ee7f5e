//! One spreadsheet row → one order ready to store, or the reasons it is not, naming row and column.
//!
//! Why so strict: a row imported wrongly charges a customer (or tops up a stranger's phone). A number
//! typed into Excel becomes a float; a number in a narrow column is shown as `1.38123E+10`; a copied
//! number carries full-width digits or a zero-width space. Each is converted only when the result is
//! exact (a whole number, the right length), and every conversion is reported as a warning so the user
//! sees what was changed. Money never passes through f64: a float cell is turned into its shortest
//! decimal text and parsed by [`Li::parse_yuan`], which is exact or an error. Finally the provider
//! client's own pure check runs on the order, so the importer never accepts what submit would refuse.

use super::columns::{ColumnRef, Field, Layout};
use super::read::Grid;
use calamine::Data;
use serde::Serialize;
use topup_core::{Li, ProductKind, ProviderId};
use topup_providers::{Carrier, Electricity, Grid as PowerGrid, SubmitRequest};

/// How serious a message is. Errors make the row invalid; warnings are shown and the row goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
}

/// One finding about one row (or about the file, when `column` and the row are absent).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct RowMessage {
    pub level: Level,
    /// Stable code for the UI (`not_a_phone`, `face_not_sold`, `duplicate_in_file`, …).
    pub code: &'static str,
    pub column: Option<ColumnRef>,
    pub zh: String,
    pub en: String,
}

impl RowMessage {
    pub fn new(level: Level, code: &'static str, column: Option<&ColumnRef>, zh: String, en: String) -> Self {
        RowMessage { level, code, column: column.cloned(), zh, en }
    }

    /// `第 5 行 B 列（手机号）：… / row 5, column B (手机号): …`
    pub fn describe(&self, row: Option<u32>) -> String {
        let (mut zh, mut en) = (String::new(), String::new());
        if let Some(r) = row {
            zh.push_str(&format!("第 {r} 行"));
            en.push_str(&format!("row {r}"));
        }
        if let Some(c) = &self.column {
            let h = c.header.as_deref().map(|h| format!("（{h}）")).unwrap_or_default();
            let he = c.header.as_deref().map(|h| format!(" ({h})")).unwrap_or_default();
            zh.push_str(&format!(" {} 列{h}", c.letter));
            en.push_str(&format!("{}column {}{he}", if row.is_some() { ", " } else { "" }, c.letter));
        }
        let sep = if zh.is_empty() { "" } else { "：" };
        let sep_en = if en.is_empty() { "" } else { ": " };
        if self.en.is_empty() {
            // The text is already bilingual (a provider's message).
            let prefix = if zh.is_empty() { String::new() } else { format!("{} / {en}：", zh.trim_start()) };
            format!("{prefix}{}", self.zh)
        } else {
            format!("{}{sep}{} / {en}{sep_en}{}", zh.trim_start(), self.zh, self.en)
        }
    }
}

/// A validated order, with its normalised values, ready to be stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct ImportedOrder {
    pub kind: ProductKind,
    pub account: String,
    pub face: Li,
    pub product_id: Option<String>,
    /// What goes into `orders.details`: `quantity`, `area`, `server`, `carrier`, `electricity`
    /// (the providers crate's [`Electricity`] as JSON).
    #[ts(type = "Record<string, unknown>")]
    pub details: serde_json::Value,
    pub note: Option<String>,
    /// Estimated cost at the provider's price (see `preview::ESTIMATED_PRICE_PERMILLE`).
    pub estimated_cost: Li,
}

/// What validation says about a row.
#[derive(Debug, Default)]
pub struct RowOutcome {
    pub empty: bool,
    pub messages: Vec<RowMessage>,
    pub order: Option<ImportedOrder>,
}

impl RowOutcome {
    pub fn has_errors(&self) -> bool {
        self.messages.iter().any(|m| m.level == Level::Error)
    }
}

/// What validation needs to know besides the row.
pub struct Rules<'a> {
    pub provider: ProviderId,
    pub default_kind: ProductKind,
    pub layout: &'a Layout,
}

fn is_blank(d: &Data) -> bool {
    match d {
        Data::Empty => true,
        Data::String(s) => s.chars().all(|c| c.is_whitespace() || is_invisible(c)),
        _ => false,
    }
}

fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{FEFF}' | '\u{2060}' | '\u{00AD}' | '\u{202A}'..='\u{202E}')
}

/// Characters removed from number-like fields, and what the warning calls them.
fn strip_class(c: char) -> Option<(&'static str, &'static str)> {
    if is_invisible(c) {
        Some(("不可见字符", "invisible characters"))
    } else if c == '\u{00A0}' || c == '\u{3000}' || c.is_whitespace() {
        Some(("空格", "spaces"))
    } else if matches!(c, '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FF0D}' | '\u{FE63}') {
        Some(("短横线", "dashes"))
    } else {
        None
    }
}

/// Full-width ASCII (`１３８`, `Ｘ`) to ASCII.
fn half_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        c => c,
    }
}

/// Normalises a number-like text: full-width to ASCII, spaces/dashes/invisible characters removed.
/// Returns the text and the warning describing what changed (None when nothing did).
fn normalise_number_text(raw: &str, strip_dashes: bool) -> (String, Option<(String, String)>) {
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
enum Digits {
    /// Digits only (phone numbers).
    Only,
    /// Digits, possibly with letters (户号, ID cards ending in X).
    Alnum,
}

/// Reads a number-like cell exactly: whole floats and scientific texts are converted (warned),
/// anything inexact is an error.
fn number_like(
    cell: &Data,
    col: &ColumnRef,
    what: (&str, &str),
    digits: Digits,
    msgs: &mut Vec<RowMessage>,
) -> Option<String> {
    let err = |code, zh: String, en: String| RowMessage::new(Level::Error, code, Some(col), zh, en);
    let warn = |code, zh: String, en: String| RowMessage::new(Level::Warning, code, Some(col), zh, en);
    match cell {
        Data::Int(i) if *i >= 0 => {
            msgs.push(warn(
                "number_converted",
                format!("{}以数字存储，已转为文本 {i}", what.0),
                format!("{} was stored as a number, read as {i}", what.1),
            ));
            Some(i.to_string())
        }
        Data::Float(f) => {
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
        Data::String(s) => {
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

/// Plain text of a free-text cell (note, product id, area): trimmed, invisible characters removed.
fn plain_text(cell: &Data) -> Option<String> {
    let s = match cell {
        Data::Empty => return None,
        Data::String(s) => s.chars().filter(|c| !is_invisible(*c)).collect::<String>(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => (*f as i64).to_string(),
        other => other.to_string(),
    };
    let t = s.trim().to_owned();
    (!t.is_empty()).then_some(t)
}

fn is_phone(s: &str) -> bool {
    s.len() == 11 && s.starts_with('1') && s.bytes().all(|b| b.is_ascii_digit())
}

/// A face value cell as exact money.
fn face_value(cell: &Data, col: &ColumnRef, msgs: &mut Vec<RowMessage>) -> Option<Li> {
    let err = |code, zh: String, en: String| RowMessage::new(Level::Error, code, Some(col), zh, en);
    let parsed = match cell {
        Data::Int(i) => Li::from_yuan(1).checked_mul(*i).ok_or_else(|| i.to_string()),
        Data::Float(f) if f.is_finite() => {
            // Shortest text that reads back as the same float: what the user typed (`10.5`, `0.1`).
            let text = format!("{f}");
            Li::parse_yuan(&text).map_err(|_| text)
        }
        Data::String(s) => {
            // Dashes stay: a minus sign must not vanish from an amount.
            let (t, _) = normalise_number_text(s, false);
            let t = t.replace(['\u{2212}', '\u{FF0D}'], "-");
            let t =
                t.trim_start_matches(['¥', '￥']).trim_end_matches('元').trim_end_matches("RMB").to_owned();
            Li::parse_yuan(&t).map_err(|_| s.trim().to_owned())
        }
        other => Err(other.to_string()),
    };
    match parsed {
        Ok(v) if v > Li::ZERO => Some(v),
        Ok(v) => {
            msgs.push(err(
                "face_not_positive",
                format!("面值 {v} 必须大于 0"),
                format!("face value {v} must be positive"),
            ));
            None
        }
        Err(text) => {
            msgs.push(err(
                "face_not_money",
                format!("面值“{text}”不是准确的金额（最多三位小数）"),
                format!("face value “{text}” is not an exact amount (at most three decimals)"),
            ));
            None
        }
    }
}

fn parse_kind(s: &str) -> Option<ProductKind> {
    let t = s.trim().to_lowercase();
    Some(match t.as_str() {
        "话费" | "手机" | "话费充值" | "手机话费" | "phone" | "mobile" => ProductKind::Phone,
        "电费" | "电费充值" | "electricity" | "power" => ProductKind::Electricity,
        "游戏" | "游戏充值" | "game" => ProductKind::Game,
        "抖音" | "抖币" | "抖音币" | "douyin" => ProductKind::Douyin,
        _ => return t.parse().ok(),
    })
}

fn parse_grid(s: &str) -> Option<PowerGrid> {
    let t = s.trim().to_lowercase();
    match t.as_str() {
        "国网" | "国家电网" | "国家" | "国家电网公司" | "state" | "stategrid" | "sgcc" => {
            Some(PowerGrid::State)
        }
        "南网" | "南方电网" | "南方" | "南方电网公司" | "south" | "southerngrid" | "csg" => {
            Some(PowerGrid::South)
        }
        _ => None,
    }
}

fn parse_carrier(s: &str) -> Option<Carrier> {
    let t = s.trim().to_lowercase();
    match t.as_str() {
        "移动" | "中国移动" | "mobile" | "cmcc" | "1" => Some(Carrier::Mobile),
        "联通" | "中国联通" | "unicom" | "cucc" | "2" => Some(Carrier::Unicom),
        "电信" | "中国电信" | "telecom" | "ctcc" | "3" => Some(Carrier::Telecom),
        _ => None,
    }
}

/// GB 11643 check digit of an 18-character ID card number.
fn id_card_checksum_ok(id: &str) -> bool {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let b = id.as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = b[..17].iter().zip(W).map(|(d, w)| u32::from(d - b'0') * w).sum();
    CHECK[(sum % 11) as usize] == b[17].to_ascii_uppercase()
}

/// Whether the provider sells this kind by whole yuan (so a fractional face is an error).
fn needs_whole_yuan(provider: ProviderId, kind: ProductKind, has_product: bool) -> bool {
    match provider {
        ProviderId::Juhe => true,
        ProviderId::Oper => false,
        ProviderId::Dingyin => match kind {
            ProductKind::Game => false,
            ProductKind::Phone => !has_product,
            ProductKind::Electricity | ProductKind::Douyin => true,
        },
    }
}

/// Validates row `i` of the grid.
pub fn validate_row(grid: &Grid, i: usize, rules: &Rules<'_>) -> RowOutcome {
    let layout = rules.layout;
    let row = &grid.cells[i];
    if row.iter().all(is_blank) {
        return RowOutcome { empty: true, ..RowOutcome::default() };
    }
    let mut msgs: Vec<RowMessage> = Vec::new();
    let cell = |f: Field| layout.column(f).map(|c| (grid.get(i, c.index), c));
    let abs_row = grid.row0 + i as u32;
    for (_, c) in &layout.columns {
        if grid.merged_filled.contains(&(abs_row, c.index)) {
            msgs.push(RowMessage::new(
                Level::Warning,
                "merged_cell",
                Some(c),
                "合并单元格，取其左上角的值".into(),
                "merged cell: the value of its top-left cell is used".into(),
            ));
        }
    }
    let text_of = |f: Field| cell(f).and_then(|(d, _)| plain_text(d));
    let missing = |f: Field, msgs: &mut Vec<RowMessage>, zh: &str, en: &str| {
        msgs.push(RowMessage::new(
            Level::Error,
            "missing_value",
            layout.column(f),
            format!("缺少{}{zh}", f.label_zh()),
            format!("{} is missing{en}", f.as_str()),
        ));
    };

    // Kind: a column, else the caller's choice (or electricity when the sheet has a grid column).
    let mut kind = rules.default_kind;
    if let Some((d, c)) = cell(Field::Kind) {
        if let Some(t) = plain_text(d) {
            match parse_kind(&t) {
                Some(k) => kind = k,
                None => msgs.push(RowMessage::new(
                    Level::Error,
                    "bad_kind",
                    Some(c),
                    format!("无法识别的类型“{t}”（话费/电费/游戏/抖币）"),
                    format!("unknown kind “{t}” (phone/electricity/game/douyin)"),
                )),
            }
        }
    }
    if !rules.provider.sells(kind) {
        msgs.push(RowMessage::new(
            Level::Error,
            "kind_not_sold",
            layout.column(Field::Kind),
            format!("{}不卖{}", rules.provider.label_zh(), kind.label_zh()),
            format!("{} does not sell {}", rules.provider, kind),
        ));
    }

    // Account.
    let (acc_cell, acc_col) = cell(Field::Account).expect("layout always has an account column");
    let account = match kind {
        ProductKind::Phone => {
            let v = number_like(acc_cell, acc_col, ("手机号", "phone number"), Digits::Only, &mut msgs);
            match v {
                Some(p) if p.is_empty() => {
                    missing(Field::Account, &mut msgs, "", "");
                    None
                }
                Some(p) if !is_phone(&p) => {
                    msgs.push(RowMessage::new(
                        Level::Error,
                        "not_a_phone",
                        Some(acc_col),
                        format!("“{p}”不是 11 位、以 1 开头的手机号（{} 位）", p.len()),
                        format!(
                            "“{p}” is not an 11-digit mobile number starting with 1 ({} digits)",
                            p.len()
                        ),
                    ));
                    None
                }
                v => v,
            }
        }
        ProductKind::Electricity => {
            match number_like(acc_cell, acc_col, ("户号", "account number"), Digits::Alnum, &mut msgs) {
                Some(a) if a.is_empty() => {
                    missing(Field::Account, &mut msgs, "（户号）", " (account number)");
                    None
                }
                v => v,
            }
        }
        ProductKind::Game | ProductKind::Douyin => {
            let v = match acc_cell {
                Data::Float(_) | Data::Int(_) => {
                    number_like(acc_cell, acc_col, ("账号", "account"), Digits::Only, &mut msgs)
                }
                _ => plain_text(acc_cell).map(|s| s.chars().map(half_width).collect()),
            };
            if v.as_deref().is_none_or(str::is_empty) && !msgs.iter().any(|m| m.level == Level::Error) {
                missing(Field::Account, &mut msgs, "", "");
            }
            v.filter(|s: &String| !s.is_empty())
        }
    };

    // Face value.
    let (face_cell, face_col) = cell(Field::Face).expect("layout always has a face column");
    let face = if is_blank(face_cell) {
        missing(Field::Face, &mut msgs, "", "");
        None
    } else {
        face_value(face_cell, face_col, &mut msgs)
    };
    let product_id = text_of(Field::Product);
    if let Some(face) = face {
        if needs_whole_yuan(rules.provider, kind, product_id.is_some()) && face.whole_yuan().is_none() {
            msgs.push(RowMessage::new(
                Level::Error,
                "face_not_whole",
                Some(face_col),
                format!(
                    "面值 {face} 元不是整数元，{}的{}只能按整元充值",
                    rules.provider.label_zh(),
                    kind.label_zh()
                ),
                format!(
                    "face value {face} is not a whole number of yuan, which {} requires for {kind}",
                    rules.provider
                ),
            ));
        } else if rules.provider == ProviderId::Juhe {
            let sold = topup_providers::juhe::table::FACE_VALUES;
            if !face.whole_yuan().is_some_and(|y| sold.contains(&y)) {
                msgs.push(RowMessage::new(
                    Level::Error,
                    "face_not_sold",
                    Some(face_col),
                    format!("聚合不卖面值 {face} 元（只有 1/2/5/10/20/30/50/100/300）"),
                    format!("juhe does not sell a face value of {face} (only 1/2/5/10/20/30/50/100/300)"),
                ));
            }
        } else if rules.provider == ProviderId::Oper && face.to_fen().is_err() {
            msgs.push(RowMessage::new(
                Level::Error,
                "face_not_fen",
                Some(face_col),
                format!("面值 {face} 不是整分"),
                format!("face value {face} is not a whole number of fen"),
            ));
        }
    }

    // Details per kind.
    let mut details = serde_json::Map::new();
    let mut quantity: u32 = 1;
    if let Some((d, c)) = cell(Field::Quantity) {
        if !is_blank(d) {
            match number_like(d, c, ("数量", "quantity"), Digits::Only, &mut Vec::new())
                .and_then(|q| q.parse().ok())
            {
                Some(q) if q > 0 => quantity = q,
                _ => msgs.push(RowMessage::new(
                    Level::Error,
                    "bad_quantity",
                    Some(c),
                    "数量须为正整数".into(),
                    "quantity must be a positive whole number".into(),
                )),
            }
        }
    }
    let mut carrier = None;
    if let Some((d, c)) = cell(Field::Carrier) {
        if let Some(t) = plain_text(d) {
            match parse_carrier(&t) {
                Some(k) => carrier = Some(k),
                None => msgs.push(RowMessage::new(
                    Level::Error,
                    "bad_carrier",
                    Some(c),
                    format!("无法识别的运营商“{t}”（移动/联通/电信）"),
                    format!("unknown carrier “{t}” (mobile/unicom/telecom)"),
                )),
            }
        }
    }
    let area = text_of(Field::Area);
    let server = text_of(Field::Server);
    let mut electricity = None;
    match kind {
        ProductKind::Game => {
            if product_id.is_none() && rules.provider == ProviderId::Dingyin {
                missing(Field::Product, &mut msgs, "（游戏须填写商品编号）", " (games need a product id)");
            }
            details.insert("quantity".into(), quantity.into());
        }
        ProductKind::Electricity => {
            let grid_kind = match cell(Field::Grid) {
                Some((d, c)) => match plain_text(d) {
                    Some(t) => {
                        let g = parse_grid(&t);
                        if g.is_none() {
                            msgs.push(RowMessage::new(
                                Level::Error,
                                "bad_grid",
                                Some(c),
                                format!("无法识别的电网“{t}”（国网/南网）"),
                                format!("unknown grid “{t}” (State Grid 国网 / Southern Grid 南网)"),
                            ));
                        }
                        g
                    }
                    None => {
                        missing(Field::Grid, &mut msgs, "（国网/南网）", " (国网 State / 南网 South)");
                        None
                    }
                },
                None => {
                    missing(Field::Grid, &mut msgs, "（表中没有电网列）", " (the sheet has no grid column)");
                    None
                }
            };
            let mut mobile = None;
            let mut id_card = None;
            match grid_kind {
                Some(PowerGrid::State) => match cell(Field::PayerMobile) {
                    Some((d, c)) if !is_blank(d) => {
                        match number_like(d, c, ("缴费手机号", "payer mobile"), Digits::Only, &mut msgs)
                        {
                            Some(m) if is_phone(&m) => mobile = Some(m),
                            Some(m) => msgs.push(RowMessage::new(
                                Level::Error,
                                "not_a_phone",
                                Some(c),
                                format!("缴费手机号“{m}”不是 11 位手机号"),
                                format!("payer mobile “{m}” is not an 11-digit mobile number"),
                            )),
                            None => {}
                        }
                    }
                    _ => missing(
                        Field::PayerMobile,
                        &mut msgs,
                        "（国网电费须填写缴费人手机号）",
                        " (State Grid needs the payer's mobile)",
                    ),
                },
                Some(PowerGrid::South) => match cell(Field::IdCard) {
                    Some((d, c)) if !is_blank(d) => {
                        if let Some(id) =
                            number_like(d, c, ("身份证号", "ID card number"), Digits::Alnum, &mut msgs)
                        {
                            let id = id.to_uppercase();
                            let shape_ok = (id.len() == 18
                                && id[..17].bytes().all(|b| b.is_ascii_digit())
                                && (id.as_bytes()[17].is_ascii_digit() || id.ends_with('X')))
                                || (id.len() == 15 && id.bytes().all(|b| b.is_ascii_digit()));
                            if !shape_ok {
                                msgs.push(RowMessage::new(
                                    Level::Error,
                                    "bad_id_card",
                                    Some(c),
                                    format!("身份证号“{id}”应为 18 位（或旧的 15 位）"),
                                    format!("ID card number “{id}” must have 18 characters (or the old 15 digits)"),
                                ));
                            } else {
                                if id.len() == 18 && !id_card_checksum_ok(&id) {
                                    msgs.push(RowMessage::new(
                                        Level::Warning,
                                        "id_card_checksum",
                                        Some(c),
                                        "身份证号校验位不符，请核对".into(),
                                        "the ID card number's check digit does not match: check it".into(),
                                    ));
                                }
                                id_card = Some(id);
                            }
                        }
                    }
                    _ => missing(
                        Field::IdCard,
                        &mut msgs,
                        "（南网电费须填写身份证号）",
                        " (Southern Grid needs the ID card number)",
                    ),
                },
                None => {}
            }
            if let Some(grid) = grid_kind {
                electricity = Some(Electricity {
                    grid,
                    mobile,
                    id_card,
                    account_type: text_of(Field::AccountType),
                    province: text_of(Field::Province),
                    city: text_of(Field::City),
                });
            }
        }
        ProductKind::Phone | ProductKind::Douyin => {
            if product_id.is_some() && quantity != 1 {
                details.insert("quantity".into(), quantity.into());
            }
        }
    }
    if let Some(a) = &area {
        details.insert("area".into(), a.clone().into());
    }
    if let Some(s) = &server {
        details.insert("server".into(), s.clone().into());
    }
    if let Some(c) = carrier {
        details.insert("carrier".into(), serde_json::to_value(c).unwrap_or_default());
    }
    if let Some(e) = &electricity {
        details.insert("electricity".into(), serde_json::to_value(e).unwrap_or_default());
    }

    let mut outcome = RowOutcome { empty: false, messages: msgs, order: None };
    let (Some(account), Some(face)) = (account, face) else { return outcome };
    if outcome.has_errors() {
        return outcome;
    }
    // The provider client's own pure check: what submit would refuse is refused here.
    let request = SubmitRequest {
        merchant_order_id: "TD000000000000CHECKING".into(),
        kind,
        account: account.clone(),
        face,
        product_id: product_id.clone(),
        quantity,
        area,
        server,
        electricity,
        carrier,
        order_time: "20250101000000".into(),
        notify_url: None,
        attempt: 1,
    };
    let checked = match rules.provider {
        ProviderId::Juhe => topup_providers::juhe::request::check_order(&request).map(drop),
        ProviderId::Oper => {
            topup_providers::oper::request::order_fields("0", "http://127.0.0.1/", &request).map(drop)
        }
        ProviderId::Dingyin => topup_providers::dingyin::request::submit_params("0", &request).map(drop),
    };
    if let Err(e) = checked {
        outcome.messages.push(RowMessage::new(
            Level::Error,
            "provider_refuses",
            None,
            e.to_string(),
            String::new(),
        ));
        return outcome;
    }
    outcome.order = Some(ImportedOrder {
        kind,
        account,
        face,
        product_id,
        details: serde_json::Value::Object(details),
        note: text_of(Field::Note),
        estimated_cost: super::preview::estimated_cost(rules.provider, face),
    });
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn id_card_check_digit() {
        assert!(id_card_checksum_ok("11010519491231002X"));
        assert!(!id_card_checksum_ok("110105194912310021"));
    }
}
