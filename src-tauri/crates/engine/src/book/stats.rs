//! Figures for the balances screen, computed in SQLite.

use super::{Book, BookError, OrderState};
use rusqlite::params;
use serde::Serialize;
use topup_core::{Li, ProviderId};

/// One provider's day.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct ProviderStats {
    pub provider: Option<ProviderId>,
    pub orders_today: i64,
    pub succeeded_today: i64,
    pub failed_today: i64,
    pub pending_today: i64,
    /// What succeeded orders cost (the provider's price when known, else the face value).
    pub spend_today: Li,
    /// Succeeded / (succeeded + failed), in basis points (0..=10000); 0 when nothing finished.
    pub success_rate_bp: i64,
    /// Orders created in each hour of the day (local time).
    pub hourly: Vec<i64>,
}

impl Book {
    /// Per-provider figures for orders created since `day_start` (ms), hours counted from it.
    pub fn provider_stats(&self, day_start: i64) -> Result<Vec<ProviderStats>, BookError> {
        self.read(|c| {
            let mut out = Vec::new();
            for p in ProviderId::ALL {
                let mut s = ProviderStats { provider: Some(p), hourly: vec![0; 24], ..Default::default() };
                let mut st = c.prepare_cached(
                    "SELECT state, COUNT(*), COALESCE(SUM(COALESCE(cost_li, face_li)), 0) FROM orders \
                     WHERE provider = ?1 AND created_at >= ?2 GROUP BY state",
                )?;
                let mut rows = st.query(params![p.as_str(), day_start])?;
                while let Some(r) = rows.next()? {
                    let state: String = r.get(0)?;
                    let n: i64 = r.get(1)?;
                    s.orders_today += n;
                    match state.parse::<OrderState>() {
                        Ok(OrderState::Succeeded) => {
                            s.succeeded_today = n;
                            s.spend_today = Li(r.get(2)?);
                        }
                        Ok(OrderState::Failed) => s.failed_today = n,
                        Ok(st) if st.is_pending() => s.pending_today += n,
                        _ => {}
                    }
                }
                let finished = s.succeeded_today + s.failed_today;
                s.success_rate_bp = if finished > 0 { s.succeeded_today * 10_000 / finished } else { 0 };
                let mut st = c.prepare_cached(
                    "SELECT (created_at - ?2) / 3600000 AS h, COUNT(*) FROM orders \
                     WHERE provider = ?1 AND created_at >= ?2 GROUP BY h",
                )?;
                let mut rows = st.query(params![p.as_str(), day_start])?;
                while let Some(r) = rows.next()? {
                    let h: i64 = r.get(0)?;
                    if let Some(slot) = usize::try_from(h).ok().and_then(|h| s.hourly.get_mut(h)) {
                        *slot = r.get(1)?;
                    }
                }
                out.push(s);
            }
            Ok(out)
        })
    }
}
