//! The scheduler's questions to the `orders` table: what is due, when the next order falls due,
//! whether anything is pending. Each is one indexed query (`orders_due`, `orders_state`); the
//! scheduler (`run/`) asks them by name and holds no SQL of its own.

use super::{Book, BookError};
use rusqlite::{params, OptionalExtension};
use topup_core::ProviderId;

impl Book {
    /// Whether any order is not yet final and not waiting for a human (stops at the first one).
    pub fn has_pending(&self) -> Result<bool, BookError> {
        self.read(|c| {
            Ok(c.prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM orders WHERE state IN ('new', 'submitting', 'accepted', 'unknown'))",
            )?
            .query_row([], |r| r.get(0))?)
        })
    }

    /// The ids of `submitting` orders last changed at or before `cutoff` (ms), oldest first.
    pub fn submitting_since_before(&self, cutoff: i64) -> Result<Vec<i64>, BookError> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT id FROM orders WHERE state = 'submitting' AND updated_at <= ?1 ORDER BY updated_at, id",
            )?;
            let rows = st.query_map([cutoff], |r| r.get::<_, i64>(0))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// Orders not yet final and not waiting for a human.
    pub fn pending_count(&self) -> Result<i64, BookError> {
        self.read(|c| {
            Ok(c.prepare_cached(
                "SELECT COUNT(*) FROM orders WHERE state IN ('new', 'submitting', 'accepted', 'unknown')",
            )?
            .query_row([], |r| r.get(0))?)
        })
    }

    /// The ids of `provider`'s orders to act on now, oldest due first (index `orders_due`).
    pub fn due_ids(&self, provider: ProviderId, now: i64, limit: i64) -> Result<Vec<i64>, BookError> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT id FROM orders WHERE provider = ?1 AND state IN ('new', 'accepted', 'unknown') \
                 AND COALESCE(next_action_at, 0) <= ?2 ORDER BY COALESCE(next_action_at, 0), id LIMIT ?3",
            )?;
            let rows = st.query_map(params![provider.as_str(), now, limit], |r| r.get::<_, i64>(0))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// The earliest time after `now` at which one of `provider`'s pending orders falls due, if any.
    pub fn next_due_after(&self, provider: ProviderId, now: i64) -> Result<Option<i64>, BookError> {
        self.read(|c| {
            Ok(c.prepare_cached(
                "SELECT COALESCE(next_action_at, 0) FROM orders WHERE provider = ?1 \
                 AND state IN ('new', 'accepted', 'unknown') AND COALESCE(next_action_at, 0) > ?2 \
                 ORDER BY COALESCE(next_action_at, 0) LIMIT 1",
            )?
            .query_row(params![provider.as_str(), now], |r| r.get(0))
            .optional()?)
        })
    }
}
