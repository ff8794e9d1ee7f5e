//! Issue 11, item 12: a provider address on plain http is saved (dingyin and oper hand out bare
//! `IP:port` addresses), and the Settings screen warns beside it — the engine decides which fields,
//! the window only shows its answer.

use crate::harness::App;
use topup_engine::ProviderId;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_http_provider_address_is_saved_with_a_visible_warning() {
    let app = App::start().await;
    let secrets = topup_engine::session::secret_store();
    app.click("[data-testid=nav-settings]").await;
    app.wait_for("[data-testid=settings-provider-oper]").await;
    // juhe's default is https: no warning before anything is configured.
    assert_eq!(app.text_of("[data-testid=provider-juhe-base_url-plain-http]").await.unwrap(), "");

    // 192.0.2.0/24 is documentation space: nothing is ever sent there (and no key is asked for yet).
    app.type_into("[data-testid=provider-oper-base_url]", "http://192.0.2.10:8088").await;
    app.type_into("[data-testid=provider-oper-uid]", "10001").await;
    app.type_into("[data-testid=provider-oper-secret]", "oper-md5key-e2e-plain-http").await;
    app.click("[data-testid=provider-oper-save]").await;
    app.wait_for("[data-testid=provider-oper-saved]").await;
    let warning = app
        .wait_text("[data-testid=provider-oper-base_url-plain-http]", "the plain-http warning", |t| {
            t.contains("明文 http")
        })
        .await;
    assert!(warning.contains("https://"), "{warning}");
    assert_eq!(app.text_of("[data-testid=provider-oper-notify_url-plain-http]").await.unwrap(), "");
    app.client
        .execute(
            "document.querySelector(arguments[0]).scrollIntoView({block: 'center'});",
            vec![serde_json::json!("[data-testid=settings-provider-oper]")],
        )
        .await
        .expect("scroll to the oper card");
    app.screenshot("settings-http-warning").await;

    let book = app.book();
    let account =
        topup_engine::secrets::BookKeys::open(&book, &secrets).expect("book keys").account(ProviderId::Oper);
    app.stop().await;
    secrets.delete(&account).expect("remove the test secret");
}
