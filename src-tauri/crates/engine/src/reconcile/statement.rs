//! A provider's statement of account (对账单: xlsx, xls, ods or csv) read into rows to compare.
//!
//! Why through the import's reader and column mapping: statements come from the same places as order
//! files (a provider's back office, forwarded through WeChat, renamed, saved by Excel as GBK csv), so
//! the format is sniffed from the bytes ([`SourceFile`]), and columns are found by heading or mapped by
//! letter exactly as an import does ([`map_columns`]); only the fields and their synonyms are the
//! statement's own. Every cell is read exactly (money through the one yuan reading, ids never through
//! a float that lost digits); a cell that cannot be read makes its row an error naming row and column,
//! and that row is not compared — a reconciliation reports, it never guesses.

use super::{ProviderState, ReconcileError};
use crate::import::columns::{map_columns, normalise_heading, unmapped_text, ColumnRef};
use crate::import::validate::{cell, is_blank};
use crate::import::{ImportError, Level, RowMessage, SourceFile};
use crate::order::text::{plain_text, yuan_amount};
use crate::order::Cell;
use calamine::Data;
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use topup_core::Li;

/// What a statement column means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub enum StatementField {
    /// Our (merchant) order id: `sporderid` / `order_no` / `orderid`.
    OrderId,
    ProviderOrderId,
    Account,
    Face,
    /// What the provider charged (扣款金额).
    Amount,
    State,
    OrderTime,
    FinishTime,
}

impl StatementField {
    pub const ALL: [StatementField; 8] = [
        StatementField::OrderId,
        StatementField::ProviderOrderId,
        StatementField::Account,
        StatementField::Face,
        StatementField::Amount,
        StatementField::State,
        StatementField::OrderTime,
        StatementField::FinishTime,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            StatementField::OrderId => "orderId",
            StatementField::ProviderOrderId => "providerOrderId",
            StatementField::Account => "account",
            StatementField::Face => "face",
            StatementField::Amount => "amount",
            StatementField::State => "state",
            StatementField::OrderTime => "orderTime",
            StatementField::FinishTime => "finishTime",
        }
    }

    pub const fn label_zh(self) -> &'static str {
        match self {
            StatementField::OrderId => "商户订单号",
            StatementField::ProviderOrderId => "供应商订单号",
            StatementField::Account => "充值账号",
            StatementField::Face => "面值",
            StatementField::Amount => "扣款金额",
            StatementField::State => "状态",
            StatementField::OrderTime => "下单时间",
            StatementField::FinishTime => "完成时间",
        }
    }

    /// Normalised headings (see [`normalise_heading`]) that mean this field: the usual Chinese
    /// back-office headings and the providers' own parameter names.
    const fn synonyms(self) -> &'static [&'static str] {
        match self {
            StatementField::OrderId => &[
                "商户订单号",
                "商户单号",
                "商家订单号",
                "订单号",
                "外部订单号",
                "下游订单号",
                "客户订单号",
                "我方订单号",
                "sporderid",
                "orderno",
                "orderid",
                "uorderid",
                "merchantorderid",
                "outtradeno",
            ],
            StatementField::ProviderOrderId => &[
                "供应商订单号",
                "平台订单号",
                "系统订单号",
                "上游订单号",
                "流水号",
                "交易流水号",
                "providerorderid",
                "platformorderid",
                "mobileorderno",
                "serialno",
            ],
            StatementField::Account => &[
                "充值账号",
                "充值帐号",
                "充值号码",
                "手机号",
                "手机号码",
                "号码",
                "账号",
                "帐号",
                "户号",
                "account",
                "phone",
                "mobile",
                "phoneno",
            ],
            StatementField::Face => {
                &["面值", "面额", "充值面值", "充值面额", "face", "facevalue", "parvalue"]
            }
            StatementField::Amount => &[
                "扣款金额",
                "扣款",
                "扣费",
                "扣费金额",
                "成本",
                "进价",
                "结算金额",
                "结算价",
                "实付金额",
                "支付金额",
                "订单金额",
                "消费金额",
                "金额",
                "cost",
                "amount",
                "ordercash",
                "price",
            ],
            StatementField::State => {
                &["状态", "订单状态", "充值状态", "结果", "充值结果", "交易状态", "state", "status", "result"]
            }
            StatementField::OrderTime => &[
                "下单时间",
                "订单时间",
                "创建时间",
                "提交时间",
                "交易时间",
                "时间",
                "ordertime",
                "createtime",
                "createdat",
                "time",
            ],
            StatementField::FinishTime => &[
                "完成时间",
                "结束时间",
                "到账时间",
                "充值完成时间",
                "成功时间",
                "处理时间",
                "finishtime",
                "finishedat",
                "completetime",
            ],
        }
    }

    pub fn from_heading(text: &str) -> Option<StatementField> {
        let n = normalise_heading(text);
        if n.is_empty() {
            return None;
        }
        StatementField::ALL.into_iter().find(|f| f.synonyms().contains(&n.as_str()))
    }
}

impl FromStr for StatementField {
    type Err = ImportError;
    fn from_str(s: &str) -> Result<StatementField, ImportError> {
        StatementField::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
            .or_else(|| StatementField::from_heading(s))
            .ok_or_else(|| ImportError::Mapping(format!(
                "未知的对账字段“{s}” / unknown statement field “{s}” (orderId, providerOrderId, account, face, amount, state, orderTime, finishTime)"
            )))
    }
}

/// An explicit statement mapping: `column` is a letter (`A`) or heading text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct StatementMapping {
    pub column: String,
    pub field: StatementField,
}

impl FromStr for StatementMapping {
    type Err = ImportError;
    /// `COL=FIELD`, e.g. `A=orderId`, `扣款(元)=amount`, `C=状态`.
    fn from_str(s: &str) -> Result<StatementMapping, ImportError> {
        let (col, field) = s.rsplit_once('=').filter(|(c, _)| !c.trim().is_empty()).ok_or_else(|| {
            ImportError::Mapping(format!("映射“{s}”应为 列=字段 / mapping “{s}” must be COLUMN=FIELD"))
        })?;
        Ok(StatementMapping { column: col.trim().to_owned(), field: field.parse()? })
    }
}

/// One readable statement row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatementRow {
    /// Spreadsheet row number as the user sees it.
    pub row: u32,
    pub order_id: Option<String>,
    pub provider_order_id: Option<String>,
    pub account: Option<String>,
    pub face: Option<Li>,
    pub amount: Option<Li>,
    pub state: ProviderState,
    pub order_time: Option<i64>,
    pub finish_time: Option<i64>,
}

/// A row that could not be read, with every finding naming its column.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct BadRow {
    pub row: u32,
    pub messages: Vec<RowMessage>,
    /// `第 5 行 F 列（状态）：… / row 5, column F (状态): …`, one per finding.
    pub text: Vec<String>,
}

/// A statement as read.
#[derive(Clone, Debug, Default)]
pub struct Statement {
    pub rows: Vec<StatementRow>,
    pub bad_rows: Vec<BadRow>,
}

/// Reads `file` (its first visible sheet, or `sheet`).
pub fn read(
    file: &SourceFile,
    sheet: Option<&str>,
    mappings: &[StatementMapping],
) -> Result<Statement, ReconcileError> {
    let sheet = file.read_sheet(sheet)?;
    let grid = &sheet.grid;
    let pairs: Vec<(&str, StatementField)> = mappings.iter().map(|m| (m.column.as_str(), m.field)).collect();
    let mapped = map_columns(grid, &pairs, None, StatementField::from_heading, |f| {
        matches!(f, StatementField::OrderId | StatementField::ProviderOrderId | StatementField::State)
    })?;
    let column = |f: StatementField| mapped.columns.iter().find(|(g, _)| *g == f).map(|(_, c)| c.clone());
    let missing = |f: StatementField| ImportError::MissingColumn {
        field: f.label_zh(),
        field_en: f.as_str(),
        seen: unmapped_text(&mapped.unmapped),
    };
    if column(StatementField::OrderId).is_none() && column(StatementField::ProviderOrderId).is_none() {
        return Err(missing(StatementField::OrderId).into());
    }
    let state_col = column(StatementField::State).ok_or_else(|| missing(StatementField::State))?;
    let first = mapped.header_index.map_or(0, |i| i + 1);
    let mut out = Statement::default();
    for i in first..grid.cells.len() {
        if grid.cells[i].iter().all(is_blank) {
            continue;
        }
        let row = grid.row0 + i as u32 + 1;
        let mut messages = Vec::new();
        let get = |f: StatementField| column(f).map(|c| (grid.get(i, c.index), c));
        let mut id = |f| get(f).and_then(|(d, c)| order_id(d, &c, &mut messages));
        let order_id = id(StatementField::OrderId);
        let provider_order_id = id(StatementField::ProviderOrderId);
        if order_id.is_none() && provider_order_id.is_none() && messages.is_empty() {
            let c = column(StatementField::OrderId).or_else(|| column(StatementField::ProviderOrderId));
            messages.push(error("missing_order_id", c.as_ref(), "没有订单号".into(), "no order id".into()));
        }
        let account = get(StatementField::Account).and_then(|(d, _)| plain_text(&cell(d)));
        let mut money = |f| get(f).and_then(|(d, c)| amount(d, &c, &mut messages));
        let face = money(StatementField::Face);
        let amount = money(StatementField::Amount);
        let state = state(grid.get(i, state_col.index), &state_col, &mut messages);
        let mut when = |f| get(f).and_then(|(d, c)| time(d, &c, &mut messages));
        let order_time = when(StatementField::OrderTime);
        let finish_time = when(StatementField::FinishTime);
        match state {
            Some(state) if messages.is_empty() => out.rows.push(StatementRow {
                row,
                order_id,
                provider_order_id,
                account,
                face,
                amount,
                state,
                order_time,
                finish_time,
            }),
            _ => {
                let text = messages.iter().map(|m| m.describe(Some(row))).collect();
                out.bad_rows.push(BadRow { row, messages, text });
            }
        }
    }
    Ok(out)
}

fn error(code: &'static str, column: Option<&ColumnRef>, zh: String, en: String) -> RowMessage {
    RowMessage::new(Level::Error, code, column, zh, en)
}

/// An id: text as written; a number only when it holds every digit (a float above 2^53 does not).
fn order_id(d: &Data, c: &ColumnRef, messages: &mut Vec<RowMessage>) -> Option<String> {
    if let Data::Float(f) = d {
        if f.fract() != 0.0 || f.abs() >= 9_007_199_254_740_992.0 {
            messages.push(error(
                "id_inexact",
                Some(c),
                format!("订单号以数字存储（{f}），位数可能已丢失；请把该列设为文本后重新导出"),
                format!("the order id was stored as a number ({f}) and may have lost digits; format the column as text and export again"),
            ));
            return None;
        }
    }
    plain_text(&cell(d))
}

fn amount(d: &Data, c: &ColumnRef, messages: &mut Vec<RowMessage>) -> Option<Li> {
    let cell = cell(d);
    if matches!(cell, Cell::Empty) {
        return None;
    }
    match yuan_amount(&cell) {
        Ok(v) => Some(v),
        Err(text) => {
            messages.push(error(
                "amount_not_money",
                Some(c),
                format!("金额“{text}”不是准确的金额（最多三位小数）"),
                format!("amount “{text}” is not an exact amount (at most three decimals)"),
            ));
            None
        }
    }
}

/// The provider's words for its states (Chinese back offices and English exports).
const STATE_WORDS: [(ProviderState, &[&str]); 3] = [
    (
        ProviderState::Succeeded,
        &[
            "成功",
            "充值成功",
            "交易成功",
            "已成功",
            "已到账",
            "已完成",
            "完成",
            "success",
            "succeeded",
            "successful",
        ],
    ),
    (
        ProviderState::Failed,
        &[
            "失败",
            "充值失败",
            "交易失败",
            "已退款",
            "退款",
            "失败已退款",
            "已撤销",
            "撤销",
            "已退回",
            "退回",
            "failed",
            "fail",
            "failure",
            "refunded",
        ],
    ),
    (
        ProviderState::Pending,
        &["处理中", "充值中", "等待充值", "等待", "进行中", "已受理", "待充值", "pending", "processing"],
    ),
];

fn state(d: &Data, c: &ColumnRef, messages: &mut Vec<RowMessage>) -> Option<ProviderState> {
    let text = plain_text(&cell(d)).unwrap_or_default();
    let n = normalise_heading(&text);
    let found = STATE_WORDS.iter().find(|(_, words)| words.contains(&n.as_str())).map(|(s, _)| *s);
    if found.is_none() {
        let (zh, en) = if text.is_empty() {
            ("状态为空".to_owned(), "the state is empty".to_owned())
        } else {
            (
                format!("状态“{text}”无法识别（应为 成功、失败 或 处理中）"),
                format!("state “{text}” is not recognised (success, failed or pending)"),
            )
        };
        messages.push(error("bad_state", Some(c), zh, en));
    }
    found
}

/// A local date and time: `2026-12-04 10:30:00` (also `/`, `T`, no seconds), `20261204103000`, or an
/// Excel date cell. `None` for an empty cell.
fn time(d: &Data, c: &ColumnRef, messages: &mut Vec<RowMessage>) -> Option<i64> {
    let parsed = match d {
        Data::Empty => return None,
        Data::DateTime(x) => Some(excel_serial_ms(x.as_f64())),
        Data::Float(f) if *f > 0.0 && *f < 2_958_466.0 && f.fract() != 0.0 => Some(excel_serial_ms(*f)),
        other => {
            let text = plain_text(&cell(other)).unwrap_or_default();
            if text.is_empty() {
                return None;
            }
            parse_local_time(&text)
        }
    };
    if parsed.is_none() {
        let text = d.to_string();
        messages.push(error(
            "bad_time",
            Some(c),
            format!("时间“{text}”无法识别（应为 2026-12-04 10:30:00）"),
            format!("time “{text}” is not recognised (expected 2026-12-04 10:30:00)"),
        ));
    }
    parsed
}

/// An Excel serial date (days since 1899-12-30, local wall time) as ms since the epoch.
fn excel_serial_ms(days: f64) -> i64 {
    // Whole seconds: the serial's fraction of a day, rounded to the second as Excel shows it.
    let secs = (days * 86_400.0).round() as i64 - 25_569 * 86_400;
    local_to_utc_ms(secs * 1000)
}

/// Local wall time (as ms since the epoch, read as if UTC) to real ms since the epoch.
fn local_to_utc_ms(wall_ms: i64) -> i64 {
    let offset = time::UtcOffset::current_local_offset().unwrap_or(time::UtcOffset::UTC);
    wall_ms - i64::from(offset.whole_seconds()) * 1000
}

/// `yyyy-MM-dd[ HH:mm[:ss]]` with `-` or `/`, a `T` or space between, or `yyyyMMddHHmmss`.
pub fn parse_local_time(text: &str) -> Option<i64> {
    let t = text.trim();
    let digits: Vec<u32> = if t.len() == 14 && t.bytes().all(|b| b.is_ascii_digit()) {
        [0..4, 4..6, 6..8, 8..10, 10..12, 12..14]
            .iter()
            .map(|r| t[r.clone()].parse().ok())
            .collect::<Option<_>>()?
    } else {
        let parts: Vec<&str> = t.split(['-', '/', ' ', 'T', ':', '.']).collect();
        if !(3..=7).contains(&parts.len())
            || parts.iter().any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return None;
        }
        parts.iter().take(6).map(|p| p.parse().ok()).collect::<Option<_>>()?
    };
    let get = |i: usize| digits.get(i).copied().unwrap_or(0);
    let month = time::Month::try_from(u8::try_from(get(1)).ok()?).ok()?;
    let date = time::Date::from_calendar_date(i32::try_from(get(0)).ok()?, month, u8::try_from(get(2)).ok()?)
        .ok()?;
    let clock = time::Time::from_hms(
        u8::try_from(get(3)).ok()?,
        u8::try_from(get(4)).ok()?,
        u8::try_from(get(5)).ok()?,
    )
    .ok()?;
    let wall = time::PrimitiveDateTime::new(date, clock).assume_utc().unix_timestamp() * 1000;
    Some(local_to_utc_ms(wall))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_headings_and_times() {
        assert_eq!(StatementField::from_heading("商户订单号"), Some(StatementField::OrderId));
        assert_eq!(StatementField::from_heading("扣款金额(元)"), Some(StatementField::Amount));
        assert_eq!(StatementField::from_heading("订单状态"), Some(StatementField::State));
        assert_eq!("C=完成时间".parse::<StatementMapping>().unwrap().field, StatementField::FinishTime);
        let a = parse_local_time("2026-12-04 10:30:00").unwrap();
        assert_eq!(parse_local_time("2026/12/04 10:30"), Some(a));
        assert_eq!(parse_local_time("20261204103000"), Some(a));
        assert_eq!(parse_local_time("2026-12-04T10:30:00"), Some(a));
        assert_eq!(parse_local_time("2026-13-04"), None);
        assert_eq!(parse_local_time("昨天"), None);
    }
}
