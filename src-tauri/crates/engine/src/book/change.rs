//! What a commit changed, as published on [`Book::subscribe`](super::Book::subscribe).
//!
//! Why the changes carry rows and counts: a window that is told only "order 42 changed" has to ask
//! the book for order 42, and a status line told only "something changed" recounts. The writer has
//! the row in hand when it changes it (the `UPDATE … RETURNING` of [`Tx::patch_order`](super::Tx),
//! the row a transition builds), and the counts are kept by triggers in the same transaction
//! (`state_counts`, `batch_counts`): reading eight rows of each just before the commit costs
//! microseconds, once per commit however many orders it changed.

use super::{Order, StateCounts, Tx};
use std::collections::BTreeSet;

/// Something that changed in the order book, published after commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// An order as this commit left it (its row carries its batch id).
    Order(Box<Order>),
    /// An import batch's orders per state as of this commit: sent for every commit that changed one
    /// of its orders (or created it), so import progress arrives by event.
    Batch {
        id: i64,
        counts: StateCounts,
    },
    /// Orders per state over the whole book as of this commit (one per commit that changed orders).
    Counts(StateCounts),
    Settings,
}

impl Change {
    /// The change for an order row.
    pub(crate) fn order(order: Order) -> Change {
        Change::Order(Box::new(order))
    }
}

impl Tx<'_> {
    /// Just before the commit: replaces the batch markers with each touched batch's counts and adds
    /// the book's counts, both read from the kept tables inside this transaction (so they are exactly
    /// what the commit makes visible). A read that fails leaves the figures out (the UI re-reads
    /// them on `lagged` or its next change) rather than failing the writes.
    pub(super) fn settle_counts(&mut self) {
        let mut batches = BTreeSet::new();
        let mut orders = false;
        for c in &self.changes {
            match c {
                Change::Order(o) => {
                    orders = true;
                    batches.extend(o.batch_id);
                }
                Change::Batch { id, .. } => {
                    orders = true;
                    batches.insert(*id);
                }
                Change::Counts(_) | Change::Settings => {}
            }
        }
        if !orders {
            return;
        }
        self.changes.retain(|c| !matches!(c, Change::Batch { .. } | Change::Counts(_)));
        for id in batches {
            match self.kept_batch_counts(id) {
                Ok(counts) => self.changes.push(Change::Batch { id, counts }),
                Err(e) => {
                    tracing::warn!(batch = id, error = %e, "batch counts not read for the change event")
                }
            }
        }
        match self.kept_state_counts() {
            Ok(counts) => self.changes.push(Change::Counts(counts)),
            Err(e) => tracing::warn!(error = %e, "state counts not read for the change event"),
        }
    }
}
