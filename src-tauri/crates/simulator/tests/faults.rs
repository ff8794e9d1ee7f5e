//! Scripted faults, the control endpoints, and robustness against junk input.

mod common;
use common::*;
use serde_json::Value;
use std::time::{Duration, Instant};
use topup_sim::{Fault, OrderState, Script, Simulator, Target};

fn juhe_form(orderid: &str, phone: &str) -> String {
    let sign = md5_lower(format!("{JH_OPENID}{JH_KEY}{phone}10{orderid}").as_bytes());
    format!("key={JH_KEY}&phoneno={phone}&cardnum=10&orderid={orderid}&sign={sign}")
}

async fn juhe_send(sim: &Simulator, orderid: &str, phone: &str) -> reqwest::Result<reqwest::Response> {
    client()
        .post(format!("{}/ofpay/mobile/onlineorder", sim.base_url()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(juhe_form(orderid, phone))
        .send()
        .await
}

async fn juhe_code(sim: &Simulator, orderid: &str) -> i64 {
    let r = juhe_send(sim, orderid, "13800138000").await.expect("reply");
    let v: Value = serde_json::from_str(&r.text().await.expect("text")).expect("json");
    v["error_code"].as_i64().expect("code")
}

async fn ordersta(sim: &Simulator, orderid: &str) -> Value {
    let r = client()
        .get(format!("{}/ofpay/mobile/ordersta?key={JH_KEY}&orderid={orderid}", sim.base_url()))
        .send()
        .await
        .expect("reply");
    serde_json::from_str(&r.text().await.expect("text")).expect("json")
}

const BAL: i64 = topup_sim::SANDBOX_INITIAL_BALANCE_LI;

#[tokio::test]
async fn lost_response_after_accept_charges_once_and_resubmit_is_duplicate() {
    let sim = start().await;
    sim.script(Script::once(Target::Order("JHLOST0001".into()), Fault::LostResponseAfterAccept));
    let res = juhe_send(&sim, "JHLOST0001", "13800138000").await;
    assert!(res.is_err(), "no reply at all: {res:?}");
    assert_eq!(sim.charges("juhe", "JHLOST0001"), 1);
    assert_eq!(sim.balance_li("juhe"), BAL - 10_020);
    assert_eq!(juhe_code(&sim, "JHLOST0001").await, 208516);
    assert_eq!(sim.charges("juhe", "JHLOST0001"), 1);
    assert_eq!(sim.balance_li("juhe"), BAL - 10_020);
    sim.shutdown().await;
}

#[tokio::test]
async fn http500_places_nothing() {
    let sim = start().await;
    sim.script(Script::once(Target::All, Fault::Http500BeforeAccept));
    let r = juhe_send(&sim, "JH500000001", "13800138000").await.expect("reply");
    assert_eq!(r.status(), 500);
    assert!(sim.orders().is_empty());
    assert_eq!(juhe_code(&sim, "JH500000001").await, 0, "once only");
    sim.shutdown().await;
}

#[tokio::test]
async fn truncated_body_after_accept() {
    let sim = start().await;
    sim.script(Script::once(Target::Order("JHTRUNC001".into()), Fault::TruncatedBody));
    let r = juhe_send(&sim, "JHTRUNC001", "13800138000").await.expect("headers arrive");
    assert_eq!(r.status(), 200);
    let len = r.content_length();
    let body = r.bytes().await;
    assert!(body.is_err() || body.as_ref().map(|b| Some(b.len() as u64) != len).unwrap_or(true), "{body:?}");
    assert_eq!(sim.charges("juhe", "JHTRUNC001"), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn garbage_body_after_accept() {
    let sim = start().await;
    sim.script(Script::once(Target::Order("JHGARB0001".into()), Fault::GarbageBody));
    let r = juhe_send(&sim, "JHGARB0001", "13800138000").await.expect("reply");
    assert_eq!(r.status(), 200);
    let b = r.bytes().await.expect("body");
    assert!(serde_json::from_slice::<Value>(&b).is_err());
    assert!(!b.starts_with(b"<?xml"));
    assert_eq!(sim.charges("juhe", "JHGARB0001"), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn slow_reply() {
    let sim = start().await;
    sim.script(Script::once(
        Target::Order("JHSLOW0001".into()),
        Fault::SlowReply(Duration::from_millis(400)),
    ));
    let t = Instant::now();
    assert_eq!(juhe_code(&sim, "JHSLOW0001").await, 0);
    assert!(t.elapsed() >= Duration::from_millis(400));
    assert_eq!(sim.charges("juhe", "JHSLOW0001"), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn reject_with_and_without_accept_anyway() {
    let sim = start().await;
    sim.script(Script::once(
        Target::Order("JHREJ00001".into()),
        Fault::Reject { code: 208503, accept_anyway: false },
    ));
    sim.script(Script::once(
        Target::Order("JHREJ00002".into()),
        Fault::Reject { code: 10014, accept_anyway: true },
    ));
    assert_eq!(juhe_code(&sim, "JHREJ00001").await, 208503);
    assert_eq!(sim.charges("juhe", "JHREJ00001"), 0);
    assert_eq!(juhe_code(&sim, "JHREJ00002").await, 10014);
    assert_eq!(sim.charges("juhe", "JHREJ00002"), 1);
    assert_eq!(sim.balance_li("juhe"), BAL - 10_020);
    sim.shutdown().await;
}

#[tokio::test]
async fn pending_forever_and_settle_failed() {
    let sim = start().await;
    sim.script(Script::always(Target::Order("JHPEND0001".into()), Fault::PendingForever));
    sim.script(Script::once(Target::Order("JHFAIL0001".into()), Fault::SettleFailed));
    assert_eq!(juhe_code(&sim, "JHPEND0001").await, 0);
    assert_eq!(juhe_code(&sim, "JHFAIL0001").await, 0);
    assert_eq!(sim.balance_li("juhe"), BAL - 2 * 10_020);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(ordersta(&sim, "JHPEND0001").await["result"]["game_state"], "0");
    assert_eq!(ordersta(&sim, "JHFAIL0001").await["result"]["game_state"], "9");
    assert_eq!(sim.balance_li("juhe"), BAL - 10_020, "the failed one is refunded");
    let orders = sim.orders();
    assert_eq!(orders[0].state, OrderState::Pending);
    assert!(orders[1].refunded);
    sim.shutdown().await;
}

#[tokio::test]
async fn duplicate_order_fault_creates_once_and_answers_duplicate() {
    let sim = start().await;
    sim.script(Script::once(Target::Order("JHDUPF0001".into()), Fault::DuplicateOrder));
    assert_eq!(juhe_code(&sim, "JHDUPF0001").await, 208516);
    assert_eq!(sim.charges("juhe", "JHDUPF0001"), 1);
    assert_eq!(juhe_code(&sim, "JHDUPF0001").await, 208516);
    assert_eq!(sim.charges("juhe", "JHDUPF0001"), 1);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(ordersta(&sim, "JHDUPF0001").await["result"]["game_state"], "1");
    sim.shutdown().await;
}

#[tokio::test]
async fn bad_callback_sign_and_no_callback() {
    let sim = start().await;
    let rx = receiver(vec!["success"]).await;
    sim.set_juhe_callback_url(Some(rx.url.clone()));
    sim.script(Script::once(Target::Order("JHBADCB001".into()), Fault::BadCallbackSign));
    sim.script(Script::once(Target::Order("JHNOCB0001".into()), Fault::NoCallback));
    assert_eq!(juhe_code(&sim, "JHBADCB001").await, 0);
    assert_eq!(juhe_code(&sim, "JHNOCB0001").await, 0);
    assert!(eventually(|| rx.count() >= 1).await);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(rx.count(), 1, "only the bad-sign order calls back");
    let f = parse_utf8_form(&rx.body(0));
    assert_eq!(get(&f, "orderid"), "JHBADCB001");
    let right = md5_lower(format!("{JH_KEY}{}{}", get(&f, "sporder_id"), get(&f, "orderid")).as_bytes());
    assert_ne!(get(&f, "sign"), right);
    assert_eq!(sim.orders()[1].state, OrderState::Succeeded, "no callback, but settled");
    sim.shutdown().await;
}

#[tokio::test]
async fn rate_limit_fault_and_query_not_found() {
    let sim = start().await;
    sim.script(Script::once(Target::Provider("juhe".into()), Fault::RateLimit));
    assert_eq!(juhe_code(&sim, "JHQNF00001").await, 10012);
    assert!(sim.orders().is_empty());
    assert_eq!(juhe_code(&sim, "JHQNF00001").await, 0);
    sim.script(Script {
        target: Target::Order("JHQNF00001".into()),
        fault: Fault::QueryNotFound,
        times: Some(2),
    });
    // A strict juhe: 208509 错误的订单号 for an id it does not have (here: says it does not).
    assert_eq!(ordersta(&sim, "JHQNF00001").await["error_code"], 208509);
    assert_eq!(ordersta(&sim, "JHQNF00001").await["error_code"], 208509);
    assert_eq!(ordersta(&sim, "JHQNF00001").await["error_code"], 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn query_about_another_order_and_unsigned_callback_fields() {
    let sim = start().await;
    let rx = receiver(vec!["success"]).await;
    sim.set_juhe_callback_url(Some(rx.url.clone()));
    sim.script(Script::once(Target::Order("JHOTHER001".into()), Fault::QueryAboutOtherOrder));
    sim.script(Script::once(Target::Order("JHOTHER001".into()), Fault::CallbackUnsignedChanged));
    assert_eq!(juhe_code(&sim, "JHOTHER001").await, 0);
    // One query answers about another order, failed; the next about ours, still in progress.
    let v = ordersta(&sim, "JHOTHER001").await;
    assert_eq!((v["error_code"].as_i64(), v["result"]["game_state"].as_str()), (Some(0), Some("9")));
    assert_eq!(v["result"]["uorderid"], "JHOTHER0011");
    let sporder_id = sim.orders()[0].provider_order_id.clone();
    assert_ne!(v["result"]["sporder_id"].as_str(), Some(sporder_id.as_str()));
    let v = ordersta(&sim, "JHOTHER001").await;
    assert_eq!(v["result"]["game_state"], "0");
    assert_eq!(v["result"]["sporder_id"].as_str(), Some(sporder_id.as_str()));
    // The order succeeds, the callback says 9 under a valid sign (sta is not signed).
    assert!(eventually(|| rx.count() >= 1).await);
    assert_eq!(sim.orders()[0].state, OrderState::Succeeded);
    let f = parse_utf8_form(&rx.body(0));
    assert_eq!(get(&f, "sta"), "9");
    let right = md5_lower(format!("{JH_KEY}{}{}", get(&f, "sporder_id"), get(&f, "orderid")).as_bytes());
    assert_eq!(get(&f, "sign"), right);
    // An unknown order: the strict juhe answer.
    assert_eq!(ordersta(&sim, "JHNOSUCH01").await["error_code"], 208509);
    sim.shutdown().await;
}

#[tokio::test]
async fn account_target_and_always() {
    let sim = start().await;
    sim.script(Script::always(
        Target::Account("13911112222".into()),
        Fault::Reject { code: 208503, accept_anyway: false },
    ));
    for id in ["JHACC00001", "JHACC00002"] {
        let r = juhe_send(&sim, id, "13911112222").await.expect("reply");
        let v: Value = serde_json::from_str(&r.text().await.expect("t")).expect("json");
        assert_eq!(v["error_code"], 208503);
    }
    assert_eq!(juhe_code(&sim, "JHACC00003").await, 0, "other accounts unaffected");
    sim.shutdown().await;
}

#[tokio::test]
async fn faults_on_dingyin_and_oper_use_their_codes() {
    let sim = start().await;
    sim.script(Script::once(Target::Provider("dingyin".into()), Fault::DuplicateOrder));
    sim.script(Script::once(Target::Provider("oper".into()), Fault::RateLimit));
    let plain = format!("userid={DY_USERID}&productid=&num=10&areaid=&serverid=&account=13800138000&spordertime=20240601120000&sporderid=DYF0000001&key={DY_KEY}");
    let body = format!("userid={DY_USERID}&productid=&num=10&areaid=&serverid=&account=13800138000&spordertime=20240601120000&sporderid=DYF0000001&sign={}", md5_upper(plain.as_bytes()));
    let r = client()
        .post(format!("{}/gameonlinepay.do", sim.base_url()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("r");
    let xml = encoding_rs::GBK.decode(&r.bytes().await.expect("b")).0.into_owned();
    assert_eq!(xml_field(&xml, "resultno").as_deref(), Some("5006"));
    assert_eq!(sim.charges("dingyin", "DYF0000001"), 1);
    let sign = md5_lower(format!("{OPER_UID}OPF000000113800138000100{OPER_KEY}").as_bytes());
    let body = format!("uid={OPER_UID}&order_no=OPF0000001&order_type=1&mobile_type=1&phone_number=13800138000&face_value=100&notify_url=http%3A%2F%2F127.0.0.1%3A9%2Fn&sign={sign}");
    let r = client()
        .post(format!("{}/1/api/oper/order", sim.base_url()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("r");
    assert_eq!(r.status(), 429);
    assert_eq!(sim.charges("oper", "OPF0000001"), 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn control_endpoints_and_unknown_paths() {
    let sim = start().await;
    let c = client();
    let r = c.post(format!("{}/_sim/script", sim.base_url())).body(r#"{"target":{"Order":"JHCTRL0001"},"fault":{"Reject":{"code":208503,"accept_anyway":false}},"times":1}"#).send().await.expect("r");
    assert_eq!(r.status(), 200);
    let r = c.post(format!("{}/_sim/script", sim.base_url())).body("{not json").send().await.expect("r");
    assert_eq!(r.status(), 400);
    assert_eq!(juhe_code(&sim, "JHCTRL0001").await, 208503);
    assert_eq!(juhe_code(&sim, "JHCTRL0001").await, 0);
    let orders: Value =
        c.get(format!("{}/_sim/orders", sim.base_url())).send().await.expect("r").json().await.expect("json");
    assert_eq!(orders[0]["merchant_order_id"], "JHCTRL0001");
    let reqs: Value = c
        .get(format!("{}/_sim/requests", sim.base_url()))
        .send()
        .await
        .expect("r")
        .json()
        .await
        .expect("json");
    assert_eq!(reqs.as_array().map(|a| a.len()), Some(2), "control requests are not recorded");
    assert_eq!(reqs[0]["endpoint"], "/ofpay/mobile/onlineorder");
    assert_eq!(reqs[0]["merchant_order_id"], "JHCTRL0001");
    let r = c.get(format!("{}/no/such/path", sim.base_url())).send().await.expect("r");
    assert_eq!(r.status(), 404);
    let r = c.get(format!("{}/gameonlinepay.do", sim.base_url())).send().await.expect("r");
    assert_eq!(r.status(), 405);
    sim.shutdown().await;
}

#[tokio::test]
async fn junk_input_never_breaks_the_server() {
    let sim = start().await;
    let c = client();
    let junk: Vec<Vec<u8>> = vec![
        vec![],
        b"%".to_vec(),
        b"%%%&&&===".to_vec(),
        vec![0xff, 0xfe, 0x80, 0x81, b'=', 0xa1],
        b"sign=&userid=&num=999999999999999999999&account=%E6%B1%9F".to_vec(),
        b"{\"uid\":[1,2],\"order_no\":null,\"face_value\":1e400}".to_vec(),
        b"--x\r\nContent-Disposition: form-data\r\n\r\n".to_vec(),
        "productid=GAME-&num=1&account={".as_bytes().to_vec(),
        "productid=DF-NW&userip=%FF&account=%7B%22product_type%22%3A%223%22%7D".as_bytes().to_vec(),
    ];
    let paths = [
        "/gameonlinepay.do",
        "/searchpay.do",
        "/searchbalance.do",
        "/1/api/oper/order",
        "/1/api/oper/balance",
        "/1/api/oper/query_order",
        "/ofpay/mobile/onlineorder",
    ];
    let cts = [
        "application/x-www-form-urlencoded",
        "application/json",
        "multipart/form-data; boundary=x",
        "text/plain",
    ];
    for p in paths {
        for ct in cts {
            for j in &junk {
                let r = c
                    .post(format!("{}{p}", sim.base_url()))
                    .header("Content-Type", ct)
                    .body(j.clone())
                    .send()
                    .await
                    .expect("reply");
                assert!(r.status().as_u16() < 500, "{p} {ct} {j:?}");
            }
        }
    }
    for q in ["", "key=", "key=%ZZ&orderid=%FF", "phoneno=1&cardnum=-1"] {
        for p in [
            "/ofpay/mobile/ordersta",
            "/ofpay/mobile/telcheck",
            "/ofpay/mobile/telquery",
            "/ofpay/mobile/yue",
        ] {
            let r = c.get(format!("{}{p}?{q}", sim.base_url())).send().await.expect("reply");
            assert_eq!(r.status(), 200);
        }
    }
    assert!(sim.orders().is_empty());
    sim.shutdown().await;
}

/// The admin operations behind the API move the ledger as a provider's back office would: a planted
/// charge costs the balance and is on the statement; a refunded order made a success is charged
/// again, and the statement says 成功.
#[tokio::test]
async fn planted_charges_and_changed_states_move_the_ledger_and_the_statement() {
    let sim = common::start().await;
    let start = sim.balance_li("juhe");
    let planted = sim
        .plant_charge(&topup_sim::PlantCharge {
            provider: "juhe".into(),
            merchant_order_id: "PLANTED00000001".into(),
            account: "13800000001".into(),
            face_li: 10_000,
            cost_li: Some(10_020),
            state: Some(topup_sim::OrderState::Failed),
        })
        .unwrap();
    assert!(planted.refunded && planted.finished_unix_ms.is_some());
    assert_eq!(sim.balance_li("juhe"), start, "a failed charge is refunded");
    assert!(sim.plant_charge(&topup_sim::PlantCharge { state: None, ..plant("PLANTED00000001") }).is_err());
    let change = topup_sim::SetState {
        provider: "juhe".into(),
        merchant_order_id: "PLANTED00000001".into(),
        state: topup_sim::OrderState::Succeeded,
    };
    sim.set_state(&change).unwrap();
    assert_eq!(sim.balance_li("juhe"), start - 10_020, "charged again");
    sim.set_state(&change).unwrap();
    assert_eq!(sim.balance_li("juhe"), start - 10_020, "setting the same state twice moves nothing");
    let csv = sim.statement_csv("juhe").unwrap();
    let lines: Vec<&str> = csv.trim_start_matches('\u{FEFF}').lines().collect();
    assert_eq!(lines[0], topup_sim::STATEMENT_HEADINGS.join(","));
    assert!(lines[1].starts_with("PLANTED00000001,PLANT"), "{}", lines[1]);
    assert!(lines[1].contains(",13800000001,10.000,10.020,成功,"), "{}", lines[1]);
    assert_eq!(lines.len(), 2);
    assert!(sim.statement_csv("nobody").is_err());
    sim.shutdown().await;
}

fn plant(id: &str) -> topup_sim::PlantCharge {
    topup_sim::PlantCharge {
        provider: "juhe".into(),
        merchant_order_id: id.into(),
        account: "13800000001".into(),
        face_li: 10_000,
        cost_li: None,
        state: None,
    }
}
