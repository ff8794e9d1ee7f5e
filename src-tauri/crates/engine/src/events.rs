//! One channel of order-book changes, coalesced for the UI.
//!
//! The book publishes every committed change; a window cannot repaint 1,000 times a second and does not
//! need to. [`coalesce`] gathers changes for `every` (100 ms → at most ~10 updates a second whatever
//! the load) and hands over one batch with each order listed once, as its latest commit left it.
//!
//! Why the batch carries rows and counts, not ids: a screen told only which orders changed asks the
//! book for each of them (and the status line recounted every state). With the rows, the board and
//! the order panel update in place; with the counts (kept by the book, read once per commit), the
//! status line and the import progress need no call at all. Past [`MAX_ROWS`] orders in one interval
//! the rows are dropped and the batch says `lagged`: re-reading the visible page is then cheaper than
//! shipping every row to the window.

use crate::book::{Change, Order, StateCounts};
use crate::contract::{BatchId, OrderId};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// Changes gathered over one interval.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct ChangeBatch {
    /// Order id → the order as its latest commit left it.
    pub orders: BTreeMap<OrderId, Order>,
    /// Import batch id → its orders per state as of the latest commit that touched it.
    pub batches: BTreeMap<BatchId, StateCounts>,
    /// Orders per state over the whole book as of the latest commit in the interval.
    pub counts: Option<StateCounts>,
    pub settings: bool,
    /// Some changes were dropped because the receiver fell behind: re-read everything shown.
    pub lagged: bool,
}

impl ChangeBatch {
    fn is_empty(&self) -> bool {
        self.orders.is_empty()
            && self.batches.is_empty()
            && self.counts.is_none()
            && !self.settings
            && !self.lagged
    }
}

/// Coalesces `changes` into at most one batch per `every`.
pub fn coalesce(mut changes: broadcast::Receiver<Change>, every: Duration) -> mpsc::Receiver<ChangeBatch> {
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        loop {
            let mut batch = ChangeBatch::default();
            // Wait for the first change, then gather for one interval.
            match changes.recv().await {
                Ok(c) => add(&mut batch, c),
                Err(broadcast::error::RecvError::Lagged(_)) => batch.lagged = true,
                Err(broadcast::error::RecvError::Closed) => return,
            }
            let deadline = tokio::time::Instant::now() + every;
            loop {
                match tokio::time::timeout_at(deadline, changes.recv()).await {
                    Ok(Ok(c)) => add(&mut batch, c),
                    Ok(Err(broadcast::error::RecvError::Lagged(_))) => batch.lagged = true,
                    Ok(Err(broadcast::error::RecvError::Closed)) | Err(_) => break,
                }
            }
            if !batch.is_empty() && tx.send(batch).await.is_err() {
                return;
            }
        }
    });
    rx
}

/// At most this many order rows in one batch (~0.5 MB of JSON); beyond, the batch is `lagged`.
pub const MAX_ROWS: usize = 1000;

fn add(batch: &mut ChangeBatch, change: Change) {
    match change {
        Change::Order(order) => {
            let id = OrderId(order.id);
            if batch.lagged || batch.orders.len() >= MAX_ROWS && !batch.orders.contains_key(&id) {
                // Too many to ship: the window re-reads what it shows instead.
                batch.lagged = true;
                batch.orders.clear();
            } else {
                batch.orders.insert(id, *order);
            }
        }
        Change::Batch { id, counts } => {
            batch.batches.insert(BatchId(id), counts);
        }
        Change::Counts(counts) => batch.counts = Some(counts),
        Change::Settings => batch.settings = true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::OrderState;
    use topup_core::{Li, ProductKind, ProviderId};

    fn order(id: i64, state: OrderState) -> Order {
        Order {
            id,
            merchant_order_id: format!("TD{id:08}"),
            provider: ProviderId::Dingyin,
            kind: ProductKind::Phone,
            product_id: None,
            account: "13800138000".into(),
            details: serde_json::json!({}),
            face: Li::from_yuan(50),
            cost: None,
            state,
            provider_order_id: None,
            batch_id: Some(7),
            resubmit_of: None,
            created_at: 0,
            updated_at: 0,
            submitted_at: None,
            finished_at: None,
            attempts: 0,
            next_action_at: None,
            last_error: None,
            attention: false,
            note: None,
            queries: 0,
            last_query_at: None,
            fallback_of: None,
            last_sent_at: None,
            callbacks: 0,
            stuck: crate::book::StuckLevel::None,
            sale: None,
            sale_source: None,
            customer: None,
            profit: None,
        }
    }

    /// The latest row, the latest counts and each batch's latest counts travel in the batch.
    #[tokio::test]
    async fn a_batch_carries_the_latest_rows_and_counts() {
        let (tx, rx) = broadcast::channel(100);
        let mut out = coalesce(rx, Duration::from_millis(50));
        let counts = |n| StateCounts { accepted: n, ..StateCounts::default() };
        let _ = tx.send(Change::order(order(1, OrderState::Submitting)));
        let _ = tx.send(Change::Batch { id: 7, counts: counts(0) });
        let _ = tx.send(Change::Counts(counts(0)));
        let _ = tx.send(Change::order(Order {
            provider_order_id: Some("P1".into()),
            ..order(1, OrderState::Accepted)
        }));
        let _ = tx.send(Change::Batch { id: 7, counts: counts(1) });
        let _ = tx.send(Change::Counts(counts(1)));
        let b = out.recv().await.expect("a batch");
        let row = &b.orders[&OrderId(1)];
        assert_eq!(
            (row.state, row.provider_order_id.as_deref(), row.batch_id),
            (OrderState::Accepted, Some("P1"), Some(7))
        );
        assert_eq!(b.batches[&BatchId(7)], counts(1));
        assert_eq!(b.counts, Some(counts(1)));
        assert!(!b.lagged);
    }

    /// More rows than [`MAX_ROWS`] in one interval: no rows, `lagged` (the window re-reads).
    #[tokio::test]
    async fn too_many_rows_make_a_lagged_batch() {
        let (tx, rx) = broadcast::channel(10_000);
        let mut out = coalesce(rx, Duration::from_millis(50));
        for i in 0..=MAX_ROWS as i64 {
            let _ = tx.send(Change::order(order(i, OrderState::New)));
        }
        let b = out.recv().await.expect("a batch");
        assert!(b.lagged && b.orders.is_empty());
    }

    #[tokio::test]
    async fn many_changes_become_few_batches_with_latest_states() {
        let (tx, rx) = broadcast::channel(100_000);
        let mut out = coalesce(rx, Duration::from_millis(100));
        let started = std::time::Instant::now();
        for i in 0..5_000i64 {
            let _ = tx.send(Change::order(order(i % 100, OrderState::Submitting)));
            let _ = tx.send(Change::order(order(i % 100, OrderState::Accepted)));
        }
        let first = out.recv().await.expect("a batch");
        assert_eq!(first.orders.len(), 100, "each order once");
        assert!(first.orders.values().all(|o| o.state == OrderState::Accepted), "latest state wins");
        assert!(started.elapsed() >= Duration::from_millis(100), "gathered for one interval");
        drop(tx);
        assert!(out.recv().await.is_none(), "no further batch: all 10,000 changes went into one");
    }
}
