//! Desktop notifications, each sent once per crossing: a provider's balance fell below its threshold;
//! orders passed a stuck-order limit (overdue, or in front of a person: once per order and level,
//! across restarts — the book marks them told); more orders need a person's attention than before (a
//! contradicting callback, a wrong amount, the query window closed) — so an order stuck in the
//! background is seen the same day even when the board is not on screen.

use crate::state::AppState;
use tauri::AppHandle;
use tauri_plugin_notification::NotificationExt;
use topup_engine::api::BalanceRow;
use topup_engine::book::{StuckLevel, StuckNotice};

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

/// The notification for flags newly raised: its title, body, and how many of them put an order in
/// front of a person (those also raise the attention count, which must not be told again).
fn stuck_message(notices: &[StuckNotice]) -> (&'static str, String, i64) {
    let review = notices.iter().filter(|n| n.level == StuckLevel::Review).count();
    let title = if review > 0 { "充值台：订单需要人工跟进" } else { "充值台：订单超时" };
    let body = match notices {
        [n] => {
            let (zh, en) = if n.level == StuckLevel::Review {
                ("超时未完成，请人工跟进", "needs a person")
            } else {
                ("已超时", "is overdue")
            };
            format!(
                "{} {}（{}）{zh}，继续查询 / order {} {en}; still querying",
                n.kind.label_zh(),
                n.account,
                n.provider.label_zh(),
                n.merchant_order_id
            )
        }
        _ => format!(
            "{} 笔订单已超时，其中 {review} 笔需人工跟进，均继续查询 / {} orders overdue, {review} need a person; \
             still querying",
            notices.len(),
            notices.len()
        ),
    };
    (title, body, i64::try_from(review).unwrap_or(i64::MAX))
}

/// Tells the desktop about orders newly past a stuck-order limit. The book hands each flag out once
/// (claimed in one transaction before it is shown, [`topup_engine::api::stuck::claim_notices`]), so
/// a restart never tells it again; one notification per batch, however many orders.
pub fn stuck(app: &AppHandle, state: &AppState) {
    let notices = match topup_engine::api::stuck::claim_notices(&state.book, 1000) {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the stuck-order notices");
            return;
        }
    };
    if notices.is_empty() {
        return;
    }
    let (title, body, review) = stuck_message(&notices);
    if let Some(seen) = state.attention_seen.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
        *seen += review;
    }
    if let Err(e) = app.notification().builder().title(title).body(body).show() {
        tracing::warn!(error = %e, "could not show a notification");
    }
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
    use super::{attention_rose, stuck_message};
    use topup_engine::book::{StuckLevel, StuckNotice};
    use topup_engine::{ProductKind, ProviderId};

    fn notice(level: StuckLevel) -> StuckNotice {
        StuckNotice {
            id: 1,
            merchant_order_id: "TD1".into(),
            provider: ProviderId::Juhe,
            kind: ProductKind::Phone,
            account: "13812345678".into(),
            level,
        }
    }

    #[test]
    fn a_stuck_notice_names_the_order_or_counts_them() {
        let (title, body, review) = stuck_message(&[notice(StuckLevel::Overdue)]);
        assert_eq!((title, review), ("充值台：订单超时", 0));
        assert!(
            body.contains("13812345678") && body.contains("聚合数据") && body.contains("overdue"),
            "{body}"
        );
        let (title, body, review) = stuck_message(&[
            notice(StuckLevel::Overdue),
            notice(StuckLevel::Review),
            notice(StuckLevel::Review),
        ]);
        assert_eq!((title, review), ("充值台：订单需要人工跟进", 2));
        assert!(body.contains("3 笔") && body.contains("2 笔"), "{body}");
    }

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
