//! An order from any front end, checked once: raw values in, one [`CheckedOrder`] (or messages naming
//! the field) out.
//!
//! Why one path (ripgrep's lowargs → hiargs): the order form, the command line, a spreadsheet row and
//! a line pasted from a chat each start as raw values — text as typed, or a cell as the spreadsheet
//! stored it — each with a place the user finds it by (a form field, a flag, a row and column, a
//! line). Before, each front end had its own copy of the rules and they disagreed (the form took any
//! 15 or 18 characters as an ID card, the window 18 only, the import warned about a wrong check
//! digit); now a front end only builds a [`RawOrder`], [`check()`] applies every rule, and the engine's
//! `add_order` and the import's commit take only what it returned, without checking again.
//!
//! Where the rules live: the mobile number and each provider's face values in
//! `topup_providers::rules` (the request builders ask them too), the ID card in [`id_card`], reading
//! number-like text and amounts exactly in [`text`], the words for kinds, grids and carriers in
//! [`words`], the provider for an order without one in `EngineSettings::default_provider`. Text
//! pasted from a chat is read into raw rows by [`chat`].

pub mod chat;
mod check;
pub mod id_card;
pub(crate) mod text;
pub mod words;

pub use check::{check, check_with_engine};

use crate::config::EngineSettings;
use crate::import::Field;
use serde::Serialize;
use std::fmt;
use topup_core::{Li, ProductKind, ProviderId};
use topup_providers::{Carrier, Electricity, SubmitRequest};

/// How serious a message is. Errors stop the order; warnings are shown and the order goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
}

/// One finding about one field of an order (or about the whole order, when `field` is absent).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct FieldMessage {
    pub level: Level,
    /// Stable code for the UI (`not_a_phone`, `face_not_sold`, `missing_value`, …).
    pub code: &'static str,
    pub field: Option<Field>,
    /// `en` is empty when `zh` is already bilingual (a provider's message).
    #[serde(flatten)]
    #[ts(flatten)]
    pub message: crate::contract::Message,
}

/// A finding reads as its message (`m.zh`, `m.en`).
impl std::ops::Deref for FieldMessage {
    type Target = crate::contract::Message;
    fn deref(&self) -> &crate::contract::Message {
        &self.message
    }
}

impl FieldMessage {
    pub fn new(level: Level, code: &'static str, field: Option<Field>, zh: String, en: String) -> Self {
        FieldMessage { level, code, field, message: crate::contract::Message { zh, en } }
    }

    /// `zh / en` (or the bilingual text alone).
    pub fn text(&self) -> String {
        let (zh, en) = self.parts();
        if en.is_empty() {
            zh.to_owned()
        } else {
            format!("{zh} / {en}")
        }
    }

    /// The Chinese and the English text (a provider's bilingual message split at its ` / `).
    pub fn parts(&self) -> (&str, &str) {
        if self.en.is_empty() {
            self.zh.split_once(" / ").unwrap_or((&self.zh, ""))
        } else {
            (&self.zh, &self.en)
        }
    }
}

/// A value as a spreadsheet stored it, or as typed (`Text`).
#[derive(Clone, Debug, PartialEq)]
pub enum Cell<'a> {
    Empty,
    Text(&'a str),
    Int(i64),
    Float(f64),
    /// A date, a boolean or a formula error, as the spreadsheet shows it.
    Other(String),
}

impl fmt::Display for Cell<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cell::Empty => Ok(()),
            Cell::Text(s) => f.write_str(s),
            Cell::Int(i) => write!(f, "{i}"),
            Cell::Float(x) => write!(f, "{x}"),
            Cell::Other(s) => f.write_str(s),
        }
    }
}

impl<'a> From<Option<&'a str>> for Cell<'a> {
    fn from(s: Option<&'a str>) -> Cell<'a> {
        s.map_or(Cell::Empty, Cell::Text)
    }
}

/// Where a raw order came from: how its fields are named to the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The order-entry screen: field labels.
    Form,
    /// `topup-desk order add`: flag names.
    Flags,
    /// A spreadsheet row (1-based, as the user sees it); the import names the column.
    Sheet { row: u32 },
    /// A line of pasted text (1-based).
    Line(u32),
}

impl Origin {
    /// Where `field` of an order of `kind` is, for a person, in Chinese and English: `手机号` /
    /// `phone`, `--account（手机号）` / `--account (phone)`, `第 3 行 手机号` / `line 3, phone`. (A
    /// spreadsheet's column is named by the import, which knows it.)
    pub fn locate(self, field: Option<Field>, kind: ProductKind) -> (String, String) {
        let (zh, en) = field.map_or(("订单", "order"), |f| label(f, kind));
        match self {
            Origin::Form => (zh.to_owned(), en.to_owned()),
            Origin::Flags => match field.and_then(flag) {
                Some(flag) => (format!("{flag}（{zh}）"), format!("{flag} ({en})")),
                None => (zh.to_owned(), en.to_owned()),
            },
            Origin::Sheet { row } => (format!("第 {row} 行 {zh}"), format!("row {row}, {en}")),
            Origin::Line(line) => (format!("第 {line} 行 {zh}"), format!("line {line}, {en}")),
        }
    }
}

/// A field's name in Chinese and English, for an order of `kind` (the account is a 手机号 for 话费,
/// a 户号 for 电费).
pub fn label(field: Field, kind: ProductKind) -> (&'static str, &'static str) {
    match (field, kind) {
        (Field::Account, ProductKind::Phone) => ("手机号", "phone"),
        (Field::Account, ProductKind::Electricity) => ("户号", "account number"),
        (Field::Account, _) => ("充值账号", "account"),
        (Field::Face, _) => ("面值", "face value"),
        (Field::Product, _) => ("商品编号", "product id"),
        (Field::Kind, _) => ("类型", "kind"),
        (Field::Carrier, _) => ("运营商", "carrier"),
        (Field::Area, _) => ("区", "area"),
        (Field::Server, _) => ("服", "server"),
        (Field::Note, _) => ("备注", "note"),
        (Field::IdCard, _) => ("身份证号", "ID card"),
        (Field::Grid, _) => ("电网", "grid"),
        (Field::Province, _) => ("省份", "province"),
        (Field::City, _) => ("城市", "city"),
        (Field::PayerMobile, _) => ("缴费手机号", "payer mobile"),
        (Field::AccountType, _) => ("户号类型", "account type"),
        (Field::Quantity, _) => ("数量", "quantity"),
        (Field::Sale, _) => ("售价", "sale price"),
        (Field::Customer, _) => ("客户", "customer"),
        (Field::Speed, _) => ("快慢充", "speed"),
    }
}

/// The `topup-desk order add` flag of a field.
fn flag(field: Field) -> Option<&'static str> {
    Some(match field {
        Field::Account => "--account",
        Field::Face => "--face",
        Field::Product => "--product",
        Field::Kind => "--kind",
        Field::Area => "--area",
        Field::Server => "--server",
        Field::Quantity => "--quantity",
        Field::Grid => "--grid",
        Field::PayerMobile => "--mobile",
        Field::IdCard => "--id-card",
        Field::Sale => "--sale",
        Field::Customer => "--customer",
        Field::Speed => "--speed",
        _ => return None,
    })
}

/// An order as it arrived: raw values by field, before any rule.
#[derive(Clone, Debug)]
pub struct RawOrder<'a> {
    pub origin: Origin,
    /// The provider chosen (the form's list, `--provider`, the import's choice); `None`: the engine's
    /// routing decides.
    pub provider: Option<ProviderId>,
    cells: Vec<(Field, Cell<'a>)>,
}

impl<'a> RawOrder<'a> {
    pub fn new(origin: Origin, provider: Option<ProviderId>) -> RawOrder<'a> {
        RawOrder { origin, provider, cells: Vec::with_capacity(4) }
    }

    /// Sets a field (a field given twice keeps the last value).
    pub fn set(&mut self, field: Field, cell: Cell<'a>) -> &mut Self {
        self.cells.retain(|(f, _)| *f != field);
        self.cells.push((field, cell));
        self
    }

    /// Sets a field from optional text (`None`: the field was not given at all).
    pub fn text(&mut self, field: Field, text: Option<&'a str>) -> &mut Self {
        if let Some(t) = text {
            self.set(field, Cell::Text(t));
        }
        self
    }

    /// The field's value; `None` when the front end has no such field (a sheet without the column).
    pub fn get(&self, field: Field) -> Option<&Cell<'a>> {
        self.cells.iter().find(|(f, _)| *f == field).map(|(_, c)| c)
    }
}

/// What the check needs to know besides the order.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// The kind of an order that names none.
    pub default_kind: ProductKind,
    /// The routing for an order without a provider, and the providers available to it.
    pub settings: &'a EngineSettings,
    pub available: &'a [ProviderId],
}

/// What the check says about an order: its messages, and the order when nothing is an error.
#[derive(Debug, Default)]
pub struct Checked {
    pub messages: Vec<FieldMessage>,
    pub order: Option<CheckedOrder>,
    /// The kind the order was checked as (to name its fields).
    pub kind: Option<ProductKind>,
    /// The provider it was checked for, when one could be chosen.
    pub provider: Option<ProviderId>,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.messages.iter().any(|m| m.level == Level::Error)
    }

    pub fn errors(&self) -> impl Iterator<Item = &FieldMessage> {
        self.messages.iter().filter(|m| m.level == Level::Error)
    }
}

impl Checked {
    /// The order, or every error with where it is (as `origin` names fields).
    pub fn into_result(self, origin: Origin) -> Result<CheckedOrder, Refused> {
        match self.order {
            Some(order) if !self.messages.iter().any(|m| m.level == Level::Error) => Ok(order),
            _ => Err(Refused::new(origin, self.kind.unwrap_or(ProductKind::Phone), self.messages)),
        }
    }
}

/// An order the check refused: its errors, each with where it is (`手机号：… / phone: …`).
#[derive(Clone, Debug, thiserror::Error)]
pub struct Refused {
    pub messages: Vec<FieldMessage>,
    message: crate::contract::Message,
}

crate::coded!(Refused);

impl Refused {
    fn new(origin: Origin, kind: ProductKind, messages: Vec<FieldMessage>) -> Refused {
        let (mut zh, mut en) = (Vec::new(), Vec::new());
        for m in messages.iter().filter(|m| m.level == Level::Error) {
            let (at_zh, at_en) = origin.locate(m.field, kind);
            let (text_zh, text_en) = m.parts();
            zh.push(format!("{at_zh}：{text_zh}"));
            en.push(format!("{at_en}: {}", if text_en.is_empty() { text_zh } else { text_en }));
        }
        Refused { messages, message: crate::contract::Message::new(zh.join("；"), en.join("; ")) }
    }

    /// A stable code for the UI and the command line.
    pub fn code(&self) -> crate::contract::ErrorCode {
        crate::contract::ErrorCode::InvalidField
    }

    /// Every error with where it is, in Chinese and English.
    pub fn message(&self) -> crate::contract::Message {
        self.message.clone()
    }
}

/// An order every rule has passed. Only [`check()`] makes one; the engine stores it as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedOrder {
    provider: ProviderId,
    kind: ProductKind,
    account: String,
    face: Li,
    product_id: Option<String>,
    /// Units of a per-unit product; 1 otherwise.
    quantity: u32,
    area: Option<String>,
    server: Option<String>,
    carrier: Option<Carrier>,
    electricity: Option<Electricity>,
    note: Option<String>,
    /// The sale price as [`crate::sale::PriceList::decide`] decided it (given, price list, or unknown).
    sale: crate::sale::Sale,
    customer: Option<String>,
    /// A 慢充 (slow) top-up of a phone or electricity account: another product, with its own
    /// stuck-order time limits. Stored in the details as `"speed": "slow"`.
    slow: bool,
}

impl CheckedOrder {
    /// The sale price and its source (`amount: None`: unknown).
    pub fn sale(&self) -> crate::sale::Sale {
        self.sale
    }

    pub fn customer(&self) -> Option<&str> {
        self.customer.as_deref()
    }

    /// What the order stores about its sale when created.
    pub fn sold(&self) -> crate::sale::Sold {
        crate::sale::Sold { sale: self.sale, customer: self.customer.clone() }
    }

    pub fn provider(&self) -> ProviderId {
        self.provider
    }

    pub fn kind(&self) -> ProductKind {
        self.kind
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    pub fn face(&self) -> Li {
        self.face
    }

    pub fn product_id(&self) -> Option<&str> {
        self.product_id.as_deref()
    }

    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    /// What goes into `orders.details`: `quantity` (games always; other kinds with a product id and
    /// more than one unit), `area`, `server`, `carrier`, `electricity` (the providers crate's
    /// [`Electricity`] as JSON), `speed: "slow"` for a 慢充.
    pub fn details(&self) -> serde_json::Value {
        let mut d = serde_json::Map::new();
        if self.kind == ProductKind::Game || (self.product_id.is_some() && self.quantity != 1) {
            d.insert("quantity".into(), self.quantity.into());
        }
        if let Some(a) = &self.area {
            d.insert("area".into(), a.clone().into());
        }
        if let Some(s) = &self.server {
            d.insert("server".into(), s.clone().into());
        }
        if let Some(c) = self.carrier {
            d.insert("carrier".into(), serde_json::to_value(c).unwrap_or_default());
        }
        if let Some(e) = &self.electricity {
            d.insert("electricity".into(), serde_json::to_value(e).unwrap_or_default());
        }
        if self.slow {
            d.insert("speed".into(), "slow".into());
        }
        serde_json::Value::Object(d)
    }

    /// The order as a provider request (for the provider's own check before anything is stored).
    pub fn submit_request(&self, merchant_order_id: &str) -> SubmitRequest {
        SubmitRequest {
            merchant_order_id: merchant_order_id.to_owned(),
            kind: self.kind,
            account: self.account.clone(),
            face: self.face,
            product_id: self.product_id.clone(),
            quantity: self.quantity,
            area: self.area.clone(),
            server: self.server.clone(),
            electricity: self.electricity.clone(),
            carrier: self.carrier,
            order_time: "20250101000000".into(),
            notify_url: None,
            attempt: 1,
        }
    }

    /// The row to insert, with a fresh merchant order id.
    pub fn new_order(&self, merchant_order_id: String, batch_id: Option<i64>) -> crate::book::NewOrder {
        crate::book::NewOrder {
            merchant_order_id,
            provider: self.provider,
            kind: self.kind,
            product_id: self.product_id.clone(),
            account: self.account.clone(),
            details: self.details(),
            face: self.face,
            batch_id,
            resubmit_of: None,
            fallback_of: None,
        }
    }
}
