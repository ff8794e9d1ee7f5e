//! Issue 14 (balance drift watch, daily statement) in the real window: a juhe account on a simulator
//! of the test's own, an order paid through it, then a charge the book does not know planted in the
//! simulator. The next balance read shows the drift at once — the shell's banner, the Balances
//! screen's window with its order listed — and the day's statement shows the difference.

use crate::harness::App;
use serde_json::json;
use topup_engine::ProviderId;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_charge_shows_as_a_drift_with_its_orders_and_in_the_statement() {
    let sim = topup_sim::Simulator::start(topup_sim::SimConfig::sandbox()).await.expect("simulator");
    let secrets = topup_engine::session::secret_store();
    let base_url = sim.base_url();
    let mut account = None;
    let app = App::start_with(|dir| {
        let book = topup_engine::session::open_book(dir).expect("open the book");
        let settings = json!({"base_url": base_url, "openid": topup_sim::SANDBOX_JUHE_OPENID});
        topup_engine::api::save_provider(
            &book,
            &secrets,
            ProviderId::Juhe,
            &settings,
            Some(topup_sim::SANDBOX_JUHE_APPKEY.to_owned()),
        )
        .expect("configure juhe");
        account = Some(
            topup_engine::secrets::BookKeys::open(&book, &secrets)
                .expect("book keys")
                .account(ProviderId::Juhe),
        );
    })
    .await;

    // The first read, then an order the book knows.
    app.click("[data-testid=nav-balances]").await;
    app.wait_text("[data-testid=balance-juhe-amount]", "the balance", |t| t.contains("10,000")).await;
    app.click("[data-testid=nav-order]").await;
    app.type_into("[data-testid=order-account]", "13912345678").await;
    app.click("[data-testid=face-quick-50]").await;
    app.wait_text("[data-testid=order-cost]", "the cost", |t| t.contains('¥')).await;
    app.click("[data-testid=order-submit]").await;
    app.wait_text("[data-testid=confirm-dialog]", "the confirmation", |t| t.contains("13912345678")).await;
    app.click("[data-testid=confirm-ok]").await;
    app.wait_attr("[data-testid=order-result]", "data-state", "succeeded", |s| s == "succeeded").await;

    // The provider charges once more, under an id the book never sent.
    sim.plant_charge(&topup_sim::PlantCharge {
        provider: "juhe".into(),
        merchant_order_id: "LOSTORDER0000001".into(),
        account: "13912345678".into(),
        face_li: 50_000,
        cost_li: Some(50_100),
        state: None,
    })
    .expect("plant a charge");
    app.click("[data-testid=nav-balances]").await;
    let banner =
        app.wait_text("[data-testid=drift-banner]", "the drift banner", |t| t.contains("¥50.10")).await;
    assert!(banner.contains("1 笔订单"), "{banner}");
    let panel =
        app.wait_text("[data-testid=drift-panel]", "the drift window", |t| t.contains("13912345678")).await;
    assert!(panel.contains("异常扣款"), "{panel}");
    let difference = app
        .wait_text("[data-testid=statement-juhe-difference]", "the statement's difference", |t| {
            t.contains("-¥50.10")
        })
        .await;
    assert!(difference.contains("-¥50.10"));
    app.screenshot("balance-drift").await;
    app.stop().await;
    secrets.delete(&account.expect("juhe account")).expect("remove the test secret");
}
