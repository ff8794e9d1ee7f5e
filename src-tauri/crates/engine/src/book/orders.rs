//! The `orders` table: the row type, reading it, and the order list. Writing it is in [`super::patch`].

use super::{Book, BookError, OrderState, Tx};
use crate::contract::{BatchId, OrderId};
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};
use serde::Serialize;
use std::str::FromStr;
use topup_core::{Li, ProductKind, ProviderId};

/// An order as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    #[serde(serialize_with = "OrderId::serialize_raw")]
    #[ts(as = "OrderId")]
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
    #[serde(serialize_with = "BatchId::serialize_opt_raw")]
    #[ts(as = "Option<BatchId>")]
    pub batch_id: Option<i64>,
    #[serde(serialize_with = "OrderId::serialize_opt_raw")]
    #[ts(as = "Option<OrderId>")]
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
    #[serde(serialize_with = "OrderId::serialize_opt_raw")]
    #[ts(as = "Option<OrderId>")]
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
    /// How far past its stuck-order rule the order is (schema 7; [`crate::run::stuck`]).
    pub stuck: super::StuckLevel,
    /// What the customer paid (售价), decided once at creation ([`crate::sale`]); `None`: unknown.
    pub sale: Option<Li>,
    pub sale_source: Option<crate::sale::SaleSource>,
    /// Who the order is for (客户).
    pub customer: Option<String>,
    /// `sale − cost` when both are known; `None` (unknown, never 0) otherwise.
    pub profit: Option<Li>,
}

/// A string for JavaScript, like every id the UI sees (an event has no id newtype of its own).
pub(super) fn id_as_string<S: serde::Serializer>(id: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(id)
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
    /// Only orders past a stuck-order limit and still waiting ([`crate::run::stuck`]).
    pub overdue: bool,
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

pub(super) const ORDER_COLUMNS: &str = order_columns!();
const ORDER_BY_ID: &str = concat!("SELECT ", order_columns!(), " FROM orders WHERE id = ?1");
const ORDER_BY_MERCHANT_ID: &str =
    concat!("SELECT ", order_columns!(), " FROM orders WHERE merchant_order_id = ?1");

pub(super) fn order_from_row(row: &Row<'_>) -> rusqlite::Result<Order> {
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
    let sale = row.get::<_, Option<i64>>(28)?.map(Li);
    let sale_source: Option<String> = row.get(29)?;
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
        stuck: row.get(27)?,
        sale,
        sale_source: sale_source.and_then(|s| s.parse().ok()),
        customer: row.get(30)?,
        profit: match (sale, cost) {
            (Some(s), Some(c)) => s.checked_sub(c),
            _ => None,
        },
    })
}

/// Hot-path statements are prepared once per connection (`prepare_cached`): compiling the SQL again for
/// every call cost more than running it (about a fifth of the engine's CPU per order).
pub(super) fn load_order(conn: &Connection, id: i64) -> Result<Order, BookError> {
    conn.prepare_cached(ORDER_BY_ID)?
        .query_row([id], order_from_row)
        .optional()?
        .ok_or_else(|| BookError::NotFound(id.to_string()))
}

impl Tx<'_> {
    /// Runs one statement through the connection's statement cache.
    pub(super) fn exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.tx.prepare_cached(sql)?.execute(params)
    }

    /// The order with this merchant id, read inside the transaction.
    pub(crate) fn order_by_merchant_id(&self, merchant_order_id: &str) -> Result<Option<Order>, BookError> {
        Ok(self
            .tx
            .prepare_cached(ORDER_BY_MERCHANT_ID)?
            .query_row([merchant_order_id], order_from_row)
            .optional()?)
    }

    /// `(account, face, merchant order id)` of every order created at or after `since` (ms), inside
    /// the transaction: an import's last check for duplicates written since its preview.
    pub(crate) fn orders_created_since(&self, since: i64) -> Result<Vec<(String, Li, String)>, BookError> {
        let mut st = self.tx.prepare_cached(
            "SELECT account, face_li, merchant_order_id FROM orders WHERE created_at >= ?1",
        )?;
        let rows = st.query_map([since], |r| Ok((r.get(0)?, Li(r.get(1)?), r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

impl Book {
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
            clauses.push(format!("({})", super::NEEDS_ATTENTION));
        }
        if filter.overdue {
            clauses.push("stuck <> 0".into());
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

    /// For each `(account, face)`, the latest order with them created at or after `since` (ms):
    /// its merchant order id and creation time (an import preview's duplicate check).
    pub fn latest_same_orders(
        &self,
        keys: &[(&str, Li)],
        since: i64,
    ) -> Result<Vec<Option<(String, i64)>>, BookError> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT merchant_order_id, created_at FROM orders \
                 WHERE account = ?1 AND face_li = ?2 AND created_at >= ?3 ORDER BY created_at DESC LIMIT 1",
            )?;
            keys.iter()
                .map(|(account, face)| {
                    Ok(st
                        .query_row(params![account, face.0, since], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()?)
                })
                .collect()
        })
    }
}
