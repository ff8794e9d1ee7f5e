//! `topup-desk dev-server` (feature `dev-server`), the UI's `npm run dev` backend, over real HTTP on
//! 127.0.0.1: it answers the app's commands through the app's own invoke handler and streams the
//! app's events; the real engine runs in sandbox mode on the simulator. The same run records the
//! small JSON fixtures the UI's unit tests read (`ui/src/test/fixtures/*.json`), so those cannot drift
//! from the backend: `scripts/test.sh` fails when the committed files differ from what this wrote.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_topup-desk");

struct Server {
    child: Child,
    addr: String,
    _dir: tempfile::TempDir,
    data_dir: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["dev-server", "--port", "0"])
        .env("TOPUP_DESK_KEYRING_SERVICE", format!("topup-desk-test-dev-server-{}", std::process::id()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start topup-desk dev-server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line
        .strip_prefix("dev server: http://")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    let data_dir = dir.path().display().to_string();
    Server { child, addr, _dir: dir, data_dir }
}

/// One HTTP/1.1 request; the status and the body.
fn request(addr: &str, method: &str, path: &str, host: &str, body: &str) -> (u16, String) {
    request_with(addr, method, path, host, "Content-Type: application/json\r\n", body)
}

/// One HTTP/1.1 request with these extra header lines (each ending in `\r\n`).
fn request_with(addr: &str, method: &str, path: &str, host: &str, extra: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        unchunk(body)
    } else {
        body.to_owned()
    };
    (status, body)
}

fn unchunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap();
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        body = &rest[n + 2..];
    }
    out
}

fn invoke(server: &Server, command: &str, args: Value) -> (u16, Value) {
    let (status, body) =
        request(&server.addr, "POST", &format!("/invoke/{command}"), &server.addr, &args.to_string());
    (status, serde_json::from_str(&body).unwrap_or(Value::String(body)))
}

/// Reads the event stream until an event named `name` whose data satisfies `wanted`. Fails (rather
/// than waiting forever: the stream's keep-alive comments keep a read timeout from firing) when no such
/// event came within a minute, far beyond the ~100 ms the backend takes.
fn wait_for_event(events: &mut BufReader<TcpStream>, name: &str, wanted: impl Fn(&Value) -> bool) -> Value {
    let give_up = std::time::Instant::now() + Duration::from_secs(60);
    let mut current = String::new();
    let mut line = String::new();
    loop {
        assert!(std::time::Instant::now() < give_up, "no {name} event arrived");
        line.clear();
        assert!(events.read_line(&mut line).unwrap() > 0, "the event stream ended");
        // Chunked framing lines (sizes) carry no `event:`/`data:` prefix and are skipped.
        if let Some(n) = line.strip_prefix("event: ").or_else(|| line.strip_prefix("event:")) {
            current = n.trim().to_owned();
        } else if let Some(d) = line.strip_prefix("data: ").or_else(|| line.strip_prefix("data:")) {
            let data: Value = serde_json::from_str(d.trim()).unwrap();
            if current == name && wanted(&data) {
                return data;
            }
        }
    }
}

/// Writes a fixture for the UI's unit tests, with the machine's paths replaced by stable ones.
fn record(name: &str, value: &Value, data_dir: &str) {
    let text = serde_json::to_string_pretty(value).unwrap().replace(data_dir, "/data/topup") + "\n";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src/test/fixtures").join(name);
    std::fs::write(path, text).unwrap();
}

#[test]
fn answers_commands_through_the_apps_handler_and_streams_its_events_over_http() {
    let server = start();

    // A command, with the same answer shape as in the window.
    let (status, app) = invoke(&server, "app_status", json!({}));
    assert_eq!(status, 200, "{app}");
    assert_eq!(app["sandbox"], json!(true), "nothing configured: sandbox mode on the simulator: {app}");
    assert_eq!(app["dataDir"], json!(server.data_dir));

    // A command's error is the typed `{code, zh, en}`.
    let (status, err) = invoke(&server, "set_locale", json!({"locale": "fr"}));
    assert_eq!(status, 400);
    assert_eq!(err["code"], json!("invalid_locale"), "{err}");
    assert!(err["zh"].as_str().unwrap().contains("fr") && !err["en"].as_str().unwrap().is_empty(), "{err}");

    // Only the commands of the one list; only loopback Host names.
    assert_eq!(invoke(&server, "drop_everything", json!({})).0, 404);
    assert_eq!(request(&server.addr, "POST", "/invoke/app_status", "evil.example:1430", "{}").0, 403);
    // Nor a page of another site open in the developer's browser: its Origin, or a body a form or a
    // no-cors fetch can send without a CORS preflight.
    let (addr, json) = (server.addr.as_str(), "Content-Type: application/json\r\n");
    let evil = format!("{json}Origin: https://evil.example\r\n");
    assert_eq!(request_with(addr, "POST", "/invoke/app_status", addr, &evil, "{}").0, 403);
    let vite = format!("{json}Origin: http://localhost:5173\r\n");
    assert_eq!(request_with(addr, "POST", "/invoke/app_status", addr, &vite, "{}").0, 200);
    let plain = "Content-Type: text/plain\r\n";
    assert_eq!(request_with(addr, "POST", "/invoke/app_status", addr, plain, "{}").0, 415);

    // Events: subscribe, place an order, see it arrive.
    let mut events = TcpStream::connect(&server.addr).unwrap();
    events.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(events, "GET /events HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\n\r\n", server.addr)
        .unwrap();
    let mut events = BufReader::new(events);
    let mut head = String::new();
    events.read_line(&mut head).unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");

    let input = json!({"provider": null, "kind": "phone", "account": "13812345678", "face": "50"});
    let (status, order) = invoke(&server, "add_order", json!({ "input": input }));
    assert_eq!(status, 200, "{order}");
    let id = order["id"].as_str().expect("the order id travels as a string").to_owned();
    let batch = wait_for_event(&mut events, "orders://changed", |b| b["orders"].get(&id).is_some());
    // The event carries the order's row, keyed by its string id.
    assert_eq!(batch["orders"][&id]["id"], json!(id), "{batch}");
    assert_eq!(batch["orders"][&id]["account"], json!("13812345678"), "{batch}");

    // The order reads back by its string id.
    let (status, detail) = invoke(&server, "order_detail", json!({ "id": id }));
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["order"]["account"], json!("13812345678"));

    // The reconciliation's commands are in the one list too; their refusals are typed the same way.
    let (status, runs) = invoke(&server, "reconcile_runs", json!({}));
    assert_eq!((status, runs), (200, json!([])));
    let args = json!({"runId": "1", "orderId": id, "outcome": "succeeded", "note": " "});
    let (status, err) = invoke(&server, "reconcile_resolve", args);
    assert_eq!(status, 400, "{err}");
    assert_eq!(
        (err["code"].as_str(), err["zh"].as_str(), err["en"].as_str()),
        (Some("invalid"), Some("请填写处理说明"), Some("a note is required")),
        "{err}"
    );
    let (status, err) =
        invoke(&server, "report", json!({"query": {"from": "2026-13-01", "to": null, "by": null}}));
    assert_eq!(status, 400, "{err}");
    assert_eq!(
        (err["code"].as_str(), err["zh"].as_str(), err["en"].as_str()),
        (
            Some("invalid_field"),
            Some("开始日期“2026-13-01”无效，应为 YYYY-MM-DD"),
            Some("from “2026-13-01” must be YYYY-MM-DD")
        ),
        "{err}"
    );

    // Fixtures for the UI's unit tests, recorded from this real backend.
    let (status, mut settings) = invoke(&server, "get_settings", json!({}));
    assert_eq!(status, 200, "{settings}");
    // The callback listener took a free port (port 0): any port is recorded as the same one.
    let listening = settings["callbackListening"].as_str().unwrap_or_default();
    assert!(listening.starts_with("127.0.0.1:"), "{settings}");
    settings["callbackListening"] = json!("127.0.0.1:18600");
    record("settings.json", &settings, &server.data_dir);
}
