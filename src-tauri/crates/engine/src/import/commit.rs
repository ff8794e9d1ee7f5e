//! Writing a previewed import: one batch, all its orders, one transaction.
//!
//! Why one transaction: an import interrupted halfway (crash, full disk, a constraint) must not leave
//! half a batch that the engine would start submitting while the user believes nothing was imported.
//! Inside the transaction the duplicate checks that could have changed since the preview are made
//! again (the same file imported meanwhile, orders for the same account and face value written since
//! the preview), so two windows importing at once cannot both pass.

use super::preview::{Preview, RowStatus};
use super::ImportError;
use crate::book::{Book, BookError, NewBatch, NewOrder, Tx};
use crate::contract::BatchId;
use crate::ids::new_merchant_order_id;
use serde::Serialize;
use std::collections::HashSet;
use topup_core::Li;

/// How to commit a preview.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommitOptions {
    /// Import the valid rows even though some rows are invalid or duplicates (they are counted in the
    /// batch, not stored as orders).
    pub skip_invalid: bool,
    /// Test hook: fail with an error after this many orders were inserted (the transaction must then
    /// leave nothing behind).
    #[doc(hidden)]
    pub fail_after_orders: Option<usize>,
}

/// What was written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct Committed {
    #[serde(serialize_with = "BatchId::serialize_raw")]
    #[ts(as = "BatchId")]
    pub batch_id: i64,
    pub orders: usize,
    pub skipped_invalid: usize,
    pub first_merchant_order_id: Option<String>,
    pub last_merchant_order_id: Option<String>,
}

/// Inserts at most this many orders per prepared-statement run; between chunks the test hook may fire.
const CHUNK: usize = 10_000;

/// Writes the valid rows of `preview` as one batch. Refuses (writing nothing) when rows are invalid or
/// duplicate and `skip_invalid` is not set, when the file was imported before and duplicates are not
/// allowed, or when there is nothing to import.
pub fn commit(book: &Book, preview: &Preview, opts: &CommitOptions) -> Result<Committed, ImportError> {
    let t = &preview.totals;
    if !preview.allow_duplicates {
        if let Some(p) = preview.previous_imports.first() {
            return Err(ImportError::AlreadyImported { batch_id: p.batch_id });
        }
    }
    let bad = t.invalid + t.duplicates;
    if bad > 0 && !opts.skip_invalid {
        return Err(ImportError::InvalidRows { invalid: t.invalid, duplicates: t.duplicates });
    }
    let valid: Vec<_> = preview
        .rows
        .iter()
        .filter(|r| r.status == RowStatus::Valid)
        .filter_map(|r| r.order.as_ref())
        .collect();
    if valid.is_empty() {
        return Err(ImportError::NothingToImport);
    }

    let batch = NewBatch {
        file_name: preview.file_name.clone(),
        content_hash: preview.content_hash.clone(),
        sheet: preview.sheet.clone(),
        total_rows: t.rows as i64,
        valid_rows: valid.len() as i64,
        invalid_rows: bad as i64,
        skipped_rows: t.skipped as i64,
    };
    let result = book.write(|tx| {
        if !preview.allow_duplicates {
            recheck(tx, preview, &valid)?;
        }
        tx.with_large_cache(valid.len() > 1000, |tx| insert_all(tx, &batch, &valid, preview, opts))
    });
    match result {
        Ok(c) => {
            tracing::info!(batch = c.batch_id, orders = c.orders, file = %preview.file_name, "import committed");
            Ok(c)
        }
        Err(BookError::Invalid(m)) if m.zh.starts_with(RECHECK_PREFIX) => {
            let rest = &m.zh[RECHECK_PREFIX.len()..];
            match rest.strip_prefix("batch:") {
                Some(id) => Err(ImportError::AlreadyImported { batch_id: id.parse().unwrap_or(0) }),
                None => Err(ImportError::ChangedSincePreview(rest.to_owned())),
            }
        }
        Err(e) => Err(e.into()),
    }
}

fn insert_all(
    tx: &mut crate::book::Tx<'_>,
    batch: &NewBatch,
    valid: &[&super::ImportedOrder],
    preview: &Preview,
    opts: &CommitOptions,
) -> Result<Committed, BookError> {
    let batch_id = tx.insert_batch(batch)?;
    let mut first = None;
    let mut last = None;
    let mut written = 0usize;
    // Ids are time + 8 random characters: 100,000 drawn within a second or two collide with a
    // probability near 0.5 %, so draw again on a collision inside the batch (the UNIQUE constraint
    // still guards against ids already in the book: such a rare clash aborts the whole commit).
    let mut drawn: HashSet<String> = HashSet::with_capacity(valid.len());
    let mut fresh_id = || loop {
        let id = new_merchant_order_id();
        if drawn.insert(id.clone()) {
            break id;
        }
    };
    // Sorted, so that 100,000 inserts append to the UNIQUE index on merchant ids instead of
    // scattering across it (the ids are otherwise random within the same second).
    let mut ids: Vec<String> = (0..valid.len()).map(|_| fresh_id()).collect();
    ids.sort_unstable();
    for (chunk, chunk_ids) in valid.chunks(CHUNK).zip(ids.chunks(CHUNK)) {
        let mut orders = Vec::with_capacity(chunk.len());
        let mut notes = Vec::with_capacity(chunk.len());
        let mut sold = Vec::with_capacity(chunk.len());
        for (o, id) in chunk.iter().zip(chunk_ids) {
            orders.push(NewOrder {
                merchant_order_id: id.clone(),
                provider: preview.provider,
                kind: o.kind,
                product_id: o.product_id.clone(),
                account: o.account.clone(),
                details: o.details.clone(),
                face: o.face,
                batch_id: Some(batch_id),
                resubmit_of: None,
                fallback_of: None,
            });
            notes.push(o.note.clone());
            sold.push(o.sold());
        }
        tx.insert_orders_bulk_sold(&orders, &notes, &sold)?;
        if first.is_none() {
            first = orders.first().map(|o| o.merchant_order_id.clone());
        }
        last = orders.last().map(|o| o.merchant_order_id.clone());
        written += orders.len();
        if opts.fail_after_orders.is_some_and(|n| written >= n) {
            return Err(BookError::Invalid(crate::msg!("注入的导入失败", "injected import failure")));
        }
    }
    Ok(Committed {
        batch_id,
        orders: written,
        skipped_invalid: (batch.invalid_rows) as usize,
        first_merchant_order_id: first,
        last_merchant_order_id: last,
    })
}

const RECHECK_PREFIX: &str = "import-recheck:";

/// Inside the write transaction: the file imported since the preview, or same account and face
/// value ordered since the preview. Reported as `BookError::Invalid` with a private prefix so that the
/// closure can abort the transaction; `commit` turns it back into an [`ImportError`].
fn recheck(tx: &Tx<'_>, preview: &Preview, valid: &[&super::ImportedOrder]) -> Result<(), BookError> {
    if let Some(id) = tx.batch_with_hash(&preview.content_hash)? {
        return Err(BookError::Invalid(format!("{RECHECK_PREFIX}batch:{id}").into()));
    }
    // Only orders written since the preview can be new duplicates; usually none, so this is one scan
    // of a small index range.
    let fresh = tx.orders_created_since(preview.previewed_at - 1)?;
    if fresh.is_empty() {
        return Ok(());
    }
    let wanted: HashSet<(&str, Li)> = valid.iter().map(|o| (o.account.as_str(), o.face)).collect();
    let clashes: Vec<String> = fresh
        .iter()
        .filter(|(a, f, _)| wanted.contains(&(a.as_str(), *f)))
        .map(|(a, _, id)| format!("{a} {id}"))
        .take(5)
        .collect();
    if clashes.is_empty() {
        Ok(())
    } else {
        Err(BookError::Invalid(format!("{RECHECK_PREFIX}{}", clashes.join(", ")).into()))
    }
}
