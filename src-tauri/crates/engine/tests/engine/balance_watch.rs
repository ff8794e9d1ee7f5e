//! The balance drift watch and the daily statement against the simulator over real HTTP, with a real
//! SQLite book: money the simulator moves behind the book's back (a planted charge, a deposit) is
//! found, refunds are explained, orders in flight raise no alarm and hide nothing.

use crate::run::{fast_settings, rig, rig_with, Rig};
use std::time::Duration;
use topup_engine::api::balance_statement;
use topup_engine::api::balance_watch::{self, Verdict, Window};
use topup_engine::book::{now_ms, Order, OrderState};
use topup_engine::{Li, ProviderId};
use topup_sim::{Fault, OrderState as SimState, PlantCharge, Script, Target};

const TOLERANCE: Li = Li(100);

/// Waits until the book's clock has moved on, so that the next timestamp is strictly later than
/// every one before (a read and an order in the same millisecond are ambiguous to the watch).
async fn tick() {
    let start = now_ms();
    while now_ms() <= start + 1 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Reads the balance as the Balances screen does, and returns the judged windows of the provider.
async fn read(rig: &Rig, p: ProviderId) -> Vec<Window> {
    tick().await;
    let row = balance_watch::read(&rig.engine, p, "test").await;
    assert!(row.error.is_none(), "{:?}", row.error);
    tick().await;
    balance_watch::windows(&rig.book, p, 0, i64::MAX, TOLERANCE).unwrap()
}

/// Waits (bounded) until the order satisfies `done`.
async fn until(rig: &Rig, order: &Order, done: impl Fn(&Order) -> bool) -> Order {
    for _ in 0..300 {
        let o = rig.book.order(order.id).unwrap();
        if done(&o) {
            return o;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "order {} never got there: {:?}",
        order.merchant_order_id,
        rig.book.order(order.id).unwrap().state
    );
}

async fn settled(rig: &Rig, order: &Order) -> Order {
    until(rig, order, |o| o.state.is_final()).await
}

fn plant(rig: &Rig, p: ProviderId, id: &str, account: &str, cost_li: i64) {
    rig.sim
        .plant_charge(&PlantCharge {
            provider: p.as_str().into(),
            merchant_order_id: id.into(),
            account: account.into(),
            face_li: cost_li,
            cost_li: Some(cost_li),
            state: None,
        })
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_duplicate_charge_is_caught_and_its_windows_orders_listed() {
    let rig = rig().await;
    for (p, acct) in [
        (ProviderId::Dingyin, "13800001001"),
        (ProviderId::Oper, "13800001002"),
        (ProviderId::Juhe, "13800001003"),
    ] {
        read(&rig, p).await;
        let order = rig.add(p, acct, 50);
        let order = settled(&rig, &order).await;
        assert_eq!(order.state, OrderState::Succeeded);
        let ws = read(&rig, p).await;
        let w = ws.last().unwrap();
        assert_eq!(w.verdict, Verdict::Ok, "{p}: an order the book knows explains the change: {w:?}");
        // The provider charges the same order a second time, under an id the book never sent.
        let charged = rig
            .sim
            .orders()
            .iter()
            .find(|o| o.merchant_order_id == order.merchant_order_id)
            .unwrap()
            .charged_li;
        let order2 = rig.add(p, acct, 30);
        settled(&rig, &order2).await;
        plant(&rig, p, &format!("{}DUP", order.merchant_order_id), acct, charged);
        let ws = read(&rig, p).await;
        let w = ws.last().unwrap();
        assert_eq!(w.verdict, Verdict::Drift, "{p}: {w:?}");
        assert_eq!(w.unexplained, Li(charged), "{p}: exactly the planted charge is unexplained");
        let listed: Vec<_> = w.orders.iter().map(|o| o.facts.merchant_order_id.clone()).collect();
        assert_eq!(listed, vec![order2.merchant_order_id.clone()], "{p}: the window's orders are listed");
        let alerts = balance_watch::alerts(&rig.book, TOLERANCE, now_ms()).unwrap();
        assert!(alerts.drifts.iter().any(|d| d.to.id == w.to.id), "{p}: the banner shows it");
        // Told once: the window's end read is marked, a second mark is refused.
        assert!(rig.book.write(|tx| tx.mark_balance_notified(w.to.id, now_ms())).unwrap());
        assert!(!rig.book.write(|tx| tx.mark_balance_notified(w.to.id, now_ms())).unwrap());
    }
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_is_explained() {
    let rig = rig().await;
    for (p, acct) in [
        (ProviderId::Dingyin, "13800002001"),
        (ProviderId::Oper, "13800002002"),
        (ProviderId::Juhe, "13800002003"),
    ] {
        read(&rig, p).await;
        rig.sim.script(Script::once(Target::Account(acct.into()), Fault::SettleFailed));
        let order = rig.add(p, acct, 20);
        let order = settled(&rig, &order).await;
        assert_eq!(order.state, OrderState::Failed, "{p}");
        let w = read(&rig, p).await.pop().unwrap();
        assert_eq!(w.verdict, Verdict::Ok, "{p}: {w:?}");
        assert_eq!(w.observed, Li(0), "{p}: charged and refunded");
        assert!(w.spend.0 > 0 && w.spend == w.refunds, "{p}: the charge and its refund: {w:?}");
    }
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deposit_is_recognised_and_confirmed() {
    let rig = rig().await;
    let p = ProviderId::Juhe;
    read(&rig, p).await;
    let order = rig.add(p, "13800003001", 10);
    settled(&rig, &order).await;
    rig.sim.deposit(p.as_str(), 500_000).unwrap();
    let w = read(&rig, p).await.pop().unwrap();
    assert_eq!((w.verdict, w.unexplained), (Verdict::Deposit, Li(500_000)), "{w:?}");
    let alerts = balance_watch::alerts(&rig.book, TOLERANCE, now_ms()).unwrap();
    assert_eq!(alerts.deposits.len(), 1);
    assert!(alerts.drifts.is_empty(), "a deposit is not a drift");
    let confirmed =
        balance_watch::confirm(&rig.book, w.to.id, "微信转账 / bank transfer", TOLERANCE).unwrap();
    assert_eq!(confirmed.unexplained, Li(500_000));
    let alerts = balance_watch::alerts(&rig.book, TOLERANCE, now_ms()).unwrap();
    assert!(alerts.deposits.is_empty(), "confirmed: off the banner");
    let read_back = rig.book.balance_read(w.to.id).unwrap();
    assert_eq!(read_back.resolved, Some(Li(500_000)));
    rig.stop().await;
}

/// An order whose reply was lost is charged at the provider while the book cannot know whether:
/// the window is pending, not a drift. A planted charge larger than anything in flight is a drift at
/// once; one exactly as large hides behind the in-flight order only until it settles.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_flight_orders_raise_no_false_alarm_and_hide_nothing() {
    let mut settings = fast_settings();
    settings.query_delays_ms = vec![3_600_000];
    let rig = rig_with(settings).await;
    let p = ProviderId::Dingyin;
    let acct = "13800004001";
    rig.sim.script(Script::once(Target::Account(acct.into()), Fault::LostResponseAfterAccept));
    rig.sim.script(Script::always(Target::Account(acct.into()), Fault::PendingForever));
    read(&rig, p).await;
    let order = rig.add(p, acct, 100);
    let order = until(&rig, &order, |o| o.state == OrderState::Unknown).await;
    let cost =
        rig.sim.orders().iter().find(|o| o.merchant_order_id == order.merchant_order_id).unwrap().charged_li;
    let w = read(&rig, p).await.pop().unwrap();
    assert_eq!(w.observed, Li(-cost), "the provider charged it");
    assert_eq!(w.verdict, Verdict::Pending, "in flight: not judged, no alarm: {w:?}");
    assert!(balance_watch::alerts(&rig.book, TOLERANCE, now_ms()).unwrap().drifts.is_empty());

    // More gone than the in-flight order could explain: a drift at once.
    plant(&rig, p, "LOST0000000001", "13800004099", cost + 50_000);
    let w = read(&rig, p).await.pop().unwrap();
    assert_eq!(w.verdict, Verdict::Drift, "{w:?}");

    // Exactly as much as the in-flight order: pending while it is unknown …
    plant(&rig, p, "LOST0000000002", "13800004098", cost);
    let w = read(&rig, p).await.pop().unwrap();
    assert_eq!(w.verdict, Verdict::Pending, "{w:?}");
    // … found once it settles: the provider says it took the order (in progress), so its charge is
    // known to lie between its send and now. The windows around it are judged as one span, in which
    // the planted charges and nothing else are unexplained.
    let now = rig.engine.query_now(order.id).await.unwrap();
    assert_eq!(now.state, OrderState::Accepted);
    let ws = read(&rig, p).await;
    assert_eq!(ws.len(), 1, "one span from the first read: {ws:#?}");
    let last = ws.last().unwrap();
    assert_eq!(last.verdict, Verdict::Drift, "{ws:#?}");
    assert_eq!(
        last.unexplained,
        Li(cost + 50_000 + cost),
        "the planted charges, now that the order is known"
    );
    assert!(last.settled);
    // The day's statement counts every read, also those inside the one span.
    let offset = balance_statement::local_offset();
    let day = balance_statement::today(offset);
    let s = balance_statement::statement(&rig.book, p, &day, offset, TOLERANCE).unwrap();
    assert_eq!((s.reads, s.drifts, s.difference), (5, 1, Some(Li(-(cost + 50_000 + cost)))));
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opers_ledger_entry_is_kept_with_every_read() {
    let rig = rig().await;
    let p = ProviderId::Oper;
    read(&rig, p).await;
    let last = |rig: &Rig| rig.sim.ledger().into_iter().rfind(|e| e.provider == "oper").unwrap();
    let first = rig.book.balance_reads(p, 0, i64::MAX).unwrap().pop().unwrap();
    let entry = first.ledger.expect("oper names its last ledger entry");
    assert_eq!(entry.id, last(&rig).id.to_string());
    let order = rig.add(p, "13800005001", 30);
    settled(&rig, &order).await;
    read(&rig, p).await;
    let second = rig.book.balance_reads(p, 0, i64::MAX).unwrap().pop().unwrap();
    let entry = second.ledger.unwrap();
    let sim_entry = last(&rig);
    assert_eq!(entry.id, sim_entry.id.to_string());
    assert_eq!(entry.record.as_deref(), Some("订单扣款"));
    assert_eq!(entry.expenditure, Some(Li(sim_entry.expenditure_li)));
    // dingyin and juhe name none.
    read(&rig, ProviderId::Juhe).await;
    assert_eq!(rig.book.balance_reads(ProviderId::Juhe, 0, i64::MAX).unwrap()[0].ledger, None);
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_statement_matches_an_independent_computation() {
    let rig = rig().await;
    let p = ProviderId::Dingyin;
    let opening = rig.sim.balance_li(p.as_str());
    read(&rig, p).await;
    let mut orders = Vec::new();
    for (i, (yuan, fails)) in [(10, false), (20, true), (50, false), (100, false)].into_iter().enumerate() {
        let acct = format!("1380000600{i}");
        if fails {
            rig.sim.script(Script::once(Target::Account(acct.clone()), Fault::SettleFailed));
        }
        orders.push(rig.add(p, &acct, yuan));
    }
    for o in &orders {
        settled(&rig, o).await;
    }
    read(&rig, p).await;
    rig.sim.deposit(p.as_str(), 1_000_000).unwrap();
    // A deposit and a hidden charge in one window would offset each other: a read between them.
    read(&rig, p).await;
    let order = rig.add(p, "13800006009", 30);
    settled(&rig, &order).await;
    plant(&rig, p, "PLANTED000000001", "13800006010", 7_000);
    read(&rig, p).await;

    // Independently, from the simulator's own orders and balance.
    let ours: Vec<_> = rig.sim.orders().into_iter().filter(|o| o.provider == "dingyin").collect();
    let known = |o: &&topup_sim::SimOrder| o.merchant_order_id != "PLANTED000000001";
    let spend: i64 = ours.iter().filter(known).map(|o| o.charged_li).sum();
    let refunds: i64 =
        ours.iter().filter(known).filter(|o| o.state == SimState::Failed).map(|o| o.charged_li).sum();
    let closing = rig.sim.balance_li(p.as_str());

    let offset = balance_statement::local_offset();
    let day = balance_statement::today(offset);
    let s = balance_statement::statement(&rig.book, p, &day, offset, TOLERANCE).unwrap();
    assert_eq!(s.reads, 4);
    assert_eq!(s.opening, Some(Li(opening)));
    assert_eq!(s.closing, Some(Li(closing)));
    assert_eq!(s.spend, Li(spend));
    assert_eq!(s.refunds, Li(refunds));
    assert_eq!(s.deposits, Li(1_000_000));
    assert_eq!(s.expected_closing, Some(Li(opening + 1_000_000 - spend + refunds)));
    assert_eq!(s.difference, Some(Li(-7_000)), "the planted charge and nothing else");
    assert_eq!((s.drifts, s.pending), (1, 0));
    assert_eq!((s.in_flight_low, s.in_flight_high), (Li(0), Li(0)));
    // The other providers had no reads: nothing invented.
    let all = balance_statement::statements(&rig.book, &day, offset, TOLERANCE).unwrap();
    let juhe = all.iter().find(|s| s.provider == ProviderId::Juhe).unwrap();
    assert_eq!((juhe.reads, juhe.opening, juhe.difference), (0, None, None));
    // The report export's sheet: the same statements, days without reads left out.
    assert_eq!(balance_statement::statements_over(&rig.book, &day, &day, offset, TOLERANCE).unwrap(), all);
    let (_, rows) = balance_statement::sheet_table(&all);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][9], "-7.00", "the difference as exact yuan text: {:?}", rows[0]);
    // … written by the report's xlsx export after its four views.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("报表.xlsx");
    let q = topup_engine::report::ReportQuery { from: Some(day.clone()), to: Some(day.clone()), by: None };
    topup_engine::api::report::export_to(&rig.book, &q, &path).unwrap();
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&path).unwrap();
    let sheet = calamine::Reader::worksheet_range(&mut wb, balance_statement::SHEET_NAME).unwrap();
    let written: Vec<Vec<String>> = sheet.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
    assert_eq!(written[1..], rows[..], "the statement sheet holds the statement rows");
    rig.stop().await;
}
