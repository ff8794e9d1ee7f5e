//! What the order book keeps of provider callbacks: a counter per order, and the callback events.
//!
//! Why a counter: a callback is acknowledged only after it is stored, and a provider retries until it
//! is, so the same callback arrives many times — and anyone who captured one can replay it at will.
//! If every arrival stored an event, a replay would cost us a row (and its body) per request. So every
//! verified callback bumps `orders.callbacks`, and the engine stores an event only for a callback that
//! changes the order or says something the history does not hold yet (see `run::apply::callback`).

use super::{BookError, EventKind, Tx};
use rusqlite::params;

impl Tx<'_> {
    /// Counts a verified callback for the order. Not a change the UI needs to see: `updated_at` and
    /// the published changes are left alone.
    pub fn count_callback(&mut self, id: i64) -> Result<(), BookError> {
        self.tx.prepare_cached("UPDATE orders SET callbacks = callbacks + 1 WHERE id = ?1")?.execute([id])?;
        Ok(())
    }

    /// Whether the order's history holds an event of `kind` whose detail starts with `head` (exactly,
    /// case included): a callback of this kind was stored already, an alert was raised once. Reads the
    /// order's own events only (index `order_events_order`), which stay few because replays are not
    /// stored.
    pub fn has_event(&self, order_id: i64, kind: EventKind, head: &str) -> Result<bool, BookError> {
        Ok(self
            .tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM order_events WHERE order_id = ?1 AND kind = ?2 \
                 AND substr(detail, 1, length(?3)) = ?3)",
            )?
            .query_row(params![order_id, kind.as_str(), head], |r| r.get(0))?)
    }
}
