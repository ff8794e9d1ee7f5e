//! Reports (issue 14 item 2) over a real order book: a few thousand orders in every state, over six
//! weeks, three providers, batches and hand-entered orders, customers and none, sale prices from every
//! source and unknown ones, unknown costs, and failed orders whose sale moved to a replacement. The
//! expected figures are computed here from the plan the book was seeded with, in plain Rust — not by
//! the report's SQL — and every grouping, every range and the xlsx export must match them.

use calamine::{Data, Reader};
use std::collections::BTreeMap;
use topup_engine::book::{Book, NewBatch, NewOrder, OrderPatch, OrderState, ReportBy};
use topup_engine::report::{self, ReportLine, ReportQuery};
use topup_engine::sale::{Sale, SaleSource, Sold};
use topup_engine::{Li, ProductKind, ProviderId};

/// How a planned order ends.
#[derive(Clone, Copy, Debug, PartialEq)]
enum End {
    Succeeded { cost: Option<i64>, took_ms: i64 },
    Failed { moved: bool },
    Pending(OrderState),
}

#[derive(Clone, Debug)]
struct Plan {
    day: i64,
    provider: ProviderId,
    batch: Option<usize>,
    customer: Option<String>,
    face: i64,
    sale: Option<i64>,
    end: End,
}

/// A small deterministic generator (no dependency, the same book on every run).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

const FIRST_DAY: i64 = 20261101;
const BATCHES: [&str; 3] = ["十一月客户A.xlsx", "批量话费.csv", "抖币.xlsx"];

fn day_of(i: u64) -> i64 {
    // Six weeks across a month boundary: 2026-11-01 … 2026-12-12.
    if i < 30 {
        FIRST_DAY + i as i64
    } else {
        20261201 + (i as i64 - 30)
    }
}

fn plan(n: usize) -> Vec<Plan> {
    let mut r = Lcg(14);
    let customers = ["张三", "李四", "王五的店", "Acme 渠道", "老客户"];
    (0..n)
        .map(|_| {
            let provider = ProviderId::ALL[r.next(3) as usize];
            let face = [10_000, 30_000, 50_000, 100_000][r.next(4) as usize];
            let sale = (r.next(5) != 0).then(|| face + r.next(3000) as i64 - 500);
            let end = match r.next(20) {
                0..=11 => End::Succeeded {
                    cost: (r.next(6) != 0).then(|| face - 200 - r.next(800) as i64),
                    took_ms: 1_000 + r.next(600_000) as i64,
                },
                12..=14 => End::Failed { moved: false },
                15 => End::Failed { moved: true },
                16 => End::Pending(OrderState::New),
                17 => End::Pending(OrderState::Accepted),
                18 => End::Pending(OrderState::Unknown),
                _ => End::Pending(OrderState::ManualReview),
            };
            Plan {
                day: day_of(r.next(42)),
                provider,
                batch: (r.next(3) == 0).then(|| r.next(3) as usize),
                customer: (r.next(4) != 0).then(|| customers[r.next(5) as usize].to_owned()),
                face,
                sale,
                end,
            }
        })
        .collect()
}

/// Local midnight of a day key, in ms, as if the zone were UTC: the tests set `local_day` themselves,
/// so the times only need to be ordered within the day.
fn ms_of(day: i64) -> i64 {
    let date = time::Date::from_calendar_date(
        (day / 10_000) as i32,
        time::Month::try_from((day / 100 % 100) as u8).unwrap(),
        (day % 100) as u8,
    )
    .unwrap();
    date.midnight().assume_utc().unix_timestamp() * 1000
}

/// Seeds `book` with the plan: the orders through the book's own write path (insert with their sale,
/// state transitions with the provider's cost), then their times moved to the planned day with raw
/// SQL on a connection of the test's own (the book has no write path for that; the triggers follow).
fn seed(book: &Book, plans: &[Plan]) -> Vec<i64> {
    // (id, created_at, local day, finished_at when it changes)
    let mut moves: Vec<(i64, i64, i64, Option<i64>)> = Vec::new();
    let ids = book
        .write(|tx| {
            let mut batch_ids = Vec::new();
            for name in BATCHES {
                batch_ids.push(tx.insert_batch(&NewBatch {
                    file_name: name.into(),
                    content_hash: name.into(),
                    sheet: None,
                    total_rows: 1,
                    valid_rows: 1,
                    invalid_rows: 0,
                    skipped_rows: 0,
                })?);
            }
            let mut ids = Vec::new();
            for (i, p) in plans.iter().enumerate() {
                let new = NewOrder {
                    merchant_order_id: format!("TDRPT{i:08}"),
                    provider: p.provider,
                    kind: ProductKind::Phone,
                    product_id: None,
                    account: format!("139{i:08}"),
                    details: serde_json::json!({}),
                    face: Li(p.face),
                    batch_id: p.batch.map(|b| batch_ids[b]),
                    resubmit_of: None,
                    fallback_of: None,
                };
                let source = if p.batch.is_some() { SaleSource::Import } else { SaleSource::Form };
                let sold = Sold {
                    sale: Sale { amount: p.sale.map(Li), source: p.sale.map(|_| source) },
                    customer: p.customer.clone(),
                };
                let id = tx.insert_order_sold(&new, &sold)?;
                let at = ms_of(p.day) + (i as i64 % 80_000) * 1000;
                match p.end {
                    End::Succeeded { cost, took_ms } => {
                        tx.transition(id, OrderState::Submitting, "")?;
                        tx.transition(id, OrderState::Accepted, "")?;
                        let also = OrderPatch { cost: cost.map(Li), ..OrderPatch::default() };
                        tx.transition_with(id, OrderState::Succeeded, "", also)?;
                        moves.push((id, at, p.day, Some(at + took_ms)));
                    }
                    End::Failed { moved } => {
                        tx.transition(id, OrderState::Submitting, "")?;
                        tx.transition(id, OrderState::Failed, "")?;
                        moves.push((id, at, p.day, None));
                        if moved {
                            // Its replacement (a resubmission, still pending, created the same day).
                            let again = NewOrder {
                                merchant_order_id: format!("TDRPT{i:08}R"),
                                resubmit_of: Some(id),
                                ..new.clone()
                            };
                            let r = tx.insert_order(&again)?;
                            tx.carry_sale(id, r)?;
                            moves.push((r, at + 1, p.day, None));
                        }
                    }
                    End::Pending(state) => {
                        if state != OrderState::New {
                            tx.transition(id, OrderState::Submitting, "")?;
                            let via = if state == OrderState::Unknown { state } else { OrderState::Accepted };
                            tx.transition(id, via, "")?;
                            if via != state {
                                tx.transition(id, state, "")?;
                            }
                        }
                        moves.push((id, at, p.day, None));
                    }
                }
                ids.push(id);
            }
            Ok(ids)
        })
        .unwrap();
    let mut raw = rusqlite::Connection::open(book.path()).unwrap();
    let tx = raw.transaction().unwrap();
    for (id, at, day, finished) in moves {
        tx.execute(
            "UPDATE orders SET created_at = ?2, local_day = ?3, finished_at = COALESCE(?4, finished_at) WHERE id = ?1",
            rusqlite::params![id, at, day, finished],
        )
        .unwrap();
    }
    tx.commit().unwrap();
    ids
}

/// One order of the book as the expectation sees it: a planned order, or the pending replacement of
/// a failed one (it carries the sale and the customer).
#[derive(Clone, Debug)]
struct Row {
    key: BTreeMap<ReportBy, String>,
    end: End,
    face: i64,
    sale: Option<i64>,
}

fn rows_of(plans: &[Plan], batch_ids: &[i64]) -> Vec<Row> {
    let mut out = Vec::new();
    for p in plans {
        let mut key = BTreeMap::new();
        key.insert(ReportBy::Day, report::day_text(p.day));
        key.insert(ReportBy::Provider, p.provider.as_str().to_owned());
        key.insert(ReportBy::Batch, p.batch.map(|b| batch_ids[b].to_string()).unwrap_or_default());
        key.insert(ReportBy::Customer, p.customer.clone().unwrap_or_default());
        out.push(Row { key: key.clone(), end: p.end, face: p.face, sale: p.sale });
        if p.end == (End::Failed { moved: true }) {
            out.push(Row { key, end: End::Pending(OrderState::New), face: p.face, sale: p.sale });
        }
    }
    out
}

/// The figures of a group, computed from its rows as the module doc defines them.
fn expect(key: &str, rows: &[&Row]) -> ReportLine {
    let mut l = ReportLine { key: key.to_owned(), ..ReportLine::default() };
    let (mut cost, mut cost_known, mut sales, mut sales_known) = (0, 0, 0, 0);
    let (mut profit, mut profit_known, mut refunds, mut took, mut timed) = (0, 0, 0, 0, 0);
    for r in rows {
        l.orders += 1;
        match r.end {
            End::Succeeded { cost: c, took_ms } => {
                l.succeeded += 1;
                l.face = Li(l.face.0 + r.face);
                if let Some(c) = c {
                    cost += c;
                    cost_known += 1;
                }
                if let Some(s) = r.sale {
                    sales += s;
                    sales_known += 1;
                }
                if let (Some(c), Some(s)) = (c, r.sale) {
                    profit += s - c;
                    profit_known += 1;
                }
                took += took_ms;
                timed += 1;
            }
            End::Failed { moved } => {
                l.failed += 1;
                if !moved {
                    match r.sale {
                        Some(s) => {
                            refunds += s;
                            l.refund_orders += 1;
                        }
                        None => l.refund_unknown += 1,
                    }
                }
            }
            End::Pending(_) => l.pending += 1,
        }
    }
    let finished = l.succeeded + l.failed;
    l.success_rate_bp = (finished > 0).then(|| l.succeeded * 10_000 / finished);
    l.cost_unknown = l.succeeded - cost_known;
    l.cost = (l.succeeded == 0 || cost_known > 0).then_some(Li(cost));
    l.sale_unknown = l.succeeded - sales_known;
    l.sales = (l.succeeded == 0 || sales_known > 0).then_some(Li(sales));
    l.profit_unknown = l.succeeded - profit_known;
    l.profit = (l.succeeded == 0 || profit_known > 0).then_some(Li(profit));
    l.refunds = (l.refund_unknown == 0 || l.refund_orders > 0).then_some(Li(refunds));
    l.avg_success_ms = (timed > 0).then(|| took / timed);
    l
}

fn expected(rows: &[Row], by: ReportBy, from: &str, to: &str) -> Vec<ReportLine> {
    let mut groups: BTreeMap<String, Vec<&Row>> = BTreeMap::new();
    for r in rows.iter().filter(|r| (from..=to).contains(&r.key[&ReportBy::Day].as_str())) {
        groups.entry(r.key[&by].clone()).or_default().push(r);
    }
    groups.iter().map(|(k, rs)| expect(k, rs)).collect()
}

/// The report's lines without the labels (which only dress the key).
fn figures(mut lines: Vec<ReportLine>) -> Vec<ReportLine> {
    for l in &mut lines {
        l.label = String::new();
    }
    lines.sort_by(|a, b| a.key.cmp(&b.key));
    lines
}

fn open() -> (tempfile::TempDir, Book) {
    let dir = tempfile::tempdir().unwrap();
    let book = Book::open(&dir.path().join("orders.sqlite3")).unwrap();
    (dir, book)
}

fn query(from: &str, to: &str, by: ReportBy) -> ReportQuery {
    ReportQuery { from: Some(from.into()), to: Some(to.into()), by: Some(by) }
}

#[test]
fn every_grouping_and_range_matches_totals_computed_from_the_seeded_orders() {
    let (_dir, book) = open();
    let plans = plan(3000);
    seed(&book, &plans);
    let batch_ids: Vec<i64> = (1..=3).collect();
    let rows = rows_of(&plans, &batch_ids);
    // Every kind of order is in the seed, or the comparison proves little.
    assert!(plans.iter().any(|p| p.sale.is_none()) && plans.iter().any(|p| p.customer.is_none()));
    for end in [End::Failed { moved: true }, End::Failed { moved: false }] {
        assert!(plans.iter().any(|p| p.end == end));
    }
    assert!(plans.iter().any(|p| matches!(p.end, End::Succeeded { cost: None, .. })));

    for (from, to) in
        [("2026-11-01", "2026-12-12"), ("2026-11-28", "2026-12-03"), ("2026-12-05", "2026-12-05")]
    {
        for by in ReportBy::ALL {
            let got = figures(report::lines(&book, by, parse(from), parse(to)).unwrap());
            let want = figures(expected(&rows, by, from, to));
            assert_eq!(got.len(), want.len(), "{by:?} {from}..{to}");
            for (g, w) in got.iter().zip(&want) {
                assert_eq!(g, w, "{by:?} {from}..{to} group {}", w.key);
            }
            // The kept sums agree with a plain GROUP BY over the orders.
            assert_eq!(
                book.report_sums(by, parse(from), parse(to)).unwrap(),
                book.recount_report(by, parse(from), parse(to)).unwrap(),
                "{by:?}"
            );
        }
        let r = report::report(&book, &query(from, to, ReportBy::Customer)).unwrap();
        let mut total = expect(
            "",
            &rows
                .iter()
                .filter(|r| (from..=to).contains(&r.key[&ReportBy::Day].as_str()))
                .collect::<Vec<_>>(),
        );
        total.label = r.total.label.clone();
        assert_eq!(r.total, total, "{from}..{to}");
        assert_eq!(r.days.len(), expected(&rows, ReportBy::Day, from, to).len());
    }
}

fn parse(day: &str) -> i64 {
    report::parse_day(day, "日期", "day").unwrap()
}

#[test]
fn unknown_costs_and_sales_are_unknown_never_zero() {
    let (_dir, book) = open();
    // Two succeeded orders, neither with a cost nor a sale; one failed without a sale.
    let plans = vec![
        Plan {
            day: 20261204,
            provider: ProviderId::Juhe,
            batch: None,
            customer: None,
            face: 10_000,
            sale: None,
            end: End::Succeeded { cost: None, took_ms: 5_000 },
        },
        Plan {
            day: 20261204,
            provider: ProviderId::Juhe,
            batch: None,
            customer: None,
            face: 10_000,
            sale: None,
            end: End::Succeeded { cost: None, took_ms: 7_000 },
        },
        Plan {
            day: 20261204,
            provider: ProviderId::Oper,
            batch: None,
            customer: None,
            face: 10_000,
            sale: None,
            end: End::Failed { moved: false },
        },
    ];
    seed(&book, &plans);
    let r = report::report(&book, &query("2026-12-04", "2026-12-04", ReportBy::Provider)).unwrap();
    let juhe = r.rows.iter().find(|l| l.key == "juhe").unwrap();
    assert_eq!((juhe.cost, juhe.sales, juhe.profit), (None, None, None));
    assert_eq!((juhe.cost_unknown, juhe.sale_unknown, juhe.profit_unknown), (2, 2, 2));
    assert_eq!(juhe.avg_success_ms, Some(6_000));
    let oper = r.rows.iter().find(|l| l.key == "oper").unwrap();
    assert_eq!((oper.refunds, oper.refund_unknown), (None, 1));
    assert_eq!(oper.success_rate_bp, Some(0));
    assert_eq!(r.total.face, Li(20_000));
    let json = serde_json::to_value(&r.total).unwrap();
    assert_eq!(json["profit"], serde_json::Value::Null);
    // In the export too: “—”, not 0.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("报表.xlsx");
    topup_engine::api::report::export_to(&book, &query("2026-12-04", "2026-12-04", ReportBy::Day), &path)
        .unwrap();
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&path).unwrap();
    let sheet = wb.worksheet_range("按供应商").unwrap();
    let heading: Vec<String> = sheet.rows().next().unwrap().iter().map(|c| c.to_string()).collect();
    let profit_col = heading.iter().position(|h| h == "利润").unwrap();
    let juhe_row = sheet.rows().find(|r| r[0] == Data::String("聚合数据".into())).expect("a juhe row");
    assert_eq!(juhe_row[profit_col], Data::String("—".into()));
}

#[test]
fn the_export_has_one_sheet_per_view_with_the_report_figures() {
    let (_dir, book) = open();
    let plans = plan(400);
    seed(&book, &plans);
    let rows = rows_of(&plans, &[1, 2, 3]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("导出").join("报表.xlsx");
    let q = query("2026-11-01", "2026-12-12", ReportBy::Day);
    topup_engine::api::report::export_to(&book, &q, &path).unwrap();
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&path).unwrap();
    assert_eq!(wb.sheet_names(), ["按日", "按供应商", "按批次", "按客户", "日对账单"]);
    let total = expect("", &rows.iter().collect::<Vec<_>>());
    for (by, name) in topup_engine::report::xlsx::SHEETS {
        let sheet = wb.worksheet_range(name).unwrap();
        let heading: Vec<String> = sheet.rows().next().unwrap().iter().map(|c| c.to_string()).collect();
        assert_eq!(heading, topup_engine::report::xlsx::HEADINGS);
        let groups = expected(&rows, by, "2026-11-01", "2026-12-12").len();
        assert_eq!(sheet.height(), 1 + groups + 1, "{name}: heading, groups, total");
        let last = sheet.rows().next_back().unwrap();
        let col = |h: &str| heading.iter().position(|x| x == h).unwrap();
        assert_eq!(last[col("订单数")], Data::Float(total.orders as f64), "{name}");
        assert_eq!(last[col("利润")], Data::String(total.profit.unwrap().to_string()), "{name}");
        assert_eq!(last[col("应退客户")], Data::String(total.refunds.unwrap().to_string()), "{name}");
        assert_eq!(last[col("销售额")], Data::String(total.sales.unwrap().to_string()), "{name}");
    }
}

#[test]
fn a_bad_range_names_the_field_in_both_languages() {
    let (_dir, book) = open();
    let e = report::report(&book, &query("2026-13-01", "2026-12-01", ReportBy::Day)).unwrap_err();
    assert!(e.to_string().contains("开始日期") && e.to_string().contains("from"), "{e}");
    let e = report::report(&book, &query("2026-12-02", "2026-12-01", ReportBy::Day)).unwrap_err();
    assert!(e.to_string().contains("晚于") && e.to_string().contains("after"), "{e}");
    assert_eq!(e.code(), "invalid_field");
}
