//! Orders: the board's list, one order's history, entering an order (check, preflight, add), and
//! what a person does to one (query now, resolve, resubmit).

use super::{field, parse_id, phone_info, ApiError, ApiResult, PhoneInfo};
use crate::book::{Book, Order, OrderEvent, OrderFilter, OrderPage, OrderState, StateCounts};
use crate::contract::{BatchId, Message};
use crate::import::Field;
use crate::order::{Cell, CheckedOrder, FieldMessage, Origin, RawOrder};
use crate::run::Engine;
use serde::{Deserialize, Serialize};
use topup_core::{Li, ProductKind, ProviderId};

/// The order list query, as the UI sends it.
#[derive(Clone, Debug, Default, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase", default)]
pub struct OrderQuery {
    pub states: Vec<OrderState>,
    pub provider: Option<ProviderId>,
    pub batch_id: Option<BatchId>,
    pub created_from: Option<i64>,
    pub created_to: Option<i64>,
    pub search: Option<String>,
    pub needs_attention: bool,
    /// Only orders past a stuck-order limit ([`crate::run::stuck`]).
    pub overdue: bool,
    pub offset: i64,
    pub limit: i64,
}

impl OrderQuery {
    pub fn filter(&self) -> Result<OrderFilter, ApiError> {
        Ok(OrderFilter {
            states: self.states.clone(),
            provider: self.provider,
            batch_id: self.batch_id.map(BatchId::get),
            created_from: self.created_from,
            created_to: self.created_to,
            search: self.search.clone(),
            needs_attention: self.needs_attention,
            overdue: self.overdue,
            offset: self.offset,
            limit: self.limit,
        })
    }
}

#[derive(Clone, Debug, Deserialize, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct ElectricityInput {
    pub grid: String,
    pub mobile: Option<String>,
    pub id_card: Option<String>,
    pub account_type: Option<String>,
    pub province: Option<String>,
    pub city: Option<String>,
}

/// A new order as typed in the order-entry screen.
#[derive(Clone, Debug, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct NewOrderInput {
    pub provider: Option<ProviderId>,
    pub kind: ProductKind,
    pub account: String,
    pub face: String,
    pub product_id: Option<String>,
    pub area: Option<String>,
    pub server: Option<String>,
    pub quantity: Option<u32>,
    pub electricity: Option<ElectricityInput>,
    /// 售价 as typed (yuan); empty: the price list decides ([`crate::sale`]).
    #[serde(default)]
    #[ts(optional = nullable)]
    pub sale: Option<String>,
    /// 客户.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub customer: Option<String>,
    /// 快充 / 慢充 (`fast` / `slow`); empty: fast.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub speed: Option<String>,
}

impl NewOrderInput {
    /// The form's values as a raw order, nothing checked yet (see [`crate::order`]).
    pub fn raw(&self) -> RawOrder<'_> {
        let mut raw = RawOrder::new(Origin::Form, self.provider);
        raw.text(Field::Kind, Some(self.kind.as_str()))
            .text(Field::Account, Some(&self.account))
            .text(Field::Face, Some(&self.face))
            .text(Field::Product, self.product_id.as_deref())
            .text(Field::Area, self.area.as_deref())
            .text(Field::Server, self.server.as_deref())
            .text(Field::Sale, self.sale.as_deref())
            .text(Field::Customer, self.customer.as_deref())
            .text(Field::Speed, self.speed.as_deref());
        if let Some(q) = self.quantity {
            raw.set(Field::Quantity, Cell::Int(i64::from(q)));
        }
        if let Some(e) = &self.electricity {
            raw.text(Field::Grid, Some(&e.grid))
                .text(Field::PayerMobile, e.mobile.as_deref())
                .text(Field::IdCard, e.id_card.as_deref())
                .text(Field::AccountType, e.account_type.as_deref())
                .text(Field::Province, e.province.as_deref())
                .text(Field::City, e.city.as_deref());
        }
        raw
    }

    /// Checks the order against every rule, the provider from `ctx`'s routing when none was chosen;
    /// errors name the field in Chinese and English. (The window uses [`check`], which also asks the
    /// configured provider.)
    pub fn check(&self, ctx: &crate::order::Context<'_>) -> Result<CheckedOrder, ApiError> {
        Ok(crate::order::check(&self.raw(), ctx).into_result(Origin::Form)?)
    }
}

/// Checks an order typed in the order-entry screen: every rule, the engine's routing, and the
/// configured provider's own check.
pub fn check(engine: &Engine, input: &NewOrderInput) -> Result<CheckedOrder, ApiError> {
    check_raw(engine, &input.raw())
}

/// Checks an order from any front end (the form, `order add`'s flags): messages name its fields as
/// that front end does.
pub fn check_raw(engine: &Engine, raw: &RawOrder<'_>) -> Result<CheckedOrder, ApiError> {
    Ok(crate::order::check_with_engine(engine, raw).into_result(raw.origin)?)
}

/// Checks and stores a new order typed in the form (submitted by the engine's loop).
pub fn add_order(engine: &Engine, input: &NewOrderInput) -> ApiResult<Order> {
    add_raw(engine, &input.raw())
}

/// Checks and stores a new order from any front end.
pub fn add_raw(engine: &Engine, raw: &RawOrder<'_>) -> ApiResult<Order> {
    Ok(engine.add_order(check_raw(engine, raw)?)?)
}

/// What the confirmation dialog shows before money moves, and what the order check says about the
/// input (the window decides nothing itself: see [`crate::order`]).
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct Preflight {
    pub provider: ProviderId,
    pub phone: Option<PhoneInfo>,
    pub cost: Option<Li>,
    pub cost_source: Option<String>,
    pub duplicates: Vec<Order>,
    pub duplicate_window_ms: u64,
    /// Everything that stops the order: each error of `messages`, and a provider that is not
    /// configured.
    pub problems: Vec<Message>,
    /// What the order check found, by field: errors and warnings.
    pub messages: Vec<FieldMessage>,
    /// The face values (yuan) the provider sells for this kind when it sells only some.
    #[ts(type = "Array<number> | null")]
    pub sold_faces: Option<Vec<i64>>,
    /// The sale price the order will store ([`crate::sale`]: typed, else the price list); `null`: unknown.
    #[ts(optional = nullable)]
    pub sale: Option<Li>,
    #[ts(optional = nullable)]
    pub sale_source: Option<crate::sale::SaleSource>,
}

/// The preflight of an order typed in the form.
pub async fn preflight(engine: &Engine, input: &NewOrderInput) -> Result<Preflight, ApiError> {
    preflight_raw(engine, &input.raw()).await
}

/// What entering this order would do, from any front end: the order check's messages, the provider
/// it goes to, its cost, recent orders for the same account and amount, and what the number is.
pub async fn preflight_raw(engine: &Engine, raw: &RawOrder<'_>) -> Result<Preflight, ApiError> {
    let checked = crate::order::check_with_engine(engine, raw);
    let Some(provider) = checked.provider else {
        return Err(checked.into_result(raw.origin).err().map_or_else(
            || field(("供应商", "provider"), crate::msg!("没有可用的供应商", "no provider available")),
            ApiError::from,
        ));
    };
    let settings = engine.settings();
    let mut problems: Vec<Message> = checked.errors().map(|m| m.message.clone()).collect();
    if engine.provider(provider).is_none() {
        problems.push(Message::new(
            format!("{} 未配置", provider.label_zh()),
            format!("{provider} is not configured"),
        ));
    }
    let (mut duplicates, mut cost, mut cost_source) = (Vec::new(), None, None);
    let face = checked.order.as_ref().map(CheckedOrder::face);
    if let Some(order) = &checked.order {
        let since = crate::book::now_ms() - i64::try_from(settings.duplicate_window_ms).unwrap_or(i64::MAX);
        duplicates = engine.book().recent_same_orders(order.account(), order.face(), since)?;
    }
    let mut phone = None;
    let kind = checked.kind.unwrap_or(ProductKind::Phone);
    let text = |f: Field| raw.get(f).map(ToString::to_string);
    if checked.kind == Some(ProductKind::Phone) {
        let info =
            phone_info(engine, &text(Field::Account).unwrap_or_default(), text(Field::Face).as_deref())
                .await?;
        if let (ProviderId::Juhe, Some(order)) = (provider, &checked.order) {
            if let Some(Ok(p)) = engine.phone_product(order.account(), order.face()).await {
                cost = p.in_price;
                cost_source = cost.map(|_| "聚合 telquery 进价 / juhe telquery inprice".to_owned());
            }
        }
        phone = Some(info);
    }
    if let (None, Some(face)) = (cost, face) {
        cost = Some(crate::import::estimated_cost(provider, face));
        cost_source = Some("按供应商折扣估算 / estimated from the provider's discount".to_owned());
    }
    Ok(Preflight {
        provider,
        phone,
        cost,
        cost_source,
        duplicates,
        duplicate_window_ms: settings.duplicate_window_ms,
        problems,
        sold_faces: topup_providers::rules::face::sold_faces(provider, kind).map(<[i64]>::to_vec),
        sale: checked.order.as_ref().and_then(|o| o.sale().amount),
        sale_source: checked.order.as_ref().and_then(|o| o.sale().source),
        messages: checked.messages,
    })
}

/// A page of the board.
pub fn list_orders(book: &Book, query: &OrderQuery) -> ApiResult<OrderPage> {
    Ok(book.list_orders(&query.filter()?)?)
}

/// One order and its whole history.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct OrderDetail {
    pub order: Order,
    pub events: Vec<OrderEvent>,
}

pub fn order_detail(book: &Book, id: i64) -> ApiResult<OrderDetail> {
    Ok(OrderDetail { order: book.order(id)?, events: book.events(id)? })
}

pub fn state_counts(book: &Book) -> ApiResult<StateCounts> {
    Ok(book.state_counts()?)
}

pub fn batch_counts(book: &Book, batch_id: BatchId) -> ApiResult<StateCounts> {
    Ok(book.batch_counts(batch_id.get())?)
}

/// Asks the order's provider for its state now.
pub async fn query_order(engine: &Engine, id: i64) -> ApiResult<Order> {
    Ok(engine.query_now(id).await?)
}

/// A person settles an order waiting for one: `outcome` is `succeeded` or `failed` (also `success`,
/// `成功`, `fail`, `失败`, as the command line always took them).
pub fn resolve(engine: &Engine, id: i64, outcome: &str, note: &str) -> Result<Order, ApiError> {
    let state = match outcome.trim() {
        "succeeded" | "success" | "成功" => OrderState::Succeeded,
        "failed" | "fail" | "失败" => OrderState::Failed,
        other => {
            return Err(field(
                ("处理结果", "outcome"),
                crate::msg!("“{other}”无效，应为 succeeded 或 failed", "must be succeeded or failed"),
            ))
        }
    };
    Ok(engine.resolve(id, state, note)?)
}

/// A new order, linked to a definitely failed one, that buys the same top-up again.
pub fn resubmit(engine: &Engine, id: i64) -> ApiResult<Order> {
    Ok(engine.resubmit(id)?)
}

/// The internal id the window sends, as text.
pub fn order_id(id: &str) -> Result<i64, ApiError> {
    parse_id(("订单", "order"), id)
}

/// An order named by a person: its merchant order id (`TD…`, or the sheet's own), else its internal
/// id.
pub fn find_order(book: &Book, id: &str) -> ApiResult<Order> {
    if let Some(o) = book.order_by_merchant_id(id.trim())? {
        return Ok(o);
    }
    if let Ok(n) = id.trim().parse::<i64>() {
        if let Ok(o) = book.order(n) {
            return Ok(o);
        }
    }
    Err(ApiError::NotFound { what: "订单", what_en: "order", id: id.to_owned() })
}
