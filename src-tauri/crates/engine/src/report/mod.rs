//! Reports (报表): how much was sold, what it cost, what was earned and what is owed back — per local
//! day, provider, import batch and customer — for the window's 报表 screen, `topup-desk report` and the
//! xlsx export ([`xlsx`]).
//!
//! # What each figure counts
//! Every order belongs to the **local calendar day it was created** (the machine's zone at creation,
//! stored on the order as `local_day`), its provider, its batch (none: a hand-entered order) and its
//! customer (客户; none: the group “未填客户”). The range `from..=to` is in local days, both included.
//!
//! * **orders** (订单数): orders created, whatever their state; **succeeded** / **failed** those in that
//!   final state; **pending** (处理中) the rest (new, submitting, accepted, unknown, manual review).
//! * **success rate** (成功率): succeeded / (succeeded + failed) in basis points; unknown (`null`)
//!   while nothing has finished.
//! * **face** (面值合计): the face value of the succeeded orders (what was delivered).
//! * **cost** (成本): the provider's price of the succeeded orders whose cost is known; `costUnknown`
//!   counts the succeeded orders without one. **sales** (销售额): the same with the sale price (售价).
//! * **profit** (利润): Σ (sale − cost) over the succeeded orders where both are known; `profitUnknown`
//!   counts the succeeded orders left out. Failed and pending orders earn nothing yet.
//! * **refunds** (应退客户): the sale price of the failed orders — the customer paid, the top-up did
//!   not happen, the money goes back — except orders whose sale moved to a replacement (resubmit or
//!   fallback: the customer paid once, the replacement carries it). `refundUnknown` counts failed orders
//!   without a sale price (their refund is unknown, not 0).
//! * **average time to success** (平均成功用时): mean of finished − created over succeeded orders
//!   (what the customer waited, queueing included).
//!
//! Unknown is never 0: a money total that covers none of the orders it should (e.g. every succeeded
//! order's cost unknown) is `null` / “—”, and a partial one says how many orders it leaves out. Money is
//! integer 厘 from the book to the file; no f64 anywhere.
//!
//! # Why it is fast
//! A report reads `report_days` (schema 10), the figures of finished orders kept per day × provider ×
//! batch × customer by triggers in the writing transaction, not the orders (a year of 1,000,000 orders
//! is about 80,000 kept rows), and counts the orders not yet final (few) from the orders themselves. `docs/benchmarks.md` has the figures next to the plain `GROUP BY` over `orders`
//! ([`crate::book::Book::recount_report`]).

pub mod xlsx;

use crate::book::{Book, BookError, ReportBy, ReportSums};
use crate::contract::{ErrorCode, Message};
use serde::{Deserialize, Serialize};
use topup_core::{Li, ProviderId};

/// Longest range of one report (days).
pub const MAX_DAYS: i64 = 3700;

/// A report that could not be made: a bad range (naming the field), or the book's or the file's failure.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    BadDate { field_zh: &'static str, field_en: &'static str, value: String },
    Reversed { from: String, to: String },
    TooLong,
    Book(#[from] BookError),
    Write(#[from] crate::import::ImportError),
}

crate::coded!(ReportError);

impl ReportError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ReportError::BadDate { .. } | ReportError::Reversed { .. } | ReportError::TooLong => {
                ErrorCode::InvalidField
            }
            ReportError::Book(e) => e.code(),
            ReportError::Write(e) => e.code(),
        }
    }

    pub fn message(&self) -> Message {
        match self {
            ReportError::BadDate { field_zh, field_en, value } => crate::msg!(
                "{field_zh}“{value}”无效，应为 YYYY-MM-DD",
                "{field_en} “{value}” must be YYYY-MM-DD"
            ),
            ReportError::Reversed { from, to } => {
                crate::msg!("开始日期 {from} 晚于结束日期 {to}", "the start {from} is after the end {to}")
            }
            ReportError::TooLong => {
                crate::msg!("日期范围超过 {MAX_DAYS} 天", "the range is longer than {MAX_DAYS} days")
            }
            ReportError::Book(e) => e.message(),
            ReportError::Write(e) => e.message(),
        }
    }
}

/// A report request: local days `from..=to` (`YYYY-MM-DD`; default the 30 days ending today).
#[derive(Clone, Debug, Default, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase", default)]
pub struct ReportQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    /// The main grouping (default by day).
    pub by: Option<ReportBy>,
}

/// One row of a report (one group, or the total).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct ReportLine {
    /// The group: `2026-12-04`, `juhe`, a batch id (`""`: no batch), a customer (`""`: none).
    pub key: String,
    /// How the window shows it: the day, the provider's name, the batch's file, the customer.
    pub label: String,
    pub orders: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub pending: i64,
    /// Basis points; `null` while nothing finished.
    #[ts(type = "number | null")]
    pub success_rate_bp: Option<i64>,
    pub face: Li,
    pub cost: Option<Li>,
    pub cost_unknown: i64,
    pub sales: Option<Li>,
    pub sale_unknown: i64,
    pub profit: Option<Li>,
    pub profit_unknown: i64,
    pub refunds: Option<Li>,
    pub refund_orders: i64,
    pub refund_unknown: i64,
    #[ts(type = "number | null")]
    pub avg_success_ms: Option<i64>,
}

/// A report: the rows of the chosen grouping, their total, and the days (for the chart).
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub from: String,
    pub to: String,
    pub by: ReportBy,
    pub rows: Vec<ReportLine>,
    pub total: ReportLine,
    /// Every day of the range with orders, oldest first (the chart; the same as `rows` by day).
    pub days: Vec<ReportLine>,
}

/// Days as the book files them (yyyymmdd) ↔ `YYYY-MM-DD`.
pub fn day_key(date: time::Date) -> i64 {
    i64::from(date.year()) * 10_000 + i64::from(u8::from(date.month())) * 100 + i64::from(date.day())
}

fn date_of(key: i64) -> Option<time::Date> {
    let month = time::Month::try_from(u8::try_from(key / 100 % 100).ok()?).ok()?;
    time::Date::from_calendar_date(i32::try_from(key / 10_000).ok()?, month, u8::try_from(key % 100).ok()?)
        .ok()
}

/// `20261204` → `2026-12-04`.
pub fn day_text(key: i64) -> String {
    format!("{:04}-{:02}-{:02}", key / 10_000, key / 100 % 100, key % 100)
}

/// `2026-12-04` (or `20261204`) → the day, or why not.
pub fn parse_day(text: &str, field_zh: &'static str, field_en: &'static str) -> Result<i64, ReportError> {
    let bad = || ReportError::BadDate { field_zh, field_en, value: text.to_owned() };
    let digits: String = text.trim().chars().filter(|c| *c != '-' && *c != '/').collect();
    if digits.len() != 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let key: i64 = digits.parse().map_err(|_| bad())?;
    date_of(key).map(day_key).ok_or_else(bad)
}

/// The range of a query as day keys: defaults, order and length checked.
pub fn range(book: &Book, q: &ReportQuery) -> Result<(i64, i64), ReportError> {
    let today = book.local_day(crate::book::now_ms())?;
    let blank = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let to = match blank(&q.to) {
        Some(t) => parse_day(&t, "结束日期", "to")?,
        None => today,
    };
    let from = match blank(&q.from) {
        Some(f) => parse_day(&f, "开始日期", "from")?,
        None => date_of(to).and_then(|d| d.checked_sub(time::Duration::days(29))).map_or(to, day_key),
    };
    if from > to {
        return Err(ReportError::Reversed { from: day_text(from), to: day_text(to) });
    }
    let span = date_of(from).zip(date_of(to)).map_or(0, |(a, b)| (b - a).whole_days());
    if span >= MAX_DAYS {
        return Err(ReportError::TooLong);
    }
    Ok((from, to))
}

impl ReportLine {
    /// The figures of `s` as the report shows them (see the module doc for the unknown rules).
    pub fn from_sums(s: &ReportSums) -> ReportLine {
        let finished = s.succeeded + s.failed;
        let known = |unknown: i64, of: i64, sum: i64| (of == 0 || unknown < of).then_some(Li(sum));
        ReportLine {
            key: s.key.clone(),
            label: s.key.clone(),
            orders: s.orders,
            succeeded: s.succeeded,
            failed: s.failed,
            pending: s.orders - finished,
            success_rate_bp: (finished > 0).then(|| s.succeeded * 10_000 / finished),
            face: Li(s.face),
            cost: known(s.cost_unknown, s.succeeded, s.cost),
            cost_unknown: s.cost_unknown,
            sales: known(s.sale_unknown, s.succeeded, s.sale),
            sale_unknown: s.sale_unknown,
            profit: (s.succeeded == 0 || s.profit_orders > 0).then_some(Li(s.profit)),
            profit_unknown: s.succeeded - s.profit_orders,
            refunds: (s.refund_unknown == 0 || s.refund_orders > 0).then_some(Li(s.refund)),
            refund_orders: s.refund_orders,
            refund_unknown: s.refund_unknown,
            avg_success_ms: (s.success_timed > 0).then(|| s.success_ms / s.success_timed),
        }
    }
}

fn total(rows: &[ReportSums]) -> ReportSums {
    let mut t = ReportSums::default();
    for r in rows {
        t.orders += r.orders;
        t.succeeded += r.succeeded;
        t.failed += r.failed;
        t.face += r.face;
        t.cost += r.cost;
        t.cost_unknown += r.cost_unknown;
        t.sale += r.sale;
        t.sale_unknown += r.sale_unknown;
        t.profit += r.profit;
        t.profit_orders += r.profit_orders;
        t.refund += r.refund;
        t.refund_orders += r.refund_orders;
        t.refund_unknown += r.refund_unknown;
        t.success_ms += r.success_ms;
        t.success_timed += r.success_timed;
    }
    t
}

/// The rows of one grouping over `from..=to`, labelled for people.
pub fn lines(book: &Book, by: ReportBy, from: i64, to: i64) -> Result<Vec<ReportLine>, ReportError> {
    labelled(book, by, &book.report_sums(by, from, to)?)
}

/// The total of a grouping's sums (every grouping covers every order of the range once).
pub fn total_line(sums: &[ReportSums]) -> ReportLine {
    let mut t = ReportLine::from_sums(&total(sums));
    t.key = String::new();
    t.label = "合计 / total".into();
    t
}

/// `sums` as lines, their keys and labels for people.
fn labelled(book: &Book, by: ReportBy, sums: &[ReportSums]) -> Result<Vec<ReportLine>, ReportError> {
    let mut out: Vec<ReportLine> = sums.iter().map(ReportLine::from_sums).collect();
    match by {
        ReportBy::Day => {
            for l in &mut out {
                let key = l.key.parse().unwrap_or(0);
                l.key = day_text(key);
                l.label = l.key.clone();
            }
        }
        ReportBy::Provider => {
            for l in &mut out {
                if let Ok(p) = l.key.parse::<ProviderId>() {
                    l.label = p.label_zh().to_owned();
                }
            }
        }
        ReportBy::Batch => {
            let ids: Vec<i64> = out.iter().filter_map(|l| l.key.parse().ok()).filter(|i| *i != 0).collect();
            let names = book.batch_names(&ids)?;
            for l in &mut out {
                if l.key == "0" {
                    l.key = String::new();
                    l.label = "手工下单 / by hand".into();
                } else if let Some((_, name)) = names.iter().find(|(id, _)| id.to_string() == l.key) {
                    l.label = format!("#{} {name}", l.key);
                }
            }
        }
        ReportBy::Customer => {
            for l in &mut out {
                if l.key.is_empty() {
                    l.label = "未填客户 / no customer".into();
                }
            }
        }
    }
    Ok(out)
}

/// The report for a query: its grouping's rows, their total and the days of the range (two reads:
/// the days, and the grouping when it is not the days).
pub fn report(book: &Book, q: &ReportQuery) -> Result<Report, ReportError> {
    let (from, to) = range(book, q)?;
    let by = q.by.unwrap_or(ReportBy::Day);
    let day_sums = book.report_sums(ReportBy::Day, from, to)?;
    let days = labelled(book, ReportBy::Day, &day_sums)?;
    let rows = if by == ReportBy::Day { days.clone() } else { lines(book, by, from, to)? };
    Ok(Report { from: day_text(from), to: day_text(to), by, rows, total: total_line(&day_sums), days })
}
