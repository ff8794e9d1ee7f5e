//! A running Topup Desk: the order book, the keyring, the providers (or the sandbox simulator), the
//! engine loop and the callback listener, started and stopped together.
//!
//! Why one type: the window and the command line must behave identically on the same data directory,
//! so both start exactly this. Sandbox mode (演示模式) is decided here — it is on while no provider
//! account is configured, and then the built-in simulator runs in-process on 127.0.0.1.

use crate::book::Book;
use crate::config::{ConfigError, EngineSettings, Registry};
use crate::contract::{ErrorCode, Message};
use crate::run::{Engine, EngineError};
use crate::secrets::SecretStore;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    Config(#[from] ConfigError),
    Engine(#[from] EngineError),
    Book(#[from] crate::book::BookError),
    Start(String),
}

crate::coded!(SessionError);

impl SessionError {
    pub fn code(&self) -> ErrorCode {
        match self {
            SessionError::Config(e) => e.code(),
            SessionError::Engine(e) => e.code(),
            SessionError::Book(e) => e.code(),
            SessionError::Start(_) => ErrorCode::StartFailed,
        }
    }

    pub fn message(&self) -> Message {
        match self {
            SessionError::Config(e) => e.message(),
            SessionError::Engine(e) => e.message(),
            SessionError::Book(e) => e.message(),
            SessionError::Start(why) => crate::msg!("无法启动：{why}", "cannot start: {why}"),
        }
    }
}

/// What to start.
#[derive(Clone, Debug)]
pub struct SessionOptions {
    /// Run the submit/poll loop.
    pub run_engine: bool,
    /// Serve provider callbacks (when enabled in the settings).
    pub serve_callbacks: bool,
    /// Sandbox simulator: how long its orders take to settle.
    pub sandbox_settle: Duration,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            run_engine: true,
            serve_callbacks: true,
            sandbox_settle: Duration::from_millis(1500),
        }
    }
}

pub struct Session {
    pub data_dir: PathBuf,
    pub book: Arc<Book>,
    pub secrets: Arc<SecretStore>,
    pub engine: Arc<Engine>,
    pub simulator: Option<topup_sim::Simulator>,
    pub callback_addr: Option<std::net::SocketAddr>,
    /// The listener's refusal counters (for the status line), while it serves.
    pub callback_refusals: Option<Arc<crate::callbacks::Refusals>>,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Opens the order book of `data_dir`.
pub fn open_book(data_dir: &Path) -> Result<Arc<Book>, crate::book::BookError> {
    Ok(Arc::new(Book::open(&crate::paths::db_path(data_dir))?))
}

/// The keyring store, with a service name that tests can override (`TOPUP_DESK_KEYRING_SERVICE`).
pub fn secret_store() -> SecretStore {
    SecretStore::new(
        std::env::var("TOPUP_DESK_KEYRING_SERVICE")
            .unwrap_or_else(|_| crate::secrets::DEFAULT_SERVICE.to_owned()),
    )
}

impl Session {
    /// Starts everything; call from inside a tokio runtime.
    pub async fn start(
        data_dir: &Path,
        book: Arc<Book>,
        options: SessionOptions,
    ) -> Result<Session, SessionError> {
        let secrets = Arc::new(secret_store());
        let mut settings = EngineSettings::load(&book)?;
        let sandbox = !Registry::any_configured(&book)?;
        let mut simulator = None;
        let registry = if sandbox {
            let config = topup_sim::SimConfig {
                settle_after: options.sandbox_settle,
                ..topup_sim::SimConfig::sandbox()
            };
            let sim =
                topup_sim::Simulator::start(config).await.map_err(|e| SessionError::Start(e.to_string()))?;
            let registry = Registry::sandbox(&sim.base_url(), &sim.dingyin_query_base_url(), None)?;
            simulator = Some(sim);
            registry
        } else {
            Registry::configured(&book, &secrets)?
        };
        for (id, why) in &registry.unavailable {
            tracing::warn!(provider = %id, reason = %why, "provider unavailable");
        }
        let (stop, stop_rx) = watch::channel(false);
        let mut tasks = Vec::new();
        let mut callback_addr = None;
        let mut callback_refusals = None;
        // The sandbox's callbacks come to our own listener on loopback.
        let serve = options.serve_callbacks && settings.callback.enabled;
        let engine_settings_for_listener = settings.callback.clone();
        let engine = if serve {
            // The listener needs the engine and the engine needs the listener's URL (sandbox only):
            // bind first, then tell the engine.
            let listener_cfg = engine_settings_for_listener;
            let engine_tmp_settings = settings.clone();
            let engine = Engine::new(book.clone(), registry, engine_tmp_settings);
            let running = crate::callbacks::serve(engine.clone(), &listener_cfg, stop_rx.clone())
                .await
                .map_err(|e| {
                    SessionError::Start(format!(
                        "回调监听 {}:{} / callback listener: {e}",
                        listener_cfg.bind, listener_cfg.port
                    ))
                })?;
            callback_addr = Some(running.addr);
            callback_refusals = Some(running.refusals.clone());
            tasks.push(running.task);
            if let Some(sim) = &simulator {
                let local = format!("http://{}", running.addr);
                settings.callback.public_url = Some(local.clone());
                engine.set_settings(settings.clone());
                sim.set_juhe_callback_url(Some(format!("{local}/callback/juhe")));
            }
            engine
        } else {
            Engine::new(book.clone(), registry, settings.clone())
        };
        if options.run_engine {
            let e = engine.clone();
            let rx = stop_rx.clone();
            tasks.push(tokio::spawn(async move {
                if let Err(err) = e.run(rx).await {
                    tracing::error!(error = %err, "engine stopped with an error");
                }
            }));
        }
        tracing::info!(sandbox, data_dir = %data_dir.display(), "session started");
        Ok(Session {
            data_dir: data_dir.to_owned(),
            book,
            secrets,
            engine,
            simulator,
            callback_addr,
            callback_refusals,
            stop,
            tasks,
        })
    }

    pub fn sandbox(&self) -> bool {
        self.engine.sandbox()
    }

    /// Stops the loop and the listener; requests in flight are finished and stored first. The
    /// listener takes at most its shutdown grace period whatever its clients do (a half-sent request
    /// does not hold it); the loop waits for its provider requests in flight (each bounded by its
    /// timeout).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
        if let Some(sim) = self.simulator {
            sim.shutdown().await;
        }
    }
}
