//! Starting the app under tauri-driver and waiting for what a user would see.

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long to wait for something to appear. First paint can take ~10 s on a cold start here.
pub const PATIENCE: Duration = Duration::from_secs(45);

pub struct App {
    pub client: Client,
    data_dir: DataDir,
    driver: Child,
    /// One app at a time: two WebKit windows on 2 cores slow each other down, and free ports picked
    /// by two tests at once could collide.
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

/// Where the app under test keeps its data.
enum DataDir {
    /// A fresh temporary directory, passed as `--data-dir` (every test of this build).
    Temp(tempfile::TempDir),
    /// The app's own default, `$XDG_DATA_HOME/topup-desk`, found by the app itself and left in place
    /// afterwards (the installed program's smoke test; its script then uninstalls and checks it).
    Default(PathBuf),
}

static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

fn tauri_driver() -> PathBuf {
    if let Ok(p) = std::env::var("TAURI_DRIVER") {
        return PathBuf::from(p);
    }
    let home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo"));
    let candidate = home.join("bin/tauri-driver");
    if candidate.exists() {
        candidate
    } else {
        PathBuf::from("tauri-driver")
    }
}

impl App {
    /// Starts the app on a fresh data directory and waits until its shell has rendered.
    pub async fn start() -> App {
        App::start_with(|_| {}).await
    }

    /// Like [`App::start`], after `setup` has prepared the data directory (e.g. seeded orders).
    pub async fn start_with(setup: impl FnOnce(&Path)) -> App {
        let data_dir = tempfile::tempdir().expect("temp dir");
        setup(data_dir.path());
        App::launch(DataDir::Temp(data_dir)).await
    }

    /// Starts another build of the app (`TOPUP_DESK_BIN`, e.g. the installed `/usr/bin/topup-desk`)
    /// the way a desktop starts it: no `--data-dir`, so it must find its default data directory,
    /// which is `$XDG_DATA_HOME/topup-desk` (the caller sets `XDG_DATA_HOME` to a directory of its own,
    /// never the real home).
    pub async fn start_installed() -> App {
        let home = std::env::var_os("XDG_DATA_HOME").expect("set XDG_DATA_HOME to a scratch directory");
        assert!(std::env::var_os("TOPUP_DESK_BIN").is_some(), "set TOPUP_DESK_BIN to the installed program");
        App::launch(DataDir::Default(PathBuf::from(home).join("topup-desk"))).await
    }

    async fn launch(data_dir: DataDir) -> App {
        assert!(
            std::env::var_os("DISPLAY").is_some(),
            "no X display: run the end-to-end tests through scripts/test.sh (it starts Xvfb)"
        );
        let turn = TURN.lock().await;
        let (port, native_port) = (free_port(), free_port());
        let mut driver = Command::new(tauri_driver());
        driver.args(["--port", &port.to_string(), "--native-port", &native_port.to_string()]);
        let args = match &data_dir {
            DataDir::Temp(dir) => {
                driver.env("TOPUP_DESK_DATA_DIR", dir.path());
                json!(["--data-dir", dir.path()])
            }
            DataDir::Default(_) => {
                driver.env_remove("TOPUP_DESK_DATA_DIR");
                json!([])
            }
        };
        let driver = driver
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tauri-driver must be installed (scripts/test.sh installs it)");
        let url = format!("http://127.0.0.1:{port}");
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("wry"));
        // TOPUP_DESK_BIN: another build of the app (e.g. the release build, for the benchmarks).
        let application =
            std::env::var("TOPUP_DESK_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_topup-desk").to_owned());
        caps.insert("tauri:options".into(), json!({ "application": application, "args": args }));
        let started = Instant::now();
        let client = loop {
            let attempt =
                ClientBuilder::new(HttpConnector::new()).capabilities(caps.clone()).connect(&url).await;
            match attempt {
                Ok(c) => break c,
                Err(e) if started.elapsed() < PATIENCE => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(e) => panic!("could not start a WebDriver session with the app: {e}"),
            }
        };
        let app = App { client, data_dir, driver, _turn: turn };
        app.wait_for("[data-testid=page-title]").await;
        app
    }

    pub fn data_path(&self) -> &Path {
        match &self.data_dir {
            DataDir::Temp(dir) => dir.path(),
            DataDir::Default(dir) => dir,
        }
    }

    /// Waits until the window marks sandbox mode and its status line names this app's order book.
    pub async fn wait_sandbox_on_own_book(&self) {
        let banner = self
            .wait_text("[data-testid=sandbox-banner]", "the sandbox banner", |t| t.contains("演示模式"))
            .await;
        assert!(banner.contains("模拟"), "{banner}");
        let expected_db = self.data_path().join("orders.sqlite3").display().to_string();
        self.wait_text("[data-testid=status-db-path]", "the order book path", |t| t.contains(&expected_db))
            .await;
    }

    /// Waits until an element matching `css` exists, and returns it.
    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(PATIENCE)
            .every(Duration::from_millis(100))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} did not appear: {e}"))
    }

    /// Waits until the text of `css` satisfies `pred`, and returns it.
    pub async fn wait_text(&self, css: &str, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        let mut last = String::new();
        while started.elapsed() < PATIENCE {
            if let Ok(text) = self.text_of(css).await {
                if pred(&text) {
                    return text;
                }
                last = text;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css}: expected {what}, last saw {last:?}");
    }

    /// The text content of the first element matching `css` (empty when there is none).
    pub async fn text_of(&self, css: &str) -> Result<String, fantoccini::error::CmdError> {
        let v = self
            .client
            .execute(
                "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;",
                vec![json!(css)],
            )
            .await?;
        Ok(v.as_str().unwrap_or_default().to_owned())
    }

    /// Types `text` into the input matching `css`.
    pub async fn type_into(&self, css: &str, text: &str) {
        let el = self.wait_for(css).await;
        el.clear().await.unwrap_or_else(|e| panic!("clear {css}: {e}"));
        el.send_keys(text).await.unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// The value of attribute `name` of the first element matching `css`.
    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        let v = self
            .client
            .execute(
                "const e = document.querySelector(arguments[0]); return e ? e.getAttribute(arguments[1]) : null;",
                vec![json!(css), json!(name)],
            )
            .await
            .ok()?;
        v.as_str().map(str::to_owned)
    }

    /// Waits until attribute `name` of `css` satisfies `pred`.
    pub async fn wait_attr(&self, css: &str, name: &str, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        let mut last = None;
        while started.elapsed() < PATIENCE {
            last = self.attr(css, name).await;
            if let Some(v) = &last {
                if pred(v) {
                    return v.clone();
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css}[{name}]: expected {what}, last saw {last:?}");
    }

    /// Opens the order book of this app's data directory (a second connection; WAL allows it).
    pub fn book(&self) -> topup_engine::book::Book {
        topup_engine::book::Book::open(&self.data_path().join("orders.sqlite3")).expect("open the order book")
    }

    pub async fn click(&self, css: &str) {
        self.wait_for(css).await.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Saves a screenshot of the window to `target/e2e-screenshots/` (for people to look at; tests do
    /// not compare pixels; the ones worth keeping are copied to docs/screenshots/ by hand).
    ///
    /// Taken from the X server (`import -window root`, the black screen around the window trimmed),
    /// not through WebDriver: what the display shows is what a user sees, and WebKitWebDriver's own
    /// snapshot can wait forever for a repaint when the page draws without accelerated compositing
    /// (the app's default, src-tauri/src/render.rs) and nothing on it changes.
    pub async fn screenshot(&self, name: &str) {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/e2e-screenshots");
        let _ = std::fs::create_dir_all(&dir);
        // Let the last change reach the screen.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let path = dir.join(format!("{name}.png"));
        let out = tokio::process::Command::new("import")
            .args(["-window", "root", "-trim", "+repage"])
            .arg(&path)
            .output();
        match tokio::time::timeout(Duration::from_secs(20), out).await {
            Ok(Ok(o)) if o.status.success() => {}
            Ok(Ok(o)) => {
                eprintln!("screenshot {name}: import failed: {}", String::from_utf8_lossy(&o.stderr))
            }
            Ok(Err(e)) => eprintln!("screenshot {name}: cannot run import (ImageMagick): {e}"),
            Err(_) => eprintln!("screenshot {name}: import timed out"),
        }
    }

    /// Closes the session and stops tauri-driver with SIGTERM (SIGKILL would leave WebKitWebDriver
    /// running with our stderr open).
    pub async fn stop(mut self) {
        let _ = self.client.clone().close().await;
        let _ = Command::new("kill").args(["-TERM", &self.driver.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.driver.try_wait() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
