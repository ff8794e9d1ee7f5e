//! The callback listener under attack, over real TCP on 127.0.0.1 (and 127.0.0.2 as a second sender):
//! idle and half-sent connections, slow bodies, one address hogging sockets or requests, and a stop
//! with half-open clients attached. Real callbacks are signed with the simulator's oper key and settle
//! a real order of the engine running against the simulator.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::watch;
use topup_engine::book::{Book, Order, OrderState};
use topup_engine::callbacks::{Reason, Running};
use topup_engine::config::{CallbackSettings, EngineSettings, Registry};
use topup_engine::run::Engine;
use topup_engine::ProviderId;
use topup_providers::CallbackRequest;
use topup_sim::{SimConfig, Simulator};

/// Far above every bound the listener keeps: only a hang reaches it.
const HANG: Duration = Duration::from_secs(30);

/// Timeouts long enough that nothing in a test is ended by one unless the test shortens it.
fn patient() -> CallbackSettings {
    CallbackSettings {
        header_timeout_ms: 600_000,
        request_timeout_ms: 600_000,
        idle_timeout_ms: 600_000,
        ..CallbackSettings::default()
    }
}

struct Rig {
    _dir: tempfile::TempDir,
    book: Arc<Book>,
    sim: Simulator,
    engine: Arc<Engine>,
    listener: Running,
    stop: watch::Sender<bool>,
    run: tokio::task::JoinHandle<()>,
}

impl Rig {
    async fn start(callback: CallbackSettings) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let book = Arc::new(Book::open(&dir.path().join("orders.sqlite3")).unwrap());
        let sim =
            Simulator::start(SimConfig { settle_after: Duration::from_millis(50), ..SimConfig::sandbox() })
                .await
                .unwrap();
        let registry = Registry::sandbox(&sim.base_url(), &sim.dingyin_query_base_url(), None).unwrap();
        let settings =
            EngineSettings { query_delays_ms: vec![100, 200], callback, ..EngineSettings::default() };
        let engine = Engine::new(book.clone(), registry, settings.clone());
        let (stop, stop_rx) = watch::channel(false);
        let listener = topup_engine::callbacks::serve(engine.clone(), &settings.callback, stop_rx.clone())
            .await
            .unwrap();
        let e = engine.clone();
        let run = tokio::spawn(async move { e.run(stop_rx).await.unwrap() });
        Rig { _dir: dir, book, sim, engine, listener, stop, run }
    }

    /// An oper order that the simulator settled.
    async fn settled_order(&self) -> Order {
        let order = crate::run::add_phone(&self.engine, ProviderId::Oper, "13877770001", 20);
        for _ in 0..600 {
            let now = self.book.order(order.id).unwrap();
            if now.state == OrderState::Succeeded {
                return now;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the order did not settle");
    }

    fn addr(&self) -> SocketAddr {
        self.listener.addr
    }

    async fn stop(self) {
        let _ = self.stop.send(true);
        tokio::time::timeout(HANG, self.listener.task).await.expect("listener stops").unwrap();
        let _ = self.run.await;
        self.sim.shutdown().await;
    }
}

/// A connection from `from` (an address of 127.0.0.0/8).
async fn connect(addr: SocketAddr, from: &str) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(from.parse().unwrap(), 0)).unwrap();
    socket.connect(addr).await.unwrap()
}

fn raw_request(path: &str, callback: &CallbackRequest, extra_headers: &str) -> Vec<u8> {
    let mut head = format!(
        "{} {path} HTTP/1.1\r\nhost: desk\r\nconnection: close\r\ncontent-length: {}\r\n{extra_headers}",
        callback.method,
        callback.body.len()
    );
    if let Some(ct) = &callback.content_type {
        head.push_str(&format!("content-type: {ct}\r\n"));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(&callback.body);
    bytes
}

/// Sends one request on a new connection from `from`; the status and body of the answer.
async fn send(addr: SocketAddr, from: &str, request: &[u8]) -> (u16, String) {
    tokio::time::timeout(HANG, async {
        let mut stream = connect(addr, from).await;
        stream.write_all(request).await.unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer).await;
        let text = String::from_utf8_lossy(&answer).into_owned();
        let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let body = text.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
        (status, body)
    })
    .await
    .expect("an answer, not a hang")
}

fn garbage_callback() -> CallbackRequest {
    CallbackRequest {
        method: "POST".into(),
        content_type: Some("application/x-www-form-urlencoded".into()),
        query: String::new(),
        body: b"uid=1&order_no=TD-none&status=4&sign=00".to_vec(),
    }
}

/// Whether the server closed `stream` (EOF or reset) within [`HANG`].
async fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 512];
    loop {
        match tokio::time::timeout(HANG, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_half_sent_connections_do_not_starve_real_callbacks() {
    // A socket cap well under the attack (the same rule at 256 against an open-files limit: see the
    // app's tests/listener.rs), and timeouts too long to help: only making room can save the callbacks.
    let rig = Rig::start(CallbackSettings { max_connections: 64, ..patient() }).await;
    let order = rig.settled_order().await;
    let addr = rig.addr();
    let mut attack = Vec::new();
    for _ in 0..300 {
        attack.push(connect(addr, "127.0.0.1").await);
    }
    for i in 0..40 {
        let mut s = connect(addr, "127.0.0.1").await;
        let part: &[u8] = if i % 2 == 0 {
            b"POST /callback/oper HTTP/1.1\r\nhost: desk\r\ncontent-le"
        } else {
            b"POST /callback/oper HTTP/1.1\r\nhost: desk\r\ncontent-length: 400\r\n\r\nuid=1&ord"
        };
        s.write_all(part).await.unwrap();
        attack.push(s);
    }
    let ok = raw_request(
        "/callback/oper",
        &crate::run::oper_callback(&order, "4", topup_sim::SANDBOX_OPER_MD5KEY),
        "",
    );
    let mut latencies = Vec::new();
    for i in 0..300 {
        let started = Instant::now();
        let (status, body) = send(addr, "127.0.0.1", &ok).await;
        latencies.push(started.elapsed());
        assert_eq!((status, body.as_str()), (200, "ok"), "callback {i} answered");
        // Keep the attack going: a fresh idle connection between callbacks.
        if i % 3 == 0 {
            attack.push(connect(addr, "127.0.0.1").await);
        }
    }
    latencies.sort();
    println!(
        "real callbacks under attack (340+ idle/half-sent connections, socket cap 64): p50 {:?} p99 {:?} max {:?}",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies[latencies.len() - 1]
    );
    assert!(rig.listener.open_connections() <= 64, "{} open", rig.listener.open_connections());
    assert!(rig.listener.refusals.get(Reason::Evicted) >= 300, "idle connections made room");
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_finishes_its_head_is_closed_after_the_header_timeout() {
    let rig = Rig::start(CallbackSettings { header_timeout_ms: 300, ..patient() }).await;
    let mut silent = connect(rig.addr(), "127.0.0.1").await;
    let mut slow = connect(rig.addr(), "127.0.0.1").await;
    slow.write_all(b"POST /callback/oper HTTP/1.1\r\nhost: de").await.unwrap();
    assert!(closed_by_server(&mut slow).await, "a half-sent head is closed");
    assert!(closed_by_server(&mut silent).await, "a silent connection is closed");
    assert!(rig.listener.refusals.get(Reason::HeaderTimeout) >= 2);
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_on_which_nothing_happens_is_closed_after_the_idle_timeout() {
    // Whatever hyper is waiting for (here a head, with a header timeout far away), the idle
    // timeout ends a connection on which no request starts or ends.
    let rig = Rig::start(CallbackSettings { idle_timeout_ms: 300, ..patient() }).await;
    let mut slow = connect(rig.addr(), "127.0.0.1").await;
    slow.write_all(b"POST /callback/oper HTTP/1.1\r\nhost: de").await.unwrap();
    assert!(closed_by_server(&mut slow).await, "closed by the idle timeout");
    assert_eq!(rig.listener.refusals.get(Reason::IdleTimeout), 1);
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_never_arrives_is_answered_408() {
    let rig = Rig::start(CallbackSettings { request_timeout_ms: 300, ..patient() }).await;
    let mut s = connect(rig.addr(), "127.0.0.1").await;
    s.write_all(b"POST /callback/oper HTTP/1.1\r\nhost: desk\r\ncontent-length: 400\r\n\r\nuid=1")
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(HANG, s.read_to_end(&mut answer)).await.expect("answered").unwrap();
    assert!(
        String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    assert_eq!(rig.listener.refusals.get(Reason::BodyTimeout), 1);
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_holds_at_most_its_connections_and_others_still_get_in() {
    let rig =
        Rig::start(CallbackSettings { max_connections_per_ip: 4, trusted_proxies: Vec::new(), ..patient() })
            .await;
    let addr = rig.addr();
    let mut hog = Vec::new();
    for _ in 0..10 {
        hog.push(connect(addr, "127.0.0.2").await);
    }
    let mut closed = 0;
    for s in &mut hog[..6] {
        closed += usize::from(closed_by_server(s).await);
    }
    assert_eq!(closed, 6, "the six oldest of 127.0.0.2's connections were closed");
    assert_eq!(rig.listener.open_connections(), 4);
    let order = rig.settled_order().await;
    let ok = raw_request(
        "/callback/oper",
        &crate::run::oper_callback(&order, "4", topup_sim::SANDBOX_OPER_MD5KEY),
        "",
    );
    assert_eq!(send(addr, "127.0.0.1", &ok).await, (200, "ok".to_owned()));
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_sender_over_its_rate_is_refused_while_others_are_served() {
    let rig = Rig::start(CallbackSettings {
        max_requests_per_second_per_ip: 5,
        trusted_proxies: vec!["127.0.0.1".into()],
        ..patient()
    })
    .await;
    let addr = rig.addr();
    let garbage = raw_request("/callback/oper", &garbage_callback(), "");
    let started = Instant::now();
    let mut limited = 0;
    for _ in 0..30 {
        limited += usize::from(send(addr, "127.0.0.2", &garbage).await.0 == 429);
    }
    // At most 5 a second get through: how many seconds the loop spanned bounds it.
    let windows = usize::try_from(started.elapsed().as_secs()).unwrap() + 2;
    assert!(30 - limited <= 5 * windows, "{limited} of 30 refused over {windows} windows");
    // Another sender still gets its answer (a refusal of the garbage, not 429).
    assert_eq!(send(addr, "127.0.0.3", &garbage).await.0, 400);
    // Behind a trusted proxy, the address it forwards is the sender.
    let from =
        |ip: &str| raw_request("/callback/oper", &garbage_callback(), &format!("x-forwarded-for: {ip}\r\n"));
    let mut proxied_limited = 0;
    for _ in 0..30 {
        proxied_limited += usize::from(send(addr, "127.0.0.1", &from("203.0.113.7")).await.0 == 429);
    }
    assert!(proxied_limited > 0);
    assert_eq!(send(addr, "127.0.0.1", &from("203.0.113.8")).await.0, 400);
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_answer_by_reason_and_are_counted() {
    let rig = Rig::start(patient()).await;
    let addr = rig.addr();
    let order = rig.settled_order().await;
    let key = topup_sim::SANDBOX_OPER_MD5KEY;
    let forged = raw_request("/callback/oper", &crate::run::oper_callback(&order, "4", "not-the-key"), "");
    assert_eq!(send(addr, "127.0.0.1", &forged).await, (400, "refused".to_owned()));
    let mut unknown = order.clone();
    unknown.merchant_order_id = "TD20990101000000000000".into();
    let unknown = raw_request("/callback/oper", &crate::run::oper_callback(&unknown, "4", key), "");
    assert_eq!(send(addr, "127.0.0.1", &unknown).await, (400, "refused".to_owned()));
    let malformed = CallbackRequest { body: b"uid=1".to_vec(), ..garbage_callback() };
    assert_eq!(send(addr, "127.0.0.1", &raw_request("/callback/oper", &malformed, "")).await.0, 400);
    assert_eq!(send(addr, "127.0.0.1", &raw_request("/callback/nobody", &malformed, "")).await.0, 404);
    assert_eq!(send(addr, "127.0.0.1", &raw_request("/admin", &malformed, "")).await.0, 404);
    let big = CallbackRequest { body: vec![b'a'; 20_000], ..garbage_callback() };
    assert_eq!(send(addr, "127.0.0.1", &raw_request("/callback/oper", &big, "")).await.0, 413);
    let refusals = &rig.listener.refusals;
    let counted: Vec<(Reason, u64)> = refusals.snapshot().into_iter().filter(|(_, n)| *n > 0).collect();
    assert_eq!(
        counted,
        [
            (Reason::NotFound, 2),
            (Reason::TooLarge, 1),
            (Reason::BadSign, 1),
            (Reason::Malformed, 1),
            (Reason::UnknownOrder, 1)
        ]
    );
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_for_a_provider_not_configured_here_is_404_without_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let book = Arc::new(Book::open(&dir.path().join("orders.sqlite3")).unwrap());
    let registry =
        Registry { sandbox: false, providers: Default::default(), unavailable: Default::default() };
    let settings = EngineSettings { callback: patient(), ..EngineSettings::default() };
    let engine = Engine::new(book, registry, settings.clone());
    let (stop, stop_rx) = watch::channel(false);
    let listener = topup_engine::callbacks::serve(engine, &settings.callback, stop_rx).await.unwrap();
    let request = raw_request("/callback/juhe", &garbage_callback(), "");
    assert_eq!(send(listener.addr, "127.0.0.1", &request).await, (404, "provider not configured".to_owned()));
    assert_eq!(listener.refusals.get(Reason::NoProvider), 1);
    assert_eq!(listener.refusals.get(Reason::NotStored), 0);
    let _ = stop.send(true);
    tokio::time::timeout(HANG, listener.task).await.expect("stops").unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_stops_within_its_grace_period_with_half_open_clients_attached() {
    let dir = tempfile::tempdir().unwrap();
    let book = topup_engine::session::open_book(dir.path()).unwrap();
    let settings = EngineSettings { callback: patient(), ..EngineSettings::default() };
    settings.save(&book).unwrap();
    let options = topup_engine::session::SessionOptions::default();
    let session = topup_engine::session::Session::start(dir.path(), book, options).await.unwrap();
    let addr = session.callback_addr.expect("listening");
    let mut clients = Vec::new();
    for part in [
        &b""[..],
        b"POST /callback/juhe HTTP/1.1\r\nhost: desk\r\ncontent-le",
        b"POST /callback/juhe HTTP/1.1\r\nhost: desk\r\ncontent-length: 400\r\n\r\norderid=1",
    ] {
        let mut s = connect(addr, "127.0.0.1").await;
        s.write_all(part).await.unwrap();
        clients.push(s);
    }
    // Let the listener take them in.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    tokio::time::timeout(HANG, session.stop())
        .await
        .expect("the session stops with half-open clients attached");
    println!("session stop with 3 half-open clients: {:?} (grace period 2 s)", started.elapsed());
    for s in &mut clients {
        assert!(closed_by_server(s).await, "every client was let go");
    }
}
