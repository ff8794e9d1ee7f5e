//! Orders, their events and batches: the rows, the writes (on [`Tx`]) and the reads (on [`Book`]).

use super::{now_ms, Book, BookError, OrderState, Tx};
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};
use serde::Serialize;
use std::str::FromStr;
use topup_core::{Li, ProductKind, ProviderId};

/// An order as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    #[serde(serialize_with = "id_as_string")]
    #[ts(type = "string")]
    pub id: i64,
    pub merchant_order_id: String,
    pub provider: ProviderId,
    pub kind: ProductKind,
    pub product_id: Option<String>,
    pub account: String,
    /// Kind-specific fields (game area/server, electricity details, quantity), as a JSON object.
    #[ts(type = "Record<string, unknown>")]
    pub details: serde_json::Value,
    pub face: Li,
    pub cost: Option<Li>,
    pub state: OrderState,
    pub provider_order_id: Option<String>,
    #[serde(serialize_with = "opt_id_as_string")]
    #[ts(type = "string | null")]
    pub batch_id: Option<i64>,
    #[serde(serialize_with = "opt_id_as_string")]
    #[ts(type = "string | null")]
    pub resubmit_of: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub submitted_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub attempts: i64,
    pub next_action_at: Option<i64>,
    pub last_error: Option<String>,
    /// Needs a human even though its state may be final (e.g. a callback contradicted it).
    pub attention: bool,
    pub note: Option<String>,
    /// How many status queries were made.
    pub queries: i64,
    pub last_query_at: Option<i64>,
    /// The order this one replaced by automatic fallback after a definite failure.
    #[serde(serialize_with = "opt_id_as_string")]
    #[ts(type = "string | null")]
    pub fallback_of: Option<i64>,
    /// When the last submit request of this order left (ms); `None` before its first send and for
    /// orders sent by a version before schema 3. Engine bookkeeping: not sent to the UI.
    #[serde(skip_serializing)]
    #[ts(skip)]
    pub last_sent_at: Option<i64>,
    /// How many verified callbacks arrived for it, replays included (schema 4). Engine bookkeeping:
    /// not sent to the UI.
    #[serde(skip_serializing)]
    #[ts(skip)]
    pub callbacks: i64,
    /// What the customer paid (售价), decided once at creation ([`crate::sale`]); `None`: unknown.
    pub sale: Option<Li>,
    pub sale_source: Option<crate::sale::SaleSource>,
    /// Who the order is for (客户).
    pub customer: Option<String>,
    /// `sale − cost` when both are known; `None` (unknown, never 0) otherwise.
    pub profit: Option<Li>,
}

fn id_as_string<S: serde::Serializer>(id: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&id.to_string())
}

/// Ids go to the web UI as strings: JavaScript numbers lose integers above 2^53.
fn opt_id_as_string<S: serde::Serializer>(id: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match id {
        Some(id) => s.serialize_str(&id.to_string()),
        None => s.serialize_none(),
    }
}

/// What is needed to store a new order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewOrder {
    pub merchant_order_id: String,
    pub provider: ProviderId,
    pub kind: ProductKind,
    pub product_id: Option<String>,
    pub account: String,
    pub details: serde_json::Value,
    pub face: Li,
    pub batch_id: Option<i64>,
    pub resubmit_of: Option<i64>,
    pub fallback_of: Option<i64>,
}

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

/// Something that changed in the order book, published after commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    Order { id: i64, state: OrderState },
    Batch { id: i64 },
    Settings,
}

/// Changes to an order's row that go with a transition ([`Tx::transition_with`]) or stand alone
/// ([`Tx::update_order`]). `None` leaves a column as it is; a `None` inside `next_action_at` clears it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Also<'a> {
    /// When the engine should next act on the order (as [`Tx::schedule`]).
    pub next_action_at: Option<Option<i64>>,
    /// The last error (as [`Tx::schedule`]: `None` keeps the previous one).
    pub last_error: Option<&'a str>,
    /// Provider facts (as [`Tx::set_provider_facts`]).
    pub provider_order_id: Option<&'a str>,
    pub cost: Option<Li>,
    /// When a submit request of the order left (as [`Tx::mark_sent`]).
    pub last_sent_at: Option<i64>,
}

/// A batch of imported orders.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct Batch {
    #[serde(serialize_with = "id_as_string")]
    #[ts(type = "string")]
    pub id: i64,
    pub file_name: String,
    pub content_hash: String,
    pub sheet: Option<String>,
    pub total_rows: i64,
    pub valid_rows: i64,
    pub invalid_rows: i64,
    pub skipped_rows: i64,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewBatch {
    pub file_name: String,
    pub content_hash: String,
    pub sheet: Option<String>,
    pub total_rows: i64,
    pub valid_rows: i64,
    pub invalid_rows: i64,
    pub skipped_rows: i64,
}

/// A filter for the order list; every part is optional. Filtering and paging happen in SQLite.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrderFilter {
    pub states: Vec<OrderState>,
    pub provider: Option<ProviderId>,
    pub batch_id: Option<i64>,
    /// Both bounds inclusive (ms): the UI sends local midnight and the day's last millisecond.
    pub created_from: Option<i64>,
    pub created_to: Option<i64>,
    /// Matches account, merchant order id or provider order id (prefix or exact).
    pub search: Option<String>,
    /// Only orders that need a human: manual review or flagged for attention.
    pub needs_attention: bool,
    pub offset: i64,
    pub limit: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct OrderPage {
    pub total: i64,
    pub orders: Vec<Order>,
}

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
    /// Orders that need a human (manual review or flagged).
    pub attention: i64,
}

impl StateCounts {
    /// Sets the count of the state stored as `state` (its `as_str` name).
    pub(crate) fn set(&mut self, state: &str, n: i64) -> Result<(), BookError> {
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
fn counts_from(c: &Connection, sql: &str) -> Result<StateCounts, BookError> {
    let mut counts = StateCounts::default();
    let mut st = c.prepare_cached(sql)?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let state: String = r.get(0)?;
        let n: i64 = r.get(1)?;
        if state == "attention" {
            counts.attention = n;
        } else {
            counts.set(&state, n)?;
        }
    }
    Ok(counts)
}

/// The columns [`order_from_row`] reads, in its order (a macro so that fixed queries are literals).
macro_rules! order_columns {
    () => {
        "id, merchant_order_id, provider, kind, product_id, account, details, face_li, cost_li, \
         state, provider_order_id, batch_id, resubmit_of, created_at, updated_at, submitted_at, finished_at, \
         attempts, next_action_at, last_error, attention, note, queries, last_query_at, fallback_of, last_sent_at, \
         callbacks, sale_li, sale_source, customer"
    };
}
const ORDER_COLUMNS: &str = order_columns!();
const ORDER_BY_ID: &str = concat!("SELECT ", order_columns!(), " FROM orders WHERE id = ?1");
const ORDER_BY_MERCHANT_ID: &str =
    concat!("SELECT ", order_columns!(), " FROM orders WHERE merchant_order_id = ?1");

fn order_from_row(row: &Row<'_>) -> rusqlite::Result<Order> {
    fn parsed<T: FromStr>(row: &Row<'_>, i: usize) -> rusqlite::Result<T>
    where
        T::Err: std::error::Error + Send + Sync + 'static,
    {
        let text: String = row.get(i)?;
        text.parse::<T>().map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        })
    }
    let details: String = row.get(6)?;
    let cost = row.get::<_, Option<i64>>(8)?.map(Li);
    let sale = row.get::<_, Option<i64>>(27)?.map(Li);
    let sale_source: Option<String> = row.get(28)?;
    Ok(Order {
        id: row.get(0)?,
        merchant_order_id: row.get(1)?,
        provider: parsed(row, 2)?,
        kind: parsed(row, 3)?,
        product_id: row.get(4)?,
        account: row.get(5)?,
        details: serde_json::from_str(&details).unwrap_or_else(|_| serde_json::json!({})),
        face: Li(row.get(7)?),
        cost,
        state: parsed(row, 9)?,
        provider_order_id: row.get(10)?,
        batch_id: row.get(11)?,
        resubmit_of: row.get(12)?,
        created_at: row.get(13)?,
        updated_at: row.get(14)?,
        submitted_at: row.get(15)?,
        finished_at: row.get(16)?,
        attempts: row.get(17)?,
        next_action_at: row.get(18)?,
        last_error: row.get(19)?,
        attention: row.get(20)?,
        note: row.get(21)?,
        queries: row.get(22)?,
        last_query_at: row.get(23)?,
        fallback_of: row.get(24)?,
        last_sent_at: row.get(25)?,
        callbacks: row.get(26)?,
        sale,
        sale_source: sale_source.and_then(|s| s.parse().ok()),
        customer: row.get(29)?,
        profit: match (sale, cost) {
            (Some(s), Some(c)) => s.checked_sub(c),
            _ => None,
        },
    })
}

/// Hot-path statements are prepared once per connection (`prepare_cached`): compiling the SQL again for
/// every call cost more than running it (about a fifth of the engine's CPU per order).
fn load_order(conn: &Connection, id: i64) -> Result<Order, BookError> {
    conn.prepare_cached(ORDER_BY_ID)?
        .query_row([id], order_from_row)
        .optional()?
        .ok_or_else(|| BookError::NotFound(id.to_string()))
}

impl Tx<'_> {
    /// Runs one statement through the connection's statement cache.
    fn exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.tx.prepare_cached(sql)?.execute(params)
    }
}

impl Tx<'_> {
    /// Stores a new order in state `new` and records its creation (no sale price, no customer).
    pub fn insert_order(&mut self, order: &NewOrder) -> Result<i64, BookError> {
        self.insert_order_sold(order, &crate::sale::Sold::default())
    }

    /// [`Tx::insert_order`] with what the order was sold for and to whom ([`crate::sale`]).
    pub fn insert_order_sold(
        &mut self,
        order: &NewOrder,
        sold: &crate::sale::Sold,
    ) -> Result<i64, BookError> {
        if order.face <= Li::ZERO {
            return Err(BookError::Invalid("面值必须大于 0 / face value must be positive".into()));
        }
        let now = now_ms();
        let inserted = self.exec(
            "INSERT INTO orders (merchant_order_id, provider, kind, product_id, account, details, face_li, state, \
             batch_id, resubmit_of, fallback_of, created_at, updated_at, sale_li, sale_source, customer, local_day) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'new', ?8, ?9, ?11, ?10, ?10, ?12, ?13, ?14, ?15)",
            params![
                order.merchant_order_id,
                order.provider.as_str(),
                order.kind.as_str(),
                order.product_id,
                order.account,
                order.details.to_string(),
                order.face.0,
                order.batch_id,
                order.resubmit_of,
                now,
                order.fallback_of,
                sold.sale.amount.map(|s| s.0),
                sold.sale.source.map(crate::sale::SaleSource::as_str),
                sold.customer,
                super::report::local_day(&self.tx, now)?,
            ],
        );
        match inserted {
            Ok(_) => {}
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                return Err(BookError::DuplicateMerchantId(order.merchant_order_id.clone()));
            }
            Err(e) => return Err(e.into()),
        }
        let id = self.tx.last_insert_rowid();
        self.add_event(id, EventKind::Created, None, Some(OrderState::New), "")?;
        self.changed(super::Change::Order { id, state: OrderState::New });
        Ok(id)
    }

    pub fn order(&self, id: i64) -> Result<Order, BookError> {
        load_order(&self.tx, id)
    }

    /// Moves an order to `to` if the state machine allows it, recording why. Returns the new order.
    pub fn transition(&mut self, id: i64, to: OrderState, detail: &str) -> Result<Order, BookError> {
        self.transition_with(id, to, detail, Also::default())
    }

    /// [`Tx::transition`] with other changes to the row ([`Also`]) written by the same `UPDATE`: each
    /// `UPDATE` re-writes the row and its index entries, and a stored reply used to take four.
    pub fn transition_with(
        &mut self,
        id: i64,
        to: OrderState,
        detail: &str,
        also: Also<'_>,
    ) -> Result<Order, BookError> {
        let current = self.order(id)?;
        self.transition_from(current, to, detail, also)
    }

    /// [`Tx::transition_with`] for an order already read in this transaction (`current` must be the
    /// row as it stands: nothing may have changed it since it was read).
    pub fn transition_from(
        &mut self,
        current: Order,
        to: OrderState,
        detail: &str,
        also: Also<'_>,
    ) -> Result<Order, BookError> {
        let id = current.id;
        let from = current.state;
        if !from.can_become(to) {
            return Err(BookError::IllegalTransition { order: current.merchant_order_id, from, to });
        }
        let now = now_ms();
        let finished = to.is_final().then_some(now);
        let submitted = (to == OrderState::Submitting && current.submitted_at.is_none()).then_some(now);
        let attempts_inc = i64::from(to == OrderState::Submitting);
        // The intent is committed just before the request leaves: its time is the send time until the
        // reply is stored with the exact one ([`Also::last_sent_at`]).
        let sent = if to == OrderState::Submitting { Some(now) } else { also.last_sent_at };
        self.exec(
            "UPDATE orders SET state = ?2, updated_at = ?3, finished_at = COALESCE(?4, finished_at), \
             submitted_at = COALESCE(submitted_at, ?5), attempts = attempts + ?6, \
             last_sent_at = COALESCE(?7, last_sent_at), \
             next_action_at = CASE WHEN ?8 THEN ?9 ELSE next_action_at END, \
             last_error = COALESCE(?10, last_error), provider_order_id = COALESCE(?11, provider_order_id), \
             cost_li = COALESCE(?12, cost_li) WHERE id = ?1",
            params![
                id,
                to.as_str(),
                now,
                finished,
                submitted,
                attempts_inc,
                sent,
                also.next_action_at.is_some(),
                also.next_action_at.flatten(),
                also.last_error,
                also.provider_order_id,
                also.cost.map(|c| c.0),
            ],
        )?;
        self.add_event(id, EventKind::State, Some(from), Some(to), detail)?;
        self.changed(super::Change::Order { id, state: to });
        // The row as the UPDATE above left it, without reading it back.
        Ok(Order {
            state: to,
            updated_at: now,
            finished_at: finished.or(current.finished_at),
            submitted_at: current.submitted_at.or(submitted),
            attempts: current.attempts + attempts_inc,
            last_sent_at: sent.or(current.last_sent_at),
            next_action_at: also.next_action_at.unwrap_or(current.next_action_at),
            last_error: also.last_error.map(str::to_owned).or(current.last_error),
            provider_order_id: also.provider_order_id.map(str::to_owned).or(current.provider_order_id),
            cost: also.cost.or(current.cost),
            ..current
        })
    }

    /// The changes of [`Also`] without a state change, in one `UPDATE` (bumps `updated_at`).
    pub fn update_order(&mut self, id: i64, also: Also<'_>) -> Result<(), BookError> {
        self.exec(
            "UPDATE orders SET updated_at = ?2, last_sent_at = COALESCE(?3, last_sent_at), \
             next_action_at = CASE WHEN ?4 THEN ?5 ELSE next_action_at END, \
             last_error = COALESCE(?6, last_error), provider_order_id = COALESCE(?7, provider_order_id), \
             cost_li = COALESCE(?8, cost_li) WHERE id = ?1",
            params![
                id,
                now_ms(),
                also.last_sent_at,
                also.next_action_at.is_some(),
                also.next_action_at.flatten(),
                also.last_error,
                also.provider_order_id,
                also.cost.map(|c| c.0),
            ],
        )?;
        Ok(())
    }

    /// The order with this merchant id, read inside the transaction.
    pub fn order_by_merchant_id(&self, merchant_order_id: &str) -> Result<Option<Order>, BookError> {
        Ok(self
            .tx
            .prepare_cached(ORDER_BY_MERCHANT_ID)?
            .query_row([merchant_order_id], order_from_row)
            .optional()?)
    }

    /// Records when a submit request of the order left (ms since the epoch).
    pub fn mark_sent(&mut self, id: i64, at: i64) -> Result<(), BookError> {
        self.exec("UPDATE orders SET last_sent_at = ?2 WHERE id = ?1", params![id, at])?;
        Ok(())
    }

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

    /// Records facts learnt from the provider without changing the state.
    pub fn set_provider_facts(
        &mut self,
        id: i64,
        provider_order_id: Option<&str>,
        cost: Option<Li>,
    ) -> Result<(), BookError> {
        self.exec(
            "UPDATE orders SET provider_order_id = COALESCE(?2, provider_order_id), \
             cost_li = COALESCE(?3, cost_li), updated_at = ?4 WHERE id = ?1",
            params![id, provider_order_id, cost.map(|c| c.0), now_ms()],
        )?;
        Ok(())
    }

    /// Sets when the engine should next act on the order (submit again or query), and the last error.
    pub fn schedule(
        &mut self,
        id: i64,
        next_action_at: Option<i64>,
        last_error: Option<&str>,
    ) -> Result<(), BookError> {
        self.exec(
            "UPDATE orders SET next_action_at = ?2, last_error = COALESCE(?3, last_error), updated_at = ?4 WHERE id = ?1",
            params![id, next_action_at, last_error, now_ms()],
        )?;
        Ok(())
    }

    /// Flags (or clears) an order as needing a human, with a note in its history.
    pub fn set_attention(&mut self, id: i64, attention: bool, detail: &str) -> Result<(), BookError> {
        self.exec(
            "UPDATE orders SET attention = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, attention, now_ms()],
        )?;
        let state = self.order(id)?.state;
        self.add_event(id, EventKind::Note, None, None, detail)?;
        self.changed(super::Change::Order { id, state });
        Ok(())
    }

    /// Counts a status query made now.
    pub fn record_query(&mut self, id: i64) -> Result<(), BookError> {
        let now = now_ms();
        self.exec(
            "UPDATE orders SET queries = queries + 1, last_query_at = ?2, updated_at = ?2 WHERE id = ?1",
            params![id, now],
        )?;
        Ok(())
    }

    pub fn set_note(&mut self, id: i64, note: &str) -> Result<(), BookError> {
        self.exec("UPDATE orders SET note = ?2, updated_at = ?3 WHERE id = ?1", params![id, note, now_ms()])?;
        self.add_event(id, EventKind::Note, None, None, note)?;
        Ok(())
    }

    pub fn insert_batch(&mut self, batch: &NewBatch) -> Result<i64, BookError> {
        self.exec(
            "INSERT INTO batches (file_name, content_hash, sheet, total_rows, valid_rows, invalid_rows, skipped_rows, \
             created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                batch.file_name,
                batch.content_hash,
                batch.sheet,
                batch.total_rows,
                batch.valid_rows,
                batch.invalid_rows,
                batch.skipped_rows,
                now_ms()
            ],
        )?;
        let id = self.tx.last_insert_rowid();
        self.changed(super::Change::Batch { id });
        Ok(id)
    }

    pub fn put_provider_settings(
        &mut self,
        provider: ProviderId,
        settings: &serde_json::Value,
    ) -> Result<(), BookError> {
        self.exec(
            "INSERT INTO provider_settings (provider, settings, updated_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT(provider) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at",
            params![provider.as_str(), settings.to_string(), now_ms()],
        )?;
        self.changed(super::Change::Settings);
        Ok(())
    }

    pub fn put_app_setting(&mut self, key: &str, value: &str) -> Result<(), BookError> {
        self.exec(
            "INSERT INTO app_settings (key, value) VALUES (?1, ?2) \
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        self.changed(super::Change::Settings);
        Ok(())
    }
}

impl Book {
    /// Orders the engine should act on now (submit `new`, query `accepted`/`unknown`), oldest due first.
    pub fn due_orders(&self, now: i64, limit: i64) -> Result<Vec<Order>, BookError> {
        self.read(|c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {ORDER_COLUMNS} FROM orders WHERE state IN ('new', 'accepted', 'unknown') \
                 AND COALESCE(next_action_at, 0) <= ?1 ORDER BY COALESCE(next_action_at, 0), id LIMIT ?2"
            ))?;
            let rows = st.query_map(params![now, limit], order_from_row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// Orders in a given state (crash recovery, reports).
    pub fn orders_in_state(&self, state: OrderState) -> Result<Vec<Order>, BookError> {
        self.read(|c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {ORDER_COLUMNS} FROM orders WHERE state = ?1 ORDER BY id"
            ))?;
            let rows = st.query_map([state.as_str()], order_from_row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// The earliest time any pending order is due, if there is one.
    pub fn next_due_at(&self) -> Result<Option<i64>, BookError> {
        self.read(|c| {
            Ok(c.prepare_cached(
                "SELECT MIN(COALESCE(next_action_at, 0)) FROM orders WHERE state IN ('new', 'accepted', 'unknown')",
            )?
            .query_row([], |r| r.get(0))?)
        })
    }

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

    /// Orders for the same account and face value created since `since` (duplicate warning).
    pub fn recent_same_orders(&self, account: &str, face: Li, since: i64) -> Result<Vec<Order>, BookError> {
        self.read(|c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {ORDER_COLUMNS} FROM orders WHERE account = ?1 AND face_li = ?2 AND created_at >= ?3 ORDER BY id"
            ))?;
            let rows = st.query_map(params![account, face.0, since], order_from_row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    pub fn order(&self, id: i64) -> Result<Order, BookError> {
        self.read(|c| load_order(c, id))
    }

    pub fn order_by_merchant_id(&self, merchant_order_id: &str) -> Result<Option<Order>, BookError> {
        self.read(|c| {
            Ok(c.prepare_cached(ORDER_BY_MERCHANT_ID)?
                .query_row([merchant_order_id], order_from_row)
                .optional()?)
        })
    }

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

    /// One page of orders, newest first, filtered in SQLite.
    pub fn list_orders(&self, filter: &OrderFilter) -> Result<OrderPage, BookError> {
        let mut clauses: Vec<String> = Vec::new();
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        if !filter.states.is_empty() {
            let marks = vec!["?"; filter.states.len()].join(", ");
            clauses.push(format!("state IN ({marks})"));
            args.extend(filter.states.iter().map(|s| s.as_str().to_owned().into()));
        }
        if let Some(p) = filter.provider {
            clauses.push("provider = ?".into());
            args.push(p.as_str().to_owned().into());
        }
        if let Some(b) = filter.batch_id {
            clauses.push("batch_id = ?".into());
            args.push(b.into());
        }
        if let Some(from) = filter.created_from {
            clauses.push("created_at >= ?".into());
            args.push(from.into());
        }
        if let Some(to) = filter.created_to {
            clauses.push("created_at <= ?".into());
            args.push(to.into());
        }
        if let Some(q) = filter.search.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            clauses.push(
                "(account >= ?1s AND account < ?1s || char(1114111) OR merchant_order_id = ?1s OR provider_order_id = ?1s)"
                    .replace("?1s", "?"),
            );
            // The same text four times: prefix on account, exact on the two ids.
            let q = q.to_owned();
            args.extend([q.clone().into(), q.clone().into(), q.clone().into(), q.into()]);
        }
        if filter.needs_attention {
            clauses.push("(state = 'manual_review' OR attention = 1)".into());
        }
        let filter_sql =
            if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
        let limit = if filter.limit <= 0 { 100 } else { filter.limit.min(1000) };
        self.read(|c| {
            let total: i64 = c.query_row(
                &format!("SELECT COUNT(*) FROM orders {filter_sql}"),
                params_from_iter(args.iter()),
                |r| r.get(0),
            )?;
            let mut page_args = args.clone();
            page_args.push(limit.into());
            page_args.push(filter.offset.max(0).into());
            let mut st = c.prepare(&format!(
                "SELECT {ORDER_COLUMNS} FROM orders {filter_sql} ORDER BY id DESC LIMIT ? OFFSET ?"
            ))?;
            let orders = st
                .query_map(params_from_iter(page_args.iter()), order_from_row)?
                .collect::<Result<_, _>>()?;
            Ok(OrderPage { total, orders })
        })
    }

    /// Orders per state and the orders that need a human, read from the counts the book keeps as
    /// orders change (schema 5: `state_counts`, maintained by triggers in the writing transaction):
    /// eight rows, however large the book. The status line calls this after every change batch.
    pub fn state_counts(&self) -> Result<StateCounts, BookError> {
        self.read(|c| counts_from(c, "SELECT state, n FROM state_counts"))
    }

    /// The same figures as [`Book::state_counts`], counted afresh over every order (a full scan: ~44 ms
    /// at 1,000,000 orders). For tests and the benchmark, which check the kept counts against it.
    pub fn recount_state_counts(&self) -> Result<StateCounts, BookError> {
        self.read(|c| {
            counts_from(
                c,
                "SELECT state, COUNT(*) FROM orders GROUP BY state UNION ALL \
                 SELECT 'attention', COUNT(*) FROM orders WHERE state = 'manual_review' OR attention = 1",
            )
        })
    }

    pub fn batch(&self, id: i64) -> Result<Batch, BookError> {
        self.read(|c| {
            c.query_row(
                "SELECT id, file_name, content_hash, sheet, total_rows, valid_rows, invalid_rows, skipped_rows, created_at \
                 FROM batches WHERE id = ?1",
                [id],
                |r| {
                    Ok(Batch {
                        id: r.get(0)?,
                        file_name: r.get(1)?,
                        content_hash: r.get(2)?,
                        sheet: r.get(3)?,
                        total_rows: r.get(4)?,
                        valid_rows: r.get(5)?,
                        invalid_rows: r.get(6)?,
                        skipped_rows: r.get(7)?,
                        created_at: r.get(8)?,
                    })
                },
            )
            .optional()?
            .ok_or_else(|| BookError::NotFound(format!("batch {id}")))
        })
    }

    pub fn provider_settings(&self, provider: ProviderId) -> Result<Option<serde_json::Value>, BookError> {
        self.read(|c| {
            let text: Option<String> = c
                .query_row(
                    "SELECT settings FROM provider_settings WHERE provider = ?1",
                    [provider.as_str()],
                    |r| r.get(0),
                )
                .optional()?;
            text.map(|t| serde_json::from_str(&t).map_err(|e| BookError::Corrupt(e.to_string()))).transpose()
        })
    }

    pub fn app_setting(&self, key: &str) -> Result<Option<String>, BookError> {
        self.read(|c| {
            Ok(c.query_row("SELECT value FROM app_settings WHERE key = ?1", [key], |r| r.get(0))
                .optional()?)
        })
    }
}

impl Tx<'_> {
    /// Stores many new orders (an import batch) in state `new`, each with its `created` event, using
    /// prepared statements: [`Tx::insert_order`] prepares its SQL per call and publishes one change per
    /// order, which is too slow for a 100,000-row file. No per-order change is published: the caller
    /// inserts the batch with [`Tx::insert_batch`], whose change tells watchers to re-read. `notes[i]`
    /// is stored as the note of `orders[i]`. Returns the new row ids in order.
    pub fn insert_orders_bulk(
        &mut self,
        orders: &[NewOrder],
        notes: &[Option<String>],
    ) -> Result<Vec<i64>, BookError> {
        self.insert_orders_bulk_sold(orders, notes, &[])
    }

    /// [`Tx::insert_orders_bulk`] with each order's sale and customer (`sold[i]` for `orders[i]`;
    /// missing: none).
    pub fn insert_orders_bulk_sold(
        &mut self,
        orders: &[NewOrder],
        notes: &[Option<String>],
        sold: &[crate::sale::Sold],
    ) -> Result<Vec<i64>, BookError> {
        const PER_STATEMENT: usize = 50;
        const ROW: &str = "(?, ?, ?, ?, ?, ?, ?, 'new', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
        const HEAD: &str =
            "INSERT INTO orders (merchant_order_id, provider, kind, product_id, account, details, \
             face_li, state, batch_id, resubmit_of, fallback_of, created_at, updated_at, note, \
             sale_li, sale_source, customer, local_day) VALUES ";
        if orders.iter().any(|o| o.face <= Li::ZERO) {
            return Err(BookError::Invalid("面值必须大于 0 / face value must be positive".into()));
        }
        let now = now_ms();
        let day = super::report::local_day(&self.tx, now)?;
        let none = crate::sale::Sold::default();
        let mut ids = Vec::with_capacity(orders.len());
        // Rows go in groups of PER_STATEMENT per INSERT (far less per-statement work for SQLite); the
        // remainder one by one. A failed multi-row INSERT is rolled back as a whole statement.
        let many = format!("{HEAD}{}", vec![ROW; PER_STATEMENT].join(", "));
        let one = format!("{HEAD}{ROW}");
        let mut start = 0;
        while start < orders.len() {
            let n = if orders.len() - start >= PER_STATEMENT { PER_STATEMENT } else { 1 };
            let group = &orders[start..start + n];
            let mut st = self.tx.prepare_cached(if n == 1 { &one } else { &many })?;
            let mut p = 1;
            for (k, order) in group.iter().enumerate() {
                let note = notes.get(start + k).cloned().flatten();
                st.raw_bind_parameter(p, &order.merchant_order_id)?;
                st.raw_bind_parameter(p + 1, order.provider.as_str())?;
                st.raw_bind_parameter(p + 2, order.kind.as_str())?;
                st.raw_bind_parameter(p + 3, &order.product_id)?;
                st.raw_bind_parameter(p + 4, &order.account)?;
                st.raw_bind_parameter(p + 5, order.details.to_string())?;
                st.raw_bind_parameter(p + 6, order.face.0)?;
                st.raw_bind_parameter(p + 7, order.batch_id)?;
                st.raw_bind_parameter(p + 8, order.resubmit_of)?;
                st.raw_bind_parameter(p + 9, order.fallback_of)?;
                st.raw_bind_parameter(p + 10, now)?;
                st.raw_bind_parameter(p + 11, now)?;
                st.raw_bind_parameter(p + 12, note)?;
                let sold = sold.get(start + k).unwrap_or(&none);
                st.raw_bind_parameter(p + 13, sold.sale.amount.map(|s| s.0))?;
                st.raw_bind_parameter(p + 14, sold.sale.source.map(crate::sale::SaleSource::as_str))?;
                st.raw_bind_parameter(p + 15, &sold.customer)?;
                st.raw_bind_parameter(p + 16, day)?;
                p += 17;
            }
            match st.raw_execute() {
                Ok(_) => {}
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    drop(st);
                    return Err(BookError::DuplicateMerchantId(self.clashing_id(group)));
                }
                Err(e) => return Err(e.into()),
            }
            // Rowids of an INTEGER PRIMARY KEY table are max + 1 per row, and this transaction holds
            // the write lock: the group's ids are consecutive and end at the last one.
            let last = self.tx.last_insert_rowid();
            ids.extend((last - n as i64 + 1)..=last);
            start += n;
        }
        // The `created` events in one statement: the ids are ours (this transaction holds the write
        // lock), and one INSERT … SELECT is far cheaper than 100,000 single inserts.
        if let (Some(first), Some(last)) = (ids.first(), ids.last()) {
            let mut events = self.tx.prepare_cached(
                "INSERT INTO order_events (order_id, at, kind, from_state, to_state, detail) \
                 SELECT id, ?3, 'created', NULL, 'new', '' FROM orders WHERE id BETWEEN ?1 AND ?2 ORDER BY id",
            )?;
            let n = events.execute(params![first, last, now])?;
            if n != ids.len() {
                return Err(BookError::Corrupt(format!("created events: {n} for {} orders", ids.len())));
            }
        }
        Ok(ids)
    }
}

impl Tx<'_> {
    /// Which merchant id of a group that failed its UNIQUE check clashes (with the book or within it).
    fn clashing_id(&self, group: &[NewOrder]) -> String {
        let mut seen = std::collections::HashSet::new();
        for o in group {
            let exists = self
                .tx
                .query_row(
                    "SELECT 1 FROM orders WHERE merchant_order_id = ?1",
                    [&o.merchant_order_id],
                    |_| Ok(()),
                )
                .optional()
                .ok()
                .flatten()
                .is_some();
            if exists || !seen.insert(o.merchant_order_id.as_str()) {
                return o.merchant_order_id.clone();
            }
        }
        group.first().map(|o| o.merchant_order_id.clone()).unwrap_or_default()
    }
}
