//! juhe callback (the URL is configured once per account): form `sporder_id, orderid, sta, sign` with
//! `sign = md5(appkey + sporder_id + orderid)` lower-case. The sign does **not** cover `sta`, so a
//! forged or altered state would pass verification: every update says `needs_confirmation` and the
//! engine confirms it with `ordersta` before moving money. Answered with `success`. The sign is a
//! plain concatenation, so the split between `sporder_id` and `orderid` is trusted only when both have
//! juhe's exact shapes (`orderid` 8–32 of `[A-Za-z0-9_-]`, `sporder_id` of the same characters).

use super::{request, table};
use crate::form::{self, Charset};
use crate::sign::{md5_lower, sign_matches};
use crate::{CallbackError, CallbackRequest, CallbackUpdate, Verdict};

pub fn parse(appkey: &str, request: &CallbackRequest) -> Result<CallbackUpdate, CallbackError> {
    let bytes = form::callback_bytes(request);
    let form = form::parse(bytes, Charset::Utf8).map_err(CallbackError::Malformed)?;
    let field = |name: &'static str| form.get(name).ok_or(CallbackError::MissingField(name));
    let (sporder_id, orderid, sta, sign) =
        (field("sporder_id")?, field("orderid")?, field("sta")?, field("sign")?);
    if !sign_matches(sign, &md5_lower(format!("{appkey}{sporder_id}{orderid}").as_bytes())) {
        return Err(CallbackError::BadSign);
    }
    if orderid.is_empty() {
        return Err(CallbackError::MissingField("orderid"));
    }
    if !request::order_id_ok(orderid) {
        return Err(CallbackError::Malformed(format!(
            "orderid“{orderid}”不是聚合的订单号格式 / orderid is not a juhe order id (8–32 of A-Z a-z 0-9 _ -)"
        )));
    }
    if sporder_id.len() > 64 || !request::id_chars_ok(sporder_id) {
        return Err(CallbackError::Malformed(format!(
            "sporder_id“{sporder_id}”格式不符 / sporder_id is not a juhe order id"
        )));
    }
    let verdict = match sta.trim() {
        table::CALLBACK_SUCCESS => Verdict::Succeeded,
        table::CALLBACK_FAILED => Verdict::Failed,
        _ => Verdict::Unknown,
    };
    Ok(CallbackUpdate {
        merchant_order_id: orderid.to_owned(),
        provider_order_id: Some(sporder_id.to_owned()).filter(|s| !s.is_empty()),
        verdict,
        face: None,
        code: Some(sta.trim().to_owned()),
        message: None,
        needs_confirmation: true,
        ack: table::ACK,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(body: &str) -> CallbackRequest {
        CallbackRequest {
            method: "POST".into(),
            content_type: Some("application/x-www-form-urlencoded".into()),
            query: String::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    // python3 -c "import hashlib;print(hashlib.md5(b'appkey0123456789' b'J2011251629516' b'TD20201125000001').hexdigest())"
    const SIGN: &str = "37fa9441bf071937e9ba13a69232e163";

    #[test]
    fn verified_callbacks_always_need_confirmation() {
        for (sta, verdict) in [("1", Verdict::Succeeded), ("9", Verdict::Failed), ("3", Verdict::Unknown)] {
            let body = format!("sporder_id=J2011251629516&orderid=TD20201125000001&sta={sta}&sign={SIGN}");
            let u = parse("appkey0123456789", &req(&body)).unwrap();
            assert_eq!(u.verdict, verdict);
            assert!(u.needs_confirmation);
            assert_eq!(u.ack, "success");
            assert_eq!(u.merchant_order_id, "TD20201125000001");
        }
    }

    #[test]
    fn refused_callbacks() {
        let body = format!("sporder_id=J2011251629516&orderid=TD20201125000002&sta=1&sign={SIGN}");
        assert_eq!(parse("appkey0123456789", &req(&body)), Err(CallbackError::BadSign));
        let body = format!("sporder_id=J2011251629516&orderid=TD20201125000001&sta=1&sign={SIGN}");
        assert_eq!(parse("otherkey", &req(&body)), Err(CallbackError::BadSign));
        assert_eq!(
            parse("k", &req("sporder_id=1&orderid=2&sign=x")),
            Err(CallbackError::MissingField("sta"))
        );
        assert!(matches!(parse("k", &req("sta=%G1")), Err(CallbackError::Malformed(_))));
    }
}
