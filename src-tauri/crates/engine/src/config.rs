//! Engine settings (stored in the order book, non-secret) and the provider registry.
//!
//! Why settings live in SQLite: the window and the command line share one order book, so they share
//! one configuration. Secrets never come here: a provider's key is read from the keyring when the
//! registry is built. With no provider configured the registry is the sandbox (演示模式): all three
//! providers pointed at the built-in simulator with its public demo credentials.

use crate::book::{Book, BookError};
use crate::secrets::{BookKeys, SecretError, SecretStore};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use topup_core::{ProductKind, ProviderId, Sensitive};
use topup_providers::{Provider, ProviderError};

/// The app-settings key under which [`EngineSettings`] are stored.
pub const ENGINE_SETTINGS_KEY: &str = "engine";

/// How the engine schedules, routes and listens. Every field has a default.
///
/// On the wire and in the order book: camelCase, like every other type the UI sees. Each field also
/// reads its snake_case name (`alias`), the form releases before stored, so settings already on a
/// user's disk keep loading; the next save writes camelCase.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(default, rename_all = "camelCase")]
pub struct EngineSettings {
    /// Delays before the 1st, 2nd, … status query of an accepted or unknown order (ms); the last one
    /// repeats. Default 10 s, 30 s, 1 min, 2 min, 5 min, then every 10 min.
    #[serde(alias = "query_delays_ms")]
    pub query_delays_ms: Vec<u64>,
    /// Wait before resending an order that a provider rejected with a busy / rate-limit code, or that
    /// never left this machine (ms, doubled per attempt up to 60 s).
    #[serde(alias = "retry_delay_ms")]
    pub retry_delay_ms: u64,
    /// After a query says the provider has no such order, wait this long after the last send before
    /// resending the same id (ms).
    #[serde(alias = "resend_after_not_found_ms")]
    pub resend_after_not_found_ms: u64,
    /// Resends of the same id after "not found" before a human looks at it.
    #[serde(alias = "max_not_found_resends")]
    pub max_not_found_resends: u32,
    /// Queries stop and the order goes to manual review this long after its first send (ms), unless
    /// the provider's own query window is shorter.
    #[serde(alias = "manual_review_after_ms")]
    pub manual_review_after_ms: u64,
    /// Stuck-order rules: per product (快充 / 慢充 apart), optionally per provider and province, when
    /// an order still waiting is overdue and when a person must look — long before
    /// `manual_review_after_ms`. Flags only: the order keeps being queried ([`crate::run::stuck`]).
    #[serde(alias = "stuck_rules")]
    pub stuck_rules: Vec<crate::run::stuck::StuckRule>,
    /// A callback may bring an order's next query forward (to confirm a state its signature does not
    /// cover, or one the client did not understand), but to no sooner than this long after the order's
    /// last query (ms): replayed callbacks cannot spend the provider's request budget faster than one
    /// query per order per this gap.
    #[serde(alias = "callback_query_gap_ms")]
    pub callback_query_gap_ms: u64,
    /// Default provider per product kind (`phone`, `electricity`, `game`, `douyin`).
    pub routing: BTreeMap<String, ProviderId>,
    /// Optional automatic fallback after a *definite* failure: provider → provider.
    pub fallback: BTreeMap<String, ProviderId>,
    /// The window of the "same account and amount" warning (ms).
    #[serde(alias = "duplicate_window_ms")]
    pub duplicate_window_ms: u64,
    pub callback: CallbackSettings,
    /// Low-balance threshold per provider (li); below it the console warns and notifies.
    #[serde(alias = "low_balance")]
    pub low_balance: BTreeMap<String, i64>,
    /// How often balances are read again: the Balances screen, and the window in the background
    /// (seconds, at least 30 in the background; 0 = never).
    #[serde(alias = "auto_refresh_balance_secs")]
    pub auto_refresh_balance_secs: u64,
    /// The balance drift watch (`api::balance_watch`) lets a window's balance change differ from what
    /// its orders explain by this much (li) before it speaks: rounding of the provider's price to the
    /// fen. Default 100 li (1 角).
    #[serde(alias = "balance_drift_tolerance_li")]
    pub balance_drift_tolerance_li: i64,
    /// The price list (价目表) that gives a new order its sale price when none was entered
    /// ([`crate::sale`]).
    pub prices: crate::sale::PriceList,
}

/// The callback listener: where it listens, and the limits that keep it answering real callbacks
/// whatever strangers send (what each refusal answers: `docs/security.md`). Every limit has a default;
/// durations under 100 ms are read as 100 ms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(default, rename_all = "camelCase")]
pub struct CallbackSettings {
    pub enabled: bool,
    /// Address the listener binds; 127.0.0.1 by default (expose it with a tunnel or reverse proxy).
    pub bind: String,
    /// 0 picks a free port.
    pub port: u16,
    /// The URL providers call, e.g. `https://example.com/topup`; `/callback/<provider>` is appended.
    #[serde(alias = "public_url")]
    pub public_url: Option<String>,
    /// Largest request body (bytes, at least 1024); a larger one is answered 413. Default 16 KiB.
    #[serde(alias = "max_body_bytes")]
    pub max_body_bytes: usize,
    /// Largest request head: request line and headers (bytes, at least 8192); a larger one is answered
    /// 431. Default 16 KiB.
    #[serde(alias = "max_header_bytes")]
    pub max_header_bytes: usize,
    /// Open connections at most (the socket cap), and never more than half the process's open-files
    /// limit. When full, the connection idle longest is closed to make room; if every one is busy
    /// storing a callback, the new one is answered 503 and closed. Default 256.
    #[serde(alias = "max_connections")]
    pub max_connections: usize,
    /// Open connections per sender address (IPv6: per /64) at most; trusted proxies are exempt. Over
    /// it the sender's own connection idle longest is closed, or the new one answered 503. Default 32.
    #[serde(alias = "max_connections_per_ip")]
    pub max_connections_per_ip: usize,
    /// Requests a second, all senders together; over it 429. Default 5000.
    #[serde(alias = "max_requests_per_second")]
    pub max_requests_per_second: u32,
    /// Requests a second per sender; over it 429, and the request does not count against the global
    /// budget. Default 1000.
    #[serde(alias = "max_requests_per_second_per_ip")]
    pub max_requests_per_second_per_ip: u32,
    /// A request head must arrive within this of the connection opening or of its previous answer
    /// (ms), else the connection is closed: the header-read and keep-alive idle timeout. Default 5000.
    #[serde(alias = "header_timeout_ms")]
    pub header_timeout_ms: u64,
    /// A request body must arrive within this of its head (ms), else 408. Default 10000.
    #[serde(alias = "request_timeout_ms")]
    pub request_timeout_ms: u64,
    /// A connection on which no request starts or ends for this long is closed, whatever it is doing
    /// (e.g. a client that never reads its answers) (ms). Default 30000.
    #[serde(alias = "idle_timeout_ms")]
    pub idle_timeout_ms: u64,
    /// On stop, callbacks being stored get this long to finish and be acknowledged (ms); then every
    /// connection is dropped. Default 2000.
    #[serde(alias = "shutdown_grace_ms")]
    pub shutdown_grace_ms: u64,
    /// The reverse proxy or tunnel in front of the listener: for requests from these addresses the
    /// sender is the last address of `X-Forwarded-For` (else `X-Real-IP`), and the per-sender
    /// connection cap does not apply to them. Default loopback (`127.0.0.1`, `::1`).
    #[serde(alias = "trusted_proxies")]
    pub trusted_proxies: Vec<String>,
    /// Refusals logged one by one per summary period; the rest are only counted. Default 10.
    #[serde(alias = "refusal_log_first")]
    pub refusal_log_first: u32,
    /// How often a summary line of the refusals is logged, if there were any (seconds). Default 60.
    #[serde(alias = "refusal_summary_secs")]
    pub refusal_summary_secs: u64,
}

impl Default for CallbackSettings {
    fn default() -> Self {
        CallbackSettings {
            enabled: true,
            bind: "127.0.0.1".into(),
            port: 0,
            public_url: None,
            max_body_bytes: 16 * 1024,
            max_header_bytes: 16 * 1024,
            max_connections: 256,
            max_connections_per_ip: 32,
            max_requests_per_second: 5000,
            max_requests_per_second_per_ip: 1000,
            header_timeout_ms: 5_000,
            request_timeout_ms: 10_000,
            idle_timeout_ms: 30_000,
            shutdown_grace_ms: 2_000,
            trusted_proxies: vec!["127.0.0.1".into(), "::1".into()],
            refusal_log_first: 10,
            refusal_summary_secs: 60,
        }
    }
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings {
            query_delays_ms: vec![10_000, 30_000, 60_000, 120_000, 300_000, 600_000],
            retry_delay_ms: 5_000,
            resend_after_not_found_ms: 60_000,
            max_not_found_resends: 3,
            manual_review_after_ms: 2 * 24 * 3600 * 1000,
            stuck_rules: crate::run::stuck::default_rules(),
            callback_query_gap_ms: 10_000,
            routing: BTreeMap::new(),
            fallback: BTreeMap::new(),
            duplicate_window_ms: 24 * 3600 * 1000,
            callback: CallbackSettings::default(),
            low_balance: BTreeMap::new(),
            auto_refresh_balance_secs: 300,
            balance_drift_tolerance_li: 100,
            prices: crate::sale::PriceList::default(),
        }
    }
}

impl EngineSettings {
    pub fn load(book: &Book) -> Result<EngineSettings, BookError> {
        match book.app_setting(ENGINE_SETTINGS_KEY)? {
            None => Ok(EngineSettings::default()),
            Some(text) => serde_json::from_str(&text)
                .map_err(|e| BookError::Corrupt(format!("引擎设置无法读取 / engine settings: {e}"))),
        }
    }

    /// Stores the settings; a stuck-rule set that [`crate::run::stuck::check_rules`] refuses is not
    /// stored (whichever front end sent it).
    pub fn save(&self, book: &Book) -> Result<(), BookError> {
        let mut rules = self.stuck_rules.clone();
        crate::run::stuck::check_rules(&mut rules).map_err(|e| BookError::Invalid(e.0))?;
        let tidy = EngineSettings { stuck_rules: rules, ..self.clone() };
        let text = serde_json::to_string(&tidy).map_err(|e| BookError::Invalid(e.to_string().into()))?;
        book.write(|tx| tx.put_app_setting(ENGINE_SETTINGS_KEY, &text))
    }

    /// Delay before query number `n` (0-based).
    pub fn query_delay(&self, n: i64) -> Duration {
        let i = usize::try_from(n).unwrap_or(0).min(self.query_delays_ms.len().saturating_sub(1));
        Duration::from_millis(self.query_delays_ms.get(i).copied().unwrap_or(600_000))
    }

    /// Back-off before resend number `attempt` (1-based) of a definitely-not-placed order.
    pub fn retry_delay(&self, attempt: i64) -> Duration {
        let shift = u32::try_from(attempt.clamp(1, 8) - 1).unwrap_or(0);
        Duration::from_millis(
            self.retry_delay_ms.saturating_mul(1 << shift).min(60_000.max(self.retry_delay_ms)),
        )
    }

    /// The provider for a new order of `kind` when the user did not choose one.
    pub fn default_provider(&self, kind: ProductKind, configured: &[ProviderId]) -> Option<ProviderId> {
        if let Some(p) = self.routing.get(kind.as_str()) {
            return Some(*p);
        }
        let preference: &[ProviderId] = match kind {
            ProductKind::Phone => &[ProviderId::Juhe, ProviderId::Oper, ProviderId::Dingyin],
            _ => &[ProviderId::Dingyin],
        };
        preference.iter().copied().find(|p| configured.contains(p) && p.sells(kind))
    }

    pub fn callback_url(&self, provider: ProviderId) -> Option<String> {
        self.callback
            .public_url
            .as_deref()
            .filter(|u| !u.trim().is_empty())
            .map(|u| format!("{}/callback/{}", u.trim_end_matches('/'), provider.as_str()))
    }
}

/// One provider the engine can use.
pub struct ProviderEntry {
    pub client: Arc<dyn Provider>,
    pub concurrency: u32,
    pub requests_per_second: u32,
}

/// The providers the engine talks to, and whether they are the sandbox.
pub struct Registry {
    pub sandbox: bool,
    pub providers: BTreeMap<ProviderId, ProviderEntry>,
    /// Providers configured but unusable (no secret, bad settings), with the reason.
    pub unavailable: BTreeMap<ProviderId, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    Book(#[from] BookError),
    Secret(#[from] SecretError),
    Provider(#[from] ProviderError),
}

crate::coded!(ConfigError);

impl ConfigError {
    pub fn code(&self) -> crate::contract::ErrorCode {
        match self {
            ConfigError::Book(e) => e.code(),
            ConfigError::Secret(e) => e.code(),
            ConfigError::Provider(_) => crate::contract::ErrorCode::ProviderConfig,
        }
    }

    pub fn message(&self) -> crate::contract::Message {
        match self {
            ConfigError::Book(e) => e.message(),
            ConfigError::Secret(e) => e.message(),
            ConfigError::Provider(e) => crate::contract::Message::verbatim(e.to_string()),
        }
    }
}

fn limits_of(settings: &serde_json::Value) -> (u32, u32) {
    let get = |k: &str, d: u32| {
        settings.get(k).and_then(serde_json::Value::as_u64).and_then(|v| u32::try_from(v).ok()).unwrap_or(d)
    };
    (get("concurrency", 4), get("requests_per_second", 10))
}

impl Registry {
    /// Providers configured in the order book, with their secrets from the keyring.
    pub fn configured(book: &Book, secrets: &SecretStore) -> Result<Registry, ConfigError> {
        let mut providers = BTreeMap::new();
        let mut unavailable = BTreeMap::new();
        let keys = BookKeys::open(book, secrets)?;
        for id in ProviderId::ALL {
            let Some(settings) = book.provider_settings(id)? else { continue };
            for field in topup_providers::plain_http_fields(id, &settings) {
                tracing::warn!(provider = %id, field, "provider address is plain http: requests travel in clear text");
            }
            let secret = match secrets.get(&keys.account(id)) {
                Ok(Some(s)) => s,
                Ok(None) => {
                    unavailable
                        .insert(id, "钥匙串中没有此供应商的密钥 / no secret in the keyring".to_owned());
                    continue;
                }
                Err(e) => {
                    unavailable.insert(id, e.to_string());
                    continue;
                }
            };
            match topup_providers::build(id, &settings, secret) {
                Ok(client) => {
                    let (concurrency, requests_per_second) = limits_of(&settings);
                    providers.insert(id, ProviderEntry { client, concurrency, requests_per_second });
                }
                Err(e) => {
                    unavailable.insert(id, e.to_string());
                }
            }
        }
        Ok(Registry { sandbox: false, providers, unavailable })
    }

    /// All three providers on the simulator at `base_url`, with the simulator's demo credentials.
    pub fn sandbox(
        base_url: &str,
        dingyin_query_url: &str,
        juhe_callback: Option<&str>,
    ) -> Result<Registry, ConfigError> {
        let _ = juhe_callback;
        let mut providers = BTreeMap::new();
        let entries: [(ProviderId, serde_json::Value, &str); 3] = [
            (
                ProviderId::Dingyin,
                serde_json::json!({"base_url": base_url, "query_base_url": dingyin_query_url,
                    "userid": topup_sim::SANDBOX_DINGYIN_USERID, "requests_per_second": 50, "concurrency": 8}),
                topup_sim::SANDBOX_DINGYIN_KEY,
            ),
            (
                ProviderId::Oper,
                serde_json::json!({"base_url": base_url, "uid": topup_sim::SANDBOX_OPER_UID,
                    "notify_url": "http://127.0.0.1:9/unused", "requests_per_second": 50, "concurrency": 8}),
                topup_sim::SANDBOX_OPER_MD5KEY,
            ),
            (
                ProviderId::Juhe,
                serde_json::json!({"base_url": base_url, "openid": topup_sim::SANDBOX_JUHE_OPENID,
                    "requests_per_second": 50, "concurrency": 8}),
                topup_sim::SANDBOX_JUHE_APPKEY,
            ),
        ];
        for (id, settings, secret) in entries {
            let client = topup_providers::build(id, &settings, Sensitive::new(secret.to_owned()))?;
            let (concurrency, requests_per_second) = limits_of(&settings);
            providers.insert(id, ProviderEntry { client, concurrency, requests_per_second });
        }
        Ok(Registry { sandbox: true, providers, unavailable: BTreeMap::new() })
    }

    /// Whether any real provider is configured (otherwise the app runs in sandbox mode).
    pub fn any_configured(book: &Book) -> Result<bool, BookError> {
        for id in ProviderId::ALL {
            if book.provider_settings(id)?.is_some() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    pub fn ids(&self) -> Vec<ProviderId> {
        self.providers.keys().copied().collect()
    }
}
