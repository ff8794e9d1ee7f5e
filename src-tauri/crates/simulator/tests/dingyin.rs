//! dingyin over real HTTP: GBK forms, upper-case MD5 signs, XML replies, queries, callbacks.

mod common;
use common::*;
use std::time::Duration;
use topup_sim::{Fault, OrderState, Script, Simulator, Target};

const SPORDERTIME: &str = "20240601120000";

fn dy_sign(pairs: &[(&str, &str)]) -> String {
    let g = |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| *v).unwrap_or("");
    let plain = format!(
        "userid={}&productid={}&num={}&areaid={}&serverid={}&account={}&spordertime={}&sporderid={}&key={DY_KEY}",
        g("userid"),
        g("productid"),
        g("num"),
        g("areaid"),
        g("serverid"),
        g("account"),
        g("spordertime"),
        g("sporderid")
    );
    md5_upper(&gbk(&plain))
}

/// A correctly signed GBK submit body.
fn submit_body(extra: &[(&str, &str)]) -> Vec<u8> {
    let mut pairs: Vec<(&str, &str)> = vec![("userid", DY_USERID), ("spordertime", SPORDERTIME)];
    pairs.extend_from_slice(extra);
    let sign = dy_sign(&pairs);
    pairs.push(("sign", &sign));
    form_with(&pairs, gbk)
}

async fn post_form(url: String, body: Vec<u8>) -> (u16, String) {
    let r = client()
        .post(url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("reply");
    let status = r.status().as_u16();
    let bytes = r.bytes().await.expect("body");
    (status, encoding_rs::GBK.decode_without_bom_handling(&bytes).0.into_owned())
}

async fn submit(sim: &Simulator, body: Vec<u8>) -> String {
    post_form(format!("{}/gameonlinepay.do", sim.base_url()), body).await.1
}

fn resultno(xml: &str) -> String {
    xml_field(xml, "resultno").unwrap_or_default()
}

#[tokio::test]
async fn phone_submit_with_known_sign_vector_is_accepted_and_charged() {
    let sim = start().await;
    // Sign computed by hand, independently of this crate:
    // python3 -c 'import hashlib;print(hashlib.md5(b"userid=A9000001&productid=&num=100&areaid=&serverid=&account=13800138000&spordertime=20240601120000&sporderid=SP20240601000001&key=DYSANDBOXKEY20240601").hexdigest().upper())'
    let body =
        "userid=A9000001&productid=&num=100&areaid=&serverid=&account=13800138000&spordertime=20240601120000\
                &sporderid=SP20240601000001&sign=A09C8959EE92A31D4F7B1FB5BD4AB22D";
    let r = client()
        .post(format!("{}/gameonlinepay.do", sim.base_url()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("reply");
    assert_eq!(r.status(), 200);
    let raw = r.bytes().await.expect("body");
    let xml = encoding_rs::GBK.decode_without_bom_handling(&raw).0.into_owned();
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"GB2312\" ?>"), "{xml}");
    assert_eq!(resultno(&xml), "0", "{xml}");
    assert_eq!(xml_field(&xml, "ordercash").as_deref(), Some("98.5"));
    assert_eq!(xml_field(&xml, "sporderid").as_deref(), Some("SP20240601000001"));
    assert_eq!(xml_field(&xml, "productname").as_deref(), Some("移动话费100元"));
    // The reply bytes are GBK, not UTF-8.
    assert!(std::str::from_utf8(&raw).is_err());
    assert!(xml_field(&xml, "orderid").is_some_and(|o| o.starts_with("XS")));
    assert_eq!(sim.charges("dingyin", "SP20240601000001"), 1);
    assert_eq!(sim.balance_li("dingyin"), topup_sim::SANDBOX_INITIAL_BALANCE_LI - 98_500);
    let rec = sim.requests();
    assert_eq!(rec[0].body, body.as_bytes());
    assert_eq!(rec[0].merchant_order_id.as_deref(), Some("SP20240601000001"));
    assert_eq!(rec[0].provider, "dingyin");
    sim.shutdown().await;
}

#[tokio::test]
async fn rejections_bad_sign_missing_param_unknown_user_wrong_content_type() {
    let sim = start().await;
    let url = format!("{}/gameonlinepay.do", sim.base_url());
    let base = [("productid", ""), ("num", "100"), ("account", "13800138000"), ("sporderid", "SPREJ0001")];
    // bad sign
    let mut body = String::from_utf8(submit_body(&base)).expect("ascii");
    body = body.replace("num=100", "num=50");
    assert_eq!(resultno(&post_form(url.clone(), body.into_bytes()).await.1), "5005");
    // lower-case sign is a bad sign too (the doc says upper-case, case-sensitive)
    let lower = String::from_utf8(submit_body(&base)).expect("ascii");
    let sign = lower.rsplit("sign=").next().expect("sign").to_string();
    let lower = lower.replace(&sign, &sign.to_ascii_lowercase());
    assert_eq!(resultno(&post_form(url.clone(), lower.into_bytes()).await.1), "5005");
    // missing num
    let missing = submit_body(&[("productid", ""), ("account", "13800138000"), ("sporderid", "SPREJ0001")]);
    assert_eq!(resultno(&post_form(url.clone(), missing).await.1), "5012");
    // unknown merchant
    let other = String::from_utf8(submit_body(&base)).expect("ascii").replace(DY_USERID, "B0000000");
    assert_eq!(resultno(&post_form(url.clone(), other.into_bytes()).await.1), "5001");
    // not a form
    let r =
        client().post(url.clone()).header("Content-Type", "text/plain").body(submit_body(&base)).send().await;
    let text = encoding_rs::GBK.decode(&r.expect("reply").bytes().await.expect("body")).0.into_owned();
    assert_eq!(resultno(&text), "5012");
    // unknown product, bad phone segment, unsupported face, bad quantity
    let p = |pid: &'static str, num: &'static str, acct: &'static str| {
        submit_body(&[("productid", pid), ("num", num), ("account", acct), ("sporderid", "SPREJ0002")])
    };
    assert_eq!(resultno(&post_form(url.clone(), p("NOPE", "1", "x")).await.1), "5003");
    assert_eq!(resultno(&post_form(url.clone(), p("", "100", "12000000000")).await.1), "5004");
    assert_eq!(resultno(&post_form(url.clone(), p("", "15", "13800138000")).await.1), "5010");
    assert_eq!(resultno(&post_form(url.clone(), p("GAME-10", "0", "player1")).await.1), "5011");
    assert!(sim.orders().is_empty());
    assert_eq!(sim.balance_li("dingyin"), topup_sim::SANDBOX_INITIAL_BALANCE_LI);
    sim.shutdown().await;
}

const GW_ACCOUNT: &str =
    r#"{"product_type":"3","userid":"0123456789","username":"","type":"1","area":"江苏","city":"南京"}"#;

fn gw_pairs() -> Vec<(&'static str, &'static str)> {
    vec![
        ("userid", DY_USERID),
        ("productid", "DF-GW"),
        ("num", "100"),
        ("areaid", "13800138000"),
        ("serverid", ""),
        ("account", GW_ACCOUNT),
        ("spordertime", SPORDERTIME),
        ("sporderid", "SPDF0001"),
    ]
}

#[tokio::test]
async fn electricity_with_chinese_needs_gbk_on_the_wire_and_in_the_sign() {
    let sim = start().await;
    let url = format!("{}/gameonlinepay.do", sim.base_url());
    // Both signs computed by hand with python3 hashlib over the plain text
    // "userid=A9000001&productid=DF-GW&num=100&areaid=13800138000&serverid=&account=<GW_ACCOUNT>&spordertime=20240601120000&sporderid=SPDF0001&key=DYSANDBOXKEY20240601"
    // encoded as GBK (first) and as UTF-8 (second).
    let gbk_sign = "440E8F5DF07C352133FC7617209D627A";
    let utf8_sign = "F9BDB47F9588BE4F7BC13D17E2E8C145";
    assert_eq!(dy_sign(&gw_pairs()), gbk_sign, "test helper agrees with the hand-computed vector");

    // UTF-8 on the wire with the (right) GBK sign: bad sign.
    let mut pairs = gw_pairs();
    pairs.push(("sign", gbk_sign));
    assert_eq!(resultno(&post_form(url.clone(), form_with(&pairs, utf8)).await.1), "5005");
    // UTF-8 on the wire and a UTF-8 sign: still a bad sign (the sign is over GBK bytes).
    let mut pairs = gw_pairs();
    pairs.push(("sign", utf8_sign));
    assert_eq!(resultno(&post_form(url.clone(), form_with(&pairs, utf8)).await.1), "5005");
    assert!(sim.orders().is_empty());

    // GBK on the wire, GBK sign: accepted; the account echo comes back in GBK XML.
    let mut pairs = gw_pairs();
    pairs.push(("sign", gbk_sign));
    let xml = post_form(url.clone(), form_with(&pairs, gbk)).await.1;
    assert_eq!(resultno(&xml), "0", "{xml}");
    assert_eq!(xml_field(&xml, "account").as_deref(), Some(GW_ACCOUNT));
    assert_eq!(xml_field(&xml, "productname").as_deref(), Some("国网电费100元"));
    assert_eq!(xml_field(&xml, "ordercash").as_deref(), Some("99"));
    let orders = sim.orders();
    assert_eq!(orders[0].account, "0123456789", "electricity orders are keyed by the 户号");

    // 国网 without the mobile in areaid: 5012.
    let no_area = submit_body(&[
        ("productid", "DF-GW"),
        ("num", "100"),
        ("account", GW_ACCOUNT),
        ("sporderid", "SPDF0002"),
    ]);
    assert_eq!(resultno(&post_form(url.clone(), no_area).await.1), "5012");
    // account not JSON: 5012; product_type not 3: 5004.
    let bad = submit_body(&[
        ("productid", "DF-GW"),
        ("num", "100"),
        ("areaid", "13800138000"),
        ("account", "0123456789"),
        ("sporderid", "SPDF0003"),
    ]);
    assert_eq!(resultno(&post_form(url.clone(), bad).await.1), "5012");
    let pt1 = GW_ACCOUNT.replace("\"product_type\":\"3\"", "\"product_type\":\"1\"");
    let bad = submit_body(&[
        ("productid", "DF-GW"),
        ("num", "100"),
        ("areaid", "13800138000"),
        ("account", &pt1),
        ("sporderid", "SPDF0004"),
    ]);
    assert_eq!(resultno(&post_form(url.clone(), bad).await.1), "5004");
    sim.shutdown().await;
}

#[tokio::test]
async fn nanwang_needs_id_card_in_userip_and_its_last_six_as_username() {
    let sim = start().await;
    let url = format!("{}/gameonlinepay.do", sim.base_url());
    let acct = r#"{"product_type":"3","userid":"0300123456","username":"01234X","type":"4","area":"广东","city":"广州"}"#;
    let ok = submit_body(&[
        ("productid", "DF-NW"),
        ("num", "50"),
        ("account", acct),
        ("userip", "44010119900101234X"),
        ("sporderid", "SPNW0001"),
        ("back_url", "http://127.0.0.1:9/cb"),
    ]);
    // userip and back_url are not signed: submit_body signs without them, and the request is accepted.
    assert_eq!(resultno(&post_form(url.clone(), ok).await.1), "0");
    let wrong_six = submit_body(&[
        ("productid", "DF-NW"),
        ("num", "50"),
        ("account", acct),
        ("userip", "440101199001019999"),
        ("sporderid", "SPNW0002"),
    ]);
    assert_eq!(resultno(&post_form(url.clone(), wrong_six).await.1), "5012");
    let no_id =
        submit_body(&[("productid", "DF-NW"), ("num", "50"), ("account", acct), ("sporderid", "SPNW0003")]);
    assert_eq!(resultno(&post_form(url.clone(), no_id).await.1), "5012");
    sim.shutdown().await;
}

#[tokio::test]
async fn game_and_douyin_products_price_from_the_table() {
    let sim = start().await;
    let xml = submit(
        &sim,
        submit_body(&[
            ("productid", "GAME-10"),
            ("num", "2"),
            ("areaid", "1"),
            ("serverid", "2"),
            ("account", "玩家一号"),
            ("sporderid", "SPGAME01"),
        ]),
    )
    .await;
    assert_eq!(resultno(&xml), "0", "{xml}");
    assert_eq!(xml_field(&xml, "ordercash").as_deref(), Some("19"));
    let xml = submit(
        &sim,
        submit_body(&[("productid", "DY"), ("num", "10"), ("account", "dy_user"), ("sporderid", "SPDY0001")]),
    )
    .await;
    assert_eq!(resultno(&xml), "0", "{xml}");
    assert_eq!(xml_field(&xml, "ordercash").as_deref(), Some("9.6"));
    assert_eq!(sim.balance_li("dingyin"), topup_sim::SANDBOX_INITIAL_BALANCE_LI - 19_000 - 9_600);
    sim.shutdown().await;
}

#[tokio::test]
async fn duplicate_sporderid_answers_5006_and_never_charges_twice() {
    let sim = start().await;
    let body = submit_body(&[
        ("productid", ""),
        ("num", "50"),
        ("account", "13900139000"),
        ("sporderid", "SPDUP0001"),
    ]);
    assert_eq!(resultno(&submit(&sim, body.clone()).await), "0");
    assert_eq!(resultno(&submit(&sim, body.clone()).await), "5006");
    assert_eq!(resultno(&submit(&sim, body).await), "5006");
    assert_eq!(sim.charges("dingyin", "SPDUP0001"), 1);
    assert_eq!(sim.balance_li("dingyin"), topup_sim::SANDBOX_INITIAL_BALANCE_LI - 49_250);
    assert_eq!(sim.orders().len(), 1);
    sim.shutdown().await;
}

fn query_body(sporderid: &str) -> Vec<u8> {
    let sign = md5_upper(format!("userid={DY_USERID}&sporderid={sporderid}&key={DY_KEY}").as_bytes());
    format!("userid={DY_USERID}&sporderid={sporderid}&sign={sign}").into_bytes()
}

#[tokio::test]
async fn searchpay_and_searchbalance() {
    let sim = start().await;
    let body = submit_body(&[
        ("productid", ""),
        ("num", "100"),
        ("account", "13800138000"),
        ("sporderid", "SP20240601000001"),
    ]);
    assert_eq!(resultno(&submit(&sim, body).await), "0");
    let q = format!("{}/searchpay.do", sim.dingyin_query_base_url());
    // Hand-computed: MD5("userid=A9000001&sporderid=SP20240601000001&key=DYSANDBOXKEY20240601") upper-case.
    let literal = "userid=A9000001&sporderid=SP20240601000001&sign=57A7B948CCEAD9892B4953B92D579785";
    assert_eq!(query_body("SP20240601000001"), literal.as_bytes());
    let xml = post_form(q.clone(), literal.into()).await.1;
    assert!(["0", "2"].contains(&resultno(&xml).as_str()), "in progress: {xml}");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let xml = post_form(q.clone(), literal.into()).await.1;
    assert_eq!(resultno(&xml), "1", "{xml}");
    assert!(xml_field(&xml, "remark1").is_some_and(|r| !r.is_empty()));
    assert_eq!(xml_field(&xml, "merchantsubmittime").as_deref(), Some(SPORDERTIME));
    assert_eq!(xml_field(&xml, "fundbalance").as_deref(), Some("9901.5"));
    assert_eq!(xml_field(&xml, "account").as_deref(), Some("13800138000"));
    // not found, bad sign
    assert_eq!(resultno(&post_form(q.clone(), query_body("SPNOPE0001")).await.1), "5007");
    let bad = String::from_utf8(query_body("SP20240601000001")).expect("ascii").replace("sign=5", "sign=6");
    assert_eq!(resultno(&post_form(q.clone(), bad.into_bytes()).await.1), "5005");
    // balance: hand-computed MD5("userid=A9000001&key=DYSANDBOXKEY20240601") upper-case.
    let xml = post_form(
        format!("{}/searchbalance.do", sim.dingyin_query_base_url()),
        b"userid=A9000001&sign=A02772CE9D2AFCA655F949467EC5DBAE".to_vec(),
    )
    .await
    .1;
    assert!(xml.contains("<user>"), "{xml}");
    assert_eq!(resultno(&xml), "1");
    assert_eq!(xml_field(&xml, "balance").as_deref(), Some("9901.5"));
    sim.shutdown().await;
}

#[tokio::test]
async fn separate_query_listener() {
    let mut cfg = config();
    cfg.separate_dingyin_query = true;
    let sim = Simulator::start(cfg).await.expect("start");
    assert_ne!(sim.base_url(), sim.dingyin_query_base_url());
    let (status, _) = post_form(format!("{}/searchpay.do", sim.base_url()), query_body("SPX00001")).await;
    assert_eq!(status, 404);
    let (status, xml) =
        post_form(format!("{}/searchpay.do", sim.dingyin_query_base_url()), query_body("SPX00001")).await;
    assert_eq!(status, 200);
    assert_eq!(resultno(&xml), "5007");
    let (status, _) = post_form(format!("{}/gameonlinepay.do", sim.dingyin_query_base_url()), vec![]).await;
    assert_eq!(status, 404);
    sim.shutdown().await;
}

/// The sign a callback form must carry (the assumed format of the provider-docs README).
fn callback_sign(f: &[(String, String)]) -> String {
    let plain = format!(
        "userid={}&orderid={}&sporderid={}&merchantsubmittime={}&resultno={}&key={DY_KEY}",
        get(f, "userid"),
        get(f, "orderid"),
        get(f, "sporderid"),
        get(f, "merchantsubmittime"),
        get(f, "resultno")
    );
    md5_upper(&gbk(&plain))
}

/// A game order (`GAME-5`, 5 yuan a unit) that asks for a callback to `back_url`.
fn game_with_callback(sporderid: &str, num: &str, account: &str, back_url: &str) -> Vec<u8> {
    submit_body(&[
        ("productid", "GAME-5"),
        ("num", num),
        ("account", account),
        ("sporderid", sporderid),
        ("back_url", back_url),
    ])
}

#[tokio::test]
async fn callback_is_gbk_signed_and_retried_until_ok() {
    let sim = start().await;
    let rx = receiver(vec!["fail", "ok"]).await;
    let body = game_with_callback("SPCB0001", "1", "张三", &rx.url);
    assert_eq!(resultno(&submit(&sim, body).await), "0");
    assert!(eventually(|| rx.count() >= 2).await, "two attempts");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rx.count(), 2, "no third attempt after ok");
    let f = parse_gbk_form(&rx.body(1));
    assert_eq!(get(&f, "resultno"), "1");
    assert_eq!(get(&f, "sporderid"), "SPCB0001");
    assert_eq!(get(&f, "userid"), DY_USERID);
    assert_eq!(get(&f, "merchantsubmittime"), SPORDERTIME);
    assert_eq!(get(&f, "parvalue"), "5");
    assert_eq!(get(&f, "sign"), callback_sign(&f));
    let o = &sim.orders()[0];
    assert_eq!(o.state, OrderState::Succeeded);
    assert_eq!(o.callback_attempts, 2);
    assert!(o.callback_acknowledged);
    sim.shutdown().await;
}

#[tokio::test]
async fn query_about_another_order_and_unsigned_callback_fields() {
    let sim = start().await;
    let rx = receiver(vec!["ok"]).await;
    sim.script(Script::once(Target::Order("SPOTH0001".into()), Fault::QueryAboutOtherOrder));
    sim.script(Script::once(Target::Order("SPOTH0001".into()), Fault::CallbackUnsignedChanged));
    let body = game_with_callback("SPOTH0001", "2", "p1", &rx.url);
    assert_eq!(resultno(&submit(&sim, body).await), "0");
    let q = format!("{}/searchpay.do", sim.dingyin_query_base_url());
    let xml = post_form(q.clone(), query_body("SPOTH0001")).await.1;
    assert_eq!(resultno(&xml), "9", "{xml}");
    assert_eq!(xml_field(&xml, "sporderid").as_deref(), Some("SPOTH00011"));
    assert_ne!(xml_field(&xml, "orderid"), Some(sim.orders()[0].provider_order_id.clone()));
    let xml = post_form(q, query_body("SPOTH0001")).await.1;
    assert_eq!(xml_field(&xml, "sporderid").as_deref(), Some("SPOTH0001"), "once only");
    assert!(eventually(|| rx.count() >= 1).await);
    let f = parse_gbk_form(&rx.body(0));
    assert_eq!((get(&f, "resultno"), get(&f, "parvalue")), ("1", "1"), "a tenth of the face, 10");
    assert!(get(&f, "remark1").ends_with("CHANGED"));
    assert_eq!(get(&f, "sign"), callback_sign(&f), "still validly signed");
    sim.shutdown().await;
}
