//! The provider clients over real HTTP: against the `topup-sim` simulator (written from the documents,
//! independently of these clients) for every endpoint and scripted fault, and against tiny local TCP
//! servers for transport failures the simulator does not produce (refused connection, reset, hang,
//! redirect).

use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use topup_core::{Li, ProductKind, ProviderId, Sensitive};
use topup_providers::{
    build, default_settings, plain_http_fields, CallbackError, CallbackRequest, CallbackUpdate, Electricity,
    Grid, Provider, ProviderError, QueryRequest, SubmitRequest, Verdict,
};
use topup_sim::{
    Fault, OrderState, Script, SimConfig, Simulator, Target, SANDBOX_DINGYIN_KEY, SANDBOX_DINGYIN_USERID,
    SANDBOX_INITIAL_BALANCE_LI, SANDBOX_JUHE_APPKEY, SANDBOX_JUHE_OPENID, SANDBOX_OPER_MD5KEY,
    SANDBOX_OPER_UID,
};

// ---------------------------------------------------------------------------------------------------
// helpers

fn next_id(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(1);
    format!("{prefix}{:08}", N.fetch_add(1, Ordering::Relaxed))
}

async fn start_sim(separate_query: bool) -> Simulator {
    let mut cfg = SimConfig::sandbox();
    cfg.settle_after = Duration::from_millis(300);
    cfg.callback_retry_delay = Duration::from_millis(100);
    cfg.separate_dingyin_query = separate_query;
    Simulator::start(cfg).await.expect("simulator starts")
}

fn http_settings() -> serde_json::Value {
    json!({"connect_timeout_ms": 1000, "timeout_ms": 1500, "concurrency": 4, "requests_per_second": 0})
}

fn merge(mut a: serde_json::Value, b: serde_json::Value) -> serde_json::Value {
    if let (Some(a), Some(b)) = (a.as_object_mut(), b.as_object()) {
        for (k, v) in b {
            a.insert(k.clone(), v.clone());
        }
    }
    a
}

fn dingyin(base: &str, query_base: &str) -> Arc<dyn Provider> {
    let settings = merge(
        http_settings(),
        json!({"base_url": base, "query_base_url": query_base, "userid": SANDBOX_DINGYIN_USERID}),
    );
    build(ProviderId::Dingyin, &settings, Sensitive::new(SANDBOX_DINGYIN_KEY.to_owned()))
        .expect("dingyin builds")
}

fn oper(base: &str) -> Arc<dyn Provider> {
    let settings = merge(http_settings(), json!({"base_url": base, "uid": SANDBOX_OPER_UID}));
    build(ProviderId::Oper, &settings, Sensitive::new(SANDBOX_OPER_MD5KEY.to_owned())).expect("oper builds")
}

fn juhe(base: &str) -> Arc<dyn Provider> {
    let settings = merge(http_settings(), json!({"base_url": base, "openid": SANDBOX_JUHE_OPENID}));
    build(ProviderId::Juhe, &settings, Sensitive::new(SANDBOX_JUHE_APPKEY.to_owned())).expect("juhe builds")
}

fn phone_order(id: &str, yuan: i64, notify_url: Option<String>) -> SubmitRequest {
    SubmitRequest {
        merchant_order_id: id.to_owned(),
        kind: ProductKind::Phone,
        account: "13800138000".into(),
        face: Li::from_yuan(yuan),
        product_id: None,
        quantity: 1,
        area: None,
        server: None,
        electricity: None,
        carrier: None,
        order_time: "20240601120000".into(),
        notify_url,
        attempt: 1,
    }
}

fn electricity_order(id: &str, grid: Grid) -> SubmitRequest {
    SubmitRequest {
        merchant_order_id: id.to_owned(),
        kind: ProductKind::Electricity,
        account: "0123456789".into(),
        face: Li::from_yuan(200),
        product_id: Some(if grid == Grid::State { "DF-GW" } else { "DF-NW" }.into()),
        quantity: 1,
        area: None,
        server: None,
        electricity: Some(Electricity {
            grid,
            mobile: Some("13800138000".into()),
            id_card: Some("44010619900101123X".into()),
            account_type: Some("1".into()),
            province: Some("江苏".into()),
            city: Some("南京".into()),
        }),
        carrier: None,
        order_time: "20240601120000".into(),
        notify_url: None,
        attempt: 1,
    }
}

fn query(id: &str) -> QueryRequest {
    QueryRequest { merchant_order_id: id.to_owned(), provider_order_id: None }
}

/// Queries until the verdict is final (or 5 s pass).
async fn query_until_final(p: &dyn Provider, id: &str) -> Verdict {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let v = p.query(&query(id)).await.reply.verdict;
        if matches!(v, Verdict::Succeeded | Verdict::Failed) || tokio::time::Instant::now() > deadline {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Reads one HTTP/1.1 request: (request line + headers, body).
async fn read_request(stream: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let len = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>())
        })
        .and_then(Result::ok)
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some((head, buf[head_end..].to_vec()))
}

type CallbackResult = Result<CallbackUpdate, CallbackError>;

/// A callback listener that verifies with the provider client and answers with its ack.
async fn callback_sink(provider: Arc<dyn Provider>) -> (String, mpsc::UnboundedReceiver<CallbackResult>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/cb", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let provider = provider.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                let Some((head, body)) = read_request(&mut stream).await else { return };
                let first = head.lines().next().unwrap_or("").to_owned();
                let mut parts = first.split(' ');
                let method = parts.next().unwrap_or("").to_owned();
                let target = parts.next().unwrap_or("");
                let query = target.split_once('?').map(|(_, q)| q.to_owned()).unwrap_or_default();
                let content_type = head.lines().find_map(|l| {
                    let (n, v) = l.split_once(':')?;
                    n.eq_ignore_ascii_case("content-type").then(|| v.trim().to_owned())
                });
                let result = provider.parse_callback(&CallbackRequest { method, content_type, query, body });
                let (status, answer) = match &result {
                    Ok(u) => ("200 OK", u.ack.to_owned()),
                    Err(e) => ("400 Bad Request", e.to_string()),
                };
                let _ = tx.send(result);
                let response = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    (url, rx)
}

async fn next_callback(rx: &mut mpsc::UnboundedReceiver<CallbackResult>) -> CallbackResult {
    tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.expect("a callback arrives").expect("open")
}

// ---------------------------------------------------------------------------------------------------
// dingyin

#[tokio::test]
async fn dingyin_submit_query_balance_and_callback() {
    let sim = start_sim(true).await;
    assert_ne!(sim.base_url(), sim.dingyin_query_base_url(), "query lives on its own listener");
    let p = dingyin(&sim.base_url(), &sim.dingyin_query_base_url());
    let (cb_url, mut callbacks) = callback_sink(p.clone()).await;

    let id = next_id("DY");
    let out = p.submit(&phone_order(&id, 100, Some(cb_url))).await;
    assert_eq!(out.reply.verdict, Verdict::Accepted, "{:?}", out.reply);
    assert_eq!(out.reply.cost, Some(Li(98_500)));
    assert!(out.reply.provider_order_id.as_deref().is_some_and(|o| o.starts_with("XS")));
    assert_eq!(out.exchanges.len(), 1);
    assert!(!format!("{:?}", out.exchanges).contains(SANDBOX_DINGYIN_KEY));
    assert_eq!(sim.charges("dingyin", &id), 1);

    assert_eq!(query_until_final(p.as_ref(), &id).await, Verdict::Succeeded);
    let q = p.query(&query(&id)).await.reply;
    assert!(q.voucher.is_some(), "{q:?}");

    let update = next_callback(&mut callbacks).await.expect("callback verifies");
    assert_eq!((update.merchant_order_id.as_str(), update.verdict), (id.as_str(), Verdict::Succeeded));
    assert_eq!(update.face, None, "parvalue is not signed");
    assert!(update.provider_order_id.as_deref().is_some_and(|o| o.starts_with("XS")), "orderid is signed");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let order = sim.orders().into_iter().find(|o| o.merchant_order_id == id).unwrap();
    assert!(order.callback_acknowledged, "the simulator accepted the `ok` ack");

    let (balance, exchanges) = p.balance().await;
    assert_eq!(balance.unwrap().amount, Li(SANDBOX_INITIAL_BALANCE_LI - 98_500));
    assert_eq!(exchanges.len(), 1);
}

#[tokio::test]
async fn dingyin_electricity_game_and_douyin_are_byte_exact_gbk() {
    let sim = start_sim(false).await;
    let p = dingyin(&sim.base_url(), &sim.dingyin_query_base_url());
    for grid in [Grid::State, Grid::South] {
        let id = next_id("DF");
        let out = p.submit(&electricity_order(&id, grid)).await;
        assert_eq!(out.reply.verdict, Verdict::Accepted, "{grid:?} {:?}", out.reply);
        assert_eq!(out.reply.cost, Some(Li(198_000)));
    }
    let bodies: Vec<String> = sim
        .requests()
        .iter()
        .filter(|r| r.endpoint == "/gameonlinepay.do")
        .map(|r| String::from_utf8(r.body.clone()).unwrap())
        .collect();
    // python3 -c "import urllib.parse;print(urllib.parse.quote('江苏'.encode('gbk')), urllib.parse.quote('南京'.encode('gbk')))"
    assert!(bodies
        .iter()
        .all(|b| b.contains("%22area%22%3A%22%BD%AD%CB%D5%22%2C%22city%22%3A%22%C4%CF%BE%A9%22")));
    assert!(bodies[0].contains("&areaid=13800138000&"));
    assert!(bodies[1].contains("&userip=44010619900101123X&"));

    let mut game = phone_order(&next_id("GM"), 20, None);
    game.kind = ProductKind::Game;
    game.account = "玩家一号".into();
    game.product_id = Some("GAME-10".into());
    game.quantity = 2;
    game.area = Some("电信一区".into());
    let out = p.submit(&game).await;
    assert_eq!(out.reply.verdict, Verdict::Accepted, "{:?}", out.reply);
    assert_eq!(out.reply.cost, Some(Li(19_000)));

    let mut douyin = phone_order(&next_id("DYB"), 50, None);
    douyin.kind = ProductKind::Douyin;
    douyin.account = "抖音号abc".into();
    douyin.product_id = Some("DY".into());
    assert_eq!(p.submit(&douyin).await.reply.verdict, Verdict::Accepted);

    // An account GBK cannot carry is refused before sending: definitely not charged.
    let mut emoji = game.clone();
    emoji.merchant_order_id = next_id("GM");
    emoji.account = "玩家😀".into();
    let out = p.submit(&emoji).await;
    assert_eq!((out.reply.verdict, out.reply.retry_later, out.exchanges.len()), (Verdict::Failed, false, 0));
    assert!(p.validate(&emoji).is_err());
}

#[tokio::test]
async fn dingyin_faults() {
    let sim = start_sim(false).await;
    let p = dingyin(&sim.base_url(), &sim.dingyin_query_base_url());
    let cases: Vec<(Fault, Verdict, u32)> = vec![
        (Fault::LostResponseAfterAccept, Verdict::Unknown, 1),
        (Fault::Http500BeforeAccept, Verdict::Unknown, 0),
        (Fault::TruncatedBody, Verdict::Unknown, 1),
        (Fault::GarbageBody, Verdict::Unknown, 1),
        (Fault::SlowReply(Duration::from_secs(3)), Verdict::Unknown, 1),
        (Fault::Reject { code: 5003, accept_anyway: false }, Verdict::Failed, 0),
        (Fault::Reject { code: 5013, accept_anyway: false }, Verdict::Unknown, 0),
        (Fault::Reject { code: 9999, accept_anyway: true }, Verdict::Unknown, 1),
        (Fault::DuplicateOrder, Verdict::Unknown, 1),
        (Fault::RateLimit, Verdict::Unknown, 0),
    ];
    for (fault, verdict, charges) in cases {
        let id = next_id("DF");
        sim.script(Script::once(Target::Order(id.clone()), fault.clone()));
        let out = p.submit(&phone_order(&id, 100, None)).await;
        assert_eq!(out.reply.verdict, verdict, "{fault:?}: {:?}", out.reply);
        assert!(!out.reply.retry_later, "{fault:?}");
        assert_eq!(sim.charges("dingyin", &id), charges, "{fault:?}");
        assert!(out.exchanges[0].response.is_some() || out.exchanges[0].error.is_some());
    }
    // After a lost reply the order is found by a query, and a resend of the same id never charges twice.
    let id = next_id("DL");
    sim.script(Script::once(Target::Order(id.clone()), Fault::LostResponseAfterAccept));
    assert_eq!(p.submit(&phone_order(&id, 100, None)).await.reply.verdict, Verdict::Unknown);
    assert_eq!(p.submit(&phone_order(&id, 100, None)).await.reply.verdict, Verdict::Unknown, "5006");
    assert_eq!(sim.charges("dingyin", &id), 1);
    assert_eq!(query_until_final(p.as_ref(), &id).await, Verdict::Succeeded);
    // A settled failure is final only through the query.
    let id = next_id("DS");
    sim.script(Script::once(Target::Order(id.clone()), Fault::SettleFailed));
    assert_eq!(p.submit(&phone_order(&id, 100, None)).await.reply.verdict, Verdict::Accepted);
    assert_eq!(query_until_final(p.as_ref(), &id).await, Verdict::Failed);
    // "Not found" on query does not fail an order.
    let id = next_id("DN");
    sim.script(Script::once(Target::Order(id.clone()), Fault::QueryNotFound));
    assert_eq!(p.query(&query(&id)).await.reply.verdict, Verdict::Unknown);
}

// ---------------------------------------------------------------------------------------------------
// oper

#[tokio::test]
async fn oper_submit_query_balance_and_callback() {
    let sim = start_sim(false).await;
    let p = oper(&sim.base_url());
    let (cb_url, mut callbacks) = callback_sink(p.clone()).await;
    let id = next_id("9");
    let out = p.submit(&phone_order(&id, 1, Some(cb_url))).await;
    assert_eq!(out.reply.verdict, Verdict::Accepted, "{:?}", out.reply);
    let sent = &sim.requests()[0];
    let body = String::from_utf8(sent.body.clone()).unwrap();
    assert!(body.contains("&mobile_type=1&phone_number=13800138000&face_value=100&"), "{body}");
    assert!(!body.contains(SANDBOX_OPER_MD5KEY));

    assert_eq!(query_until_final(p.as_ref(), &id).await, Verdict::Succeeded);
    let q = p.query(&query(&id)).await.reply;
    let mobile_order_no = q.provider_order_id.clone().expect("mobileOrderNo");
    assert!(mobile_order_no.parse::<u64>().unwrap() > 1 << 53, "{q:?}");

    let update = next_callback(&mut callbacks).await.expect("callback verifies");
    assert_eq!((update.merchant_order_id.as_str(), update.verdict), (id.as_str(), Verdict::Succeeded));
    assert_eq!(update.face, Some(Li::from_yuan(1)), "face_value is signed");
    // mobile_order_no is not signed: the query above, signed, is where the provider's id comes from.
    // The status is signed: no confirming query needed.
    assert_eq!(update.provider_order_id, None);
    assert!(!update.needs_confirmation);

    let (balance, _) = p.balance().await;
    assert_eq!(balance.unwrap().amount, Li(SANDBOX_INITIAL_BALANCE_LI - 990));

    // Order numbers with a leading zero come back as strings and still match.
    let id0 = format!("0{}", next_id("7"));
    assert_eq!(
        p.submit(&phone_order(&id0, 1, Some("http://127.0.0.1:9/cb".into()))).await.reply.verdict,
        Verdict::Accepted
    );
    assert_eq!(query_until_final(p.as_ref(), &id0).await, Verdict::Succeeded);
}

#[tokio::test]
async fn oper_faults() {
    let sim = start_sim(false).await;
    let p = oper(&sim.base_url());
    let url = Some("http://127.0.0.1:9/cb".to_owned());
    let cases: Vec<(Fault, Verdict, u32)> = vec![
        (Fault::LostResponseAfterAccept, Verdict::Unknown, 1),
        (Fault::Http500BeforeAccept, Verdict::Unknown, 0),
        (Fault::TruncatedBody, Verdict::Unknown, 1),
        (Fault::GarbageBody, Verdict::Unknown, 1),
        (Fault::SlowReply(Duration::from_secs(3)), Verdict::Unknown, 1),
        (Fault::Reject { code: 400, accept_anyway: false }, Verdict::Failed, 0),
        (Fault::DuplicateOrder, Verdict::Unknown, 1),
        (Fault::RateLimit, Verdict::Unknown, 0),
    ];
    for (fault, verdict, charges) in cases {
        let id = next_id("8");
        sim.script(Script::once(Target::Order(id.clone()), fault.clone()));
        let out = p.submit(&phone_order(&id, 1, url.clone())).await;
        assert_eq!(out.reply.verdict, verdict, "{fault:?}: {:?}", out.reply);
        assert_eq!(sim.charges("oper", &id), charges, "{fault:?}");
    }
    let id = next_id("6");
    sim.script(Script::once(Target::Order(id.clone()), Fault::SettleFailed));
    assert_eq!(p.submit(&phone_order(&id, 1, url.clone())).await.reply.verdict, Verdict::Accepted);
    assert_eq!(query_until_final(p.as_ref(), &id).await, Verdict::Failed);
    let id = next_id("5");
    sim.script(Script::once(Target::Order(id.clone()), Fault::QueryNotFound));
    assert_eq!(p.query(&query(&id)).await.reply.verdict, Verdict::Unknown);
    // Half a fen, or no notify_url: refused before sending.
    let mut o = phone_order(&next_id("4"), 1, url);
    o.face = Li(1_005);
    assert_eq!(p.submit(&o).await.reply.verdict, Verdict::Failed);
    assert_eq!(sim.charges("oper", &o.merchant_order_id), 0);
}

// ---------------------------------------------------------------------------------------------------
// juhe

#[tokio::test]
async fn juhe_submit_query_balance_lookup_and_callback() {
    let sim = start_sim(false).await;
    let p = juhe(&sim.base_url());
    let (cb_url, mut callbacks) = callback_sink(p.clone()).await;
    sim.set_juhe_callback_url(Some(cb_url));

    let id = next_id("TD");
    let out = p.submit(&phone_order(&id, 10, None)).await;
    assert_eq!(out.reply.verdict, Verdict::Accepted, "{:?}", out.reply);
    assert_eq!(out.reply.cost, Some(Li(10_020)));
    let ex = &out.exchanges[0];
    assert!(ex.request.contains("key=<redacted>"), "{ex:?}");
    assert!(!format!("{ex:?}").contains(SANDBOX_JUHE_APPKEY));

    assert_eq!(query_until_final(p.as_ref(), &id).await, Verdict::Succeeded);
    let q = p.query(&query(&id)).await;
    assert!(!q.exchanges[0].url.contains(SANDBOX_JUHE_APPKEY), "{:?}", q.exchanges[0]);

    let update = next_callback(&mut callbacks).await.expect("callback verifies");
    assert_eq!((update.merchant_order_id.as_str(), update.verdict), (id.as_str(), Verdict::Succeeded));
    assert!(update.needs_confirmation, "juhe's sign does not cover sta");

    let (balance, exchanges) = p.balance().await;
    assert_eq!(balance.unwrap().amount, Li(SANDBOX_INITIAL_BALANCE_LI - 10_020));
    assert!(!exchanges[0].url.contains(SANDBOX_JUHE_APPKEY));

    let (product, exchanges) = p.phone_product("13800138000", Li::from_yuan(10)).await;
    let product = product.expect("lookup works");
    assert!(product.supported && product.in_price.is_some(), "{product:?}");
    assert_eq!(exchanges.len(), 2);
}

#[tokio::test]
async fn juhe_faults_and_local_refusals() {
    let sim = start_sim(false).await;
    let p = juhe(&sim.base_url());
    let cases: Vec<(Fault, Verdict, bool, u32)> = vec![
        (Fault::LostResponseAfterAccept, Verdict::Unknown, false, 1),
        (Fault::Http500BeforeAccept, Verdict::Unknown, false, 0),
        (Fault::TruncatedBody, Verdict::Unknown, false, 1),
        (Fault::GarbageBody, Verdict::Unknown, false, 1),
        (Fault::SlowReply(Duration::from_secs(3)), Verdict::Unknown, false, 1),
        (Fault::Reject { code: 208517, accept_anyway: false }, Verdict::Failed, false, 0),
        (Fault::Reject { code: 10014, accept_anyway: true }, Verdict::Unknown, false, 1),
        (Fault::Reject { code: 208508, accept_anyway: false }, Verdict::Unknown, false, 0),
        (Fault::DuplicateOrder, Verdict::Unknown, false, 1),
        (Fault::RateLimit, Verdict::Failed, true, 0),
    ];
    for (fault, verdict, retry, charges) in cases {
        let id = next_id("TD");
        sim.script(Script::once(Target::Order(id.clone()), fault.clone()));
        let out = p.submit(&phone_order(&id, 10, None)).await;
        assert_eq!(
            (out.reply.verdict, out.reply.retry_later),
            (verdict, retry),
            "{fault:?}: {:?}",
            out.reply
        );
        assert_eq!(sim.charges("juhe", &id), charges, "{fault:?}");
    }
    let id = next_id("TS");
    sim.script(Script::once(Target::Order(id.clone()), Fault::SettleFailed));
    assert_eq!(p.submit(&phone_order(&id, 10, None)).await.reply.verdict, Verdict::Accepted);
    assert_eq!(query_until_final(p.as_ref(), &id).await, Verdict::Failed);
    let order = sim.orders().into_iter().find(|o| o.merchant_order_id == id).unwrap();
    assert_eq!((order.state, order.refunded), (OrderState::Failed, true));

    let requests_before = sim.requests().len();
    for bad in [phone_order("SHORT1", 10, None), phone_order(&next_id("TD"), 3, None)] {
        let out = p.submit(&bad).await;
        assert_eq!((out.reply.verdict, out.reply.retry_later), (Verdict::Failed, false));
        assert!(out.exchanges.is_empty());
        assert!(matches!(p.validate(&bad), Err(ProviderError::InvalidOrder(_))));
    }
    assert_eq!(sim.requests().len(), requests_before, "nothing was sent");
}

#[tokio::test]
async fn rate_limited_simulator_never_yields_failed_for_dingyin_or_oper() {
    let mut cfg = SimConfig::sandbox();
    cfg.rate_limit_per_sec = Some(2);
    let sim = Simulator::start(cfg).await.unwrap();
    let d = dingyin(&sim.base_url(), &sim.dingyin_query_base_url());
    let o = oper(&sim.base_url());
    for _ in 0..5 {
        let v = d.submit(&phone_order(&next_id("RL"), 100, None)).await.reply.verdict;
        assert!(matches!(v, Verdict::Accepted | Verdict::Unknown), "{v:?}");
        let v =
            o.submit(&phone_order(&next_id("3"), 1, Some("http://127.0.0.1:9/".into()))).await.reply.verdict;
        assert!(matches!(v, Verdict::Accepted | Verdict::Unknown), "{v:?}");
    }
}

// ---------------------------------------------------------------------------------------------------
// transport failures against local servers

enum Behaviour {
    /// Read the request, then reset the connection.
    Reset,
    /// Read the request and never answer.
    Hang,
    /// Answer with this raw response.
    Raw(&'static str),
}

async fn local_server(behaviour: Behaviour) -> (String, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicU64::new(0));
    let counter = hits.clone();
    let behaviour = Arc::new(behaviour);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let behaviour = behaviour.clone();
            let counter = counter.clone();
            tokio::spawn(async move {
                if read_request(&mut stream).await.is_none() {
                    return;
                }
                counter.fetch_add(1, Ordering::SeqCst);
                match &*behaviour {
                    Behaviour::Reset => {
                        // A zero linger makes the close an RST; it does not block (nothing to flush).
                        #[allow(deprecated)]
                        let _ = stream.set_linger(Some(Duration::ZERO));
                        drop(stream);
                    }
                    Behaviour::Hang => tokio::time::sleep(Duration::from_secs(30)).await,
                    Behaviour::Raw(r) => {
                        let _ = stream.write_all(r.as_bytes()).await;
                    }
                }
            });
        }
    });
    (url, hits)
}

fn all_three(base: &str) -> Vec<Arc<dyn Provider>> {
    vec![dingyin(base, base), oper(base), juhe(base)]
}

fn order_for(p: &dyn Provider) -> SubmitRequest {
    let notify = Some("http://127.0.0.1:9/cb".to_owned());
    match p.id() {
        ProviderId::Dingyin => phone_order(&next_id("LC"), 100, None),
        ProviderId::Oper => phone_order(&next_id("2"), 1, notify),
        ProviderId::Juhe => phone_order(&next_id("LC"), 10, None),
    }
}

#[tokio::test]
async fn refused_connection_is_failed_not_sent_for_submit_and_unknown_for_query() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    for p in all_three(&base) {
        let out = p.submit(&order_for(p.as_ref())).await;
        assert_eq!((out.reply.verdict, out.reply.retry_later), (Verdict::Failed, true), "{:?}", p.id());
        assert!(out.reply.reason.contains("not sent"), "{}", out.reply.reason);
        assert!(out.exchanges[0].error.is_some() && out.exchanges[0].status.is_none());
        assert_eq!(p.query(&query("LC00000001")).await.reply.verdict, Verdict::Unknown);
        assert!(matches!(p.balance().await.0, Err(ProviderError::Network(_))));
    }
}

#[tokio::test]
async fn reset_hang_5xx_429_and_redirect_are_unknown() {
    let behaviours = [
        Behaviour::Reset,
        Behaviour::Hang,
        Behaviour::Raw("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 21\r\nConnection: close\r\n\r\n<html>crashed</html>\n"),
        Behaviour::Raw("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
        Behaviour::Raw("HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
        Behaviour::Raw("HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
        Behaviour::Raw("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n<order><resultno>5005</resultno>"),
    ];
    for b in behaviours {
        let (base, hits) = local_server(b).await;
        for p in all_three(&base) {
            let before = hits.load(Ordering::SeqCst);
            let out = p.submit(&order_for(p.as_ref())).await;
            assert_eq!(out.reply.verdict, Verdict::Unknown, "{:?} {base}: {:?}", p.id(), out.reply);
            assert_eq!(hits.load(Ordering::SeqCst), before + 1, "sent exactly once, no retry, no redirect");
            assert_eq!(p.query(&query("LC00000001")).await.reply.verdict, Verdict::Unknown);
        }
    }
}

#[tokio::test]
async fn responses_echoing_the_key_are_redacted_and_truncated() {
    let body = format!("{{\"reason\":\"{SANDBOX_JUHE_APPKEY}\",\"pad\":\"{}\"}}", "x".repeat(10_000));
    let raw: &'static str = Box::leak(
        format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
            .into_boxed_str(),
    );
    let (base, _) = local_server(Behaviour::Raw(raw)).await;
    let p = juhe(&base);
    let out = p.submit(&order_for(p.as_ref())).await;
    assert_eq!(out.reply.verdict, Verdict::Unknown);
    let shown = format!("{:?}", out.exchanges);
    assert!(!shown.contains(SANDBOX_JUHE_APPKEY), "{shown}");
    assert!(out.exchanges[0].response.as_ref().unwrap().len() < 4_200);
}

// ---------------------------------------------------------------------------------------------------
// factory

#[test]
fn factory_reads_json_settings_and_refuses_bad_ones() {
    assert!(build(ProviderId::Juhe, &json!({"openid": "JH1"}), Sensitive::new("k123".into())).is_ok());
    for (p, settings) in [
        (ProviderId::Juhe, json!(null)),
        (ProviderId::Juhe, json!({"openid": "JH1", "base_url": "op.juhe.cn"})),
        (ProviderId::Dingyin, json!({"userid": "1"})),
        (ProviderId::Oper, json!({"base_url": "http://h", "uid": ""})),
        (ProviderId::Oper, json!({"base_url": "http://h", "uid": "1", "timeout_ms": "slow"})),
        (ProviderId::Oper, json!({"base_url": "http://h", "uid": "1", "concurrency": 0})),
    ] {
        assert!(
            matches!(build(p, &settings, Sensitive::new("k123".into())), Err(ProviderError::Config(_))),
            "{settings}"
        );
    }
    assert!(matches!(
        build(ProviderId::Juhe, &json!({"openid": "JH1"}), Sensitive::new(String::new())),
        Err(ProviderError::Config(_))
    ));
    let juhe_defaults = default_settings(ProviderId::Juhe);
    // juhe puts its app key in every query string: https by default (issue 11, item 12).
    assert_eq!(juhe_defaults["base_url"], "https://op.juhe.cn");
    assert_eq!(juhe_defaults["use_env_proxy"], false);
    assert_eq!(juhe_defaults["timeout_ms"], 30_000);
    assert_eq!(default_settings(ProviderId::Dingyin)["query_window_days"], 3);
    let d = build(
        ProviderId::Dingyin,
        &json!({"base_url": "http://h:9086", "userid": "1"}),
        Sensitive::new("k".into()),
    )
    .unwrap();
    assert_eq!(d.query_window(), Some(Duration::from_secs(3 * 86_400)));
}

// ---------------------------------------------------------------------------------------------------
// proof that a reply is about the order (issue 11)

#[tokio::test]
async fn a_query_reply_about_another_order_is_unknown_for_every_provider() {
    let sim = start_sim(false).await;
    for p in all_three(&sim.base_url()) {
        let id = next_id("7");
        let order = SubmitRequest { merchant_order_id: id.clone(), ..order_for(p.as_ref()) };
        assert_eq!(p.submit(&order).await.reply.verdict, Verdict::Accepted, "{:?}", p.id());
        sim.script(Script::once(Target::Order(id.clone()), Fault::QueryAboutOtherOrder));
        // The provider answers, well-formed and (oper) correctly signed, about another order that failed.
        let r = p.query(&query(&id)).await.reply;
        assert_eq!(r.verdict, Verdict::Unknown, "{:?}: {r:?}", p.id());
        assert_eq!((r.provider_order_id, r.cost, r.voucher), (None, None, None), "{:?}", p.id());
        assert!(r.reason.contains(&format!("{id}1")), "{:?}: {}", p.id(), r.reason);
        // Our order itself is fine and settles.
        assert_eq!(query_until_final(p.as_ref(), &id).await, Verdict::Succeeded, "{:?}", p.id());
    }
}

#[tokio::test]
async fn juhe_knows_an_order_it_never_received_by_the_strict_code() {
    let sim = start_sim(false).await;
    let p = juhe(&sim.base_url());
    // Killed between the intent and the send: juhe never saw the id. A strict juhe says 208509.
    let id = next_id("TD");
    let r = p.query(&query(&id)).await.reply;
    assert_eq!(r.code.as_deref(), Some("208509"));
    assert_eq!((r.verdict, r.not_found), (Verdict::Unknown, true), "{r:?}");
    // Resending the same id is then safe: accepted once, a second resend is a duplicate, one charge.
    assert_eq!(p.submit(&phone_order(&id, 10, None)).await.reply.verdict, Verdict::Accepted);
    assert_eq!(p.submit(&phone_order(&id, 10, None)).await.reply.verdict, Verdict::Unknown, "208516");
    assert_eq!(sim.charges("juhe", &id), 1);
    // Once juhe has it, the same query is a state, not "not found".
    let r = p.query(&query(&id)).await.reply;
    assert!(!r.not_found && r.verdict == Verdict::Accepted, "{r:?}");
}

#[tokio::test]
async fn oper_a_400_is_a_rejection_on_the_first_send_only() {
    let sim = start_sim(false).await;
    let p = oper(&sim.base_url());
    let url = Some("http://127.0.0.1:9/cb".to_owned());
    // A resend of an id oper already has, answered 400 in words no marker knows: unknown, queried.
    let id = next_id("3");
    sim.script(Script::once(Target::Order(id.clone()), Fault::Reject { code: 400, accept_anyway: true }));
    let resend = SubmitRequest { attempt: 2, ..phone_order(&id, 1, url.clone()) };
    let r = p.submit(&resend).await.reply;
    assert_eq!((r.verdict, r.retry_later), (Verdict::Unknown, false), "{r:?}");
    assert_eq!(sim.charges("oper", &id), 1, "the order exists upstream");
    assert_eq!(query_until_final(p.as_ref(), &id).await, Verdict::Succeeded);
    // The same answer to a first send is a rejection.
    let id = next_id("3");
    sim.script(Script::once(Target::Order(id.clone()), Fault::Reject { code: 400, accept_anyway: false }));
    assert_eq!(p.submit(&phone_order(&id, 1, url.clone())).await.reply.verdict, Verdict::Failed);
    // A local refusal of a resend says nothing about the earlier send: unknown, nothing sent.
    let requests = sim.requests().len();
    let mut bad = SubmitRequest { attempt: 3, ..phone_order(&next_id("3"), 1, url) };
    bad.face = Li(1_005);
    let out = p.submit(&bad).await;
    assert_eq!((out.reply.verdict, out.exchanges.len()), (Verdict::Unknown, 0));
    assert_eq!(sim.requests().len(), requests);
    bad.attempt = 1;
    assert_eq!(p.submit(&bad).await.reply.verdict, Verdict::Failed);
}

/// The provider's own id for an order, as the simulator holds it.
fn upstream_id(sim: &Simulator, id: &str) -> String {
    sim.orders().into_iter().find(|o| o.merchant_order_id == id).expect("upstream").provider_order_id
}

#[tokio::test]
async fn unsigned_callback_fields_are_never_facts() {
    let sim = start_sim(false).await;
    // dingyin: another parvalue and remark1 under a valid sign: the same update as an honest one.
    let dy = dingyin(&sim.base_url(), &sim.dingyin_query_base_url());
    let (cb_url, mut callbacks) = callback_sink(dy.clone()).await;
    let id = next_id("DU");
    sim.script(Script::once(Target::Order(id.clone()), Fault::CallbackUnsignedChanged));
    assert_eq!(dy.submit(&phone_order(&id, 100, Some(cb_url))).await.reply.verdict, Verdict::Accepted);
    let u = next_callback(&mut callbacks).await.expect("verifies");
    assert_eq!(
        (u.merchant_order_id.as_str(), u.verdict, u.face, u.message),
        (id.as_str(), Verdict::Succeeded, None, None)
    );
    let real = upstream_id(&sim, &id);
    assert_eq!(u.provider_order_id.as_deref(), Some(real.as_str()), "orderid is signed");
    // oper: another mobile_order_no under a valid sign is not carried; the query brings the real one.
    let op = oper(&sim.base_url());
    let (cb_url, mut callbacks) = callback_sink(op.clone()).await;
    let id = next_id("2");
    sim.script(Script::once(Target::Order(id.clone()), Fault::CallbackUnsignedChanged));
    assert_eq!(op.submit(&phone_order(&id, 1, Some(cb_url))).await.reply.verdict, Verdict::Accepted);
    let u = next_callback(&mut callbacks).await.expect("verifies");
    assert_eq!(
        (u.verdict, u.provider_order_id.as_deref(), u.needs_confirmation),
        (Verdict::Succeeded, None, false)
    );
    let real = upstream_id(&sim, &id);
    assert_eq!(op.query(&query(&id)).await.reply.provider_order_id, Some(real));
}

#[test]
fn plain_http_provider_urls_are_named_and_the_old_juhe_default_is_upgraded() {
    assert!(plain_http_fields(ProviderId::Juhe, &json!({"openid": "JH1"})).is_empty(), "https default");
    assert_eq!(plain_http_fields(ProviderId::Juhe, &json!({"base_url": "http://op.juhe.cn"})), ["base_url"]);
    assert_eq!(
        plain_http_fields(
            ProviderId::Dingyin,
            &json!({"base_url": "http://1.2.3.4:9086", "query_base_url": "https://q.example"})
        ),
        ["base_url"]
    );
    assert_eq!(
        plain_http_fields(
            ProviderId::Dingyin,
            &json!({"base_url": "https://h", "query_base_url": "http://h:1"})
        ),
        ["query_base_url"]
    );
    assert!(plain_http_fields(ProviderId::Oper, &json!({"base_url": "http://127.0.0.1:8088"})).is_empty());
    assert!(plain_http_fields(ProviderId::Dingyin, &json!({})).is_empty(), "no address yet, nothing to warn");

    for old in ["http://op.juhe.cn", "http://op.juhe.cn/", " http://op.juhe.cn "] {
        let mut s = json!({"base_url": old, "openid": "JH1"});
        assert!(topup_providers::juhe::upgrade_old_default(&mut s), "{old}");
        assert_eq!(s, json!({"base_url": "https://op.juhe.cn", "openid": "JH1"}));
    }
    // Any other address is the user's choice and stays.
    for kept in
        [json!({"base_url": "http://test-v.juhe.cn"}), json!({"base_url": "http://10.0.0.1/juhe"}), json!({})]
    {
        let mut s = kept.clone();
        assert!(!topup_providers::juhe::upgrade_old_default(&mut s));
        assert_eq!(s, kept);
    }
}
