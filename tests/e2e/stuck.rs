//! Issue 14.5 in the real window: orders waiting past their stuck-order limits are flagged by the
//! running engine's sweep (real clock: the orders were sent 15 and 70 minutes ago), counted in the
//! navigation badges, tagged on the board and found with its overdue filter — and stay `accepted`,
//! still queried.

use crate::harness::App;
use serde_json::json;
use topup_engine::book::{Book, NewOrder, OrderState, StuckLevel};
use topup_engine::{Li, ProductKind, ProviderId};

/// Two juhe phone orders the provider accepted 15 and 70 minutes ago and has not finished, and one
/// that succeeded.
fn seed_waiting(dir: &std::path::Path) {
    let book = Book::open(&dir.join("orders.sqlite3")).unwrap();
    let now = topup_engine::book::now_ms();
    for (id, account, minutes_ago, done) in [
        ("TD2612040000OVERDUE1", "13812345678", 15, false),
        ("TD2612040000REVIEW01", "13900000021", 70, false),
        ("TD2612040000SUCCESS1", "13700000022", 20, true),
    ] {
        book.write(|tx| {
            let order = tx.insert_order(&NewOrder {
                merchant_order_id: id.into(),
                provider: ProviderId::Juhe,
                kind: ProductKind::Phone,
                product_id: None,
                account: account.into(),
                details: json!({}),
                face: Li::from_yuan(50),
                batch_id: None,
                resubmit_of: None,
                fallback_of: None,
            })?;
            tx.transition(order, OrderState::Submitting, "提交 / submitting")?;
            tx.transition(order, OrderState::Accepted, "已受理 / accepted")?;
            if done {
                tx.transition(order, OrderState::Succeeded, "成功 / succeeded")?;
            }
            Ok(order)
        })
        .map(|order| {
            // When it was sent (the book's own writes stamp the present).
            let raw = rusqlite::Connection::open(dir.join("orders.sqlite3")).unwrap();
            let sent = now - minutes_ago * 60_000;
            raw.execute(
                "UPDATE orders SET submitted_at = ?2, last_sent_at = ?2, created_at = ?2 WHERE id = ?1",
                [order, sent],
            )
            .unwrap();
        })
        .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overdue_orders_are_flagged_counted_in_the_nav_and_filtered_on_the_board() {
    let app = App::start_with(seed_waiting).await;
    app.wait_text("[data-testid=nav-orders-overdue]", "the overdue badge", |t| t.trim() == "2").await;
    app.wait_text("[data-testid=nav-orders-badge]", "the attention badge", |t| t.trim() == "1").await;
    app.click("[data-testid=nav-orders]").await;
    app.wait_text("[data-testid=orders-filter-overdue]", "the overdue chip", |t| t.contains('2')).await;
    app.click("[data-testid=orders-filter-overdue]").await;
    app.wait_text("[data-testid=orders-total]", "two overdue orders", |t| t.contains('2')).await;
    app.wait_text("[data-testid=orders-viewport]", "the row tags", |t| t.contains("转人工")).await;
    app.screenshot("overdue").await;

    let book = app.book();
    let level = |id: &str| book.order_by_merchant_id(id).unwrap().unwrap();
    let (overdue, review) = (level("TD2612040000OVERDUE1"), level("TD2612040000REVIEW01"));
    assert_eq!((overdue.state, overdue.stuck), (OrderState::Accepted, StuckLevel::Overdue));
    assert_eq!(
        (review.state, review.stuck),
        (OrderState::Accepted, StuckLevel::Review),
        "a flag, not a state"
    );
    assert_eq!(level("TD2612040000SUCCESS1").stuck, StuckLevel::None);

    // The rules behind it, as Settings shows them (the defaults: six products, 快充 and 慢充 apart).
    app.click("[data-testid=nav-settings]").await;
    app.wait_attr("[data-testid=stuck-product-1]", "data-testid", "the rules table", |_| true).await;
    app.client
        .execute(
            "document.querySelector(arguments[0]).scrollIntoView({block: 'center'});",
            vec![json!("[data-testid=settings-stuck]")],
        )
        .await
        .expect("scroll to the rules");
    app.screenshot("stuck-rules").await;
    app.stop().await;
}
