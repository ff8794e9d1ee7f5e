//! Desktop notifications, each sent once per crossing: a provider's balance fell below its threshold;
//! more orders need a person's attention than before (an order unknown for too long, a contradicting
//! callback, a wrong amount) — so an order stuck in the background is seen the same day even when the
//! board is not on screen.

use crate::state::AppState;
use tauri::AppHandle;
use tauri_plugin_notification::NotificationExt;
use topup_engine::api::BalanceRow;

pub fn low_balances(app: &AppHandle, state: &AppState, rows: &[BalanceRow]) {
    let mut known = state.balances.lock().unwrap_or_else(|p| p.into_inner());
    for row in rows {
        let was_low = known.get(&row.provider).is_some_and(|r| r.low);
        if row.low && !was_low {
            let body = format!(
                "{} 余额 {} 元，低于提醒线 {} 元",
                row.provider.label_zh(),
                row.balance.map(|b| b.to_string()).unwrap_or_default(),
                row.low_threshold.map(|b| b.to_string()).unwrap_or_default()
            );
            if let Err(e) = app.notification().builder().title("充值台：余额不足").body(body).show() {
                tracing::warn!(error = %e, "could not show a notification");
            }
        }
        known.insert(row.provider, row.clone());
    }
}

/// Whether the attention count rose since it was last seen; the first reading only sets the baseline
/// (orders flagged before the window opened are on the board's badge already).
fn attention_rose(seen: &mut Option<i64>, now: i64) -> Option<i64> {
    let before = seen.replace(now);
    before.filter(|&b| now > b).map(|b| now - b)
}

pub fn attention(app: &AppHandle, state: &AppState, count: i64) {
    let rose = attention_rose(&mut state.attention_seen.lock().unwrap_or_else(|p| p.into_inner()), count);
    if let Some(new) = rose {
        let body = format!("新增 {new} 笔订单需要人工关注，共 {count} 笔 / {new} more orders need attention ({count} in all)");
        if let Err(e) = app.notification().builder().title("充值台：订单需要关注").body(body).show()
        {
            tracing::warn!(error = %e, "could not show a notification");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::attention_rose;

    #[test]
    fn attention_notifies_once_per_rise_and_not_for_the_starting_count() {
        let mut seen = None;
        assert_eq!(attention_rose(&mut seen, 3), None, "baseline");
        assert_eq!(attention_rose(&mut seen, 3), None);
        assert_eq!(attention_rose(&mut seen, 5), Some(2));
        assert_eq!(attention_rose(&mut seen, 5), None, "once per rise");
        assert_eq!(attention_rose(&mut seen, 1), None, "cleared by a person");
        assert_eq!(attention_rose(&mut seen, 2), Some(1));
    }
}
