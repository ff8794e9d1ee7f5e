//! Balances: each provider's balance as last read, against its low-balance threshold, and the
//! per-provider figures of today.

use super::ApiResult;
use crate::book::{Book, ProviderStats};
use crate::run::Engine;
use serde::Serialize;
use std::collections::BTreeMap;
use topup_core::{Li, ProviderId};

/// One provider's balance as last read.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct BalanceRow {
    pub provider: ProviderId,
    pub balance: Option<Li>,
    pub error: Option<String>,
    pub read_at: i64,
    pub sandbox: bool,
    pub low_threshold: Option<Li>,
    pub low: bool,
}

/// Provider → balance rows, kept for the low-balance notification and the import's cost check.
pub type Balances = BTreeMap<ProviderId, BalanceRow>;

/// Reads `provider`'s balance now (a provider that is not configured, or a failed read, is a row
/// with its error: the screen shows it beside the others).
pub async fn balance(engine: &Engine, provider: ProviderId) -> BalanceRow {
    let settings = engine.settings();
    let low_threshold = settings.low_balance.get(provider.as_str()).copied().map(Li);
    let (balance, error) = match engine.provider(provider) {
        None => (None, Some(format!("{} 未配置 / not configured", provider.label_zh()))),
        Some(client) => match client.balance().await.0 {
            Ok(b) => (Some(b.amount), None),
            Err(e) => (None, Some(crate::redact::text(&e.to_string()).into_owned())),
        },
    };
    let low = matches!((balance, low_threshold), (Some(b), Some(t)) if b < t);
    BalanceRow {
        provider,
        balance,
        error,
        read_at: crate::book::now_ms(),
        sandbox: engine.sandbox(),
        low_threshold,
        low,
    }
}

/// Every provider the engine uses, read one after the other.
pub async fn balances(engine: &Engine) -> Vec<BalanceRow> {
    let mut rows = Vec::new();
    for id in engine.providers() {
        rows.push(balance(engine, id).await);
    }
    rows
}

/// Today's local midnight, in ms.
pub fn local_day_start() -> i64 {
    let now = time::OffsetDateTime::now_utc()
        .to_offset(time::UtcOffset::current_local_offset().unwrap_or(time::UtcOffset::UTC));
    let midnight = now.replace_time(time::Time::MIDNIGHT);
    midnight.unix_timestamp() * 1000
}

/// Orders, face and cost per provider since local midnight.
pub fn provider_stats(book: &Book) -> ApiResult<Vec<ProviderStats>> {
    Ok(book.provider_stats(local_day_start())?)
}
