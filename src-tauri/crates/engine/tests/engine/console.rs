//! The operations layer (`api`): inputs as the window sends them, validated with errors naming the field;
//! provider accounts through the real keyring; figures for the balances screen.

use std::sync::Arc;
use std::time::Duration;
use topup_engine::api::{self, ElectricityInput, NewOrderInput};
use topup_engine::book::{Book, OrderState};
use topup_engine::config::{EngineSettings, Registry};
use topup_engine::run::Engine;
use topup_engine::secrets::SecretStore;
use topup_engine::{Li, ProductKind, ProviderId};
use topup_sim::{SimConfig, Simulator};

fn input(kind: ProductKind, account: &str, face: &str) -> NewOrderInput {
    NewOrderInput {
        provider: None,
        kind,
        account: account.into(),
        face: face.into(),
        product_id: None,
        area: None,
        server: None,
        quantity: None,
        electricity: None,
        sale: None,
        customer: None,
        speed: None,
    }
}

fn message(r: Result<topup_engine::order::CheckedOrder, api::ApiError>) -> String {
    match r {
        Err(e) => {
            assert_eq!(e.code(), "invalid_field");
            e.to_string()
        }
        Ok(_) => panic!("expected a field error"),
    }
}

/// The order check as the window runs it, with every provider available and the default routing.
fn checked(i: &NewOrderInput) -> Result<topup_engine::order::CheckedOrder, api::ApiError> {
    let settings = EngineSettings::default();
    i.check(&topup_engine::order::Context {
        default_kind: ProductKind::Phone,
        settings: &settings,
        available: &ProviderId::ALL,
    })
}

trait Request {
    fn request(&self) -> Result<topup_engine::order::CheckedOrder, api::ApiError>;
}

impl Request for NewOrderInput {
    fn request(&self) -> Result<topup_engine::order::CheckedOrder, api::ApiError> {
        checked(self)
    }
}

#[test]
fn order_input_errors_name_the_field() {
    assert!(message(input(ProductKind::Phone, "1381234567", "50").request()).contains("手机号"));
    assert!(message(input(ProductKind::Phone, "13812345678", "5O").request()).contains("面值"));
    assert!(message(input(ProductKind::Phone, "13812345678", "0").request()).contains("面值"));
    assert!(message(input(ProductKind::Phone, "13812345678", "1.0005").request()).contains("面值"));
    assert!(message(input(ProductKind::Douyin, "  ", "10").request()).contains("账号"));
    let mut e = input(ProductKind::Electricity, "0301234567", "100");
    assert!(message(e.request()).contains("电网"));
    e.electricity = Some(ElectricityInput {
        grid: "south".into(),
        mobile: None,
        id_card: Some("4401011990".into()),
        account_type: None,
        province: None,
        city: None,
    });
    assert!(message(e.request()).contains("身份证"));
    e.electricity.as_mut().unwrap().grid = "state".into();
    assert!(message(e.request()).contains("缴费手机号"));
    // Spaces inside a typed phone number are removed; the amount is exact (oper sells any fen).
    let mut oper = input(ProductKind::Phone, "138 1234 5678", "49.9");
    oper.provider = Some(ProviderId::Oper);
    let ok = oper.request().unwrap();
    assert_eq!((ok.account(), ok.face()), ("13812345678", Li(49_900)));
}

#[test]
fn juhe_area_text_splits_into_province_city_and_carrier() {
    use topup_providers::Carrier;
    assert_eq!(
        api::parse_area("浙江杭州移动"),
        (Some("浙江".into()), Some("杭州".into()), Some(Carrier::Mobile))
    );
    assert_eq!(
        api::parse_area("内蒙古呼和浩特联通"),
        (Some("内蒙古".into()), Some("呼和浩特".into()), Some(Carrier::Unicom))
    );
    assert_eq!(api::parse_area("北京电信"), (Some("北京".into()), None, Some(Carrier::Telecom)));
    assert_eq!(api::parse_area("未知"), (None, None, None));
}

/// Province and city come from the 7-digit segment table; the expected values are phone.dat's answers
/// (`python3 scripts/gen-segments.py phone-0.4.3.tar.gz --lookup 13812345678 18108001234`: "江苏 连云港
/// 移动", "四川 成都 电信").
#[test]
fn the_number_segment_gives_carrier_province_and_city() {
    use topup_providers::Carrier;
    let info = api::segment_info("13812345678");
    assert_eq!(
        (info.carrier, info.province.as_deref(), info.city.as_deref(), info.source),
        (Some(Carrier::Mobile), Some("江苏"), Some("连云港"), "segment")
    );
    let info = api::segment_info("18108001234");
    assert_eq!((info.province.as_deref(), info.city.as_deref()), (Some("四川"), Some("成都")));
    assert_eq!(info.carrier, Some(Carrier::Telecom));
    // 197 opened after the table's data (April 2020): the carrier from the 3-digit list, no region.
    let info = api::segment_info("19712345678");
    assert_eq!((info.carrier, info.province, info.city), (Some(Carrier::Mobile), None, None));
    for bad in ["", "1381234567", "138123456789", "1381234567x", "23812345678"] {
        assert_eq!(api::segment_info(bad), api::PhoneInfo { source: "segment", ..Default::default() });
    }
}

#[test]
fn juhe_telcheck_overrides_the_segment_where_it_says_more() {
    use topup_providers::{Carrier, PhoneProduct};
    let product = |area: Option<&str>| PhoneProduct {
        supported: true,
        card_id: None,
        card_name: Some("江苏移动话费50元".into()),
        in_price: None,
        area: area.map(str::to_owned),
        message: None,
    };
    let region = |i: &api::PhoneInfo| (i.carrier, i.province.clone(), i.city.clone(), i.source);
    let s = |x: &str| Some(x.to_owned());
    // A ported number: juhe knows the carrier today; province and city are juhe's too.
    let mut info = api::segment_info("13812345678");
    api::apply_telcheck(&mut info, &product(Some("江苏南京联通")));
    assert_eq!(region(&info), (Some(Carrier::Unicom), s("江苏"), s("南京"), "telcheck"));
    assert_eq!((info.supported, info.message.as_deref()), (Some(true), Some("江苏移动话费50元")));
    // Same province, no city: the segment's city stays.
    let mut info = api::segment_info("13812345678");
    api::apply_telcheck(&mut info, &product(Some("江苏移动")));
    assert_eq!(region(&info), (Some(Carrier::Mobile), s("江苏"), s("连云港"), "telcheck"));
    // Another province without a city: the segment's city goes with the segment's province.
    let mut info = api::segment_info("13812345678");
    api::apply_telcheck(&mut info, &product(Some("浙江电信")));
    assert_eq!(region(&info), (Some(Carrier::Telecom), s("浙江"), None, "telcheck"));
    // No province in the answer ("全国移动", or no area): the segment's region stays.
    for area in [Some("全国联通"), None] {
        let mut info = api::segment_info("13812345678");
        api::apply_telcheck(&mut info, &product(area));
        let carrier = if area.is_some() { Carrier::Unicom } else { Carrier::Mobile };
        assert_eq!(region(&info), (Some(carrier), s("江苏"), s("连云港"), "telcheck"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phone_info_uses_the_segment_and_asks_juhe_when_it_is_there() {
    let dir = tempfile::tempdir().unwrap();
    let book = Arc::new(Book::open(&dir.path().join("orders.sqlite3")).unwrap());
    let (sim, engine) = sandbox_engine(book.clone()).await;
    // The simulator's juhe answers "全国移动": the carrier from juhe, the region from the segment.
    let info = api::phone_info(&engine, "138 1234 5678", Some("50")).await.unwrap();
    assert_eq!(info.source, "telcheck");
    assert_eq!((info.province.as_deref(), info.city.as_deref()), (Some("江苏"), Some("连云港")));
    assert_eq!(info.supported, Some(true));
    // Without juhe: the segment only, and nothing is asked.
    let mut registry = Registry::sandbox(&sim.base_url(), &sim.dingyin_query_base_url(), None).unwrap();
    registry.providers.remove(&ProviderId::Juhe);
    let no_juhe = Engine::new(book, registry, EngineSettings::default());
    let info = api::phone_info(&no_juhe, "13812345678", Some("50")).await.unwrap();
    assert_eq!(info, api::segment_info("13812345678"));
    assert_eq!(info.province.as_deref(), Some("江苏"));
    sim.shutdown().await;
}

pub(crate) async fn sandbox_engine(book: Arc<Book>) -> (Simulator, Arc<Engine>) {
    let sim =
        Simulator::start(SimConfig { settle_after: Duration::from_millis(100), ..SimConfig::sandbox() })
            .await
            .unwrap();
    let registry = Registry::sandbox(&sim.base_url(), &sim.dingyin_query_base_url(), None).unwrap();
    (sim, Engine::new(book, registry, EngineSettings::default()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflight_warns_of_the_same_account_and_amount_and_shows_the_cost() {
    let dir = tempfile::tempdir().unwrap();
    let book = Arc::new(Book::open(&dir.path().join("orders.sqlite3")).unwrap());
    let (sim, engine) = sandbox_engine(book.clone()).await;
    let mut order = input(ProductKind::Phone, "13912345678", "50");
    order.provider = Some(ProviderId::Juhe);
    let first = api::preflight(&engine, &order).await.unwrap();
    assert!(first.duplicates.is_empty());
    assert!(first.problems.is_empty(), "{:?}", first.problems);
    // juhe's telquery price from the simulator: 50 yuan × 1.002.
    assert_eq!(first.cost, Some(Li(50_100)));
    let phone = first.phone.unwrap();
    assert_eq!(phone.source, "telcheck");
    engine.add_order(api::check(&engine, &order).unwrap()).unwrap();
    let second = api::preflight(&engine, &order).await.unwrap();
    assert_eq!(second.duplicates.len(), 1, "the order just placed is a duplicate within the window");
    // A face value juhe does not sell is a problem before anything is stored.
    let mut odd = order.clone();
    odd.face = "7".into();
    assert!(!api::preflight(&engine, &odd).await.unwrap().problems.is_empty());
    sim.shutdown().await;
}

#[test]
fn provider_accounts_go_to_the_keyring_and_never_into_the_view() {
    let dir = tempfile::tempdir().unwrap();
    let book = Book::open(&dir.path().join("orders.sqlite3")).unwrap();
    let secrets = SecretStore::new(format!("topup-desk-test-console-{}", std::process::id()));
    let settings = serde_json::json!({"base_url": "http://127.0.0.1:9", "openid": "JHopenid"});
    // The first save needs a secret.
    assert!(api::save_provider(&book, &secrets, ProviderId::Juhe, &settings, None).is_err());
    // The key may come inside the settings (as the command line sends it) or beside them (the window);
    // two different keys are refused, naming the field, and nothing is stored.
    let mut with_key = settings.clone();
    with_key["appkey"] = "juhe-secret-key-123".into();
    let err = api::save_provider(&book, &secrets, ProviderId::Juhe, &with_key, Some("other-key-456".into()))
        .unwrap_err();
    assert_eq!(err.code(), "invalid_field");
    assert!(err.to_string().contains("appkey"), "{err}");
    assert!(book.provider_settings(ProviderId::Juhe).unwrap().is_none());
    api::save_provider(&book, &secrets, ProviderId::Juhe, &with_key, Some("juhe-secret-key-123".into()))
        .unwrap();
    let view = api::settings_view(&book, &secrets, None, dir.path()).unwrap();
    assert!(!view.sandbox, "a configured provider ends sandbox mode");
    let juhe = view.providers.iter().find(|p| p.id == ProviderId::Juhe).unwrap();
    assert!(juhe.configured && juhe.has_secret);
    let shown = serde_json::to_string(&view).unwrap();
    assert!(!shown.contains("juhe-secret-key-123"), "{shown}");
    let stored = book.provider_settings(ProviderId::Juhe).unwrap().unwrap().to_string();
    assert!(!stored.contains("juhe-secret-key-123"), "secret fields are dropped from SQLite: {stored}");
    // Saving again without a secret keeps the stored one.
    api::save_provider(&book, &secrets, ProviderId::Juhe, &settings, None).unwrap();
    let account = topup_engine::secrets::BookKeys::open(&book, &secrets).unwrap().account(ProviderId::Juhe);
    assert!(secrets.get(&account).unwrap().is_some());
    api::remove_provider(&book, &secrets, ProviderId::Juhe).unwrap();
    assert!(secrets.get(&account).unwrap().is_none());
    assert!(api::settings_view(&book, &secrets, None, dir.path()).unwrap().sandbox);
}

#[test]
fn provider_stats_count_today_per_provider() {
    let dir = tempfile::tempdir().unwrap();
    let book = Book::open(&dir.path().join("orders.sqlite3")).unwrap();
    let day = api::local_day_start();
    book.write(|tx| {
        for (i, end) in [OrderState::Succeeded, OrderState::Succeeded, OrderState::Failed, OrderState::New]
            .into_iter()
            .enumerate()
        {
            let id = tx.insert_order(&topup_engine::book::NewOrder {
                merchant_order_id: format!("TDS{i:08}"),
                provider: ProviderId::Oper,
                kind: ProductKind::Phone,
                product_id: None,
                account: "13800000000".into(),
                details: serde_json::json!({}),
                face: Li::from_yuan(10),
                batch_id: None,
                resubmit_of: None,
                fallback_of: None,
            })?;
            if end != OrderState::New {
                tx.transition(id, OrderState::Submitting, "")?;
                tx.transition(id, end, "")?;
            }
        }
        Ok(())
    })
    .unwrap();
    let stats = book.provider_stats(day).unwrap();
    let oper = stats.iter().find(|s| s.provider == Some(ProviderId::Oper)).unwrap();
    assert_eq!(
        (oper.orders_today, oper.succeeded_today, oper.failed_today, oper.pending_today),
        (4, 2, 1, 1)
    );
    assert_eq!(oper.spend_today, Li::from_yuan(20));
    assert_eq!(oper.success_rate_bp, 6666);
    assert_eq!(oper.hourly.iter().sum::<i64>(), 4);
    let juhe = stats.iter().find(|s| s.provider == Some(ProviderId::Juhe)).unwrap();
    assert_eq!(juhe.orders_today, 0);
}
