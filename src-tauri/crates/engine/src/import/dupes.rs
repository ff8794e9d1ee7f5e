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
    let keys: Vec<(&str, Li)> =
        rows.iter().filter_map(|r| r.order.as_ref()).map(|o| (o.account.as_str(), o.face)).collect();
    let found = book.latest_same_orders(&keys, since_ms)?;
    let mut found = found.into_iter();
    for r in rows.iter_mut() {
        let Some(o) = &r.order else { continue };
        if let Some((id, at)) = found.next().flatten() {
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
}

/// Batches imported before from a file with the same content hash.
pub fn previous_imports(book: &Book, content_hash: &str) -> Result<Vec<PreviousImport>, BookError> {
    Ok(book
        .batches_with_hash(content_hash)?
        .into_iter()
        .map(|b| PreviousImport { batch_id: b.id, file_name: b.file_name, created_at: b.created_at })
        .collect())
}
