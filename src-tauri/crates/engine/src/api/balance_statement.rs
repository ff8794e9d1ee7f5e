//! The daily statement of one provider account (日对账单): opening balance, deposits, spend, refunds,
//! closing balance, expected against observed, and the difference.
//!
//! Why it is built from the drift watch's windows ([`super::balance_watch`]) and not from the orders
//! alone: a day is the chain of windows between consecutive balance reads that end in it, so the same
//! rule says when an order's money moved (charged on acceptance, refunded on failure), in-flight
//! orders are shown as such instead of being guessed into a figure, and the statement's difference is
//! the sum of what the watch reported. The opening balance is the last read before the day (or the
//! day's first read when there is none); the closing balance the day's last read.
//!
//! `expected closing = opening + deposits - spend + refunds`; `difference = closing - expected`. With
//! no drift the difference lies within `[inFlightLow, inFlightHigh]`, the part of the day's orders
//! whose moment is not known yet. Deposits are the rises no refund explains, confirmed or not (their
//! confirmed part is shown apart). Report export (h-sale) adds [`statements`] as a sheet.

use super::balance_watch::{windows, Verdict, Window};
use crate::book::{Book, BookError};
use serde::Serialize;
pub use time::UtcOffset;
use topup_core::{Li, ProviderId};

/// One provider's day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct Statement {
    pub provider: ProviderId,
    /// `YYYY-MM-DD`, local time.
    pub day: String,
    /// The day as ms `[from, to)`.
    pub from: i64,
    pub to: i64,
    /// How many balance reads the day has (set by [`statement`]).
    pub reads: i64,
    pub opening: Option<Li>,
    pub opening_at: Option<i64>,
    pub closing: Option<Li>,
    pub closing_at: Option<i64>,
    /// Rises no refund explains (the reseller's top-ups); `depositsConfirmed` of them confirmed.
    pub deposits: Li,
    pub deposits_confirmed: Li,
    /// Orders charged, and refunds of failed orders, whose moment is known to fall in the day.
    pub spend: Li,
    pub refunds: Li,
    /// The range of the orders still in flight (their effect not known yet).
    pub in_flight_low: Li,
    pub in_flight_high: Li,
    pub expected_closing: Option<Li>,
    /// `closing - expectedClosing`.
    pub difference: Option<Li>,
    /// Windows of the day the watch judged as drift, and still pending.
    pub drifts: i64,
    pub pending: i64,
}

/// `YYYY-MM-DD` → the day's `[from, to)` in ms at `offset`.
pub fn day_range(day: &str, offset: time::UtcOffset) -> Result<(i64, i64), BookError> {
    let bad =
        || BookError::Invalid(crate::msg!("日期：“{day}”应为 YYYY-MM-DD", "day: “{day}” must be YYYY-MM-DD"));
    let mut parts = day.trim().splitn(3, '-').map(|p| p.parse::<i32>().ok());
    let (Some(Some(y)), Some(Some(m)), Some(Some(d))) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let month = u8::try_from(m).ok().and_then(|m| time::Month::try_from(m).ok()).ok_or_else(bad)?;
    let date = u8::try_from(d)
        .ok()
        .and_then(|d| time::Date::from_calendar_date(y, month, d).ok())
        .ok_or_else(bad)?;
    let start = date.midnight().assume_offset(offset).unix_timestamp() * 1000;
    Ok((start, start + 24 * 3600 * 1000))
}

/// The statement of `provider` over `[from, to)` built from its judged `windows`.
pub fn from_windows(provider: ProviderId, day: &str, from: i64, to: i64, windows: &[Window]) -> Statement {
    let mut s = Statement {
        provider,
        day: day.to_owned(),
        from,
        to,
        reads: 0,
        opening: None,
        opening_at: None,
        closing: None,
        closing_at: None,
        deposits: Li(0),
        deposits_confirmed: Li(0),
        spend: Li(0),
        refunds: Li(0),
        in_flight_low: Li(0),
        in_flight_high: Li(0),
        expected_closing: None,
        difference: None,
        drifts: 0,
        pending: 0,
    };
    let (mut deposits, mut confirmed, mut spend, mut refunds, mut lo, mut hi) = (0, 0, 0, 0, 0, 0);
    for w in windows {
        spend += w.spend.0;
        refunds += w.refunds.0;
        // The exact part of the window is in spend/refunds; what is left of its range is in flight.
        let exact = w.refunds.0 - w.spend.0;
        lo += w.expected_low.0 - exact;
        hi += w.expected_high.0 - exact;
        match w.verdict {
            Verdict::Deposit => {
                let amount = w.to.resolved.unwrap_or(w.unexplained).0;
                deposits += amount;
                if w.to.resolved_at.is_some() {
                    confirmed += amount;
                }
            }
            Verdict::Drift => s.drifts += 1,
            Verdict::Pending => s.pending += 1,
            Verdict::Ok => {}
        }
    }
    if let (Some(first), Some(last)) = (windows.first(), windows.last()) {
        s.opening = Some(first.from.balance);
        s.opening_at = Some(first.from.read_at);
        s.closing = Some(last.to.balance);
        s.closing_at = Some(last.to.read_at);
        let expected = first.from.balance.0 + deposits - spend + refunds;
        s.expected_closing = Some(Li(expected));
        s.difference = Some(Li(last.to.balance.0 - expected));
    }
    s.deposits = Li(deposits);
    s.deposits_confirmed = Li(confirmed);
    s.spend = Li(spend);
    s.refunds = Li(refunds);
    s.in_flight_low = Li(lo);
    s.in_flight_high = Li(hi);
    s
}

/// The statement of one provider for `day` (`YYYY-MM-DD` at `offset`).
pub fn statement(
    book: &Book,
    provider: ProviderId,
    day: &str,
    offset: time::UtcOffset,
    tolerance: Li,
) -> Result<Statement, BookError> {
    let (from, to) = day_range(day, offset)?;
    let ws = windows(book, provider, from, to, tolerance)?;
    let mut s = from_windows(provider, day, from, to, &ws);
    let reads: Vec<_> =
        book.balance_reads(provider, from, to)?.into_iter().filter(|r| r.read_at >= from).collect();
    s.reads = i64::try_from(reads.len()).unwrap_or(i64::MAX);
    if ws.is_empty() {
        // One read in the day (or none): it is both ends, nothing to compare.
        if let Some(r) = reads.last() {
            (s.opening, s.opening_at, s.closing, s.closing_at) =
                (Some(r.balance), Some(r.read_at), Some(r.balance), Some(r.read_at));
        }
    }
    Ok(s)
}

/// Every provider's statement for `day`: the Balances screen, `topup-desk balance --statement`, and
/// the report export's sheet.
pub fn statements(
    book: &Book,
    day: &str,
    offset: time::UtcOffset,
    tolerance: Li,
) -> Result<Vec<Statement>, BookError> {
    ProviderId::ALL.into_iter().map(|p| statement(book, p, day, offset, tolerance)).collect()
}

/// Today at `offset`, as `YYYY-MM-DD`.
pub fn today(offset: UtcOffset) -> String {
    let d = time::OffsetDateTime::now_utc().to_offset(offset).date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// The local offset now (UTC when the system cannot tell), as the rest of the console uses it.
pub fn local_offset() -> time::UtcOffset {
    topup_core::local_time::offset_now()
}

/// Every provider's statement for each day from `first` to `last` (`YYYY-MM-DD`, both included, at
/// most [`MAX_DAYS`]): the report export's range.
pub fn statements_over(
    book: &Book,
    first: &str,
    last: &str,
    offset: UtcOffset,
    tolerance: Li,
) -> Result<Vec<Statement>, BookError> {
    let (mut from, _) = day_range(first, offset)?;
    let (_, end) = day_range(last, offset)?;
    let mut out = Vec::new();
    for _ in 0..MAX_DAYS {
        if from >= end {
            break;
        }
        let day = time::OffsetDateTime::from_unix_timestamp(from / 1000)
            .map_err(|e| BookError::Invalid(e.to_string().into()))?
            .to_offset(offset)
            .date();
        let day = format!("{:04}-{:02}-{:02}", day.year(), u8::from(day.month()), day.day());
        out.extend(statements(book, &day, offset, tolerance)?);
        from += 24 * 3600 * 1000;
    }
    Ok(out)
}

/// The longest range [`statements_over`] reads.
pub const MAX_DAYS: usize = 366;

/// The name of the statement's sheet in the report export.
pub const SHEET_NAME: &str = "日对账单";

/// The statements as a sheet of text cells for the report export: money as exact yuan text, unknown
/// as “—” (never 0), days without a balance read left out.
pub fn sheet_table(statements: &[Statement]) -> (Vec<String>, Vec<Vec<String>>) {
    let headings = [
        "日期",
        "供应商",
        "期初余额",
        "充值",
        "其中已确认",
        "支出",
        "退款",
        "应有余额",
        "期末余额",
        "差额",
        "在途下限",
        "在途上限",
        "异常区间",
        "待判断区间",
    ];
    let money = |v: Option<Li>| v.map_or_else(|| "—".to_owned(), |v| v.to_string());
    let rows = statements
        .iter()
        .filter(|s| s.reads > 0)
        .map(|s| {
            vec![
                s.day.clone(),
                s.provider.label_zh().to_owned(),
                money(s.opening),
                s.deposits.to_string(),
                s.deposits_confirmed.to_string(),
                s.spend.to_string(),
                s.refunds.to_string(),
                money(s.expected_closing),
                money(s.closing),
                money(s.difference),
                s.in_flight_low.to_string(),
                s.in_flight_high.to_string(),
                s.drifts.to_string(),
                s.pending.to_string(),
            ]
        })
        .collect();
    (headings.iter().map(|h| (*h).to_owned()).collect(), rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_is_its_local_midnights() {
        let east8 = UtcOffset::from_hms(8, 0, 0).unwrap();
        let (from, to) = day_range("2026-12-04", east8).unwrap();
        assert_eq!(from, 1_796_313_600_000, "2026-12-03T16:00Z");
        assert_eq!(to - from, 86_400_000);
        for bad in ["2026-13-01", "2026-02-30", "yesterday", "2026-12", ""] {
            assert!(day_range(bad, east8).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_sheet_leaves_out_days_without_reads_and_never_writes_unknown_as_zero() {
        let mut s = from_windows(ProviderId::Oper, "2026-12-04", 0, 1, &[]);
        assert_eq!(sheet_table(std::slice::from_ref(&s)).1.len(), 0);
        s.reads = 1;
        let (headings, rows) = sheet_table(&[s]);
        assert_eq!(headings.len(), rows[0].len());
        assert_eq!(rows[0][2], "—");
        assert_eq!(rows[0][9], "—");
    }
}
