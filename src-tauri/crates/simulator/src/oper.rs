//! oper (上游运营商 API): form or JSON in, JSON out; amounts in fen.
//!
//! Why the odd shapes: the document types `code` as String(16) and shows the number 200, so the simulator
//! sends a string for some orders and a number for others (chosen by a hash of the order number, so a
//! test is repeatable). Balance and query replies carry `data` as a JSON *string* signed with
//! `md5(data + md5key)`, and the ids inside it (`mobileOrderNo`, `serialNumber`, `operatorSn`) are integer
//! literals above 2^53, which a client parsing through f64 silently corrupts.

use crate::codec::{self, Params};
use crate::model::{Fault, OrderState};
use crate::orders::{self, Callback, NewOrder, Outcome};
use crate::server::{md5_lower_str, now_unix_ms, Ctx, Reply};
use crate::state::{Detail, Order, Provider, Shared};
use axum::extract::{Request, State};
use axum::response::Response;
use std::sync::Arc;

/// Parameters from a form or a JSON object body; `None` for any other body.
fn params(ctx: &Ctx) -> Option<Params> {
    let ct = ctx.content_type().to_ascii_lowercase();
    if ct.starts_with("application/json") {
        let v: serde_json::Value = serde_json::from_slice(&ctx.body).ok()?;
        let pairs = v
            .as_object()?
            .iter()
            .map(|(k, v)| {
                let text = match v {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Null => String::new(),
                    other => other.to_string(),
                };
                (k.clone(), text)
            })
            .collect();
        Some(Params::from_pairs(pairs))
    } else if ct.starts_with("application/x-www-form-urlencoded") {
        Some(codec::utf8_params(&ctx.body))
    } else {
        None
    }
}

/// `"200"` or `200`, stable per key.
fn code_literal(key: &str, code: i64) -> String {
    if codec::fnv(key).is_multiple_of(2) {
        format!("\"{code}\"")
    } else {
        code.to_string()
    }
}

fn plain_reply(key: &str, code: i64, count: u32, msg: &str) -> Reply {
    let msg = serde_json::Value::String(msg.to_string()).to_string();
    Reply::json(format!(
        "{{\"code\":{},\"count\":{},\"msg\":{msg}}}",
        code_literal(key, code),
        code_literal(key, i64::from(count))
    ))
}

fn reject(msg: &str) -> Reply {
    plain_reply("", 400, 0, msg)
}

fn positive_int(text: &str, max: u64) -> Option<u64> {
    if text.is_empty()
        || text.len() > 12
        || text.starts_with('0')
        || !text.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    text.parse::<u64>().ok().filter(|n| *n >= 1 && *n <= max)
}

fn missing(p: &Params, names: &[&str]) -> Option<Reply> {
    names.iter().find(|n| p.non_empty(n).is_none()).map(|n| reject(&format!("参数错误:{n}不能为空")))
}

/// `POST /1/api/oper/order`
pub async fn order(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let ctx = Ctx::from_request(shared, req).await;
    let reply = order_reply(&ctx);
    ctx.respond(reply).await
}

fn order_reply(ctx: &Ctx) -> Reply {
    let Some(p) = params(ctx) else { return reject("参数错误:不支持的请求格式") };
    let order_no = p.get_or_empty("order_no");
    ctx.note_order(order_no);
    let required =
        ["uid", "order_no", "order_type", "mobile_type", "phone_number", "face_value", "notify_url", "sign"];
    if let Some(r) = missing(&p, &required) {
        return r;
    }
    let cfg = &ctx.shared.config.oper;
    let uid = p.get_or_empty("uid");
    if uid != cfg.uid {
        return reject("运营商不存在");
    }
    let phone = p.get_or_empty("phone_number");
    let face = p.get_or_empty("face_value");
    let expected = md5_lower_str(&format!("{uid}{order_no}{phone}{face}{}", cfg.md5key));
    if p.get_or_empty("sign") != expected {
        return reject("签名错误");
    }
    if positive_int(p.get_or_empty("order_type"), 4).is_none() {
        return reject("参数错误:order_type");
    }
    if positive_int(p.get_or_empty("mobile_type"), 3).is_none() {
        return reject("参数错误:mobile_type");
    }
    if codec::phone_operator(phone).is_none() {
        return reject("充值号码错误");
    }
    let Some(face_fen) = positive_int(face, 10_000_000) else { return reject("面值错误") };
    let notify_url = p.get_or_empty("notify_url");
    if !(notify_url.starts_with("http://") || notify_url.starts_with("https://")) {
        return reject("参数错误:notify_url");
    }
    if order_no.len() > 64 {
        return reject("参数错误:order_no");
    }
    let face_fen = face_fen as i64;
    let new = NewOrder {
        provider: Provider::Oper,
        merchant_order_id: order_no,
        account: phone,
        face_li: face_fen * 10,
        cost_li: face_fen * 99 / 100 * 10,
    };
    let detail = |seq: u64| {
        let mobile_order_no = 507_831_667_054_165_634u64 + seq * 7919;
        (
            mobile_order_no.to_string(),
            Detail::Oper {
                phone: phone.to_string(),
                face_value: face.to_string(),
                notify_url: notify_url.to_string(),
                mobile_order_no,
                serial_number: 12_599_351_947_837_504u64 + seq,
                created_unix_ms: now_unix_ms(),
            },
        )
    };
    let (outcome, shape) = orders::submit(&ctx.shared, new, detail);
    let reply = match outcome {
        Outcome::RateLimited => crate::server::rate_limited(Provider::Oper),
        Outcome::Http500 => return Reply::http500(),
        Outcome::Reject(code) => plain_reply(order_no, code, 0, &format!("订单被拒绝({code})")),
        Outcome::Duplicate => plain_reply(order_no, 400, 0, "订单号重复"),
        Outcome::Balance => plain_reply(order_no, 400, 0, "余额不足"),
        Outcome::Accepted(_) => plain_reply(order_no, 200, 1, "Success"),
    };
    reply.shaped(shape)
}

/// `{code,count,msg,data,sign}` with `data` as a string.
fn signed_reply(shared: &Shared, key: &str, data: &str) -> Reply {
    let sign = md5_lower_str(&format!("{data}{}", shared.config.oper.md5key));
    let data_str = serde_json::Value::String(data.to_string()).to_string();
    Reply::json(format!(
        "{{\"code\":{},\"count\":{},\"msg\":\"success\",\"data\":{data_str},\"sign\":\"{sign}\"}}",
        code_literal(key, 200),
        code_literal(key, 1)
    ))
}

/// `POST /1/api/oper/balance`
pub async fn balance(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let ctx = Ctx::from_request(shared, req).await;
    let reply = balance_reply(&ctx);
    ctx.respond(reply).await
}

fn balance_reply(ctx: &Ctx) -> Reply {
    let Some(p) = params(ctx) else { return reject("参数错误:不支持的请求格式") };
    if let Some(r) = missing(&p, &["uid", "sign"]) {
        return r;
    }
    let cfg = &ctx.shared.config.oper;
    if p.get_or_empty("uid") != cfg.uid {
        return reject("运营商不存在");
    }
    if p.get_or_empty("sign") != md5_lower_str(&format!("{}{}", cfg.uid, cfg.md5key)) {
        return reject("签名错误");
    }
    let (balance_li, last, seq) = {
        let mut inner = ctx.shared.lock();
        let last = inner.ledger.last(Provider::Oper).cloned();
        (inner.balance(Provider::Oper), last, inner.next_seq())
    };
    // The account's last ledger entry, as the document's example shows it (money in fen).
    let now = now_unix_ms();
    let at = last.as_ref().map_or(now, |e| e.at_unix_ms);
    let day = at - at % 86_400_000;
    let (id, income, expenditure, record) = last
        .map(|e| (e.id, e.income_li / 10, e.expenditure_li / 10, e.record))
        .unwrap_or((0, 0, 0, String::new()));
    let data = format!(
        "{{\"code\":200,\"count\":1,\"data\":{{\"accountBalance\":{},\"billingDate\":{day},\"currency\":\"人民币\",\
         \"expenditure\":{expenditure},\"gmtCreate\":{at},\"id\":{seq},\"income\":{income},\"operatorName\":\"运营商\",\
         \"payMoney\":{},\"paymentDetailId\":{id},\"record\":{}}},\"msg\":\"success\"}}",
        balance_li.div_euclid(10),
        income.max(expenditure),
        serde_json::Value::String(record)
    );
    signed_reply(&ctx.shared, &seq.to_string(), &data)
}

/// `operatorSn` echoing `order_no` as a JSON literal: an all-digit one is an integer like the
/// document's example.
fn operator_sn(order_no: &str) -> String {
    if order_no.bytes().all(|b| b.is_ascii_digit()) && !order_no.starts_with('0') {
        order_no.to_string()
    } else {
        serde_json::Value::String(order_no.to_string()).to_string()
    }
}

/// `POST /1/api/oper/query_order`
pub async fn query_order(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let ctx = Ctx::from_request(shared, req).await;
    let reply = query_reply(&ctx);
    ctx.respond(reply).await
}

fn query_reply(ctx: &Ctx) -> Reply {
    let Some(p) = params(ctx) else { return reject("参数错误:不支持的请求格式") };
    let order_no = p.get_or_empty("order_no");
    ctx.note_order(order_no);
    if let Some(r) = missing(&p, &["uid", "order_no", "sign"]) {
        return r;
    }
    let cfg = &ctx.shared.config.oper;
    let uid = p.get_or_empty("uid");
    if uid != cfg.uid {
        return reject("运营商不存在");
    }
    if p.get_or_empty("sign") != md5_lower_str(&format!("{uid}{order_no}{}", cfg.md5key)) {
        return reject("签名错误");
    }
    let (fault, order) = {
        let mut inner = ctx.shared.lock();
        let fault = inner.take_query_fault(Provider::Oper, order_no);
        (fault, inner.find(Provider::Oper, order_no).cloned())
    };
    let order = match (fault, order) {
        (Some(Fault::QueryAboutOtherOrder), order) => {
            let other = orders::other_order_id(order_no);
            let amount = order.map_or(1_000, |o| o.public.face_li / 10);
            let data = format!(
                "{{\"code\":200,\"count\":1,\"data\":{{\"amount\":{amount},\"gmtCreate\":{},\"id\":1,\
                 \"mobileOrderNo\":{},\"operatorSn\":{},\"operatorsName\":\"yys\",\
                 \"rechargePhoneNumber\":13800000000,\"serialNumber\":12599351947837503,\"statusId\":9,\
                 \"statusName\":\"退回运营商\"}},\"msg\":\"success\"}}",
                now_unix_ms(),
                507_831_667_054_165_633u64 - codec::fnv(&other) % 1_000_000,
                operator_sn(&other),
            );
            return signed_reply(&ctx.shared, order_no, &data);
        }
        (Some(_), _) | (None, None) => return plain_reply(order_no, 400, 0, "订单不存在"),
        (None, Some(order)) => order,
    };
    let Detail::Oper { phone, mobile_order_no, serial_number, created_unix_ms, .. } = &order.detail else {
        return plain_reply(order_no, 400, 0, "订单不存在");
    };
    let (status, name) = match order.public.state {
        OrderState::Pending if order.created.elapsed() < ctx.shared.config.settle_after / 2 => {
            (5, "订单生成")
        }
        OrderState::Pending => (2, "网厅支付中"),
        OrderState::Succeeded => (4, "充值成功"),
        OrderState::Failed => (9, "退回运营商"),
    };
    let operator_sn = operator_sn(order_no);
    let data = format!(
        "{{\"code\":200,\"count\":1,\"data\":{{\"amount\":{},\"gmtCreate\":{created_unix_ms},\"id\":{},\
         \"mobileOrderNo\":{mobile_order_no},\"operatorSn\":{operator_sn},\"operatorsName\":\"yys\",\
         \"rechargePhoneNumber\":{phone},\"serialNumber\":{serial_number},\"statusId\":{status},\
         \"statusName\":\"{name}\"}},\"msg\":\"success\"}}",
        order.public.face_li / 10,
        serial_number - 12_599_351_947_837_504u64 + 54_630,
    );
    signed_reply(&ctx.shared, order_no, &data)
}

/// The callback of a settled order.
pub fn callback(shared: &Arc<Shared>, order: &Order) -> Option<Callback> {
    let Detail::Oper { phone, face_value, notify_url, mobile_order_no, .. } = &order.detail else {
        return None;
    };
    let cfg = &shared.config.oper;
    let status = if order.public.state == OrderState::Succeeded { "4" } else { "9" };
    let key = if order.flags.bad_callback_sign { format!("{}x", cfg.md5key) } else { cfg.md5key.clone() };
    let order_no = &order.public.merchant_order_id;
    let sign = md5_lower_str(&format!("{}{order_no}{phone}{face_value}{status}{key}", cfg.uid));
    let body = codec::utf8_form(&[
        ("uid", cfg.uid.clone()),
        ("order_no", order_no.clone()),
        // Not signed: the fault sends another id under a valid sign.
        ("mobile_order_no", (mobile_order_no + u64::from(order.flags.unsigned_changed)).to_string()),
        ("phone_number", phone.clone()),
        ("face_value", face_value.clone()),
        ("status", status.to_string()),
        ("sign", sign),
    ]);
    Some(Callback {
        url: notify_url.clone(),
        content_type: "application/x-www-form-urlencoded",
        body,
        ack: b"ok",
    })
}
