//! juhe over real HTTP: multipart and urlencoded orders, GET queries, balance, per-account callbacks.

mod common;
use common::*;
use serde_json::Value;
use std::time::Duration;
use topup_sim::{OrderState, Simulator};

fn sign(phone: &str, cardnum: &str, orderid: &str) -> String {
    md5_lower(format!("{JH_OPENID}{JH_KEY}{phone}{cardnum}{orderid}").as_bytes())
}

fn multipart(fields: &[(&str, &str)]) -> (String, Vec<u8>) {
    let boundary = "------------------------d74496d66958873e";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn order_multipart(sim: &Simulator, phone: &str, cardnum: &str, orderid: &str, sign: &str) -> Value {
    let (ct, body) = multipart(&[
        ("key", JH_KEY),
        ("phoneno", phone),
        ("cardnum", cardnum),
        ("orderid", orderid),
        ("sign", sign),
    ]);
    let r = client()
        .post(format!("{}/ofpay/mobile/onlineorder", sim.base_url()))
        .header("Content-Type", ct)
        .body(body)
        .send()
        .await
        .expect("reply");
    serde_json::from_str(&r.text().await.expect("text")).expect("json")
}

async fn order(sim: &Simulator, phone: &str, cardnum: &str, orderid: &str) -> Value {
    order_multipart(sim, phone, cardnum, orderid, &sign(phone, cardnum, orderid)).await
}

async fn get_json(sim: &Simulator, path_query: &str) -> Value {
    let r = client().get(format!("{}{path_query}", sim.base_url())).send().await.expect("reply");
    serde_json::from_str(&r.text().await.expect("text")).expect("json")
}

#[tokio::test]
async fn multipart_order_with_known_vector() {
    let sim = start().await;
    // Hand-computed: python3 hashlib md5(openid+appkey+"13800138000"+"10"+"JH20240601000001").
    assert_eq!(sign("13800138000", "10", "JH20240601000001"), "4a138c26a46751120b819b9a2b7b4cbc");
    let v =
        order_multipart(&sim, "13800138000", "10", "JH20240601000001", "4a138c26a46751120b819b9a2b7b4cbc")
            .await;
    assert_eq!(v["error_code"], 0, "{v}");
    let r = &v["result"];
    assert_eq!(r["cardnum"], "10");
    assert_eq!(r["ordercash"], "10.02");
    assert_eq!(r["uorderid"], "JH20240601000001");
    assert_eq!(r["game_userid"], "13800138000");
    assert_eq!(r["game_state"], "0");
    assert!(r["sporder_id"].as_str().is_some_and(|s| s.starts_with('J')));
    assert!(r["cardname"].as_str().is_some_and(|s| s.contains("移动")));
    assert_eq!(sim.balance_li("juhe"), topup_sim::SANDBOX_INITIAL_BALANCE_LI - 10_020);
    sim.shutdown().await;
}

#[tokio::test]
async fn urlencoded_order_also_works() {
    let sim = start().await;
    let s = sign("18912345678", "1", "JHURLENC0001");
    let body = format!("key={JH_KEY}&phoneno=18912345678&cardnum=1&orderid=JHURLENC0001&sign={s}");
    let r = client()
        .post(format!("{}/ofpay/mobile/onlineorder", sim.base_url()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("reply");
    let v: Value = serde_json::from_str(&r.text().await.expect("t")).expect("json");
    assert_eq!(v["error_code"], 0, "{v}");
    assert_eq!(v["result"]["ordercash"], "1.002");
    sim.shutdown().await;
}

#[tokio::test]
async fn rejections_and_duplicates() {
    let sim = start().await;
    let (ct, body) = multipart(&[
        ("key", "wrong"),
        ("phoneno", "13800138000"),
        ("cardnum", "10"),
        ("orderid", "JHREJ00001"),
        ("sign", "x"),
    ]);
    let r = client()
        .post(format!("{}/ofpay/mobile/onlineorder", sim.base_url()))
        .header("Content-Type", ct)
        .body(body)
        .send()
        .await
        .expect("r");
    let v: Value = serde_json::from_str(&r.text().await.expect("t")).expect("json");
    assert_eq!(v["error_code"], 10001);
    assert_eq!(order_multipart(&sim, "13800138000", "10", "JHREJ00001", "bad").await["error_code"], 208514);
    assert_eq!(order(&sim, "13800138000", "10", "SHORT").await["error_code"], 208509);
    assert_eq!(order(&sim, "13800138000", "10", &"X".repeat(33)).await["error_code"], 208509);
    assert_eq!(order(&sim, "13800138000", "3", "JHREJ00001").await["error_code"], 208506);
    assert_eq!(order(&sim, "12000000000", "10", "JHREJ00001").await["error_code"], 208505);
    assert!(sim.orders().is_empty());
    assert_eq!(order(&sim, "13800138000", "10", "JHDUP00001").await["error_code"], 0);
    assert_eq!(order(&sim, "13800138000", "10", "JHDUP00001").await["error_code"], 208516);
    assert_eq!(sim.charges("juhe", "JHDUP00001"), 1);
    assert_eq!(sim.balance_li("juhe"), topup_sim::SANDBOX_INITIAL_BALANCE_LI - 10_020);
    sim.shutdown().await;
}

#[tokio::test]
async fn balance_too_low_places_nothing() {
    let mut cfg = config();
    cfg.initial_balance_li = 5_000;
    let sim = Simulator::start(cfg).await.expect("start");
    assert_eq!(order(&sim, "13800138000", "10", "JHLOW00001").await["error_code"], 208517);
    assert!(sim.orders().is_empty());
    assert_eq!(sim.balance_li("juhe"), 5_000);
    sim.shutdown().await;
}

#[tokio::test]
async fn ordersta_telcheck_telquery_yue() {
    let sim = start().await;
    assert_eq!(order(&sim, "13800138000", "1", "JHQ0000001").await["error_code"], 0);
    let v = get_json(&sim, &format!("/ofpay/mobile/ordersta?key={JH_KEY}&orderid=JHQ0000001")).await;
    assert_eq!(v["result"]["game_state"], "0");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let v = get_json(&sim, &format!("/ofpay/mobile/ordersta?key={JH_KEY}&orderid=JHQ0000001")).await;
    assert_eq!(v["error_code"], 0);
    assert_eq!(v["result"]["game_state"], "1");
    assert_eq!(v["result"]["uordercash"], "1.002");
    let v = get_json(&sim, &format!("/ofpay/mobile/ordersta?key={JH_KEY}&orderid=JHNOPE0001")).await;
    assert_eq!(v["error_code"], 208509, "a strict juhe: 错误的订单号");
    let v = get_json(&sim, "/ofpay/mobile/ordersta?key=nope&orderid=JHQ0000001").await;
    assert_eq!(v["error_code"], 10001);
    let v =
        get_json(&sim, &format!("/ofpay/mobile/telcheck?key={JH_KEY}&phoneno=13429660000&cardnum=10")).await;
    assert_eq!(v["error_code"], 0);
    let v =
        get_json(&sim, &format!("/ofpay/mobile/telcheck?key={JH_KEY}&phoneno=13429660000&cardnum=7")).await;
    assert_eq!(v["error_code"], 208501);
    let v =
        get_json(&sim, &format!("/ofpay/mobile/telquery?key={JH_KEY}&phoneno=13429660000&cardnum=10")).await;
    assert_eq!(v["error_code"], 0);
    assert_eq!(v["result"]["inprice"], "10.02");
    assert!(v["result"]["cardid"].is_string() && v["result"]["game_area"].is_string());
    // Hand-computed: md5(openid+appkey+"1717200000") = eb4cc38e06eaed8c3266864becc14bca.
    let v = get_json(
        &sim,
        &format!("/ofpay/mobile/yue?key={JH_KEY}&timestamp=1717200000&sign=eb4cc38e06eaed8c3266864becc14bca"),
    )
    .await;
    assert_eq!(v["error_code"], 0, "{v}");
    assert_eq!(v["result"]["money"], "9998.998");
    let v = get_json(
        &sim,
        &format!("/ofpay/mobile/yue?key={JH_KEY}&timestamp=1717200001&sign=eb4cc38e06eaed8c3266864becc14bca"),
    )
    .await;
    assert_eq!(v["error_code"], 208514);
    sim.shutdown().await;
}

#[tokio::test]
async fn callback_goes_to_the_account_url_and_is_retried() {
    let sim = start().await;
    let rx = receiver(vec!["ok", "fail", "success"]).await;
    sim.set_juhe_callback_url(Some(rx.url.clone()));
    assert_eq!(order(&sim, "13800138000", "5", "JHCB000001").await["error_code"], 0);
    assert!(eventually(|| rx.count() >= 3).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rx.count(), 3, "only `success` acknowledges");
    let f = parse_utf8_form(&rx.body(2));
    assert_eq!(get(&f, "sta"), "1");
    assert_eq!(get(&f, "orderid"), "JHCB000001");
    let expect = md5_lower(format!("{JH_KEY}{}{}", get(&f, "sporder_id"), get(&f, "orderid")).as_bytes());
    assert_eq!(get(&f, "sign"), expect);
    let o = &sim.orders()[0];
    assert_eq!(o.state, OrderState::Succeeded);
    assert!(o.callback_acknowledged);
    sim.shutdown().await;
}

#[tokio::test]
async fn rate_limit_answers_10012() {
    let mut cfg = config();
    cfg.rate_limit_per_sec = Some(1);
    let sim = Simulator::start(cfg).await.expect("start");
    assert_eq!(order(&sim, "13800138000", "5", "JHRL000001").await["error_code"], 0);
    assert_eq!(order(&sim, "13800138000", "5", "JHRL000002").await["error_code"], 10012);
    assert_eq!(sim.orders().len(), 1);
    sim.shutdown().await;
}
