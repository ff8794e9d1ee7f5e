//! 鼎音 (dingyin) client: `gameonlinepay.do` for electricity, 抖音, game and phone orders.
//!
//! Why it looks like this: dingyin speaks GBK everywhere (form bodies, signs, XML replies that declare
//! GB2312 but contain GBK bytes), signs with an upper-case MD5 over a fixed parameter order, and only
//! documents order submission. Query, balance and callback come from public clients of the same
//! protocol family and are **assumed**: every such value is in [`table`] so it is easy to correct.
//!
//! * [`request`]: parameter lists, sign strings and GBK form bodies (byte-exact).
//! * [`reply`]: XML parsing and classification of submit / query / balance replies.
//! * [`callback`]: verification of the GBK callback form.

pub mod callback;
pub mod reply;
pub mod request;

use crate::form::Charset;
use crate::http::{self, Http, HttpSettings, Prepared};
use crate::{
    Balance, CallbackError, CallbackRequest, CallbackUpdate, Exchange, Outcome, Provider, ProviderError,
    QueryRequest, Reply, SubmitRequest, Verdict,
};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use topup_core::{ProviderId, Sensitive};

/// Every value that is assumed rather than documented, and every code table, in one place.
pub mod table {
    /// Documented: `POST http://host:9086/gameonlinepay.do`.
    pub const SUBMIT_PATH: &str = "/gameonlinepay.do";
    /// **Assumed**: order query, `userid`, `sporderid`, `sign`.
    pub const QUERY_PATH: &str = "/searchpay.do";
    /// **Assumed**: balance, `userid`, `sign`.
    pub const BALANCE_PATH: &str = "/searchbalance.do";
    /// `resultno` meaning the order is in progress (0 等待充值, 2 充值中).
    pub const IN_PROGRESS: &[&str] = &["0", "2"];
    /// `resultno` success.
    pub const SUCCESS: &str = "1";
    /// `resultno` failed and refunded; final only from a query or a callback.
    pub const FAILED_REFUNDED: &str = "9";
    /// Submit codes that are definite rejections: nothing was placed.
    pub const REJECTED: &[(&str, &str)] = &[
        ("5001", "代理商编号不存在 / no such merchant"),
        ("5002", "余额不足 / balance too low"),
        ("5003", "商品不可用 / product unavailable"),
        ("5004", "号码与商品不符 / number and product do not match"),
        ("5005", "签名错误 / bad sign"),
        ("5008", "亏损订单 / loss-making order"),
        ("5009", "IP 不允许 / IP not allowed"),
        ("5010", "商品与金额不符 / product and amount do not match"),
        ("5011", "数量错误 / bad quantity"),
        ("5012", "参数缺失或无效 / missing or invalid parameter"),
    ];
    /// Codes that must be queried (documentation only: every code not listed above is queried too).
    pub const QUERY: &[(&str, &str)] = &[
        ("5006", "订单号重复，上游已有此单 / duplicate order id, the order exists upstream"),
        ("5007", "订单不存在 / order not found"),
        ("5013", "系统繁忙或同号码已提交 / busy, or the same number was already submitted"),
        ("9999", "未知错误 / unknown error"),
    ];
    /// **Assumed**: balance reply `resultno` for success.
    pub const BALANCE_OK: &str = "1";
    /// **Assumed**: callback `resultno` values.
    pub const CALLBACK_SUCCESS: &str = "1";
    pub const CALLBACK_FAILED: &str = "9";
    /// The callback acknowledgement body.
    pub const ACK: &str = "ok";
    /// Only the last 3 days of orders can be queried.
    pub const QUERY_WINDOW_DAYS: u32 = 3;
}

/// Non-secret dingyin settings, stored as JSON. The key is passed separately.
///
/// JSON: `{"base_url": "http://host:9086", "query_base_url": null, "userid": "10001",
/// "query_window_days": 3, "connect_timeout_ms": 5000, "timeout_ms": 30000, "concurrency": 4,
/// "requests_per_second": 10}`
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DingyinSettings {
    /// Submit host, e.g. `http://1.2.3.4:9086`. No default: the provider hands it out.
    pub base_url: String,
    /// Query and balance host when it differs from the submit host; `None` means `base_url`.
    pub query_base_url: Option<String>,
    /// 商户编号 (not the login name).
    pub userid: String,
    /// How many days back an order can be queried. Default 3.
    pub query_window_days: u32,
    #[serde(flatten)]
    pub http: HttpSettings,
}

impl Default for DingyinSettings {
    fn default() -> Self {
        DingyinSettings {
            base_url: String::new(),
            query_base_url: None,
            userid: String::new(),
            query_window_days: table::QUERY_WINDOW_DAYS,
            http: HttpSettings::default(),
        }
    }
}

impl DingyinSettings {
    pub fn validate(&self) -> Result<(), ProviderError> {
        http::check_base_url("base_url", &self.base_url)?;
        if let Some(q) = &self.query_base_url {
            http::check_base_url("query_base_url", q)?;
        }
        if self.userid.trim().is_empty() {
            return Err(ProviderError::Config("缺少商户编号 userid / userid is missing".into()));
        }
        self.http.validate()
    }

    fn query_base(&self) -> &str {
        self.query_base_url.as_deref().filter(|q| !q.trim().is_empty()).unwrap_or(&self.base_url)
    }
}

/// The dingyin client.
pub struct Dingyin {
    settings: DingyinSettings,
    key: Sensitive<String>,
    http: Http,
}

impl Dingyin {
    pub fn new(settings: DingyinSettings, key: Sensitive<String>) -> Result<Dingyin, ProviderError> {
        settings.validate()?;
        if key.is_empty() {
            return Err(ProviderError::Config("缺少密钥 / key is missing".into()));
        }
        let http = Http::new(&settings.http, key.clone(), Charset::Gbk)?;
        Ok(Dingyin { settings, key, http })
    }

    pub fn settings(&self) -> &DingyinSettings {
        &self.settings
    }

    fn post(&self, base: &str, path: &str, body: String) -> Prepared {
        let url = http::join(base, path);
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
impl Provider for Dingyin {
    fn id(&self) -> ProviderId {
        ProviderId::Dingyin
    }

    fn validate(&self, order: &SubmitRequest) -> Result<(), ProviderError> {
        request::submit_params(&self.settings.userid, order).map(|_| ())
    }

    fn query_window(&self) -> Option<Duration> {
        Some(Duration::from_secs(u64::from(self.settings.query_window_days) * 86_400))
    }

    async fn submit(&self, order: &SubmitRequest) -> Outcome {
        let body = match request::submit_body(&self.settings.userid, self.key.expose(), order) {
            Ok(body) => body,
            Err(e) => {
                return Outcome { reply: crate::not_sent_invalid(&e, order.attempt), exchanges: Vec::new() }
            }
        };
        let (transport, exchange) =
            self.http.send(self.post(&self.settings.base_url, table::SUBMIT_PATH, body)).await;
        let reply = match http::submit_transport(transport) {
            Ok(bytes) => reply::classify_submit(&bytes, &order.merchant_order_id),
            Err(reply) => *reply,
        };
        Outcome { reply, exchanges: vec![exchange] }
    }

    async fn query(&self, order: &QueryRequest) -> Outcome {
        let body =
            match request::query_body(&self.settings.userid, self.key.expose(), &order.merchant_order_id) {
                Ok(body) => body,
                Err(e) => return Outcome { reply: Reply::unknown(e.to_string()), exchanges: Vec::new() },
            };
        let (transport, exchange) =
            self.http.send(self.post(self.settings.query_base(), table::QUERY_PATH, body)).await;
        let reply = match http::query_transport(transport) {
            Ok(bytes) => reply::classify_query(&bytes, &order.merchant_order_id),
            Err(reply) => *reply,
        };
        Outcome { reply, exchanges: vec![exchange] }
    }

    async fn balance(&self) -> (Result<Balance, ProviderError>, Vec<Exchange>) {
        let body = match request::balance_body(&self.settings.userid, self.key.expose()) {
            Ok(body) => body,
            Err(e) => return (Err(e), Vec::new()),
        };
        let (transport, exchange) =
            self.http.send(self.post(self.settings.query_base(), table::BALANCE_PATH, body)).await;
        let result = http::plain_transport(transport).and_then(|bytes| reply::parse_balance(&bytes));
        (result.map(Balance::new), vec![exchange])
    }

    fn parse_callback(&self, request: &CallbackRequest) -> Result<CallbackUpdate, CallbackError> {
        callback::parse(&self.settings.userid, self.key.expose(), request)
    }
}

/// What a dingyin submit code means and how it is classified (for a help screen or the audit view).
pub fn describe(code: &str) -> Option<(&'static str, Verdict)> {
    if let Some((_, text)) = table::REJECTED.iter().find(|(c, _)| *c == code) {
        return Some((text, Verdict::Failed));
    }
    table::QUERY.iter().find(|(c, _)| *c == code).map(|(_, text)| (*text, Verdict::Unknown))
}
