//! Provider keys per order book, against the real keyring and the simulator (which checks the key):
//! two books keep their own keys, and a book written before per-book keys adopts the old entry
//! without taking it from another book.

use serde_json::json;
use topup_engine::api;
use topup_engine::book::Book;
use topup_engine::config::Registry;
use topup_engine::secrets::SecretStore;
use topup_engine::ProviderId;
use topup_sim::{SimConfig, Simulator, SANDBOX_JUHE_APPKEY, SANDBOX_JUHE_OPENID};

/// A keyring service of its own, so that no other test (and no real user's entry) is seen.
fn service(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("topup-desk-test-{tag}-{}-{nanos}", std::process::id())
}

fn book() -> (tempfile::TempDir, Book) {
    let dir = tempfile::tempdir().unwrap();
    let book = Book::open(&dir.path().join("orders.sqlite3")).unwrap();
    (dir, book)
}

/// Whether the book's juhe account answers the simulator's balance query (a wrong key is refused).
/// A fresh store each time: what counts is the OS keyring, not a cache.
async fn juhe_works(book: &Book, service: &str) -> bool {
    let registry = Registry::configured(book, &SecretStore::new(service)).unwrap();
    let Some(entry) = registry.providers.get(&ProviderId::Juhe) else { return false };
    entry.client.balance().await.0.is_ok()
}

#[tokio::test]
async fn two_order_books_keep_their_own_provider_keys() {
    let sim = Simulator::start(SimConfig::sandbox()).await.unwrap();
    let service = service("two-books");
    let store = SecretStore::new(&service);
    let settings = json!({"base_url": sim.base_url(), "openid": SANDBOX_JUHE_OPENID});
    let ((_a_dir, shop_a), (_b_dir, shop_b)) = (book(), book());
    api::save_provider(&shop_a, &store, ProviderId::Juhe, &settings, Some(SANDBOX_JUHE_APPKEY.into()))
        .unwrap();
    assert!(juhe_works(&shop_a, &service).await);
    // The second shop has its own juhe account: saving it must not replace the first shop's key.
    api::save_provider(&shop_b, &store, ProviderId::Juhe, &settings, Some("shop-b-appkey-0000".into()))
        .unwrap();
    assert!(juhe_works(&shop_a, &service).await, "shop A still pays with its own key");
    assert!(!juhe_works(&shop_b, &service).await, "shop B's key is its own (the simulator refuses it)");
    // Removing juhe from shop B leaves shop A's key alone.
    api::remove_provider(&shop_b, &store, ProviderId::Juhe).unwrap();
    let fresh = SecretStore::new(&service);
    let view = api::settings_view(&shop_a, &fresh, None, std::path::Path::new(".")).unwrap();
    assert!(view.providers.iter().any(|p| p.id == ProviderId::Juhe && p.has_secret));
    assert!(juhe_works(&shop_a, &service).await);
    api::remove_provider(&shop_a, &store, ProviderId::Juhe).unwrap();
    sim.shutdown().await;
}

#[tokio::test]
async fn a_book_from_before_per_book_keys_adopts_the_old_entry_without_taking_it_from_another() {
    let sim = Simulator::start(SimConfig::sandbox()).await.unwrap();
    let service = service("legacy");
    let store = SecretStore::new(&service);
    // What an older version left: one keyring entry per provider name, and two books relying on it,
    // one of them with a key left in plain text in its settings by the old `provider set`.
    let legacy = "provider/juhe";
    store.set(legacy, &topup_engine::Sensitive::new(SANDBOX_JUHE_APPKEY.to_owned())).unwrap();
    let settings = json!({"base_url": sim.base_url(), "openid": SANDBOX_JUHE_OPENID});
    let ((_a_dir, shop_a), (_b_dir, shop_b)) = (book(), book());
    let mut leaky = settings.clone();
    leaky["md5key"] = json!("left-in-sqlite-by-the-old-cli");
    shop_a.write(|tx| tx.put_provider_settings(ProviderId::Juhe, &leaky)).unwrap();
    shop_b.write(|tx| tx.put_provider_settings(ProviderId::Juhe, &settings)).unwrap();

    assert!(juhe_works(&shop_a, &service).await, "the first book opened adopts the old entry");
    assert!(store.get(legacy).unwrap().is_some(), "the old entry stays for the other book");
    assert!(juhe_works(&shop_b, &service).await, "the second book adopts it too");
    let stored = shop_a.provider_settings(ProviderId::Juhe).unwrap().unwrap();
    assert!(stored.get("md5key").is_none(), "the plain-text key is gone from SQLite: {stored}");
    assert_eq!(stored, settings);

    // After adoption each book's key is its own: a new key in shop A leaves shop B paying.
    api::save_provider(&shop_a, &store, ProviderId::Juhe, &settings, Some("shop-a-new-appkey".into()))
        .unwrap();
    assert!(juhe_works(&shop_b, &service).await);
    // A book created by this version never reads the old entry: a new shop does not inherit a key.
    let (_c_dir, shop_c) = book();
    api::settings_view(&shop_c, &store, None, std::path::Path::new(".")).unwrap();
    let err = api::save_provider(&shop_c, &store, ProviderId::Juhe, &settings, None).unwrap_err();
    assert!(err.to_string().contains("首次保存必须填写密钥"), "{err}");

    for shop in [&shop_a, &shop_b] {
        api::remove_provider(shop, &store, ProviderId::Juhe).unwrap();
    }
    store.delete(legacy).unwrap();
    sim.shutdown().await;
}

#[test]
fn a_book_from_before_keeps_an_explicit_http_address_and_gets_https_for_juhes_old_default() {
    let service = service("upgrade");
    let store = SecretStore::new(&service);
    let (dir, book) = book();
    book.write(|tx| {
        tx.put_provider_settings(
            ProviderId::Juhe,
            &json!({"base_url": "http://op.juhe.cn", "openid": "JH1"}),
        )?;
        tx.put_provider_settings(
            ProviderId::Dingyin,
            &json!({"base_url": "http://10.1.2.3:9086", "userid": "1"}),
        )
    })
    .unwrap();
    let view = api::settings_view(&book, &store, None, dir.path()).unwrap();
    let of = |id| view.providers.iter().find(|p| p.id == id).unwrap();
    assert_eq!(of(ProviderId::Juhe).settings["base_url"], "https://op.juhe.cn");
    assert!(of(ProviderId::Juhe).plain_http.is_empty());
    assert_eq!(
        of(ProviderId::Dingyin).settings["base_url"],
        "http://10.1.2.3:9086",
        "the user's choice stays"
    );
    assert_eq!(of(ProviderId::Dingyin).plain_http, ["base_url"], "and is warned about");
    // Only once: an explicit http://op.juhe.cn saved by this version is the user's choice (warned).
    book.write(|tx| {
        tx.put_provider_settings(ProviderId::Juhe, &json!({"base_url": "http://op.juhe.cn", "openid": "JH1"}))
    })
    .unwrap();
    let view = api::settings_view(&book, &store, None, dir.path()).unwrap();
    let juhe = view.providers.iter().find(|p| p.id == ProviderId::Juhe).unwrap();
    assert_eq!(
        (juhe.settings["base_url"].as_str(), juhe.plain_http.as_slice()),
        (Some("http://op.juhe.cn"), &["base_url".to_owned()][..])
    );
}
