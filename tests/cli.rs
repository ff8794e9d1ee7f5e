//! The command line on a real data directory, running the real `topup-desk` binary (through
//! `scripts/test.sh`, for the real keyring):
//! * provider commands: a key given to `provider set` reaches only the keyring — never SQLite, never
//!   `provider list` — and a request with a key it cannot place is refused with the field's name;
//! * order entry and import (issue 13): `order add` is the window's order check behind flags, and
//!   `import -` reads a spreadsheet or pasted chat text from standard input, with the same preview and
//!   row errors as a file (sandbox mode: nothing configured, so these need no key);
//! * a whole day headless (`cli/day.rs`): configure, settings, enter, import, run, resolve, export.

use serde_json::json;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use topup_engine::book::{Book, OrderFilter};
use topup_engine::secrets::{BookKeys, SecretStore};
use topup_engine::ProviderId;

#[path = "cli/day.rs"]
mod day;

const BIN: &str = env!("CARGO_BIN_EXE_topup-desk");

/// A keyring service of this test's own (the binary reads `TOPUP_DESK_KEYRING_SERVICE`).
fn service(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("topup-desk-test-cli-{tag}-{}-{nanos}", std::process::id())
}

/// Runs `topup-desk --data-dir dir args…` with keyring service `service` and `stdin` (none: no
/// standard input at all).
fn cli(dir: &Path, service: &str, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.arg("--data-dir")
        .arg(dir)
        .args(args)
        .env("TOPUP_DESK_KEYRING_SERVICE", service)
        .env_remove("TOPUP_DESK_FAILPOINT");
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start topup-desk");
    if let Some(bytes) = stdin {
        child.stdin.take().expect("stdin").write_all(bytes).expect("write stdin");
    }
    child.wait_with_output().expect("topup-desk output")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn stderr(out: &Output) -> String {
    text(&out.stderr)
}

// ---- provider commands ----------------------------------------------------------------------------

fn set(dir: &Path, service: &str, provider: &str, settings: &serde_json::Value) -> Output {
    cli(dir, service, &["provider", "set", provider], Some(settings.to_string().as_bytes()))
}

/// Everything `provider list` prints, as text and as JSON.
fn listed(dir: &Path, service: &str) -> String {
    let text = cli(dir, service, &["provider", "list"], None);
    let json = cli(dir, service, &["provider", "list", "--json"], None);
    assert!(text.status.success() && json.status.success());
    format!("{}{}", String::from_utf8_lossy(&text.stdout), String::from_utf8_lossy(&json.stdout))
}

/// The order book's files as bytes (the database and its write-ahead log).
fn book_bytes(dir: &Path) -> Vec<u8> {
    ["orders.sqlite3", "orders.sqlite3-wal"]
        .iter()
        .flat_map(|f| std::fs::read(dir.join(f)).unwrap_or_default())
        .collect()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn provider_set_keeps_every_key_field_out_of_sqlite_and_provider_list() {
    let dir = tempfile::tempdir().expect("temp dir");
    let service = service("set");
    let oper = json!({"base_url": "http://127.0.0.1:9", "uid": "10001"});
    let key = "oper-md5key-NEVER-IN-SQLITE";
    let with = |extra: serde_json::Value| {
        let mut s = oper.clone();
        for (k, v) in extra.as_object().expect("object") {
            s[k] = v.clone();
        }
        s
    };

    // The same key under two names is one key: saved, and neither copy is stored in the book.
    let out = set(dir.path(), &service, "oper", &with(json!({"secret": key, "md5key": key})));
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = listed(dir.path(), &service);
    assert!(shown.contains("10001") && !shown.contains(key), "{shown}");
    assert!(!contains(&book_bytes(dir.path()), key), "the key is in the order book's files");

    // Refused with the field's name, exit code 2, and nothing changes.
    for (settings, names) in [
        (with(json!({"secret": 12345})), vec!["secret"]),
        (with(json!({"secret": "oper-key-A-0001", "md5key": "oper-key-B-0002"})), vec!["secret", "md5key"]),
        (with(json!({"secret": key, "api_key": "oper-api-key-0003"})), vec!["api_key"]),
        (with(json!({"secret": key, "password": "hunter2-0004"})), vec!["password"]),
    ] {
        let out = set(dir.path(), &service, "oper", &settings);
        assert_eq!(out.status.code(), Some(2), "{settings}: {}", stderr(&out));
        for name in names {
            assert!(stderr(&out).contains(name), "{settings}: the error names {name}: {}", stderr(&out));
        }
        assert!(!String::from_utf8_lossy(&out.stdout).contains("saved"), "{settings}");
    }
    let shown = listed(dir.path(), &service);
    let bytes = book_bytes(dir.path());
    for leaked in ["oper-key-A-0001", "oper-key-B-0002", "oper-api-key-0003", "hunter2-0004", key] {
        assert!(!shown.contains(leaked) && !contains(&bytes, leaked), "{leaked}: {shown}");
    }

    // The key is in the keyring, under this book's account, unchanged by the refused requests.
    let book = Book::open(&dir.path().join("orders.sqlite3")).expect("open the book");
    let store = SecretStore::new(&service);
    let account = BookKeys::open(&book, &store).expect("book keys").account(ProviderId::Oper);
    assert_eq!(store.get(&account).expect("keyring").expect("the oper key").expose(), key);

    // juhe's own name for its key works alone, and is not stored either.
    let out = set(
        dir.path(),
        &service,
        "juhe",
        &json!({"base_url": "https://op.juhe.cn", "openid": "JH1", "AppKey": "juhe-appkey-KEYRING-ONLY"}),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!listed(dir.path(), &service).contains("juhe-appkey-KEYRING-ONLY"));
    assert!(!contains(&book_bytes(dir.path()), "juhe-appkey-KEYRING-ONLY"));
    let juhe = BookKeys::open(&book, &store).expect("book keys").account(ProviderId::Juhe);
    assert_eq!(
        store.get(&juhe).expect("keyring").expect("the juhe key").expose(),
        "juhe-appkey-KEYRING-ONLY"
    );
    for a in [account, juhe] {
        store.delete(&a).expect("clean up");
    }
}

#[test]
fn provider_list_hides_keys_an_older_version_left_in_the_book() {
    let dir = tempfile::tempdir().expect("temp dir");
    let service = service("list");
    {
        // What the old `provider set` stored when given `secret` and `md5key`: the second in plain text.
        let book = Book::open(&dir.path().join("orders.sqlite3")).expect("open the book");
        let left =
            json!({"base_url": "http://127.0.0.1:9", "uid": "10001", "md5key": "LEFT-BY-AN-OLD-VERSION"});
        book.write(|tx| tx.put_provider_settings(ProviderId::Oper, &left)).expect("write");
    }
    let shown = listed(dir.path(), &service);
    assert!(shown.contains("10001") && !shown.contains("LEFT-BY-AN-OLD-VERSION"), "{shown}");
}

// ---- order entry and import ----------------------------------------------------------------------

fn accounts(dir: &Path) -> Vec<String> {
    let book = Book::open(&dir.join("orders.sqlite3")).expect("open the order book");
    let mut a: Vec<String> =
        book.list_orders(&OrderFilter::default()).unwrap().orders.into_iter().map(|o| o.account).collect();
    a.sort();
    a
}

#[test]
fn import_dash_reads_pasted_chat_lines_from_stdin() {
    let service = service("paste");
    let dir = tempfile::tempdir().unwrap();
    let pasted = "13812345678 100\n张三 １３９-1234-5678，50元 谢谢\n\n好的老板\n";
    let out = cli(dir.path(), &service, &["import", "-", "--provider", "juhe"], Some(pasted.as_bytes()));
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("(chat)"), "read as pasted lines: {stdout}");
    assert!(stdout.contains("第 2 行：已忽略：张三、谢谢"), "{stdout}");
    assert!(stdout.contains("已导入批次"), "{stdout}");
    assert_eq!(accounts(dir.path()), ["13812345678", "13912345678"]);

    // A bad line: the same row error as a file's, nothing written, exit code 1.
    let bad = "13712345678 50\n1371234567 50\n13612345678 25\n";
    let out = cli(dir.path(), &service, &["import", "-", "--provider", "juhe"], Some(bad.as_bytes()));
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("第 2 行：“1371234567”不是 11 位、以 1 开头的手机号"), "{stdout}");
    assert!(stdout.contains("第 3 行：聚合数据不卖面值 25.00 元"), "{stdout}");
    assert!(stdout.contains("未写入任何订单"), "{stdout}");
    assert_eq!(accounts(dir.path()).len(), 2);
}

#[test]
fn import_dash_takes_a_table_or_a_workbook_on_stdin_too() {
    let service = service("stdin");
    let dir = tempfile::tempdir().unwrap();
    let csv = "手机号,面值,备注\n13512345678,10,a\n";
    let out =
        cli(dir.path(), &service, &["import", "-", "--provider", "juhe", "--dry-run"], Some(csv.as_bytes()));
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("(text)"), "a table with headings stays a table: {stdout}");
    let xls = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src-tauri/crates/engine/tests/fixtures/orders.xls"),
    )
    .expect("the xls fixture");
    let out = cli(dir.path(), &service, &["import", "-", "--provider", "juhe", "--dry-run"], Some(&xls));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("(xls"), "the bytes decide the format: {stdout}\n{}", text(&out.stderr));
    assert!(accounts(dir.path()).is_empty(), "dry runs write nothing");
}

#[test]
fn order_add_checks_like_the_window_and_names_the_flag() {
    let service = service("order");
    let dir = tempfile::tempdir().unwrap();
    let add = |args: &[&str]| {
        let mut all = vec!["order", "add"];
        all.extend_from_slice(args);
        cli(dir.path(), &service, &all, Some(b""))
    };
    let out = add(&["--provider", "juhe", "--account", "1381234567", "--face", "10"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--account（手机号）：“1381234567”不是 11 位、以 1 开头的手机号"), "{stderr}");
    // Southern Grid: the ID card's check digit (the command line used to take any text).
    let south = ["--kind", "electricity", "--account", "0301234567", "--face", "100", "--grid", "南网"];
    let out = add(&[&south[..], &["--id-card", "110105194912310021"]].concat());
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--id-card（身份证号）：身份证号“110105194912310021”的校验位不符"), "{stderr}");
    let out = add(&[&south[..], &["--mobile", "13800000000"]].concat());
    assert!(text(&out.stderr).contains("--id-card（身份证号）：缺少身份证号"), "{}", text(&out.stderr));
    assert!(accounts(dir.path()).is_empty());
    // A good order is stored, as the engine's check made it.
    let out = add(&[&south[..], &["--id-card", "11010519491231002x"]].concat());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let book = Book::open(&dir.path().join("orders.sqlite3")).unwrap();
    let o = &book.list_orders(&OrderFilter::default()).unwrap().orders[0];
    assert_eq!(o.details["electricity"]["id_card"], "11010519491231002X");
    assert_eq!(o.details["electricity"]["grid"], "south");
}

// ---- balance history, drift and statement (issue 14) ---------------------------------------------

/// `balance` keeps every read; a charge the book does not know (planted in the simulator between two
/// reads) shows in `--history` (exit code 1 while open) and in the day's `--statement`; `--confirm`
/// records that a person looked at it.
#[test]
fn balance_history_shows_a_planted_charge_until_it_is_confirmed() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let sim = rt.block_on(topup_sim::Simulator::start(topup_sim::SimConfig::sandbox())).expect("simulator");
    let dir = tempfile::tempdir().expect("temp dir");
    let service = service("balance");
    let juhe = json!({"base_url": sim.base_url(), "openid": topup_sim::SANDBOX_JUHE_OPENID,
                      "secret": topup_sim::SANDBOX_JUHE_APPKEY});
    let out = set(dir.path(), &service, "juhe", &juhe);
    assert!(out.status.success(), "{}", stderr(&out));
    let json_of = |out: &Output| -> serde_json::Value {
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)))
    };

    let out = cli(dir.path(), &service, &["balance", "--json"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json_of(&out)[0]["balanceLi"], 10_000_000);
    sim.plant_charge(&topup_sim::PlantCharge {
        provider: "juhe".into(),
        merchant_order_id: "LOSTORDER0000001".into(),
        account: "13800007001".into(),
        face_li: 50_000,
        cost_li: Some(50_100),
        state: None,
    })
    .expect("plant");
    let out = cli(dir.path(), &service, &["balance"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(text(&out.stdout).contains("juhe\t9949.9"), "{}", text(&out.stdout));

    let history = |expect: i32| {
        let out = cli(dir.path(), &service, &["balance", "--history", "--json", "--provider", "juhe"], None);
        assert_eq!(out.status.code(), Some(expect), "{}{}", text(&out.stdout), stderr(&out));
        json_of(&out)
    };
    let windows = history(1);
    let w = &windows[0];
    assert_eq!((w["verdict"].as_str(), w["unexplained"].as_i64()), (Some("drift"), Some(50_100)), "{w}");
    let read_id = w["to"]["id"].as_str().expect("read id as a string").to_owned();

    let out = cli(dir.path(), &service, &["balance", "--statement", "--json", "--provider", "juhe"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = &json_of(&out)[0];
    assert_eq!((s["opening"].as_i64(), s["closing"].as_i64()), (Some(10_000_000), Some(9_949_900)), "{s}");
    assert_eq!(
        (s["spend"].as_i64(), s["difference"].as_i64(), s["drifts"].as_i64()),
        (Some(0), Some(-50_100), Some(1))
    );
    let out = cli(dir.path(), &service, &["balance", "--statement"], None);
    assert!(
        text(&out.stdout).contains("差额/difference") && text(&out.stdout).contains("-50.10"),
        "{}",
        text(&out.stdout)
    );

    let out = cli(
        dir.path(),
        &service,
        &["balance", "--confirm", &read_id, "--note", "已联系聚合 / juhe contacted"],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(history(0)[0]["to"]["resolvedNote"], "已联系聚合 / juhe contacted");
    let out = cli(dir.path(), &service, &["balance", "--confirm", "999999"], None);
    assert_eq!(out.status.code(), Some(2), "an unknown read: {}", stderr(&out));

    let book = Book::open(&dir.path().join("orders.sqlite3")).expect("open the book");
    let store = SecretStore::new(&service);
    store
        .delete(&BookKeys::open(&book, &store).expect("book keys").account(ProviderId::Juhe))
        .expect("clean up");
    drop(sim);
}
