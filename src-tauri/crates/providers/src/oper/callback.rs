//! oper callback to `notify_url`: `uid, order_no, mobile_order_no, phone_number, face_value (fen),
//! status, sign = md5(uid + order_no + phone_number + face_value + status + md5key)`. The document does
//! not say form or JSON, so both are read (JSON when the content type says so or the body starts with
//! `{`); numbers in JSON are taken as their exact text. Answered with `ok`; oper tries 3 times only.

use super::reply::fen_to_li;
use super::table;
use crate::form::{self, Charset};
use crate::json::{integer_text, Obj};
use crate::sign::{md5_lower, sign_matches};
use crate::{CallbackError, CallbackRequest, CallbackUpdate, Verdict};

fn fields(request: &CallbackRequest) -> Result<Vec<(String, String)>, CallbackError> {
    let bytes = form::callback_bytes(request);
    let is_json = request.content_type.as_deref().is_some_and(|c| c.to_ascii_lowercase().contains("json"))
        || bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if is_json {
        let obj = Obj::parse(bytes).map_err(CallbackError::Malformed)?;
        let names = ["uid", "order_no", "mobile_order_no", "phone_number", "face_value", "status", "sign"];
        Ok(names.iter().filter_map(|n| obj.text(n).map(|v| ((*n).to_owned(), v))).collect())
    } else {
        let form = form::parse(bytes, Charset::Utf8).map_err(CallbackError::Malformed)?;
        Ok(form.pairs().to_vec())
    }
}

pub fn parse(uid: &str, key: &str, request: &CallbackRequest) -> Result<CallbackUpdate, CallbackError> {
    let fields = fields(request)?;
    let get = |name: &'static str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .ok_or(CallbackError::MissingField(name))
    };
    let (cb_uid, order_no, phone, face, status, sign) = (
        get("uid")?,
        get("order_no")?,
        get("phone_number")?,
        get("face_value")?,
        get("status")?,
        get("sign")?,
    );
    let expected = md5_lower(format!("{cb_uid}{order_no}{phone}{face}{status}{key}").as_bytes());
    if !sign_matches(sign, &expected) {
        return Err(CallbackError::BadSign);
    }
    if cb_uid != uid {
        return Err(CallbackError::WrongAccount);
    }
    if order_no.is_empty() {
        return Err(CallbackError::MissingField("order_no"));
    }
    let face = integer_text(face)
        .and_then(|f| f.parse::<i64>().ok())
        .and_then(fen_to_li)
        .ok_or_else(|| CallbackError::Malformed(format!("face_value “{face}” 不是整数分 / not whole fen")))?;
    let status = status.trim();
    let verdict = if table::CALLBACK_SUCCESS.contains(&status) {
        Verdict::Succeeded
    } else if table::CALLBACK_FAILED.contains(&status) {
        Verdict::Failed
    } else {
        Verdict::Unknown
    };
    Ok(CallbackUpdate {
        merchant_order_id: order_no.to_owned(),
        provider_order_id: get("mobile_order_no").ok().filter(|s| !s.is_empty()).map(str::to_owned),
        verdict,
        face: Some(face),
        code: Some(status.to_owned()),
        message: None,
        needs_confirmation: false,
        ack: table::ACK,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use topup_core::Li;

    fn req(content_type: &str, body: &str) -> CallbackRequest {
        CallbackRequest {
            method: "POST".into(),
            content_type: Some(content_type.into()),
            query: String::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    // python3 -c "import hashlib;print(hashlib.md5(b'39288572016042721060400049013999999999100' b'4' b'TESTKEY123').hexdigest())"
    const SIGN_4: &str = "471fc22aa1966fd60737c706beb32839";

    #[test]
    fn form_and_json_callbacks_verify() {
        let form = format!(
            "uid=3928857&order_no=20160427210604000490&mobile_order_no=508266044086865194\
             &phone_number=13999999999&face_value=100&status=4&sign={SIGN_4}"
        );
        let u = parse("3928857", "TESTKEY123", &req("application/x-www-form-urlencoded", &form)).unwrap();
        assert_eq!(u.verdict, Verdict::Succeeded);
        assert_eq!(u.merchant_order_id, "20160427210604000490");
        assert_eq!(u.provider_order_id.as_deref(), Some("508266044086865194"));
        assert_eq!(u.face, Some(Li::from_yuan(1)));
        assert_eq!(u.ack, "ok");
        let json = format!(
            r#"{{"uid":"3928857","order_no":"20160427210604000490","mobile_order_no":508266044086865194,"phone_number":"13999999999","face_value":100,"status":4,"sign":"{SIGN_4}"}}"#
        );
        let u = parse("3928857", "TESTKEY123", &req("application/json", &json)).unwrap();
        assert_eq!(u.verdict, Verdict::Succeeded);
        assert_eq!(u.provider_order_id.as_deref(), Some("508266044086865194"));
    }

    #[test]
    fn refused_and_failed_callbacks() {
        let form = |status: &str, sign: &str| {
            format!(
                "uid=3928857&order_no=20160427210604000490&mobile_order_no=1&phone_number=13999999999\
                 &face_value=100&status={status}&sign={sign}"
            )
        };
        let ct = "application/x-www-form-urlencoded";
        assert_eq!(parse("3928857", "TESTKEY123", &req(ct, &form("9", SIGN_4))), Err(CallbackError::BadSign));
        for (status, verdict) in [("9", Verdict::Failed), ("10", Verdict::Failed), ("5", Verdict::Unknown)] {
            let sign =
                md5_lower(format!("39288572016042721060400049013999999999100{status}TESTKEY123").as_bytes());
            let u = parse("3928857", "TESTKEY123", &req(ct, &form(status, &sign))).unwrap();
            assert_eq!(u.verdict, verdict, "{status}");
        }
        assert_eq!(parse("1", "TESTKEY123", &req(ct, &form("4", SIGN_4))), Err(CallbackError::WrongAccount));
        assert!(matches!(
            parse("3928857", "TESTKEY123", &req("application/json", "{")),
            Err(CallbackError::Malformed(_))
        ));
        assert_eq!(
            parse("3928857", "TESTKEY123", &req(ct, "uid=3928857")),
            Err(CallbackError::MissingField("order_no"))
        );
    }
}
