//! juhe (聚合数据 话费): multipart or urlencoded POST for orders, GET query strings for the rest, JSON out.
//!
//! Why the callback URL is per account: juhe configures it once in its back office, not per order, so a
//! client cannot choose it per request; tests set it with `SimConfig::juhe.callback_url` or
//! `Simulator::set_juhe_callback_url`. Amounts in replies are strings ("1.002", "1.060"): the sample only
//! shows PHP's print_r, which cannot tell, and a string keeps the 厘 exact.

use crate::codec::{self, Params};
use crate::model::{Fault, OrderState};
use crate::orders::{self, Callback, NewOrder, Outcome};
use crate::server::{md5_lower_str, Ctx, Reply};
use crate::state::{Detail, Order, Provider, Shared};
use axum::extract::{Request, State};
use axum::response::Response;
use serde_json::json;
use std::sync::Arc;

/// Face values juhe sells, in yuan.
pub const JUHE_FACES: [u32; 9] = [1, 2, 5, 10, 20, 30, 50, 100, 300];

/// What `ordersta` answers for an order id juhe does not have: 208509 错误的订单号, from juhe's code
/// table (its documents name no dedicated "not found" code).
const NOT_FOUND: i64 = 208509;

/// juhe's order id (`sporder_id`) for a merchant order id.
fn juhe_order_id(orderid: &str, seq: u64) -> String {
    format!("J{:011}{:010}", codec::fnv(orderid) % 100_000_000_000, seq)
}

/// `{"reason":..,"result":null,"error_code":code}`
pub fn error_reply(code: i64, reason: &str) -> Reply {
    Reply::json(json!({"reason": reason, "result": null, "error_code": code}).to_string())
}

fn ok_reply(reason: &str, result: serde_json::Value) -> Reply {
    Reply::json(json!({"reason": reason, "result": result, "error_code": 0}).to_string())
}

fn body_params(ctx: &Ctx) -> Params {
    let ct = ctx.content_type();
    match codec::multipart_boundary(&ct) {
        Some(boundary) => codec::parse_multipart(&ctx.body, &boundary).unwrap_or_default(),
        None if ct.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded") => {
            codec::utf8_params(&ctx.body)
        }
        None => Params::default(),
    }
}

fn check_key(ctx: &Ctx, p: &Params) -> Option<Reply> {
    (p.get_or_empty("key") != ctx.shared.config.juhe.appkey).then(|| error_reply(10001, "错误的请求KEY"))
}

fn cardnum_ok(cardnum: &str) -> Option<u32> {
    JUHE_FACES.iter().copied().find(|f| f.to_string() == cardnum)
}

/// Phone and face checks shared by onlineorder, telcheck, telquery: (operator, face yuan).
fn phone_and_face(p: &Params) -> Result<(u8, u32), Reply> {
    let op = codec::phone_operator(p.get_or_empty("phoneno"))
        .ok_or_else(|| error_reply(208505, "错误的手机号码"))?;
    let face = cardnum_ok(p.get_or_empty("cardnum")).ok_or_else(|| error_reply(208506, "错误的充值金额"))?;
    Ok((op, face))
}

fn price_li(face: u32) -> i64 {
    i64::from(face) * 1002
}

fn cardid(op: u8, face: u32) -> String {
    format!("1{op}{face:03}")
}

fn cardname(op: u8, face: u32) -> String {
    format!("全国{}话费{face}元", codec::operator_name(op))
}

/// `POST /ofpay/mobile/onlineorder`
pub async fn onlineorder(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let ctx = Ctx::from_request(shared, req).await;
    let reply = onlineorder_reply(&ctx);
    ctx.respond(reply).await
}

fn onlineorder_reply(ctx: &Ctx) -> Reply {
    let p = body_params(ctx);
    let orderid = p.get_or_empty("orderid");
    ctx.note_order(orderid);
    if let Some(r) = check_key(ctx, &p) {
        return r;
    }
    if p.non_empty("phoneno").is_none() {
        return error_reply(208505, "错误的手机号码");
    }
    if p.non_empty("cardnum").is_none() {
        return error_reply(208506, "错误的充值金额");
    }
    if p.non_empty("orderid").is_none() {
        return error_reply(208509, "错误的订单号");
    }
    let cfg = &ctx.shared.config.juhe;
    let phone = p.get_or_empty("phoneno");
    let cardnum = p.get_or_empty("cardnum");
    let expected = md5_lower_str(&format!("{}{}{phone}{cardnum}{orderid}", cfg.openid, cfg.appkey));
    if p.get_or_empty("sign") != expected {
        return error_reply(208514, "错误的校验值sign");
    }
    let (op, face) = match phone_and_face(&p) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let n = orderid.chars().count();
    if !(8..=32).contains(&n) || !orderid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return error_reply(208509, "错误的订单号(8-32位)");
    }
    let cost_li = price_li(face);
    let new = NewOrder {
        provider: Provider::Juhe,
        merchant_order_id: orderid,
        account: phone,
        face_li: i64::from(face) * 1000,
        cost_li,
    };
    let detail = |seq: u64| (juhe_order_id(orderid, seq), Detail::Juhe);
    let (outcome, shape) = orders::submit(&ctx.shared, new, detail);
    let reply = match outcome {
        Outcome::RateLimited => error_reply(10012, "请求超过次数限制"),
        Outcome::Http500 => return Reply::http500(),
        Outcome::Reject(code) => error_reply(code, "订单提交失败"),
        Outcome::Duplicate => error_reply(208516, "重复的订单号"),
        Outcome::Balance => error_reply(208517, "当前账户可用余额不足"),
        Outcome::Accepted(order) => ok_reply(
            "订单提交成功，等待充值",
            json!({
                "cardid": cardid(op, face),
                "cardnum": cardnum,
                "ordercash": codec::yuan_trimmed(order.public.charged_li),
                "cardname": cardname(op, face),
                "sporder_id": order.public.provider_order_id,
                "uorderid": orderid,
                "game_userid": phone,
                "game_state": "0",
            }),
        ),
    };
    reply.shaped(shape)
}

/// `GET /ofpay/mobile/ordersta`
pub async fn ordersta(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let ctx = Ctx::from_request(shared, req).await;
    let reply = ordersta_reply(&ctx);
    ctx.respond(reply).await
}

fn ordersta_reply(ctx: &Ctx) -> Reply {
    let p = codec::utf8_params(ctx.query.as_bytes());
    let orderid = p.get_or_empty("orderid");
    ctx.note_order(orderid);
    if let Some(r) = check_key(ctx, &p) {
        return r;
    }
    if orderid.is_empty() {
        return error_reply(208509, "错误的订单号");
    }
    let (fault, order) = {
        let mut inner = ctx.shared.lock();
        let fault = inner.take_query_fault(Provider::Juhe, orderid);
        (fault, inner.find(Provider::Juhe, orderid).cloned())
    };
    match (fault, order) {
        (Some(Fault::QueryAboutOtherOrder), order) => {
            let other = orders::other_order_id(orderid);
            let charged = order.map_or(10_020, |o| o.public.charged_li);
            ok_reply(
                "查询成功",
                json!({
                    "uordercash": codec::yuan_3(charged),
                    "sporder_id": juhe_order_id(&other, 0),
                    "uorderid": other,
                    "game_state": "9",
                }),
            )
        }
        // A strict juhe: an id it does not have is 错误的订单号 (its code table), not a special code.
        (Some(_), _) | (None, None) => error_reply(NOT_FOUND, "错误的订单号"),
        (None, Some(order)) => {
            let state = match order.public.state {
                OrderState::Pending => "0",
                OrderState::Succeeded => "1",
                OrderState::Failed => "9",
            };
            ok_reply(
                "查询成功",
                json!({
                    "uordercash": codec::yuan_3(order.public.charged_li),
                    "sporder_id": order.public.provider_order_id,
                    "game_state": state,
                }),
            )
        }
    }
}

/// `GET /ofpay/mobile/telcheck`
pub async fn telcheck(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let ctx = Ctx::from_request(shared, req).await;
    let p = codec::utf8_params(ctx.query.as_bytes());
    let reply = match check_key(&ctx, &p) {
        Some(r) => r,
        None => match phone_and_face(&p) {
            Ok(_) => error_reply(0, "允许充值的手机号码及金额"),
            Err(_) => error_reply(208501, "不允许充值的手机号码及金额"),
        },
    };
    ctx.respond(reply).await
}

/// `GET /ofpay/mobile/telquery`
pub async fn telquery(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let ctx = Ctx::from_request(shared, req).await;
    let p = codec::utf8_params(ctx.query.as_bytes());
    let reply = match check_key(&ctx, &p) {
        Some(r) => r,
        None => match phone_and_face(&p) {
            Ok((op, face)) => ok_reply(
                "查询成功",
                json!({
                    "cardid": cardid(op, face),
                    "cardname": cardname(op, face),
                    "inprice": codec::yuan_trimmed(price_li(face)),
                    "game_area": format!("全国{}", codec::operator_name(op)),
                }),
            ),
            Err(r) => r,
        },
    };
    ctx.respond(reply).await
}

/// `GET /ofpay/mobile/yue`
pub async fn yue(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let ctx = Ctx::from_request(shared, req).await;
    let p = codec::utf8_params(ctx.query.as_bytes());
    let cfg = &ctx.shared.config.juhe;
    let reply = if let Some(r) = check_key(&ctx, &p) {
        r
    } else {
        let ts = p.get_or_empty("timestamp");
        let expected = md5_lower_str(&format!("{}{}{ts}", cfg.openid, cfg.appkey));
        if ts.is_empty() || !ts.bytes().all(|b| b.is_ascii_digit()) || p.get_or_empty("sign") != expected {
            error_reply(208514, "错误的校验值sign")
        } else {
            let balance = ctx.shared.lock().balance(Provider::Juhe);
            ok_reply("查询成功", json!({"uid": cfg.openid, "money": codec::yuan_3(balance)}))
        }
    };
    ctx.respond(reply).await
}

/// The callback of a settled order, to the account's callback URL.
pub fn callback(shared: &Arc<Shared>, order: &Order) -> Option<Callback> {
    let url = shared.lock().juhe_callback_url.clone()?;
    let cfg = &shared.config.juhe;
    let succeeded = order.public.state == OrderState::Succeeded;
    // `sta` is not signed: the fault flips it under a valid sign.
    let sta = if succeeded != order.flags.unsigned_changed { "1" } else { "9" };
    let key = if order.flags.bad_callback_sign { format!("{}x", cfg.appkey) } else { cfg.appkey.clone() };
    let sporder_id = &order.public.provider_order_id;
    let orderid = &order.public.merchant_order_id;
    let sign = md5_lower_str(&format!("{key}{sporder_id}{orderid}"));
    let body = codec::utf8_form(&[
        ("sporder_id", sporder_id.clone()),
        ("orderid", orderid.clone()),
        ("sta", sta.to_string()),
        ("sign", sign),
    ]);
    Some(Callback { url, content_type: "application/x-www-form-urlencoded", body, ack: b"success" })
}
