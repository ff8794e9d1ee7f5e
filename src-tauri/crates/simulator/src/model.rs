//! What tests see of the simulator: scripts of faults, recorded requests, orders.
//!
//! Why faults are scripted per order id / per account / for everything: the engine's money rules are
//! about *one* order meeting *one* misbehaviour (a lost reply after the charge, a duplicate answer…),
//! while other orders in the same test behave normally.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Which requests a [`Script`] applies to.
///
/// JSON (for `POST /_sim/script`): `"All"`, `{"Order":"SP0001"}`, `{"Account":"13800138000"}`,
/// `{"Provider":"juhe"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    /// Every request of every provider.
    All,
    /// The merchant order id (`sporderid` / `order_no` / `orderid`).
    Order(String),
    /// The account being topped up: the phone number; for dingyin the `account` parameter, except
    /// electricity, where it is the 户号 (`userid` inside the account JSON).
    Account(String),
    /// Every request to one provider: "dingyin", "oper" or "juhe".
    Provider(String),
}

/// A misbehaviour.
///
/// JSON: unit variants as strings (`"LostResponseAfterAccept"`), the others as objects:
/// `{"SlowReply":{"secs":2,"nanos":0}}`, `{"Reject":{"code":5003,"accept_anyway":false}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fault {
    /// Submit: create and charge the order, then close the connection without any reply.
    LostResponseAfterAccept,
    /// Submit: HTTP 500 with an HTML body; nothing is created.
    Http500BeforeAccept,
    /// Submit: create and charge, send the headers and half the body, then close the connection.
    TruncatedBody,
    /// Submit: create and charge, reply 200 with bytes that are neither XML nor JSON.
    GarbageBody,
    /// Submit: create and charge, reply normally after this delay.
    SlowReply(Duration),
    /// Submit: reply with this provider code (dingyin `resultno`, juhe `error_code`, oper `code`, with
    /// "订单被拒绝(code)" as oper's `msg`). With `accept_anyway` the order is created and charged all the same.
    Reject { code: i64, accept_anyway: bool },
    /// The order is accepted and never settles (queries answer "in progress" forever, no callback).
    PendingForever,
    /// The order settles as failed; the charge is refunded.
    SettleFailed,
    /// Submit: create and charge the order (as if an earlier attempt had placed it), and answer with the
    /// provider's duplicate-order code (dingyin 5006, oper 400 "订单号重复", juhe 208516).
    DuplicateOrder,
    /// Callbacks of the order carry a wrong sign.
    BadCallbackSign,
    /// No callback for the order.
    NoCallback,
    /// Submit: the provider's rate-limit answer (dingyin 5013, oper HTTP 429, juhe 10012); nothing placed.
    RateLimit,
    /// Queries answer "not found" (dingyin 5007, oper 400 "订单不存在", juhe 208509 错误的订单号, as a
    /// strict juhe answers for an id it does not have) while the script lasts; each query answered so
    /// uses up one of `times`.
    QueryNotFound,
    /// Queries answer with a well-formed reply about *another* order (as a mixed-up cache or proxy
    /// would): another merchant id (ours + "1": juhe `uorderid`, dingyin `sporderid`, oper `operatorSn`,
    /// signed where the provider signs) and another provider id, in the failed, refunded state. Our
    /// order is untouched. Each query answered so uses up one of `times`.
    QueryAboutOtherOrder,
    /// Callbacks of the order change the fields the provider's sign does not cover, keeping the sign
    /// valid: dingyin `parvalue` (a tenth of the face) and `remark1`, oper `mobile_order_no` (another
    /// id), juhe `sta` (the opposite state).
    CallbackUnsignedChanged,
}

impl Fault {
    /// Faults consumed when a submit request is answered.
    pub(crate) fn is_submit_fault(&self) -> bool {
        matches!(
            self,
            Fault::LostResponseAfterAccept
                | Fault::Http500BeforeAccept
                | Fault::TruncatedBody
                | Fault::GarbageBody
                | Fault::SlowReply(_)
                | Fault::Reject { .. }
                | Fault::DuplicateOrder
                | Fault::RateLimit
        )
    }

    /// Faults consumed when an order is created; they shape its life after the submit.
    pub(crate) fn is_lifecycle_fault(&self) -> bool {
        matches!(
            self,
            Fault::PendingForever
                | Fault::SettleFailed
                | Fault::BadCallbackSign
                | Fault::NoCallback
                | Fault::CallbackUnsignedChanged
        )
    }

    /// Faults consumed when a query is answered.
    pub(crate) fn is_query_fault(&self) -> bool {
        matches!(self, Fault::QueryNotFound | Fault::QueryAboutOtherOrder)
    }
}

/// One scripted fault: `times: None` = always, `Some(n)` = the next `n` times it applies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Script {
    pub target: Target,
    pub fault: Fault,
    #[serde(default)]
    pub times: Option<u32>,
}

impl Script {
    /// The fault applies once.
    pub fn once(target: Target, fault: Fault) -> Self {
        Script { target, fault, times: Some(1) }
    }

    /// The fault applies every time.
    pub fn always(target: Target, fault: Fault) -> Self {
        Script { target, fault, times: None }
    }
}

/// One HTTP request as it arrived.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// "dingyin", "oper", "juhe", or "" for an unknown path.
    pub provider: String,
    /// The path, e.g. "/gameonlinepay.do".
    pub endpoint: String,
    pub method: String,
    /// The query string (without `?`), empty when none.
    pub query: String,
    /// Content-Type, Content-Length, User-Agent, Accept, Host, when present (lower-case names).
    pub headers: Vec<(String, String)>,
    /// The body exactly as received.
    pub body: Vec<u8>,
    /// Milliseconds since the Unix epoch.
    pub at_unix_ms: u64,
    /// The merchant order id the request carried, once the handler has read it.
    pub merchant_order_id: Option<String>,
}

/// Where an order is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderState {
    /// Accepted, charged, not final yet.
    Pending,
    /// Topped up.
    Succeeded,
    /// Failed; the charge was refunded.
    Failed,
}

/// An order the simulator holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimOrder {
    pub provider: String,
    pub merchant_order_id: String,
    pub provider_order_id: String,
    /// Phone number; dingyin's `account` parameter, or the 户号 for electricity.
    pub account: String,
    /// Face value in li.
    pub face_li: i64,
    pub state: OrderState,
    /// What the account was charged, in li.
    pub charged_li: i64,
    pub refunded: bool,
    /// Callback attempts made so far.
    pub callback_attempts: u32,
    /// Whether a callback was acknowledged with the right body.
    pub callback_acknowledged: bool,
    /// When the order was created (charged), ms since the Unix epoch.
    #[serde(default)]
    pub created_unix_ms: u64,
    /// When it reached its final state, ms since the Unix epoch.
    #[serde(default)]
    pub finished_unix_ms: Option<u64>,
}
