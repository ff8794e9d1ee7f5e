//! Report benchmark (issue 14): every report over a year of 1,000,000 orders, read from the figures the
//! book keeps per day × provider × batch × customer (`report_days`, schema 10), side by side with what a
//! reseller would otherwise do: the plain `GROUP BY` over the orders (`Book::recount_report`), and
//! exporting the year's orders to xlsx for a spreadsheet pivot.
//!
//! Run: `cargo bench -p topup-engine --bench report [-- --orders N --calls C --no-export]` (release).
//! The book is built in a temporary directory with one `INSERT … SELECT` (one transaction, every
//! trigger firing for every row): 365 local days, three providers, 60 % of the orders in 500 import
//! batches, 40 customers and none, 88 % succeeded (5 % of them without a known cost), 6 % failed, the
//! rest pending; 80 % with a sale price. Then each report is run C times (default 20) and its median
//! and 95th percentile printed, with the load average.

use std::time::{Duration, Instant};
use topup_engine::book::{Book, ReportBy};
use topup_engine::report::{self, ReportQuery};

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)?.parse().ok()).unwrap_or(default)
}

fn time(calls: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    let mut t: Vec<Duration> = (0..calls)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    t.sort();
    (t[t.len() / 2], t[(t.len() * 95 / 100).min(t.len() - 1)])
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "n/a".into())
}

fn main() {
    let orders = arg("--orders", 1_000_000) as i64;
    let calls = arg("--calls", 20).max(1);
    let export = !std::env::args().any(|a| a == "--no-export");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orders.sqlite3");
    let book = Book::open(&path).unwrap();

    // 2025-01-01 00:00 UTC, one year of orders spread evenly; the local day from the created time.
    const START: i64 = 1_735_689_600_000;
    const YEAR_MS: i64 = 365 * 86_400_000;
    let t = Instant::now();
    let mut raw = rusqlite::Connection::open(&path).unwrap();
    let tx = raw.transaction().unwrap();
    tx.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500) \
         INSERT INTO batches (file_name, content_hash, total_rows, valid_rows, invalid_rows, created_at) \
         SELECT printf('批次%03d.xlsx', i), printf('%064d', i), 2000, 2000, 0, ?1 FROM n",
        [START],
    )
    .unwrap();
    tx.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1), \
         o AS (SELECT i, ?2 + (i * ?3 / ?1) AS at, \
           CASE WHEN i % 100 < 88 THEN 'succeeded' WHEN i % 100 < 94 THEN 'failed' \
                WHEN i % 100 < 96 THEN 'new' WHEN i % 100 < 98 THEN 'unknown' ELSE 'manual_review' END AS state, \
           (10 + i % 4 * 20) * 1000 AS face FROM n) \
         INSERT INTO orders (merchant_order_id, provider, kind, account, face_li, cost_li, sale_li, sale_source, \
           customer, batch_id, state, created_at, updated_at, finished_at, local_day) \
         SELECT printf('TDR%09d', i), CASE i % 3 WHEN 0 THEN 'dingyin' WHEN 1 THEN 'oper' ELSE 'juhe' END, 'phone', \
           printf('139%08d', i), face, \
           CASE WHEN state = 'succeeded' AND i % 20 <> 7 THEN face - 300 END, \
           CASE WHEN i % 5 <> 0 THEN face + 200 END, CASE WHEN i % 5 <> 0 THEN 'import' END, \
           CASE WHEN i % 41 <> 0 THEN printf('客户%02d', i % 40) END, \
           CASE WHEN i % 10 < 6 THEN 1 + ((i - 1) * 500 / ?1) END, \
           state, at, at, CASE WHEN state IN ('succeeded', 'failed') THEN at + 1000 + i % 600 * 1000 END, \
           CAST(strftime('%Y%m%d', at / 1000, 'unixepoch', 'localtime') AS INTEGER) FROM o",
        rusqlite::params![orders, START, YEAR_MS],
    )
    .unwrap();
    tx.commit().unwrap();
    let build = t.elapsed();
    let kept_rows: i64 = raw.query_row("SELECT COUNT(*) FROM report_days", [], |r| r.get(0)).unwrap();
    drop(raw);
    let load_start = load();

    let from = book.local_day(START).unwrap();
    let to = book.local_day(START + YEAR_MS - 1).unwrap();
    for by in ReportBy::ALL {
        assert_eq!(
            book.report_sums(by, from, to).unwrap(),
            book.recount_report(by, from, to).unwrap(),
            "{by:?}"
        );
    }
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
    let mut lines = Vec::new();
    for by in ReportBy::ALL {
        let (med, p95) = time(calls, || {
            std::hint::black_box(report::lines(&book, by, from, to).unwrap());
        });
        let (gmed, gp95) = time(calls.min(5), || {
            std::hint::black_box(book.recount_report(by, from, to).unwrap());
        });
        lines.push(format!(
            "| by {} (year) | {} | {} | {} | {} |",
            by.as_str(),
            ms(med),
            ms(p95),
            ms(gmed),
            ms(gp95)
        ));
    }
    let day = |k: i64| report::day_text(k);
    let q = ReportQuery { from: Some(day(from)), to: Some(day(to)), by: Some(ReportBy::Customer) };
    let (smed, sp95) = time(calls, || {
        std::hint::black_box(report::report(&book, &q).unwrap());
    });
    let hundred_days_back = book.local_day(START + YEAR_MS - 101 * 86_400_000).unwrap();
    let month =
        ReportQuery { from: Some(day(hundred_days_back)), to: Some(day(to)), by: Some(ReportBy::Day) };
    let (mmed, mp95) = time(calls, || {
        std::hint::black_box(report::report(&book, &month).unwrap());
    });
    let xlsx = dir.path().join("报表.xlsx");
    let (xmed, xp95) = time(calls.min(5), || {
        topup_engine::api::report::export_to(&book, &q, &xlsx).unwrap();
    });
    let pivot = if export {
        let out = dir.path().join("orders.xlsx");
        let t = Instant::now();
        let n = topup_engine::import::export_orders(
            &book,
            &topup_engine::book::OrderFilter::default(),
            &out,
            topup_engine::import::ExportFormat::Xlsx,
        )
        .unwrap();
        let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
        format!(
            "| export the year's {n} orders to xlsx (`export_orders`, before any pivot) | {:.1} s | | | ({:.0} MiB) |",
            t.elapsed().as_secs_f64(),
            size as f64 / 1_048_576.0
        )
    } else {
        String::new()
    };
    let writes = write_cost(&path, orders);
    println!(
        "book of {orders} orders over 365 days built in {:.1} s (one INSERT … SELECT, triggers on); \
         {kept_rows} kept rows in report_days; load average {load_start} after building, {} at the end; \
         {calls} calls each (the GROUP BY at most 5)\n\
         | report | kept sums: median | p95 | plain GROUP BY over orders: median | p95 |\n|---|---|---|---|---|\n\
         {}\n\
         | the screen's call, a year by customer (`report::report`: days + rows + total) | {} | {} | | |\n\
         | the screen's call, the last 101 days by day | {} | {} | | |\n\
         | xlsx export of the year, four sheets (`api::report::export_to`) | {} | {} | | |\n\
         {pivot}\n{writes}",
        build.as_secs_f64(),
        load(),
        lines.join("\n"),
        ms(smed),
        ms(sp95),
        ms(mmed),
        ms(mp95),
        ms(xmed),
        ms(xp95),
    );
}

/// What the report triggers add to writes: 100,000 new orders inserted (with a sale and a customer),
/// then those orders moved to succeeded with a cost, in one transaction each, with every trigger and
/// again with the `report_days` triggers dropped (rolled back: the book is left as it was). Medians of 3.
fn write_cost(path: &std::path::Path, orders: i64) -> String {
    const ROWS: i64 = 100_000;
    let mut conn = rusqlite::Connection::open(path).unwrap();
    let insert = format!(
        "WITH RECURSIVE n(i) AS (SELECT {orders} + 1 UNION ALL SELECT i + 1 FROM n WHERE i < {orders} + {ROWS}) \
         INSERT INTO orders (merchant_order_id, provider, kind, account, face_li, sale_li, sale_source, customer, \
           state, created_at, updated_at, local_day) \
         SELECT printf('TDW%09d', i), 'juhe', 'phone', printf('139%08d', i), 50000, 50200, 'form', \
           printf('客户%02d', i % 40), 'accepted', 1767139200000 + i, 1767139200000 + i, 20261231 FROM n"
    );
    let finish = format!(
        "UPDATE orders SET state = 'succeeded', cost_li = 49800, finished_at = updated_at + 5000 WHERE id > {orders}"
    );
    let mut run = |drop_triggers: bool| {
        let mut t: Vec<(Duration, Duration)> = (0..3)
            .map(|_| {
                let tx = conn.transaction().unwrap();
                if drop_triggers {
                    for name in [
                        "report_days_insert",
                        "report_days_delete",
                        "report_days_update_out",
                        "report_days_update_in",
                    ] {
                        tx.execute_batch(&format!("DROP TRIGGER {name}")).unwrap();
                    }
                }
                let start = Instant::now();
                tx.execute_batch(&insert).unwrap();
                let inserted = start.elapsed();
                let start = Instant::now();
                tx.execute_batch(&finish).unwrap();
                let finished = start.elapsed();
                tx.rollback().unwrap();
                (inserted, finished)
            })
            .collect();
        t.sort();
        t[1]
    };
    let (ins, fin) = run(false);
    let (ins0, fin0) = run(true);
    let pct = |a: Duration, b: Duration| (a.as_secs_f64() / b.as_secs_f64() - 1.0) * 100.0;
    format!(
        "| 100,000 new orders inserted (one statement, one transaction) | {:.0} ms with the report triggers | {:.0} ms without | +{:.0} % | |\n\
         | the same 100,000 orders moved to succeeded with a cost | {:.0} ms with | {:.0} ms without | +{:.0} % | |",
        ins.as_secs_f64() * 1000.0,
        ins0.as_secs_f64() * 1000.0,
        pct(ins, ins0),
        fin.as_secs_f64() * 1000.0,
        fin0.as_secs_f64() * 1000.0,
        pct(fin, fin0),
    )
}
