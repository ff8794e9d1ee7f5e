//! Issue 3: the window opens in Chinese, the navigation works, the status line tells where the order
//! book is, sandbox mode is marked, and English can be chosen and is remembered.

use crate::harness::App;

const SCREENS: [(&str, &str, &str); 5] = [
    ("order", "下单", "New order"),
    ("import", "批量导入", "Batch import"),
    ("orders", "订单", "Orders"),
    ("balances", "余额", "Balances"),
    ("settings", "设置", "Settings"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn window_opens_in_chinese_navigates_and_switches_language() {
    let app = App::start().await;

    // Sandbox mode is marked on a fresh install; the status line names this test's own order book
    // and the engine state.
    app.wait_sandbox_on_own_book().await;
    app.wait_text("[data-testid=status-engine]", "the engine state", |t| t.contains("引擎")).await;

    // Every screen opens from the navigation, titled in Chinese.
    for (id, zh, _) in SCREENS {
        app.click(&format!("[data-testid=nav-{id}]")).await;
        app.wait_for(&format!("[data-testid=screen-{id}]")).await;
        app.wait_text("[data-testid=page-title]", zh, |t| t.trim() == zh).await;
        app.screenshot(&format!("shell-{id}")).await;
    }
    // The order board is honestly empty.
    app.click("[data-testid=nav-orders]").await;
    app.wait_text("[data-testid=screen-orders]", "an empty state", |t| t.contains("还没有订单")).await;

    // Switch to English in the settings; the navigation follows.
    app.click("[data-testid=nav-settings]").await;
    app.click("[data-testid=lang-en]").await;
    for (id, _, en) in SCREENS {
        app.wait_text(&format!("[data-testid=nav-{id}]"), en, |t| t.contains(en)).await;
    }
    app.wait_text("[data-testid=page-title]", "Settings", |t| t.trim() == "Settings").await;

    // The choice is stored in the order book, so the next start is in English too.
    let book = topup_engine::book::Book::open(&app.data_path().join("orders.sqlite3")).expect("open book");
    let mut stored = None;
    for _ in 0..50 {
        stored = book.app_setting("locale").expect("read setting");
        if stored.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(stored.as_deref(), Some("en"));
    app.client.refresh().await.expect("reload");
    app.wait_text("[data-testid=nav-orders]", "English after reload", |t| t.contains("Orders")).await;
    app.click("[data-testid=nav-settings]").await;
    app.click("[data-testid=lang-zh]").await;
    app.wait_text("[data-testid=nav-orders]", "Chinese again", |t| t.contains("订单")).await;

    app.stop().await;
}
