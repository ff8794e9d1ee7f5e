//! Property tests over every reply and callback parser: no panic on any bytes, and nothing but a
//! well-formed definite rejection (checked here independently, with serde_json / plain text search)
//! ever classifies as `Failed`.

use crate::{dingyin, juhe, oper, CallbackRequest, Verdict};
use proptest::prelude::*;

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..300),
        // Text made of the characters replies are built from, to reach deeper into the parsers.
        "[<>/a-z0-9 =&%\"{}:,\\[\\]?.-]{0,200}".prop_map(String::into_bytes),
    ]
}

/// Independent check: a dingyin XML with a rejection `resultno` (or, for a query, 9).
fn dingyin_is_definite(bytes: &[u8], codes: &[&str]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    codes.iter().any(|c| text.contains(&format!("<resultno>{c}</resultno>")))
}

fn json_field(bytes: &[u8], name: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    match v.get(name)? {
        serde_json::Value::String(s) => Some(s.trim().to_owned()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

const DINGYIN_REJECTED: &[&str] =
    &["5001", "5002", "5003", "5004", "5005", "5008", "5009", "5010", "5011", "5012"];

fn juhe_rejected(code: i64) -> bool {
    matches!(code, 10001..=10005 | 10007..=10009 | 10011..=10013 | 10020 | 10021 | 208501..=208507
        | 208509 | 208514 | 208515 | 208517)
}

fn callback(body: Vec<u8>, query: String, content_type: Option<String>) -> CallbackRequest {
    CallbackRequest { method: "POST".into(), content_type, query, body }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn dingyin_replies_never_fail_without_a_rejection(b in bytes()) {
        let r = dingyin::reply::classify_submit(&b, "SP0001");
        prop_assert!(r.verdict != Verdict::Failed || dingyin_is_definite(&b, DINGYIN_REJECTED));
        let q = dingyin::reply::classify_query(&b, "SP0001");
        prop_assert!(q.verdict != Verdict::Failed || dingyin_is_definite(&b, &["9"]));
        let _ = dingyin::reply::parse_balance(&b);
    }

    #[test]
    fn oper_replies_never_fail_without_a_rejection(b in bytes()) {
        let r = oper::reply::classify_submit(&b);
        prop_assert!(r.verdict != Verdict::Failed || json_field(&b, "code").as_deref() == Some("400"));
        // A query can only fail with a valid sign, which arbitrary bytes do not have.
        prop_assert_ne!(oper::reply::classify_query(&b, "K123", "1").verdict, Verdict::Failed);
        prop_assert!(oper::reply::parse_balance(&b, "K123").is_err());
    }

    #[test]
    fn juhe_replies_never_fail_without_a_rejection(b in bytes()) {
        let r = juhe::reply::classify_submit(&b, "TD00000001");
        let code = json_field(&b, "error_code").and_then(|c| c.parse::<i64>().ok());
        prop_assert!(r.verdict != Verdict::Failed || code.is_some_and(|c| juhe_rejected(c) || c == 0));
        let q = juhe::reply::classify_query(&b);
        prop_assert!(q.verdict != Verdict::Failed || code == Some(0));
        let _ = juhe::reply::parse_balance(&b);
        let _ = juhe::reply::parse_telcheck(&b);
        let _ = juhe::reply::parse_telquery(&b);
    }

    #[test]
    fn truncated_rejections_are_unknown(cut in 0usize..1000, code in prop::sample::select(DINGYIN_REJECTED)) {
        let xml = format!("<?xml version=\"1.0\" encoding=\"GB2312\"?><order><orderid>XS1</orderid>\
            <productname>游戏直充</productname><sporderid>SP0001</sporderid><resultno>{code}</resultno></order>");
        let gbk = encoding_rs::GBK.encode(&xml).0.into_owned();
        let cut = cut % gbk.len();
        prop_assert_ne!(dingyin::reply::classify_submit(&gbk[..cut], "SP0001").verdict, Verdict::Failed);
        prop_assert_eq!(dingyin::reply::classify_submit(&gbk, "SP0001").verdict, Verdict::Failed);

        let oper_body = r#"{"code":"400","count":"0","msg":"签名错误"}"#.as_bytes();
        let c = cut % oper_body.len();
        prop_assert_ne!(oper::reply::classify_submit(&oper_body[..c]).verdict, Verdict::Failed);

        let juhe_body = r#"{"reason":"余额不足","result":null,"error_code":208517}"#.as_bytes();
        let c = cut % juhe_body.len();
        prop_assert_ne!(juhe::reply::classify_submit(&juhe_body[..c], "TD00000001").verdict, Verdict::Failed);
    }

    #[test]
    fn callbacks_with_arbitrary_bytes_are_refused(b in bytes(), q in "[a-z_=&%0-9]{0,80}", json in any::<bool>()) {
        let ct = json.then(|| "application/json".to_owned());
        let req = callback(b, q, ct);
        prop_assert!(dingyin::callback::parse("A9000001", "DYKEY123", &req).is_err());
        prop_assert!(oper::callback::parse("3928857", "K123", &req).is_err());
        prop_assert!(juhe::callback::parse("appkey0123456789", &req).is_err());
    }
}
