//! juhe reply classification: `{"reason": .., "result": {..}, "error_code": 0}`.
//!
//! `error_code` 0 means the request was taken; then `game_state` decides (0 in progress, 1 success,
//! 9 and -1 failed). A non-zero code fails a submit only when it is in [`table::REJECTED`]; on a query
//! every non-zero code is unknown (a failed *query* says nothing about the order). Anything that is
//! not a well-formed JSON object with an integer `error_code` is unknown.

use super::table;
use crate::json::{integer, Obj};
use crate::{PhoneProduct, ProviderError, Reply, Verdict};
use topup_core::Li;

/// The rejection entry for a code, if it is a definite rejection.
pub fn rejection(code: i64) -> Option<(bool, &'static str)> {
    table::REJECTED
        .iter()
        .find(|(lo, hi, _, _)| (*lo..=*hi).contains(&code))
        .map(|(_, _, retry, text)| (*retry, *text))
}

struct Parsed {
    code: i64,
    reason: Option<String>,
    result: Option<Obj>,
}

fn parse(bytes: &[u8]) -> Result<Parsed, String> {
    let obj = Obj::parse(bytes)?;
    let code = integer(obj.text("error_code"))
        .ok_or("error_code 缺失或不是整数 / error_code missing or not an integer")?;
    let result = match obj.obj("result") {
        Some(Ok(r)) => Some(r),
        // `result` may be null or "" on errors.
        Some(Err(_)) | None => None,
    };
    Ok(Parsed { code, reason: obj.text("reason"), result })
}

fn state_verdict(reply: &mut Reply, state: Option<String>, missing_means: Verdict) {
    match state.as_deref().map(str::trim) {
        None => {
            reply.verdict = missing_means;
            reply.reason = match missing_means {
                Verdict::Accepted => "error_code 0：已受理 / accepted".into(),
                _ => "缺少 game_state，结果未知 / no game_state, outcome unknown".into(),
            };
        }
        Some(table::STATE_PENDING) => {
            reply.verdict = Verdict::Accepted;
            reply.reason = "game_state 0：充值中 / in progress".into();
        }
        Some(table::STATE_SUCCESS) => {
            reply.verdict = Verdict::Succeeded;
            reply.reason = "game_state 1：充值成功 / succeeded".into();
        }
        Some(s) if table::STATE_FAILED.contains(&s) => {
            reply.verdict = Verdict::Failed;
            reply.reason = format!("game_state {s}：充值失败或未受理 / failed or not accepted");
        }
        Some(s) => {
            reply.verdict = Verdict::Unknown;
            reply.reason = format!("未知 game_state {s}，结果未知 / unknown game_state, outcome unknown");
        }
    }
}

/// Classifies an `onlineorder` reply for our `orderid`.
pub fn classify_submit(bytes: &[u8], orderid: &str) -> Reply {
    let parsed = match parse(bytes) {
        Ok(p) => p,
        Err(e) => return Reply::unknown(format!("回复无法解析，需查询 / unparsable reply, must query: {e}")),
    };
    let mut reply =
        Reply { code: Some(parsed.code.to_string()), message: parsed.reason.clone(), ..Reply::unknown("") };
    if parsed.code != 0 {
        match rejection(parsed.code) {
            Some((retry_later, text)) => {
                reply.verdict = Verdict::Failed;
                reply.retry_later = retry_later;
                reply.reason = format!(
                    "error_code {}：明确拒绝，未扣款（{text}）/ definitely rejected, not charged",
                    parsed.code
                );
            }
            None => {
                reply.reason =
                    format!("error_code {}：结果未知，需查询 / outcome unknown, must query", parsed.code);
            }
        }
        return reply;
    }
    let Some(result) = parsed.result else {
        reply.verdict = Verdict::Accepted;
        reply.reason = "error_code 0：已受理 / accepted".into();
        return reply;
    };
    if let Some(other) = result.text("uorderid").filter(|u| !u.is_empty() && u != orderid) {
        return reply.names_another_order("uorderid", &other);
    }
    reply.provider_order_id = result.text("sporder_id").filter(|s| !s.is_empty());
    reply.cost = result.text("ordercash").and_then(|c| Li::parse_yuan(&c).ok());
    let state = result.text("game_state");
    if let Some(s) = &state {
        reply.code = Some(s.clone());
    }
    state_verdict(&mut reply, state, Verdict::Accepted);
    reply
}

/// Classifies an `ordersta` reply for our `orderid`; `known_sporder_id` is juhe's id for it when a
/// reply or callback gave it before.
///
/// Proof that the reply is about this order: a `uorderid`, when present, must be ours; `sporder_id`
/// (documented in the reply) must be present and, when we know juhe's id, equal to it. A reply
/// failing either is unknown and its facts are dropped. A non-zero `error_code` is unknown too (a
/// failed query says nothing about the order); the codes in [`table::QUERY_NOT_FOUND`] mark it
/// `not_found`.
pub fn classify_query(bytes: &[u8], orderid: &str, known_sporder_id: Option<&str>) -> Reply {
    let parsed = match parse(bytes) {
        Ok(p) => p,
        Err(e) => return Reply::unknown(format!("查询回复无法解析 / malformed query reply: {e}")),
    };
    let mut reply =
        Reply { code: Some(parsed.code.to_string()), message: parsed.reason.clone(), ..Reply::unknown("") };
    if parsed.code != 0 {
        reply.not_found = table::QUERY_NOT_FOUND.contains(&parsed.code);
        reply.reason = if reply.not_found {
            format!(
                "查询 error_code {}：聚合无此订单，结果未知 / juhe has no such order, outcome unknown",
                parsed.code
            )
        } else {
            format!("查询失败 error_code {}，结果未知 / query failed, outcome unknown", parsed.code)
        };
        return reply;
    }
    let Some(result) = parsed.result else {
        reply.reason = "查询回复缺少 result / query reply lacks result".into();
        return reply;
    };
    if let Some(other) = result.text("uorderid").filter(|u| !u.is_empty() && u != orderid) {
        return reply.names_another_order("uorderid", &other);
    }
    let Some(sporder_id) = result.text("sporder_id").filter(|s| !s.trim().is_empty()) else {
        return reply.names_no_order("sporder_id");
    };
    if let Some(known) = known_sporder_id.filter(|k| *k != sporder_id) {
        return reply.not_about_this_order(format!(
            "查询回复的 sporder_id“{sporder_id}”与本单的“{known}”不符，结果未知 / the query reply's \
             sporder_id “{sporder_id}” is not this order's “{known}”: outcome unknown"
        ));
    }
    reply.provider_order_id = Some(sporder_id);
    reply.cost = result.text("uordercash").and_then(|c| Li::parse_yuan(&c).ok());
    let state = result.text("game_state");
    if let Some(s) = &state {
        reply.code = Some(s.clone());
    }
    state_verdict(&mut reply, state, Verdict::Unknown);
    reply
}

fn provider_error(parsed: &Parsed) -> ProviderError {
    ProviderError::Provider {
        code: parsed.code.to_string(),
        message: parsed.reason.clone().unwrap_or_default(),
    }
}

/// Reads an (**assumed**) `yue` reply: `result.money` in yuan.
pub fn parse_balance(bytes: &[u8]) -> Result<Li, ProviderError> {
    let parsed = parse(bytes).map_err(ProviderError::Malformed)?;
    if parsed.code != 0 {
        return Err(provider_error(&parsed));
    }
    let money = parsed
        .result
        .as_ref()
        .and_then(|r| r.text("money"))
        .ok_or_else(|| ProviderError::Malformed("缺少 result.money / no result.money".into()))?;
    Li::parse_yuan(&money).map_err(|e| ProviderError::Malformed(e.to_string()))
}

/// `telcheck`: `Ok(None)` when supported, `Ok(Some(unsupported))` when juhe says no, an error for
/// account-level errors (10001–10021) and malformed replies.
pub fn parse_telcheck(bytes: &[u8]) -> Result<Option<PhoneProduct>, ProviderError> {
    let parsed = parse(bytes).map_err(ProviderError::Malformed)?;
    match parsed.code {
        0 => Ok(None),
        10001..=10021 => Err(provider_error(&parsed)),
        _ => Ok(Some(PhoneProduct {
            supported: false,
            card_id: None,
            card_name: None,
            in_price: None,
            area: None,
            message: parsed.reason,
        })),
    }
}

/// `telquery`: the product juhe would sell for this number and face.
pub fn parse_telquery(bytes: &[u8]) -> Result<PhoneProduct, ProviderError> {
    let parsed = parse(bytes).map_err(ProviderError::Malformed)?;
    if parsed.code != 0 {
        return Err(provider_error(&parsed));
    }
    let result = parsed.result.ok_or_else(|| ProviderError::Malformed("缺少 result / no result".into()))?;
    Ok(PhoneProduct {
        supported: true,
        card_id: result.text("cardid"),
        card_name: result.text("cardname"),
        in_price: result.text("inprice").and_then(|p| Li::parse_yuan(&p).ok()),
        area: result.text("game_area"),
        message: parsed.reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUBMIT_OK: &str = r#"{"reason":"订单提交成功,等待充值","result":{"cardid":"10423","cardnum":"1","ordercash":1.06,"cardname":"江苏电信话费1元","sporder_id":"J201125162114667xxxxxxxx","uorderid":"111111111","game_userid":"189xxxxxxxx","game_state":"0"},"error_code":0}"#;

    #[test]
    fn doc_submit_sample_is_accepted() {
        let r = classify_submit(SUBMIT_OK.as_bytes(), "111111111");
        assert_eq!(r.verdict, Verdict::Accepted);
        assert_eq!(r.cost, Some(Li(1_060)));
        assert_eq!(r.provider_order_id.as_deref(), Some("J201125162114667xxxxxxxx"));
        assert_eq!(classify_submit(SUBMIT_OK.as_bytes(), "222222222").verdict, Verdict::Unknown);
        let string_code = SUBMIT_OK.replace("\"error_code\":0", "\"error_code\":\"0\"");
        assert_eq!(classify_submit(string_code.as_bytes(), "111111111").verdict, Verdict::Accepted);
        let states = [
            ("1", Verdict::Succeeded),
            ("9", Verdict::Failed),
            ("-1", Verdict::Failed),
            ("7", Verdict::Unknown),
        ];
        for (state, verdict) in states {
            let body = SUBMIT_OK.replace("\"game_state\":\"0\"", &format!("\"game_state\":{state}"));
            assert_eq!(classify_submit(body.as_bytes(), "111111111").verdict, verdict, "{state}");
        }
    }

    #[test]
    fn every_error_code_class() {
        let c = |code: &str| {
            classify_submit(
                format!(r#"{{"reason":"x","result":null,"error_code":{code}}}"#).as_bytes(),
                "111111111",
            )
        };
        for code in
            [10001, 10005, 10007, 10008, 10009, 10020, 10021, 208501, 208507, 208509, 208514, 208515, 208517]
        {
            let r = c(&code.to_string());
            assert_eq!((r.verdict, r.retry_later), (Verdict::Failed, false), "{code}");
        }
        for code in [10011, 10012, 10013] {
            let r = c(&format!("\"{code}\""));
            assert_eq!((r.verdict, r.retry_later), (Verdict::Failed, true), "{code}");
        }
        for code in [10006, 10010, 10014, 10019, 10022, 208508, 208510, 208516, 208518, 1, -1] {
            assert_eq!(c(&code.to_string()).verdict, Verdict::Unknown, "{code}");
        }
        for body in [
            "",
            "<html><head><title>502 Bad Gateway</title></head></html>",
            r#"{"reason":"x","error_code":"abc"}"#,
            r#"{"reason":"x","error_code":10001.5}"#,
            r#"{"reason":"x"}"#,
            r#"{"reason":"x","error_code":208517"#,
            r#"{"error_code":208517,"error_code":0}"#,
            "\u{feff}garbage\u{0}",
        ] {
            assert_eq!(classify_submit(body.as_bytes(), "111111111").verdict, Verdict::Unknown, "{body}");
        }
    }

    fn query_body(state: &str, extra: &str) -> String {
        format!(
            r#"{{"reason":"查询成功","result":{{"uordercash":"1.060","sporder_id":"J2011251629516"{extra},"game_state":{state}}},"error_code":0}}"#
        )
    }

    #[test]
    fn query_classes() {
        let q = |state: &str| classify_query(query_body(state, "").as_bytes(), "TD0000000001", None);
        assert_eq!(q("\"9\"").verdict, Verdict::Failed);
        assert_eq!(q("9").cost, Some(Li(1_060)));
        assert_eq!(q("\"1\"").verdict, Verdict::Succeeded);
        assert_eq!(q("\"0\"").verdict, Verdict::Accepted);
        assert_eq!(q("\"-1\"").verdict, Verdict::Failed);
        assert_eq!(q("\"5\"").verdict, Verdict::Unknown);
        assert_eq!(q("null").verdict, Verdict::Unknown);
        // Failed queries never fail the order, even with a "rejection" code.
        for code in ["208508", "10001", "10014", "10012", "208509", "208513"] {
            let body = format!(r#"{{"reason":"x","result":null,"error_code":{code}}}"#);
            assert_eq!(
                classify_query(body.as_bytes(), "TD0000000001", None).verdict,
                Verdict::Unknown,
                "{code}"
            );
        }
    }

    #[test]
    fn every_no_such_order_code_is_not_found_at_query_time() {
        // 208509 错误的订单号 is what a strict juhe answers for an id it does not have; 208513 the assumed one.
        for (code, not_found) in
            [(208509, true), (208513, true), (208508, false), (10014, false), (208516, false)]
        {
            let body = format!(r#"{{"reason":"错误的订单号","result":null,"error_code":{code}}}"#);
            let r = classify_query(body.as_bytes(), "TD0000000001", None);
            assert_eq!((r.verdict, r.not_found), (Verdict::Unknown, not_found), "{code}");
        }
        // At submit time 208509 stays a definite rejection (a bad order id): nothing was placed.
        let body = r#"{"reason":"错误的订单号","result":null,"error_code":208509}"#;
        assert_eq!(classify_submit(body.as_bytes(), "TD0000000001").verdict, Verdict::Failed);
    }

    #[test]
    fn a_query_reply_about_another_order_is_unknown_and_its_facts_are_dropped() {
        let ours = "TD0000000001";
        // Names another uorderid, in juhe's failed state: the double top-up of issue 11.1.
        let other = query_body("\"9\"", r#","uorderid":"TD0000000002""#);
        let r = classify_query(other.as_bytes(), ours, None);
        assert_eq!(r.verdict, Verdict::Unknown, "{r:?}");
        assert_eq!((r.provider_order_id, r.cost), (None, None));
        assert!(r.reason.contains("TD0000000002") && r.reason.contains("another order"), "{}", r.reason);
        // A prefix or an extension of ours is another order too: the match is exact.
        for named in ["TD000000000", "TD00000000011", "td0000000001", " TD0000000001"] {
            let body = query_body("\"9\"", &format!(r#","uorderid":"{named}""#));
            assert_eq!(classify_query(body.as_bytes(), ours, None).verdict, Verdict::Unknown, "{named}");
        }
        // Naming ours is fine.
        let same = query_body("\"9\"", &format!(r#","uorderid":"{ours}""#));
        assert_eq!(classify_query(same.as_bytes(), ours, None).verdict, Verdict::Failed);
        // juhe's id for the order, when we know it, must be the one the reply names.
        let plain = query_body("\"9\"", "");
        assert_eq!(classify_query(plain.as_bytes(), ours, Some("J2011251629516")).verdict, Verdict::Failed);
        let r = classify_query(plain.as_bytes(), ours, Some("J2011251629999"));
        assert_eq!((r.verdict, r.provider_order_id), (Verdict::Unknown, None));
        // No sporder_id (documented in the reply): not proven to be about this order.
        for state in ["\"9\"", "\"1\"", "\"0\""] {
            let body = format!(
                r#"{{"reason":"查询成功","result":{{"uordercash":"1.060","game_state":{state}}},"error_code":0}}"#
            );
            let r = classify_query(body.as_bytes(), ours, None);
            assert_eq!((r.verdict, r.cost), (Verdict::Unknown, None), "{state}");
        }
        // The same holds for a submit reply: another uorderid drops juhe's id and cost, never fails.
        let body = SUBMIT_OK.replace("\"game_state\":\"0\"", "\"game_state\":\"9\"");
        let r = classify_submit(body.as_bytes(), "222222222");
        assert_eq!((r.verdict, r.provider_order_id, r.cost), (Verdict::Unknown, None, None));
    }

    #[test]
    fn balance_and_lookups() {
        let b = r#"{"reason":"查询成功","result":{"uid":"1","money":"100.500"},"error_code":0}"#;
        assert_eq!(parse_balance(b.as_bytes()), Ok(Li(100_500)));
        assert_eq!(parse_balance(br#"{"result":{"money":12.345},"error_code":0}"#), Ok(Li(12_345)));
        assert!(matches!(
            parse_balance(br#"{"reason":"key","error_code":10001}"#),
            Err(ProviderError::Provider { .. })
        ));
        let q = r#"{"reason":"查询成功","result":{"cardid":"10880","cardname":"浙江移动话费10元","inprice":"10.2","game_area":"浙江杭州移动"},"error_code":0}"#;
        let p = parse_telquery(q.as_bytes()).unwrap();
        assert_eq!(p.in_price, Some(Li(10_200)));
        assert_eq!(p.area.as_deref(), Some("浙江杭州移动"));
        assert_eq!(parse_telcheck(br#"{"reason":"ok","result":null,"error_code":0}"#), Ok(None));
        assert!(!parse_telcheck(br#"{"reason":"no","error_code":208502}"#).unwrap().unwrap().supported);
    }
}
