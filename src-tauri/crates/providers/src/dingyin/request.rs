//! dingyin request building: parameter order, sign strings and GBK form bodies.
//!
//! The sign is `MD5("userid=..&productid=..&num=..&areaid=..&serverid=..&account=..&spordertime=..&
//! sporderid=..&key=..")` over the **GBK** bytes, upper-case hex, raw (not percent-encoded) values,
//! empty values as empty strings. `userip` and `back_url` are sent but not signed.

use crate::form::{self, Charset};
use crate::sign::md5_upper;
use crate::{Grid, ProviderError, SubmitRequest};
use topup_core::{ProductKind, ProviderId};

/// The parameters in the document's order (`userip` is not signed). `back_url` is added by the caller.
pub fn submit_params(
    userid: &str,
    order: &SubmitRequest,
) -> Result<Vec<(&'static str, String)>, ProviderError> {
    let invalid = |m: &str| Err(ProviderError::InvalidOrder(m.to_owned()));
    if order.merchant_order_id.trim().is_empty() || order.merchant_order_id.len() > 64 {
        return invalid("订单号为空或过长 / order id empty or too long");
    }
    if order.order_time.len() != 14 || !order.order_time.bytes().all(|b| b.is_ascii_digit()) {
        return invalid("下单时间须为 yyyyMMddHHmmss / order time must be yyyyMMddHHmmss");
    }
    // `num`: a game product is sold per unit (`num` = quantity); a phone top-up without a product id,
    // electricity and 抖音 are sold by the yuan (`num` = face value in whole yuan), since neither the
    // phone number nor note 1's account JSON carries an amount.
    let has_product = order.product_id.as_deref().is_some_and(|p| !p.is_empty());
    let per_unit = !crate::rules::face::whole_yuan_only(ProviderId::Dingyin, order.kind, has_product);
    let num = if per_unit {
        if order.quantity == 0 {
            return invalid("数量须大于 0 / quantity must be positive");
        }
        order.quantity.to_string()
    } else {
        match order.face.whole_yuan() {
            Some(y) if y > 0 => y.to_string(),
            _ => return invalid("面值须为正整数元 / face value must be a positive whole number of yuan"),
        }
    };
    if order.account.trim().is_empty() {
        return invalid("充值账号为空 / account is empty");
    }
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let (areaid, serverid, account, userip) = match order.kind {
        ProductKind::Electricity => {
            let Some(e) = &order.electricity else {
                return invalid("电费订单缺少电网信息 / electricity order lacks grid details");
            };
            let (areaid, username, userip) = match e.grid {
                Grid::State => {
                    let Some(mobile) = e.mobile.clone().filter(|m| !m.trim().is_empty()) else {
                        return invalid("国网电费须填写缴费人手机号 / State Grid needs the payer's mobile");
                    };
                    (mobile, String::new(), String::new())
                }
                Grid::South => {
                    let Some(id) = e.id_card.clone().filter(|m| m.chars().count() >= 6) else {
                        return invalid("南网电费须填写身份证号 / Southern Grid needs the ID card number");
                    };
                    let chars: Vec<char> = id.chars().collect();
                    let last6: String = chars[chars.len() - 6..].iter().collect();
                    (String::new(), last6, id)
                }
            };
            let account = electricity_account(&order.account, &username, e);
            (areaid, String::new(), account, userip)
        }
        _ => (opt(&order.area), opt(&order.server), order.account.clone(), String::new()),
    };
    let params = vec![
        ("userid", userid.to_owned()),
        ("productid", opt(&order.product_id)),
        ("num", num),
        ("areaid", areaid),
        ("serverid", serverid),
        ("account", account),
        ("userip", userip),
        ("spordertime", order.order_time.clone()),
        ("sporderid", order.merchant_order_id.clone()),
    ];
    // Refuse early what GBK cannot carry (an emoji in a game account), before anything is sent.
    for (name, value) in &params {
        form::encode(value, Charset::Gbk).map_err(|e| ProviderError::InvalidOrder(format!("{name}: {e}")))?;
    }
    if let Some(url) = &order.notify_url {
        form::encode(url, Charset::Gbk).map_err(|e| ProviderError::InvalidOrder(format!("back_url: {e}")))?;
    }
    Ok(params)
}

/// Note 1's JSON, with straight quotes and the document's key order.
pub fn electricity_account(account_no: &str, username: &str, e: &crate::Electricity) -> String {
    let s = |v: &str| serde_json::to_string(v).unwrap_or_else(|_| "\"\"".to_owned());
    let o = |v: &Option<String>| s(v.as_deref().unwrap_or(""));
    format!(
        "{{\"product_type\":\"3\",\"userid\":{},\"username\":{},\"type\":{},\"area\":{},\"city\":{}}}",
        s(account_no),
        s(username),
        o(&e.account_type),
        o(&e.province),
        o(&e.city)
    )
}

/// The exact text that is hashed for a submit (contains the key: never log it).
pub fn submit_sign_input(params: &[(&'static str, String)], key: &str) -> String {
    let mut text = String::new();
    for (name, value) in params.iter().filter(|(n, _)| *n != "userip") {
        text.push_str(name);
        text.push('=');
        text.push_str(value);
        text.push('&');
    }
    text.push_str("key=");
    text.push_str(key);
    text
}

/// MD5 of the GBK bytes of `text`, upper-case.
pub fn sign_gbk(text: &str) -> Result<String, ProviderError> {
    let bytes = form::encode(text, Charset::Gbk).map_err(|e| ProviderError::Config(e.to_string()))?;
    Ok(md5_upper(&bytes))
}

/// The complete submit body: doc order `userid, productid, num, areaid, serverid, account, userip,
/// spordertime, sporderid, sign[, back_url]`. It carries no secret, so it is logged as is.
pub fn submit_body(userid: &str, key: &str, order: &SubmitRequest) -> Result<String, ProviderError> {
    let params = submit_params(userid, order)?;
    let sign = sign_gbk(&submit_sign_input(&params, key))?;
    let mut pairs: Vec<(&str, &str)> = params.iter().map(|(n, v)| (*n, v.as_str())).collect();
    pairs.push(("sign", &sign));
    if let Some(url) = &order.notify_url {
        pairs.push(("back_url", url));
    }
    form::body(&pairs, Charset::Gbk).map_err(|e| ProviderError::Config(e.to_string()))
}

/// **Assumed** query body: `userid, sporderid, sign = MD5("userid=..&sporderid=..&key=..")`.
pub fn query_body(userid: &str, key: &str, sporderid: &str) -> Result<String, ProviderError> {
    let sign = sign_gbk(&format!("userid={userid}&sporderid={sporderid}&key={key}"))?;
    form::body(&[("userid", userid), ("sporderid", sporderid), ("sign", &sign)], Charset::Gbk)
        .map_err(|e| ProviderError::Config(e.to_string()))
}

/// **Assumed** balance body: `userid, sign = MD5("userid=..&key=..")`.
pub fn balance_body(userid: &str, key: &str) -> Result<String, ProviderError> {
    let sign = sign_gbk(&format!("userid={userid}&key={key}"))?;
    form::body(&[("userid", userid), ("sign", &sign)], Charset::Gbk)
        .map_err(|e| ProviderError::Config(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Electricity, SubmitRequest};
    use topup_core::Li;

    pub(crate) fn game_order() -> SubmitRequest {
        SubmitRequest {
            merchant_order_id: "2009042800001".into(),
            kind: ProductKind::Game,
            account: "玩家一号".into(),
            face: Li::from_yuan(100),
            product_id: Some("3312".into()),
            quantity: 1,
            area: Some("1".into()),
            server: Some("".into()),
            electricity: None,
            carrier: None,
            order_time: "20210224134552".into(),
            notify_url: None,
            attempt: 1,
        }
    }

    fn electricity_order(grid: Grid) -> SubmitRequest {
        SubmitRequest {
            merchant_order_id: "E20210224000001".into(),
            kind: ProductKind::Electricity,
            account: "123123123".into(),
            face: Li::from_yuan(100),
            product_id: Some("DF-GW".into()),
            quantity: 1,
            area: None,
            server: None,
            electricity: Some(Electricity {
                grid,
                mobile: Some("13590101510".into()),
                id_card: Some("44010619900101123X".into()),
                account_type: Some("1".into()),
                province: Some("江苏".into()),
                city: Some("南京".into()),
            }),
            carrier: None,
            order_time: "20210224134552".into(),
            notify_url: Some("http://cb.example/dy".into()),
            attempt: 1,
        }
    }

    #[test]
    fn game_sign_matches_an_independent_computation() {
        // Computed independently with python3:
        // python3 -c "import hashlib;print(hashlib.md5('userid=10001&productid=3312&num=1&areaid=1&serverid=&account=玩家一号&spordertime=20210224134552&sporderid=2009042800001&key=TESTKEY123'.encode('gbk')).hexdigest().upper())"
        let params = submit_params("10001", &game_order()).unwrap();
        let input = submit_sign_input(&params, "TESTKEY123");
        assert_eq!(input, "userid=10001&productid=3312&num=1&areaid=1&serverid=&account=玩家一号&spordertime=20210224134552&sporderid=2009042800001&key=TESTKEY123");
        assert_eq!(sign_gbk(&input).unwrap(), "75F094216EE5ECD5712FA950BEACC869");
    }

    #[test]
    fn game_body_is_byte_exact() {
        // python3 -c "import urllib.parse;print(urllib.parse.quote_plus('玩家一号'.encode('gbk')))"
        // -> %CD%E6%BC%D2%D2%BB%BA%C5
        let body = submit_body("10001", "TESTKEY123", &game_order()).unwrap();
        assert_eq!(
            body,
            "userid=10001&productid=3312&num=1&areaid=1&serverid=&account=%CD%E6%BC%D2%D2%BB%BA%C5&userip=\
             &spordertime=20210224134552&sporderid=2009042800001&sign=75F094216EE5ECD5712FA950BEACC869"
        );
        assert!(!body.contains("TESTKEY123"));
    }

    #[test]
    fn state_grid_sends_the_mobile_as_areaid_and_json_account() {
        let order = electricity_order(Grid::State);
        let params = submit_params("10001", &order).unwrap();
        let account = &params.iter().find(|(n, _)| *n == "account").unwrap().1;
        assert_eq!(
            account,
            r#"{"product_type":"3","userid":"123123123","username":"","type":"1","area":"江苏","city":"南京"}"#
        );
        // python3 -c "import hashlib;a='{\"product_type\":\"3\",\"userid\":\"123123123\",\"username\":\"\",\"type\":\"1\",\"area\":\"江苏\",\"city\":\"南京\"}';print(hashlib.md5(('userid=10001&productid=DF-GW&num=100&areaid=13590101510&serverid=&account='+a+'&spordertime=20210224134552&sporderid=E20210224000001&key=TESTKEY123').encode('gbk')).hexdigest().upper())"
        let sign = sign_gbk(&submit_sign_input(&params, "TESTKEY123")).unwrap();
        assert_eq!(sign, "D9DD59955915C26CFE414A81299FB434");
        // python3 -c "import urllib.parse;print(urllib.parse.urlencode([('account','{\"product_type\":\"3\",\"userid\":\"123123123\",\"username\":\"\",\"type\":\"1\",\"area\":\"江苏\",\"city\":\"南京\"}')],encoding='gbk'))"
        let body = submit_body("10001", "TESTKEY123", &order).unwrap();
        let expected = format!(
            "userid=10001&productid=DF-GW&num=100&areaid=13590101510&serverid=&account={}&userip=\
             &spordertime=20210224134552&sporderid=E20210224000001&sign={sign}&back_url=http%3A%2F%2Fcb.example%2Fdy",
            "%7B%22product_type%22%3A%223%22%2C%22userid%22%3A%22123123123%22%2C%22username%22%3A%22%22%2C\
             %22type%22%3A%221%22%2C%22area%22%3A%22%BD%AD%CB%D5%22%2C%22city%22%3A%22%C4%CF%BE%A9%22%7D"
        );
        assert_eq!(body, expected);
    }

    #[test]
    fn south_grid_sends_the_id_card_as_userip_and_its_last_six_as_username() {
        let order = electricity_order(Grid::South);
        let params = submit_params("10001", &order).unwrap();
        let get = |n: &str| params.iter().find(|(k, _)| *k == n).unwrap().1.clone();
        assert_eq!(get("areaid"), "");
        assert_eq!(get("userip"), "44010619900101123X");
        assert!(get("account").contains(r#""username":"01123X""#));
        // userip is not signed.
        assert!(!submit_sign_input(&params, "K").contains("44010619900101123X"));
    }

    #[test]
    fn invalid_orders_are_refused_before_sending() {
        let mut o = game_order();
        o.account = "玩家😀".into();
        assert!(submit_params("10001", &o).is_err());
        let mut o = game_order();
        o.order_time = "2021-02-24".into();
        assert!(submit_params("10001", &o).is_err());
        let mut o = electricity_order(Grid::State);
        o.electricity.as_mut().unwrap().mobile = None;
        assert!(submit_params("10001", &o).is_err());
        let mut o = electricity_order(Grid::South);
        o.electricity.as_mut().unwrap().id_card = Some("123".into());
        assert!(submit_params("10001", &o).is_err());
    }

    #[test]
    fn query_and_balance_bodies() {
        // python3 -c "import hashlib;print(hashlib.md5(b'userid=10001&sporderid=2009042800001&key=TESTKEY123').hexdigest().upper())"
        assert_eq!(
            query_body("10001", "TESTKEY123", "2009042800001").unwrap(),
            "userid=10001&sporderid=2009042800001&sign=41C041BF7DCF2B978B41FCCC8DE7E8C6"
        );
        // python3 -c "import hashlib;print(hashlib.md5(b'userid=10001&key=TESTKEY123').hexdigest().upper())"
        assert_eq!(
            balance_body("10001", "TESTKEY123").unwrap(),
            "userid=10001&sign=186D4997B0A7802D891834E5AEE8222E"
        );
    }
}
