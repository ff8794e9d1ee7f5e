//! A whole day headless, through the real `topup-desk` binary only (issue 13: the command line does
//! everything the window does): configure a provider against the simulator on 127.0.0.1, change
//! engine settings (and have bad ones refused as the settings screen refuses them), enter an order,
//! import pasted lines, run until every order is final or waits for a person, resolve that one,
//! export — each step's `--json` parsed and its effect checked.

use super::{cli, service, stderr, text};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;
use topup_sim::{Fault, Script, SimConfig, Simulator, Target};

fn json_of(out: &Output) -> Value {
    assert!(out.status.success(), "exit {:?}: {}\n{}", out.status.code(), text(&out.stdout), stderr(out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(&out.stdout)))
}

struct Desk {
    dir: PathBuf,
    service: String,
}

impl Desk {
    fn run(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        cli(&self.dir, &self.service, args, stdin)
    }

    fn json(&self, args: &[&str], stdin: Option<&[u8]>) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        json_of(&self.run(&all, stdin))
    }

    fn set(&self, key: &str, value: &str) -> Value {
        self.json(&["settings", "set", key, value], None)
    }

    /// Refused with exit code 2, the message naming `key`; with `--json` the error as JSON on stdout.
    fn refused(&self, key: &str, value: &str) {
        let out = self.run(&["settings", "set", key, value, "--json"], None);
        assert_eq!(out.status.code(), Some(2), "{key}={value}: {}", stderr(&out));
        assert!(stderr(&out).contains(key), "{key}={value}: the error names the key: {}", stderr(&out));
        let error: Value = serde_json::from_slice(&out.stdout).expect("the error as JSON");
        assert_eq!(error["error"]["code"], "invalid_setting", "{error}");
    }

    fn orders(&self) -> Vec<Value> {
        self.json(&["orders"], None).as_array().expect("an array of orders").clone()
    }
}

fn state_of(orders: &[Value], account: &str) -> String {
    let o =
        orders.iter().find(|o| o["account"] == account).unwrap_or_else(|| panic!("no order for {account}"));
    o["state"].as_str().expect("state").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_day_headless_configure_settings_enter_import_run_resolve_export() {
    let sim =
        Simulator::start(SimConfig { settle_after: Duration::from_millis(200), ..SimConfig::sandbox() })
            .await
            .expect("start the simulator");
    // This number's order is accepted and never settles: it ends waiting for a person.
    sim.script(Script {
        target: Target::Account("13712345678".into()),
        fault: Fault::PendingForever,
        times: None,
    });
    // This one settles as failed.
    sim.script(Script {
        target: Target::Account("13912345678".into()),
        fault: Fault::SettleFailed,
        times: None,
    });
    let base_url = sim.base_url();
    let dir = tempfile::tempdir().expect("temp dir");
    let desk = Desk { dir: dir.path().to_path_buf(), service: service("day") };

    // Blocking work (the binary) off the runtime's workers that serve the simulator.
    let day = tokio::task::spawn_blocking(move || {
        let _dir = dir; // kept until the day is over
                        // Configure: juhe against the simulator; the book leaves sandbox mode.
        let settings = serde_json::json!({
            "base_url": base_url,
            "openid": topup_sim::SANDBOX_JUHE_OPENID,
            "secret": topup_sim::SANDBOX_JUHE_APPKEY,
        });
        let saved = desk.json(&["provider", "set", "juhe"], Some(settings.to_string().as_bytes()));
        assert_eq!(saved["provider"], "juhe");
        let listed = desk.json(&["provider", "list"], None);
        assert_eq!(listed[0]["provider"], "juhe");
        assert!(!listed.to_string().contains(topup_sim::SANDBOX_JUHE_APPKEY), "no key listed: {listed}");

        // Settings: every engine setting by dotted key, checked as the settings screen checks them.
        assert_eq!(desk.set("callback.enabled", "false")["value"], false);
        assert_eq!(desk.set("query_delays_ms", "[300]")["value"], serde_json::json!([300]));
        assert_eq!(desk.set("manual_review_after_ms", "3000")["value"], 3000);
        assert_eq!(desk.set("routing.phone", "juhe")["value"], "juhe");
        assert_eq!(desk.set("low_balance.juhe", "1000")["value"], 1000);
        desk.refused("routing.electricity", "juhe"); // juhe sells phone top-ups only
        desk.refused("fallback.juhe", "juhe");
        desk.refused("callback.prot", "8080"); // no such setting
        desk.refused("callback.port", "not-a-port");
        desk.refused("low_balance.juhe", "-5");
        let all = desk.json(&["settings", "get"], None);
        assert_eq!(all["callback"]["enabled"], false);
        assert_eq!(all["routing"], serde_json::json!({"phone": "juhe"}));
        assert_eq!(all["manual_review_after_ms"], 3000);
        assert_eq!(desk.json(&["settings", "get", "callback.port"], None), 0);
        let listing = text(&desk.run(&["settings", "get"], None).stdout);
        assert!(
            listing.contains("callback.enabled\tfalse") && listing.contains("routing.phone\t\"juhe\""),
            "{listing}"
        );
        assert_eq!(desk.set("low_balance.juhe", "null")["value"], Value::Null);

        // Enter one order: the provider comes from the engine's routing.
        let checked = desk.json(&["order", "check", "--account", "138 1234 5678", "--face", "50"], None);
        assert_eq!(checked["provider"], "juhe");
        assert_eq!(checked["problems"], serde_json::json!([]));
        let order = desk.json(&["order", "add", "--account", "138 1234 5678", "--face", "50"], None);
        assert_eq!((order["provider"].as_str(), order["state"].as_str()), (Some("juhe"), Some("new")));
        assert_eq!(order["account"], "13812345678");

        // Import pasted lines from a chat, without naming the provider.
        let pasted = "13912345678 100\n张三 13712345678 30元\n";
        let imported = desk.json(&["import", "-"], Some(pasted.as_bytes()));
        assert_eq!(imported["preview"]["provider"], "juhe");
        assert_eq!(imported["committed"]["orders"], 2);

        // Run until nothing is pending: one succeeds, one fails, one waits for a person.
        let counts = desk.json(&["run", "--until-idle", "--timeout", "120"], None);
        assert_eq!((counts["succeeded"].as_i64(), counts["failed"].as_i64()), (Some(1), Some(1)), "{counts}");
        assert_eq!(counts["manualReview"].as_i64(), Some(1), "{counts}");
        let orders = desk.orders();
        assert_eq!(state_of(&orders, "13812345678"), "succeeded");
        assert_eq!(state_of(&orders, "13912345678"), "failed");
        assert_eq!(state_of(&orders, "13712345678"), "manual_review");

        // Resolve the one waiting for a person (the provider says it never settled: failed).
        let waiting = desk.json(&["orders", "--attention"], None);
        let waiting = waiting.as_array().expect("orders");
        assert_eq!(waiting.len(), 1, "{waiting:?}");
        let id = waiting[0]["merchantOrderId"].as_str().expect("id");
        let out = desk.run(&["order", "resolve", id, "--as", "done", "--note", "x"], None);
        assert_eq!(out.status.code(), Some(2), "an outcome that is neither: {}", stderr(&out));
        let resolved =
            desk.json(&["order", "resolve", id, "--as", "failed", "--note", "上游确认未到账"], None);
        assert_eq!(resolved["state"], "failed");
        let detail = desk.json(&["order", "show", id], None);
        assert!(detail["events"].to_string().contains("上游确认未到账"), "{detail}");
        assert!(desk.json(&["orders", "--attention"], None).as_array().expect("orders").is_empty());

        // Balance and today's figures, as the balances screen shows them.
        let balances = desk.json(&["balance"], None);
        assert_eq!(balances[0]["provider"], "juhe");
        assert!(balances[0]["balance"].as_i64().is_some_and(|b| b > 0), "{balances}");
        let stats = desk.json(&["stats"], None);
        assert_eq!(stats["counts"]["succeeded"], 1, "{stats}");

        // Export: the file holds every order of the day with its state.
        let out_path = desk.dir.join("导出").join("day.csv");
        let exported = desk.json(&["export", "--out", out_path.to_str().expect("utf-8 path")], None);
        assert_eq!(exported["rows"], 3);
        let csv = std::fs::read(&out_path).expect("the export");
        let csv = String::from_utf8_lossy(&csv);
        for account in ["13812345678", "13912345678", "13712345678"] {
            assert!(csv.contains(account), "{account} in {csv}");
        }
        assert!(csv.contains("成功") && csv.contains("失败"), "{csv}");
        let paths = desk.json(&["paths"], None);
        assert!(paths["order_book"].as_str().is_some_and(|p| p.ends_with("orders.sqlite3")), "{paths}");
        // Clean up this test's keyring entry.
        let out = desk.run(&["provider", "remove", "juhe"], None);
        assert!(out.status.success(), "{}", stderr(&out));
    });
    day.await.expect("the day");
    sim.shutdown().await;
}
