//! Desktop notifications: a provider's balance fell below its threshold. Sent once per crossing.

use crate::state::AppState;
use tauri::AppHandle;
use tauri_plugin_notification::NotificationExt;
use topup_engine::console::BalanceRow;

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
