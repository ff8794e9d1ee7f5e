//! The `order_events` table: each order's history (created, state changes, exchanges with the
//! provider, callbacks, notes), append-only. `detail` is stored already redacted.

use super::orders::id_as_string;
use super::{now_ms, Book, BookError, OrderState, Tx};
use rusqlite::params;
use serde::Serialize;

/// What the history of an order records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Created,
    State,
    Exchange,
    Callback,
    Note,
    Error,
}

impl EventKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            EventKind::Created => "created",
            EventKind::State => "state",
            EventKind::Exchange => "exchange",
            EventKind::Callback => "callback",
            EventKind::Note => "note",
            EventKind::Error => "error",
        }
    }
}

/// One line of an order's history. `detail` is already redacted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct OrderEvent {
    #[serde(serialize_with = "id_as_string")]
    #[ts(type = "string")]
    pub id: i64,
    pub at: i64,
    /// One of [`EventKind`]'s names.
    #[ts(as = "EventKind")]
    pub kind: String,
    pub from_state: Option<OrderState>,
    pub to_state: Option<OrderState>,
    pub detail: String,
}

impl Tx<'_> {
    /// Appends a line to an order's history. `detail` must already be redacted.
    pub fn add_event(
        &mut self,
        order_id: i64,
        kind: EventKind,
        from: Option<OrderState>,
        to: Option<OrderState>,
        detail: &str,
    ) -> Result<i64, BookError> {
        self.exec(
            "INSERT INTO order_events (order_id, at, kind, from_state, to_state, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![order_id, now_ms(), kind.as_str(), from.map(|s| s.as_str()), to.map(|s| s.as_str()), detail],
        )?;
        Ok(self.tx.last_insert_rowid())
    }

    /// The `created` events of the orders `first..=last` (an import batch), in one statement.
    pub(super) fn add_created_events(&mut self, first: i64, last: i64, at: i64) -> Result<usize, BookError> {
        Ok(self.exec(
            "INSERT INTO order_events (order_id, at, kind, from_state, to_state, detail) \
             SELECT id, ?3, 'created', NULL, 'new', '' FROM orders WHERE id BETWEEN ?1 AND ?2 ORDER BY id",
            params![first, last, at],
        )?)
    }

    /// Whether the order's history holds an event of `kind` whose detail starts with `head` (exactly,
    /// case included): a callback of this kind was stored already, an alert was raised once. Reads the
    /// order's own events only (index `order_events_order`), which stay few because replays are not
    /// stored.
    pub(crate) fn has_event(&self, order_id: i64, kind: EventKind, head: &str) -> Result<bool, BookError> {
        Ok(self
            .tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM order_events WHERE order_id = ?1 AND kind = ?2 \
                 AND substr(detail, 1, length(?3)) = ?3)",
            )?
            .query_row(params![order_id, kind.as_str(), head], |r| r.get(0))?)
    }
}

impl Book {
    /// An order's history, oldest first.
    pub fn events(&self, order_id: i64) -> Result<Vec<OrderEvent>, BookError> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT id, at, kind, from_state, to_state, detail FROM order_events WHERE order_id = ?1 ORDER BY id",
            )?;
            let rows = st.query_map([order_id], |r| {
                let from: Option<String> = r.get(3)?;
                let to: Option<String> = r.get(4)?;
                Ok(OrderEvent {
                    id: r.get(0)?,
                    at: r.get(1)?,
                    kind: r.get(2)?,
                    from_state: from.and_then(|s| s.parse().ok()),
                    to_state: to.and_then(|s| s.parse().ok()),
                    detail: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }
}
