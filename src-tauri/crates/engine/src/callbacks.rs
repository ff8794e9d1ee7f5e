//! The local HTTP listener for provider callbacks.
//!
//! Why it is careful: it is the one part of the app that strangers can reach (resellers expose it
//! through a tunnel or a public IP). Bodies are size-limited, requests are rate-limited and capped in
//! flight, every callback is verified by its provider client (signature compared in constant time,
//! order and amount matched), applied in one transaction, and only then acknowledged with the body the
//! provider expects. Anything refused gets an error status and no acknowledgement, so an honest
//! provider retries and a forger learns nothing.

use crate::config::CallbackSettings;
use crate::run::{Engine, EngineError};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{watch, Semaphore};
use topup_core::ProviderId;
use topup_providers::CallbackRequest;

struct Listener {
    engine: Arc<Engine>,
    in_flight: Semaphore,
    rate: Mutex<(Instant, u32)>,
    per_second: u32,
}

/// A running listener: its address, and a handle that ends when `stop` turns true.
pub struct Running {
    pub addr: SocketAddr,
    pub task: tokio::task::JoinHandle<()>,
}

/// Binds the listener and serves until `stop` turns true.
pub async fn serve(
    engine: Arc<Engine>,
    settings: &CallbackSettings,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<Running> {
    let listener = tokio::net::TcpListener::bind((settings.bind.as_str(), settings.port)).await?;
    let addr = listener.local_addr()?;
    let state = Arc::new(Listener {
        engine,
        in_flight: Semaphore::new(settings.max_connections.max(1)),
        rate: Mutex::new((Instant::now(), 0)),
        per_second: settings.max_requests_per_second.max(1),
    });
    let app = Router::new()
        .route("/callback/{provider}", any(handle))
        .layer(DefaultBodyLimit::max(settings.max_body_bytes.max(1024)))
        .with_state(state);
    let task = tokio::spawn(async move {
        let shutdown = async move {
            while !*stop.borrow() {
                if stop.changed().await.is_err() {
                    break;
                }
            }
        };
        if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(shutdown).await {
            tracing::error!(error = %e, "callback listener stopped");
        }
    });
    tracing::info!(%addr, "callback listener started");
    Ok(Running { addr, task })
}

fn refuse(status: StatusCode, text: &str) -> Response {
    (status, text.to_owned()).into_response()
}

async fn handle(
    State(state): State<Arc<Listener>>,
    Path(provider): Path<String>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(provider) = provider.parse::<ProviderId>() else {
        return refuse(StatusCode::NOT_FOUND, "unknown provider");
    };
    {
        let mut rate = state.rate.lock().unwrap_or_else(|p| p.into_inner());
        if rate.0.elapsed() >= Duration::from_secs(1) {
            *rate = (Instant::now(), 0);
        }
        rate.1 += 1;
        if rate.1 > state.per_second {
            return refuse(StatusCode::TOO_MANY_REQUESTS, "rate limited");
        }
    }
    let Ok(_permit) = state.in_flight.try_acquire() else {
        return refuse(StatusCode::SERVICE_UNAVAILABLE, "busy");
    };
    let request = CallbackRequest {
        method: method.to_string(),
        content_type: headers.get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned),
        query: query.unwrap_or_default(),
        body: body.to_vec(),
    };
    // Waits for the group commit on a oneshot: no blocking thread per callback.
    match state.engine.apply_callback_async(provider, &request).await {
        Ok(ack) => (StatusCode::OK, ack).into_response(),
        // Nothing is there to verify it: like an unknown provider name, not a fault of ours.
        Err(EngineError::NoProvider(_)) => {
            tracing::warn!(%provider, "callback for a provider that is not configured");
            refuse(StatusCode::NOT_FOUND, "unknown provider")
        }
        Err(EngineError::Callback(why)) => {
            tracing::warn!(%provider, reason = %crate::redact::text(&why), "callback refused");
            refuse(StatusCode::BAD_REQUEST, "refused")
        }
        Err(e) => {
            tracing::error!(%provider, error = %e, "callback could not be stored");
            // Not stored: no acknowledgement, the provider will retry.
            refuse(StatusCode::INTERNAL_SERVER_ERROR, "not stored")
        }
    }
}
