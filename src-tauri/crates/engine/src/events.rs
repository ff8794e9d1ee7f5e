//! One channel of order-book changes, coalesced for the UI.
//!
//! The book publishes every committed change; a window cannot repaint 1,000 times a second and does not
//! need to. [`coalesce`] gathers changes for `every` (100 ms → at most ~10 updates a second whatever
//! the load) and hands over one batch with each order listed once, at its latest state.

use crate::book::{Change, OrderState};
use crate::contract::{BatchId, OrderId};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// Changes gathered over one interval.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct ChangeBatch {
    /// Order id → its latest state.
    pub orders: BTreeMap<OrderId, OrderState>,
    pub batches: Vec<BatchId>,
    pub settings: bool,
    /// Some changes were dropped because the receiver fell behind: re-read everything shown.
    pub lagged: bool,
}

impl ChangeBatch {
    fn is_empty(&self) -> bool {
        self.orders.is_empty() && self.batches.is_empty() && !self.settings && !self.lagged
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

fn add(batch: &mut ChangeBatch, change: Change) {
    match change {
        Change::Order { id, state } => {
            batch.orders.insert(OrderId(id), state);
        }
        Change::Batch { id } => batch.batches.push(BatchId(id)),
        Change::Settings => batch.settings = true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn many_changes_become_few_batches_with_latest_states() {
        let (tx, rx) = broadcast::channel(100_000);
        let mut out = coalesce(rx, Duration::from_millis(100));
        let started = std::time::Instant::now();
        for i in 0..5_000i64 {
            let _ = tx.send(Change::Order { id: i % 100, state: OrderState::Submitting });
            let _ = tx.send(Change::Order { id: i % 100, state: OrderState::Accepted });
        }
        let first = out.recv().await.expect("a batch");
        assert_eq!(first.orders.len(), 100, "each order once");
        assert!(first.orders.values().all(|s| *s == OrderState::Accepted), "latest state wins");
        assert!(started.elapsed() >= Duration::from_millis(100), "gathered for one interval");
        drop(tx);
        assert!(out.recv().await.is_none(), "no further batch: all 10,000 changes went into one");
    }
}
