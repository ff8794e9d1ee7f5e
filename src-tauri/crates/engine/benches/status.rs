//! Status line benchmark (issue 13): what the window's status line costs per change batch on a book
//! of 1,000,000 orders — the kept state counts (schema 5) next to the `GROUP BY` recount they replaced.
//!
//! Run: `cargo bench -p topup-engine --bench status [-- --orders N --calls C]` (release). The book is
//! built in a temporary directory with one `INSERT … SELECT` (one transaction, the counting triggers
//! firing for every row), then `Book::state_counts` and `Book::recount_state_counts` are each called
//! C times (default 200) and their median and 95th percentile printed, with the load average.

use std::time::{Duration, Instant};
use topup_engine::book::Book;

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
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1) \
         INSERT INTO orders (merchant_order_id, provider, kind, account, face_li, state, attention, \
         created_at, updated_at) \
         SELECT printf('TDB%09d', i), 'juhe', 'phone', printf('139%08d', i), 50000, \
           CASE WHEN i % 100 < 88 THEN 'succeeded' WHEN i % 100 < 94 THEN 'failed' \
                WHEN i % 100 < 96 THEN 'new' WHEN i % 100 < 97 THEN 'submitting' \
                WHEN i % 100 < 98 THEN 'accepted' WHEN i % 100 < 99 THEN 'unknown' ELSE 'manual_review' END, \
           i % 997 = 0, i, i FROM n",
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
    let writes = write_cost(&path, orders);
    let ms = |d: Duration| format!("{:.3} ms", d.as_secs_f64() * 1000.0);
    println!(
        "book of {orders} orders built in {:.1} s (one INSERT … SELECT, triggers on); load average {} after \
         building, {} at the end; {calls} calls each\n\
         | read | median | p95 |\n|---|---|---|\n\
         | `state_counts()` (kept counts, schema 5) | {} | {} |\n\
         | status line's book reads (`state_counts()` + locale setting) | {} | {} |\n\
         | `GROUP BY state` + attention `COUNT(*)` (before) | {} | {} |\n\
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
    );
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
                        .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'orders' AND name LIKE 'state_counts%'")
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
