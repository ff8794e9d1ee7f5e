//! oper request building. Signs are lower-case MD5 of the plain UTF-8 concatenation of the values in
//! the document's order followed by the md5key; bodies are UTF-8 forms in the document's field order.
//! No body carries the md5key, so bodies are logged as sent.

use super::segments::{carrier_of, mobile_type};
use super::table;
use crate::form::{self, Charset};
use crate::sign::md5_lower;
use crate::{ProviderError, SubmitRequest};
use topup_core::ProductKind;

/// The unsigned order fields in the document's order: uid, order_no, order_type, mobile_type,
/// phone_number, face_value (fen), notify_url.
pub fn order_fields(
    uid: &str,
    default_notify_url: &str,
    order: &SubmitRequest,
) -> Result<Vec<(&'static str, String)>, ProviderError> {
    let invalid = |m: String| Err(ProviderError::InvalidOrder(m));
    if order.kind != ProductKind::Phone {
        return invalid("上游运营商只支持话费 / oper only sells phone top-ups".into());
    }
    if order.merchant_order_id.trim().is_empty() || order.merchant_order_id.len() > 64 {
        return invalid("订单号为空或过长 / order id empty or too long".into());
    }
    let phone = order.account.trim();
    if !crate::rules::phone::is_mobile(phone) {
        return invalid(format!("“{phone}”不是 11 位手机号 / not an 11-digit mobile number"));
    }
    let fen = match order.face.to_fen() {
        Ok(f) if f > 0 => f,
        Ok(_) => return invalid("面值须大于 0 / face value must be positive".into()),
        Err(e) => return invalid(e.to_string()),
    };
    let Some(carrier) = order.carrier.or_else(|| carrier_of(phone)) else {
        return invalid(format!(
            "无法判断“{phone}”的运营商，请手动选择 / unknown carrier for {phone}, choose one"
        ));
    };
    // oper requires `notify_url` (必填) and refuses an order without one; refuse it here instead, so
    // the user learns to set `notify_url` in the settings (any http(s) URL works when polling).
    let notify_url = order
        .notify_url
        .clone()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| default_notify_url.to_owned());
    if !(notify_url.starts_with("http://") || notify_url.starts_with("https://")) {
        return invalid("上游运营商要求回调地址，请在设置中填写 notify_url / oper requires a notify_url: set one in the settings".into());
    }
    Ok(vec![
        ("uid", uid.to_owned()),
        ("order_no", order.merchant_order_id.clone()),
        ("order_type", table::ORDER_TYPE_PHONE.to_owned()),
        ("mobile_type", mobile_type(carrier).to_owned()),
        ("phone_number", phone.to_owned()),
        ("face_value", fen.to_string()),
        ("notify_url", notify_url),
    ])
}

/// `md5(uid + order_no + phone_number + face_value + md5key)`.
pub fn order_sign(fields: &[(&'static str, String)], key: &str) -> String {
    let get = |n: &str| fields.iter().find(|(k, _)| *k == n).map(|(_, v)| v.as_str()).unwrap_or("");
    md5_lower(
        format!("{}{}{}{}{key}", get("uid"), get("order_no"), get("phone_number"), get("face_value"))
            .as_bytes(),
    )
}

pub fn order_body(
    uid: &str,
    default_notify_url: &str,
    key: &str,
    order: &SubmitRequest,
) -> Result<String, ProviderError> {
    let fields = order_fields(uid, default_notify_url, order)?;
    let sign = order_sign(&fields, key);
    let mut pairs: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (*n, v.as_str())).collect();
    pairs.push(("sign", &sign));
    form::body(&pairs, Charset::Utf8).map_err(|e| ProviderError::Config(e.to_string()))
}

/// `uid, order_no, sign = md5(uid + order_no + md5key)`.
pub fn query_body(uid: &str, key: &str, order_no: &str) -> String {
    let sign = md5_lower(format!("{uid}{order_no}{key}").as_bytes());
    utf8_body(&[("uid", uid), ("order_no", order_no), ("sign", &sign)])
}

/// `uid, sign = md5(uid + md5key)`.
pub fn balance_body(uid: &str, key: &str) -> String {
    let sign = md5_lower(format!("{uid}{key}").as_bytes());
    utf8_body(&[("uid", uid), ("sign", &sign)])
}

fn utf8_body(pairs: &[(&str, &str)]) -> String {
    // UTF-8 can encode every string, so this cannot fail.
    form::body(pairs, Charset::Utf8).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Carrier;
    use topup_core::Li;

    pub(crate) fn phone_order() -> SubmitRequest {
        SubmitRequest {
            merchant_order_id: "20160427210604000490".into(),
            kind: ProductKind::Phone,
            account: "13999999999".into(),
            face: Li::from_yuan(1),
            product_id: None,
            quantity: 1,
            area: None,
            server: None,
            electricity: None,
            carrier: None,
            order_time: "20160427210604".into(),
            notify_url: Some("http://www.baidu.com".into()),
            attempt: 1,
        }
    }

    #[test]
    fn order_body_is_byte_exact_with_an_independent_sign() {
        // python3 -c "import hashlib;print(hashlib.md5(('3928857'+'20160427210604000490'+'13999999999'+'100'+'TESTKEY123').encode()).hexdigest())"
        let body = order_body("3928857", "", "TESTKEY123", &phone_order()).unwrap();
        assert_eq!(
            body,
            "uid=3928857&order_no=20160427210604000490&order_type=1&mobile_type=1&phone_number=13999999999\
             &face_value=100&notify_url=http%3A%2F%2Fwww.baidu.com&sign=5dd29dfc1531fc3a502765e4eaab25b0"
        );
        assert!(!body.contains("TESTKEY123"));
    }

    #[test]
    fn carrier_face_and_kind_rules() {
        let mut o = phone_order();
        o.carrier = Some(Carrier::Telecom);
        let f = order_fields("1", "", &o).unwrap();
        assert!(f.contains(&("mobile_type", "3".into())));
        o.face = Li(1_005);
        assert!(order_fields("1", "", &o).is_err(), "half a fen");
        let mut o = phone_order();
        o.account = "19212345678".into();
        assert!(order_fields("1", "", &o).is_err(), "unknown segment without a carrier");
        o.carrier = Some(Carrier::Mobile);
        assert!(order_fields("1", "", &o).is_ok());
        let mut o = phone_order();
        o.kind = ProductKind::Game;
        assert!(order_fields("1", "", &o).is_err());
        let mut o = phone_order();
        o.notify_url = None;
        let f = order_fields("1", "http://default/cb", &o).unwrap();
        assert!(f.contains(&("notify_url", "http://default/cb".into())));
        assert!(order_fields("1", "", &o).is_err(), "oper requires a notify_url");
    }

    #[test]
    fn query_and_balance_bodies() {
        // python3 -c "import hashlib;print(hashlib.md5(b'3928857280399999349719680TESTKEY123').hexdigest())"
        assert_eq!(
            query_body("3928857", "TESTKEY123", "280399999349719680"),
            "uid=3928857&order_no=280399999349719680&sign=1fb76ae1961902c943bf9de23d0af06b"
        );
        // python3 -c "import hashlib;print(hashlib.md5(b'3928857TESTKEY123').hexdigest())"
        assert_eq!(
            balance_body("3928857", "TESTKEY123"),
            "uid=3928857&sign=9a67e5933d22e59e11d31f4a08406b57"
        );
    }
}
