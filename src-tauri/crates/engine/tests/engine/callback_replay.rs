//! Callbacks over real HTTP (the engine's listener, the simulator as the provider): a replay costs a
//! counter, not a row; an unsigned state is a hint that may bring one rate-limited query forward and
//! never raises an alarm; a callback for a provider that is not configured finds nothing (404); a GET
//! callback's fields reach the history; an order unknown for too long is flagged for a person once.

use crate::run::{add_phone, fast_settings, md5_hex, rig, rig_with, Rig};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use topup_engine::book::{Book, EventKind, Order, OrderFilter, OrderState};
use topup_engine::config::{EngineSettings, Registry};
use topup_engine::run::Engine;
use topup_engine::ProviderId;
use topup_sim::{Fault, Script, Target};

/// One HTTP/1.1 request to the listener at `base` (`http://127.0.0.1:port`): the status and the body.
async fn http(base: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let host = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    let status = answer.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, answer.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default())
}

fn listener(engine: &Engine) -> String {
    engine.settings().callback.public_url.unwrap()
}

/// A juhe callback form for `order` claiming `sta`, correctly signed (the sign covers `sporder_id`
/// and `orderid` only), with `padding` appended as an extra field when not empty.
fn juhe_form(order: &Order, sta: &str, padding: &str) -> String {
    let sporder_id = order.provider_order_id.clone().unwrap_or_default();
    let orderid = &order.merchant_order_id;
    let sign = md5_hex(&format!("{}{sporder_id}{orderid}", topup_sim::SANDBOX_JUHE_APPKEY));
    let mut form = format!("sporder_id={sporder_id}&orderid={orderid}&sta={sta}&sign={sign}");
    if !padding.is_empty() {
        form.push_str(&format!("&pad={padding}"));
    }
    form
}

/// juhe status queries the simulator answered for the order.
fn juhe_queries(rig: &Rig, order: &Order) -> usize {
    rig.sim
        .requests()
        .iter()
        .filter(|r| {
            r.endpoint == "/ofpay/mobile/ordersta"
                && r.merchant_order_id.as_deref() == Some(order.merchant_order_id.as_str())
        })
        .count()
}

fn callback_events(book: &Book, order: &Order) -> Vec<String> {
    book.events(order.id)
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == EventKind::Callback.as_str())
        .map(|e| e.detail)
        .collect()
}

/// The order book's size on disk with the WAL folded in.
fn book_bytes(book: &Book) -> u64 {
    let conn = rusqlite::Connection::open(book.path()).unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
    std::fs::metadata(book.path()).unwrap().len()
}

/// Polls (bounded) until `done` says so for the order's latest row, and returns that row.
async fn wait_for(book: &Book, order: &Order, done: impl Fn(&Order) -> bool) -> Order {
    for _ in 0..400 {
        let now = book.order(order.id).unwrap();
        if done(&now) {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    book.order(order.id).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_juhe_callbacks_with_sta_flipped_on_a_final_order_change_nothing_and_add_no_rows() {
    let rig = rig().await;
    let o = rig.add(ProviderId::Juhe, "13812120001", 10);
    let done = rig.settle(&o).await;
    assert_eq!((done.state, done.attention), (OrderState::Succeeded, false));
    let base = listener(&rig.engine);
    let (events_before, queries_before) = (rig.book.events(o.id).unwrap().len(), juhe_queries(&rig, &o));
    let bytes_before = book_bytes(&rig.book);

    // The simulator's own callback signs `sporder_id` and `orderid`; `sta` is not covered, so a
    // captured callback replayed with `sta` flipped to failed (9) still verifies. 300 of them, each
    // padded with 8 KB of an unsigned extra field.
    let padding = "Z".repeat(8 * 1024);
    let replays = 300;
    for _ in 0..replays {
        let (status, body) = http(&base, "POST", "/callback/juhe", &juhe_form(&done, "9", &padding)).await;
        assert_eq!((status, body.as_str()), (200, "success"), "acknowledged: verified and stored");
    }

    let after = rig.book.order(o.id).unwrap();
    assert_eq!(after.state, OrderState::Succeeded, "an unsigned state never changes a final order");
    assert!(!after.attention, "an unsigned state never raises the conflict alarm");
    assert_eq!(rig.book.state_counts().unwrap().attention, 0);
    assert!(after.callbacks >= replays, "every replay is counted: {}", after.callbacks);
    // At most one row (the first "failed" callback of this order) for 300 replays, and no padding.
    let events = rig.book.events(o.id).unwrap();
    assert!(events.len() <= events_before + 1, "{} events after {events_before}", events.len());
    assert!(
        events.iter().all(|e| !e.detail.contains("ZZZZ") && !e.detail.contains("pad=")),
        "padding stored"
    );
    assert_eq!(juhe_queries(&rig, &o), queries_before, "a final order is not queried");
    // 300 × 8 KB of padding would be 2.4 MB; the counter costs no growth worth the name.
    let grown = book_bytes(&rig.book).saturating_sub(bytes_before);
    assert!(grown < 128 * 1024, "the book grew by {grown} bytes");
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_unsigned_callbacks_on_a_pending_juhe_order_bring_at_most_one_query_forward() {
    // No scheduled query during the test (the first is due a minute after acceptance), and one
    // forced query per order per hour at most.
    let settings =
        EngineSettings { query_delays_ms: vec![60_000], callback_query_gap_ms: 3_600_000, ..fast_settings() };
    let rig = rig_with(settings).await;
    rig.sim.script(Script::always(Target::Account("13812120002".into()), Fault::PendingForever));
    let o = rig.add(ProviderId::Juhe, "13812120002", 10);
    let accepted = wait_for(&rig.book, &o, |x| x.state == OrderState::Accepted).await;
    assert_eq!(accepted.state, OrderState::Accepted);
    assert!(accepted.provider_order_id.is_some());
    let base = listener(&rig.engine);

    // 200 replays claiming success, then failure: none is believed, the first asks for a query.
    for i in 0..200 {
        let sta = if i % 2 == 0 { "1" } else { "9" };
        let (status, _) = http(&base, "POST", "/callback/juhe", &juhe_form(&accepted, sta, "")).await;
        assert_eq!(status, 200);
    }
    let queried = wait_for(&rig.book, &o, |x| x.queries >= 1).await;
    assert_eq!(queried.queries, 1, "the callbacks brought one query forward");
    // Another round after that query: the last one was just now, so no query is brought forward.
    for _ in 0..100 {
        let (status, _) = http(&base, "POST", "/callback/juhe", &juhe_form(&accepted, "1", "")).await;
        assert_eq!(status, 200);
    }
    let after = rig.book.order(o.id).unwrap();
    let last_query = after.last_query_at.unwrap();
    assert!(
        after.next_action_at.unwrap() >= last_query + 60_000,
        "the replays moved the next query to {:?}, before its schedule (last query {last_query})",
        after.next_action_at
    );
    assert_eq!((after.queries, juhe_queries(&rig, &o)), (1, 1), "one query for 300 callbacks");
    assert_eq!((after.state, after.attention), (OrderState::Accepted, false), "nothing believed");
    assert!(after.callbacks >= 300);
    // One row per kind of claim (succeeded, failed), whatever the number of replays.
    assert!(callback_events(&rig.book, &o).len() <= 2, "{:?}", callback_events(&rig.book, &o));
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_get_callback_keeps_its_query_fields_in_the_history_and_no_extra_field() {
    let rig = rig().await;
    rig.sim.script(Script::always(Target::Account("13812120003".into()), Fault::PendingForever));
    let o = rig.add(ProviderId::Juhe, "13812120003", 10);
    let accepted = wait_for(&rig.book, &o, |x| x.state == OrderState::Accepted).await;
    let sporder_id = accepted.provider_order_id.clone().unwrap();
    let query = juhe_form(&accepted, "1", "EXTRA-UNSIGNED");
    let (status, body) = http(&listener(&rig.engine), "GET", &format!("/callback/juhe?{query}"), "").await;
    assert_eq!((status, body.as_str()), (200, "success"));
    let stored = callback_events(&rig.book, &o);
    assert_eq!(stored.len(), 1, "{stored:?}");
    let line = &stored[0];
    for part in ["GET query", o.merchant_order_id.as_str(), sporder_id.as_str(), "code=1"] {
        assert!(line.contains(part), "“{part}” missing from the history line: {line}");
    }
    assert!(!line.contains("EXTRA-UNSIGNED"), "an unsigned extra field was stored: {line}");
    assert!(!line.contains(topup_sim::SANDBOX_JUHE_APPKEY));
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_for_a_provider_that_is_not_configured_finds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let book = std::sync::Arc::new(Book::open(&dir.path().join("orders.sqlite3")).unwrap());
    // Oper and dingyin configured, juhe not (nothing listens on port 9: no request is sent here).
    let mut registry = Registry::sandbox("http://127.0.0.1:9", "http://127.0.0.1:9", None).unwrap();
    registry.providers.remove(&ProviderId::Juhe);
    let mut settings = fast_settings();
    settings.callback.port = 0;
    let engine = Engine::new(book.clone(), registry, settings.clone());
    let order = add_phone(&engine, ProviderId::Juhe, "13812120004", 10);
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let running = topup_engine::callbacks::serve(engine.clone(), &settings.callback, stop_rx).await.unwrap();
    let events_before = book.events(order.id).unwrap();

    let base = format!("http://{}", running.addr);
    let form = juhe_form(&Order { provider_order_id: Some("J1".into()), ..order.clone() }, "1", "");
    let (status, body) = http(&base, "POST", "/callback/juhe", &form).await;
    assert_eq!(status, 404, "nothing is there to verify it: {body}");
    assert_ne!(body, "success", "not acknowledged");
    assert_eq!(book.order(order.id).unwrap(), order, "the order is unchanged");
    assert_eq!(book.events(order.id).unwrap(), events_before, "nothing stored");
    let _ = stop.send(true);
    let _ = running.task.await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_unknown_past_its_stuck_limits_is_flagged_once_and_keeps_being_queried() {
    // The submit gets a 500 (outcome unknown; nothing placed), every query says "no such order", and
    // the resend after "not found" is an hour away: the order stays unknown and is queried.
    let settings = EngineSettings {
        query_delays_ms: vec![100],
        resend_after_not_found_ms: 3_600_000,
        manual_review_after_ms: 24 * 3_600_000,
        ..fast_settings()
    };
    let rules = settings.stuck_rules.clone();
    let rig = rig_with(settings).await;
    rig.sim.script(Script::once(Target::Account("13812120005".into()), Fault::Http500BeforeAccept));
    let o = rig.add(ProviderId::Juhe, "13812120005", 10);
    let unknown = wait_for(&rig.book, &o, |x| x.state == OrderState::Unknown).await;
    let first_send = unknown.submitted_at.unwrap();
    // An hour after the first send (the phone rule's review limit), by the injected clock.
    topup_engine::run::stuck::sweep(&rig.book, &rules, first_send + 3_600_000).unwrap();
    let flagged = rig.book.order(o.id).unwrap();
    assert_eq!(flagged.stuck, topup_engine::book::StuckLevel::Review, "in front of a person");
    assert_eq!(flagged.state, OrderState::Unknown);
    assert_eq!(rig.book.state_counts().unwrap().attention, 1, "the board's attention count shows it");
    let alerts = |book: &Book| {
        book.events(o.id)
            .unwrap()
            .iter()
            .filter(|e| e.kind == EventKind::Note.as_str() && e.detail.contains("needs a person"))
            .count()
    };

    // It keeps being queried, and the flag is raised once, not per query or sweep.
    topup_engine::run::stuck::sweep(&rig.book, &rules, first_send + 7_200_000).unwrap();
    let later = wait_for(&rig.book, &o, |x| x.queries >= flagged.queries + 3).await;
    assert!(later.queries >= flagged.queries + 3, "still queried: {} queries", later.queries);
    assert_eq!(later.state, OrderState::Unknown, "time alone never settles it");
    assert_eq!(alerts(&rig.book), 1);
    // A person looked at it and cleared the flag: not asked again for the same order.
    let cleared =
        rig.engine.resolve(o.id, OrderState::Succeeded, "已联系供应商 / asked the provider").unwrap();
    assert_eq!(cleared.stuck, topup_engine::book::StuckLevel::Reviewed);
    topup_engine::run::stuck::sweep(&rig.book, &rules, first_send + 9_000_000).unwrap();
    let later = wait_for(&rig.book, &o, |x| x.queries >= cleared.queries + 3).await;
    assert!(later.queries >= cleared.queries + 3);
    assert_eq!((later.state, later.attention), (OrderState::Unknown, false));
    assert_eq!(rig.book.state_counts().unwrap().attention, 0);
    assert_eq!(alerts(&rig.book), 1);
    assert_eq!(rig.submits_of(&o.merchant_order_id), 1, "never resent, refunded or rerouted by time");
    assert_eq!(rig.book.list_orders(&OrderFilter::default()).unwrap().total, 1, "no other order");
    rig.stop().await;
}
