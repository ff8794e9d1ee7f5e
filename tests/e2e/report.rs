//! Issue 14 in the real window: orders with sale prices (one typed in the order form, the rest already
//! in the book over the last two weeks), then the 报表 screen shows the same totals as the engine's
//! report — the day's profit included — with its chart and its four groupings.

use crate::harness::App;
use topup_engine::book::{Book, NewOrder, OrderPatch, OrderState, ReportBy};
use topup_engine::report::{self, ReportQuery};
use topup_engine::sale::{Sale, SaleSource, Sold};
use topup_engine::{Li, ProductKind, ProviderId};

/// Two weeks of finished orders for three customers (sale prices known, one cost unknown), dated by
/// moving their creation back day by day.
fn seed(dir: &std::path::Path) {
    let book = Book::open(&dir.join("orders.sqlite3")).unwrap();
    let now = topup_engine::book::now_ms();
    let mut moves = Vec::new();
    book.write(|tx| {
        for i in 0..84i64 {
            let face = [30_000, 50_000, 100_000][(i % 3) as usize];
            let new = NewOrder {
                merchant_order_id: format!("TDE2EREPORT{i:04}"),
                provider: ProviderId::ALL[(i % 3) as usize],
                kind: ProductKind::Phone,
                product_id: None,
                account: format!("1390000{i:04}"),
                details: serde_json::json!({}),
                face: Li(face),
                batch_id: None,
                resubmit_of: None,
                fallback_of: None,
            };
            let sold = Sold {
                sale: Sale { amount: Some(Li(face + 800 + i * 10)), source: Some(SaleSource::Form) },
                customer: Some(["张三", "李四的店", "老王"][(i % 3) as usize].into()),
            };
            let id = tx.insert_order_sold(&new, &sold)?;
            tx.transition(id, OrderState::Submitting, "")?;
            let to = if i % 9 == 4 { OrderState::Failed } else { OrderState::Succeeded };
            let cost = (i % 17 != 5).then_some(Li(face - 150));
            tx.transition_with(id, to, "", OrderPatch { cost, ..OrderPatch::default() })?;
            let at = now - (1 + i / 6) * 86_400_000;
            moves.push((id, at, book.local_day(at)?));
        }
        Ok(())
    })
    .unwrap();
    // Back-dated with raw SQL on a connection of the test's own (the triggers follow).
    let raw = rusqlite::Connection::open(book.path()).unwrap();
    for (id, at, day) in moves {
        raw.execute(
            "UPDATE orders SET created_at = ?2, finished_at = ?2 + 40000, local_day = ?3 WHERE id = ?1",
            rusqlite::params![id, at, day],
        )
        .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_with_sale_prices_show_their_profit_in_the_report_screen() {
    let app = App::start_with(seed).await;
    // Today's order, typed with its sale price and customer.
    app.click("[data-testid=nav-order]").await;
    app.type_into("[data-testid=order-account]", "13812345678").await;
    app.click("[data-testid=face-quick-50]").await;
    app.type_into("[data-testid=order-sale]", "52.5").await;
    app.type_into("[data-testid=order-customer]", "张三").await;
    app.wait_text("[data-testid=order-cost]", "the cost", |t| t.contains("50.10")).await;
    app.click("[data-testid=order-submit]").await;
    let confirm = app
        .wait_text("[data-testid=confirm-sale]", "the sale in the confirmation", |t| t.contains("52.50"))
        .await;
    assert!(confirm.contains("下单时填写"), "{confirm}");
    app.wait_text("[data-testid=confirm-profit]", "the expected profit", |t| t.contains("2.40")).await;
    app.click("[data-testid=confirm-ok]").await;
    app.wait_attr("[data-testid=order-result]", "data-state", "succeeded", |s| s == "succeeded").await;

    let book = app.book();
    let q = ReportQuery { by: Some(ReportBy::Day), ..ReportQuery::default() };
    let expected = report::report(&book, &q).unwrap();
    let profit = expected.total.profit.expect("known profit");
    let today = expected.days.last().expect("today").clone();
    assert_eq!(today.orders, 1, "today's order: {today:?}");
    assert_eq!(today.profit, Some(Li(52_500 - 50_100)), "{today:?}");

    app.click("[data-testid=nav-report]").await;
    let shown = app
        .wait_text("[data-testid=report-total-profit]", "the total profit", |t| {
            t.contains(&format!("¥{profit}"))
        })
        .await;
    assert!(shown.contains("单未知"), "one order's cost is unknown and is said so: {shown}");
    app.wait_text(&format!("[data-testid=report-row-{}]", today.key), "today's row", |t| t.contains("2.40"))
        .await;
    app.wait_for("[data-testid=report-chart]").await;
    app.screenshot("report").await;
    app.click("[data-testid=report-by-customer]").await;
    app.wait_text("[data-testid=report-row-张三]", "张三's row", |t| t.contains("张三")).await;
    app.screenshot("report-by-customer").await;
    app.stop().await;
}
