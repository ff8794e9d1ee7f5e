//! oper callback to `notify_url`: `uid, order_no, mobile_order_no, phone_number, face_value (fen),
//! status, sign = md5(uid + order_no + phone_number + face_value + status + md5key)`. The document does
//! not say form or JSON, so both are read (JSON when the content type says so or the body starts with
//! `{`); numbers in JSON are taken as their exact text. Answered with `ok`; oper tries 3 times only.
//!
//! Only signed fields are facts: `mobile_order_no` is outside the sign, so it is never stored (it
//! once overwrote a final order's provider order id); every update asks the engine to confirm by a
//! query, whose signed `data` carries the provider's id. The signed fields' shapes are checked
//! exactly before the signature's split is believed (see `check_shapes`).

use super::reply::fen_to_li;
use super::table;
use crate::form::{self, Charset};
use crate::json::Obj;
use crate::rules;
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

/// Longest `order_no` accepted (the order push refuses longer ones).
const MAX_ORDER_NO: usize = 64;
/// Longest `face_value` in fen digits (a 12-digit fen amount is ten billion yuan).
const MAX_FACE_DIGITS: usize = 12;

fn malformed(field: &str, value: &str, shape: &str) -> CallbackError {
    CallbackError::Malformed(format!("{field}“{value}”格式不符（应为{shape}）/ {field} has the wrong shape"))
}

/// The signed fields' exact shapes. oper's sign is a plain concatenation (`uid + order_no +
/// phone_number + face_value + status`), so a boundary can move under the same sign — phone
/// `13800000002` + face `1000` signs like phone `138000000021` + face `000`. With `uid` our own,
/// `phone_number` exactly 11 digits and `face_value` a canonical fen amount (no leading zero), a
/// documented `status` leaves one split. An undocumented `status` does not: then the face is not
/// trusted either (`None`), and the update is unknown (queried). `order_no` is one of the characters our
/// order ids use; ours all have one fixed length, so a shifted `order_no` names no order of ours.
fn check_shapes(order_no: &str, phone: &str, face: &str) -> Result<(), CallbackError> {
    if order_no.is_empty() {
        return Err(CallbackError::MissingField("order_no"));
    }
    if order_no.len() > MAX_ORDER_NO
        || !order_no.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(malformed("order_no", order_no, "1–64 位字母、数字、- 或 _ / 1–64 of A-Z a-z 0-9 - _"));
    }
    if !rules::phone::is_mobile(phone) {
        return Err(malformed("phone_number", phone, "11 位手机号 / an 11-digit mobile number"));
    }
    let canonical = !face.is_empty()
        && face.len() <= MAX_FACE_DIGITS
        && !face.starts_with('0')
        && face.bytes().all(|b| b.is_ascii_digit());
    if !canonical {
        return Err(malformed("face_value", face, "不以 0 开头的整数分 / whole fen without a leading zero"));
    }
    Ok(())
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
    check_shapes(order_no, phone, face)?;
    let verdict = if table::CALLBACK_SUCCESS.contains(&status) {
        Verdict::Succeeded
    } else if table::CALLBACK_FAILED.contains(&status) {
        Verdict::Failed
    } else {
        Verdict::Unknown
    };
    // Only a documented status pins the face/status boundary (see `check_shapes`).
    let face = match verdict {
        Verdict::Unknown => None,
        _ => face.parse::<i64>().ok().and_then(fen_to_li),
    };
    Ok(CallbackUpdate {
        merchant_order_id: order_no.to_owned(),
        // `mobile_order_no` is not signed: a hint at most, never stored (the submit reply's and the
        // query's signed `data` bring it as `mobileOrderNo`). The status is signed: a fact.
        provider_order_id: None,
        verdict,
        face,
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
        // `mobile_order_no` is not signed: never carried as the provider's order id. The status is
        // signed, so the callback settles the order without a confirming query.
        assert_eq!(u.provider_order_id, None);
        assert!(!u.needs_confirmation);
        assert_eq!(u.face, Some(Li::from_yuan(1)));
        assert_eq!(u.ack, "ok");
        let json = format!(
            r#"{{"uid":"3928857","order_no":"20160427210604000490","mobile_order_no":508266044086865194,"phone_number":"13999999999","face_value":100,"status":4,"sign":"{SIGN_4}"}}"#
        );
        let u = parse("3928857", "TESTKEY123", &req("application/json", &json)).unwrap();
        assert_eq!(u.verdict, Verdict::Succeeded);
        assert_eq!(u.provider_order_id, None);
        // Another unsigned mobile_order_no under the same sign changes nothing.
        let changed = form.replace("508266044086865194", "999999999999999999");
        let v = parse("3928857", "TESTKEY123", &req("application/x-www-form-urlencoded", &changed)).unwrap();
        assert_eq!(v, u);
    }

    fn signed_form(order_no: &str, phone: &str, face: &str, status: &str) -> String {
        let sign = md5_lower(format!("3928857{order_no}{phone}{face}{status}TESTKEY123").as_bytes());
        format!(
            "uid=3928857&order_no={order_no}&mobile_order_no=1&phone_number={phone}&face_value={face}\
             &status={status}&sign={sign}"
        )
    }

    #[test]
    fn a_moved_field_boundary_under_the_same_sign_is_refused() {
        let ct = "application/x-www-form-urlencoded";
        let good = signed_form("TD2406011200009ABCDE12", "13800000002", "1000", "4");
        let u = parse("3928857", "TESTKEY123", &req(ct, &good)).unwrap();
        assert_eq!((u.face, u.verdict), (Some(Li::from_yuan(10)), Verdict::Succeeded));
        // The same signed bytes, split differently: phone 138000000021 + face 000 (issue 11.3).
        let sign = good.rsplit_once("sign=").unwrap().1;
        let moved = |order_no: &str, phone: &str, face: &str, status: &str| {
            format!(
                "uid=3928857&order_no={order_no}&phone_number={phone}&face_value={face}&status={status}&sign={sign}"
            )
        };
        for (order_no, phone, face, status) in [
            ("TD2406011200009ABCDE12", "138000000021", "000", "4"),
            ("TD2406011200009ABCDE12", "1380000000", "21000", "4"),
            ("TD2406011200009ABCDE12", "13800000002", "100", "04"),
            ("TD2406011200009ABCDE12", "13800000002", "10004", ""),
            ("TD2406011200009ABCDE121", "3800000002", "1000", "4"),
            ("TD2406011200009ABCDE1", "21380000000", "21000", "4"),
        ] {
            let body = moved(order_no, phone, face, status);
            let r = parse("3928857", "TESTKEY123", &req(ct, &body));
            assert!(
                matches!(&r, Err(CallbackError::Malformed(_)))
                    || r.as_ref().is_ok_and(|u| u.verdict == Verdict::Unknown && u.face.is_none()),
                "{body}: {r:?}"
            );
        }
        // An undocumented status leaves the face/status split open: the face is not trusted.
        let odd = signed_form("TD2406011200009ABCDE12", "13800000002", "1000", "0");
        let u = parse("3928857", "TESTKEY123", &req(ct, &odd)).unwrap();
        assert_eq!((u.verdict, u.face), (Verdict::Unknown, None));
        // Shapes refused outright (correctly signed all the same).
        for (order_no, phone, face) in [
            ("TD1", "13800000002", "0100"),
            ("TD1", "+8613800000002", "100"),
            ("TD1", "23800000002", "100"),
            ("TD1", "13800000002", "1e3"),
            ("TD1", "13800000002", "-100"),
            ("TD 1", "13800000002", "100"),
            ("", "13800000002", "100"),
        ] {
            let body = signed_form(order_no, phone, face, "4");
            assert!(parse("3928857", "TESTKEY123", &req(ct, &body)).is_err(), "{body}");
        }
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
