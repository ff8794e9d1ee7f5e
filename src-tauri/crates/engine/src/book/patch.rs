//! Writing the `orders` table: a new order, a state change, and every other change to a row, each
//! one `INSERT`/`UPDATE … RETURNING` that gives back the row as committed for the change event.
//!
//! Why one patch type: the engine used to have seven overlapping update functions (`update_order`,
//! `schedule`, `set_provider_facts`, `mark_sent`, `record_query`, `set_attention`, `set_note`), each
//! its own `UPDATE` (a stored reply took four, each rewriting the row and its index entries) and
//! each deciding differently whether `updated_at` moved or the UI heard of it. Now a change to a row
//! is an [`OrderPatch`]: with a state change it goes through [`Tx::transition_from`] (the state
//! machine, [`OrderState::can_become`], is checked there and only there; the schema's trigger
//! refuses leaving a final state below it), without one through [`Tx::patch_order`]. Both bump
//! `updated_at` and publish the row.

use super::orders::{load_order, order_from_row};
use super::{now_ms, BookError, Change, EventKind, NewOrder, Order, OrderState, Tx};
use rusqlite::{params, OptionalExtension};
use topup_core::Li;

/// Changes to an order's row, with a transition ([`Tx::transition_with`]) or alone
/// ([`Tx::patch_order`]). `None` (or `false`) leaves a column as it is; a `None` inside
/// `next_action_at` clears it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OrderPatch<'a> {
    /// When the engine should next act on the order (submit again or query).
    pub next_action_at: Option<Option<i64>>,
    /// The last error (`None` keeps the previous one).
    pub last_error: Option<&'a str>,
    /// Facts learnt from the provider.
    pub provider_order_id: Option<&'a str>,
    pub cost: Option<Li>,
    /// When a submit request of the order left (ms).
    pub last_sent_at: Option<i64>,
    /// Flags (`true`) or clears (`false`) the order as needing a human.
    pub attention: Option<bool>,
    /// The operator's note.
    pub note: Option<&'a str>,
    /// Counts a status query made now (`queries + 1`, `last_query_at`).
    pub queried: bool,
}

/// The columns an [`OrderPatch`] sets, numbered after the six of a transition (`?1` the id, `?3` now).
macro_rules! patch_set {
    () => {
        "last_sent_at = COALESCE(?7, last_sent_at), \
         next_action_at = CASE WHEN ?8 THEN ?9 ELSE next_action_at END, \
         last_error = COALESCE(?10, last_error), provider_order_id = COALESCE(?11, provider_order_id), \
         cost_li = COALESCE(?12, cost_li), attention = COALESCE(?13, attention), note = COALESCE(?14, note), \
         queries = queries + ?15, last_query_at = CASE WHEN ?15 THEN ?3 ELSE last_query_at END"
    };
}

const TRANSITION: &str = concat!(
    "UPDATE orders SET state = ?2, updated_at = ?3, finished_at = COALESCE(?4, finished_at), \
     submitted_at = COALESCE(submitted_at, ?5), attempts = attempts + ?6, ",
    patch_set!(),
    " WHERE id = ?1 RETURNING ",
    order_columns!()
);

/// The same without touching `state` (so no state trigger or index entry is involved): `?2`, `?4`,
/// `?5` and `?6` are bound and unused.
const PATCH: &str = concat!(
    "UPDATE orders SET updated_at = ?3, ",
    patch_set!(),
    " WHERE id = ?1 RETURNING ",
    order_columns!()
);

const INSERT: &str = concat!(
    "INSERT INTO orders (merchant_order_id, provider, kind, product_id, account, details, face_li, state, \
     batch_id, resubmit_of, fallback_of, created_at, updated_at, sale_li, sale_source, customer, local_day) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'new', ?8, ?9, ?11, ?10, ?10, ?12, ?13, ?14, ?15) RETURNING ",
    order_columns!()
);

fn positive(face: Li) -> Result<(), BookError> {
    if face <= Li::ZERO {
        return Err(BookError::Invalid(crate::msg!("面值必须大于 0", "face value must be positive")));
    }
    Ok(())
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
        positive(order.face)?;
        let now = now_ms();
        let day = super::report::local_day(&self.tx, now)?;
        let inserted = self.tx.prepare_cached(INSERT)?.query_row(
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
                day,
            ],
            order_from_row,
        );
        let row = match inserted {
            Ok(row) => row,
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                return Err(BookError::DuplicateMerchantId(order.merchant_order_id.clone()));
            }
            Err(e) => return Err(e.into()),
        };
        let id = row.id;
        self.add_event(id, EventKind::Created, None, Some(OrderState::New), "")?;
        self.changed(Change::order(row));
        Ok(id)
    }

    /// The order as it stands in this transaction.
    pub fn order(&self, id: i64) -> Result<Order, BookError> {
        load_order(&self.tx, id)
    }

    /// Moves an order to `to` if the state machine allows it, recording why. Returns the new order.
    pub fn transition(&mut self, id: i64, to: OrderState, detail: &str) -> Result<Order, BookError> {
        self.transition_with(id, to, detail, OrderPatch::default())
    }

    /// [`Tx::transition`] with other changes to the row written by the same `UPDATE`.
    pub fn transition_with(
        &mut self,
        id: i64,
        to: OrderState,
        detail: &str,
        patch: OrderPatch<'_>,
    ) -> Result<Order, BookError> {
        let current = self.order(id)?;
        self.transition_from(current, to, detail, patch)
    }

    /// [`Tx::transition_with`] for an order already read in this transaction (`current` must be the
    /// row as it stands: nothing may have changed it since it was read).
    pub fn transition_from(
        &mut self,
        current: Order,
        to: OrderState,
        detail: &str,
        patch: OrderPatch<'_>,
    ) -> Result<Order, BookError> {
        let from = current.state;
        if !from.can_become(to) {
            return Err(BookError::IllegalTransition { order: current.merchant_order_id, from, to });
        }
        let submitting = to == OrderState::Submitting;
        // The intent is committed just before the request leaves: its time is the send time until the
        // reply is stored with the exact one ([`OrderPatch::last_sent_at`]).
        let now = now_ms();
        let patch =
            OrderPatch { last_sent_at: if submitting { Some(now) } else { patch.last_sent_at }, ..patch };
        let row = self.update(TRANSITION, current.id, Some(to), now, patch)?;
        self.add_event(current.id, EventKind::State, Some(from), Some(to), detail)?;
        self.changed(Change::order(row.clone()));
        Ok(row)
    }

    /// Changes an order's row without changing its state (bumps `updated_at`); returns the new row.
    /// History lines that go with it are the caller's ([`Tx::add_event`]).
    pub fn patch_order(&mut self, id: i64, patch: OrderPatch<'_>) -> Result<Order, BookError> {
        let row = self.update(PATCH, id, None, now_ms(), patch)?;
        self.changed(Change::order(row.clone()));
        Ok(row)
    }

    fn update(
        &mut self,
        sql: &str,
        id: i64,
        to: Option<OrderState>,
        now: i64,
        patch: OrderPatch<'_>,
    ) -> Result<Order, BookError> {
        let finished = to.is_some_and(OrderState::is_final).then_some(now);
        let submitting = to == Some(OrderState::Submitting);
        Ok(self.tx.prepare_cached(sql)?.query_row(
            params![
                id,
                to.map(OrderState::as_str),
                now,
                finished,
                submitting.then_some(now),
                i64::from(submitting),
                patch.last_sent_at,
                patch.next_action_at.is_some(),
                patch.next_action_at.flatten(),
                patch.last_error,
                patch.provider_order_id,
                patch.cost.map(|c| c.0),
                patch.attention,
                patch.note,
                i64::from(patch.queried),
            ],
            order_from_row,
        )?)
    }

    /// Flags (or clears) an order as needing a human, with a line in its history saying why.
    pub fn set_attention(&mut self, id: i64, attention: bool, why: &str) -> Result<Order, BookError> {
        let row = self.patch_order(id, OrderPatch { attention: Some(attention), ..OrderPatch::default() })?;
        self.add_event(id, EventKind::Note, None, None, why)?;
        Ok(row)
    }

    /// Counts a verified callback for the order. Not a change the UI needs to see: `updated_at` and
    /// the published changes are left alone.
    ///
    /// Why a counter: a callback is acknowledged only after it is stored, and a provider retries until
    /// it is, so the same callback arrives many times — and anyone who captured one can replay it at
    /// will. If every arrival stored an event, a replay would cost us a row (and its body) per request.
    /// So every verified callback bumps `orders.callbacks`, and the engine stores an event only for a
    /// callback that changes the order or says something the history does not hold yet
    /// (`run::apply::callback`, using [`Tx::has_event`]).
    pub(crate) fn count_callback(&mut self, id: i64) -> Result<(), BookError> {
        self.exec("UPDATE orders SET callbacks = callbacks + 1 WHERE id = ?1", [id])?;
        Ok(())
    }
}

impl Tx<'_> {
    /// Stores many new orders (an import batch) in state `new`, each with its `created` event, using
    /// prepared statements: [`Tx::insert_order`] prepares its SQL per call and publishes one change per
    /// order, which is too slow for a 100,000-row file. No per-order change is published: the caller
    /// inserts the batch with [`Tx::insert_batch`], whose change (with the batch's counts) tells watchers. `notes[i]`
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
        orders.iter().try_for_each(|o| positive(o.face))?;
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
            let n = self.add_created_events(*first, *last, now)?;
            if n != ids.len() {
                return Err(BookError::Corrupt(format!("created events: {n} for {} orders", ids.len())));
            }
        }
        Ok(ids)
    }

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
