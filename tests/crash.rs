//! The crash suite: the real `topup-desk` binary is killed with SIGKILL at each named fault point
//! (cargo feature `failpoints`), restarted, and the money invariants are checked from the simulator's
//! record and the order book.
//!
//! The simulator runs in this test process, so its record (what was received, what was charged)
//! survives the death of the app. Each test uses a fresh data directory, configures the three
//! providers through `topup-desk provider set` (secrets into the keyring of `scripts/test.sh`), adds
//! orders through `topup-desk order add`, runs `topup-desk run --until-idle` with
//! `TOPUP_DESK_FAILPOINT` set, waits for `FAILPOINT <name>` on its stderr, kills it, restarts it
//! without the fault point, and then checks, for every order:
//!
//! * it is still in the book (nothing lost) and ends `succeeded` — no fault is scripted at the
//!   simulator, so every order can and must be completed; in particular none is left pending, failed
//!   or in manual review;
//! * the simulator holds exactly one order for it (same merchant id, same account) and charged it
//!   exactly once; no charged order is failed; the simulator holds no order the book does not know;
//! * per fault point, what the state at the moment of the kill must have been (e.g. before the intent
//!   commit no submit request has left at all).
//!
//! Run through `scripts/test.sh` (private D-Bus session with an unlocked gnome-keyring).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use topup_engine::config::EngineSettings;
use topup_sim::{OrderState as SimState, SimConfig, Simulator};

const BIN: &str = env!("CARGO_BIN_EXE_topup-desk");
/// Orders added per provider.
const PER_PROVIDER: usize = 3;
const PROVIDERS: [&str; 3] = ["dingyin", "oper", "juhe"];
/// How long to wait for the fault point to be reached.
const FAILPOINT_WAIT: Duration = Duration::from_secs(60);

fn is_submit(endpoint: &str) -> bool {
    matches!(endpoint, "/gameonlinepay.do" | "/1/api/oper/order" | "/ofpay/mobile/onlineorder")
}

fn now_ms() -> u64 {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port").local_addr().expect("addr").port()
}

fn cli(data_dir: &Path, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let mut cmd = Command::new(BIN);
    cmd.arg("--data-dir").arg(data_dir).args(args).env_remove("TOPUP_DESK_FAILPOINT");
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start topup-desk");
    if let Some(text) = stdin {
        child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("write stdin");
    }
    child.wait_with_output().expect("topup-desk output")
}

fn cli_ok(data_dir: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let out = cli(data_dir, args, stdin);
    assert!(
        out.status.success(),
        "topup-desk {args:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

/// A simulator in this process plus a data directory configured to use it.
struct Setup {
    rt: tokio::runtime::Runtime,
    sim: Option<Simulator>,
    dir: tempfile::TempDir,
    /// merchant order id → (provider, account), as `order add` printed them.
    added: BTreeMap<String, (String, String)>,
}

impl Setup {
    fn new(tag: u32) -> Setup {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let sim = rt
            .block_on(Simulator::start(SimConfig {
                settle_after: Duration::from_millis(300),
                callback_retry_delay: Duration::from_millis(200),
                ..SimConfig::sandbox()
            }))
            .expect("simulator");
        let dir = tempfile::tempdir().expect("temp dir");
        let base = sim.base_url();
        let port = free_port();
        let public_url = format!("http://127.0.0.1:{port}");
        sim.set_juhe_callback_url(Some(format!("{public_url}/callback/juhe")));

        let providers = [
            (
                "dingyin",
                serde_json::json!({"base_url": base, "query_base_url": sim.dingyin_query_base_url(),
                    "userid": topup_sim::SANDBOX_DINGYIN_USERID, "concurrency": 8,
                    "requests_per_second": 100, "timeout_ms": 5000, "connect_timeout_ms": 2000,
                    "secret": topup_sim::SANDBOX_DINGYIN_KEY}),
            ),
            (
                "oper",
                serde_json::json!({"base_url": base, "uid": topup_sim::SANDBOX_OPER_UID,
                    "notify_url": format!("{public_url}/callback/oper"), "concurrency": 8,
                    "requests_per_second": 100, "timeout_ms": 5000, "connect_timeout_ms": 2000,
                    "secret": topup_sim::SANDBOX_OPER_MD5KEY}),
            ),
            (
                "juhe",
                serde_json::json!({"base_url": base, "openid": topup_sim::SANDBOX_JUHE_OPENID,
                    "concurrency": 8, "requests_per_second": 100, "timeout_ms": 5000,
                    "connect_timeout_ms": 2000, "secret": topup_sim::SANDBOX_JUHE_APPKEY}),
            ),
        ];
        for (name, settings) in &providers {
            cli_ok(dir.path(), &["provider", "set", name], Some(&settings.to_string()));
        }

        // Short delays so that a run takes seconds; the callback listener on a known port.
        {
            let book = topup_engine::session::open_book(dir.path()).expect("open book");
            let mut settings = EngineSettings::load(&book).expect("load settings");
            settings.query_delays_ms = vec![200, 300, 500];
            settings.retry_delay_ms = 200;
            settings.resend_after_not_found_ms = 300;
            settings.callback.enabled = true;
            settings.callback.port = port;
            settings.callback.public_url = Some(public_url.clone());
            settings.save(&book).expect("save settings");
        }

        let mut added = BTreeMap::new();
        for (p, provider) in PROVIDERS.iter().enumerate() {
            for i in 0..PER_PROVIDER {
                // A distinct China Mobile number per order (and per test), so that the simulator's
                // record can be matched by account as well as by merchant id.
                let account = format!("1380{tag:03}{p}{i:03}");
                let id = cli_ok(
                    dir.path(),
                    &["order", "add", "--provider", provider, "--account", &account, "--face", "10"],
                    None,
                )
                .trim()
                .to_owned();
                assert!(!id.is_empty(), "order add printed the merchant order id");
                added.insert(id, ((*provider).to_owned(), account));
            }
        }
        Setup { rt, sim: Some(sim), dir, added }
    }

    fn sim(&self) -> &Simulator {
        self.sim.as_ref().expect("simulator running")
    }

    /// The order book's view, through `topup-desk orders --json`.
    fn book_orders(&self) -> Vec<serde_json::Value> {
        let out = cli_ok(self.dir.path(), &["orders", "--json", "--limit", "10000"], None);
        serde_json::from_str::<Vec<serde_json::Value>>(&out).expect("orders --json is a JSON array")
    }

    fn book_states(&self) -> BTreeMap<String, String> {
        self.book_orders()
            .iter()
            .map(|o| {
                (
                    o["merchantOrderId"].as_str().expect("merchantOrderId").to_owned(),
                    o["state"].as_str().expect("state").to_owned(),
                )
            })
            .collect()
    }

    /// Submit requests the simulator received so far, by merchant order id.
    fn submits(&self) -> BTreeMap<String, usize> {
        let mut n = BTreeMap::new();
        for r in self.sim().requests() {
            if is_submit(&r.endpoint) {
                *n.entry(r.merchant_order_id.unwrap_or_default()).or_insert(0) += 1;
            }
        }
        n
    }

    /// The callback events in an order's history (`order show --json`).
    fn callback_events(&self, id: &str) -> Vec<serde_json::Value> {
        let out = cli_ok(self.dir.path(), &["order", "show", id, "--json"], None);
        let v: serde_json::Value = serde_json::from_str(&out).expect("order show --json");
        v["events"].as_array().expect("events").iter().filter(|e| e["kind"] == "callback").cloned().collect()
    }

    /// Runs `run --until-idle` with the fault point armed; returns once the process has printed
    /// `FAILPOINT <name>` and was killed with SIGKILL.
    fn run_until_failpoint(&self, name: &str) {
        let mut child = Command::new(BIN)
            .arg("--data-dir")
            .arg(self.dir.path())
            .args(["run", "--until-idle", "--timeout", "60"])
            .env("TOPUP_DESK_FAILPOINT", name)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start topup-desk run");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let wanted = format!("FAILPOINT {name}");
        let deadline = std::time::Instant::now() + FAILPOINT_WAIT;
        let mut seen = Vec::new();
        let mut reached = false;
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            match rx.recv_timeout(left) {
                Ok(line) if line.trim() == wanted => {
                    reached = true;
                    break;
                }
                Ok(line) => seen.push(line),
                // Timed out, or the process closed stderr (it exited without reaching the point).
                Err(_) => break,
            }
        }
        let pid = child.id().to_string();
        let killed = Command::new("kill").args(["-KILL", &pid]).status().expect("run kill");
        let status = child.wait().expect("wait for the killed process");
        let _ = reader.join();
        assert!(reached, "fault point {name} was not reached; exit {status:?}; stderr: {seen:#?}");
        assert!(killed.success(), "kill -KILL {pid} failed");
        assert!(status.code().is_none(), "the process died of SIGKILL, not by exiting: {status:?}");
        self.wait_for_quiet_simulator();
    }

    /// Waits until the simulator has received nothing new for 300 ms. Why: the engine's other tasks keep
    /// running between the fault point and the kill, and a request the dead process had already written
    /// to its socket still reaches the simulator a moment later; it must not count as a request made
    /// after the restart (`assert_recovery_queried_first`).
    fn wait_for_quiet_simulator(&self) {
        let mut seen = self.sim().requests().len();
        loop {
            std::thread::sleep(std::time::Duration::from_millis(300));
            let now = self.sim().requests().len();
            if now == seen {
                return;
            }
            seen = now;
        }
    }

    /// Restarts without the fault point and waits until idle (bounded by `--timeout`).
    fn restart(&self) {
        let out = cli(self.dir.path(), &["run", "--until-idle", "--timeout", "60"], None);
        assert_eq!(
            out.status.code(),
            Some(0),
            "restart must finish every order: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Recovery asks the provider before sending again: for each interrupted order, the first request
    /// the simulator received after the restart began is a query, not a submit.
    fn assert_recovery_queried_first(&self, interrupted: &[String], restarted_at: u64) {
        let requests = self.sim().requests();
        for id in interrupted {
            let first = requests
                .iter()
                .filter(|r| r.at_unix_ms >= restarted_at)
                .find(|r| r.merchant_order_id.as_deref() == Some(id.as_str()))
                .expect("the interrupted order was handled after the restart");
            assert!(
                !is_submit(&first.endpoint),
                "{id}: first request after restart must be a query: {first:?}"
            );
        }
    }

    /// The invariants that hold after every crash and restart.
    fn check_invariants(&self) {
        let book = self.book_orders();
        let sim_orders = self.sim().orders();
        let mut book_ids = BTreeSet::new();
        for o in &book {
            let id = o["merchantOrderId"].as_str().expect("merchantOrderId").to_owned();
            let provider = o["provider"].as_str().expect("provider").to_owned();
            let state = o["state"].as_str().expect("state").to_owned();
            let charges = self.sim().charges(&provider, &id);
            // Charged at most once.
            assert!(charges <= 1, "{id} charged {charges} times");
            let sim = sim_orders.iter().find(|s| s.merchant_order_id == id && s.provider == provider);
            let charged_and_kept = sim.is_some_and(|s| s.charged_li > 0 && !s.refunded);
            // No charged order failed.
            assert!(!(charged_and_kept && state == "failed"), "{id} was charged but is failed in the book");
            // Every charged order ends succeeded (none settles as failed here).
            if charges > 0 {
                assert_eq!(state, "succeeded", "{id} was charged; the book says {state}");
                assert_eq!(sim.map(|s| s.state), Some(SimState::Succeeded), "{id} at the simulator");
            }
            book_ids.insert(id);
        }
        // No order lost: every added order is still in the book, ends succeeded, and was charged
        // exactly once for its own account; nothing was placed under an id the book does not know.
        assert_eq!(book.len(), self.added.len(), "the book holds exactly the orders added");
        for (id, (provider, account)) in &self.added {
            assert!(book_ids.contains(id), "order {id} lost from the book");
            let state = book
                .iter()
                .find(|o| o["merchantOrderId"] == id.as_str())
                .and_then(|o| o["state"].as_str())
                .unwrap_or_default();
            assert_eq!(state, "succeeded", "{id} ({provider}) must end succeeded, is {state}");
            assert_eq!(self.sim().charges(provider, id), 1, "{id} charged exactly once");
            let for_account: Vec<_> = sim_orders.iter().filter(|s| &s.account == account).collect();
            assert_eq!(for_account.len(), 1, "one simulator order for account {account}: {for_account:?}");
        }
        for s in &sim_orders {
            assert!(book_ids.contains(&s.merchant_order_id), "simulator holds unknown order {s:?}");
        }
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        if let Some(sim) = self.sim.take() {
            self.rt.block_on(sim.shutdown());
        }
    }
}

#[test]
fn killed_before_intent_commit_nothing_was_sent() {
    let s = Setup::new(1);
    s.run_until_failpoint("before_intent_commit");
    // The point is before the `submitting` commit, and every submit passes it: at the kill, no order
    // has left the `new` state and no submit request has reached the simulator.
    let states = s.book_states();
    assert!(states.values().all(|st| st == "new"), "all orders still new at the kill: {states:?}");
    assert!(s.submits().is_empty(), "nothing sent before the intent commit: {:?}", s.submits());
    assert!(s.sim().orders().is_empty(), "nothing placed");
    s.restart();
    s.check_invariants();
}

#[test]
fn killed_after_intent_commit_is_recovered_by_query_not_blind_resend() {
    let s = Setup::new(2);
    s.run_until_failpoint("after_intent_commit");
    let states = s.book_states();
    let submits = s.submits();
    let interrupted: Vec<_> = states.iter().filter(|(_, st)| *st == "submitting").map(|(id, _)| id).collect();
    assert!(!interrupted.is_empty(), "an order was committed as submitting: {states:?}");
    for id in &interrupted {
        assert!(!submits.contains_key(*id), "{id} was killed after its intent, before its send");
    }
    let interrupted: Vec<String> = interrupted.into_iter().cloned().collect();
    let restarted_at = now_ms();
    s.restart();
    s.check_invariants();
    s.assert_recovery_queried_first(&interrupted, restarted_at);
}

#[test]
fn killed_after_send_before_store_is_charged_once() {
    let s = Setup::new(3);
    s.run_until_failpoint("after_send_before_store");
    let states = s.book_states();
    let submits = s.submits();
    let interrupted: Vec<String> =
        states.iter().filter(|(_, st)| *st == "submitting").map(|(id, _)| id.clone()).collect();
    assert!(!interrupted.is_empty(), "an order was sent and its reply not stored: {states:?}");
    assert!(
        interrupted.iter().any(|id| submits.contains_key(id)),
        "at least one interrupted order reached the simulator: {submits:?}"
    );
    let restarted_at = now_ms();
    s.restart();
    s.check_invariants();
    s.assert_recovery_queried_first(&interrupted, restarted_at);
}

#[test]
fn killed_after_callback_store_before_ack_is_idempotent() {
    let s = Setup::new(4);
    s.run_until_failpoint("after_callback_store_before_ack");
    // The callback was committed before the kill: some order's history holds it.
    let at_kill = s.book_states();
    let with_callback: Vec<&String> = at_kill.keys().filter(|id| !s.callback_events(id).is_empty()).collect();
    assert!(!with_callback.is_empty(), "a callback was stored before its acknowledgement");
    s.restart();
    s.check_invariants();
    // Whatever was final at the kill stayed so (a repeated callback changes nothing).
    let after = s.book_states();
    for (id, st) in at_kill.iter().filter(|(_, st)| *st == "succeeded" || *st == "failed") {
        assert_eq!(after.get(id), Some(st), "{id} final state kept");
    }
}
