//! The engine against the provider simulator over real HTTP on 127.0.0.1: every order ends where the
//! money rules say, and the simulator's record shows nothing was charged twice.

use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use topup_engine::book::{Book, EventKind, Order, OrderState};
use topup_engine::config::{EngineSettings, Registry};
use topup_engine::import::Field;
use topup_engine::order::{Origin, RawOrder};
use topup_engine::run::Engine;
use topup_engine::{Li, ProductKind, ProviderId};
use topup_providers::CallbackRequest;
use topup_sim::{Fault, Script, SimConfig, Simulator, Target};

pub(crate) struct Rig {
    _dir: tempfile::TempDir,
    pub(crate) book: Arc<Book>,
    pub(crate) sim: Simulator,
    pub(crate) engine: Arc<Engine>,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

pub(crate) fn fast_settings() -> EngineSettings {
    let mut s = EngineSettings {
        query_delays_ms: vec![150, 250, 400],
        retry_delay_ms: 100,
        resend_after_not_found_ms: 250,
        max_not_found_resends: 3,
        ..EngineSettings::default()
    };
    s.callback.port = 0;
    s
}

pub(crate) async fn rig_with(settings: EngineSettings) -> Rig {
    rig_custom(settings, SimConfig::sandbox(), |_| {}).await
}

/// A rig whose simulator starts from `sim_config` (its settle time 200 ms) and whose provider
/// registry `tweak` may change (limits) before the engine starts.
pub(crate) async fn rig_custom(
    settings: EngineSettings,
    sim_config: SimConfig,
    tweak: impl FnOnce(&mut Registry),
) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let book = Arc::new(Book::open(&dir.path().join("orders.sqlite3")).unwrap());
    let sim =
        Simulator::start(SimConfig { settle_after: Duration::from_millis(200), ..sim_config }).await.unwrap();
    let mut registry = Registry::sandbox(&sim.base_url(), &sim.dingyin_query_base_url(), None).unwrap();
    tweak(&mut registry);
    let engine = Engine::new(book.clone(), registry, settings.clone());
    let (stop, stop_rx) = watch::channel(false);
    let running =
        topup_engine::callbacks::serve(engine.clone(), &settings.callback, stop_rx.clone()).await.unwrap();
    let local = format!("http://{}", running.addr);
    let mut with_url = settings;
    with_url.callback.public_url = Some(local.clone());
    engine.set_settings(with_url);
    sim.set_juhe_callback_url(Some(format!("{local}/callback/juhe")));
    let e = engine.clone();
    let run = tokio::spawn(async move {
        e.run(stop_rx).await.unwrap();
    });
    Rig { _dir: dir, book, sim, engine, stop, tasks: vec![running.task, run] }
}

pub(crate) async fn rig() -> Rig {
    rig_with(fast_settings()).await
}

/// A phone order typed as in the form, checked like the form, and added to `engine`.
pub(crate) fn add_phone(engine: &Engine, provider: ProviderId, account: &str, yuan: i64) -> Order {
    let face = yuan.to_string();
    let mut raw = RawOrder::new(Origin::Form, Some(provider));
    raw.text(Field::Kind, Some(ProductKind::Phone.as_str()))
        .text(Field::Account, Some(account))
        .text(Field::Face, Some(&face));
    let order = topup_engine::order::check_with_engine(engine, &raw)
        .into_result(Origin::Form)
        .unwrap_or_else(|e| panic!("{e}"));
    engine.add_order(order).unwrap()
}

impl Rig {
    pub(crate) fn add(&self, provider: ProviderId, account: &str, yuan: i64) -> Order {
        add_phone(&self.engine, provider, account, yuan)
    }

    /// Waits until no order is pending (bounded), then returns the order's latest row.
    pub(crate) async fn settle(&self, order: &Order) -> Order {
        for _ in 0..300 {
            if self.engine.is_idle().unwrap() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.book.order(order.id).unwrap()
    }

    pub(crate) fn submits_of(&self, id: &str) -> usize {
        self.sim
            .requests()
            .iter()
            .filter(|r| {
                r.merchant_order_id.as_deref() == Some(id)
                    && ["/gameonlinepay.do", "/1/api/oper/order", "/ofpay/mobile/onlineorder"]
                        .contains(&r.endpoint.as_str())
            })
            .count()
    }

    fn states(&self, order: &Order) -> Vec<OrderState> {
        self.book.events(order.id).unwrap().iter().filter_map(|e| e.to_state).collect()
    }

    /// Stops the engine, listener and simulator and drops the book, as a process that died would leave
    /// it; the directory (with the order book file) lives on.
    pub(crate) async fn stop_keeping_book(self) -> tempfile::TempDir {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
        self.sim.shutdown().await;
        self._dir
    }

    pub(crate) async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
        self.sim.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_provider_settles_by_callback_and_charges_once() {
    let rig = rig().await;
    let orders = [
        rig.add(ProviderId::Juhe, "13800000001", 10),
        rig.add(ProviderId::Oper, "13800000002", 20),
        rig.add(ProviderId::Dingyin, "13800000003", 30),
    ];
    for o in &orders {
        let done = rig.settle(o).await;
        assert_eq!(done.state, OrderState::Succeeded, "{}", o.merchant_order_id);
        assert_eq!(rig.sim.charges(o.provider.as_str(), &o.merchant_order_id), 1);
        assert_eq!(rig.submits_of(&o.merchant_order_id), 1);
        let events = rig.book.events(o.id).unwrap();
        assert!(events.iter().any(|e| e.kind == EventKind::Exchange.as_str()), "request/reply recorded");
        assert!(events.iter().any(|e| e.kind == EventKind::Callback.as_str()), "callback recorded");
        assert!(done.provider_order_id.is_some());
        // The history never holds a provider secret.
        for e in &events {
            for secret in [
                topup_sim::SANDBOX_JUHE_APPKEY,
                topup_sim::SANDBOX_OPER_MD5KEY,
                topup_sim::SANDBOX_DINGYIN_KEY,
            ] {
                assert!(!e.detail.contains(secret), "secret in history: {}", e.detail);
            }
        }
    }
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_response_is_queried_not_guessed() {
    let rig = rig().await;
    for (p, acct) in [
        (ProviderId::Juhe, "13811110001"),
        (ProviderId::Oper, "13811110002"),
        (ProviderId::Dingyin, "13811110003"),
    ] {
        rig.sim.script(Script::once(Target::Account(acct.into()), Fault::LostResponseAfterAccept));
        let o = rig.add(p, acct, 10);
        let done = rig.settle(&o).await;
        assert_eq!(done.state, OrderState::Succeeded, "{p}");
        assert!(rig.states(&o).contains(&OrderState::Unknown), "{p}: the lost reply made it unknown first");
        assert_eq!(rig.sim.charges(p.as_str(), &o.merchant_order_id), 1, "{p}");
        assert_eq!(rig.submits_of(&o.merchant_order_id), 1, "{p}: never resent: the query found it");
    }
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_and_truncated_replies_are_unknown_then_settled_by_query() {
    let rig = rig().await;
    for (i, fault) in [Fault::GarbageBody, Fault::TruncatedBody].into_iter().enumerate() {
        for (j, p) in [ProviderId::Juhe, ProviderId::Oper, ProviderId::Dingyin].into_iter().enumerate() {
            let acct = format!("1382222{i}{j:03}");
            rig.sim.script(Script::once(Target::Account(acct.clone()), fault.clone()));
            let o = rig.add(p, &acct, 10);
            let done = rig.settle(&o).await;
            assert_eq!(done.state, OrderState::Succeeded, "{p} {fault:?}");
            assert!(rig.states(&o).contains(&OrderState::Unknown), "{p} {fault:?}");
            assert_eq!(rig.sim.charges(p.as_str(), &o.merchant_order_id), 1);
        }
    }
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_before_accepting_is_resent_with_the_same_id_after_the_provider_says_not_found() {
    let rig = rig().await;
    for (p, acct) in [
        (ProviderId::Juhe, "13833330001"),
        (ProviderId::Oper, "13833330002"),
        (ProviderId::Dingyin, "13833330003"),
    ] {
        rig.sim.script(Script::once(Target::Account(acct.into()), Fault::Http500BeforeAccept));
        let o = rig.add(p, acct, 10);
        let done = rig.settle(&o).await;
        assert_eq!(done.state, OrderState::Succeeded, "{p}: {:?}", done.last_error);
        assert_eq!(rig.submits_of(&o.merchant_order_id), 2, "{p}: sent twice, with the same id");
        assert_eq!(rig.sim.charges(p.as_str(), &o.merchant_order_id), 1, "{p}");
        let states = rig.states(&o);
        assert!(
            states.windows(2).any(|w| w == [OrderState::Unknown, OrderState::Submitting]),
            "{p}: {states:?}"
        );
    }
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_definite_rejection_fails_an_order() {
    let rig = rig().await;
    // Definite rejections: failed, nothing charged, the provider's own text kept.
    for (p, acct, code) in [
        (ProviderId::Juhe, "13844440001", 208517),
        (ProviderId::Dingyin, "13844440002", 5002),
        (ProviderId::Oper, "13844440003", 400),
    ] {
        rig.sim
            .script(Script::once(Target::Account(acct.into()), Fault::Reject { code, accept_anyway: false }));
        let o = rig.add(p, acct, 10);
        let done = rig.settle(&o).await;
        assert_eq!(done.state, OrderState::Failed, "{p} {code}");
        assert_eq!(rig.sim.charges(p.as_str(), &o.merchant_order_id), 0);
        assert!(
            done.last_error.unwrap_or_default().contains(&code.to_string()),
            "{p}: the provider's code is shown"
        );
    }
    // "Query" codes, with the order created upstream all the same: never failed, found by query.
    for (p, acct, code) in [
        (ProviderId::Juhe, "13844440011", 10014),
        (ProviderId::Juhe, "13844440012", 208516),
        (ProviderId::Dingyin, "13844440013", 5006),
        (ProviderId::Dingyin, "13844440014", 9999),
    ] {
        rig.sim
            .script(Script::once(Target::Account(acct.into()), Fault::Reject { code, accept_anyway: true }));
        let o = rig.add(p, acct, 10);
        let done = rig.settle(&o).await;
        assert_eq!(done.state, OrderState::Succeeded, "{p} {code}");
        assert_eq!(rig.sim.charges(p.as_str(), &o.merchant_order_id), 1);
    }
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited_orders_wait_and_are_resent_with_the_same_id() {
    let rig = rig().await;
    for (p, acct) in [(ProviderId::Juhe, "13855550001"), (ProviderId::Dingyin, "13855550002")] {
        rig.sim.script(Script::once(Target::Account(acct.into()), Fault::RateLimit));
        let o = rig.add(p, acct, 10);
        let done = rig.settle(&o).await;
        assert_eq!(done.state, OrderState::Succeeded, "{p}");
        assert_eq!(rig.submits_of(&o.merchant_order_id), 2, "{p}");
        assert_eq!(rig.sim.charges(p.as_str(), &o.merchant_order_id), 1, "{p}");
        assert!(rig.states(&o).contains(&OrderState::New), "{p}: requeued, not failed");
    }
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_that_never_settles_goes_to_manual_review_and_a_person_resolves_it() {
    let rig = rig_with(EngineSettings { manual_review_after_ms: 1500, ..fast_settings() }).await;
    rig.sim.script(Script::always(Target::Account("13866660001".into()), Fault::PendingForever));
    let o = rig.add(ProviderId::Juhe, "13866660001", 50);
    let done = rig.settle(&o).await;
    assert_eq!(done.state, OrderState::ManualReview);
    assert!(done.queries >= 2, "queried on a schedule before giving up: {}", done.queries);
    assert_eq!(rig.book.state_counts().unwrap().attention, 1);
    // Resolving needs a note, and then settles it.
    assert!(rig.engine.resolve(o.id, OrderState::Succeeded, "  ").is_err());
    let resolved = rig.engine.resolve(o.id, OrderState::Succeeded, "客服确认已到账").unwrap();
    assert_eq!(resolved.state, OrderState::Succeeded);
    assert_eq!(resolved.note.as_deref(), Some("客服确认已到账"));
    assert_eq!(rig.book.state_counts().unwrap().attention, 0);
    rig.stop().await;
}

pub(crate) fn md5_hex(s: &str) -> String {
    use md5::{Digest, Md5};
    hex::encode(Md5::digest(s.as_bytes()))
}

pub(crate) fn oper_callback(order: &Order, status: &str, key: &str) -> CallbackRequest {
    let fen = order.face.to_fen().unwrap().to_string();
    let uid = topup_sim::SANDBOX_OPER_UID;
    let sign = md5_hex(&format!("{uid}{}{}{fen}{status}{key}", order.merchant_order_id, order.account));
    CallbackRequest {
        method: "POST".into(),
        content_type: Some("application/x-www-form-urlencoded".into()),
        query: String::new(),
        body: format!(
            "uid={uid}&order_no={}&mobile_order_no=1&phone_number={}&face_value={fen}&status={status}&sign={sign}",
            order.merchant_order_id, order.account
        )
        .into_bytes(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callbacks_are_verified_idempotent_and_never_overturn_a_final_state() {
    let rig = rig().await;
    let o = rig.add(ProviderId::Oper, "13877770001", 20);
    let done = rig.settle(&o).await;
    assert_eq!(done.state, OrderState::Succeeded);
    let key = topup_sim::SANDBOX_OPER_MD5KEY;
    let events_before = rig.book.events(o.id).unwrap().len();

    // A forged callback (wrong key) is refused and stores nothing.
    let forged = oper_callback(&done, "9", "not-the-key");
    assert!(rig.engine.apply_callback(ProviderId::Oper, &forged).is_err());
    assert_eq!(rig.book.events(o.id).unwrap().len(), events_before);

    // The same success again: acknowledged, state unchanged, no attention.
    assert_eq!(rig.engine.apply_callback(ProviderId::Oper, &oper_callback(&done, "4", key)).unwrap(), "ok");
    let again = rig.book.order(o.id).unwrap();
    assert_eq!((again.state, again.attention), (OrderState::Succeeded, false));

    // A genuine but contradicting callback: acknowledged (stored), final state kept, flagged for a person.
    assert_eq!(rig.engine.apply_callback(ProviderId::Oper, &oper_callback(&done, "9", key)).unwrap(), "ok");
    let flagged = rig.book.order(o.id).unwrap();
    assert_eq!(flagged.state, OrderState::Succeeded);
    assert!(flagged.attention);
    assert_eq!(rig.book.state_counts().unwrap().attention, 1);

    // A callback for the wrong amount is not applied.
    let other = rig.add(ProviderId::Oper, "13877770002", 30);
    rig.sim.script(Script::always(Target::Account("13877770002".into()), Fault::PendingForever));
    let mut wrong = rig.book.order(other.id).unwrap();
    wrong.face = Li::from_yuan(300);
    let _ = rig.engine.apply_callback(ProviderId::Oper, &oper_callback(&wrong, "4", key));
    assert_ne!(rig.book.order(other.id).unwrap().state, OrderState::Succeeded);
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_juhe_failure_is_confirmed_by_a_query_and_a_settled_failure_is_refunded() {
    let rig = rig().await;
    rig.sim.script(Script::once(Target::Account("13888880001".into()), Fault::SettleFailed));
    let o = rig.add(ProviderId::Juhe, "13888880001", 10);
    let done = rig.settle(&o).await;
    assert_eq!(done.state, OrderState::Failed);
    let events = rig.book.events(o.id).unwrap();
    let callback_at = events.iter().position(|e| e.kind == "callback");
    let failed_at = events.iter().position(|e| e.to_state == Some(OrderState::Failed)).unwrap();
    if let Some(cb) = callback_at {
        // The failure was applied after a query that followed the callback, not from the callback.
        assert!(events[cb..failed_at].iter().any(|e| e.kind == "exchange"), "confirmed by a query");
    }
    let sim_order =
        rig.sim.orders().into_iter().find(|s| s.merchant_order_id == o.merchant_order_id).unwrap();
    assert!(sim_order.refunded, "a failed order is one the provider refunded");
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_submit_is_recovered_by_query_never_blindly_resent() {
    let rig = rig().await;
    let _ = rig.stop.send(true);
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Two orders "interrupted" in submitting: one reached the provider, one never left.
    let sent = rig.add(ProviderId::Juhe, "13899990001", 10);
    let unsent = rig.add(ProviderId::Juhe, "13899990002", 10);
    for o in [&sent, &unsent] {
        rig.book.write(|tx| tx.transition(o.id, OrderState::Submitting, "test: intent committed")).unwrap();
    }
    let client = rig.engine.provider(ProviderId::Juhe).unwrap();
    let req = topup_engine::run::submit_request(&rig.book.order(sent.id).unwrap(), &rig.engine.settings());
    let _ = client.submit(&req).await; // reached the provider; the reply is "lost" with the process
                                       // A fresh engine on the same book: recovery, then the loop.
    let registry = Registry::sandbox(&rig.sim.base_url(), &rig.sim.dingyin_query_base_url(), None).unwrap();
    let engine = Engine::new(rig.book.clone(), registry, rig.engine.settings());
    assert_eq!(engine.recover().unwrap(), 2);
    assert_eq!(rig.book.order(sent.id).unwrap().state, OrderState::Unknown);
    let (stop, stop_rx) = watch::channel(false);
    let e = engine.clone();
    let task = tokio::spawn(async move { e.run(stop_rx).await.unwrap() });
    for _ in 0..200 {
        if engine.is_idle().unwrap() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for o in [&sent, &unsent] {
        assert_eq!(rig.book.order(o.id).unwrap().state, OrderState::Succeeded, "{}", o.account);
        assert_eq!(rig.sim.charges("juhe", &o.merchant_order_id), 1);
    }
    assert_eq!(rig.submits_of(&sent.merchant_order_id), 1, "found by query, not resent");
    assert_eq!(rig.submits_of(&unsent.merchant_order_id), 1, "resent once after 'not found'");
    // juhe, strict, answered the query for the id it never received with 208509 错误的订单号: that is
    // "no such order" (issue 11.13), not a query failure to repeat until manual review.
    let answered = rig.book.events(unsent.id).unwrap();
    assert!(answered.iter().any(|e| e.kind == "exchange" && e.detail.contains("208509")), "{answered:?}");
    let _ = stop.send(true);
    let _ = task.await;
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fallback_only_after_a_definite_failure_and_resubmit_only_by_hand() {
    let mut settings = fast_settings();
    settings.fallback.insert("juhe".into(), ProviderId::Oper);
    let rig = rig_with(settings).await;
    // Definite failure → fallback order on oper, recorded and linked.
    rig.sim.script(Script::once(
        Target::Account("13812121201".into()),
        Fault::Reject { code: 208517, accept_anyway: false },
    ));
    let o = rig.add(ProviderId::Juhe, "13812121201", 10);
    rig.settle(&o).await;
    assert_eq!(rig.book.order(o.id).unwrap().state, OrderState::Failed);
    let all = rig.book.list_orders(&Default::default()).unwrap().orders;
    let fb = all.iter().find(|x| x.fallback_of == Some(o.id)).expect("a fallback order");
    assert_eq!((fb.provider, fb.state), (ProviderId::Oper, OrderState::Succeeded));
    // An uncertain outcome never falls back.
    rig.sim.script(Script::once(Target::Account("13812121202".into()), Fault::LostResponseAfterAccept));
    let u = rig.add(ProviderId::Juhe, "13812121202", 10);
    rig.settle(&u).await;
    let all = rig.book.list_orders(&Default::default()).unwrap().orders;
    assert!(all.iter().all(|x| x.fallback_of != Some(u.id)));
    // Resubmit: only a failed order, as a new linked order with a new id.
    assert!(rig.engine.resubmit(u.id).is_err(), "a succeeded order cannot be resubmitted");
    let again = rig.engine.resubmit(o.id).unwrap();
    assert_ne!(again.merchant_order_id, o.merchant_order_id);
    assert_eq!(again.resubmit_of, Some(o.id));
    assert_eq!(rig.settle(&again).await.state, OrderState::Succeeded);
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_not_found_order_is_resent_the_configured_wait_after_its_last_send_whatever_the_queries_in_between()
{
    // Queried every 100 ms (each query touches the order's row); the resend wait is 1.5 s from the send.
    let settings =
        EngineSettings { query_delays_ms: vec![100], resend_after_not_found_ms: 1500, ..fast_settings() };
    let rig = rig_with(settings).await;
    let acct = "13844440001";
    // A 500 before the provider placed it: unknown, then "not found" on every query until resent.
    rig.sim.script(Script::once(Target::Account(acct.into()), Fault::Http500BeforeAccept));
    let o = rig.add(ProviderId::Dingyin, acct, 10);
    let done = rig.settle(&o).await;
    assert_eq!(done.state, OrderState::Succeeded, "{:?}", done.last_error);
    assert_eq!(rig.sim.charges("dingyin", &o.merchant_order_id), 1);
    let requests = rig.sim.requests();
    let of = |endpoint: &str| -> Vec<u64> {
        requests
            .iter()
            .filter(|r| {
                r.endpoint == endpoint && r.merchant_order_id.as_deref() == Some(&o.merchant_order_id)
            })
            .map(|r| r.at_unix_ms)
            .collect()
    };
    let submits = of("/gameonlinepay.do");
    assert_eq!(submits.len(), 2, "sent, then resent once with the same id");
    // The first send left after the intent was stored (`submitted_at`): the resend arrived at least
    // the configured wait after it ...
    let first_intent = u64::try_from(done.submitted_at.expect("sent")).unwrap();
    assert!(
        submits[1] >= first_intent + 1500,
        "resent {} ms after the first intent",
        submits[1] - first_intent
    );
    // ... although queries answered "not found" all along (the wait runs from the send, not from
    // the order's last change).
    let queries_between = of("/searchpay.do").iter().filter(|t| **t > submits[0] && **t < submits[1]).count();
    assert!(queries_between >= 3, "queried while waiting: {queries_between}");
    assert!(done.last_sent_at.is_some_and(|t| t >= first_intent as i64 + 1500), "last send recorded");
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_submitting_order_is_recovered_by_query_while_the_engine_runs() {
    let rig = rig().await;
    rig.engine.set_stale_submitting_after(Duration::from_millis(300));
    // An order whose request reached the provider but whose reply was never stored (as when the
    // grouped write of the reply is cancelled), in this running engine: intent and send, no reply.
    let stuck = rig
        .book
        .write(|tx| {
            let id = tx.insert_order(&topup_engine::book::NewOrder {
                merchant_order_id: topup_engine::ids::new_merchant_order_id(),
                provider: ProviderId::Dingyin,
                kind: ProductKind::Phone,
                product_id: None,
                account: "13855550001".into(),
                details: serde_json::json!({}),
                face: Li::from_yuan(10),
                batch_id: None,
                resubmit_of: None,
                fallback_of: None,
            })?;
            tx.transition(id, OrderState::Submitting, "test: intent committed")
        })
        .unwrap();
    let settings = rig.engine.settings();
    let mut req = topup_engine::run::submit_request(&stuck, &settings);
    req.notify_url = settings.callback_url(ProviderId::Dingyin);
    let _ = rig.engine.provider(ProviderId::Dingyin).unwrap().submit(&req).await;
    // A request of this engine in flight longer than the bound is not touched: it is ours.
    let acct = "13855550002";
    rig.sim.script(Script::once(Target::Account(acct.into()), Fault::SlowReply(Duration::from_millis(1200))));
    let slow = rig.add(ProviderId::Dingyin, acct, 10);

    let done = rig.settle(&stuck).await;
    assert_eq!(done.state, OrderState::Succeeded, "{:?}", done.last_error);
    let states = rig.states(&stuck);
    assert!(
        states.windows(2).any(|w| w == [OrderState::Submitting, OrderState::Unknown]),
        "made unknown, then queried: {states:?}"
    );
    assert_eq!(rig.submits_of(&stuck.merchant_order_id), 1, "found by query, never resent");
    assert_eq!(rig.sim.charges("dingyin", &stuck.merchant_order_id), 1);

    let slow_done = rig.settle(&slow).await;
    assert_eq!(slow_done.state, OrderState::Succeeded);
    assert!(!rig.states(&slow).contains(&OrderState::Unknown), "{:?}", rig.states(&slow));
    assert_eq!(rig.submits_of(&slow.merchant_order_id), 1);
    rig.stop().await;
}

// ----- issue 11: a reply counts only for the order it is about; unsigned fields are hints ----------

fn fallback_to_other_providers() -> EngineSettings {
    let mut settings = fast_settings();
    settings.fallback.insert("juhe".into(), ProviderId::Oper);
    settings.fallback.insert("oper".into(), ProviderId::Juhe);
    settings.fallback.insert("dingyin".into(), ProviderId::Juhe);
    settings
}

fn fallbacks_of(rig: &Rig, order: &Order) -> usize {
    let all = rig.book.list_orders(&Default::default()).unwrap().orders;
    all.iter().filter(|x| x.fallback_of == Some(order.id)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_reply_about_another_order_never_fails_nor_reroutes_an_order() {
    let rig = rig_with(fallback_to_other_providers()).await;
    for (p, acct) in [
        (ProviderId::Juhe, "13823230001"),
        (ProviderId::Oper, "13823230002"),
        (ProviderId::Dingyin, "13823230003"),
    ] {
        // Settled by queries only; the first one answers about another order, failed and refunded.
        rig.sim.script(Script::once(Target::Account(acct.into()), Fault::NoCallback));
        rig.sim.script(Script::once(Target::Account(acct.into()), Fault::QueryAboutOtherOrder));
        let o = rig.add(p, acct, 10);
        let done = rig.settle(&o).await;
        assert_eq!(done.state, OrderState::Succeeded, "{p}: {:?}", done.last_error);
        assert!(!rig.states(&o).contains(&OrderState::Failed), "{p}: {:?}", rig.states(&o));
        assert_eq!(fallbacks_of(&rig, &o), 0, "{p}: no second top-up elsewhere");
        let sim_order =
            rig.sim.orders().into_iter().find(|s| s.merchant_order_id == o.merchant_order_id).unwrap();
        assert_eq!(
            done.provider_order_id,
            Some(sim_order.provider_order_id),
            "{p}: the other order's id is not ours"
        );
        assert_eq!(
            rig.sim.orders().iter().filter(|s| s.account == acct).count(),
            1,
            "{p}: one order upstream"
        );
        assert_eq!(rig.sim.charges(p.as_str(), &o.merchant_order_id), 1, "{p}");
    }
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_callback_fields_never_overwrite_facts_nor_block_an_applied_callback() {
    let rig = rig().await;
    // dingyin: another `parvalue` (unsigned) under a valid sign. The callback's signed result is
    // applied and acknowledged; nothing is flagged on the unsigned amount.
    let acct = "13834340001";
    rig.sim.script(Script::once(Target::Account(acct.into()), Fault::CallbackUnsignedChanged));
    let o = rig.add(ProviderId::Dingyin, acct, 30);
    let done = rig.settle(&o).await;
    assert_eq!((done.state, done.attention), (OrderState::Succeeded, false), "{:?}", done.last_error);
    assert_eq!(done.face, Li::from_yuan(30), "the amount is the one we sent");
    let sim_order =
        rig.sim.orders().into_iter().find(|s| s.merchant_order_id == o.merchant_order_id).unwrap();
    assert!(rig.book.events(o.id).unwrap().iter().any(|e| e.kind == EventKind::Callback.as_str()));
    for _ in 0..100 {
        if rig
            .sim
            .orders()
            .iter()
            .any(|s| s.merchant_order_id == o.merchant_order_id && s.callback_acknowledged)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        rig.sim
            .orders()
            .iter()
            .any(|s| s.merchant_order_id == o.merchant_order_id && s.callback_acknowledged),
        "acknowledged: {sim_order:?}"
    );
    // oper: another `mobile_order_no` (unsigned) under a valid sign never becomes the order's
    // provider id, whether the callback comes before or after the order is final.
    let acct = "13834340002";
    rig.sim.script(Script::once(Target::Account(acct.into()), Fault::CallbackUnsignedChanged));
    let o = rig.add(ProviderId::Oper, acct, 20);
    let done = rig.settle(&o).await;
    assert_eq!(done.state, OrderState::Succeeded, "{:?}", done.last_error);
    assert!(rig.book.events(o.id).unwrap().iter().any(|e| e.kind == EventKind::Callback.as_str()));
    let sim_order =
        rig.sim.orders().into_iter().find(|s| s.merchant_order_id == o.merchant_order_id).unwrap();
    assert_eq!(done.provider_order_id, Some(sim_order.provider_order_id), "the signed mobileOrderNo");
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oper_400_to_a_resend_is_queried_not_failed() {
    let rig = rig_with(fallback_to_other_providers()).await;
    let acct = "13845450001";
    // The first send is lost to a 500 (nothing placed); the query says "not found"; the resend of the
    // same id is placed but answered 400 in words no marker knows ("订单被拒绝(400)"), as a duplicate
    // worded otherwise would be.
    rig.sim.script(Script::once(Target::Account(acct.into()), Fault::Http500BeforeAccept));
    rig.sim
        .script(Script::once(Target::Account(acct.into()), Fault::Reject { code: 400, accept_anyway: true }));
    let o = rig.add(ProviderId::Oper, acct, 10);
    let done = rig.settle(&o).await;
    assert_eq!(done.state, OrderState::Succeeded, "{:?} {:?}", done.last_error, rig.states(&o));
    assert_eq!(rig.submits_of(&o.merchant_order_id), 2, "sent, then resent with the same id");
    assert_eq!(rig.sim.charges("oper", &o.merchant_order_id), 1);
    assert!(!rig.states(&o).contains(&OrderState::Failed), "{:?}", rig.states(&o));
    assert_eq!(fallbacks_of(&rig, &o), 0);
    rig.stop().await;
}
