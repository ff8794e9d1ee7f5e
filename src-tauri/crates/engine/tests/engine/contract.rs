//! The typed wire contract: settings travel in camelCase and settings stored before that still load;
//! errors travel as a code from the one enum and a message in both halves.

use topup_engine::book::{Book, BookError};
use topup_engine::config::{EngineSettings, ENGINE_SETTINGS_KEY};
use topup_engine::contract::{ErrorCode, Message};
use topup_engine::run::stuck::{StuckProduct, StuckRule};

fn open() -> (tempfile::TempDir, Book) {
    let dir = tempfile::tempdir().unwrap();
    let book = Book::open(&dir.path().join("orders.sqlite3")).unwrap();
    (dir, book)
}

/// Engine settings as a release before the camelCase wire wrote them to the order book (with the
/// stuck rules of the release that added them, and the `unknown_alert_after_ms` of the one before).
const STORED_SNAKE_CASE: &str = r#"{"query_delays_ms":[1000,2000],"retry_delay_ms":7000,
"resend_after_not_found_ms":61000,"max_not_found_resends":4,"manual_review_after_ms":3600000,
"unknown_alert_after_ms":600000,"stuck_rules":[{"product":"phone_fast","province":"江苏",
"overdue_after_min":15,"review_after_min":90}],"callback_query_gap_ms":9000,"routing":{"phone":"oper"},
"fallback":{"oper":"juhe"},"duplicate_window_ms":7200000,
"callback":{"enabled":false,"bind":"0.0.0.0","port":18700,"public_url":"https://shop.example.com/topup",
"max_body_bytes":4096,"max_header_bytes":9000,"max_connections":100,"max_connections_per_ip":10,
"max_requests_per_second":50,"max_requests_per_second_per_ip":5,"header_timeout_ms":4000,
"request_timeout_ms":8000,"idle_timeout_ms":20000,"shutdown_grace_ms":1000,"trusted_proxies":["10.0.0.1"],
"refusal_log_first":3,"refusal_summary_secs":30},"low_balance":{"oper":500000},"auto_refresh_balance_secs":120}"#;

#[test]
fn settings_stored_in_snake_case_still_load_and_are_saved_in_camel_case() {
    let (_dir, book) = open();
    book.write(|tx| tx.put_app_setting(ENGINE_SETTINGS_KEY, STORED_SNAKE_CASE)).unwrap();
    let s = EngineSettings::load(&book).unwrap();
    assert_eq!(s.query_delays_ms, vec![1000, 2000]);
    assert_eq!(s.retry_delay_ms, 7000);
    assert_eq!(s.resend_after_not_found_ms, 61_000);
    assert_eq!(s.max_not_found_resends, 4);
    assert_eq!(s.manual_review_after_ms, 3_600_000);
    assert_eq!(
        s.stuck_rules,
        vec![StuckRule::new(StuckProduct::PhoneFast, None, Some("江苏"), 15, 90)],
        "stuck rules in snake_case"
    );
    assert_eq!(s.callback_query_gap_ms, 9000);
    assert_eq!(s.duplicate_window_ms, 7_200_000);
    assert_eq!(s.low_balance.get("oper"), Some(&500_000));
    assert_eq!(s.auto_refresh_balance_secs, 120);
    let c = &s.callback;
    assert!(!c.enabled);
    assert_eq!((c.bind.as_str(), c.port), ("0.0.0.0", 18700));
    assert_eq!(c.public_url.as_deref(), Some("https://shop.example.com/topup"));
    assert_eq!((c.max_body_bytes, c.max_header_bytes), (4096, 9000));
    assert_eq!((c.max_connections, c.max_connections_per_ip), (100, 10));
    assert_eq!((c.max_requests_per_second, c.max_requests_per_second_per_ip), (50, 5));
    assert_eq!((c.header_timeout_ms, c.request_timeout_ms, c.idle_timeout_ms), (4000, 8000, 20_000));
    assert_eq!(c.shutdown_grace_ms, 1000);
    assert_eq!(c.trusted_proxies, vec!["10.0.0.1".to_owned()]);
    assert_eq!((c.refusal_log_first, c.refusal_summary_secs), (3, 30));

    // Saved again: camelCase, and it reads back the same.
    s.save(&book).unwrap();
    let text = book.app_setting(ENGINE_SETTINGS_KEY).unwrap().unwrap();
    assert!(text.contains("\"queryDelaysMs\"") && text.contains("\"publicUrl\""), "{text}");
    assert!(text.contains("\"stuckRules\"") && text.contains("\"overdueAfterMin\""), "{text}");
    assert!(!text.contains("query_delays_ms") && !text.contains("public_url"), "{text}");
    assert!(!text.contains("stuck_rules") && !text.contains("overdue_after_min"), "{text}");
    assert_eq!(EngineSettings::load(&book).unwrap(), s);
}

#[test]
fn settings_travel_in_camel_case() {
    let v = serde_json::to_value(EngineSettings::default()).unwrap();
    for key in ["queryDelaysMs", "duplicateWindowMs", "lowBalance", "autoRefreshBalanceSecs"] {
        assert!(v.get(key).is_some(), "{key} missing in {v}");
    }
    assert!(v["callback"].get("maxConnectionsPerIp").is_some(), "{v}");
    assert!(v["stuckRules"][0].get("reviewAfterMin").is_some(), "{v}");
}

#[test]
fn an_error_has_one_code_from_the_enum_and_both_halves_of_its_message() {
    let e = BookError::DuplicateMerchantId("TD1".into());
    assert_eq!(e.code(), ErrorCode::DuplicateOrderId);
    assert_eq!(e.message(), Message::new("商户订单号 TD1 已存在", "merchant order id TD1 already exists"));
    // The glued form for logs and the command line comes from the pair.
    assert_eq!(e.to_string(), "商户订单号 TD1 已存在 / merchant order id TD1 already exists");
    assert_eq!(serde_json::to_value(e.code()).unwrap(), serde_json::json!("duplicate_order_id"));
}
