//! The `batches` table: one row per imported file (its name, content hash and row counts). Each
//! batch's orders per state are kept in `batch_counts` (see [`super::state_counts`]).

use super::orders::id_as_string;
use super::{now_ms, Book, BookError, Change, StateCounts, Tx};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

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

/// A file imported before (same content hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriorBatch {
    pub id: i64,
    pub file_name: String,
    pub created_at: i64,
}

impl Tx<'_> {
    /// Stores a batch; its change (with its counts, read at commit) tells watchers about it.
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
        self.changed(Change::Batch { id, counts: StateCounts::default() });
        Ok(id)
    }

    /// The first batch imported from a file with this content hash, inside the transaction.
    pub(crate) fn batch_with_hash(&self, content_hash: &str) -> Result<Option<i64>, BookError> {
        Ok(self
            .tx
            .prepare_cached("SELECT id FROM batches WHERE content_hash = ?1 LIMIT 1")?
            .query_row([content_hash], |r| r.get(0))
            .optional()?)
    }
}

impl Book {
    pub fn batch(&self, id: i64) -> Result<Batch, BookError> {
        self.read(|c| {
            c.prepare_cached(
                "SELECT id, file_name, content_hash, sheet, total_rows, valid_rows, invalid_rows, skipped_rows, created_at \
                 FROM batches WHERE id = ?1",
            )?
            .query_row([id], |r| {
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
            })
            .optional()?
            .ok_or_else(|| BookError::NotFound(format!("batch {id}")))
        })
    }

    /// Batches imported before from a file with the same content hash, oldest first.
    pub fn batches_with_hash(&self, content_hash: &str) -> Result<Vec<PriorBatch>, BookError> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT id, file_name, created_at FROM batches WHERE content_hash = ?1 ORDER BY id",
            )?;
            let rows = st.query_map([content_hash], |r| {
                Ok(PriorBatch { id: r.get(0)?, file_name: r.get(1)?, created_at: r.get(2)? })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }
}
