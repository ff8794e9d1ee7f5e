//! dingyin (鼎音, the `gameonlinepay.do` family): GBK forms in, GBK XML out.
//!
//! Why so strict about GBK: the sign is an MD5 over the GBK bytes of the Chinese fields (area, city,
//! names in the electricity account JSON). A client that percent-encodes UTF-8, or signs UTF-8 bytes,
//! works for ASCII-only orders and breaks on the first Chinese one; the simulator answers such a request
//! with 5005 (bad sign) every time, so the mistake shows up in tests, not in production.
//!
//! Product ids are this simulator's own table (the real ones come from the provider's back office); see
//! the crate docs.

use crate::codec::{self, Params};
use crate::model::{Fault, OrderState};
use crate::orders::{self, Callback, NewOrder, Outcome};
use crate::server::{Ctx, Reply};
use crate::state::{Detail, Order, Provider, Shared};
use axum::extract::{Request, State};
use axum::response::Response;
use std::sync::Arc;

const XML_HEAD: &str = "<?xml version=\"1.0\" encoding=\"GB2312\" ?>\r\n";
const XML_TYPE: &str = "text/xml;charset=GB2312";

/// Decode a GBK form. The flag says some value looked like UTF-8 Chinese (always a sign failure).
fn gbk_params(body: &[u8]) -> (Params, bool) {
    let mut utf8_suspect = false;
    let pairs = codec::parse_form_raw(body)
        .into_iter()
        .map(|(n, v)| {
            if codec::looks_like_utf8_chinese(&v) {
                utf8_suspect = true;
            }
            let value = codec::gbk_decode_strict(&v).unwrap_or_else(|| {
                utf8_suspect = true;
                encoding_rs::GBK.decode_without_bom_handling(&v).0.into_owned()
            });
            (String::from_utf8_lossy(&n).into_owned(), value)
        })
        .collect();
    (Params::from_pairs(pairs), utf8_suspect)
}

fn sign_ok(expected_plain: &str, given: &str, utf8_suspect: bool) -> bool {
    !utf8_suspect && codec::md5_upper(&codec::gbk_encode(expected_plain)) == given
}

fn xml(root: &str, fields: &[(&str, String)]) -> Reply {
    let mut s = String::from(XML_HEAD);
    s.push_str(&format!("<{root}>\r\n"));
    for (name, value) in fields {
        s.push_str(&format!("<{name}>{}</{name}>\r\n", codec::xml_escape(value)));
    }
    s.push_str(&format!("</{root}>"));
    Reply::new(XML_TYPE, codec::gbk_encode(&s))
}

/// Echo of a submit that was not accepted.
fn submit_error(p: &Params, code: i64) -> Reply {
    xml(
        "order",
        &[
            ("orderid", String::new()),
            ("productid", p.get_or_empty("productid").to_string()),
            ("num", p.get_or_empty("num").to_string()),
            ("ordercash", String::new()),
            ("productname", String::new()),
            ("sporderid", p.get_or_empty("sporderid").to_string()),
            ("account", p.get_or_empty("account").to_string()),
            ("resultno", code.to_string()),
        ],
    )
}

pub fn rate_limited_reply() -> Reply {
    xml("order", &[("resultno", "5013".to_string())])
}

fn is_form(ctx: &Ctx) -> bool {
    ctx.content_type().to_ascii_lowercase().starts_with("application/x-www-form-urlencoded")
}

/// What a product id names.
struct Product {
    name: String,
    face_li: i64,
    /// Price as a fraction of face, in permille.
    permille: i64,
    /// Account used for targeting and display.
    account: String,
}

fn parse_num(num: &str, max: i64) -> Option<i64> {
    if num.is_empty() || num.len() > 6 || !num.bytes().all(|b| b.is_ascii_digit()) || num.starts_with('0') {
        return None;
    }
    num.parse::<i64>().ok().filter(|n| (1..=max).contains(n))
}

const PHONE_FACES: [i64; 8] = [10, 20, 30, 50, 100, 200, 300, 500];

/// Resolve the product or the rejection code.
fn product(p: &Params) -> Result<Product, i64> {
    let productid = p.get_or_empty("productid");
    let num = p.get_or_empty("num");
    let account = p.get_or_empty("account");
    match productid {
        "" => {
            let op = codec::phone_operator(account).ok_or(5004)?;
            let n = parse_num(num, 100_000).ok_or(5011)?;
            if !PHONE_FACES.contains(&n) {
                return Err(5010);
            }
            Ok(Product {
                name: format!("{}话费{}元", codec::operator_name(op), n),
                face_li: n * 1000,
                permille: 985,
                account: account.to_string(),
            })
        }
        "DF-GW" | "DF-NW" => {
            let v: serde_json::Value = serde_json::from_str(account).map_err(|_| 5012)?;
            let obj = v.as_object().ok_or(5012)?;
            let field = |k: &str| obj.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
            if field("product_type") != "3" {
                return Err(5004);
            }
            let huhao = field("userid");
            if huhao.is_empty() {
                return Err(5012);
            }
            let nanwang = productid == "DF-NW";
            if nanwang {
                let id = p.get_or_empty("userip");
                let id_ok = (id.len() == 18 || id.len() == 15)
                    && id
                        .bytes()
                        .enumerate()
                        .all(|(i, b)| b.is_ascii_digit() || (i == id.len() - 1 && b == b'X'));
                if !id_ok || field("username") != id[id.len().saturating_sub(6)..] {
                    return Err(5012);
                }
            } else if codec::phone_operator(p.get_or_empty("areaid")).is_none() {
                return Err(5012);
            }
            let n = parse_num(num, 5000).ok_or(5011)?;
            Ok(Product {
                name: format!("{}电费{}元", if nanwang { "南网" } else { "国网" }, n),
                face_li: n * 1000,
                permille: 990,
                account: huhao,
            })
        }
        "DY" => {
            if account.trim().is_empty() {
                return Err(5012);
            }
            let n = parse_num(num, 5000).ok_or(5011)?;
            Ok(Product {
                name: format!("抖音币充值{n}元"),
                face_li: n * 1000,
                permille: 960,
                account: account.to_string(),
            })
        }
        g if g.starts_with("GAME-") => {
            let unit = parse_num(&g[5..], 1000).ok_or(5003)?;
            if account.trim().is_empty() {
                return Err(5012);
            }
            let n = parse_num(num, 100).ok_or(5011)?;
            Ok(Product {
                name: format!("游戏直充{unit}元"),
                face_li: unit * n * 1000,
                permille: 950,
                account: account.to_string(),
            })
        }
        _ => Err(5003),
    }
}

/// `POST /gameonlinepay.do`
pub async fn submit(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let ctx = Ctx::from_request(shared, req).await;
    let reply = submit_reply(&ctx);
    ctx.respond(reply).await
}

fn submit_reply(ctx: &Ctx) -> Reply {
    let (p, suspect) = gbk_params(&ctx.body);
    ctx.note_order(p.get_or_empty("sporderid"));
    if !is_form(ctx) {
        return submit_error(&p, 5012);
    }
    for required in ["userid", "num", "account", "spordertime", "sporderid", "sign"] {
        if p.non_empty(required).is_none() {
            return submit_error(&p, 5012);
        }
    }
    let cfg = &ctx.shared.config.dingyin;
    if p.get_or_empty("userid") != cfg.userid {
        return submit_error(&p, 5001);
    }
    let plain = format!(
        "userid={}&productid={}&num={}&areaid={}&serverid={}&account={}&spordertime={}&sporderid={}&key={}",
        p.get_or_empty("userid"),
        p.get_or_empty("productid"),
        p.get_or_empty("num"),
        p.get_or_empty("areaid"),
        p.get_or_empty("serverid"),
        p.get_or_empty("account"),
        p.get_or_empty("spordertime"),
        p.get_or_empty("sporderid"),
        cfg.key
    );
    if !sign_ok(&plain, p.get_or_empty("sign"), suspect) {
        return submit_error(&p, 5005);
    }
    let t = p.get_or_empty("spordertime");
    if t.len() != 14 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return submit_error(&p, 5012);
    }
    let sporderid = p.get_or_empty("sporderid");
    if sporderid.len() > 64 {
        return submit_error(&p, 5012);
    }
    if let Some(url) = p.non_empty("back_url") {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return submit_error(&p, 5012);
        }
    }
    let prod = match product(&p) {
        Ok(prod) => prod,
        Err(code) => return submit_error(&p, code),
    };
    let cost_li = prod.face_li * prod.permille / 1000;
    let new = NewOrder {
        provider: Provider::Dingyin,
        merchant_order_id: sporderid,
        account: &prod.account,
        face_li: prod.face_li,
        cost_li,
    };
    let detail = Detail::Dingyin {
        productid: p.get_or_empty("productid").to_string(),
        num: p.get_or_empty("num").to_string(),
        productname: prod.name.clone(),
        spordertime: t.to_string(),
        back_url: p.non_empty("back_url").map(str::to_string),
        account_param: p.get_or_empty("account").to_string(),
    };
    let (outcome, shape) =
        orders::submit(&ctx.shared, new, |seq| (format!("XS{}{:08}", &t[2..8], seq), detail));
    let reply = match outcome {
        Outcome::RateLimited => rate_limited_reply(),
        Outcome::Http500 => return Reply::http500(),
        Outcome::Reject(code) => submit_error(&p, code),
        Outcome::Duplicate => submit_error(&p, 5006),
        Outcome::Balance => submit_error(&p, 5002),
        Outcome::Accepted(order) => order_xml(&order, p.get_or_empty("account"), "0", None),
    };
    reply.shaped(shape)
}

fn order_xml(order: &Order, account: &str, resultno: &str, query_extra: Option<(String, String)>) -> Reply {
    let (productid, num, productname, spordertime) = match &order.detail {
        Detail::Dingyin { productid, num, productname, spordertime, .. } => {
            (productid.clone(), num.clone(), productname.clone(), spordertime.clone())
        }
        _ => Default::default(),
    };
    let mut fields = vec![
        ("orderid", order.public.provider_order_id.clone()),
        ("productid", productid),
        ("num", num),
        ("ordercash", codec::yuan_trimmed(order.public.charged_li)),
        ("productname", productname),
        ("sporderid", order.public.merchant_order_id.clone()),
        ("account", account.to_string()),
    ];
    match query_extra {
        Some((remark1, fundbalance)) => {
            fields.push(("merchantsubmittime", spordertime));
            fields.push(("resultno", resultno.to_string()));
            fields.push(("remark1", remark1));
            fields.push(("fundbalance", fundbalance));
        }
        None => fields.push(("resultno", resultno.to_string())),
    }
    xml("order", &fields)
}

fn voucher(order: &Order) -> String {
    format!("SIMPZ{}", order.public.provider_order_id)
}

/// `POST /searchpay.do`
pub async fn searchpay(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let ctx = Ctx::from_request(shared, req).await;
    let reply = searchpay_reply(&ctx);
    ctx.respond(reply).await
}

fn query_error(sporderid: &str, code: i64) -> Reply {
    xml("order", &[("sporderid", sporderid.to_string()), ("resultno", code.to_string())])
}

fn searchpay_reply(ctx: &Ctx) -> Reply {
    let (p, suspect) = gbk_params(&ctx.body);
    let sporderid = p.get_or_empty("sporderid");
    ctx.note_order(sporderid);
    if !is_form(ctx) || ["userid", "sporderid", "sign"].iter().any(|k| p.non_empty(k).is_none()) {
        return query_error(sporderid, 5012);
    }
    let cfg = &ctx.shared.config.dingyin;
    if p.get_or_empty("userid") != cfg.userid {
        return query_error(sporderid, 5001);
    }
    let plain = format!("userid={}&sporderid={}&key={}", cfg.userid, sporderid, cfg.key);
    if !sign_ok(&plain, p.get_or_empty("sign"), suspect) {
        return query_error(sporderid, 5005);
    }
    let (fault, order, balance) = {
        let mut inner = ctx.shared.lock();
        let fault = inner.take_query_fault(Provider::Dingyin, sporderid);
        (fault, inner.find(Provider::Dingyin, sporderid).cloned(), inner.balance(Provider::Dingyin))
    };
    let order = match (fault, order) {
        (Some(Fault::QueryAboutOtherOrder), order) => {
            let other = orders::other_order_id(sporderid);
            let charged = order.map_or(9_850, |o| o.public.charged_li);
            return xml(
                "order",
                &[
                    ("orderid", format!("XS{:014}", codec::fnv(&other) % 100_000_000_000_000)),
                    ("productid", String::new()),
                    ("num", "10".to_string()),
                    ("ordercash", codec::yuan_trimmed(charged)),
                    ("productname", "话费".to_string()),
                    ("sporderid", other),
                    ("account", "13800000000".to_string()),
                    ("resultno", "9".to_string()),
                    ("remark1", String::new()),
                    ("fundbalance", codec::yuan_trimmed(balance)),
                ],
            );
        }
        (Some(_), _) | (None, None) => return query_error(sporderid, 5007),
        (None, Some(order)) => order,
    };
    let half = ctx.shared.config.settle_after / 2;
    let (resultno, remark1) = match order.public.state {
        OrderState::Pending if order.created.elapsed() < half => ("0", String::new()),
        OrderState::Pending => ("2", String::new()),
        OrderState::Succeeded => ("1", voucher(&order)),
        OrderState::Failed => ("9", String::new()),
    };
    let account = match &order.detail {
        Detail::Dingyin { account_param, .. } => account_param.clone(),
        _ => order.public.account.clone(),
    };
    order_xml(&order, &account, resultno, Some((remark1, codec::yuan_trimmed(balance))))
}

/// `POST /searchbalance.do`
pub async fn searchbalance(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let ctx = Ctx::from_request(shared, req).await;
    let reply = searchbalance_reply(&ctx);
    ctx.respond(reply).await
}

fn searchbalance_reply(ctx: &Ctx) -> Reply {
    let (p, suspect) = gbk_params(&ctx.body);
    let userid = p.get_or_empty("userid").to_string();
    let err = |code: i64| {
        xml("user", &[("userid", userid.clone()), ("balance", String::new()), ("resultno", code.to_string())])
    };
    if !is_form(ctx) || p.non_empty("userid").is_none() || p.non_empty("sign").is_none() {
        return err(5012);
    }
    let cfg = &ctx.shared.config.dingyin;
    if userid != cfg.userid {
        return err(5001);
    }
    if !sign_ok(&format!("userid={}&key={}", cfg.userid, cfg.key), p.get_or_empty("sign"), suspect) {
        return err(5005);
    }
    let balance = ctx.shared.lock().balance(Provider::Dingyin);
    xml(
        "user",
        &[
            ("userid", userid.clone()),
            ("balance", codec::yuan_trimmed(balance)),
            ("resultno", "1".to_string()),
        ],
    )
}

/// The callback of a settled order, when it named a `back_url`.
pub fn callback(shared: &Arc<Shared>, order: &Order) -> Option<Callback> {
    let Detail::Dingyin { back_url: Some(url), spordertime, .. } = &order.detail else { return None };
    let cfg = &shared.config.dingyin;
    let resultno = if order.public.state == OrderState::Succeeded { "1" } else { "9" };
    let key = if order.flags.bad_callback_sign { format!("{}x", cfg.key) } else { cfg.key.clone() };
    let plain = format!(
        "userid={}&orderid={}&sporderid={}&merchantsubmittime={}&resultno={}&key={}",
        cfg.userid,
        order.public.provider_order_id,
        order.public.merchant_order_id,
        spordertime,
        resultno,
        key
    );
    let sign = codec::md5_upper(&codec::gbk_encode(&plain));
    let balance = shared.lock().balance(Provider::Dingyin);
    let remark1 = if resultno == "1" { voucher(order) } else { String::new() };
    // `parvalue` and `remark1` are not signed: the fault changes them under a valid sign.
    let (parvalue, remark1) = if order.flags.unsigned_changed {
        (order.public.face_li / 10, format!("{remark1}CHANGED"))
    } else {
        (order.public.face_li, remark1)
    };
    let body = codec::gbk_form(&[
        ("userid", cfg.userid.clone()),
        ("orderid", order.public.provider_order_id.clone()),
        ("sporderid", order.public.merchant_order_id.clone()),
        ("merchantsubmittime", spordertime.clone()),
        ("resultno", resultno.to_string()),
        ("parvalue", codec::yuan_trimmed(parvalue)),
        ("remark1", remark1),
        ("fundbalance", codec::yuan_trimmed(balance)),
        ("sign", sign),
    ]);
    Some(Callback { url: url.clone(), content_type: "application/x-www-form-urlencoded", body, ack: b"ok" })
}
