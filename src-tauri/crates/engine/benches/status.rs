//! Status line benchmark (issue 13): what the window's status line costs per change batch on a book
//! of 1,000,000 orders — the kept state counts (schema 5) next to the `GROUP BY` recount they replaced.
//!
//! Run: `cargo bench -p topup-engine --bench status [-- --orders N --calls C]` (release). The book is
//! built in a temporary directory with one `INSERT … SELECT` (one transaction, the counting triggers
//! firing for every row), then `Book::state_counts` and `Book::recount_state_counts` are each called
//! C times (default 200) and their median and 95th percentile printed, with the load average.
//!
//! Then one change batch as the window gets it: the first 100,000 orders are one import batch; each
//! round commits 100 of its orders' transitions in one write, and the `ChangeBatch` that the
//! coalescer hands over (rows, the batch's counts, the book's counts) is timed into JSON — next to
//! what the status line and the import screen used to read per batch (the two `GROUP BY`s).

use std::time::{Duration, Instant};
use topup_engine::book::{Book, OrderState};

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)?.parse().ok()).unwrap_or(default)
}

/// Median and 95th percentile of `calls` runs of `f`.
fn time(calls: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    let mut t: Vec<Duration> = (0..calls)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    t.sort();
    (t[t.len() / 2], t[t.len() * 95 / 100])
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "n/a".into())
}

fn main() {
    let orders = arg("--orders", 1_000_000);
    let calls = arg("--calls", 200).max(1);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orders.sqlite3");
    let book = Book::open(&path).unwrap();

    // A worn book: mostly finished orders, a few pending, some in review or flagged (ids spread so
    // that every state is present).
    let t = Instant::now();
    let mut raw = rusqlite::Connection::open(&path).unwrap();
    let tx = raw.transaction().unwrap();
    tx.execute(
        "INSERT INTO batches (id, file_name, content_hash, total_rows, valid_rows, invalid_rows, created_at) \
         VALUES (1, 'bench.xlsx', 'bench', 100000, 100000, 0, 1)",
        [],
    )
    .unwrap();
    tx.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1) \
         INSERT INTO orders (merchant_order_id, provider, kind, account, face_li, state, attention, \
         batch_id, created_at, updated_at) \
         SELECT printf('TDB%09d', i), 'juhe', 'phone', printf('139%08d', i), 50000, \
           CASE WHEN i % 100 < 88 THEN 'succeeded' WHEN i % 100 < 94 THEN 'failed' \
                WHEN i % 100 < 96 THEN 'new' WHEN i % 100 < 97 THEN 'submitting' \
                WHEN i % 100 < 98 THEN 'accepted' WHEN i % 100 < 99 THEN 'unknown' ELSE 'manual_review' END, \
           i % 997 = 0, CASE WHEN i <= 100000 THEN 1 END, i, i FROM n",
        [orders as i64],
    )
    .unwrap();
    tx.commit().unwrap();
    let build = t.elapsed();
    drop(raw);
    let load_start = load();

    let kept = book.state_counts().unwrap();
    assert_eq!(kept, book.recount_state_counts().unwrap(), "kept counts differ from a recount");
    let total = kept.new + kept.submitting + kept.accepted + kept.unknown + kept.succeeded + kept.failed;
    assert_eq!(total + kept.manual_review, orders as i64);

    let (kept_med, kept_p95) = time(calls, || {
        std::hint::black_box(book.state_counts().unwrap());
    });
    // The status line's book reads: the counts and the locale setting (`AppState::status`).
    let (status_med, status_p95) = time(calls, || {
        std::hint::black_box(book.state_counts().unwrap());
        std::hint::black_box(book.app_setting("locale").unwrap());
    });
    let (group_med, group_p95) = time(calls, || {
        std::hint::black_box(book.recount_state_counts().unwrap());
    });
    assert_eq!(book.batch_counts(1).unwrap(), book.recount_batch_counts(1).unwrap(), "kept batch counts");
    let (batch_med, batch_p95) = time(calls, || {
        std::hint::black_box(book.batch_counts(1).unwrap());
    });
    let (batch_group_med, batch_group_p95) = time(calls.min(50), || {
        std::hint::black_box(book.recount_batch_counts(1).unwrap());
    });
    let per_batch = change_batch_cost(book);
    let writes = write_cost(&path, orders);
    let ms = |d: Duration| format!("{:.3} ms", d.as_secs_f64() * 1000.0);
    println!(
        "book of {orders} orders built in {:.1} s (one INSERT … SELECT, triggers on); load average {} after \
         building, {} at the end; {calls} calls each\n\
         | read | median | p95 |\n|---|---|---|\n\
         | `state_counts()` (kept counts, schema 5) | {} | {} |\n\
         | status line's book reads (`state_counts()` + locale setting) | {} | {} |\n\
         | `GROUP BY state` + attention `COUNT(*)` (before) | {} | {} |\n\
         | `batch_counts(1)` (kept, schema 6; batch of 100,000) | {} | {} |\n\
         | `GROUP BY state` over the batch (before) | {} | {} |\n\
         {per_batch}\n\
         {writes}\n\
         counts: {kept:?}",
        build.as_secs_f64(),
        load_start,
        load(),
        ms(kept_med),
        ms(kept_p95),
        ms(status_med),
        ms(status_p95),
        ms(group_med),
        ms(group_p95),
        ms(batch_med),
        ms(batch_p95),
        ms(batch_group_med),
        ms(batch_group_p95),
    );
}

/// One change batch as the window gets it, `ROUNDS` times: 100 of the import batch's `new` orders
/// moved to `submitting` in one write (the book reads the kept counts for the event just before the
/// commit), then the coalesced `ChangeBatch` serialised to JSON (what Tauri sends to the window).
fn change_batch_cost(book: Book) -> String {
    const ROUNDS: usize = 15;
    const PER_BATCH: usize = 100;
    let book = std::sync::Arc::new(book);
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let mut new_ids: Vec<i64> = book
        .orders_in_state(OrderState::New)
        .unwrap()
        .into_iter()
        .filter(|o| o.batch_id == Some(1))
        .map(|o| o.id)
        .collect();
    assert!(new_ids.len() >= ROUNDS * PER_BATCH, "{} new orders in the batch", new_ids.len());
    let (mut writes, mut json, mut size) = (Vec::new(), Vec::new(), 0);
    rt.block_on(async {
        let mut batches = topup_engine::events::coalesce(book.subscribe(), Duration::from_millis(100));
        for _ in 0..ROUNDS {
            let ids: Vec<i64> = new_ids.drain(..PER_BATCH).collect();
            let b = book.clone();
            let start = Instant::now();
            tokio::task::spawn_blocking(move || {
                b.write(|tx| {
                    ids.iter().try_for_each(|id| tx.transition(*id, OrderState::Submitting, "").map(drop))
                })
            })
            .await
            .unwrap()
            .unwrap();
            writes.push(start.elapsed());
            let batch = batches.recv().await.expect("a change batch");
            assert_eq!(batch.orders.len(), PER_BATCH);
            assert!(
                batch.counts.is_some() && batch.batches.contains_key("1"),
                "counts travel with the batch"
            );
            let start = Instant::now();
            let text = serde_json::to_string(&batch).unwrap();
            json.push(start.elapsed());
            size = text.len();
        }
    });
    let med = |mut v: Vec<Duration>| {
        v.sort();
        format!("{:.3} ms", v[v.len() / 2].as_secs_f64() * 1000.0)
    };
    format!(
        "\n| one change batch ({PER_BATCH} orders of the import batch changed; median of {ROUNDS}) | median |\n|---|---|\n\
         | the write: {PER_BATCH} transitions in one transaction + the kept counts read for the event + fsync | {} |\n\
         | the `ChangeBatch` (rows, batch counts, book counts) to JSON, {} KB | {} |\n\
         | the status line's and import screen's reads per batch, now | none (the counts are in the event) |\n",
        med(writes),
        size / 1024,
        med(json),
    )
}

/// What the counting triggers add to writes: 100,000 more orders inserted, and the attention flag of
/// 100,000 orders flipped, each in one transaction with the triggers and again with them dropped
/// (every transaction rolled back, so the book is left as it was). Medians of three.
fn write_cost(path: &std::path::Path, orders: usize) -> String {
    const ROWS: i64 = 100_000;
    let mut conn = rusqlite::Connection::open(path).unwrap();
    let insert = format!(
        "WITH RECURSIVE n(i) AS (SELECT {o} + 1 UNION ALL SELECT i + 1 FROM n WHERE i < {o} + {ROWS}) \
         INSERT INTO orders (merchant_order_id, provider, kind, account, face_li, state, created_at, updated_at) \
         SELECT printf('TDB%09d', i), 'juhe', 'phone', printf('139%08d', i), 50000, 'new', i, i FROM n",
        o = orders
    );
    let flip =
        format!("UPDATE orders SET attention = 1 - attention WHERE id % 10 = 0 AND id <= {}", ROWS * 10);
    let mut run = |sql: &str, drop_triggers: bool| {
        let mut t: Vec<Duration> = (0..3)
            .map(|_| {
                let tx = conn.transaction().unwrap();
                if drop_triggers {
                    let names: Vec<String> = tx
                        .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'orders' AND (name LIKE 'state_counts%' OR name LIKE 'batch_counts%')")
                        .unwrap()
                        .query_map([], |r| r.get(0))
                        .unwrap()
                        .collect::<Result<_, _>>()
                        .unwrap();
                    assert!(!names.is_empty());
                    for name in names {
                        tx.execute_batch(&format!("DROP TRIGGER {name}")).unwrap();
                    }
                }
                let start = Instant::now();
                tx.execute_batch(sql).unwrap();
                let d = start.elapsed();
                tx.rollback().unwrap();
                d
            })
            .collect();
        t.sort();
        format!("{:.0} ms", t[1].as_secs_f64() * 1000.0)
    };
    format!(
        "\n| write (one transaction, not committed) | with the counting triggers | without |\n|---|---|---|\n\
         | insert {ROWS} orders (`INSERT … SELECT`) | {} | {} |\n\
         | flip `attention` of {ROWS} orders (one `UPDATE`) | {} | {} |\n",
        run(&insert, false),
        run(&insert, true),
        run(&flip, false),
        run(&flip, true),
    )
}
