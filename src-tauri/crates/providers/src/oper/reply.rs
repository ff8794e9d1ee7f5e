//! oper reply classification.
//!
//! Submit replies are `{code, count, msg}` with `code` as a string or a number. Balance and query
//! replies add `data`, a JSON **string**, and `sign = md5(data + md5key)`: the sign is checked (in
//! constant time) over the exact string before anything in it is believed. Inside `data`, ids such as
//! `mobileOrderNo` are integers beyond 2^53 and are kept as their exact digits.

use super::table;
use crate::json::{integer, Obj};
use crate::sign::{md5_lower, sign_matches};
use crate::{ProviderError, Reply, Verdict};
use topup_core::Li;

fn reply_with(code: Option<String>, message: Option<String>) -> Reply {
    Reply { code, message: message.filter(|m| !m.is_empty()), ..Reply::unknown("") }
}

/// Classifies an order-push reply to the `attempt`-th send of the order id.
///
/// `code` 400 is oper's one failure code for everything, a duplicate included, and its `msg` is free
/// text. On a first send a 400 is a rejection unless `msg` hints that the order may exist. On a resend
/// (`attempt` > 1) an earlier send may have placed the order, and a duplicate worded any other way
/// would read as a rejection: a 400 is unknown and the order is queried.
pub fn classify_submit(bytes: &[u8], attempt: u32) -> Reply {
    let obj = match Obj::parse(bytes) {
        Ok(o) => o,
        Err(e) => {
            return Reply::unknown(format!(
                "回复不是 JSON 对象，需查询 / reply is not a JSON object, must query: {e}"
            ))
        }
    };
    let code = obj.text("code").map(|c| c.trim().to_owned());
    let count = obj.text("count").map(|c| c.trim().to_owned());
    let msg = obj.text("msg");
    let mut reply = reply_with(code.clone(), msg.clone());
    let Some(code) = code else {
        reply.reason = "回复缺少 code，需查询 / reply lacks code, must query".into();
        return reply;
    };
    let count_n = integer(count.clone());
    match code.as_str() {
        table::CODE_OK if count.is_none() || count_n.is_some_and(|n| n > 0) => {
            reply.verdict = Verdict::Accepted;
            reply.reason = "code 200：已受理 / accepted".into();
        }
        table::CODE_OK => {
            reply.reason = "code 200 但 count 为 0，矛盾，需查询 / code 200 with count 0, must query".into();
        }
        table::CODE_FAILED if attempt > 1 => {
            reply.reason = format!(
                "重发（第 {attempt} 次）得到 code 400：先前的发送可能已下单，需查询 / code 400 on resend \
                 {attempt}: an earlier send may have placed the order, must query"
            );
        }
        table::CODE_FAILED => {
            let text = msg.unwrap_or_default().to_lowercase();
            if let Some(marker) = table::MAYBE_EXISTS_MARKERS.iter().find(|m| text.contains(*m)) {
                reply.reason = format!(
                    "code 400 但信息含“{marker}”，订单可能已存在，需查询 / code 400 hinting the order may exist, must query"
                );
            } else if count.is_some() && count_n != Some(0) {
                reply.reason =
                    "code 400 但 count 不为 0，需查询 / code 400 with a non-zero count, must query".into();
            } else {
                reply.verdict = Verdict::Failed;
                reply.reason = "code 400：明确拒绝，未扣款 / definitely rejected, not charged".into();
            }
        }
        other => {
            reply.reason = format!("未知 code {other}，需查询 / unknown code, must query");
        }
    }
    reply
}

/// Why a signed reply could not be trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataError {
    /// Not JSON, no data, inner JSON broken.
    Malformed(String),
    /// The sign does not match.
    BadSign,
    /// A well-formed reply with a code other than 200.
    Code { code: String, message: String },
}

/// Checks the outer reply, verifies `sign = md5(data + md5key)` and returns the inner `data` object
/// (the payload inside the signed JSON string).
pub fn verified_data(bytes: &[u8], key: &str) -> Result<Obj, DataError> {
    let outer = Obj::parse(bytes).map_err(DataError::Malformed)?;
    let code = outer.text("code").map(|c| c.trim().to_owned()).unwrap_or_default();
    if code != table::CODE_OK {
        return Err(DataError::Code { code, message: outer.text("msg").unwrap_or_default() });
    }
    let data = outer
        .string("data")
        .ok_or_else(|| DataError::Malformed("data 不是字符串 / data is not a JSON string".into()))?;
    let sign = outer.text("sign").ok_or_else(|| DataError::Malformed("缺少 sign / no sign".into()))?;
    let expected = md5_lower(format!("{data}{key}").as_bytes());
    if !sign_matches(&sign, &expected) {
        return Err(DataError::BadSign);
    }
    let inner = Obj::parse_str(&data).map_err(|e| DataError::Malformed(format!("data: {e}")))?;
    let inner_code = inner.text("code").map(|c| c.trim().to_owned());
    if inner_code.as_deref().is_some_and(|c| c != table::CODE_OK) {
        return Err(DataError::Code {
            code: inner_code.unwrap_or_default(),
            message: inner.text("msg").unwrap_or_default(),
        });
    }
    match inner.obj("data") {
        Some(Ok(payload)) => Ok(payload),
        Some(Err(e)) => Err(DataError::Malformed(format!("data.data: {e}"))),
        None => Err(DataError::Malformed("data 中缺少 data / data lacks data".into())),
    }
}

/// Whether the id oper reports (`operatorSn`, possibly sent as a number that lost leading zeros) is
/// our order number.
fn same_order(reported: &str, ours: &str) -> bool {
    if reported == ours {
        return true;
    }
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(reported) && digits(ours) && reported.trim_start_matches('0') == ours.trim_start_matches('0')
}

/// Classifies an order-query reply for `order_no`.
pub fn classify_query(bytes: &[u8], key: &str, order_no: &str) -> Reply {
    let data = match verified_data(bytes, key) {
        Ok(d) => d,
        Err(DataError::BadSign) => {
            return Reply::unknown(
                "查询回复签名错误，不予采信 / query reply signature mismatch, not trusted",
            );
        }
        Err(DataError::Malformed(e)) => {
            return Reply::unknown(format!("查询回复无法解析 / malformed query reply: {e}"));
        }
        Err(DataError::Code { code, message }) => {
            // **assumed**: the document gives no not-found code; the provider's message says so.
            let not_found = ["不存在", "not exist", "not found"].iter().any(|m| message.contains(m));
            let mut r = reply_with(Some(code.clone()), Some(message));
            r.not_found = not_found;
            r.reason = format!("查询失败 code {code}，结果未知 / query failed, outcome unknown");
            return r;
        }
    };
    let status = data.text("statusId").map(|s| s.trim().to_owned());
    let mut reply = reply_with(status.clone(), data.text("statusName"));
    match data.text("operatorSn") {
        Some(sn) if !same_order(&sn, order_no) => return reply.names_another_order("operatorSn", &sn),
        None => return reply.names_no_order("operatorSn"),
        Some(_) => {}
    }
    reply.provider_order_id = data.text("mobileOrderNo").filter(|s| !s.is_empty());
    reply.voucher = data.text("serialNumber").filter(|s| !s.is_empty());
    let Some(status) = status else {
        reply.reason = "查询回复缺少 statusId / query reply lacks statusId".into();
        return reply;
    };
    let s = status.as_str();
    if table::STATUS_SUCCESS.contains(&s) {
        reply.verdict = Verdict::Succeeded;
        reply.reason = format!("statusId {s}：充值成功 / succeeded");
    } else if table::STATUS_FAILED.contains(&s) {
        reply.verdict = Verdict::Failed;
        reply.reason = format!("statusId {s}：失败（退回或超时未付）/ failed (returned or timed out unpaid)");
    } else if table::STATUS_PENDING.contains(&s) {
        reply.verdict = Verdict::Accepted;
        reply.reason = format!("statusId {s}：处理中 / in progress");
    } else {
        reply.reason = format!("未知 statusId {s}，结果未知 / unknown status, outcome unknown");
    }
    reply
}

/// Fen to li without overflow.
pub fn fen_to_li(fen: i64) -> Option<Li> {
    fen.checked_mul(10).map(Li)
}

/// Reads a balance reply (`accountBalance` in fen) and the last ledger entry it names
/// (`paymentDetailId` with `record`, `gmtCreate`, `income`, `expenditure`), when it names one.
pub fn parse_balance(bytes: &[u8], key: &str) -> Result<(Li, Option<crate::LedgerRef>), ProviderError> {
    let data = verified_data(bytes, key).map_err(|e| match e {
        DataError::BadSign => ProviderError::BadSign,
        DataError::Malformed(m) => ProviderError::Malformed(m),
        DataError::Code { code, message } => ProviderError::Provider { code, message },
    })?;
    let amount = integer(data.text("accountBalance")).and_then(fen_to_li).ok_or_else(|| {
        ProviderError::Malformed("accountBalance 不是整数分 / accountBalance is not whole fen".into())
    })?;
    let ledger = data
        .text("paymentDetailId")
        .map(|id| id.trim().to_owned())
        .filter(|id| !id.is_empty() && id != "0")
        .map(|id| crate::LedgerRef {
            id,
            record: data.text("record").filter(|r| !r.is_empty()),
            at: integer(data.text("gmtCreate")),
            income: integer(data.text("income")).and_then(fen_to_li),
            expenditure: integer(data.text("expenditure")).and_then(fen_to_li),
        });
    Ok((amount, ledger))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The doc's query example, as the `data` string.
    pub(crate) const QUERY_DATA: &str = r#"{"code":200,"count":1,"data":{"amount":1000,"gmtCreate":1615105254000,"id":54630,"mobileOrderNo":507831667054165634,"operatorSn":280399999349719680,"operatorsName":"yys","rechargePhoneNumber":18888888888,"serialNumber":12599351947837504,"statusId":4,"statusName":"充值成功"},"msg":"success"}"#;

    /// Wraps a data string into a signed reply (the crate's md5 is checked against python above).
    pub(crate) fn signed(data: &str, key: &str) -> Vec<u8> {
        let sign = md5_lower(format!("{data}{key}").as_bytes());
        serde_json::json!({"code": "200", "count": "1", "msg": "success", "sign": sign, "data": data})
            .to_string()
            .into_bytes()
    }

    #[test]
    fn submit_classes() {
        let c = |b: &str| classify_submit(b.as_bytes(), 1);
        assert_eq!(c(r#"{"code":"200","count":"1","msg":"Success"}"#).verdict, Verdict::Accepted);
        assert_eq!(c(r#"{"code":200,"count":1,"msg":"Success"}"#).verdict, Verdict::Accepted);
        assert_eq!(c(r#"{"code":"400","count":"0","msg":"签名错误"}"#).verdict, Verdict::Failed);
        assert_eq!(c(r#"{"code":400,"count":0,"msg":"余额不足"}"#).verdict, Verdict::Failed);
        for dup in
            ["订单号重复", "订单已存在", "Duplicate order", "order already exists", "系统繁忙", "请求超时"]
        {
            let body = format!(r#"{{"code":400,"count":0,"msg":"{dup}"}}"#);
            assert_eq!(c(&body).verdict, Verdict::Unknown, "{dup}");
        }
        for other in [
            r#"{"code":"200","count":"0","msg":"Success"}"#,
            r#"{"code":400,"count":1,"msg":"x"}"#,
            r#"{"code":500,"count":0,"msg":"x"}"#,
            r#"{"count":0,"msg":"x"}"#,
            r#"{"code":true}"#,
            r#"{"code":400,"code":200}"#,
            r#"{"code":400,"count":0,"msg":"x""#,
            "<html><body>502 Bad Gateway</body></html>",
            "",
            "\u{0}\u{1}garbage",
        ] {
            assert_eq!(c(other).verdict, Verdict::Unknown, "{other}");
        }
        let r = c(r#"{"code":"400","count":"0","msg":"签名错误"}"#);
        assert_eq!(
            (r.code.as_deref(), r.message.as_deref(), r.retry_later),
            (Some("400"), Some("签名错误"), false)
        );
    }

    #[test]
    fn a_400_on_a_resend_is_unknown_whatever_its_words() {
        // A duplicate in words the marker list does not know, on a same-id resend (issue 11.4).
        for msg in ["订单已处理", "该单号已使用", "签名错误", "余额不足", ""] {
            let body = format!(r#"{{"code":400,"count":0,"msg":"{msg}"}}"#);
            assert_eq!(classify_submit(body.as_bytes(), 1).verdict, Verdict::Failed, "first send: {msg}");
            for attempt in [2, 3, u32::MAX] {
                let r = classify_submit(body.as_bytes(), attempt);
                assert_eq!((r.verdict, r.retry_later), (Verdict::Unknown, false), "{attempt}: {msg}");
                assert!(r.reason.contains("resend"), "{}", r.reason);
            }
        }
        // A 200 on a resend is still accepted.
        assert_eq!(classify_submit(br#"{"code":200,"count":1,"msg":"ok"}"#, 2).verdict, Verdict::Accepted);
    }

    #[test]
    fn a_query_reply_about_another_order_drops_its_facts() {
        let reply = signed(&QUERY_DATA.replace("\"statusId\":4", "\"statusId\":9"), "K123");
        let r = classify_query(&reply, "K123", "280399999349719681");
        assert_eq!((r.verdict, r.provider_order_id, r.voucher), (Verdict::Unknown, None, None));
        assert!(r.reason.contains("280399999349719680"), "{}", r.reason);
        let no_sn = QUERY_DATA.replace("\"operatorSn\":280399999349719680,", "");
        let r = classify_query(&signed(&no_sn, "K123"), "K123", "280399999349719680");
        assert_eq!((r.verdict, r.provider_order_id), (Verdict::Unknown, None));
    }

    #[test]
    fn doc_query_example_verifies_with_an_independent_sign() {
        // Computed independently: python3 -c "import hashlib;d='<QUERY_DATA pasted>';
        //   print(hashlib.md5((d+'TESTKEY123').encode()).hexdigest())"
        let sign = "9780edfc58e33cf47e231e770c298865";
        assert_eq!(md5_lower(format!("{QUERY_DATA}TESTKEY123").as_bytes()), sign);
        let reply = signed(QUERY_DATA, "TESTKEY123");
        let r = classify_query(&reply, "TESTKEY123", "280399999349719680");
        assert_eq!(r.verdict, Verdict::Succeeded);
        assert_eq!(r.provider_order_id.as_deref(), Some("507831667054165634"));
        assert_eq!(r.voucher.as_deref(), Some("12599351947837504"));
        assert_eq!(r.message.as_deref(), Some("充值成功"));
        // The 0-prefixed form of the same order number (the doc's operatorSn example) is the same order.
        assert_eq!(classify_query(&reply, "TESTKEY123", "0280399999349719680").verdict, Verdict::Succeeded);
        // Another order number is not.
        assert_eq!(classify_query(&reply, "TESTKEY123", "280399999349719681").verdict, Verdict::Unknown);
    }

    #[test]
    fn string_ids_with_leading_zero_stay_exact() {
        let data = QUERY_DATA
            .replace("\"operatorSn\":280399999349719680", "\"operatorSn\":\"0280399999349719680\"")
            .replace("\"mobileOrderNo\":507831667054165634", "\"mobileOrderNo\":\"0507831667054165634\"");
        let r = classify_query(&signed(&data, "K123"), "K123", "0280399999349719680");
        assert_eq!(r.verdict, Verdict::Succeeded);
        assert_eq!(r.provider_order_id.as_deref(), Some("0507831667054165634"));
    }

    #[test]
    fn query_status_classes() {
        let q = |status: &str| {
            let data = QUERY_DATA.replace("\"statusId\":4", &format!("\"statusId\":{status}"));
            classify_query(&signed(&data, "K123"), "K123", "280399999349719680").verdict
        };
        assert_eq!(q("4"), Verdict::Succeeded);
        assert_eq!(q("\"4\""), Verdict::Succeeded);
        assert_eq!(q("9"), Verdict::Failed);
        assert_eq!(q("1"), Verdict::Failed);
        for s in ["0", "2", "5", "6"] {
            assert_eq!(q(s), Verdict::Accepted, "{s}");
        }
        for s in ["3", "7", "10", "null", "\"x\""] {
            assert_eq!(q(s), Verdict::Unknown, "{s}");
        }
    }

    #[test]
    fn untrusted_query_replies_are_unknown() {
        let good = signed(QUERY_DATA.replace("\"statusId\":4", "\"statusId\":9").as_str(), "K123");
        assert_eq!(classify_query(&good, "K123", "280399999349719680").verdict, Verdict::Failed);
        // Wrong key → bad sign → unknown, never failed.
        assert_eq!(classify_query(&good, "OTHER", "280399999349719680").verdict, Verdict::Unknown);
        // data tampered after signing.
        let text = String::from_utf8(good.clone()).unwrap().replace("statusId\\\":9", "statusId\\\":1");
        assert_eq!(classify_query(text.as_bytes(), "K123", "280399999349719680").verdict, Verdict::Unknown);
        // data as an object instead of a string.
        let obj = format!(r#"{{"code":200,"count":1,"sign":"x","data":{QUERY_DATA}}}"#);
        assert_eq!(classify_query(obj.as_bytes(), "K123", "280399999349719680").verdict, Verdict::Unknown);
        // code 400 (e.g. not found) does not fail the order.
        let nf = r#"{"code":400,"count":0,"msg":"订单不存在"}"#.as_bytes();
        assert_eq!(classify_query(nf, "K123", "280399999349719680").verdict, Verdict::Unknown);
        // Truncated.
        assert_eq!(
            classify_query(&good[..good.len() - 5], "K123", "280399999349719680").verdict,
            Verdict::Unknown
        );
    }

    #[test]
    fn balance_in_fen() {
        let data = r#"{"code":200,"count":1,"data":{"accountBalance":138501,"billingDate":1614009600000,"currency":"人民币","expenditure":0,"gmtCreate":1614058382000,"id":35,"income":1188,"operatorName":"运营商","payMoney":1200,"paymentDetailId":54631,"record":"订单收款"},"msg":"success"}"#;
        let ledger = crate::LedgerRef {
            id: "54631".into(),
            record: Some("订单收款".into()),
            at: Some(1_614_058_382_000),
            income: Some(Li(11_880)),
            expenditure: Some(Li(0)),
        };
        assert_eq!(parse_balance(&signed(data, "K123"), "K123"), Ok((Li(1_385_010), Some(ledger))));
        // An id beyond 2^53 is kept digit for digit.
        let big = data.replace("54631", "9007199254740993123");
        assert_eq!(
            parse_balance(&signed(&big, "K123"), "K123").unwrap().1.unwrap().id,
            "9007199254740993123"
        );
        assert_eq!(parse_balance(&signed(data, "K123"), "K124"), Err(ProviderError::BadSign));
        let huge = data.replace("138501", "99999999999999999999");
        assert!(matches!(parse_balance(&signed(&huge, "K123"), "K123"), Err(ProviderError::Malformed(_))));
        assert!(matches!(
            parse_balance(br#"{"code":"400","count":"0","msg":"uid error"}"#, "K123"),
            Err(ProviderError::Provider { .. })
        ));
    }
}
