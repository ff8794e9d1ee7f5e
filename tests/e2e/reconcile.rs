//! Issue 14: reconciliation (对账) in the real window. The provider's statement says an order the
//! book holds as failed succeeded, and lists a charge the book does not have; the window ranks the
//! dangerous difference first, and the reseller resolves it with a note that names the run.

use crate::harness::App;
use serde_json::json;
use topup_engine::book::{Book, NewOrder, OrderPatch, OrderState};
use topup_engine::{Li, ProductKind, ProviderId};

fn seed(dir: &std::path::Path) {
    let book = Book::open(&dir.join("orders.sqlite3")).unwrap();
    for (mid, account, state) in [
        ("TD2612040000RECON001", "13700000001", OrderState::Succeeded),
        ("TD2612040000RECON002", "13700000002", OrderState::Failed),
        ("TD2612040000RECON003", "13700000003", OrderState::Succeeded),
    ] {
        book.write(|tx| {
            let id = tx.insert_order(&NewOrder {
                merchant_order_id: mid.into(),
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
            tx.transition(id, OrderState::Submitting, "提交 / submitting")?;
            tx.transition(id, state, "供应商回复 / provider reply")?;
            tx.patch_order(id, OrderPatch { cost: Some(Li(50_100)), ..OrderPatch::default() })?;
            Ok(())
        })
        .unwrap();
    }
    let now = topup_engine::import::export::format_time(topup_engine::book::now_ms());
    let statement = format!(
        "商户订单号,充值号码,扣款金额,订单状态,下单时间\n\
         TD2612040000RECON001,13700000001,50.100,成功,{now}\n\
         TD2612040000RECON002,13700000002,50.100,充值成功,{now}\n\
         TD2612040000RECON003,13700000003,49.800,成功,{now}\n\
         JH2612049999000007,13700000001,50.100,成功,{now}\n\
         TD2612040000RECON009,13700000009,50.100,已成,{now}\n"
    );
    std::fs::write(dir.join("聚合对账单.csv"), statement).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_reconciliation_finds_the_planted_difference_and_it_is_resolved() {
    let app = App::start_with(seed).await;
    app.click("[data-testid=nav-reconcile]").await;
    app.click("[data-testid=reconcile-source-file]").await;
    let provider = app.wait_for("[data-testid=reconcile-provider]").await;
    provider.select_by_value("juhe").await.expect("choose juhe");
    let file = app.data_path().join("聚合对账单.csv");
    let input = app.wait_for("[data-testid=reconcile-file]").await;
    input.send_keys(&file.display().to_string()).await.expect("choose the statement");
    app.click("[data-testid=reconcile-start]").await;
    app.wait_attr("[data-testid=reconcile-line-0]", "data-kind", "the dangerous line first", |k| {
        k == "state_differs"
    })
    .await;
    let first = app.text_of("[data-testid=reconcile-line-0]").await.unwrap();
    assert!(first.contains("TD2612040000RECON002"), "{first}");
    assert!(first.contains("供应商：成功（已扣款）；账上：失败"), "{first}");
    let stranger = app.text_of("[data-testid=reconcile-line-1]").await.unwrap();
    assert!(stranger.contains("JH2612049999000007") && stranger.contains("仅供应商有"), "{stranger}");
    app.wait_text("[data-testid=reconcile-bad-rows]", "the unreadable row", |t| t.contains("第 6 行 D 列"))
        .await;
    app.screenshot("reconcile").await;

    app.click("[data-testid=reconcile-resolve-0]").await;
    app.type_into("[data-testid=reconcile-resolve-note]", "已与聚合核实，补充到账").await;
    app.click("[data-testid=reconcile-resolve-confirm]").await;
    app.wait_text("[data-testid=reconcile-resolved-0]", "resolved", |t| t.contains("已处理")).await;
    let order = app.book().order_by_merchant_id("TD2612040000RECON002").unwrap().unwrap();
    assert_eq!(order.state, OrderState::Failed, "a final state never changes");
    assert!(!order.attention);
    let note = order.note.unwrap_or_default();
    assert!(note.starts_with("对账 #") && note.ends_with("已与聚合核实，补充到账"), "{note}");
    app.screenshot("reconcile-resolved").await;
    app.stop().await;
}
