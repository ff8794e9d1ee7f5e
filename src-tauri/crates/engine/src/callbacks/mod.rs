//! The local HTTP listener for provider callbacks.
//!
//! Why it is careful: it is the one part of the app that strangers can reach (resellers expose it
//! through a tunnel or a public IP). Every callback is verified by its provider client (signature
//! compared in constant time, order and amount matched), applied in one transaction, and only then
//! acknowledged with the body the provider expects. Anything refused gets an error status and no
//! acknowledgement, so an honest provider retries and a forger learns nothing.
//!
//! And it must keep answering whatever strangers do with their sockets. Its own accept loop (hyper's
//! HTTP/1.1 connection, not `axum::serve`, which has no header timeout) holds every limit of
//! [`CallbackSettings`]:
//! * a request head must arrive within the header timeout (also the keep-alive idle timeout), its body
//!   within the request timeout, and a connection on which nothing happens for the idle timeout is
//!   closed;
//! * at most `max_connections` sockets (and never more than half the process's open-files limit), at
//!   most `max_connections_per_ip` per sender; when full, the connection idle longest gives way (a
//!   slow or silent client can be shut out, an honest callback cannot), and only when every
//!   connection in the way is storing a callback is the new one answered 503 and closed — `accept`
//!   itself never waits;
//! * requests a second per sender and in all;
//! * on stop, idle and half-sent connections close at once, callbacks being stored get the shutdown
//!   grace period, then everything is dropped: stopping takes at most the grace period whatever the
//!   clients do.
//!
//! Refusals are counted per reason ([`Refusals`]), the first few logged one by one and the rest in
//! a summary line. What each answers: `docs/security.md`.

mod refusals;
mod senders;

pub use refusals::{Reason, Refusals};

use crate::config::CallbackSettings;
use crate::run::{Engine, EngineError};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use refusals::Detail;
use senders::{ConnState, RateLimits, Slot, Table};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use topup_core::ProviderId;
use topup_providers::CallbackRequest;

/// After a failed `accept` (out of file descriptors…), wait this long before the next.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// The answer to a connection over a connection cap, written without waiting, before closing it.
const BUSY_RESPONSE: &[u8] =
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\ncontent-length: 4\r\nconnection: close\r\n\r\nbusy";

/// A running listener: its address, a handle that ends when `stop` turns true (within the shutdown
/// grace period), and its refusal counters.
pub struct Running {
    pub addr: SocketAddr,
    pub task: tokio::task::JoinHandle<()>,
    pub refusals: Arc<Refusals>,
    table: Arc<Table>,
}

impl Running {
    /// Connections open now.
    pub fn open_connections(&self) -> usize {
        self.table.open()
    }
}

struct Listener {
    engine: Arc<Engine>,
    http: http1::Builder,
    rates: RateLimits,
    trusted: Vec<IpAddr>,
    refusals: Arc<Refusals>,
    max_body: usize,
    request_timeout: Duration,
    idle_timeout: Duration,
}

fn millis(ms: u64) -> Duration {
    Duration::from_millis(ms.max(100))
}

/// The trusted proxies of the settings, as addresses.
fn trusted_proxies(settings: &CallbackSettings) -> std::io::Result<Vec<IpAddr>> {
    settings
        .trusted_proxies
        .iter()
        .map(|t| {
            t.trim().parse::<IpAddr>().map(senders::sender_key).map_err(|_| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!(
                        "callback.trusted_proxies：“{t}” 不是 IP 地址 / “{t}” is not an IP address",
                        t = topup_core::untrusted::excerpt(t, 64)
                    ),
                )
            })
        })
        .collect()
}

/// `max_connections`, held to half the process's open-files limit: the other half stays for the
/// order book, the log and the provider connections, so `accept` never fails for want of one.
fn socket_cap(max_connections: usize) -> usize {
    let wanted = max_connections.max(1);
    #[cfg(unix)]
    {
        let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile).current;
        if let Some(limit) = limit.and_then(|l| usize::try_from(l).ok()) {
            let cap = (limit / 2).max(16);
            if cap < wanted {
                tracing::info!(
                    wanted,
                    cap,
                    open_files_limit = limit,
                    "callback socket cap held to half the open-files limit"
                );
                return cap;
            }
        }
    }
    wanted
}

/// Binds the listener and serves until `stop` turns true.
pub async fn serve(
    engine: Arc<Engine>,
    settings: &CallbackSettings,
    stop: watch::Receiver<bool>,
) -> std::io::Result<Running> {
    let trusted = trusted_proxies(settings)?;
    let tcp = TcpListener::bind((settings.bind.as_str(), settings.port)).await?;
    let addr = tcp.local_addr()?;
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(millis(settings.header_timeout_ms))
        .keep_alive(true)
        .max_buf_size(settings.max_header_bytes.max(8192));
    let refusals = Arc::new(Refusals::new(settings.refusal_log_first));
    let listener = Arc::new(Listener {
        engine,
        http,
        rates: RateLimits::new(settings.max_requests_per_second, settings.max_requests_per_second_per_ip),
        trusted,
        refusals: refusals.clone(),
        max_body: settings.max_body_bytes.max(1024),
        request_timeout: millis(settings.request_timeout_ms),
        idle_timeout: millis(settings.idle_timeout_ms),
    });
    let table = Table::new(socket_cap(settings.max_connections), settings.max_connections_per_ip);
    let grace = Duration::from_millis(settings.shutdown_grace_ms);
    let summary_every = Duration::from_secs(settings.refusal_summary_secs.max(1));
    let task = tokio::spawn(accept_loop(tcp, listener, table.clone(), stop, grace, summary_every));
    tracing::info!(%addr, "callback listener started");
    Ok(Running { addr, task, refusals, table })
}

async fn accept_loop(
    tcp: TcpListener,
    l: Arc<Listener>,
    table: Arc<Table>,
    mut stop: watch::Receiver<bool>,
    grace: Duration,
    summary_every: Duration,
) {
    let mut conns = JoinSet::new();
    let conn_stop = stop.clone();
    let mut summary = tokio::time::interval_at(tokio::time::Instant::now() + summary_every, summary_every);
    loop {
        tokio::select! {
            biased;
            () = stopped(&mut stop) => break,
            _ = summary.tick() => l.refusals.log_summary(summary_every.as_secs()),
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            accepted = tcp.accept() => match accepted {
                Ok((stream, peer)) => admit(&l, &table, &mut conns, &conn_stop, stream, peer),
                Err(e) => {
                    let why = e.to_string();
                    l.refusals.record(Reason::AcceptFailed, &Detail { why: Some(&why), ..Detail::default() });
                    // Out of file descriptors: free one (the connection idle longest) for the next.
                    if matches!(e.raw_os_error(), Some(23 | 24)) && table.evict_idlest() {
                        l.refusals.record(Reason::Evicted, &Detail::default());
                    }
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
        }
    }
    drop(tcp);
    // Every connection saw the stop: idle ones are closing, busy ones finish storing their callback.
    let drained = tokio::time::timeout(grace, async { while conns.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        let left = conns.len();
        conns.abort_all();
        while conns.join_next().await.is_some() {}
        tracing::warn!(left, "callback listener: connections dropped after the shutdown grace period");
    }
    l.refusals.log_summary(summary_every.as_secs());
    tracing::info!("callback listener stopped");
}

/// Resolves once `stop` is true (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

fn admit(
    l: &Arc<Listener>,
    table: &Arc<Table>,
    conns: &mut JoinSet<()>,
    stop: &watch::Receiver<bool>,
    stream: TcpStream,
    peer: SocketAddr,
) {
    let sender = senders::sender_key(peer.ip());
    let counted = (!l.trusted.contains(&sender)).then_some(sender);
    let mut evicted = 0;
    let admitted = table.admit(counted, &mut evicted);
    for _ in 0..evicted {
        l.refusals.record(Reason::Evicted, &Detail::default());
    }
    match admitted {
        Ok(slot) => {
            let _ = stream.set_nodelay(true);
            conns.spawn(serve_connection(l.clone(), stream, peer, slot, stop.clone()));
        }
        Err(reason) => {
            l.refusals
                .record(reason, &Detail { peer: Some(peer.ip()), sender: Some(sender), ..Detail::default() });
            // Best effort, never waiting: the socket buffer of a new connection has room for it.
            let _ = stream.try_write(BUSY_RESPONSE);
        }
    }
}

/// Serves one connection until it ends, is evicted, idles out, or the listener stops.
async fn serve_connection(
    l: Arc<Listener>,
    stream: TcpStream,
    peer: SocketAddr,
    slot: Slot,
    mut stop: watch::Receiver<bool>,
) {
    let state = slot.state.clone();
    let service = {
        let (l, state) = (l.clone(), state.clone());
        hyper::service::service_fn(move |request| {
            let (l, state) = (l.clone(), state.clone());
            async move { Ok::<_, std::convert::Infallible>(handle(&l, &state, peer, request).await) }
        })
    };
    let conn = l.http.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let mut draining = false;
    loop {
        // A busy connection is looked at again a whole idle timeout later (no spinning on a slow
        // commit); an idle one when its idle timeout would run out.
        let wait =
            if state.is_busy() { l.idle_timeout } else { l.idle_timeout.saturating_sub(state.idle_for()) };
        let idle_at = tokio::time::Instant::now() + wait.max(Duration::from_millis(10));
        tokio::select! {
            ended = conn.as_mut() => {
                if let Err(e) = ended {
                    connection_error(&l, &e, peer);
                }
                break;
            }
            // Evicted: counted by the admission that made room.
            () = state.close.notified() => break,
            () = stopped(&mut stop), if !draining => {
                if !state.is_busy() {
                    break;
                }
                // A callback is being stored: let it finish and be acknowledged, then close.
                conn.as_mut().graceful_shutdown();
                draining = true;
            }
            () = tokio::time::sleep_until(idle_at) => {
                if !state.is_busy() && state.idle_for() >= l.idle_timeout {
                    l.refusals.record(Reason::IdleTimeout, &Detail { peer: Some(peer.ip()), ..Detail::default() });
                    break;
                }
            }
        }
    }
    drop(slot);
}

/// Counts a connection that hyper ended with an error (the client's doing; closing is the answer).
fn connection_error(l: &Listener, e: &hyper::Error, peer: SocketAddr) {
    let reason = if e.is_timeout() {
        Reason::HeaderTimeout
    } else if e.is_parse_too_large() {
        Reason::TooLarge
    } else if e.is_parse() {
        Reason::BadRequest
    } else {
        // The client went away (mid-request or not): nothing refused.
        return;
    };
    let why = e.to_string();
    l.refusals.record(reason, &Detail { peer: Some(peer.ip()), why: Some(&why), ..Detail::default() });
}

fn answer(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// The provider of `/callback/<provider>`.
fn route(path: &str) -> Option<ProviderId> {
    path.strip_prefix("/callback/")?.parse().ok()
}

async fn handle(
    l: &Listener,
    conn: &ConnState,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    conn.touch();
    let sender = senders::sender_of(peer.ip(), &l.trusted, request.headers());
    let mut detail = Detail { peer: Some(peer.ip()), sender: Some(sender), ..Detail::default() };
    let refuse = |reason: Reason, detail: &Detail<'_>, status: StatusCode, body: &'static str| {
        l.refusals.record(reason, detail);
        answer(status, body)
    };
    if !l.rates.admit(sender) {
        return refuse(Reason::RateLimited, &detail, StatusCode::TOO_MANY_REQUESTS, "rate limited");
    }
    let Some(provider) = route(request.uri().path()) else {
        return refuse(Reason::NotFound, &detail, StatusCode::NOT_FOUND, "not found");
    };
    detail.provider = Some(provider);
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > l.max_body as u64) {
        return refuse(Reason::TooLarge, &detail, StatusCode::PAYLOAD_TOO_LARGE, "too large");
    }
    let body = match tokio::time::timeout(l.request_timeout, Limited::new(body, l.max_body).collect()).await {
        Err(_) => return refuse(Reason::BodyTimeout, &detail, StatusCode::REQUEST_TIMEOUT, "timeout"),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
            return refuse(Reason::TooLarge, &detail, StatusCode::PAYLOAD_TOO_LARGE, "too large")
        }
        Ok(Err(_)) => return refuse(Reason::BadRequest, &detail, StatusCode::BAD_REQUEST, "bad request"),
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    // From here the connection is storing a callback: not idle, not evicted, stop waits for it.
    let _busy = conn.busy();
    let callback = CallbackRequest {
        method: parts.method.to_string(),
        content_type: parts.headers.get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        body: body.to_vec(),
    };
    // Waits for the group commit on a oneshot: no blocking thread per callback.
    match l.engine.apply_callback_async(provider, &callback).await {
        Ok(ack) => answer(StatusCode::OK, ack),
        // Not configured here: nothing to verify against, nothing an ERROR line would help with.
        Err(EngineError::NoProvider(_)) => {
            refuse(Reason::NoProvider, &detail, StatusCode::NOT_FOUND, "provider not configured")
        }
        Err(EngineError::Callback(why)) => {
            detail.why = Some(&why);
            refuse(Reason::of_refused_callback(&why), &detail, StatusCode::BAD_REQUEST, "refused")
        }
        Err(e) => {
            // Not stored: no acknowledgement, the provider will retry.
            let why = e.to_string();
            detail.why = Some(&why);
            refuse(Reason::NotStored, &detail, StatusCode::INTERNAL_SERVER_ERROR, "not stored")
        }
    }
}
