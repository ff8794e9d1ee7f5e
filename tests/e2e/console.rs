//! Issue 7: a reseller's day in the real window, in sandbox mode (the built-in simulator): enter one
//! order and see it succeed; import a spreadsheet with good and bad rows, see the errors, confirm,
//! see the successes; read balances; find a manual-review order and resolve it; and, out of sandbox
//! mode, configure a real provider account (against a simulator on 127.0.0.1), test it, pay an order
//! through it and export the board's view to csv and xlsx.

use crate::harness::App;
use serde_json::json;
use topup_engine::book::{Book, NewOrder, OrderFilter, OrderState};
use topup_engine::{Li, ProductKind, ProviderId};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_order_is_entered_confirmed_and_succeeds() {
    let app = App::start().await;
    enter_one_sandbox_order(&app).await;
    app.stop().await;
}

/// Enters one 50-yuan phone order in sandbox mode, confirms it and waits until it has succeeded, in
/// the window and in the order book (also the installed program's smoke test, installed.rs).
pub async fn enter_one_sandbox_order(app: &App) {
    app.click("[data-testid=nav-order]").await;
    app.type_into("[data-testid=order-account]", "13812345678").await;
    // The province and city come from the 7-digit number segment (phone.dat: 1381234 → 江苏 连云港,
    // `scripts/gen-segments.py … --lookup 13812345678`); the sandbox's juhe names only the carrier.
    let region = app.wait_text("[data-testid=phone-region]", "the region", |t| t.contains("江苏")).await;
    assert_eq!(region.trim(), "江苏 连云港");
    app.wait_text("[data-testid=phone-carrier]", "the carrier", |t| t.contains("移动")).await;
    app.click("[data-testid=face-quick-50]").await;
    app.wait_text("[data-testid=phone-telcheck]", "juhe's check", |t| t.contains("可以充值")).await;
    app.wait_text("[data-testid=order-cost]", "the cost", |t| t.contains("50.10")).await;
    app.screenshot("order-entry").await;
    app.click("[data-testid=order-submit]").await;
    let confirm = app
        .wait_text("[data-testid=confirm-dialog]", "the confirmation", |t| t.contains("13812345678"))
        .await;
    assert!(confirm.contains("50"), "{confirm}");
    assert!(confirm.contains("江苏"), "the confirmation names the province: {confirm}");
    app.screenshot("order-confirm").await;
    app.click("[data-testid=confirm-ok]").await;
    app.wait_attr("[data-testid=order-result]", "data-state", "succeeded", |s| s == "succeeded").await;
    app.screenshot("order-succeeded").await;
    let page = app.book().list_orders(&OrderFilter::default()).unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.orders[0].account, "13812345678");
    assert_eq!(page.orders[0].face, Li::from_yuan(50));
    assert_eq!(page.orders[0].state, OrderState::Succeeded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spreadsheet_with_good_and_bad_rows_is_previewed_confirmed_and_paid() {
    let app = App::start().await;
    let file = app.data_path().join("今日订单.csv");
    // Row 3: a 10-digit number; row 4: a face value juhe does not sell.
    std::fs::write(&file, "手机号,面值\n13800000001,10\n1380000000,10\n13800000002,25\n13800000003,20\n")
        .unwrap();
    app.click("[data-testid=nav-import]").await;
    let input = app.wait_for("[data-testid=import-file]").await;
    input.send_keys(&file.display().to_string()).await.expect("choose the file");
    app.wait_for("[data-testid=import-preview-table]").await;
    app.wait_attr("[data-testid=import-row-3]", "data-status", "invalid", |s| s == "invalid").await;
    let row3 = app.text_of("[data-testid=import-row-3]").await.unwrap();
    assert!(row3.contains("A 列"), "the error names the column: {row3}");
    app.wait_attr("[data-testid=import-row-4]", "data-status", "invalid", |s| s == "invalid").await;
    assert_eq!(app.attr("[data-testid=import-row-2]", "data-status").await.as_deref(), Some("valid"));
    app.wait_text("[data-testid=import-total-valid]", "2 valid rows", |t| t.contains('2')).await;
    app.wait_text("[data-testid=import-balance]", "the provider's balance", |t| {
        t.contains("10,000") || t.contains("10000")
    })
    .await;
    app.screenshot("import-preview").await;
    app.click("[data-testid=import-skip-invalid]").await;
    app.click("[data-testid=import-commit]").await;
    app.wait_text("[data-testid=import-confirm-skipped]", "the skipped rows named", |t| t.contains('2'))
        .await;
    app.click("[data-testid=import-confirm-ok]").await;
    app.wait_attr("[data-testid=import-progress]", "data-done", "the batch to finish", |s| s == "true").await;
    app.wait_text("[data-testid=import-count-succeeded]", "2 succeeded", |t| t.contains('2')).await;
    app.screenshot("import-done").await;
    let orders = app.book().list_orders(&OrderFilter::default()).unwrap().orders;
    let mut accounts: Vec<_> = orders.iter().map(|o| (o.account.as_str(), o.state)).collect();
    accounts.sort_by_key(|(a, _)| *a);
    assert_eq!(
        accounts,
        [("13800000001", OrderState::Succeeded), ("13800000003", OrderState::Succeeded)],
        "only the valid rows became orders"
    );
    assert!(orders.iter().all(|o| o.batch_id.is_some() && o.batch_id == orders[0].batch_id));
    app.stop().await;
}

/// Issue 13: orders pasted from a chat go through the same import: preview with row errors by line,
/// then paid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_pasted_from_a_chat_are_previewed_by_line_and_paid() {
    let app = App::start().await;
    app.click("[data-testid=nav-import]").await;
    let pasted =
        "王姐 13800000011 100元\n138-0000-0012，５０ 谢谢\n1380000001 20\n\n13800000013 25\n13800000014：30";
    // Typed line by line: WebDriver's Enter key (U+E007) makes the line breaks.
    app.type_into("[data-testid=import-paste]", &pasted.replace('\n', "\u{E007}")).await;
    app.click("[data-testid=import-paste-preview]").await;
    app.wait_for("[data-testid=import-preview-table]").await;
    app.wait_for("[data-testid=import-chat-note]").await;
    for (row, status) in [(1, "valid"), (2, "valid"), (3, "invalid"), (5, "invalid"), (6, "valid")] {
        let css = format!("[data-testid=import-row-{row}]");
        app.wait_attr(&css, "data-status", status, |s| s == status).await;
    }
    let row3 = app.text_of("[data-testid=import-row-3]").await.unwrap();
    assert!(row3.contains("不是 11 位"), "the line's error: {row3}");
    let row2 = app.text_of("[data-testid=import-row-2]").await.unwrap();
    assert!(row2.contains("13800000012") && row2.contains("已忽略：谢谢"), "{row2}");
    app.wait_text("[data-testid=import-total-valid]", "3 valid lines", |t| t.contains('3')).await;
    app.screenshot("import-paste").await;
    app.click("[data-testid=import-skip-invalid]").await;
    app.click("[data-testid=import-commit]").await;
    app.click("[data-testid=import-confirm-ok]").await;
    app.wait_attr("[data-testid=import-progress]", "data-done", "the batch to finish", |s| s == "true").await;
    app.wait_text("[data-testid=import-count-succeeded]", "3 succeeded", |t| t.contains('3')).await;
    let mut accounts: Vec<String> = app
        .book()
        .list_orders(&OrderFilter::default())
        .unwrap()
        .orders
        .into_iter()
        .map(|o| o.account)
        .collect();
    accounts.sort();
    assert_eq!(accounts, ["13800000011", "13800000012", "13800000014"]);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn balances_are_read_from_every_provider() {
    let app = App::start().await;
    app.click("[data-testid=nav-balances]").await;
    for p in ["juhe", "oper", "dingyin"] {
        app.wait_text(&format!("[data-testid=balance-{p}-amount]"), "the simulator's balance", |t| {
            t.contains("10,000") || t.contains("10000")
        })
        .await;
    }
    app.wait_for("[data-testid=balance-juhe-chart]").await;
    app.screenshot("balances").await;
    app.click("[data-testid=nav-settings]").await;
    app.wait_attr("[data-testid=settings-sandbox]", "data-sandbox", "sandbox mode", |s| s == "true").await;
    app.wait_for("[data-testid=settings-provider-juhe]").await;
    app.wait_attr("[data-testid=callback-status]", "data-listening", "the callback listener", |s| {
        s == "true"
    })
    .await;
    app.screenshot("settings").await;
    app.stop().await;
}

fn seed_manual_review(dir: &std::path::Path) {
    let book = Book::open(&dir.join("orders.sqlite3")).unwrap();
    book.write(|tx| {
        let id = tx.insert_order(&NewOrder {
            merchant_order_id: "TD2611230000MANUAL01".into(),
            provider: ProviderId::Oper,
            kind: ProductKind::Phone,
            product_id: None,
            account: "13700000009".into(),
            details: json!({}),
            face: Li::from_yuan(100),
            batch_id: None,
            resubmit_of: None,
            fallback_of: None,
        })?;
        tx.transition(id, OrderState::Submitting, "提交 / submitting")?;
        tx.transition(id, OrderState::Unknown, "超时，结果未知 / timed out, outcome unknown")?;
        tx.transition(
            id,
            OrderState::ManualReview,
            "查询期已过仍无结果 / query window closed without a result",
        )
    })
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_review_order_is_impossible_to_miss_and_is_resolved() {
    let app = App::start_with(seed_manual_review).await;
    app.wait_text("[data-testid=nav-orders-badge]", "the attention badge", |t| t.trim() == "1").await;
    app.click("[data-testid=nav-orders]").await;
    app.click("[data-testid=orders-filter-attention]").await;
    app.wait_attr("[data-testid=orders-row]", "data-state", "the manual-review row", |s| {
        s == "manual_review"
    })
    .await;
    app.click("[data-testid=orders-row]").await;
    app.wait_text("[data-testid=order-timeline]", "the order's history", |t| t.contains("超时")).await;
    app.screenshot("orders-manual-review").await;
    app.click("[data-testid=action-resolve]").await;
    app.click("[data-testid=resolve-succeeded]").await;
    app.type_into("[data-testid=resolve-note]", "客服确认已到账").await;
    app.click("[data-testid=resolve-ok]").await;
    app.wait_text("[data-testid=detail-state]", "resolved", |t| t.contains("成功")).await;
    let order = app.book().order_by_merchant_id("TD2611230000MANUAL01").unwrap().unwrap();
    assert_eq!(order.state, OrderState::Succeeded);
    assert_eq!(order.note.as_deref(), Some("客服确认已到账"));
    app.wait_text("[data-testid=nav-orders]", "no badge any more", |t| !t.contains('1')).await;
    app.screenshot("orders-resolved").await;
    app.stop().await;
}

/// The text of every cell of the first visible sheet of an exported file, row by row.
fn exported_rows(path: &std::path::Path) -> Vec<Vec<String>> {
    let file = topup_engine::import::SourceFile::open(path).expect("open the exported file");
    let sheet = file.read_sheet(None).expect("read the exported sheet");
    sheet.grid.cells.iter().map(|row| row.iter().map(|c| c.to_string()).collect()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_is_configured_tested_used_and_the_board_exported() {
    let sim = topup_sim::Simulator::start(topup_sim::SimConfig::sandbox()).await.expect("simulator");
    let secrets = topup_engine::session::secret_store();
    let app = App::start().await;
    // Keys are kept per order book: this fresh book's juhe account (removed again at the end).
    let account = topup_engine::secrets::BookKeys::open(&app.book(), &secrets)
        .expect("book keys")
        .account(ProviderId::Juhe);

    // Settings: a real juhe account. The secret goes to the keyring and is never shown again.
    app.click("[data-testid=nav-settings]").await;
    app.wait_attr("[data-testid=settings-sandbox]", "data-sandbox", "sandbox mode", |s| s == "true").await;
    app.type_into("[data-testid=provider-juhe-base_url]", &sim.base_url()).await;
    app.type_into("[data-testid=provider-juhe-openid]", topup_sim::SANDBOX_JUHE_OPENID).await;
    app.type_into("[data-testid=provider-juhe-secret]", topup_sim::SANDBOX_JUHE_APPKEY).await;
    app.click("[data-testid=provider-juhe-save]").await;
    app.wait_for("[data-testid=provider-juhe-saved]").await;
    app.wait_attr("[data-testid=settings-sandbox]", "data-sandbox", "sandbox mode to end", |s| s == "false")
        .await;
    app.wait_attr("[data-testid=settings-provider-juhe]", "data-configured", "juhe configured", |s| {
        s == "true"
    })
    .await;
    let stored = secrets.get(&account).expect("read the keyring").expect("the juhe secret in the keyring");
    assert_eq!(stored.expose(), topup_sim::SANDBOX_JUHE_APPKEY);
    let typed = app
        .client
        .execute(
            "return document.querySelector(arguments[0]).value;",
            vec![json!("[data-testid=provider-juhe-secret]")],
        )
        .await
        .expect("read the secret field");
    assert_eq!(typed, json!(""), "the secret field is cleared after saving");
    let source = app.client.source().await.expect("page source");
    assert!(!source.contains(topup_sim::SANDBOX_JUHE_APPKEY), "the secret is not on the page");
    // Test connection reads the balance from the configured account.
    app.click("[data-testid=provider-juhe-test]").await;
    app.wait_attr("[data-testid=provider-juhe-test-result]", "data-ok", "a successful test", |s| s == "true")
        .await;
    app.wait_text("[data-testid=provider-juhe-test-result]", "the balance", |t| {
        t.contains("10,000") || t.contains("10000")
    })
    .await;
    app.screenshot("settings-provider-saved").await;
    assert_eq!(app.text_of("[data-testid=sandbox-banner]").await.unwrap(), "", "no sandbox banner any more");

    // An order paid through that account, once.
    app.click("[data-testid=nav-order]").await;
    app.type_into("[data-testid=order-account]", "13912345678").await;
    app.click("[data-testid=face-quick-30]").await;
    app.wait_text("[data-testid=order-cost]", "the cost", |t| t.contains('¥')).await;
    app.click("[data-testid=order-submit]").await;
    app.wait_text("[data-testid=confirm-dialog]", "the confirmation", |t| t.contains("13912345678")).await;
    app.click("[data-testid=confirm-ok]").await;
    app.wait_attr("[data-testid=order-result]", "data-state", "succeeded", |s| s == "succeeded").await;
    let page = app.book().list_orders(&OrderFilter::default()).unwrap();
    assert_eq!(page.total, 1);
    let order = &page.orders[0];
    assert_eq!((order.provider, order.state), (ProviderId::Juhe, OrderState::Succeeded));
    assert_eq!(sim.charges("juhe", &order.merchant_order_id), 1, "charged exactly once at the provider");

    // The board's view, exported to csv and xlsx: the files hold the order.
    app.click("[data-testid=nav-orders]").await;
    app.wait_attr("[data-testid=orders-row]", "data-state", "the order on the board", |s| s == "succeeded")
        .await;
    for (button, ext) in [("export-csv", "csv"), ("export-xlsx", "xlsx")] {
        app.click(&format!("[data-testid={button}]")).await;
        let shown = app
            .wait_text("[data-testid=export-result] code", "the exported file's path", |t| t.ends_with(ext))
            .await;
        let rows = exported_rows(std::path::Path::new(shown.trim()));
        assert_eq!(rows.len(), 2, "a heading and one order in {shown}: {rows:?}");
        assert!(rows[1].iter().any(|c| c == "13912345678"), "the account in {shown}: {rows:?}");
        assert!(rows[1].iter().any(|c| c == &order.merchant_order_id), "the order id in {shown}: {rows:?}");
    }
    app.screenshot("orders-exported").await;
    app.stop().await;
    secrets.delete(&account).expect("remove the test secret");
}
