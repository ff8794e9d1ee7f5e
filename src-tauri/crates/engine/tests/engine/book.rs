use rusqlite::Connection;
use serde_json::json;
use topup_engine::book::{
    Book, BookError, Change, NewBatch, NewOrder, OrderFilter, OrderPatch, OrderState, StateCounts,
};
use topup_engine::{Li, ProductKind, ProviderId};

fn new_order(id: &str, account: &str) -> NewOrder {
    NewOrder {
        merchant_order_id: id.to_owned(),
        provider: ProviderId::Juhe,
        kind: ProductKind::Phone,
        product_id: None,
        account: account.to_owned(),
        details: json!({}),
        face: Li::from_yuan(50),
        batch_id: None,
        resubmit_of: None,
        fallback_of: None,
    }
}

fn new_batch() -> NewBatch {
    NewBatch {
        file_name: "orders.xlsx".into(),
        content_hash: "h".into(),
        sheet: None,
        total_rows: 3,
        valid_rows: 3,
        invalid_rows: 0,
        skipped_rows: 0,
    }
}

fn open() -> (tempfile::TempDir, Book) {
    let dir = tempfile::tempdir().unwrap();
    let book = Book::open(&dir.path().join("orders.sqlite3")).unwrap();
    (dir, book)
}

#[test]
fn migrates_from_empty_and_reopens_without_change() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/dir/orders.sqlite3");
    let book = Book::open(&path).unwrap();
    let v = book.schema_version().unwrap();
    assert!(v >= 1);
    book.write(|tx| tx.insert_order(&new_order("TD00000001", "13800138000"))).unwrap();
    drop(book);
    let again = Book::open(&path).unwrap();
    assert_eq!(again.schema_version().unwrap(), v);
    assert_eq!(again.list_orders(&OrderFilter::default()).unwrap().total, 1);
    let c = Connection::open(&path).unwrap();
    let mode: String = c.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    for table in ["orders", "order_events", "batches", "provider_settings", "app_settings"] {
        let n: i64 = c
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [table],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 1, "table {table}");
    }
}

#[test]
fn refuses_a_database_from_a_newer_binary() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orders.sqlite3");
    let v = Book::open(&path).unwrap().schema_version().unwrap();
    Connection::open(&path).unwrap().pragma_update(None, "user_version", v + 1).unwrap();
    match Book::open(&path) {
        Err(e @ BookError::TooNew { .. }) => {
            assert_eq!(e.code(), "db_too_new");
            assert!(e.to_string().contains("升级"), "{e}");
        }
        Err(other) => panic!("wrong error {other}"),
        Ok(_) => panic!("a newer database must be refused"),
    }
}

#[test]
fn every_transition_through_the_book_follows_the_state_machine() {
    let (_dir, book) = open();
    let mut n = 0;
    for from in OrderState::ALL {
        for to in OrderState::ALL {
            n += 1;
            let id =
                book.write(|tx| tx.insert_order(&new_order(&format!("TDT{n:08}"), "13800138000"))).unwrap();
            // Walk the order to `from` along allowed edges.
            let path: &[OrderState] = match from {
                OrderState::New => &[],
                OrderState::Submitting => &[OrderState::Submitting],
                OrderState::Accepted => &[OrderState::Submitting, OrderState::Accepted],
                OrderState::Unknown => &[OrderState::Submitting, OrderState::Unknown],
                OrderState::Succeeded => &[OrderState::Submitting, OrderState::Succeeded],
                OrderState::Failed => &[OrderState::Submitting, OrderState::Failed],
                OrderState::ManualReview => {
                    &[OrderState::Submitting, OrderState::Unknown, OrderState::ManualReview]
                }
            };
            for step in path {
                book.write(|tx| tx.transition(id, *step, "walk")).unwrap();
            }
            assert_eq!(book.order(id).unwrap().state, from);
            let result = book.write(|tx| tx.transition(id, to, "test"));
            let after = book.order(id).unwrap();
            if from.can_become(to) {
                assert_eq!(result.unwrap().state, to);
                assert_eq!(after.state, to);
                assert_eq!(after.finished_at.is_some(), to.is_final());
            } else {
                assert!(matches!(result, Err(BookError::IllegalTransition { .. })), "{from} -> {to}");
                assert_eq!(after.state, from, "a refused transition changes nothing");
            }
        }
    }
}

#[test]
fn history_records_every_state_change() {
    let (_dir, book) = open();
    let id = book.write(|tx| tx.insert_order(&new_order("TDH00000001", "13800138000"))).unwrap();
    book.write(|tx| tx.transition(id, OrderState::Submitting, "发送")).unwrap();
    book.write(|tx| tx.transition(id, OrderState::Unknown, "超时 / timeout")).unwrap();
    book.write(|tx| tx.transition(id, OrderState::Succeeded, "查询成功")).unwrap();
    let events = book.events(id).unwrap();
    let states: Vec<_> = events.iter().filter_map(|e| e.to_state).collect();
    assert_eq!(states, [OrderState::New, OrderState::Submitting, OrderState::Unknown, OrderState::Succeeded]);
    assert_eq!(events[2].detail, "超时 / timeout");
    let order = book.order(id).unwrap();
    assert_eq!(order.attempts, 1);
    assert!(order.submitted_at.is_some() && order.finished_at.is_some());
}

#[test]
fn a_final_state_cannot_change_even_from_raw_sql() {
    let (dir, book) = open();
    let id = book.write(|tx| tx.insert_order(&new_order("TDF00000001", "13800138000"))).unwrap();
    book.write(|tx| tx.transition(id, OrderState::Submitting, "")).unwrap();
    book.write(|tx| tx.transition(id, OrderState::Failed, "5002 余额不足")).unwrap();
    let raw = Connection::open(dir.path().join("orders.sqlite3")).unwrap();
    let err = raw.execute("UPDATE orders SET state = 'succeeded' WHERE id = ?1", [id]).unwrap_err();
    assert!(err.to_string().contains("final order state cannot change"), "{err}");
    assert_eq!(book.order(id).unwrap().state, OrderState::Failed);
}

#[test]
fn a_merchant_order_id_is_never_stored_twice() {
    let (_dir, book) = open();
    book.write(|tx| tx.insert_order(&new_order("TDD00000001", "13800138000"))).unwrap();
    let err = book.write(|tx| tx.insert_order(&new_order("TDD00000001", "13900139000"))).unwrap_err();
    assert_eq!(err.code(), "duplicate_order_id");
    assert_eq!(book.list_orders(&OrderFilter::default()).unwrap().total, 1);
}

#[test]
fn a_failed_write_leaves_nothing_behind() {
    let (_dir, book) = open();
    let result: Result<(), BookError> = book.write(|tx| {
        tx.insert_order(&new_order("TDR00000001", "13800138000"))?;
        tx.insert_order(&new_order("TDR00000002", "13800138001"))?;
        Err(BookError::Invalid("第 3 行无效".into()))
    });
    assert!(result.is_err());
    assert_eq!(book.list_orders(&OrderFilter::default()).unwrap().total, 0);
}

#[test]
fn changes_are_published_only_after_commit() {
    let (_dir, book) = open();
    let mut rx = book.subscribe();
    let _ = book.write(|tx| -> Result<(), BookError> {
        tx.insert_order(&new_order("TDC00000001", "13800138000"))?;
        Err(BookError::Invalid("rolled back".into()))
    });
    assert!(rx.try_recv().is_err(), "a rolled-back write publishes nothing");
    let id = book.write(|tx| tx.insert_order(&new_order("TDC00000002", "13800138000"))).unwrap();
    match rx.try_recv().unwrap() {
        Change::Order(o) => assert_eq!((o.id, o.state), (id, OrderState::New)),
        other => panic!("expected the order's change first, got {other:?}"),
    }
}

/// The changes of the next commit that changed orders, in order (the book's counts come last).
/// Waits for them: a grouped write's caller may get its result before the writer thread publishes.
fn drain(rx: &mut tokio::sync::broadcast::Receiver<Change>) -> Vec<Change> {
    let mut out = Vec::new();
    loop {
        let c = rx.blocking_recv().expect("a change");
        let last = matches!(c, Change::Counts(_));
        out.push(c);
        if last {
            return out;
        }
    }
}

/// A change says what changed: the order's row as committed (with its batch), the batch's counts and
/// the book's counts as of that commit, so that no watcher has to read the book again.
#[test]
fn a_change_carries_the_row_its_batch_and_the_counts() {
    let (_dir, book) = open();
    let batch = book.write(|tx| tx.insert_batch(&new_batch())).unwrap();
    let id = book
        .write(|tx| {
            tx.insert_order(&NewOrder { batch_id: Some(batch), ..new_order("TDE00000001", "13800138000") })
        })
        .unwrap();
    book.write(|tx| tx.insert_order(&new_order("TDE00000002", "13800138001"))).unwrap();
    let mut rx = book.subscribe();
    book.write(|tx| {
        tx.transition(id, OrderState::Submitting, "发送")?;
        let patch = OrderPatch {
            provider_order_id: Some("P-77"),
            next_action_at: Some(Some(5)),
            ..OrderPatch::default()
        };
        tx.transition_with(id, OrderState::Accepted, "受理", patch)
    })
    .unwrap();
    let changes = drain(&mut rx);
    let rows: Vec<_> =
        changes.iter().filter_map(|c| if let Change::Order(o) = c { Some(o) } else { None }).collect();
    assert_eq!(rows.len(), 2, "one row per write: {changes:?}");
    let last = rows[1];
    assert_eq!(**last, book.order(id).unwrap(), "the row as committed, every column");
    assert_eq!(
        (last.state, last.provider_order_id.as_deref(), last.next_action_at, last.batch_id),
        (OrderState::Accepted, Some("P-77"), Some(5), Some(batch))
    );
    assert!(
        changes.contains(&Change::Batch {
            id: batch,
            counts: StateCounts { accepted: 1, ..StateCounts::default() }
        }),
        "the batch's counts as of the commit: {changes:?}"
    );
    assert!(
        changes.contains(&Change::Counts(StateCounts { new: 1, accepted: 1, ..StateCounts::default() })),
        "the book's counts as of the commit: {changes:?}"
    );
    // A change to the row without a state change (here the attention flag) carries the row too.
    book.write(|tx| tx.set_attention(id, true, "看一下")).unwrap();
    let changes = drain(&mut rx);
    assert!(
        changes.iter().any(|c| matches!(c, Change::Order(o) if o.id == id && o.attention)),
        "{changes:?}"
    );
    assert!(changes.contains(&Change::Counts(StateCounts {
        new: 1,
        accepted: 1,
        attention: 1,
        ..StateCounts::default()
    })));
}

/// Import progress arrives by event: the commit that stores a batch publishes its counts (all new),
/// and every later commit that moves one of its orders publishes the batch's counts again — also
/// through the engine's group commit.
#[test]
fn import_progress_arrives_by_event() {
    let (_dir, book) = open();
    let book = std::sync::Arc::new(book);
    let mut rx = book.subscribe();
    let (batch, ids) = book
        .write(|tx| {
            let batch = tx.insert_batch(&new_batch())?;
            let orders: Vec<NewOrder> = (0..3)
                .map(|i| NewOrder {
                    batch_id: Some(batch),
                    ..new_order(&format!("TDI{i:08}"), "13800138000")
                })
                .collect();
            Ok((batch, tx.insert_orders_bulk(&orders, &[])?))
        })
        .unwrap();
    let batch_counts = |changes: &[Change]| -> Vec<StateCounts> {
        changes
            .iter()
            .filter_map(|c| match c {
                Change::Batch { id, counts } if *id == batch => Some(counts.clone()),
                _ => None,
            })
            .collect()
    };
    assert_eq!(batch_counts(&drain(&mut rx)), vec![StateCounts { new: 3, ..StateCounts::default() }]);
    for (k, id) in ids.iter().copied().enumerate() {
        let done = k as i64;
        book.write(|tx| tx.transition(id, OrderState::Submitting, "")).unwrap();
        let seen = batch_counts(&drain(&mut rx));
        let sending = StateCounts { new: 2 - done, submitting: 1, succeeded: done, ..StateCounts::default() };
        assert_eq!(seen, vec![sending], "order {k} sent");
        book.write_grouped(move |tx| tx.transition(id, OrderState::Succeeded, "成功")).unwrap();
        let seen = batch_counts(&drain(&mut rx));
        let settled = StateCounts { new: 2 - done, succeeded: done + 1, ..StateCounts::default() };
        assert_eq!(seen, vec![settled], "order {k} settled (group commit)");
    }
}

#[test]
fn lists_filter_and_page_in_sqlite() {
    let (_dir, book) = open();
    book.write(|tx| {
        for i in 0..30 {
            let mut o = new_order(&format!("TDL{i:08}"), &format!("1380013{i:04}"));
            if i % 3 == 0 {
                o.provider = ProviderId::Oper;
            }
            let id = tx.insert_order(&o)?;
            if i % 5 == 0 {
                tx.transition(id, OrderState::Submitting, "")?;
                tx.transition(id, OrderState::Unknown, "")?;
                tx.transition(id, OrderState::ManualReview, "")?;
            }
        }
        Ok(())
    })
    .unwrap();
    let all = book.list_orders(&OrderFilter { limit: 10, ..Default::default() }).unwrap();
    assert_eq!((all.total, all.orders.len()), (30, 10));
    assert_eq!(all.orders[0].merchant_order_id, "TDL00000029", "newest first");
    let oper =
        book.list_orders(&OrderFilter { provider: Some(ProviderId::Oper), ..Default::default() }).unwrap();
    assert_eq!(oper.total, 10);
    let attention = book.list_orders(&OrderFilter { needs_attention: true, ..Default::default() }).unwrap();
    assert_eq!(attention.total, 6);
    let by_account =
        book.list_orders(&OrderFilter { search: Some("13800130007".into()), ..Default::default() }).unwrap();
    assert_eq!(by_account.total, 1);
    let by_prefix =
        book.list_orders(&OrderFilter { search: Some("1380013001".into()), ..Default::default() }).unwrap();
    assert_eq!(by_prefix.total, 10);
    let by_id =
        book.list_orders(&OrderFilter { search: Some("TDL00000004".into()), ..Default::default() }).unwrap();
    assert_eq!(by_id.orders[0].account, "13800130004");
    let counts = book.state_counts().unwrap();
    assert_eq!((counts.new, counts.manual_review, counts.attention), (24, 6, 6));
}

#[test]
fn settings_round_trip_without_secrets() {
    let (_dir, book) = open();
    let s = json!({"base_url": "http://127.0.0.1:9", "userid": "10001"});
    book.write(|tx| tx.put_provider_settings(ProviderId::Dingyin, &s)).unwrap();
    assert_eq!(book.provider_settings(ProviderId::Dingyin).unwrap(), Some(s));
    assert_eq!(book.provider_settings(ProviderId::Oper).unwrap(), None);
    book.write(|tx| tx.put_app_setting("locale", "en")).unwrap();
    assert_eq!(book.app_setting("locale").unwrap().as_deref(), Some("en"));
}

#[test]
fn grouped_writes_from_many_threads_all_commit_and_one_failure_undoes_only_itself() {
    let (_dir, book) = open();
    let book = std::sync::Arc::new(book);
    book.write(|tx| tx.insert_order(&new_order("TDG00000000", "13800000000"))).unwrap();
    let mut threads = Vec::new();
    for i in 1..=40 {
        let book = book.clone();
        threads.push(std::thread::spawn(move || {
            // Thread 20 reuses an existing id: its write fails, inside a group with others.
            let id = if i == 20 { "TDG00000000".to_owned() } else { format!("TDG{i:08}") };
            book.write_grouped(move |tx| {
                let order = tx.insert_order(&new_order(&id, "13800000000"))?;
                tx.transition(order, OrderState::Submitting, "grouped")?;
                Ok(order)
            })
        }));
    }
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    for (i, r) in results.iter().enumerate() {
        if i + 1 == 20 {
            assert_eq!(r.as_ref().unwrap_err().code(), "duplicate_order_id");
        } else {
            let id = *r.as_ref().unwrap();
            // Returned means committed: a fresh connection sees it.
            assert_eq!(book.order(id).unwrap().state, OrderState::Submitting);
        }
    }
    assert_eq!(book.list_orders(&OrderFilter::default()).unwrap().total, 40);
    let submitting =
        book.list_orders(&OrderFilter { states: vec![OrderState::Submitting], ..Default::default() });
    assert_eq!(submitting.unwrap().total, 39, "the failed write left no half-done order behind");
}

/// One step of [`kept_state_counts_always_equal_a_fresh_recount`]: each writes `orders` by a different
/// path (`i` picks an existing order, modulo how many there are).
#[derive(Clone, Debug)]
enum CountStep {
    Insert,
    Bulk(usize),
    Transition(usize, OrderState),
    Attention(usize, bool),
    /// A transition whose write then fails: the whole transaction rolls back.
    RolledBack(usize, OrderState),
    /// Raw SQL changing state and attention in one `UPDATE` (no path of ours does, yet: the counts
    /// must hold whatever writes the table).
    RawBoth(usize, OrderState, bool),
    /// Raw SQL inserting an order in any state, flagged or not (ours insert new, unflagged orders).
    RawInsert(OrderState, bool),
    /// Raw SQL deleting an order (no path of ours deletes).
    RawDelete(usize),
    /// Raw SQL setting an order's stuck level (schema 7), in any state: counted as overdue when not 0,
    /// as needing a person at level 2, and cleared when a later transition makes the order final.
    RawStuck(usize, i64),
}

fn count_step() -> impl proptest::strategy::Strategy<Value = CountStep> {
    use proptest::prelude::*;
    let state = proptest::sample::select(OrderState::ALL.to_vec());
    prop_oneof![
        3 => Just(CountStep::Insert),
        1 => (1usize..120).prop_map(CountStep::Bulk),
        6 => (any::<usize>(), state.clone()).prop_map(|(i, s)| CountStep::Transition(i, s)),
        3 => (any::<usize>(), any::<bool>()).prop_map(|(i, a)| CountStep::Attention(i, a)),
        1 => (any::<usize>(), state.clone()).prop_map(|(i, s)| CountStep::RolledBack(i, s)),
        2 => (any::<usize>(), state.clone(), any::<bool>()).prop_map(|(i, s, a)| CountStep::RawBoth(i, s, a)),
        2 => (state, any::<bool>()).prop_map(|(s, a)| CountStep::RawInsert(s, a)),
        2 => any::<usize>().prop_map(CountStep::RawDelete),
        3 => (any::<usize>(), 0i64..4).prop_map(|(i, l)| CountStep::RawStuck(i, l)),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(32))]

    /// The state counts the book keeps (schema 5, triggers) equal a fresh `GROUP BY` recount after every
    /// step of any sequence of inserts (one by one, bulk, and raw in any state), transitions, attention set and cleared,
    /// rolled-back writes, a state and attention changed in one `UPDATE`, and deletes.
    #[test]
    fn kept_state_counts_always_equal_a_fresh_recount(
        steps in proptest::collection::vec(count_step(), 1..40)
    ) {
        let (dir, book) = open();
        let raw = Connection::open(dir.path().join("orders.sqlite3")).unwrap();
        raw.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
        // Every other order belongs to an import batch, whose counts are kept too (schema 6).
        let batch = book.write(|tx| tx.insert_batch(&new_batch())).unwrap();
        let mut next = 0;
        let mut fresh = || {
            next += 1;
            NewOrder { batch_id: (next % 2 == 0).then_some(batch), ..new_order(&format!("TDK{next:08}"), "13800138000") }
        };
        for step in steps {
            let ids: Vec<i64> = raw
                .prepare("SELECT id FROM orders ORDER BY id").unwrap()
                .query_map([], |r| r.get(0)).unwrap()
                .collect::<Result<_, _>>().unwrap();
            let pick = |i: usize| (!ids.is_empty()).then(|| ids[i % ids.len()]);
            match step {
                CountStep::Insert => {
                    let order = fresh();
                    book.write(|tx| tx.insert_order(&order)).unwrap();
                }
                CountStep::Bulk(n) => {
                    let orders: Vec<NewOrder> = (0..n).map(|_| fresh()).collect();
                    book.write(|tx| tx.insert_orders_bulk(&orders, &vec![None; n])).unwrap();
                }
                CountStep::Transition(i, to) => if let Some(id) = pick(i) {
                    // Illegal transitions are refused and change nothing: either way the counts must hold.
                    let _ = book.write(|tx| tx.transition(id, to, "prop"));
                },
                CountStep::Attention(i, on) => if let Some(id) = pick(i) {
                    book.write(|tx| tx.set_attention(id, on, "prop")).unwrap();
                },
                CountStep::RolledBack(i, to) => if let Some(id) = pick(i) {
                    let _ = book.write(|tx| -> Result<(), BookError> {
                        tx.transition(id, to, "prop")?;
                        tx.set_attention(id, true, "prop")?;
                        tx.insert_order(&new_order("TDK-ROLLED-BACK", "13800138000"))?;
                        Err(BookError::Invalid("rolled back".into()))
                    });
                },
                CountStep::RawBoth(i, to, on) => if let Some(id) = pick(i) {
                    // Refused for a final order (orders_final_is_final): nothing changes then.
                    let _ = raw.execute(
                        "UPDATE orders SET state = ?2, attention = ?3 WHERE id = ?1",
                        rusqlite::params![id, to.as_str(), on],
                    );
                },
                CountStep::RawInsert(state, on) => {
                    let order = fresh();
                    raw.execute(
                        "INSERT INTO orders (merchant_order_id, provider, kind, account, face_li, state, attention, \
                         batch_id, created_at, updated_at) VALUES (?1, 'juhe', 'phone', '13800138000', 50000, ?2, ?3, ?4, 1, 1)",
                        rusqlite::params![order.merchant_order_id, state.as_str(), on, order.batch_id],
                    ).unwrap();
                }
                CountStep::RawStuck(i, level) => if let Some(id) = pick(i) {
                    raw.execute("UPDATE orders SET stuck = ?2 WHERE id = ?1", rusqlite::params![id, level]).unwrap();
                },
                CountStep::RawDelete(i) => if let Some(id) = pick(i) {
                    raw.execute("DELETE FROM order_events WHERE order_id = ?1", [id]).unwrap();
                    raw.execute("DELETE FROM orders WHERE id = ?1", [id]).unwrap();
                },
            }
            proptest::prop_assert_eq!(book.state_counts().unwrap(), book.recount_state_counts().unwrap());
            proptest::prop_assert_eq!(book.batch_counts(batch).unwrap(), book.recount_batch_counts(batch).unwrap());
        }
    }
}
