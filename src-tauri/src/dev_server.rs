//! `topup-desk dev-server` (cargo feature `dev-server`; never in a release bundle): the backend of the
//! UI's `npm run dev` in a plain browser, so that the UI is developed against the real engine instead
//! of a second one written in TypeScript.
//!
//! Why it cannot drift: it is the app itself on Tauri's mock runtime. The same [`crate::app_builder`]
//! (state, plugins, and the invoke handler built from the one command list in
//! [`crate::cmd::for_each_command`]) answers each request through Tauri's own IPC path, argument
//! parsing included; the same [`crate::events`] forwarding emits the events, which are relayed as
//! they are. With no provider configured the engine runs in sandbox mode on the built-in simulator,
//! as the window's 演示模式 does; the data lives in its own directory (`--data-dir`, else a
//! `topup-desk-dev` folder in the system's temporary directory), never in the user's.
//!
//! Wire (see `ui/src/lib/backend/http.ts`): `POST /invoke/<command>` with the arguments as a JSON
//! object answers 200 with the result, or 400 with the command's error (`{code, zh, en}`) or Tauri's
//! text; an unknown command is 404. `GET /events` is a Server-Sent Events stream, one SSE event per
//! backend event, named as in Tauri, its data the JSON payload. It listens on 127.0.0.1 only and
//! answers only requests whose `Host` is a loopback name (a page elsewhere cannot reach it by DNS
//! rebinding), whose `Origin`, when a browser sends one, is loopback too, and (commands) whose body is
//! `application/json` (415 otherwise), so a web page open in the developer's browser cannot drive it.

use crate::cmd;
use crate::events::FrontendEvent;
use axum::extract::{Path, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::convert::Infallible;
use std::process::ExitCode;
use tauri::ipc::{CallbackFn, InvokeBody, InvokeResponseBody};
use tauri::test::{mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{Listener, WebviewWindow};
use tokio::sync::broadcast;

/// The port `ui/vite.config.ts` proxies `/__topup` to.
pub const DEFAULT_PORT: u16 = 1430;

#[derive(clap::Args, Debug)]
pub struct DevServerArgs {
    /// 端口（0 = 任选空闲端口） / port on 127.0.0.1 (0 picks a free one)
    #[arg(long, default_value_t = DEFAULT_PORT)]
    pub port: u16,
}

pub fn run(args: DevServerArgs, data_dir: Option<&std::path::Path>) -> ExitCode {
    let dir = data_dir
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| std::env::temp_dir().join("topup-desk-dev"));
    let (state, _log) = match crate::state::AppState::open(Some(&dir)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let (app, webview) = match mock_app(state) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("无法启动开发服务 / cannot start the dev server: {e}");
            return ExitCode::from(1);
        }
    };
    let result = tauri::async_runtime::block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await?;
        println!("dev server: http://{} (data: {})", listener.local_addr()?, dir.display());
        serve(listener, &app, webview).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("开发服务失败 / the dev server failed: {e}");
            ExitCode::from(1)
        }
    }
}

/// The app on the mock runtime, with its one webview (the IPC requests come "from" it) and the
/// engine's events being forwarded (the window's `setup` does this when its event loop starts; the
/// mock app has no event loop).
fn mock_app(
    state: crate::state::AppState,
) -> tauri::Result<(tauri::App<MockRuntime>, WebviewWindow<MockRuntime>)> {
    let app = crate::app_builder(mock_builder(), state).build(mock_context(noop_assets()))?;
    let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build()?;
    crate::events::start(app.handle().clone());
    Ok((app, webview))
}

#[derive(Clone)]
struct Shared {
    webview: WebviewWindow<MockRuntime>,
    events: broadcast::Sender<(&'static str, String)>,
}

async fn serve(
    listener: tokio::net::TcpListener,
    app: &tauri::App<MockRuntime>,
    webview: WebviewWindow<MockRuntime>,
) -> std::io::Result<()> {
    let (events, _) = broadcast::channel(256);
    for event in FrontendEvent::ALL {
        let tx = events.clone();
        let name = event.name();
        app.listen_any(name, move |e| {
            let _ = tx.send((name, e.payload().to_owned()));
        });
    }
    let router = Router::new()
        .route("/invoke/{command}", post(invoke))
        .route("/events", get(stream))
        .layer(middleware::from_fn(loopback_host_only))
        .with_state(Shared { webview, events });
    axum::serve(listener, router).await
}

/// A loopback name, with or without a port: `127.0.0.1:1430`, `localhost`, `[::1]:5173`.
fn is_loopback(host: &str) -> bool {
    let name = host.rsplit_once(':').filter(|(_, port)| !port.ends_with(']')).map_or(host, |(name, _)| name);
    matches!(name, "127.0.0.1" | "localhost" | "[::1]")
}

/// Only loopback `Host` names (no DNS rebinding), and no page of another site: a browser sends its
/// `Origin` with every cross-site request, and a form or a `no-cors` fetch from any web page the
/// developer has open could otherwise drive the commands. The Vite dev server's own origin is loopback.
async fn loopback_host_only(request: Request, next: Next) -> Response {
    let allowed = {
        let headers = request.headers();
        let text = |name| headers.get(name).and_then(|h| h.to_str().ok());
        let origin_ok = text(header::ORIGIN).is_none_or(|origin| {
            origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"))
                .is_some_and(is_loopback)
        });
        is_loopback(text(header::HOST).unwrap_or("")) && origin_ok
    };
    if allowed {
        next.run(request).await
    } else {
        (StatusCode::FORBIDDEN, "loopback only").into_response()
    }
}

/// One command, through Tauri's IPC exactly as the window sends it.
async fn invoke(
    State(shared): State<Shared>,
    Path(command): Path<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    // JSON only: a browser sends `application/json` across sites only after a CORS preflight, which
    // this server never grants; a plain form or `text/plain` body is refused.
    let json_body = headers.get(header::CONTENT_TYPE).and_then(|h| h.to_str().ok()).is_some_and(|t| {
        t.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
    });
    if !json_body {
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, "send application/json").into_response();
    }
    if !cmd::NAMES.contains(&command.as_str()) {
        return (StatusCode::NOT_FOUND, format!("no command {command}")).into_response();
    }
    let args: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("arguments are not JSON: {e}")).into_response(),
    };
    let request = InvokeRequest {
        cmd: command,
        callback: CallbackFn(0),
        error: CallbackFn(1),
        // The window's own origin (local to the app, as the window's pages are).
        url: "tauri://localhost".parse().expect("a valid URL"),
        body: InvokeBody::Json(args),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_owned(),
    };
    // Waits for the command's answer on a blocking thread; the command itself runs on Tauri's runtime.
    let webview = shared.webview.clone();
    let answer = tokio::task::spawn_blocking(move || tauri::test::get_ipc_response(&webview, request)).await;
    let json =
        |status: StatusCode, body: String| (status, [(header::CONTENT_TYPE, "application/json")], body);
    match answer {
        Ok(Ok(InvokeResponseBody::Json(text))) => json(StatusCode::OK, text).into_response(),
        Ok(Ok(InvokeResponseBody::Raw(bytes))) => (StatusCode::OK, bytes).into_response(),
        Ok(Err(error)) => json(StatusCode::BAD_REQUEST, error.to_string()).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// Every backend event, as it is emitted, for as long as the client stays.
async fn stream(
    State(shared): State<Shared>,
) -> Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>> {
    let rx = shared.events.subscribe();
    let events = futures_util::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok((name, data)) => return Some((Ok(Event::default().event(name).data(data)), rx)),
                // A slow client misses events, as a lagging window does; the UI re-reads on the next one.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}
