//! 聚合数据 (juhe) 话费 client: onlineorder, ordersta, telcheck/telquery, balance, callback.
//!
//! Why it looks like this: juhe puts the app key itself in every request (so every recorded request
//! and URL is redacted), signs `md5(openid + key + ...)` lower-case, and is explicit that a network
//! error, an unparsable reply or `10014` must be queried, never failed. Only the codes listed in
//! [`table::REJECTED`] fail an order; rate limits (10011–10013) fail it with `retry_later` (nothing was
//! placed, the same order id may be sent again). A reply counts only when it is proven to be about the
//! order: a `uorderid` must be ours, and a query's `sporder_id` (which juhe documents) must be there
//! and match the one juhe gave us; anything else is unknown, so a reply about another order can never
//! fail ours (and reroute it: a double top-up). The callback's sign does not cover `sta`, so every
//! callback asks the engine to confirm by a query. Orders juhe cannot take (order id not 8–32
//! characters, a face value not in 1/2/5/10/20/30/50/100/300) are refused before sending: `validate`
//! returns `ProviderError::InvalidOrder` and `submit` answers `Failed` without `retry_later` — nothing
//! was sent, so nothing can have been charged, and resending the same order would be refused again.

pub mod callback;
pub mod reply;
pub mod request;

use crate::form::Charset;
use crate::http::{self, Http, HttpSettings, Prepared};
use crate::{
    Balance, CallbackError, CallbackRequest, CallbackUpdate, Exchange, Outcome, PhoneProduct, Provider,
    ProviderError, QueryRequest, SubmitRequest,
};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use topup_core::{Li, ProviderId, Sensitive};

/// Hosts, paths and code tables.
pub mod table {
    /// https: juhe puts the app key itself in every query string, so over http every request would
    /// carry the key in clear text. juhe's public clients call the same paths on this host.
    pub const PRODUCTION_BASE_URL: &str = "https://op.juhe.cn";
    /// The default of earlier versions (and of juhe's PHP sample): upgraded once in books written by
    /// them, see [`super::upgrade_old_default`].
    pub const OLD_PRODUCTION_BASE_URL: &str = "http://op.juhe.cn";
    /// juhe's test environment is documented on http only.
    pub const TEST_BASE_URL: &str = "http://test-v.juhe.cn";
    pub const SUBMIT_PATH: &str = "/ofpay/mobile/onlineorder";
    pub const STATUS_PATH: &str = "/ofpay/mobile/ordersta";
    pub const TELCHECK_PATH: &str = "/ofpay/mobile/telcheck";
    pub const TELQUERY_PATH: &str = "/ofpay/mobile/telquery";
    /// **Assumed** from juhe's public clients.
    pub const BALANCE_PATH: &str = "/ofpay/mobile/yue";
    /// Face values juhe sells, in yuan.
    pub const FACE_VALUES: &[i64] = &[1, 2, 5, 10, 20, 30, 50, 100, 300];
    pub const ORDER_ID_MIN: usize = 8;
    pub const ORDER_ID_MAX: usize = 32;
    /// Definite rejections: (first code, last code, retry_later, meaning). Nothing was placed.
    pub const REJECTED: &[(i64, i64, bool, &str)] = &[
        (10001, 10005, false, "key / openid / 权限错误 / key, openid or permission error"),
        (10007, 10009, false, "key / openid / 权限错误 / key, openid or permission error"),
        (10011, 10013, true, "请求超过限制，稍后用同一单号重发 / rate limited, resend the same id later"),
        (10020, 10021, false, "接口维护或停用 / interface under maintenance or disabled"),
        (208501, 208507, false, "参数或商品错误 / bad parameter or product"),
        (208509, 208509, false, "错误的订单号 / bad order id"),
        (208514, 208515, false, "签名或参数错误 / bad sign or parameter"),
        (208517, 208517, false, "余额不足 / balance too low"),
    ];
    /// Must be queried (documentation only: every code not in `REJECTED` is queried).
    pub const QUERY: &[(i64, &str)] = &[
        (10014, "系统内部异常 / internal error"),
        (208508, "订单状态未知 / order state unknown"),
        (208516, "订单号重复 / duplicate order id"),
    ];
    /// `ordersta` answering that juhe has no order with this id: not a failure, see `Reply::not_found`.
    /// juhe's documents do not say which code it sends ("查询状态失败,可能订单号不存在等情况"), so every
    /// "no such order" code of juhe's code table counts: 208509 (错误的订单号, what a strict juhe
    /// answers for an id it does not have) and 208513 (**assumed** from public clients, 查询不到该订单).
    /// Resending the same id after it is protected by juhe's duplicate check (208516).
    pub const QUERY_NOT_FOUND: &[i64] = &[208509, 208513];
    /// `game_state`: 0 in progress, 1 success, 9 failed (refunded), -1 not accepted.
    pub const STATE_PENDING: &str = "0";
    pub const STATE_SUCCESS: &str = "1";
    pub const STATE_FAILED: &[&str] = &["9", "-1"];
    /// Callback `sta`.
    pub const CALLBACK_SUCCESS: &str = "1";
    pub const CALLBACK_FAILED: &str = "9";
    pub const ACK: &str = "success";
}

/// Non-secret juhe settings, stored as JSON. The app key is passed separately.
///
/// JSON: `{"base_url": "https://op.juhe.cn", "openid": "JH...", "connect_timeout_ms": 5000,
/// "timeout_ms": 30000, "concurrency": 4, "requests_per_second": 10}`. Use
/// `"http://test-v.juhe.cn"` ([`table::TEST_BASE_URL`]) for juhe's test environment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct JuheSettings {
    /// Default `https://op.juhe.cn` (production).
    pub base_url: String,
    /// The account's OpenID (个人中心).
    pub openid: String,
    #[serde(flatten)]
    pub http: HttpSettings,
}

impl Default for JuheSettings {
    fn default() -> Self {
        JuheSettings {
            base_url: table::PRODUCTION_BASE_URL.to_owned(),
            openid: String::new(),
            http: HttpSettings::default(),
        }
    }
}

impl JuheSettings {
    /// Settings for juhe's test environment.
    pub fn test_environment(openid: impl Into<String>) -> JuheSettings {
        JuheSettings {
            base_url: table::TEST_BASE_URL.to_owned(),
            openid: openid.into(),
            ..Default::default()
        }
    }

    pub fn validate(&self) -> Result<(), ProviderError> {
        http::check_base_url("base_url", &self.base_url)?;
        if self.openid.trim().is_empty() {
            return Err(ProviderError::Config("缺少 openid / openid is missing".into()));
        }
        self.http.validate()
    }
}

/// Upgrades stored juhe settings whose `base_url` is the old default `http://op.juhe.cn` (with or
/// without a trailing slash) to `https://op.juhe.cn`; returns whether it changed anything.
///
/// Why only that exact value: until this version it was the default and the README's example, so a
/// book holding it most likely never chose plain http; any other http address is the user's explicit
/// choice and is kept (Settings warns about it). Called once per book written before this version.
pub fn upgrade_old_default(settings: &mut serde_json::Value) -> bool {
    let Some(url) = settings.get_mut("base_url") else { return false };
    if url.as_str().map(|u| u.trim().trim_end_matches('/')) == Some(table::OLD_PRODUCTION_BASE_URL) {
        *url = serde_json::Value::String(table::PRODUCTION_BASE_URL.to_owned());
        return true;
    }
    false
}

/// The juhe client.
pub struct Juhe {
    settings: JuheSettings,
    key: Sensitive<String>,
    http: Http,
}

impl Juhe {
    pub fn new(settings: JuheSettings, key: Sensitive<String>) -> Result<Juhe, ProviderError> {
        settings.validate()?;
        if key.is_empty() {
            return Err(ProviderError::Config("缺少 AppKey / app key is missing".into()));
        }
        let http = Http::new(&settings.http, key.clone(), Charset::Utf8)?;
        Ok(Juhe { settings, key, http })
    }

    pub fn settings(&self) -> &JuheSettings {
        &self.settings
    }

    fn get(&self, path: &str, query: request::Query) -> Prepared {
        let url = http::join(&self.settings.base_url, path);
        Prepared {
            method: reqwest::Method::GET,
            url: format!("{url}?{}", query.sent),
            shown_url: format!("{url}?{}", query.shown),
            form_body: None,
            shown_request: query.shown,
        }
    }

    async fn lookup(&self, path: &str, phone: &str, yuan: i64) -> (Result<Vec<u8>, ProviderError>, Exchange) {
        let query = request::lookup_query(self.key.expose(), phone, yuan);
        let (transport, exchange) = self.http.send(self.get(path, query)).await;
        (http::plain_transport(transport), exchange)
    }
}

#[async_trait]
impl Provider for Juhe {
    fn id(&self) -> ProviderId {
        ProviderId::Juhe
    }

    fn validate(&self, order: &SubmitRequest) -> Result<(), ProviderError> {
        request::check_order(order).map(|_| ())
    }

    async fn submit(&self, order: &SubmitRequest) -> Outcome {
        let form = match request::submit_form(&self.settings.openid, self.key.expose(), order) {
            Ok(form) => form,
            Err(e) => {
                return Outcome { reply: crate::not_sent_invalid(&e, order.attempt), exchanges: Vec::new() }
            }
        };
        let url = http::join(&self.settings.base_url, table::SUBMIT_PATH);
        let prepared = Prepared {
            method: reqwest::Method::POST,
            shown_url: url.clone(),
            url,
            form_body: Some(form.sent),
            shown_request: form.shown,
        };
        let (transport, exchange) = self.http.send(prepared).await;
        let reply = match http::submit_transport(transport) {
            Ok(bytes) => reply::classify_submit(&bytes, &order.merchant_order_id),
            Err(reply) => *reply,
        };
        Outcome { reply, exchanges: vec![exchange] }
    }

    async fn query(&self, order: &QueryRequest) -> Outcome {
        let query = request::status_query(self.key.expose(), &order.merchant_order_id);
        let (transport, exchange) = self.http.send(self.get(table::STATUS_PATH, query)).await;
        let reply = match http::query_transport(transport) {
            Ok(bytes) => {
                reply::classify_query(&bytes, &order.merchant_order_id, order.provider_order_id.as_deref())
            }
            Err(reply) => *reply,
        };
        Outcome { reply, exchanges: vec![exchange] }
    }

    async fn balance(&self) -> (Result<Balance, ProviderError>, Vec<Exchange>) {
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default()
            .to_string();
        let query = request::balance_query(&self.settings.openid, self.key.expose(), &timestamp);
        let (transport, exchange) = self.http.send(self.get(table::BALANCE_PATH, query)).await;
        let result = http::plain_transport(transport).and_then(|bytes| reply::parse_balance(&bytes));
        (result.map(Balance::new), vec![exchange])
    }

    fn parse_callback(&self, request: &CallbackRequest) -> Result<CallbackUpdate, CallbackError> {
        callback::parse(self.key.expose(), request)
    }

    async fn phone_product(
        &self,
        phone: &str,
        face: Li,
    ) -> (Result<PhoneProduct, ProviderError>, Vec<Exchange>) {
        let yuan = match request::face_yuan(face) {
            Ok(y) => y,
            Err(e) => return (Err(e), Vec::new()),
        };
        let mut exchanges = Vec::new();
        let (check, exchange) = self.lookup(table::TELCHECK_PATH, phone, yuan).await;
        exchanges.push(exchange);
        let supported = match check.and_then(|bytes| reply::parse_telcheck(&bytes)) {
            Ok(s) => s,
            Err(e) => return (Err(e), exchanges),
        };
        if let Some(unsupported) = supported {
            return (Ok(unsupported), exchanges);
        }
        let (product, exchange) = self.lookup(table::TELQUERY_PATH, phone, yuan).await;
        exchanges.push(exchange);
        (product.and_then(|bytes| reply::parse_telquery(&bytes)), exchanges)
    }
}
