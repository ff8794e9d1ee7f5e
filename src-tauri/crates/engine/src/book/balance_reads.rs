//! The balance history: every successful balance read of a provider account, kept (schema 6).
//!
//! Why keep them: a provider balance is the one figure the provider cannot hide from us, and two reads
//! of it bracket a window in which every order the book holds explains the change — or does not (the
//! drift watch, `api::balance_watch`). A read has two times because a balance is of some moment between
//! the request leaving (`asked_at`) and the reply arriving (`read_at`); an order charged inside that
//! gap may or may not be in it, and the watch treats it so. The user's word on the window that ends at
//! a read (a deposit confirmed, a drift looked at) is kept on the read itself.
//!
//! Also the facts of the orders that may have moved money in a window ([`ChargeFacts`]), read with the
//! times the book has: when the first submit left, when the book first knew the order was taken, when
//! it became final.

use super::{Book, BookError, OrderState, Tx};
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;
use topup_core::{Li, ProviderId};
use topup_providers::LedgerRef;

/// One kept balance read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct BalanceRead {
    #[ts(type = "string")]
    #[serde(serialize_with = "crate::contract::BalanceReadId::serialize_raw")]
    pub id: i64,
    pub provider: ProviderId,
    /// When the balance request left (ms).
    pub asked_at: i64,
    /// When its reply arrived (ms).
    pub read_at: i64,
    pub balance: Li,
    /// The provider's last ledger entry, when its reply names one (oper).
    #[ts(
        type = "{ id: string, record: string | null, at: number | null, income: number | null, expenditure: number | null } | null"
    )]
    pub ledger: Option<LedgerRef>,
    /// Who read it: `balances` (the screen), `cli`, `import`, `check`.
    pub source: String,
    /// When the desktop was told about a drift in the window ending here.
    pub notified_at: Option<i64>,
    /// When the user confirmed the window ending here (a deposit of `resolved`, or a drift looked at).
    pub resolved_at: Option<i64>,
    pub resolved: Option<Li>,
    pub resolved_note: Option<String>,
}

/// A balance read about to be kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewBalanceRead<'a> {
    pub provider: ProviderId,
    pub asked_at: i64,
    pub read_at: i64,
    pub balance: Li,
    pub ledger: Option<&'a LedgerRef>,
    pub source: &'a str,
}

/// What the book knows about when an order may have moved money at its provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct ChargeFacts {
    #[ts(type = "string")]
    #[serde(serialize_with = "crate::contract::OrderId::serialize_raw")]
    pub id: i64,
    pub merchant_order_id: String,
    pub account: String,
    pub state: OrderState,
    pub face: Li,
    /// The provider's price when it said it, else `None`.
    pub cost: Option<Li>,
    /// When its first submit intent was committed (just before the request left).
    pub submitted_at: Option<i64>,
    /// When the book first stored that the provider took it (accepted or succeeded).
    pub taken_at: Option<i64>,
    /// Whether its outcome was ever uncertain (unknown, manual review).
    pub was_uncertain: bool,
    pub finished_at: Option<i64>,
}

const READ_COLUMNS: &str = "id, provider, asked_at, read_at, balance_li, ledger, source, notified_at, \
     resolved_at, resolved_li, resolved_note";

/// A text column parsed into `T` (a provider, a state).
fn parsed<T: std::str::FromStr>(row: &Row<'_>, i: usize) -> rusqlite::Result<T>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    let text: String = row.get(i)?;
    text.parse::<T>()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e)))
}

fn read_from_row(row: &Row<'_>) -> rusqlite::Result<BalanceRead> {
    let ledger: Option<String> = row.get(5)?;
    Ok(BalanceRead {
        id: row.get(0)?,
        provider: parsed(row, 1)?,
        asked_at: row.get(2)?,
        read_at: row.get(3)?,
        balance: Li(row.get(4)?),
        ledger: ledger.and_then(|l| serde_json::from_str(&l).ok()),
        source: row.get(6)?,
        notified_at: row.get(7)?,
        resolved_at: row.get(8)?,
        resolved: row.get::<_, Option<i64>>(9)?.map(Li),
        resolved_note: row.get(10)?,
    })
}

/// The orders of a provider that may have been charged or refunded between `from` and `to` (ms): sent
/// by `to`, and either not final or finished at or after `from`. `taken_at` is the first stored
/// acceptance (or success) of the order's history.
const WINDOW_ORDERS: &str = "SELECT o.id, o.merchant_order_id, o.account, o.state, o.face_li, o.cost_li, \
     o.submitted_at, \
     (SELECT MIN(e.at) FROM order_events e WHERE e.order_id = o.id AND e.kind = 'state' \
        AND e.to_state IN ('accepted', 'succeeded')), \
     EXISTS (SELECT 1 FROM order_events e WHERE e.order_id = o.id AND e.kind = 'state' \
        AND e.to_state IN ('unknown', 'manual_review')), \
     o.finished_at \
     FROM orders o WHERE o.id IN ( \
       SELECT id FROM orders WHERE provider = ?1 AND finished_at >= ?2 AND submitted_at <= ?3 \
       UNION SELECT id FROM orders WHERE state IN ('submitting', 'accepted', 'unknown', 'manual_review', 'new') \
         AND provider = ?1 AND submitted_at <= ?3) \
     ORDER BY o.submitted_at, o.id";

fn facts_from_row(row: &Row<'_>) -> rusqlite::Result<ChargeFacts> {
    Ok(ChargeFacts {
        id: row.get(0)?,
        merchant_order_id: row.get(1)?,
        account: row.get(2)?,
        state: parsed(row, 3)?,
        face: Li(row.get(4)?),
        cost: row.get::<_, Option<i64>>(5)?.map(Li),
        submitted_at: row.get(6)?,
        taken_at: row.get(7)?,
        was_uncertain: row.get(8)?,
        finished_at: row.get(9)?,
    })
}

impl Tx<'_> {
    /// Keeps a balance read; returns its id.
    pub fn add_balance_read(&mut self, read: &NewBalanceRead<'_>) -> Result<i64, BookError> {
        let ledger = read.ledger.map(|l| serde_json::to_string(l).unwrap_or_default());
        self.tx
            .prepare_cached(
                "INSERT INTO balance_reads (provider, asked_at, read_at, balance_li, ledger_id, ledger, source) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                read.provider.as_str(),
                read.asked_at,
                read.read_at.max(read.asked_at),
                read.balance.0,
                read.ledger.map(|l| l.id.as_str()),
                ledger,
                read.source
            ])?;
        Ok(self.tx.last_insert_rowid())
    }

    /// Marks that the desktop was told about the drift ending at `read_id`; false if it was already.
    pub fn mark_balance_notified(&mut self, read_id: i64, at: i64) -> Result<bool, BookError> {
        let n = self.tx.execute(
            "UPDATE balance_reads SET notified_at = ?2 WHERE id = ?1 AND notified_at IS NULL",
            params![read_id, at],
        )?;
        Ok(n == 1)
    }

    /// Records the user's word on the window ending at `read_id`.
    pub fn resolve_balance_window(
        &mut self,
        read_id: i64,
        at: i64,
        amount: Option<Li>,
        note: &str,
    ) -> Result<(), BookError> {
        let n = self.tx.execute(
            "UPDATE balance_reads SET resolved_at = ?2, resolved_li = ?3, resolved_note = ?4 WHERE id = ?1",
            params![read_id, at, amount.map(|a| a.0), note],
        )?;
        if n == 0 {
            return Err(BookError::NoSuch(crate::msg!(
                "找不到余额记录 {read_id}",
                "no balance read {read_id}"
            )));
        }
        self.changed(super::Change::Settings);
        Ok(())
    }
}

impl Book {
    /// A provider's reads with `read_at` in `[from, to)`, oldest first, with the last read before
    /// `from` in front when there is one (the window into the first read of the range needs it).
    pub fn balance_reads(
        &self,
        provider: ProviderId,
        from: i64,
        to: i64,
    ) -> Result<Vec<BalanceRead>, BookError> {
        self.read(|c| {
            let before = c
                .prepare_cached(&format!(
                    "SELECT {READ_COLUMNS} FROM balance_reads WHERE provider = ?1 AND read_at < ?2 \
                     ORDER BY read_at DESC, id DESC LIMIT 1"
                ))?
                .query_row(params![provider.as_str(), from], read_from_row)
                .optional()?;
            let mut st = c.prepare_cached(&format!(
                "SELECT {READ_COLUMNS} FROM balance_reads WHERE provider = ?1 AND read_at >= ?2 AND read_at < ?3 \
                 ORDER BY read_at, id"
            ))?;
            let rows = st.query_map(params![provider.as_str(), from, to], read_from_row)?;
            let mut out: Vec<BalanceRead> = before.into_iter().collect();
            for r in rows {
                out.push(r?);
            }
            Ok(out)
        })
    }

    /// One kept read.
    pub fn balance_read(&self, id: i64) -> Result<BalanceRead, BookError> {
        self.read(|c| {
            c.prepare_cached(&format!("SELECT {READ_COLUMNS} FROM balance_reads WHERE id = ?1"))?
                .query_row([id], read_from_row)
                .optional()?
                .ok_or_else(|| BookError::NoSuch(crate::msg!("找不到余额记录 {id}", "no balance read {id}")))
        })
    }

    /// The orders that may have moved `provider`'s money between `from` and `to` (ms).
    pub fn window_orders(
        &self,
        provider: ProviderId,
        from: i64,
        to: i64,
    ) -> Result<Vec<ChargeFacts>, BookError> {
        self.read(|c| {
            let mut st = c.prepare_cached(WINDOW_ORDERS)?;
            let rows = st.query_map(params![provider.as_str(), from, to], facts_from_row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }
}
