//! The stuck-order flags on `orders` (schema 7): the rows the sweep looks at, raising a flag, a
//! person's acknowledgement, and claiming the flags the desktop has not been told about. What the
//! rules are and why these are flags beside the state, not states: [`crate::run::stuck`].

use super::{now_ms, Book, BookError, Change, EventKind, Tx};
use rusqlite::params;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use serde::{Deserialize, Serialize};
use topup_core::{ProductKind, ProviderId};

/// "Needs a person", in SQL over `orders`: manual review, flagged (a contradicting callback, a wrong
/// amount), or past its stuck-order review limit. The list filter and the recount use it; the
/// counting triggers of schema 7 spell out the same condition.
pub(crate) const NEEDS_ATTENTION: &str = "state = 'manual_review' OR attention = 1 OR stuck = 2";

/// The states in which an order is still waiting for its outcome (the sweep looks at nothing else).
const WAITING: &str = "state IN ('new', 'submitting', 'accepted', 'unknown')";

/// How far past its stuck-order rule an order still waiting is. Only rises while it waits; a final
/// state clears it (a trigger, whatever writes the state).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS,
)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum StuckLevel {
    /// Within its limits (or finished).
    #[default]
    None = 0,
    /// Past the first limit: on the board's overdue filter and badge, notified once.
    Overdue = 1,
    /// Past the second limit: in front of a person (counted as needing attention), still queried.
    Review = 2,
    /// A person looked at it (and, e.g., asked the provider); it keeps waiting and being queried.
    Reviewed = 3,
}

impl StuckLevel {
    pub const fn as_i64(self) -> i64 {
        self as i64
    }

    pub const fn from_i64(n: i64) -> Option<StuckLevel> {
        match n {
            0 => Some(StuckLevel::None),
            1 => Some(StuckLevel::Overdue),
            2 => Some(StuckLevel::Review),
            3 => Some(StuckLevel::Reviewed),
            _ => None,
        }
    }
}

impl ToSql for StuckLevel {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_i64()))
    }
}

impl FromSql for StuckLevel {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let n = i64::column_result(value)?;
        StuckLevel::from_i64(n).ok_or(FromSqlError::OutOfRange(n))
    }
}

/// What the sweep needs of a waiting order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StuckCandidate {
    pub id: i64,
    pub provider: ProviderId,
    pub kind: ProductKind,
    pub account: String,
    pub details: serde_json::Value,
    /// When its first request left (ms): the limits count from here.
    pub submitted_at: i64,
    pub stuck: StuckLevel,
}

/// A flag the desktop has not been told about yet, claimed by [`Tx::claim_stuck_notices`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StuckNotice {
    pub id: i64,
    pub merchant_order_id: String,
    pub provider: ProviderId,
    pub kind: ProductKind,
    pub account: String,
    pub level: StuckLevel,
}

impl Book {
    /// Orders still waiting whose first request left at or before `sent_before` and that are below
    /// the review level, with ids above `after`, in id order, at most `limit`: the sweep's candidates
    /// (paged by id, so that orders which stay within their limits do not hide the ones behind them).
    pub fn stuck_candidates(
        &self,
        sent_before: i64,
        after: i64,
        limit: usize,
    ) -> Result<Vec<StuckCandidate>, BookError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(|c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT id, provider, kind, account, details, submitted_at, stuck FROM orders \
                 WHERE {WAITING} AND submitted_at IS NOT NULL AND submitted_at <= ?1 AND stuck < 2 \
                 AND id > ?2 ORDER BY id LIMIT ?3"
            ))?;
            let rows = st.query_map(params![sent_before, after, limit], |r| {
                let text = |i: usize| r.get::<_, String>(i);
                let parse_err = |i: usize, e: topup_core::ParseIdError| {
                    rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
                };
                let details: String = r.get(4)?;
                Ok(StuckCandidate {
                    id: r.get(0)?,
                    provider: text(1)?.parse().map_err(|e| parse_err(1, e))?,
                    kind: text(2)?.parse().map_err(|e| parse_err(2, e))?,
                    account: r.get(3)?,
                    details: serde_json::from_str(&details).unwrap_or_else(|_| serde_json::json!({})),
                    submitted_at: r.get(5)?,
                    stuck: r.get(6)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }
}

impl Tx<'_> {
    /// Raises an order's flag to `level` if it is still waiting and below it, with `detail` in its
    /// history. Returns whether it did (another writer may have settled it since it was read).
    pub fn raise_stuck(&mut self, id: i64, level: StuckLevel, detail: &str) -> Result<bool, BookError> {
        let n = self
            .conn()
            .prepare_cached(&format!(
                "UPDATE orders SET stuck = ?2, updated_at = ?3 WHERE id = ?1 AND stuck < ?2 AND {WAITING}"
            ))?
            .execute(params![id, level, now_ms()])?;
        if n == 0 {
            return Ok(false);
        }
        self.add_event(id, EventKind::Note, None, None, detail)?;
        let row = self.order(id)?;
        self.changed(Change::order(row));
        Ok(true)
    }

    /// A person has looked at an order past its review limit: it no longer counts as needing a person
    /// and is not notified again; it stays overdue and keeps being queried. Returns whether the order
    /// was at the review level.
    pub fn acknowledge_stuck(&mut self, id: i64) -> Result<bool, BookError> {
        let n = self
            .conn()
            .prepare_cached("UPDATE orders SET stuck = 3, stuck_notified = 3, updated_at = ?2 WHERE id = ?1 AND stuck = 2")?
            .execute(params![id, now_ms()])?;
        Ok(n > 0)
    }

    /// The flags raised since the desktop was last told, at most `limit`, marked as told in this
    /// same transaction: once this commits they are never returned again (after a restart neither),
    /// and a flag raised but not yet claimed is still here after a crash. The caller shows them after
    /// the commit; a crash between the two loses that one notification, never the flag itself.
    pub fn claim_stuck_notices(&mut self, limit: usize) -> Result<Vec<StuckNotice>, BookError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let notices = {
            let mut st = self.conn().prepare_cached(
                "SELECT id, merchant_order_id, provider, kind, account, stuck FROM orders \
                 WHERE stuck > stuck_notified ORDER BY id LIMIT ?1",
            )?;
            let rows = st.query_map([limit], |r| {
                let text = |i: usize| r.get::<_, String>(i);
                let bad = |i: usize, e: topup_core::ParseIdError| {
                    rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
                };
                Ok(StuckNotice {
                    id: r.get(0)?,
                    merchant_order_id: r.get(1)?,
                    provider: text(2)?.parse().map_err(|e| bad(2, e))?,
                    kind: text(3)?.parse().map_err(|e| bad(3, e))?,
                    account: r.get(4)?,
                    level: r.get(5)?,
                })
            })?;
            rows.collect::<Result<Vec<_>, _>>()?
        };
        let mut mark = self.conn().prepare_cached("UPDATE orders SET stuck_notified = ?2 WHERE id = ?1")?;
        for n in &notices {
            mark.execute(params![n.id, n.level])?;
        }
        Ok(notices)
    }
}
