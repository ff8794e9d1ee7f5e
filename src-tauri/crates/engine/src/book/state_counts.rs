//! The `state_counts` and `batch_counts` tables: orders per state, kept by triggers as orders change.
//!
//! Why kept and not counted: the board's status line wants the counts after every change batch
//! (ten a second under load), and a `GROUP BY` over 1,000,000 orders is a full scan (~44 ms). The
//! triggers (schema 5 for the book, schema 6 per import batch) update eight rows in the writing
//! transaction, so the counts are always those of the committed orders, and reading them is eight
//! rows however large the book. [`Change`](super::Change) carries them, read just before each commit.

use super::{Book, BookError, OrderState, Tx};
use rusqlite::{Connection, Params};
use serde::Serialize;

/// Orders per state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct StateCounts {
    pub new: i64,
    pub submitting: i64,
    pub accepted: i64,
    pub unknown: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub manual_review: i64,
    /// Orders that need a human (manual review, flagged, or past a stuck-order review limit).
    pub attention: i64,
    /// Orders past a stuck-order limit and still waiting ([`crate::run::stuck`]; 0 per batch).
    pub overdue: i64,
}

impl StateCounts {
    /// Sets the count of the state stored as `state` (its `as_str` name), or the attention count
    /// for the row named `attention`.
    fn set(&mut self, state: &str, n: i64) -> Result<(), BookError> {
        if state == "attention" {
            self.attention = n;
            return Ok(());
        }
        if state == "overdue" {
            self.overdue = n;
            return Ok(());
        }
        let slot = match state.parse::<OrderState>().map_err(|e| BookError::Corrupt(e.to_string()))? {
            OrderState::New => &mut self.new,
            OrderState::Submitting => &mut self.submitting,
            OrderState::Accepted => &mut self.accepted,
            OrderState::Unknown => &mut self.unknown,
            OrderState::Succeeded => &mut self.succeeded,
            OrderState::Failed => &mut self.failed,
            OrderState::ManualReview => &mut self.manual_review,
        };
        *slot = n;
        Ok(())
    }
}

/// [`StateCounts`] from a query's `(state, n)` rows, the row named `attention` being the attention count.
fn counts_from(c: &Connection, sql: &str, params: impl Params) -> Result<StateCounts, BookError> {
    let mut counts = StateCounts::default();
    let mut st = c.prepare_cached(sql)?;
    let mut rows = st.query(params)?;
    while let Some(r) = rows.next()? {
        let state: String = r.get(0)?;
        counts.set(&state, r.get(1)?)?;
    }
    Ok(counts)
}

const KEPT: &str = "SELECT state, n FROM state_counts";
const KEPT_BATCH: &str = "SELECT state, n FROM batch_counts WHERE batch_id = ?1";

impl Book {
    /// Orders per state and the orders that need a human, read from the counts the book keeps as
    /// orders change: eight rows, however large the book. (Change events carry the same figures.)
    pub fn state_counts(&self) -> Result<StateCounts, BookError> {
        self.read(|c| counts_from(c, KEPT, []))
    }

    /// The same figures as [`Book::state_counts`], counted afresh over every order (a full scan: ~44 ms
    /// at 1,000,000 orders). For tests and the benchmark, which check the kept counts against it.
    pub fn recount_state_counts(&self) -> Result<StateCounts, BookError> {
        self.read(|c| {
            counts_from(
                c,
                &format!(
                    "SELECT state, COUNT(*) FROM orders GROUP BY state UNION ALL \
                     SELECT 'attention', COUNT(*) FROM orders WHERE {} UNION ALL \
                     SELECT 'overdue', COUNT(*) FROM orders WHERE stuck <> 0",
                    super::NEEDS_ATTENTION
                ),
                [],
            )
        })
    }

    /// Orders of one import batch per state (import progress), from the kept `batch_counts`.
    pub fn batch_counts(&self, batch_id: i64) -> Result<StateCounts, BookError> {
        self.read(|c| counts_from(c, KEPT_BATCH, [batch_id]))
    }

    /// [`Book::batch_counts`] counted afresh over the batch's orders (tests check the kept ones by it).
    pub fn recount_batch_counts(&self, batch_id: i64) -> Result<StateCounts, BookError> {
        self.read(|c| {
            counts_from(
                c,
                "SELECT state, COUNT(*) FROM orders WHERE batch_id = ?1 GROUP BY state UNION ALL \
                 SELECT 'attention', COUNT(*) FROM orders \
                 WHERE batch_id = ?1 AND (state = 'manual_review' OR attention = 1)",
                [batch_id],
            )
        })
    }
}

impl Tx<'_> {
    /// The book's kept counts as this transaction sees them.
    pub(super) fn kept_state_counts(&self) -> Result<StateCounts, BookError> {
        counts_from(self.conn(), KEPT, [])
    }

    /// One batch's kept counts as this transaction sees them.
    pub(super) fn kept_batch_counts(&self, batch_id: i64) -> Result<StateCounts, BookError> {
        counts_from(self.conn(), KEPT_BATCH, [batch_id])
    }
}
