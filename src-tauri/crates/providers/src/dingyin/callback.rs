//! dingyin callback to `back_url` (**assumed** format, see the provider-docs README): a GBK form with
//! `userid, orderid, sporderid, merchantsubmittime, resultno[, parvalue, remark1, payno, fundbalance]`,
//! signed `MD5("userid=..&orderid=..&sporderid=..&merchantsubmittime=..&resultno=..&key=..")`
//! upper-case over GBK bytes. Answered with `ok` once stored.
//!
//! Only signed fields are facts. `parvalue` (the amount) and `remark1` are outside the sign: the update
//! carries neither (`face: None`, `message: None`), so a changed amount can neither make the engine
//! skip a callback it then acknowledges (dingyin would stop retrying one that was never applied) nor
//! put an unsigned amount into the book; the amount of an order is the one we sent. A signed value
//! holding `&` or `=` could move the boundaries of the sign string, so it is refused.

use super::request::sign_gbk;
use super::table;
use crate::form::{self, Charset};
use crate::sign::sign_matches;
use crate::{CallbackError, CallbackRequest, CallbackUpdate, Verdict};

pub fn parse(userid: &str, key: &str, request: &CallbackRequest) -> Result<CallbackUpdate, CallbackError> {
    let form = form::parse(form::callback_bytes(request), Charset::Gbk).map_err(CallbackError::Malformed)?;
    let field = |name: &'static str| form.get(name).ok_or(CallbackError::MissingField(name));
    let (cb_userid, orderid, sporderid, time, resultno, sign) = (
        field("userid")?,
        field("orderid")?,
        field("sporderid")?,
        field("merchantsubmittime")?,
        field("resultno")?,
        field("sign")?,
    );
    let expected = sign_gbk(&format!(
        "userid={cb_userid}&orderid={orderid}&sporderid={sporderid}&merchantsubmittime={time}&resultno={resultno}&key={key}"
    ))
    .map_err(|e| CallbackError::Malformed(e.to_string()))?;
    if !sign_matches(sign, &expected) {
        return Err(CallbackError::BadSign);
    }
    if cb_userid != userid {
        return Err(CallbackError::WrongAccount);
    }
    if sporderid.is_empty() {
        return Err(CallbackError::MissingField("sporderid"));
    }
    for (name, value) in [("orderid", orderid), ("sporderid", sporderid), ("merchantsubmittime", time)] {
        if value.contains(['&', '=']) {
            return Err(CallbackError::Malformed(format!(
                "{name}“{value}”含 & 或 =，签名边界不明 / {name} holds & or =: the signed fields' boundaries are unclear"
            )));
        }
    }
    let verdict = match resultno {
        table::CALLBACK_SUCCESS => Verdict::Succeeded,
        table::CALLBACK_FAILED => Verdict::Failed,
        _ => Verdict::Unknown,
    };
    Ok(CallbackUpdate {
        merchant_order_id: sporderid.to_owned(),
        provider_order_id: Some(orderid.to_owned()).filter(|s| !s.is_empty()),
        verdict,
        // `parvalue` and `remark1` are not signed: never facts (see the module docs).
        face: None,
        code: Some(resultno.to_owned()),
        message: None,
        needs_confirmation: false,
        ack: table::ACK,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: &str) -> CallbackRequest {
        CallbackRequest {
            method: "POST".into(),
            content_type: Some("application/x-www-form-urlencoded".into()),
            query: String::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    // python3 -c "import hashlib;print(hashlib.md5(b'userid=10001&orderid=XS090428000003&sporderid=2009042800001&merchantsubmittime=20210224134552&resultno=1&key=TESTKEY123').hexdigest().upper())"
    const SIGN_1: &str = "4CAC8E4BEBBFD621834C4BAFA01227E3";

    #[test]
    fn verified_success_callback() {
        let body = format!(
            "userid=10001&orderid=XS090428000003&sporderid=2009042800001&merchantsubmittime=20210224134552\
             &resultno=1&parvalue=100&remark1=%C6%BE%D6%A4&sign={SIGN_1}"
        );
        let u = parse("10001", "TESTKEY123", &request(&body)).unwrap();
        assert_eq!(u.verdict, Verdict::Succeeded);
        assert_eq!(u.merchant_order_id, "2009042800001");
        assert_eq!(u.provider_order_id.as_deref(), Some("XS090428000003"), "signed");
        // parvalue and remark1 (%C6%BE%D6%A4 is 凭证 in GBK) are not signed: not carried.
        assert_eq!((u.face, u.message.as_deref()), (None, None));
        assert_eq!(u.ack, "ok");
        // Another amount under the same sign: the same update (issue 11.3), applied and acknowledged.
        let other_amount = body.replace("parvalue=100", "parvalue=1");
        assert_eq!(parse("10001", "TESTKEY123", &request(&other_amount)), Ok(u.clone()));
        assert!(!u.needs_confirmation);
        // Lower-case hex is the same signature.
        let lower = body.replace(SIGN_1, &SIGN_1.to_ascii_lowercase());
        assert!(parse("10001", "TESTKEY123", &request(&lower)).is_ok());
    }

    #[test]
    fn refused_callbacks() {
        let good = format!(
            "userid=10001&orderid=XS090428000003&sporderid=2009042800001&merchantsubmittime=20210224134552\
             &resultno=1&sign={SIGN_1}"
        );
        let changed = good.replace("resultno=1", "resultno=9");
        assert_eq!(parse("10001", "TESTKEY123", &request(&changed)), Err(CallbackError::BadSign));
        assert_eq!(parse("10001", "OTHERKEY", &request(&good)), Err(CallbackError::BadSign));
        assert_eq!(parse("10002", "TESTKEY123", &request(&good)), Err(CallbackError::WrongAccount));
        let missing = good.replace("&resultno=1", "");
        assert_eq!(
            parse("10001", "TESTKEY123", &request(&missing)),
            Err(CallbackError::MissingField("resultno"))
        );
        assert!(matches!(parse("10001", "TESTKEY123", &request("a=%Z")), Err(CallbackError::Malformed(_))));
        // A signed value holding `&`/`=` could move the sign string's boundaries: refused even when signed.
        let plain = "userid=10001&orderid=XS1&sporderid=SP1&resultno=1&sporderid=SP1\
                     &merchantsubmittime=20210224134552&resultno=1&key=TESTKEY123";
        let moved = format!(
            "userid=10001&orderid=XS1%26sporderid%3DSP1%26resultno%3D1&sporderid=SP1&merchantsubmittime=20210224134552\
             &resultno=1&sign={}",
            sign_gbk(plain).unwrap()
        );
        assert!(matches!(parse("10001", "TESTKEY123", &request(&moved)), Err(CallbackError::Malformed(_))));
        // GET callbacks carry the form in the query string.
        let get =
            CallbackRequest { method: "GET".into(), content_type: None, query: good.clone(), body: vec![] };
        assert!(parse("10001", "TESTKEY123", &get).is_ok());
    }
}
