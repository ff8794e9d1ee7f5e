//! Duplicates, three kinds, each reported and none silently dropped or allowed.
//!
//! Why all three: a reseller who imports the same spreadsheet twice, or a customer who lists a number
//! twice, or a shop that resends yesterday's orders, each pays twice for one top-up; nobody refunds a
//! successful top-up. So: (1) the same account and face value twice in the file — every occurrence is
//! marked, naming the others, because the importer cannot know which one is meant; (2) the same account
//! and face value already in the order book within a window (the `orders_account` index answers this);
//! (3) the same file bytes (sha256) imported before. A duplicate row is invalid unless the caller says
//! duplicates are allowed, and then it stays visible as a warning.

use super::validate::{Level, RowMessage};
use super::{PreviousImport, RowResult};
use crate::book::{Book, BookError};
use std::collections::HashMap;
use topup_core::{Li, ProductKind};

/// Marks rows whose (kind, account, face) occurs more than once in the file.
pub fn in_file(rows: &mut [RowResult], level: Level) {
    let mut seen: HashMap<(ProductKind, &str, Li), Vec<usize>> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        if let Some(o) = &r.order {
            seen.entry((o.kind, o.account.as_str(), o.face)).or_default().push(i);
        }
    }
    let groups: Vec<Vec<usize>> = seen.into_values().filter(|v| v.len() > 1).collect();
    for group in groups {
        let numbers: Vec<u32> = group.iter().map(|&i| rows[i].row).collect();
        for &i in &group {
            let others: Vec<String> =
                numbers.iter().filter(|&&n| n != rows[i].row).map(u32::to_string).collect();
            let o = rows[i].order.as_ref().map(|o| (o.account.clone(), o.face));
            let Some((account, face)) = o else { continue };
            rows[i].duplicate = true;
            rows[i].messages.push(RowMessage::new(
                level,
                "duplicate_in_file",
                None,
                format!("与第 {} 行重复：同一账号 {account} 同一面值 {face}", others.join("、")),
                format!("same account {account} and face value {face} as row {}", others.join(", ")),
            ));
        }
    }
}

/// Marks rows whose account and face value were already ordered since `since_ms`.
pub fn in_book(book: &Book, rows: &mut [RowResult], since_ms: i64, level: Level) -> Result<(), BookError> {
    book.read(|c| {
        let mut st = c.prepare_cached(
            "SELECT merchant_order_id, created_at FROM orders \
             WHERE account = ?1 AND face_li = ?2 AND created_at >= ?3 ORDER BY created_at DESC LIMIT 1",
        )?;
        for r in rows.iter_mut() {
            let Some(o) = &r.order else { continue };
            let mut q = st.query(rusqlite::params![o.account, o.face.0, since_ms])?;
            if let Some(found) = q.next()? {
                let id: String = found.get(0)?;
                let at: i64 = found.get(1)?;
                let when = super::export::format_time(at);
                let (account, face) = (o.account.clone(), o.face);
                r.duplicate = true;
                r.messages.push(RowMessage::new(
                    level,
                    "duplicate_in_book",
                    None,
                    format!("账号 {account} 面值 {face} 已于 {when} 下过单（{id}）"),
                    format!("account {account} with face value {face} was already ordered at {when} ({id})"),
                ));
            }
        }
        Ok(())
    })
}

/// Batches imported before from a file with the same content hash.
pub fn previous_imports(book: &Book, content_hash: &str) -> Result<Vec<PreviousImport>, BookError> {
    book.read(|c| {
        let mut st = c.prepare_cached(
            "SELECT id, file_name, created_at FROM batches WHERE content_hash = ?1 ORDER BY id",
        )?;
        let rows = st.query_map([content_hash], |r| {
            Ok(PreviousImport { batch_id: r.get(0)?, file_name: r.get(1)?, created_at: r.get(2)? })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    })
}
