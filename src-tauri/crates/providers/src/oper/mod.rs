//! 上游运营商 (oper) client: order push, order query, balance, callback.
//!
//! Why it looks like this: oper signs with a lower-case MD5 of a plain UTF-8 concatenation (no
//! separators), counts money in **fen**, and wraps balance and query results in a `data` field that
//! is a JSON *string* signed as `md5(data + md5key)`; the sign is verified before `data` is read, and
//! ids in `data` exceed 2^53, so they are kept as the exact digits sent. A code-400 submit is a
//! rejection only on the order's first send and only when the message does not hint that the order
//! may exist (duplicate, timeout, busy): 400 is oper's catch-all, and on a resend of the same id a
//! duplicate worded any other way would fail an order an earlier send placed, so there it is unknown.
//! Every code and path is in [`table`].

pub mod callback;
pub mod reply;
pub mod request;
pub mod segments;

use crate::form::Charset;
use crate::http::{self, Http, HttpSettings, Prepared};
use crate::{
    Balance, CallbackError, CallbackRequest, CallbackUpdate, Exchange, Outcome, Provider, ProviderError,
    QueryRequest, SubmitRequest,
};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use topup_core::{ProviderId, Sensitive};

/// Paths and code tables.
pub mod table {
    pub const ORDER_PATH: &str = "/1/api/oper/order";
    pub const BALANCE_PATH: &str = "/1/api/oper/balance";
    pub const QUERY_PATH: &str = "/1/api/oper/query_order";
    pub const CODE_OK: &str = "200";
    pub const CODE_FAILED: &str = "400";
    /// `order_type` 1 话费 (the only kind this product sends to oper).
    pub const ORDER_TYPE_PHONE: &str = "1";
    /// A code-400 submit whose `msg` contains one of these may have created the order: query it. Only
    /// consulted on a first send; on a resend every 400 is queried.
    pub const MAYBE_EXISTS_MARKERS: &[&str] = &[
        "重复",
        "已存在",
        "已提交",
        "处理中",
        "超时",
        "异常",
        "繁忙",
        "稍后",
        "duplicate",
        "repeat",
        "exist",
        "timeout",
        "time out",
        "exception",
        "busy",
        "processing",
    ];
    /// Query `statusId`.
    pub const STATUS_SUCCESS: &[&str] = &["4"];
    /// 9 退回运营商 (returned, refunded); 1 超时未付 (timed out unpaid).
    pub const STATUS_FAILED: &[&str] = &["9", "1"];
    /// 0 未支付, 2 网厅支付中, 5 订单生成, 6 网厅下单中.
    pub const STATUS_PENDING: &[&str] = &["0", "2", "5", "6"];
    /// Callback `status`: 4 success; 9 returned, 10 failed.
    pub const CALLBACK_SUCCESS: &[&str] = &["4"];
    pub const CALLBACK_FAILED: &[&str] = &["9", "10"];
    pub const ACK: &str = "ok";
}

/// Non-secret oper settings, stored as JSON. The md5key is passed separately.
///
/// JSON: `{"base_url": "http://host:8088", "uid": "3928857", "notify_url": "", "connect_timeout_ms":
/// 5000, "timeout_ms": 30000, "concurrency": 4, "requests_per_second": 10}`
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OperSettings {
    /// e.g. `http://1.2.3.4:8088`. No default: the provider hands it out.
    pub base_url: String,
    /// 运营商 ID assigned by oper.
    pub uid: String,
    /// `notify_url` sent when the order itself has none (oper requires the field; may be empty).
    pub notify_url: String,
    #[serde(flatten)]
    pub http: HttpSettings,
}

impl OperSettings {
    pub fn validate(&self) -> Result<(), ProviderError> {
        http::check_base_url("base_url", &self.base_url)?;
        if self.uid.trim().is_empty() {
            return Err(ProviderError::Config("缺少运营商 ID uid / uid is missing".into()));
        }
        self.http.validate()
    }
}

/// The oper client.
pub struct Oper {
    settings: OperSettings,
    key: Sensitive<String>,
    http: Http,
}

impl Oper {
    pub fn new(settings: OperSettings, key: Sensitive<String>) -> Result<Oper, ProviderError> {
        settings.validate()?;
        if key.is_empty() {
            return Err(ProviderError::Config("缺少密钥 md5key / md5key is missing".into()));
        }
        let http = Http::new(&settings.http, key.clone(), Charset::Utf8)?;
        Ok(Oper { settings, key, http })
    }

    pub fn settings(&self) -> &OperSettings {
        &self.settings
    }

    fn post(&self, path: &str, body: String) -> Prepared {
        let url = http::join(&self.settings.base_url, path);
        Prepared {
            method: reqwest::Method::POST,
            shown_url: url.clone(),
            url,
            shown_request: body.clone(),
            form_body: Some(body),
        }
    }
}

#[async_trait]
impl Provider for Oper {
    fn id(&self) -> ProviderId {
        ProviderId::Oper
    }

    fn validate(&self, order: &SubmitRequest) -> Result<(), ProviderError> {
        request::order_fields(&self.settings.uid, &self.settings.notify_url, order).map(|_| ())
    }

    async fn submit(&self, order: &SubmitRequest) -> Outcome {
        let body = match request::order_body(
            &self.settings.uid,
            &self.settings.notify_url,
            self.key.expose(),
            order,
        ) {
            Ok(body) => body,
            Err(e) => {
                return Outcome { reply: crate::not_sent_invalid(&e, order.attempt), exchanges: Vec::new() }
            }
        };
        let (transport, exchange) = self.http.send(self.post(table::ORDER_PATH, body)).await;
        let reply = match http::submit_transport(transport) {
            Ok(bytes) => reply::classify_submit(&bytes, order.attempt),
            Err(reply) => *reply,
        };
        Outcome { reply, exchanges: vec![exchange] }
    }

    async fn query(&self, order: &QueryRequest) -> Outcome {
        let body = request::query_body(&self.settings.uid, self.key.expose(), &order.merchant_order_id);
        let (transport, exchange) = self.http.send(self.post(table::QUERY_PATH, body)).await;
        let reply = match http::query_transport(transport) {
            Ok(bytes) => reply::classify_query(&bytes, self.key.expose(), &order.merchant_order_id),
            Err(reply) => *reply,
        };
        Outcome { reply, exchanges: vec![exchange] }
    }

    async fn balance(&self) -> (Result<Balance, ProviderError>, Vec<Exchange>) {
        let body = request::balance_body(&self.settings.uid, self.key.expose());
        let (transport, exchange) = self.http.send(self.post(table::BALANCE_PATH, body)).await;
        let result = http::plain_transport(transport)
            .and_then(|bytes| reply::parse_balance(&bytes, self.key.expose()));
        (result.map(|(amount, ledger)| Balance { amount, ledger }), vec![exchange])
    }

    fn parse_callback(&self, request: &CallbackRequest) -> Result<CallbackUpdate, CallbackError> {
        callback::parse(&self.settings.uid, self.key.expose(), request)
    }
}
