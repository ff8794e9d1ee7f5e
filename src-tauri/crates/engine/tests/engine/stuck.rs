//! Stuck-order rules against the simulator over real HTTP and a real order book file. Time is injected:
//! the sweep is called with a chosen "now" relative to each order's first send, so "at its limit and
//! not before" is exact and no assertion depends on how fast the machine is.

use crate::run::{add_phone, fast_settings, rig_with, Rig};
use std::time::Duration;
use topup_engine::api::stuck as api;
use topup_engine::book::{Book, NewOrder, Order, OrderFilter, OrderState, StuckLevel};
use topup_engine::config::EngineSettings;
use topup_engine::run::stuck::{default_rules, sweep, StuckProduct, StuckRule};
use topup_engine::{Li, ProductKind, ProviderId};
use topup_sim::{Fault, Script, Target};

const MIN: i64 = 60_000;

/// Settings whose query window is far away (the rules act long before it) and with no rule but the
/// given ones.
fn settings(rules: Vec<StuckRule>) -> EngineSettings {
    EngineSettings { stuck_rules: rules, manual_review_after_ms: 30 * 24 * 3_600_000, ..fast_settings() }
}

/// A phone order at `provider` that the simulator accepts and never settles (until released).
fn held(rig: &Rig, provider: ProviderId, account: &str) -> Order {
    rig.sim.script(Script::always(Target::Account(account.into()), Fault::PendingForever));
    rig.sim.script(Script::always(Target::Account(account.into()), Fault::NoCallback));
    add_phone(&rig.engine, provider, account, 10)
}

/// A slow (慢充) phone order, stored as the engine stores any order, then picked up by its loop.
fn held_slow(rig: &Rig, provider: ProviderId, account: &str) -> Order {
    rig.sim.script(Script::always(Target::Account(account.into()), Fault::PendingForever));
    rig.sim.script(Script::always(Target::Account(account.into()), Fault::NoCallback));
    let new = NewOrder {
        merchant_order_id: topup_engine::ids::new_merchant_order_id(),
        provider,
        kind: ProductKind::Phone,
        product_id: None,
        account: account.into(),
        details: serde_json::json!({"speed": "slow"}),
        face: Li::from_yuan(10),
        batch_id: None,
        resubmit_of: None,
        fallback_of: None,
    };
    let id = rig.book.write(|tx| tx.insert_order(&new)).unwrap();
    rig.engine.poke();
    rig.book.order(id).unwrap()
}

/// Polls (bounded) until `done` holds for the order's latest row; returns that row.
async fn until(book: &Book, id: i64, done: impl Fn(&Order) -> bool) -> Order {
    for _ in 0..400 {
        let o = book.order(id).unwrap();
        if done(&o) {
            return o;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    book.order(id).unwrap()
}

async fn accepted(rig: &Rig, o: &Order) -> Order {
    let a = until(&rig.book, o.id, |x| x.state == OrderState::Accepted).await;
    assert_eq!(a.state, OrderState::Accepted, "{}", a.merchant_order_id);
    a
}

fn sent(o: &Order) -> i64 {
    o.submitted_at.expect("sent")
}

fn level(book: &Book, o: &Order) -> StuckLevel {
    book.order(o.id).unwrap().stuck
}

fn notes(book: &Book, o: &Order, needle: &str) -> usize {
    book.events(o.id).unwrap().iter().filter(|e| e.detail.contains(needle)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_limit_fires_at_its_minute_and_not_a_millisecond_before() {
    let rules = vec![StuckRule::new(StuckProduct::PhoneFast, None, None, 10, 60)];
    let rig = rig_with(settings(rules.clone())).await;
    let o = accepted(&rig, &held(&rig, ProviderId::Juhe, "13812340001")).await;
    let t = sent(&o);

    assert_eq!(sweep(&rig.book, &rules, t + 10 * MIN - 1).unwrap(), 0);
    assert_eq!(level(&rig.book, &o), StuckLevel::None, "not before the overdue limit");
    assert_eq!(rig.book.state_counts().unwrap().overdue, 0);

    assert_eq!(sweep(&rig.book, &rules, t + 10 * MIN).unwrap(), 1);
    let counts = rig.book.state_counts().unwrap();
    assert_eq!((level(&rig.book, &o), counts.overdue, counts.attention), (StuckLevel::Overdue, 1, 0));
    assert_eq!(sweep(&rig.book, &rules, t + 60 * MIN - 1).unwrap(), 0, "raised once, not per sweep");
    assert_eq!(level(&rig.book, &o), StuckLevel::Overdue, "not before the review limit");
    let overdue = rig.book.list_orders(&OrderFilter { overdue: true, ..Default::default() }).unwrap();
    assert_eq!(overdue.orders.iter().map(|x| x.id).collect::<Vec<_>>(), vec![o.id], "the board's filter");

    assert_eq!(sweep(&rig.book, &rules, t + 60 * MIN).unwrap(), 1);
    let counts = rig.book.state_counts().unwrap();
    assert_eq!((level(&rig.book, &o), counts.overdue, counts.attention), (StuckLevel::Review, 1, 1));
    let attention =
        rig.book.list_orders(&OrderFilter { needs_attention: true, ..Default::default() }).unwrap();
    assert_eq!(attention.total, 1, "in front of a person");
    assert_eq!(notes(&rig.book, &o, "needs a person"), 1, "with the reason in its history");
    assert_eq!(notes(&rig.book, &o, "overdue:"), 1);
    assert_eq!(counts, rig.book.recount_state_counts().unwrap());
    assert_eq!(rig.book.order(o.id).unwrap().state, OrderState::Accepted, "a flag, not a state");
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_most_specific_rule_decides_and_fast_and_slow_differ() {
    // 13812345678 is a 江苏 number, 13800138000 a 北京 one (the embedded segment table).
    let rules = vec![
        StuckRule::new(StuckProduct::PhoneFast, None, None, 10, 60),
        StuckRule::new(StuckProduct::PhoneFast, Some(ProviderId::Juhe), None, 20, 80),
        StuckRule::new(StuckProduct::PhoneFast, None, Some("江苏省"), 30, 90),
        StuckRule::new(StuckProduct::PhoneFast, Some(ProviderId::Juhe), Some("江苏"), 40, 100),
        StuckRule::new(StuckProduct::PhoneSlow, None, None, 24 * 60, 36 * 60),
    ];
    let rig = rig_with(settings(rules.clone())).await;
    let plain = accepted(&rig, &held(&rig, ProviderId::Oper, "13800138000")).await;
    let juhe = accepted(&rig, &held(&rig, ProviderId::Juhe, "13800138001")).await;
    let jiangsu = accepted(&rig, &held(&rig, ProviderId::Oper, "13812345678")).await;
    let juhe_jiangsu = accepted(&rig, &held(&rig, ProviderId::Juhe, "13812345679")).await;
    let slow = accepted(&rig, &held_slow(&rig, ProviderId::Juhe, "13800138002")).await;
    let latest = [&plain, &juhe, &jiangsu, &juhe_jiangsu, &slow].iter().map(|o| sent(o)).max().unwrap();
    let earliest = [&plain, &juhe, &jiangsu, &juhe_jiangsu, &slow].iter().map(|o| sent(o)).min().unwrap();

    // Each order becomes overdue at its own rule's limit; checked just before and at it.
    for (o, limit) in [(&plain, 10), (&juhe, 20), (&jiangsu, 30), (&juhe_jiangsu, 40), (&slow, 24 * 60)] {
        sweep(&rig.book, &rules, sent(o) + limit * MIN - 1).unwrap();
        assert_eq!(level(&rig.book, o), StuckLevel::None, "{} before {limit} min", o.account);
        sweep(&rig.book, &rules, sent(o) + limit * MIN).unwrap();
        assert_eq!(level(&rig.book, o), StuckLevel::Overdue, "{} at {limit} min", o.account);
    }
    // The slow top-up is still only overdue where a fast one is long in front of a person.
    sweep(&rig.book, &rules, earliest + 36 * 60 * MIN - 1).unwrap();
    assert_eq!(level(&rig.book, &slow), StuckLevel::Overdue);
    assert_eq!(level(&rig.book, &juhe_jiangsu), StuckLevel::Review);
    sweep(&rig.book, &rules, latest + 36 * 60 * MIN).unwrap();
    assert_eq!(level(&rig.book, &slow), StuckLevel::Review);
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flag_is_notified_once_across_restarts_and_survives_a_crash_before_its_notice() {
    let rules = default_rules();
    let rig = rig_with(settings(rules.clone())).await;
    let o = accepted(&rig, &held(&rig, ProviderId::Juhe, "13812340002")).await;
    let path = rig.book.path().to_owned();
    assert_eq!(sweep(&rig.book, &rules, sent(&o) + 10 * MIN).unwrap(), 1);
    // The process dies between the flag and its notice: nothing is claimed.
    let dir = rig.stop_keeping_book().await;

    // Restarted: the flag is there and notified now, once.
    let book = Book::open(&path).unwrap();
    assert_eq!(book.order(o.id).unwrap().stuck, StuckLevel::Overdue, "the mark is not lost");
    let first = api::claim_notices(&book, 100).unwrap();
    assert_eq!(first.iter().map(|n| (n.id, n.level)).collect::<Vec<_>>(), vec![(o.id, StuckLevel::Overdue)]);
    assert_eq!(api::claim_notices(&book, 100).unwrap(), vec![]);
    drop(book);

    // Restarted again: the same flag is neither raised nor notified again.
    let book = Book::open(&path).unwrap();
    assert_eq!(sweep(&book, &rules, sent(&o) + 59 * MIN).unwrap(), 0);
    assert_eq!(api::claim_notices(&book, 100).unwrap(), vec![]);
    // The review limit is a second notice, once.
    assert_eq!(sweep(&book, &rules, sent(&o) + 60 * MIN).unwrap(), 1);
    let second = api::claim_notices(&book, 100).unwrap();
    assert_eq!(second.iter().map(|n| (n.id, n.level)).collect::<Vec<_>>(), vec![(o.id, StuckLevel::Review)]);
    drop(book);
    let book = Book::open(&path).unwrap();
    assert_eq!(sweep(&book, &rules, sent(&o) + 600 * MIN).unwrap(), 0);
    assert_eq!(api::claim_notices(&book, 100).unwrap(), vec![]);
    drop(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_success_or_failure_lands_by_itself_and_clears_the_flags() {
    let rules = default_rules();
    let rig = rig_with(settings(rules.clone())).await;
    let good = accepted(&rig, &held(&rig, ProviderId::Juhe, "13812340003")).await;
    let bad = accepted(&rig, &held(&rig, ProviderId::Dingyin, "13812340004")).await;
    let later = sent(&good).max(sent(&bad)) + 60 * MIN;
    assert_eq!(sweep(&rig.book, &rules, later).unwrap(), 2);
    assert_eq!(rig.book.state_counts().unwrap().attention, 2);

    // Still queried while flagged.
    let q = rig.book.order(good.id).unwrap().queries;
    let asked = until(&rig.book, good.id, |x| x.queries >= q + 2).await;
    assert!(asked.queries >= q + 2, "a flagged order keeps being queried");

    // The provider finally answers: the queries pick it up, and the flags go with the final state.
    assert!(rig.sim.release("juhe", &good.merchant_order_id, true));
    assert!(rig.sim.release("dingyin", &bad.merchant_order_id, false));
    let g = until(&rig.book, good.id, |x| x.state.is_final()).await;
    let b = until(&rig.book, bad.id, |x| x.state.is_final()).await;
    assert_eq!((g.state, g.stuck, g.attention), (OrderState::Succeeded, StuckLevel::None, false));
    assert_eq!((b.state, b.stuck, b.attention), (OrderState::Failed, StuckLevel::None, false));
    let counts = rig.book.state_counts().unwrap();
    assert_eq!((counts.overdue, counts.attention), (0, 0));
    assert_eq!(counts, rig.book.recount_state_counts().unwrap());
    assert_eq!(rig.submits_of(&good.merchant_order_id), 1);
    assert_eq!(rig.submits_of(&bad.merchant_order_id), 1);
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_alone_never_fails_refunds_resends_or_reroutes() {
    let rules = default_rules();
    let mut s = settings(rules.clone());
    s.fallback.insert("juhe".into(), ProviderId::Oper);
    let rig = rig_with(s).await;
    let o = accepted(&rig, &held(&rig, ProviderId::Juhe, "13812340005")).await;
    // A month past every limit.
    assert_eq!(sweep(&rig.book, &rules, sent(&o) + 30 * 24 * 60 * MIN).unwrap(), 1);
    let flagged = rig.book.order(o.id).unwrap();
    assert_eq!((flagged.state, flagged.stuck), (OrderState::Accepted, StuckLevel::Review));
    let q = flagged.queries;
    let after = until(&rig.book, o.id, |x| x.queries >= q + 3).await;
    assert!(after.queries >= q + 3);
    assert_eq!(after.state, OrderState::Accepted, "not failed, not moved to manual review");
    assert_eq!(rig.submits_of(&o.merchant_order_id), 1, "not resent");
    assert_eq!(rig.sim.charges("juhe", &o.merchant_order_id), 1, "charged once, not refunded");
    assert_eq!(rig.book.list_orders(&OrderFilter::default()).unwrap().total, 1, "no fallback order");

    // A person looks at it: it stops asking for one, stays overdue, and is still queried.
    let handled =
        rig.engine.resolve(o.id, OrderState::Succeeded, "已联系供应商 / asked the provider").unwrap();
    assert_eq!((handled.state, handled.stuck), (OrderState::Accepted, StuckLevel::Reviewed));
    let counts = rig.book.state_counts().unwrap();
    assert_eq!((counts.overdue, counts.attention), (1, 0));
    assert_eq!(sweep(&rig.book, &rules, sent(&o) + 31 * 24 * 60 * MIN).unwrap(), 0, "not raised again");
    let q = handled.queries;
    assert!(until(&rig.book, o.id, |x| x.queries >= q + 2).await.queries >= q + 2);
    rig.stop().await;
}

#[test]
fn rules_are_kept_in_the_engine_settings_and_checked_before_they_are_stored() {
    let dir = tempfile::tempdir().unwrap();
    let book = Book::open(&dir.path().join("orders.sqlite3")).unwrap();
    assert_eq!(api::rules(&book).unwrap(), default_rules());
    let r = StuckRule::new(StuckProduct::PhoneFast, Some(ProviderId::Oper), Some(" 广东 "), 5, 30);
    let all = api::put_rule(&book, None, r).unwrap();
    assert_eq!(all.len(), default_rules().len() + 1);
    assert_eq!(all.last().unwrap().province.as_deref(), Some("广东"), "tidied");
    let changed = api::put_rule(
        &book,
        None,
        StuckRule::new(StuckProduct::PhoneFast, Some(ProviderId::Oper), Some("广东"), 7, 30),
    )
    .unwrap();
    assert_eq!(changed.len(), all.len(), "the same scope is changed, not added");
    assert_eq!(EngineSettings::load(&book).unwrap().stuck_rules, changed);

    let bad = StuckRule::new(StuckProduct::Game, None, None, 30, 20);
    let e = api::put_rule(&book, None, bad.clone()).unwrap_err().to_string();
    assert!(e.contains("review_after_min"), "{e}");
    let e = EngineSettings { stuck_rules: vec![bad], ..EngineSettings::default() }.save(&book).unwrap_err();
    assert!(e.to_string().contains("review_after_min"), "every settings path checks: {e}");
    assert_eq!(api::rules(&book).unwrap(), changed, "nothing stored");
    let gone =
        api::remove_rule(&book, None, StuckProduct::PhoneFast, Some(ProviderId::Oper), Some("广东")).unwrap();
    assert_eq!(gone, default_rules());
    assert!(api::remove_rule(&book, None, StuckProduct::PhoneFast, Some(ProviderId::Oper), None).is_err());
}

/// Engine settings stored by the version before the rules (with its `unknown_alert_after_ms`, no
/// `stuck_rules`) load with the default rules; the old key is dropped on the next save.
#[test]
fn settings_stored_before_the_rules_load_with_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let book = Book::open(&dir.path().join("orders.sqlite3")).unwrap();
    let old = r#"{"query_delays_ms":[1000],"unknown_alert_after_ms":1800000,"duplicate_window_ms":3600000}"#;
    book.write(|tx| tx.put_app_setting(topup_engine::config::ENGINE_SETTINGS_KEY, old)).unwrap();
    let loaded = EngineSettings::load(&book).unwrap();
    assert_eq!((loaded.stuck_rules, loaded.duplicate_window_ms), (default_rules(), 3_600_000));
    api::set_rules(&book, None, default_rules()).unwrap();
    let text = book.app_setting(topup_engine::config::ENGINE_SETTINGS_KEY).unwrap().unwrap();
    assert!(!text.contains("unknown_alert_after_ms") && text.contains("stuck_rules"), "{text}");
}
