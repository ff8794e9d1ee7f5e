//! Clients for the three upstream providers, behind one [`Provider`] trait.
//!
//! Why one trait: the engine must treat every provider alike (submit, query, balance, callback) and must
//! never decide money questions from provider-specific details. Each client turns the provider's bytes
//! into a [`Reply`] whose [`Verdict`] is exactly one of accepted, succeeded, failed (definitely not
//! charged) or unknown (must be queried). Anything a client does not fully understand is `Unknown`:
//! a wrong guess towards `Failed` can pay a customer twice, a wrong guess towards `Unknown` only costs a
//! query. Every request/reply is returned as a redacted [`Exchange`] for the audit trail.
//!
//! Layout: one folder per provider (`dingyin/`, `oper/`, `juhe/`), each with request building and
//! signing, reply classification, and callback verification; `http` holds the one HTTP client setup,
//! `form` and `json` the byte-exact wire helpers, `sign` the MD5 helpers, `phone_segments` the embedded
//! 7-digit number-segment table (province, city, carrier). [`build`] creates any provider from its
//! stored JSON settings and its secret.

pub mod dingyin;
pub mod form;
pub mod http;
pub mod json;
pub mod juhe;
pub mod oper;
pub mod phone_segments;
#[cfg(test)]
mod proptests;
pub mod rules;
pub mod sign;
mod types;

pub use types::*;

use std::sync::Arc;
use topup_core::{ProviderId, Sensitive};

/// Creates a provider client from its stored (non-secret) JSON settings and its secret key.
///
/// `settings_json` is the provider's settings struct as JSON ([`dingyin::DingyinSettings`],
/// [`oper::OperSettings`], [`juhe::JuheSettings`]); missing fields take their defaults, `null` means
/// all defaults. Errors are [`ProviderError::Config`].
pub fn build(
    provider: ProviderId,
    settings_json: &serde_json::Value,
    secret: Sensitive<String>,
) -> Result<Arc<dyn Provider>, ProviderError> {
    fn settings<T: serde::de::DeserializeOwned + Default>(
        json: &serde_json::Value,
    ) -> Result<T, ProviderError> {
        if json.is_null() {
            return Ok(T::default());
        }
        serde_json::from_value(json.clone())
            .map_err(|e| ProviderError::Config(format!("设置无法读取 / bad settings: {e}")))
    }
    Ok(match provider {
        ProviderId::Dingyin => Arc::new(dingyin::Dingyin::new(settings(settings_json)?, secret)?),
        ProviderId::Oper => Arc::new(oper::Oper::new(settings(settings_json)?, secret)?),
        ProviderId::Juhe => Arc::new(juhe::Juhe::new(settings(settings_json)?, secret)?),
    })
}

/// The provider's own check of an order, without its account settings: what its request builder
/// would refuse before sending (the engine's order check runs it on every order; a configured client's
/// [`Provider::validate`] adds what depends on its settings).
pub fn check_order(provider: ProviderId, order: &SubmitRequest) -> Result<(), ProviderError> {
    match provider {
        ProviderId::Juhe => juhe::request::check_order(order).map(drop),
        ProviderId::Oper => oper::request::order_fields("0", "http://127.0.0.1/", order).map(drop),
        ProviderId::Dingyin => dingyin::request::submit_params("0", order).map(drop),
    }
}

/// The default settings of a provider as JSON (for the settings screen).
pub fn default_settings(provider: ProviderId) -> serde_json::Value {
    let value = match provider {
        ProviderId::Dingyin => serde_json::to_value(dingyin::DingyinSettings::default()),
        ProviderId::Oper => serde_json::to_value(oper::OperSettings::default()),
        ProviderId::Juhe => serde_json::to_value(juhe::JuheSettings::default()),
    };
    value.unwrap_or(serde_json::Value::Null)
}

/// The URL settings of `provider` that would carry requests (and so its key or signatures) in clear
/// text to another machine ([`http::is_plain_http`]), by field name; a missing field counts with its
/// default. The settings screen shows a warning beside each: http stays allowed because dingyin and
/// oper hand out bare `IP:port` addresses without TLS.
pub fn plain_http_fields(provider: ProviderId, settings_json: &serde_json::Value) -> Vec<&'static str> {
    let defaults = default_settings(provider);
    ["base_url", "query_base_url"]
        .into_iter()
        .filter(|field| {
            let value = settings_json.get(*field).filter(|v| !v.is_null()).or_else(|| defaults.get(*field));
            value.and_then(serde_json::Value::as_str).is_some_and(http::is_plain_http)
        })
        .collect()
}

/// The reply for an order refused locally: nothing was sent. On a first send (`attempt` 1) it is
/// definitely not charged: `Failed`, and the engine may reroute it. On a resend of the same id the
/// refusal says nothing about the earlier send, which may have placed the order (a "not found" can
/// lag): `Unknown`, so the order stays queried and is never failed or rerouted on this.
pub(crate) fn not_sent_invalid(error: &ProviderError, attempt: u32) -> Reply {
    if attempt > 1 {
        return Reply::unknown(format!(
            "本地校验未通过，未重发；先前发送的结果未知，需查询 / refused locally, not resent; the earlier \
             send's outcome is unknown, must query: {error}"
        ));
    }
    Reply {
        verdict: Verdict::Failed,
        retry_later: false,
        reason: format!("本地校验未通过，未发送 / refused locally, nothing sent: {error}"),
        ..Reply::unknown("")
    }
}
