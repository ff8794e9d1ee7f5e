//! juhe request building. `onlineorder` is a POST form `key, phoneno, cardnum, orderid, sign` with
//! `sign = md5(openid + key + phoneno + cardnum + orderid)` lower-case; the others are GET query
//! strings. Every request carries the app key as `key`, so each has a `shown` form with the key
//! replaced by `<redacted>` for the audit trail.

use super::table;
use crate::form::{self, Charset};
use crate::sign::md5_lower;
use crate::{ProviderError, SubmitRequest};
use topup_core::{Li, ProductKind, ProviderId};

/// A form body or query string as sent, and as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    pub sent: String,
    pub shown: String,
}

/// Builds `name=value&...`; the `key` parameter appears as `<redacted>` in `shown`.
fn with_key(pairs: &[(&str, &str)]) -> Query {
    let encode = |pairs: &[(&str, &str)]| form::body(pairs, Charset::Utf8).unwrap_or_default();
    let sent = encode(pairs);
    let shown = pairs
        .iter()
        .map(|(n, v)| if *n == "key" { "key=<redacted>".to_owned() } else { encode(&[(n, v)]) })
        .collect::<Vec<_>>()
        .join("&");
    Query { sent, shown }
}

/// The face value as whole yuan juhe sells.
pub fn face_yuan(face: Li) -> Result<i64, ProviderError> {
    match (crate::rules::face::check(ProviderId::Juhe, ProductKind::Phone, false, face), face.whole_yuan()) {
        (Ok(()), Some(y)) => Ok(y),
        _ => {
            let sold = crate::rules::face::faces_text(table::FACE_VALUES);
            Err(ProviderError::InvalidOrder(format!(
                "聚合只支持面值 {sold} 元，不支持 {face} / juhe sells only {sold} yuan, not {face}"
            )))
        }
    }
}

/// Whether every character of `id` is one of `[A-Za-z0-9_-]`, those of juhe's order ids.
pub fn id_chars_ok(id: &str) -> bool {
    id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether `id` is an order id juhe takes: 8–32 of `[A-Za-z0-9_-]`.
pub fn order_id_ok(id: &str) -> bool {
    (table::ORDER_ID_MIN..=table::ORDER_ID_MAX).contains(&id.len()) && id_chars_ok(id)
}

/// Checks an order before anything is sent; returns the phone number and the face in yuan.
pub fn check_order(order: &SubmitRequest) -> Result<(String, i64), ProviderError> {
    let invalid = |m: String| Err(ProviderError::InvalidOrder(m));
    if order.kind != ProductKind::Phone {
        return invalid("聚合只支持话费 / juhe only sells phone top-ups".into());
    }
    let id = &order.merchant_order_id;
    if !order_id_ok(id) {
        return invalid(format!(
            "聚合订单号须为 8–32 位字母、数字、- 或 _，“{id}”不符 / juhe order ids must be 8–32 letters, \
             digits, - or _"
        ));
    }
    let phone = order.account.trim();
    if !crate::rules::phone::is_mobile(phone) {
        return invalid(format!("“{phone}”不是 11 位手机号 / not an 11-digit mobile number"));
    }
    Ok((phone.to_owned(), face_yuan(order.face)?))
}

/// `md5(openid + key + phoneno + cardnum + orderid)`.
pub fn submit_sign(openid: &str, key: &str, phone: &str, cardnum: &str, orderid: &str) -> String {
    md5_lower(format!("{openid}{key}{phone}{cardnum}{orderid}").as_bytes())
}

pub fn submit_form(openid: &str, key: &str, order: &SubmitRequest) -> Result<Query, ProviderError> {
    let (phone, yuan) = check_order(order)?;
    let cardnum = yuan.to_string();
    let orderid = order.merchant_order_id.as_str();
    let sign = submit_sign(openid, key, &phone, &cardnum, orderid);
    Ok(with_key(&[
        ("key", key),
        ("phoneno", &phone),
        ("cardnum", &cardnum),
        ("orderid", orderid),
        ("sign", &sign),
    ]))
}

/// `ordersta?key=&orderid=`.
pub fn status_query(key: &str, orderid: &str) -> Query {
    with_key(&[("key", key), ("orderid", orderid)])
}

/// `telcheck` / `telquery`: `?key=&phoneno=&cardnum=`.
pub fn lookup_query(key: &str, phone: &str, yuan: i64) -> Query {
    with_key(&[("key", key), ("phoneno", phone), ("cardnum", &yuan.to_string())])
}

/// **Assumed** `yue?key=&timestamp=&sign=` with `sign = md5(openid + key + timestamp)`.
pub fn balance_query(openid: &str, key: &str, timestamp: &str) -> Query {
    let sign = md5_lower(format!("{openid}{key}{timestamp}").as_bytes());
    with_key(&[("key", key), ("timestamp", timestamp), ("sign", &sign)])
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn phone_order(id: &str, yuan: i64) -> SubmitRequest {
        SubmitRequest {
            merchant_order_id: id.into(),
            kind: ProductKind::Phone,
            account: "18912345678".into(),
            face: Li::from_yuan(yuan),
            product_id: None,
            quantity: 1,
            area: None,
            server: None,
            electricity: None,
            carrier: None,
            order_time: "20201125162114".into(),
            notify_url: None,
            attempt: 1,
        }
    }

    #[test]
    fn submit_form_is_byte_exact_with_an_independent_sign() {
        // python3 -c "import hashlib;print(hashlib.md5(b'JHopenid0001' b'appkey0123456789' b'18912345678' b'10' b'TD20201125000001').hexdigest())"
        let q =
            submit_form("JHopenid0001", "appkey0123456789", &phone_order("TD20201125000001", 10)).unwrap();
        assert_eq!(
            q.sent,
            "key=appkey0123456789&phoneno=18912345678&cardnum=10&orderid=TD20201125000001&sign=cd9b1b6d57e2cb6d6468115b8cc2b737"
        );
        assert_eq!(q.shown, "key=<redacted>&phoneno=18912345678&cardnum=10&orderid=TD20201125000001&sign=cd9b1b6d57e2cb6d6468115b8cc2b737");
    }

    #[test]
    fn balance_and_status_queries() {
        // python3 -c "import hashlib;print(hashlib.md5(b'JHopenid0001appkey01234567891606292474').hexdigest())"
        let q = balance_query("JHopenid0001", "appkey0123456789", "1606292474");
        assert_eq!(q.sent, "key=appkey0123456789&timestamp=1606292474&sign=b7a836d64c72a4a6cd80aa664fc50775");
        assert!(!q.shown.contains("appkey0123456789"));
        assert_eq!(status_query("k123", "TD20201125000001").shown, "key=<redacted>&orderid=TD20201125000001");
        assert_eq!(lookup_query("k123", "13429660000", 10).sent, "key=k123&phoneno=13429660000&cardnum=10");
    }

    #[test]
    fn local_refusals() {
        assert!(check_order(&phone_order("1234567", 10)).is_err(), "7 chars");
        assert!(check_order(&phone_order("12345678", 10)).is_ok(), "8 chars");
        assert!(check_order(&phone_order(&"1".repeat(32), 10)).is_ok(), "32 chars");
        assert!(check_order(&phone_order(&"1".repeat(33), 10)).is_err(), "33 chars");
        assert!(check_order(&phone_order("订单订单订单订单", 10)).is_err(), "non-ASCII");
        for ok in [1, 2, 5, 10, 20, 30, 50, 100, 300] {
            assert!(check_order(&phone_order("12345678", ok)).is_ok(), "{ok}");
        }
        for bad in [3, 200, 500, 0] {
            assert!(check_order(&phone_order("12345678", bad)).is_err(), "{bad}");
        }
        let mut o = phone_order("12345678", 10);
        o.face = Li(10_500);
        assert!(check_order(&o).is_err());
    }
}
