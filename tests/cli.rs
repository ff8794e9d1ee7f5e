//! The command line's provider commands on a real data directory and the real keyring (run through
//! `scripts/test.sh`): a key given to `provider set` reaches only the keyring — never SQLite, never
//! `provider list` — and a request with a key it cannot place is refused with the field's name.

use serde_json::json;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use topup_engine::book::Book;
use topup_engine::secrets::{BookKeys, SecretStore};
use topup_engine::ProviderId;

const BIN: &str = env!("CARGO_BIN_EXE_topup-desk");

/// A keyring service of this test's own (the binary reads `TOPUP_DESK_KEYRING_SERVICE`).
fn service(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("topup-desk-test-cli-{tag}-{}-{nanos}", std::process::id())
}

fn cli(dir: &Path, service: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.arg("--data-dir").arg(dir).args(args).env("TOPUP_DESK_KEYRING_SERVICE", service);
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start topup-desk");
    if let Some(text) = stdin {
        child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("write stdin");
    }
    child.wait_with_output().expect("topup-desk output")
}

fn set(dir: &Path, service: &str, provider: &str, settings: &serde_json::Value) -> Output {
    cli(dir, service, &["provider", "set", provider], Some(&settings.to_string()))
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

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
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
