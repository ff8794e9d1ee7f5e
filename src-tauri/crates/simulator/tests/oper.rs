//! oper over real HTTP: form and JSON submits, signed `data` strings with big ids, callbacks.

mod common;
use common::*;
use serde_json::Value;
use std::time::Duration;
use topup_sim::{Fault, OrderState, Script, Simulator, Target};

fn order_sign(order_no: &str, phone: &str, face: &str) -> String {
    md5_lower(format!("{OPER_UID}{order_no}{phone}{face}{OPER_KEY}").as_bytes())
}

fn order_form(order_no: &str, phone: &str, face: &str, notify: &str) -> String {
    let sign = order_sign(order_no, phone, face);
    String::from_utf8(form_with(
        &[
            ("uid", OPER_UID),
            ("order_no", order_no),
            ("order_type", "1"),
            ("mobile_type", "1"),
            ("phone_number", phone),
            ("face_value", face),
            ("notify_url", notify),
            ("sign", &sign),
        ],
        utf8,
    ))
    .expect("utf8")
}

async fn post(sim: &Simulator, path: &str, ct: &str, body: String) -> (u16, String) {
    let r = client()
        .post(format!("{}{path}", sim.base_url()))
        .header("Content-Type", ct)
        .body(body)
        .send()
        .await
        .expect("reply");
    (r.status().as_u16(), r.text().await.expect("text"))
}

async fn submit(sim: &Simulator, order_no: &str, notify: &str) -> Value {
    let (_, text) = post(
        sim,
        "/1/api/oper/order",
        "application/x-www-form-urlencoded",
        order_form(order_no, "13800138000", "10000", notify),
    )
    .await;
    serde_json::from_str(&text).expect("json")
}

fn code(v: &Value) -> String {
    match &v["code"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[tokio::test]
async fn form_submit_with_known_vector_then_duplicate() {
    let sim = start().await;
    // Hand-computed: python3 hashlib md5("3928857"+"20240601000000000001"+"13800138000"+"10000"+"opersandboxmd5key").
    assert_eq!(
        order_sign("20240601000000000001", "13800138000", "10000"),
        "af8dad6be15894d797d148a0076c6777"
    );
    let v = submit(&sim, "20240601000000000001", "http://127.0.0.1:9/n").await;
    assert_eq!(code(&v), "200");
    assert_eq!(v["msg"], "Success");
    assert_eq!(sim.charges("oper", "20240601000000000001"), 1);
    assert_eq!(sim.balance_li("oper"), topup_sim::SANDBOX_INITIAL_BALANCE_LI - 99_000);
    let v = submit(&sim, "20240601000000000001", "http://127.0.0.1:9/n").await;
    assert_eq!(code(&v), "400");
    assert!(v["msg"].as_str().is_some_and(|m| m.contains("重复")), "{v}");
    assert_eq!(sim.charges("oper", "20240601000000000001"), 1);
    assert_eq!(sim.balance_li("oper"), topup_sim::SANDBOX_INITIAL_BALANCE_LI - 99_000);
    sim.shutdown().await;
}

#[tokio::test]
async fn json_submit_and_code_as_string_or_number() {
    let sim = start().await;
    let mut saw_string = false;
    let mut saw_number = false;
    for i in 0..12 {
        let order_no = format!("J2024060100000{i:02}");
        let body = serde_json::json!({
            "uid": OPER_UID, "order_no": order_no, "order_type": 1, "mobile_type": 3,
            "phone_number": "18912345678", "face_value": 5000, "notify_url": "http://127.0.0.1:9/n",
            "sign": order_sign(&order_no, "18912345678", "5000"),
        });
        let (status, text) = post(&sim, "/1/api/oper/order", "application/json", body.to_string()).await;
        assert_eq!(status, 200);
        let v: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(code(&v), "200", "{text}");
        saw_string |= v["code"].is_string();
        saw_number |= v["code"].is_number();
    }
    assert!(saw_string && saw_number, "both shapes of code occur");
    sim.shutdown().await;
}

#[tokio::test]
async fn rejections() {
    let sim = start().await;
    let good = order_form("R000000001", "13800138000", "10000", "http://127.0.0.1:9/n");
    let bad_sign = good.replace("face_value=10000", "face_value=20000");
    let (_, t) = post(&sim, "/1/api/oper/order", "application/x-www-form-urlencoded", bad_sign).await;
    let v: Value = serde_json::from_str(&t).expect("json");
    assert_eq!(code(&v), "400");
    assert!(t.contains("签名"), "{t}");
    let no_notify = good.replace("notify_url=", "nothing=");
    let (_, t) = post(&sim, "/1/api/oper/order", "application/x-www-form-urlencoded", no_notify).await;
    assert!(t.contains("notify_url"), "{t}");
    let (_, t) = post(&sim, "/1/api/oper/order", "text/plain", good.clone()).await;
    assert!(t.contains("400"), "{t}");
    let upper = good.replace(
        &order_sign("R000000001", "13800138000", "10000"),
        &order_sign("R000000001", "13800138000", "10000").to_uppercase(),
    );
    let (_, t) = post(&sim, "/1/api/oper/order", "application/x-www-form-urlencoded", upper).await;
    assert!(t.contains("签名"), "upper-case sign refused: {t}");
    assert!(sim.orders().is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn balance_data_is_a_signed_string() {
    let sim = start().await;
    // Hand-computed: md5("3928857opersandboxmd5key").
    let (_, t) = post(
        &sim,
        "/1/api/oper/balance",
        "application/x-www-form-urlencoded",
        "uid=3928857&sign=64426d3fdef57cc1554ad630289478c7".into(),
    )
    .await;
    let v: Value = serde_json::from_str(&t).expect("json");
    assert_eq!(code(&v), "200", "{t}");
    let data = v["data"].as_str().expect("data is a string");
    assert_eq!(v["sign"].as_str(), Some(md5_lower(format!("{data}{OPER_KEY}").as_bytes()).as_str()));
    let d: Value = serde_json::from_str(data).expect("data json");
    assert_eq!(d["data"]["accountBalance"], topup_sim::SANDBOX_INITIAL_BALANCE_LI / 10);
    assert_eq!(d["data"]["currency"], "人民币");
    sim.shutdown().await;
}

async fn query(sim: &Simulator, order_no: &str) -> (Value, String) {
    let sign = md5_lower(format!("{OPER_UID}{order_no}{OPER_KEY}").as_bytes());
    let (_, t) = post(
        sim,
        "/1/api/oper/query_order",
        "application/x-www-form-urlencoded",
        format!("uid={OPER_UID}&order_no={order_no}&sign={sign}"),
    )
    .await;
    (serde_json::from_str(&t).expect("json"), t)
}

#[tokio::test]
async fn query_data_has_exact_big_integers_and_callback_is_signed() {
    let sim = start().await;
    let rx = receiver(vec!["ok"]).await;
    let order_no = "20240601000000000001";
    assert_eq!(code(&submit(&sim, order_no, &rx.url).await), "200");
    // Hand-computed: md5("3928857"+"20240601000000000001"+"opersandboxmd5key").
    assert_eq!(
        md5_lower(format!("{OPER_UID}{order_no}{OPER_KEY}").as_bytes()),
        "f3c2cca7f0b24e46a7ba8780b007e7e3"
    );
    let (v, _) = query(&sim, order_no).await;
    let data = v["data"].as_str().expect("string").to_string();
    let d: Value = serde_json::from_str(&data).expect("json");
    assert!([0, 2, 5, 6].contains(&d["data"]["statusId"].as_i64().expect("int")));
    assert!(eventually(|| rx.count() >= 1).await);
    let (v, _) = query(&sim, order_no).await;
    let data = v["data"].as_str().expect("string").to_string();
    assert_eq!(v["sign"].as_str(), Some(md5_lower(format!("{data}{OPER_KEY}").as_bytes()).as_str()));
    let d: Value = serde_json::from_str(&data).expect("json");
    assert_eq!(d["data"]["statusId"], 4);
    let mon = d["data"]["mobileOrderNo"].as_u64().expect("integer literal");
    assert!(mon > (1u64 << 53));
    assert!(data.contains(&format!("\"mobileOrderNo\":{mon}")), "raw literal: {data}");
    assert!(data.contains("\"operatorSn\":20240601000000000001"), "{data}");
    assert_eq!(d["data"]["amount"], 10000);
    // callback
    let f = parse_utf8_form(&rx.body(0));
    assert_eq!(get(&f, "status"), "4");
    assert_eq!(get(&f, "order_no"), order_no);
    assert_eq!(get(&f, "mobile_order_no"), mon.to_string());
    let expect = md5_lower(format!("{OPER_UID}{order_no}13800138000100004{OPER_KEY}").as_bytes());
    assert_eq!(get(&f, "sign"), expect);
    // not found
    let (v, _) = query(&sim, "NOPE").await;
    assert_eq!(code(&v), "400");
    sim.shutdown().await;
}

#[tokio::test]
async fn failed_settlement_refunds_and_callback_tries_three_times() {
    let sim = start().await;
    let rx = receiver(vec!["not ok"]).await;
    sim.script(Script::once(Target::Order("F000000001".into()), Fault::SettleFailed));
    assert_eq!(code(&submit(&sim, "F000000001", &rx.url).await), "200");
    assert_eq!(sim.balance_li("oper"), topup_sim::SANDBOX_INITIAL_BALANCE_LI - 99_000);
    assert!(eventually(|| rx.count() >= 3).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rx.count(), 3, "exactly 3 tries");
    assert_eq!(get(&parse_utf8_form(&rx.body(0)), "status"), "9");
    let (v, _) = query(&sim, "F000000001").await;
    let d: Value = serde_json::from_str(v["data"].as_str().expect("s")).expect("json");
    assert_eq!(d["data"]["statusId"], 9);
    assert_eq!(sim.balance_li("oper"), topup_sim::SANDBOX_INITIAL_BALANCE_LI);
    let o = &sim.orders()[0];
    assert_eq!(o.state, OrderState::Failed);
    assert!(o.refunded);
    assert!(!o.callback_acknowledged);
    assert_eq!(o.callback_attempts, 3);
    sim.shutdown().await;
}

#[tokio::test]
async fn rate_limit_is_http_429_and_places_nothing() {
    let mut cfg = config();
    cfg.rate_limit_per_sec = Some(2);
    let sim = Simulator::start(cfg).await.expect("start");
    let mut statuses = Vec::new();
    for i in 0..4 {
        let (s, _) = post(
            &sim,
            "/1/api/oper/order",
            "application/x-www-form-urlencoded",
            order_form(&format!("RL00000{i}"), "13800138000", "100", "http://127.0.0.1:9/n"),
        )
        .await;
        statuses.push(s);
    }
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 2, "{statuses:?}");
    assert_eq!(sim.orders().len(), 2);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (s, _) = post(
        &sim,
        "/1/api/oper/order",
        "application/x-www-form-urlencoded",
        order_form("RL000009", "13800138000", "100", "http://127.0.0.1:9/n"),
    )
    .await;
    assert_eq!(s, 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn query_about_another_order_and_unsigned_callback_fields() {
    let sim = start().await;
    let rx = receiver(vec!["ok"]).await;
    let order_no = "30240601000000000001";
    sim.script(Script::once(Target::Order(order_no.into()), Fault::QueryAboutOtherOrder));
    sim.script(Script::once(Target::Order(order_no.into()), Fault::CallbackUnsignedChanged));
    assert_eq!(code(&submit(&sim, order_no, &rx.url).await), "200");
    let (v, _) = query(&sim, order_no).await;
    let data = v["data"].as_str().expect("string").to_string();
    assert_eq!(
        v["sign"].as_str(),
        Some(md5_lower(format!("{data}{OPER_KEY}").as_bytes()).as_str()),
        "signed"
    );
    assert!(data.contains("\"operatorSn\":302406010000000000011,"), "{data}");
    let d: Value = serde_json::from_str(&data).expect("json");
    assert_eq!(d["data"]["statusId"], 9);
    let (v, _) = query(&sim, order_no).await;
    assert!(v["data"].as_str().expect("s").contains(&format!("\"operatorSn\":{order_no},")), "once only");
    assert!(eventually(|| rx.count() >= 1).await);
    let f = parse_utf8_form(&rx.body(0));
    let real = sim.orders()[0].provider_order_id.clone();
    assert_ne!(get(&f, "mobile_order_no"), real, "another id than the order's");
    let expect = md5_lower(format!("{OPER_UID}{order_no}13800138000100004{OPER_KEY}").as_bytes());
    assert_eq!(get(&f, "sign"), expect, "still validly signed");
    sim.shutdown().await;
}

/// Money moved behind the API over the control endpoints (a deposit, a planted charge) is on the
/// ledger, and oper's balance reply names the last entry: its id, record, income or expenditure.
#[tokio::test]
async fn the_balance_names_the_last_ledger_entry_and_admin_moves_are_on_it() {
    let sim = start().await;
    let balance = || async {
        let (_, t) = post(
            &sim,
            "/1/api/oper/balance",
            "application/x-www-form-urlencoded",
            "uid=3928857&sign=64426d3fdef57cc1554ad630289478c7".into(),
        )
        .await;
        let v: Value = serde_json::from_str(&t).expect("json");
        let d: Value = serde_json::from_str(v["data"].as_str().expect("data")).expect("data json");
        d["data"].clone()
    };
    let opening = balance().await;
    assert_eq!(opening["record"], "期初余额");
    let control = |path: &str, body: Value| {
        client().post(format!("{}{path}", sim.base_url())).body(body.to_string()).send()
    };
    let r = control("/_sim/deposit", serde_json::json!({"provider": "oper", "amount_li": 500_000}))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let after = balance().await;
    assert_eq!((after["record"].as_str(), after["income"].as_i64()), (Some("账户充值"), Some(50_000)));
    assert!(after["paymentDetailId"].as_u64() > opening["paymentDetailId"].as_u64());
    let plant = serde_json::json!({"provider": "oper", "merchant_order_id": "P1", "account": "13800000000",
                                   "face_li": 100_000, "cost_li": 99_000});
    assert_eq!(control("/_sim/plant_charge", plant.clone()).await.unwrap().status().as_u16(), 200);
    assert_eq!(control("/_sim/plant_charge", plant).await.unwrap().status().as_u16(), 400, "an id it has");
    let after = balance().await;
    assert_eq!((after["record"].as_str(), after["expenditure"].as_i64()), (Some("订单扣款"), Some(9_900)));
    assert_eq!(after["accountBalance"], (topup_sim::SANDBOX_INITIAL_BALANCE_LI + 500_000 - 99_000) / 10);
    let ledger: Value =
        client().get(format!("{}/_sim/ledger", sim.base_url())).send().await.unwrap().json().await.unwrap();
    let last = ledger.as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["merchant_order_id"].as_str(), last["balance_li"].as_i64()),
        (Some("P1"), Some(sim.balance_li("oper")))
    );
    sim.shutdown().await;
}
