//! HTTP plumbing: the accept loop, request recording, rate limiting, and reply shaping (lost, truncated,
//! garbage, slow replies).
//!
//! Why a hand-made accept loop instead of `axum::serve`: a "lost response" must close the TCP connection
//! without writing a single byte, and a "truncated body" must stop in the middle of a body whose
//! Content-Length promised more. Each connection therefore runs under a `select!` with a kill switch that
//! a handler can pull; dropping the hyper connection future closes the socket.

use crate::codec;
use crate::model::{RecordedRequest, Script};
use crate::state::{Provider, Shared};
use crate::{dingyin, juhe, oper};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;

/// The per-connection kill switch.
#[derive(Clone)]
pub struct ConnCtl(Arc<Notify>);

/// Index of this request in the recorded requests.
#[derive(Clone, Copy)]
pub struct RecordId(pub usize);

/// How a reply leaves the simulator.
#[derive(Clone, Debug, Default)]
pub enum Shape {
    #[default]
    Normal,
    /// Close the connection without a reply.
    Lost,
    /// Headers and half the body, then close.
    Truncated,
    /// 200 with bytes that are neither XML nor JSON.
    Garbage,
    /// Normal reply after a delay.
    Slow(Duration),
}

/// A reply before shaping.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    pub shape: Shape,
}

impl Reply {
    pub fn new(content_type: &'static str, body: Vec<u8>) -> Self {
        Reply { status: StatusCode::OK, content_type, body, shape: Shape::Normal }
    }

    pub fn json(value: String) -> Self {
        Reply::new("application/json;charset=UTF-8", value.into_bytes())
    }

    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub fn shaped(mut self, shape: Shape) -> Self {
        self.shape = shape;
        self
    }

    /// The HTML page of a crashed upstream.
    pub fn http500() -> Self {
        Reply::new(
            "text/html;charset=UTF-8",
            b"<html><head><title>500 Internal Server Error</title></head><body>Internal Server Error</body></html>"
                .to_vec(),
        )
        .with_status(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

/// What a handler gets: the buffered request.
pub struct Ctx {
    pub shared: Arc<Shared>,
    pub record: Option<usize>,
    pub conn: Option<ConnCtl>,
    pub headers: HeaderMap,
    pub query: String,
    pub body: Bytes,
}

impl Ctx {
    pub async fn from_request(shared: Arc<Shared>, req: Request) -> Ctx {
        let (parts, body) = req.into_parts();
        let body = axum::body::to_bytes(body, 4 << 20).await.unwrap_or_default();
        Ctx {
            shared,
            record: parts.extensions.get::<RecordId>().map(|r| r.0),
            conn: parts.extensions.get::<ConnCtl>().cloned(),
            query: parts.uri.query().unwrap_or("").to_string(),
            headers: parts.headers,
            body,
        }
    }

    pub fn content_type(&self) -> String {
        self.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string()
    }

    /// Attach the merchant order id to this request's record.
    pub fn note_order(&self, order_id: &str) {
        self.shared.lock().set_record_order(self.record, order_id);
    }

    /// Turn a reply into a response, applying its shape.
    pub async fn respond(&self, reply: Reply) -> Response {
        match reply.shape {
            Shape::Normal => plain(reply.status, reply.content_type, reply.body),
            Shape::Slow(d) => {
                tokio::time::sleep(d).await;
                plain(reply.status, reply.content_type, reply.body)
            }
            Shape::Garbage => plain(
                StatusCode::OK,
                "text/plain",
                b"\x00\xff\xfeGARBAGE{{<<not-a-reply>>\xc3\x28 %%%\r\n\x07".to_vec(),
            ),
            Shape::Lost => match &self.conn {
                Some(ConnCtl(kill)) => {
                    kill.notify_one();
                    std::future::pending::<()>().await;
                    plain(StatusCode::INTERNAL_SERVER_ERROR, "text/plain", Vec::new())
                }
                None => plain(StatusCode::INTERNAL_SERVER_ERROR, "text/plain", Vec::new()),
            },
            Shape::Truncated => {
                let full_len = reply.body.len();
                let half = Bytes::from(reply.body[..full_len / 2].to_vec());
                let kill = self.conn.clone();
                let stream = futures_util::stream::unfold(0u8, move |step| {
                    let half = half.clone();
                    let kill = kill.clone();
                    async move {
                        match step {
                            0 => Some((Ok::<Bytes, std::io::Error>(half), 1)),
                            _ => {
                                // Give hyper time to flush the first half, then cut the connection.
                                tokio::time::sleep(Duration::from_millis(50)).await;
                                if let Some(ConnCtl(k)) = kill {
                                    k.notify_one();
                                }
                                std::future::pending::<()>().await;
                                None
                            }
                        }
                    }
                });
                let mut resp = Response::new(Body::from_stream(stream));
                *resp.status_mut() = reply.status;
                resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(reply.content_type));
                resp.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(full_len));
                resp
            }
        }
    }
}

fn plain(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

fn provider_of_path(path: &str) -> Option<Provider> {
    match path {
        "/gameonlinepay.do" | "/searchpay.do" | "/searchbalance.do" => Some(Provider::Dingyin),
        p if p.starts_with("/1/api/oper/") => Some(Provider::Oper),
        p if p.starts_with("/ofpay/mobile/") => Some(Provider::Juhe),
        _ => None,
    }
}

pub fn now_unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

const RECORDED_HEADERS: [header::HeaderName; 5] =
    [header::CONTENT_TYPE, header::CONTENT_LENGTH, header::USER_AGENT, header::ACCEPT, header::HOST];

/// Record every provider request (body included) and apply the per-provider rate limit.
async fn record_and_limit(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if path.starts_with("/_sim/") {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, 4 << 20).await {
        Ok(b) => b,
        Err(_) => return plain(StatusCode::PAYLOAD_TOO_LARGE, "text/plain", b"body too large".to_vec()),
    };
    let provider = provider_of_path(&path);
    let headers = RECORDED_HEADERS
        .iter()
        .filter_map(|h| {
            parts
                .headers
                .get(h)
                .map(|v| (h.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        })
        .collect();
    let rec = RecordedRequest {
        provider: provider.map(|p| p.as_str().to_string()).unwrap_or_default(),
        endpoint: path.clone(),
        method: parts.method.as_str().to_string(),
        query: parts.uri.query().unwrap_or("").to_string(),
        headers,
        body: body.to_vec(),
        at_unix_ms: now_unix_ms(),
        merchant_order_id: None,
    };
    let (id, rate_ok) = {
        let mut inner = shared.lock();
        let id = inner.record(rec);
        let ok = match provider {
            Some(p) => inner.rate_ok(p, shared.config.rate_limit_per_sec),
            None => true,
        };
        (id, ok)
    };
    if !rate_ok {
        if let Some(p) = provider {
            let reply = rate_limited(p);
            return plain(reply.status, reply.content_type, reply.body);
        }
    }
    parts.extensions.insert(RecordId(id));
    next.run(Request::from_parts(parts, Body::from(body))).await
}

/// Each provider's "too many requests" answer; nothing is placed.
pub fn rate_limited(p: Provider) -> Reply {
    match p {
        Provider::Dingyin => dingyin::rate_limited_reply(),
        Provider::Oper => {
            Reply::json(r#"{"code":429,"count":0,"msg":"请求过于频繁,请稍后再试"}"#.to_string())
                .with_status(StatusCode::TOO_MANY_REQUESTS)
        }
        Provider::Juhe => juhe::error_reply(10012, "请求超过次数限制"),
    }
}

async fn not_found() -> Response {
    plain(
        StatusCode::NOT_FOUND,
        "text/html;charset=UTF-8",
        b"<html><body>404 Not Found</body></html>".to_vec(),
    )
}

async fn sim_script(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match serde_json::from_slice::<Script>(&body) {
        Ok(script) => {
            shared.lock().add_script(script);
            (StatusCode::OK, "ok").into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, format!("bad script: {e}")).into_response(),
    }
}

async fn sim_requests(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.lock().requests.clone()).into_response()
}

async fn sim_orders(State(shared): State<Arc<Shared>>) -> Response {
    let orders: Vec<_> = shared.lock().orders.iter().map(|o| o.public.clone()).collect();
    Json(orders).into_response()
}

async fn sim_balances(State(shared): State<Arc<Shared>>) -> Response {
    let inner = shared.lock();
    let v = serde_json::json!({
        "dingyin": inner.balance(Provider::Dingyin),
        "oper": inner.balance(Provider::Oper),
        "juhe": inner.balance(Provider::Juhe),
    });
    Json(v).into_response()
}

async fn sim_juhe_callback(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let url = String::from_utf8_lossy(&body).trim().to_string();
    shared.lock().juhe_callback_url = (!url.is_empty()).then_some(url);
    (StatusCode::OK, "ok").into_response()
}

async fn sim_plant_charge(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let plant = match serde_json::from_slice::<crate::admin::PlantCharge>(&body) {
        Ok(p) => p,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("bad plant: {e}")).into_response(),
    };
    match crate::admin::plant_charge(&shared, &plant) {
        Ok(o) => Json(o).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, e).into_response(),
    }
}

async fn sim_set_state(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let change = match serde_json::from_slice::<crate::admin::SetState>(&body) {
        Ok(c) => c,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("bad state change: {e}")).into_response(),
    };
    match crate::admin::set_state(&shared, &change) {
        Ok(o) => Json(o).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, e).into_response(),
    }
}

async fn sim_statement(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let query = req.uri().query().unwrap_or("");
    let provider = form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "provider")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    match crate::admin::statement_csv(&shared, &provider) {
        Ok(csv) => plain(StatusCode::OK, "text/csv;charset=UTF-8", csv.into_bytes()),
        Err(e) => (StatusCode::BAD_REQUEST, e).into_response(),
    }
}

/// Which routes a listener serves.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything (dingyin queries included unless they are separate).
    Main { with_dingyin_query: bool },
    /// Only dingyin's `searchpay.do` and `searchbalance.do`.
    DingyinQuery,
}

/// The routes of one listener.
pub fn router(shared: Arc<Shared>, role: Role) -> Router {
    let mut r = Router::new();
    let dingyin_query = matches!(role, Role::DingyinQuery | Role::Main { with_dingyin_query: true });
    if dingyin_query {
        r = r
            .route("/searchpay.do", post(dingyin::searchpay))
            .route("/searchbalance.do", post(dingyin::searchbalance));
    }
    if let Role::Main { .. } = role {
        r = r
            .route("/gameonlinepay.do", post(dingyin::submit))
            .route("/1/api/oper/order", post(oper::order))
            .route("/1/api/oper/balance", post(oper::balance))
            .route("/1/api/oper/query_order", post(oper::query_order))
            .route("/ofpay/mobile/onlineorder", post(juhe::onlineorder))
            .route("/ofpay/mobile/ordersta", get(juhe::ordersta))
            .route("/ofpay/mobile/telcheck", get(juhe::telcheck))
            .route("/ofpay/mobile/telquery", get(juhe::telquery))
            .route("/ofpay/mobile/yue", get(juhe::yue))
            .route("/_sim/script", post(sim_script))
            .route("/_sim/requests", get(sim_requests))
            .route("/_sim/orders", get(sim_orders))
            .route("/_sim/balances", get(sim_balances))
            .route("/_sim/juhe_callback_url", post(sim_juhe_callback))
            .route("/_sim/plant_charge", post(sim_plant_charge))
            .route("/_sim/set_state", post(sim_set_state))
            .route("/_sim/statement", get(sim_statement));
    }
    r.fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(shared.clone(), record_and_limit))
        .with_state(shared)
}

/// Serve `router` on `listener` until `shutdown` turns true; then every connection is dropped.
pub async fn serve(listener: TcpListener, router: Router, mut shutdown: watch::Receiver<bool>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _peer)) = accepted else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                while conns.try_join_next().is_some() {}
                let kill = Arc::new(Notify::new());
                let svc = TowerToHyperService::new(router.clone().layer(Extension(ConnCtl(kill.clone()))));
                let mut stop = shutdown.clone();
                conns.spawn(async move {
                    let conn = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc);
                    tokio::select! {
                        _ = conn => {}
                        _ = kill.notified() => {}
                        _ = stop.changed() => {}
                    }
                });
            }
            _ = shutdown.changed() => break,
        }
    }
    conns.abort_all();
    while conns.join_next().await.is_some() {}
}

/// Shorthand used by handlers for the md5 of a UTF-8 string.
pub fn md5_lower_str(text: &str) -> String {
    codec::md5_lower(text.as_bytes())
}
