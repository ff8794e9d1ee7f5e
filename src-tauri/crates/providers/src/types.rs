//! The types every provider client speaks: requests from the engine, classified replies, exchanges.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use topup_core::{Li, ProductKind, ProviderId};

/// How a provider's answer is to be read. See the provider-docs README for the tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The provider took the order and it is in progress (pending).
    Accepted,
    /// The top-up is done.
    Succeeded,
    /// Definitely not charged: a well-formed reply with a "definitely rejected" code, or a final
    /// failed/refunded state from a query or callback, or a local refusal of a first send (nothing
    /// left this machine). Only ever for a reply *proven to be about this order*: it names this order's
    /// id, or it is the direct answer to this order's own request and names no other order. A reply
    /// naming another order, or lacking the order id its provider documents, is `Unknown`. The engine
    /// relies on this: a `Failed` order may be rerouted to another provider automatically.
    Failed,
    /// Anything else: timeouts, resets after the request was written, 5xx, garbage, unknown codes,
    /// "query" codes, bad signatures. The order must be queried.
    Unknown,
}

/// A classified reply to submit or query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub verdict: Verdict,
    /// Only with `Failed`: nothing was placed and the same order id may be sent again later (rate
    /// limits such as juhe 10011–10013, "system busy" codes documented as not placing the order,
    /// or a connect error: the request never left this machine).
    pub retry_later: bool,
    /// The provider's own code (`resultno`, `code`, `error_code`, `statusId`, `game_state`), as text.
    pub code: Option<String>,
    /// The provider's own message text, shown to the user as is.
    pub message: Option<String>,
    /// The provider's order id, kept as text (oper's ids exceed 2^53).
    pub provider_order_id: Option<String>,
    /// What the provider says the order costs, when it says so.
    pub cost: Option<Li>,
    /// A voucher / operator serial number, when the provider gives one.
    pub voucher: Option<String>,
    /// Why the client classified it so, in Chinese and English, for the audit trail.
    pub reason: String,
    /// Only on a query: the provider answered that it has no order with this id (dingyin 5007,
    /// oper "订单不存在", juhe's not-found code). Never a failure by itself: the order may have been
    /// accepted moments ago. The engine may resend the *same* id later, which the provider's
    /// duplicate check makes safe.
    pub not_found: bool,
}

impl Reply {
    /// The reply is not proven to be about the order it is applied to: unknown, whatever it says, and
    /// none of its facts (provider id, cost, voucher) are kept — they may belong to another order.
    /// Code and message stay for the audit trail.
    pub(crate) fn not_about_this_order(self, why: String) -> Reply {
        Reply {
            verdict: Verdict::Unknown,
            retry_later: false,
            provider_order_id: None,
            cost: None,
            voucher: None,
            not_found: false,
            reason: why,
            ..self
        }
    }

    /// [`Reply::not_about_this_order`] for a reply whose `field` names another order, `named`.
    pub(crate) fn names_another_order(self, field: &str, named: &str) -> Reply {
        self.not_about_this_order(format!(
            "回复的 {field}“{named}”不是本单，结果未知，需查询 / the reply's {field} “{named}” is another \
             order: outcome unknown, must query"
        ))
    }

    /// [`Reply::not_about_this_order`] for a reply lacking `field`, the order id its provider documents.
    pub(crate) fn names_no_order(self, field: &str) -> Reply {
        self.not_about_this_order(format!(
            "回复缺少 {field}，无法确认是本单，需查询 / the reply lacks {field}: not proven to be about this \
             order, must query"
        ))
    }

    pub fn unknown(reason: impl Into<String>) -> Reply {
        Reply {
            verdict: Verdict::Unknown,
            retry_later: false,
            code: None,
            message: None,
            provider_order_id: None,
            cost: None,
            voucher: None,
            reason: reason.into(),
            not_found: false,
        }
    }
}

/// One HTTP request and its reply, redacted (no key, no sign input), for the order's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exchange {
    pub method: String,
    /// URL without secrets (query strings carrying a key are redacted).
    pub url: String,
    /// The request body or query as sent, with secret values replaced by `<redacted>`.
    pub request: String,
    /// HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// The response body decoded to UTF-8 (lossy), truncated to a few KiB.
    pub response: Option<String>,
    /// Transport error text, when no usable response arrived.
    pub error: Option<String>,
    pub elapsed_ms: u64,
}

/// A classified reply plus the exchanges that produced it.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub reply: Reply,
    pub exchanges: Vec<Exchange>,
}

/// What the engine asks a provider to do for one order. `merchant_order_id` is already stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubmitRequest {
    pub merchant_order_id: String,
    pub kind: ProductKind,
    /// Phone number, game account, 抖音 id, or electricity 户号.
    pub account: String,
    pub face: Li,
    /// Provider product id (dingyin `productid`), when the user chose one.
    pub product_id: Option<String>,
    /// Quantity of a per-unit product (dingyin `num` for game products and phone products with a
    /// product id); 1 otherwise. For a phone top-up without a product id, electricity and 抖音, dingyin's
    /// `num` is the face value in whole yuan and the client derives it from `face`.
    pub quantity: u32,
    /// Game area / server (dingyin `areaid` / `serverid`).
    pub area: Option<String>,
    pub server: Option<String>,
    /// Electricity details (dingyin note 1).
    pub electricity: Option<Electricity>,
    /// oper `mobile_type`: 1 移动, 2 联通, 3 电信. Derived from the number segment when absent.
    pub carrier: Option<Carrier>,
    /// Local time the order was created, `yyyyMMddHHmmss` (dingyin `spordertime`).
    pub order_time: String,
    /// URL the provider calls back, when the callback listener has a public URL.
    pub notify_url: Option<String>,
    /// Which send of this order id this is: 1 the first, more for a resend of the same id (after the
    /// provider said it has no such order, or after a requeue). Counted from every send intent, even
    /// one that never left, erring towards "an earlier send may have placed it". A rejection of a
    /// resend proves only that the resend was refused where the provider has no distinct duplicate
    /// code (oper's catch-all `code` 400): such a reply is `Unknown`, and so is a local refusal of a
    /// resend (the earlier send's fate is still open).
    pub attempt: u32,
}

/// Electricity order details, per dingyin's note 1.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Electricity {
    pub grid: Grid,
    /// 国网: the payer's mobile number, sent as `areaid`.
    pub mobile: Option<String>,
    /// 南网: the payer's ID card number, sent as `userip`; `username` is its last 6 characters.
    pub id_card: Option<String>,
    /// 户号类型 1 住宅 2 店铺 3 企事业 4 身份证 6 营业执照 7 代扣银行卡.
    pub account_type: Option<String>,
    pub province: Option<String>,
    pub city: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Grid {
    /// 国家电网
    State,
    /// 南方电网
    South,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "lowercase")]
pub enum Carrier {
    Mobile,
    Unicom,
    Telecom,
}

/// What the engine asks when it queries an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryRequest {
    pub merchant_order_id: String,
    pub provider_order_id: Option<String>,
}

/// A provider balance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Balance {
    pub amount: Li,
    /// The account's last ledger entry, when the provider's reply names it (oper); signed with the
    /// balance, so as much a fact as the amount.
    pub ledger: Option<LedgerRef>,
}

impl Balance {
    /// A balance without a ledger entry (dingyin, juhe).
    pub fn new(amount: Li) -> Balance {
        Balance { amount, ledger: None }
    }
}

/// The last entry of a provider's account ledger, as its balance reply names it (oper: `paymentDetailId`,
/// `record`, `gmtCreate`, `income`, `expenditure`). The id is kept as its exact digits.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LedgerRef {
    pub id: String,
    pub record: Option<String>,
    /// When the entry was made (ms since the epoch), as the provider says.
    pub at: Option<i64>,
    pub income: Option<Li>,
    pub expenditure: Option<Li>,
}

/// A raw HTTP callback as the listener received it.
#[derive(Clone, Debug)]
pub struct CallbackRequest {
    pub method: String,
    pub content_type: Option<String>,
    pub query: String,
    pub body: Vec<u8>,
}

/// A verified callback: the order it is about and what it says.
///
/// Only what the provider's signature covers is carried as a fact: an unsigned field (dingyin's
/// `parvalue` and `remark1`, oper's `mobile_order_no`, juhe's `sta`) is never stored and never the
/// basis of a verdict the engine acknowledges without applying it. The fields a client cannot take
/// from signed values are `None`, and where the unsigned part matters the update asks for a query
/// (`needs_confirmation`), which brings the signed facts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallbackUpdate {
    /// Signed (every provider's sign covers the merchant order id).
    pub merchant_order_id: String,
    /// The provider's order id, only when the sign covers it (dingyin `orderid`, juhe `sporder_id`);
    /// `None` otherwise (oper's `mobile_order_no` is unsigned: the query's signed `data` brings it).
    pub provider_order_id: Option<String>,
    /// `Succeeded` or `Failed` (or `Unknown` for a state the client does not know).
    pub verdict: Verdict,
    /// The amount the callback names, only when the sign covers it (oper `face_value`); the engine
    /// checks it against the order. `None` when the amount is unsigned (dingyin `parvalue`) or absent.
    pub face: Option<Li>,
    pub code: Option<String>,
    /// Provider text, only when signed; `None` otherwise.
    pub message: Option<String>,
    /// The engine must confirm by a query before believing the callback's state: the signature does
    /// not cover it (juhe's `sta`). A signed state (dingyin, oper) is a fact; their unsigned fields
    /// are simply not carried.
    pub needs_confirmation: bool,
    /// The body to answer with once the update is durably stored.
    pub ack: &'static str,
}

/// Why a callback was refused. The listener answers with an error status and stores nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    #[error("回调签名错误 / bad callback signature")]
    BadSign,
    #[error("回调缺少字段 {0} / callback lacks field {0}")]
    MissingField(&'static str),
    #[error("回调无法解析：{0} / malformed callback: {0}")]
    Malformed(String),
    #[error("回调的商户编号不符 / callback for another merchant account")]
    WrongAccount,
}

/// A provider-level error outside the order flow (balance, telcheck, settings).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    #[error("网络错误：{0} / network error: {0}")]
    Network(String),
    #[error("供应商返回错误 {code}：{message} / provider error {code}: {message}")]
    Provider { code: String, message: String },
    #[error("供应商回复无法解析：{0} / malformed provider reply: {0}")]
    Malformed(String),
    #[error("供应商回复签名错误 / provider reply signature mismatch")]
    BadSign,
    #[error("{0}")]
    Unsupported(&'static str),
    #[error("配置错误：{0} / configuration error: {0}")]
    Config(String),
    /// The order breaks the provider's rules (face value, id length, missing field); nothing was sent.
    #[error("{0}")]
    InvalidOrder(String),
}

/// juhe telcheck / telquery result (phone number and face value lookup).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PhoneProduct {
    pub supported: bool,
    pub card_id: Option<String>,
    pub card_name: Option<String>,
    /// Purchase price (juhe `inprice`).
    pub in_price: Option<Li>,
    /// e.g. "浙江杭州移动".
    pub area: Option<String>,
    pub message: Option<String>,
}

/// One upstream provider. Implementations never panic on any reply and never return `Failed` for a
/// reply they do not fully understand.
#[async_trait]
pub trait Provider: Send + Sync {
    fn id(&self) -> ProviderId;

    /// Sends one order. The order id is already stored in the order book.
    async fn submit(&self, order: &SubmitRequest) -> Outcome;

    /// Asks for the state of an order sent before.
    async fn query(&self, order: &QueryRequest) -> Outcome;

    /// Reads the account balance.
    async fn balance(&self) -> (Result<Balance, ProviderError>, Vec<Exchange>);

    /// Checks an order against this provider's rules (product kind, face values, id length, fields
    /// GBK can carry) without sending anything. `submit` runs the same check and answers `Failed`
    /// (nothing was sent, so nothing was charged) when it fails; the engine may call it first to
    /// refuse the order before taking the customer's money.
    fn validate(&self, _order: &SubmitRequest) -> Result<(), ProviderError> {
        Ok(())
    }

    /// How far back the provider can answer queries (dingyin: 3 days); `None` when not documented.
    /// An order still unknown after this window goes to manual review.
    fn query_window(&self) -> Option<std::time::Duration> {
        None
    }

    /// Verifies and parses a callback. Pure: no I/O.
    fn parse_callback(&self, request: &CallbackRequest) -> Result<CallbackUpdate, CallbackError>;

    /// juhe's telcheck + telquery; other providers answer `Unsupported`.
    async fn phone_product(
        &self,
        _phone: &str,
        _face: Li,
    ) -> (Result<PhoneProduct, ProviderError>, Vec<Exchange>) {
        (Err(ProviderError::Unsupported("此供应商不支持号码查询 / lookup not supported")), Vec::new())
    }
}
