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
use topup_engine::run::stuck::{default_rules, StuckProduct, StuckRule};
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
    assert!(o.details.get("speed").is_none(), "fast unless said");
    // 慢充: a slow electricity top-up, another product for the stuck-order rules.
    let out = add(&[
        "--kind",
        "electricity",
        "--account",
        "0301234568",
        "--face",
        "100",
        "--grid",
        "南网",
        "--id-card",
        "11010519491231002x",
        "--speed",
        "慢充",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let orders = book.list_orders(&OrderFilter::default()).unwrap().orders;
    let slow = orders.iter().find(|o| o.account == "0301234568").unwrap();
    assert_eq!(slow.details["speed"], "slow");
}

// ---- sale price and reports (issue 14) -----------------------------------------------------------

/// `cli` in a given time zone (the report's days are local days).
fn cli_in(tz: &str, dir: &Path, service: &str, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env("TOPUP_DESK_KEYRING_SERVICE", service)
        .env("TZ", tz)
        .env_remove("TOPUP_DESK_FAILPOINT")
        .stdin(Stdio::null())
        .output()
        .expect("run topup-desk")
}

/// Today in Beijing time (UTC+8, no daylight saving), `YYYY-MM-DD`, computed from the clock alone.
fn beijing_today() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let days = (secs + 8 * 3600).div_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `order add --sale/--customer` stores what the customer paid; after `run` settles the orders in the
/// sandbox, `report --json` shows today's (Beijing) figures by customer and `report --xlsx` writes one
/// sheet per view with the same figures (read back with calamine, through the importer's reader).
#[test]
fn order_add_with_a_sale_then_report_as_json_and_xlsx() {
    let service = service("report");
    let dir = tempfile::tempdir().unwrap();
    let tz = "Asia/Shanghai";
    let add = |args: &[&str]| {
        let mut all = vec!["order", "add", "--provider", "juhe", "--json"];
        all.extend_from_slice(args);
        cli_in(tz, dir.path(), &service, &all)
    };
    let out = add(&["--account", "13800138001", "--face", "100", "--sale", "101.5", "--customer", "张三"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let order: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((order["sale"].as_i64(), order["saleSource"].as_str()), (Some(101_500), Some("cli")));
    let out = add(&["--account", "13800138002", "--face", "50"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let order: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(order["sale"].is_null() && order["profit"].is_null(), "unknown, not 0: {order}");
    let out = add(&["--account", "13800138003", "--face", "50", "--sale", "abc"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--sale（售价）") && stderr(&out).contains("--sale (sale price)"),
        "{}",
        stderr(&out)
    );

    let run = cli_in(tz, dir.path(), &service, &["run", "--until-idle", "--timeout", "90"]);
    assert!(run.status.success(), "{}", stderr(&run));

    let today = beijing_today();
    let out = cli_in(tz, dir.path(), &service, &["report", "--by", "customer", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["to"].as_str(), Some(today.as_str()), "{r}");
    assert_eq!(r["by"], "customer");
    let total = &r["total"];
    assert_eq!((total["orders"].as_i64(), total["succeeded"].as_i64()), (Some(2), Some(2)), "{r}");
    let rows = r["rows"].as_array().unwrap();
    let zhang = rows.iter().find(|l| l["key"] == "张三").expect("张三's row");
    let cost = zhang["cost"].as_i64().expect("the simulator's price");
    assert_eq!(zhang["sales"].as_i64(), Some(101_500));
    assert_eq!(zhang["profit"].as_i64(), Some(101_500 - cost));
    let nobody = rows.iter().find(|l| l["key"] == "").expect("the row without a customer");
    assert!(nobody["sales"].is_null() && nobody["profit"].is_null(), "{nobody}");
    assert_eq!(total["profit"].as_i64(), Some(101_500 - cost), "the known profit; one order left out");
    assert_eq!(total["profitUnknown"].as_i64(), Some(1));

    let file = dir.path().join("报表").join("今天.xlsx");
    let args = ["report", "--from", &today, "--to", &today, "--xlsx", file.to_str().unwrap()];
    let out = cli_in(tz, dir.path(), &service, &args);
    assert!(out.status.success(), "{}", stderr(&out));
    let source = topup_engine::import::SourceFile::open(&file).unwrap();
    let names: Vec<String> = source.sheets().unwrap().into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["按日", "按供应商", "按批次", "按客户", "日对账单"]);
    let sheet = source.read_sheet(Some("按客户")).unwrap();
    let cells: Vec<Vec<String>> =
        sheet.grid.cells.iter().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
    let heading = &cells[0];
    let col = |h: &str| heading.iter().position(|x| x == h).unwrap();
    let zhang = cells.iter().find(|r| r[0] == "张三").expect("张三 in the sheet");
    assert_eq!(zhang[col("销售额")], "101.50");
    assert_eq!(zhang[col("利润")], topup_engine::Li(101_500 - cost).to_string());
    let nobody = cells.iter().find(|r| r[0].starts_with("未填客户")).expect("no customer");
    assert_eq!(nobody[col("利润")], "—");
    let day = source.read_sheet(Some("按日")).unwrap();
    assert_eq!(day.grid.cells[1][0].to_string(), today, "the day is Beijing's");

    let out = cli_in(tz, dir.path(), &service, &["report", "--by", "week"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("分组") && stderr(&out).contains("grouping"), "{}", stderr(&out));
}

// ---- stuck-order rules (issue 14.5) -----------------------------------------------------------------

/// The rules as `rules list --json` prints them.
fn rules_listed(dir: &Path, service: &str) -> Vec<StuckRule> {
    let out = cli(dir, service, &["rules", "list", "--json"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("the rules as json")
}

#[test]
fn rules_are_listed_set_checked_removed_and_reset_and_orders_lists_the_overdue() {
    let dir = tempfile::tempdir().unwrap();
    let svc = service("rules");
    let defaults = rules_listed(dir.path(), &svc);
    assert_eq!(defaults, default_rules());
    assert!(defaults.contains(&StuckRule::new(StuckProduct::PhoneFast, None, None, 10, 60)), "{defaults:?}");
    assert!(
        defaults.contains(&StuckRule::new(StuckProduct::PhoneSlow, None, None, 1440, 2160)),
        "{defaults:?}"
    );

    let out = cli(
        dir.path(),
        &svc,
        &[
            "rules",
            "set",
            "话费快充",
            "--provider",
            "juhe",
            "--province",
            "江苏",
            "--overdue",
            "5",
            "--review",
            "30",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let rules = rules_listed(dir.path(), &svc);
    assert!(
        rules.contains(&StuckRule::new(StuckProduct::PhoneFast, Some(ProviderId::Juhe), Some("江苏"), 5, 30)),
        "{rules:?}"
    );
    assert_eq!(rules.len(), 7);
    // Set again for the same scope: changed, not added.
    let out = cli(
        dir.path(),
        &svc,
        &[
            "rules",
            "set",
            "phone_fast",
            "--provider",
            "juhe",
            "--province",
            "江苏",
            "--overdue",
            "6",
            "--review",
            "30",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let stored =
        topup_engine::config::EngineSettings::load(&Book::open(&dir.path().join("orders.sqlite3")).unwrap())
            .unwrap();
    assert_eq!(stored.stuck_rules.len(), 7, "kept in the engine settings");
    assert!(stored
        .stuck_rules
        .iter()
        .any(|r| r.overdue_after_min == 6 && r.province.as_deref() == Some("江苏")));

    let bad = cli(dir.path(), &svc, &["rules", "set", "game", "--overdue", "30", "--review", "20"], None);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("review_after_min"), "{}", stderr(&bad));
    let bad = cli(dir.path(), &svc, &["rules", "set", "water", "--overdue", "3", "--review", "20"], None);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("unknown product"), "{}", stderr(&bad));
    assert_eq!(rules_listed(dir.path(), &svc).len(), 7, "nothing stored");

    let out = cli(
        dir.path(),
        &svc,
        &["rules", "remove", "phone_fast", "--provider", "juhe", "--province", "江苏"],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(rules_listed(dir.path(), &svc), defaults);
    let again = cli(
        dir.path(),
        &svc,
        &["rules", "remove", "phone_fast", "--provider", "juhe", "--province", "江苏"],
        None,
    );
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
    let out = cli(dir.path(), &svc, &["rules", "set", "game", "--overdue", "1", "--review", "2"], None);
    assert!(out.status.success());
    let out = cli(dir.path(), &svc, &["rules", "reset"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(rules_listed(dir.path(), &svc), defaults);

    // `orders --overdue` lists the flagged order only.
    let book = Book::open(&dir.path().join("orders.sqlite3")).unwrap();
    let mut ids = Vec::new();
    for account in ["13800000001", "13800000002"] {
        let order = topup_engine::book::NewOrder {
            merchant_order_id: topup_engine::ids::new_merchant_order_id(),
            provider: ProviderId::Juhe,
            kind: topup_engine::ProductKind::Phone,
            product_id: None,
            account: account.into(),
            details: json!({}),
            face: topup_engine::Li::from_yuan(10),
            batch_id: None,
            resubmit_of: None,
            fallback_of: None,
        };
        ids.push(book.write(|tx| tx.insert_order(&order)).unwrap());
    }
    assert!(book
        .write(|tx| tx.raise_stuck(ids[1], topup_engine::book::StuckLevel::Overdue, "test"))
        .unwrap());
    let out = cli(dir.path(), &svc, &["orders", "--overdue", "--json"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let accounts: Vec<&str> =
        listed.as_array().unwrap().iter().map(|o| o["account"].as_str().unwrap()).collect();
    assert_eq!(accounts, vec!["13800000002"]);
    assert_eq!(listed[0]["stuck"], "overdue");
    assert_eq!(book.list_orders(&OrderFilter::default()).unwrap().total, 2);
}

// ---- reconcile (issue 14) ---------------------------------------------------------------------------

/// Two juhe orders of today in the book: one succeeded (cost 10.02), one failed.
fn seed_reconcile_book(dir: &Path) -> (String, String) {
    use topup_engine::book::{NewOrder, OrderPatch, OrderState};
    use topup_engine::{Li, ProductKind};
    let book = Book::open(&dir.join("orders.sqlite3")).expect("open the order book");
    let mut ids = Vec::new();
    for (mid, state) in
        [("RC000000000000001", OrderState::Succeeded), ("RC000000000000002", OrderState::Failed)]
    {
        book.write(|tx| {
            let id = tx.insert_order(&NewOrder {
                merchant_order_id: mid.into(),
                provider: ProviderId::Juhe,
                kind: ProductKind::Phone,
                product_id: None,
                account: "13812345678".into(),
                details: json!({}),
                face: Li::from_yuan(10),
                batch_id: None,
                resubmit_of: None,
                fallback_of: None,
            })?;
            tx.transition(id, OrderState::Submitting, "提交 / submitting")?;
            tx.transition(id, state, "供应商回复 / provider reply")?;
            tx.patch_order(id, OrderPatch { cost: Some(Li(10_020)), ..OrderPatch::default() })?;
            Ok(())
        })
        .unwrap();
        ids.push(mid.to_owned());
    }
    (ids[0].clone(), ids[1].clone())
}

/// `reconcile --file` reads a statement with `--map` as import does and reports, ranked, the order the
/// provider calls a success that the book holds as failed; `--export` writes the list; `--json` gives
/// the counts; bad usage is refused with exit code 2 in both languages. `--by-api` (sandbox: its own
/// simulator, which has never seen these orders) asks and reports progress on stderr.
#[test]
fn reconcile_by_file_and_by_api_from_the_command_line() {
    let service = service("reconcile");
    let dir = tempfile::tempdir().unwrap();
    let (ok, failed) = seed_reconcile_book(dir.path());
    let now = topup_engine::import::export::format_time(topup_engine::book::now_ms());
    let statement = format!(
        "单号,状态,扣款金额,下单时间\n{ok},成功,10.020,{now}\n{failed},成功,10.020,{now}\nDUP0000000000001,成功,10.020,{now}\n"
    );
    let file = dir.path().join("statement.csv");
    std::fs::write(&file, statement).unwrap();
    let export = dir.path().join("out").join("对账.xlsx");
    let file_arg = file.to_str().unwrap();
    let export_arg = export.to_str().unwrap();
    let args = [
        "reconcile",
        "--file",
        file_arg,
        "--provider",
        "juhe",
        "--map",
        "A=orderId",
        "--json",
        "--export",
        export_arg,
    ];
    let out = cli(dir.path(), &service, &args, None);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", stderr(&out));
    let r: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(r["counts"]["stateDiffers"], 1, "{stdout}");
    assert_eq!(r["counts"]["statementOnly"], 1, "{stdout}");
    assert_eq!(r["counts"]["matched"], 1, "{stdout}");
    assert_eq!(r["lines"][0]["kind"], "state_differs");
    assert_eq!(r["lines"][0]["merchantOrderId"], failed.as_str());
    assert!(export.exists(), "exported: {}", stderr(&out));

    let plain = cli(
        dir.path(),
        &service,
        &["reconcile", "--file", file_arg, "--provider", "juhe", "--map", "A=orderId"],
        None,
    );
    let plain_out = text(&plain.stdout);
    assert!(plain_out.contains("状态不符"), "{plain_out}");
    assert!(plain_out.contains("仅供应商有\tDUP0000000000001"), "{plain_out}");

    let no_provider = cli(dir.path(), &service, &["reconcile", "--file", file_arg], None);
    assert_eq!(no_provider.status.code(), Some(2));
    assert!(
        stderr(&no_provider).contains("请指定对账单所属的供应商 / name the provider"),
        "{}",
        stderr(&no_provider)
    );
    let bad_map = cli(
        dir.path(),
        &service,
        &["reconcile", "--file", file_arg, "--provider", "juhe", "--map", "A=nonsense"],
        None,
    );
    assert_eq!(bad_map.status.code(), Some(2));
    assert!(stderr(&bad_map).contains("未知的对账字段“nonsense”"), "{}", stderr(&bad_map));

    let api = cli(dir.path(), &service, &["reconcile", "--by-api", "--provider", "juhe", "--json"], None);
    let api_out = text(&api.stdout);
    assert!(api.status.success(), "{api_out}\n{}", stderr(&api));
    assert!(stderr(&api).contains("对账进度 / progress: 2/2"), "{}", stderr(&api));
    let r: serde_json::Value = serde_json::from_str(&api_out).expect("json");
    // The sandbox's simulator never saw them: the succeeded order is in the book only; the failed one
    // is where it should be (not charged, not there).
    assert_eq!(r["counts"]["bookOnly"], 1, "{api_out}");
    assert_eq!(r["counts"]["matched"], 1, "{api_out}");
    assert_eq!(r["source"], "api");
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
