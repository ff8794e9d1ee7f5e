//! The command line's order entry and import (issue 13): `order add` is the window's order check
//! behind flags, and `import -` reads a spreadsheet or pasted chat text from standard input, with the
//! same preview and row errors as a file. Runs the real `topup-desk` binary on a fresh data directory
//! (sandbox mode: nothing configured, so no keyring is needed).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use topup_engine::book::{Book, OrderFilter};

const BIN: &str = env!("CARGO_BIN_EXE_topup-desk");

fn cli(data_dir: &Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(BIN)
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("TOPUP_DESK_FAILPOINT")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start topup-desk");
    child.stdin.take().expect("stdin").write_all(stdin).expect("write stdin");
    child.wait_with_output().expect("topup-desk output")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn accounts(dir: &Path) -> Vec<String> {
    let book = Book::open(&dir.join("orders.sqlite3")).expect("open the order book");
    let mut a: Vec<String> =
        book.list_orders(&OrderFilter::default()).unwrap().orders.into_iter().map(|o| o.account).collect();
    a.sort();
    a
}

#[test]
fn import_dash_reads_pasted_chat_lines_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let pasted = "13812345678 100\n张三 １３９-1234-5678，50元 谢谢\n\n好的老板\n";
    let out = cli(dir.path(), &["import", "-", "--provider", "juhe"], pasted.as_bytes());
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("(chat)"), "read as pasted lines: {stdout}");
    assert!(stdout.contains("第 2 行：已忽略：张三、谢谢"), "{stdout}");
    assert!(stdout.contains("已导入批次"), "{stdout}");
    assert_eq!(accounts(dir.path()), ["13812345678", "13912345678"]);

    // A bad line: the same row error as a file's, nothing written, exit code 1.
    let bad = "13712345678 50\n1371234567 50\n13612345678 25\n";
    let out = cli(dir.path(), &["import", "-", "--provider", "juhe"], bad.as_bytes());
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("第 2 行：“1371234567”不是 11 位、以 1 开头的手机号"), "{stdout}");
    assert!(stdout.contains("第 3 行：聚合数据不卖面值 25.00 元"), "{stdout}");
    assert!(stdout.contains("未写入任何订单"), "{stdout}");
    assert_eq!(accounts(dir.path()).len(), 2);
}

#[test]
fn import_dash_takes_a_table_or_a_workbook_on_stdin_too() {
    let dir = tempfile::tempdir().unwrap();
    let csv = "手机号,面值,备注\n13512345678,10,a\n";
    let out = cli(dir.path(), &["import", "-", "--provider", "juhe", "--dry-run"], csv.as_bytes());
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("(text)"), "a table with headings stays a table: {stdout}");
    let xls =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/engine/tests/fixtures/orders.xls"))
            .expect("the xls fixture");
    let out = cli(dir.path(), &["import", "-", "--provider", "juhe", "--dry-run"], &xls);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("(xls"), "the bytes decide the format: {stdout}\n{}", text(&out.stderr));
    assert!(accounts(dir.path()).is_empty(), "dry runs write nothing");
}

#[test]
fn order_add_checks_like_the_window_and_names_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let add = |args: &[&str]| {
        let mut all = vec!["order", "add"];
        all.extend_from_slice(args);
        cli(dir.path(), &all, b"")
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
