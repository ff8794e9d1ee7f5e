//! The `reconcile_runs` table: one row per reconciliation (对账) — when, which range, by API or by
//! a statement file, and how many lines of each kind it found — and the range reads a run needs.
//!
//! Why kept: a reseller closes every day by checking the provider's money against the book; the list
//! of runs says which days were checked, how, and with what result, long after the window is closed.

use super::{Book, BookError, Tx};
use rusqlite::params;
use serde::Serialize;
use topup_core::ProviderId;

/// How many lines of each kind a run found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct RunCounts {
    pub matched: i64,
    pub state_differs: i64,
    pub amount_differs: i64,
    pub book_only: i64,
    pub statement_only: i64,
    /// Queries without a definite answer (network, busy, not configured).
    pub unanswered: i64,
    /// Orders the provider can no longer answer about (past its query window): not asked.
    pub out_of_window: i64,
    /// Statement rows that could not be read.
    pub bad_rows: i64,
}

/// A run as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct ReconcileRun {
    #[ts(type = "string")]
    #[serde(serialize_with = "id_text")]
    pub id: i64,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub range_from: i64,
    pub range_to: i64,
    /// `order` or `finish`.
    pub time_basis: String,
    /// `api` or `file`.
    pub source: String,
    pub provider: Option<ProviderId>,
    pub file_name: Option<String>,
    pub counts: RunCounts,
    pub cancelled: bool,
}

fn id_text<S: serde::Serializer>(id: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&id.to_string())
}

impl Tx<'_> {
    /// Records the start of a run; returns its id.
    #[allow(clippy::too_many_arguments)]
    pub fn start_reconcile_run(
        &mut self,
        started_at: i64,
        range: (i64, i64),
        time_basis: &str,
        source: &str,
        provider: Option<ProviderId>,
        file_name: Option<&str>,
    ) -> Result<i64, BookError> {
        self.tx.execute(
            "INSERT INTO reconcile_runs (started_at, range_from, range_to, time_basis, source, provider, file_name) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![started_at, range.0, range.1, time_basis, source, provider.map(|p| p.as_str()), file_name],
        )?;
        Ok(self.tx.last_insert_rowid())
    }

    /// Records what a run found, when it ended.
    pub fn finish_reconcile_run(
        &mut self,
        id: i64,
        finished_at: i64,
        c: &RunCounts,
        cancelled: bool,
    ) -> Result<(), BookError> {
        self.tx.execute(
            "UPDATE reconcile_runs SET finished_at = ?2, matched = ?3, state_differs = ?4, amount_differs = ?5, \
             book_only = ?6, statement_only = ?7, unanswered = ?8, out_of_window = ?9, bad_rows = ?10, \
             cancelled = ?11 WHERE id = ?1",
            params![
                id,
                finished_at,
                c.matched,
                c.state_differs,
                c.amount_differs,
                c.book_only,
                c.statement_only,
                c.unanswered,
                c.out_of_window,
                c.bad_rows,
                cancelled
            ],
        )?;
        Ok(())
    }
}

impl Book {
    /// The latest runs, newest first.
    pub fn reconcile_runs(&self, limit: i64) -> Result<Vec<ReconcileRun>, BookError> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT id, started_at, finished_at, range_from, range_to, time_basis, source, provider, file_name, \
                 matched, state_differs, amount_differs, book_only, statement_only, unanswered, out_of_window, \
                 bad_rows, cancelled FROM reconcile_runs ORDER BY id DESC LIMIT ?1",
            )?;
            let rows = st.query_map([limit], |r| {
                let provider: Option<String> = r.get(7)?;
                Ok(ReconcileRun {
                    id: r.get(0)?,
                    started_at: r.get(1)?,
                    finished_at: r.get(2)?,
                    range_from: r.get(3)?,
                    range_to: r.get(4)?,
                    time_basis: r.get(5)?,
                    source: r.get(6)?,
                    provider: provider.and_then(|p| p.parse().ok()),
                    file_name: r.get(8)?,
                    counts: RunCounts {
                        matched: r.get(9)?,
                        state_differs: r.get(10)?,
                        amount_differs: r.get(11)?,
                        book_only: r.get(12)?,
                        statement_only: r.get(13)?,
                        unanswered: r.get(14)?,
                        out_of_window: r.get(15)?,
                        bad_rows: r.get(16)?,
                    },
                    cancelled: r.get(17)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// The ids of the orders whose order time (`finish == false`: `created_at`) or finish time
    /// (`finished_at`) is in `[from, to)`, optionally of one provider, oldest first.
    pub fn order_ids_between(
        &self,
        finish: bool,
        from: i64,
        to: i64,
        provider: Option<ProviderId>,
    ) -> Result<Vec<i64>, BookError> {
        let column = if finish { "finished_at" } else { "created_at" };
        self.read(|c| {
            let mut st = c.prepare(&format!(
                "SELECT id FROM orders WHERE {column} >= ?1 AND {column} < ?2 \
                 AND (?3 IS NULL OR provider = ?3) ORDER BY {column}, id"
            ))?;
            let rows =
                st.query_map(params![from, to, provider.map(|p| p.as_str())], |r| r.get::<_, i64>(0))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }
}
