//! Property tests over every reply and callback parser: no panic on any bytes, and nothing but a
//! well-formed definite rejection (checked here independently, with serde_json / plain text search)
//! ever classifies as `Failed`; a well-formed reply about another order never gives a definite verdict
//! nor any fact; an oper callback re-split under the same sign never yields other facts.

use crate::sign::md5_lower;
use crate::{dingyin, juhe, oper, CallbackRequest, Reply, Verdict};
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
        let r = oper::reply::classify_submit(&b, 1);
        prop_assert!(r.verdict != Verdict::Failed || json_field(&b, "code").as_deref() == Some("400"));
        // On a resend nothing fails the order.
        prop_assert_ne!(oper::reply::classify_submit(&b, 2).verdict, Verdict::Failed);
        // A query can only fail with a valid sign, which arbitrary bytes do not have.
        prop_assert_ne!(oper::reply::classify_query(&b, "K123", "1").verdict, Verdict::Failed);
        prop_assert!(oper::reply::parse_balance(&b, "K123").is_err());
    }

    #[test]
    fn juhe_replies_never_fail_without_a_rejection(b in bytes()) {
        let r = juhe::reply::classify_submit(&b, "TD00000001");
        let code = json_field(&b, "error_code").and_then(|c| c.parse::<i64>().ok());
        prop_assert!(r.verdict != Verdict::Failed || code.is_some_and(|c| juhe_rejected(c) || c == 0));
        let q = juhe::reply::classify_query(&b, "TD00000001", None);
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
        prop_assert_ne!(oper::reply::classify_submit(&oper_body[..c], 1).verdict, Verdict::Failed);

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

/// Unknown, and nothing of the reply kept as a fact.
fn unmatched(r: &Reply) -> bool {
    r.verdict == Verdict::Unknown
        && r.provider_order_id.is_none()
        && r.cost.is_none()
        && r.voucher.is_none()
        && !r.not_found
}

fn ids() -> impl Strategy<Value = (String, String)> {
    // Not ours even after trimming white space or (oper's number quirk) leading zeros.
    ("[A-Z0-9]{8,24}", "[A-Za-z0-9 ]{0,26}").prop_filter("another order", |(ours, other)| {
        let other = other.trim();
        !other.is_empty() && other != ours && other.trim_start_matches('0') != ours.trim_start_matches('0')
    })
}

fn states() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["0", "1", "2", "4", "9", "-1", "10", "5007", "x", ""]).prop_map(str::to_owned)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn replies_about_another_order_are_never_definite((ours, other) in ids(), state in states(), quoted in any::<bool>()) {
        let st = if quoted || state.parse::<i64>().is_err() {
            serde_json::Value::String(state.clone()).to_string()
        } else {
            state.clone()
        };
        // juhe ordersta naming another uorderid (any state, with or without a sporder_id we know).
        let body = format!(r#"{{"reason":"查询成功","result":{{"uordercash":"1.060","sporder_id":"J1","uorderid":{},"game_state":{st}}},"error_code":0}}"#,
            serde_json::Value::String(other.clone()));
        prop_assert!(unmatched(&juhe::reply::classify_query(body.as_bytes(), &ours, None)));
        prop_assert!(unmatched(&juhe::reply::classify_query(body.as_bytes(), &ours, Some("J1"))));
        // ... naming ours but another juhe id than the one we know, or none.
        let body = format!(r#"{{"reason":"查询成功","result":{{"uordercash":"1.060","sporder_id":"J2","game_state":{st}}},"error_code":0}}"#);
        prop_assert!(unmatched(&juhe::reply::classify_query(body.as_bytes(), &ours, Some("J1"))));
        let body = format!(r#"{{"reason":"查询成功","result":{{"uordercash":"1.060","game_state":{st}}},"error_code":0}}"#);
        prop_assert!(unmatched(&juhe::reply::classify_query(body.as_bytes(), &ours, None)));
        // juhe onlineorder naming another uorderid.
        let body = format!(r#"{{"reason":"x","result":{{"ordercash":1.06,"sporder_id":"J1","uorderid":{},"game_state":{st}}},"error_code":0}}"#,
            serde_json::Value::String(other.clone()));
        prop_assert!(unmatched(&juhe::reply::classify_submit(body.as_bytes(), &ours)));
        // dingyin submit and query naming another sporderid.
        let xml = format!("<order><orderid>XS1</orderid><ordercash>1</ordercash><sporderid>{other}</sporderid>\
            <remark1>PZ</remark1><resultno>{state}</resultno></order>");
        prop_assert!(unmatched(&dingyin::reply::classify_submit(xml.as_bytes(), &ours)));
        prop_assert!(unmatched(&dingyin::reply::classify_query(xml.as_bytes(), &ours)));
        // oper query (correctly signed) naming another operatorSn.
        let data = format!(r#"{{"code":200,"count":1,"data":{{"mobileOrderNo":1,"operatorSn":{},"serialNumber":2,"statusId":{st}}},"msg":"success"}}"#,
            serde_json::Value::String(other.clone()));
        let sign = md5_lower(format!("{data}K123").as_bytes());
        let reply = serde_json::json!({"code": "200", "count": "1", "msg": "ok", "sign": sign, "data": data}).to_string();
        prop_assert!(unmatched(&oper::reply::classify_query(reply.as_bytes(), "K123", &ours)));
    }

    #[test]
    fn an_oper_callback_re_split_under_the_same_sign_never_yields_other_facts(
        order_no in "TD[A-Z0-9]{20}",
        phone in "1[0-9]{10}",
        fen in 1u64..10_000_000_000,
        status in prop::sample::select(vec!["4", "9", "10"]),
        cut_a in 0usize..40,
        cut_b in 0usize..40,
    ) {
        let face = fen.to_string();
        let sign = md5_lower(format!("3928857{order_no}{phone}{face}{status}K123").as_bytes());
        let form = |phone: &str, face: &str, status: &str| CallbackRequest {
            method: "POST".into(),
            content_type: Some("application/x-www-form-urlencoded".into()),
            query: String::new(),
            body: format!("uid=3928857&order_no={order_no}&mobile_order_no=7&phone_number={phone}\
                &face_value={face}&status={status}&sign={sign}").into_bytes(),
        };
        let original = oper::callback::parse("3928857", "K123", &form(&phone, &face, status)).unwrap();
        prop_assert!(original.verdict != Verdict::Unknown && original.face.is_some());
        // The same signed bytes after order_no, cut anywhere into phone / face / status.
        let rest = format!("{phone}{face}{status}");
        let (a, b) = (cut_a % (rest.len() + 1), cut_b % (rest.len() + 1));
        let (a, b) = (a.min(b), a.max(b));
        let parsed = oper::callback::parse("3928857", "K123", &form(&rest[..a], &rest[a..b], &rest[b..]));
        if let Ok(u) = parsed {
            prop_assert!(u == original || (u.verdict == Verdict::Unknown && u.face.is_none()), "{u:?} vs {original:?}");
        }
    }
}
