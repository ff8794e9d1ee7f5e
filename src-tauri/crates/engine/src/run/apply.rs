//! Applying a classified provider answer to the order book, inside one write transaction.
//!
//! Kept apart from the loop so that the money decisions are in one short file: which verdict moves an
//! order where, when the next query is due, and when a person must decide.

use crate::book::{now_ms, BookError, EventKind, Order, OrderPatch, OrderState, Tx};
use crate::config::EngineSettings;
use std::time::Duration;
use topup_core::Li;
use topup_providers::{CallbackUpdate, Outcome, Verdict};

/// What a stored answer amounted to, for follow-ups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    Nothing,
    Progress,
    Succeeded,
    DefinitelyFailed,
    Requeued,
    ManualReview,
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn describe(outcome: &Outcome) -> String {
    let r = &outcome.reply;
    let mut s = r.reason.clone();
    if let Some(code) = &r.code {
        s.push_str(&format!(" [code {code}]"));
    }
    if let Some(m) = &r.message {
        s.push_str(&format!(" {m}"));
    }
    crate::redact::text(&s).into_owned()
}

/// Stores the redacted request/response pairs in the order's history.
pub fn record_exchanges(tx: &mut Tx<'_>, order_id: i64, outcome: &Outcome) -> Result<(), BookError> {
    for ex in &outcome.exchanges {
        let text = serde_json::to_string(ex).unwrap_or_default();
        tx.add_event(order_id, EventKind::Exchange, None, None, &crate::redact::text(&text))?;
    }
    Ok(())
}

/// A submit answer. The order is in `submitting` (its intent was committed before the send).
/// `sent_at` is when the request left (ms), the start of the "resend after not found" wait.
pub fn submit_reply(
    tx: &mut Tx<'_>,
    order: &Order,
    outcome: &Outcome,
    settings: &EngineSettings,
    sent_at: i64,
) -> Result<Applied, BookError> {
    record_exchanges(tx, order.id, outcome)?;
    let r = &outcome.reply;
    let why = describe(outcome);
    let now = now_ms();
    // The send time, the provider's facts and the next action go in the transition's one UPDATE.
    let facts = OrderPatch {
        last_sent_at: Some(sent_at),
        provider_order_id: r.provider_order_id.as_deref(),
        cost: r.cost,
        ..OrderPatch::default()
    };
    let applied = match r.verdict {
        Verdict::Accepted => {
            let next = Some(now + ms(settings.query_delay(0)));
            tx.transition_with(
                order.id,
                OrderState::Accepted,
                &why,
                OrderPatch { next_action_at: Some(next), ..facts },
            )?;
            Applied::Progress
        }
        Verdict::Succeeded => {
            tx.transition_with(
                order.id,
                OrderState::Succeeded,
                &why,
                OrderPatch { next_action_at: Some(None), ..facts },
            )?;
            Applied::Succeeded
        }
        Verdict::Failed if r.retry_later => {
            // Definitely not placed (not sent, or a busy / rate-limit code): same id, later.
            let current = tx.order(order.id)?;
            let next = Some(now + ms(settings.retry_delay(current.attempts)));
            let also = OrderPatch { next_action_at: Some(next), last_error: Some(&why), ..facts };
            tx.transition_from(current, OrderState::New, &why, also)?;
            Applied::Requeued
        }
        Verdict::Failed => {
            let also = OrderPatch { next_action_at: Some(None), last_error: Some(&why), ..facts };
            tx.transition_with(order.id, OrderState::Failed, &why, also)?;
            Applied::DefinitelyFailed
        }
        Verdict::Unknown => {
            let next = Some(now + ms(settings.query_delay(0)));
            let also = OrderPatch { next_action_at: Some(next), last_error: Some(&why), ..facts };
            tx.transition_with(order.id, OrderState::Unknown, &why, also)?;
            Applied::Progress
        }
    };
    Ok(applied)
}

/// A `submitting` order whose reply was never stored (the process stopped, or its write was
/// cancelled, between the intent and the reply): its outcome is unknown, so it is queried at once and
/// never resent blindly. `current` is the order as read in this transaction. The one rule for both
/// recoveries, at start and while running.
pub fn interrupted_submit(tx: &mut Tx<'_>, current: Order, why: &str) -> Result<Order, BookError> {
    let query_now = OrderPatch { next_action_at: Some(Some(now_ms())), ..OrderPatch::default() };
    tx.transition_from(current, OrderState::Unknown, why, query_now)
}

/// When the order's last submit left: `last_sent_at`, or for an order sent by a version that did not
/// record it, the latest time the book has for it (`updated_at` is bumped by every query, so that
/// errs on the side of waiting longer).
fn last_send(order: &Order) -> i64 {
    order.last_sent_at.unwrap_or_else(|| order.updated_at.max(order.submitted_at.unwrap_or(0)))
}

/// When a "not found" order may be resent: `resend_after_not_found_ms` after its last send.
fn resend_due(order: &Order, settings: &EngineSettings) -> i64 {
    last_send(order).saturating_add(i64::try_from(settings.resend_after_not_found_ms).unwrap_or(i64::MAX))
}

/// Whether a query answer allows resending the same id: the provider says it has no such order, the
/// order's outcome is unknown (never confirmed accepted), `resend_after_not_found_ms` has passed since
/// its last send (queries in between do not restart the wait), and the resend budget is not spent.
pub fn should_resend(order: &Order, outcome: &Outcome, settings: &EngineSettings) -> bool {
    order.state == OrderState::Unknown
        && outcome.reply.not_found
        && outcome.reply.verdict == Verdict::Unknown
        && now_ms() >= resend_due(order, settings)
        && order.attempts <= i64::from(settings.max_not_found_resends)
}

/// A query answer for an order that is not final.
pub fn query_reply(
    tx: &mut Tx<'_>,
    order: &Order,
    outcome: &Outcome,
    settings: &EngineSettings,
    provider_window: Option<Duration>,
    manual: bool,
    resend: bool,
) -> Result<Applied, BookError> {
    record_exchanges(tx, order.id, outcome)?;
    let r = &outcome.reply;
    // The query's count, the provider's facts and the next action go in one UPDATE per answer.
    let facts = OrderPatch {
        queried: true,
        provider_order_id: r.provider_order_id.as_deref(),
        cost: r.cost,
        ..OrderPatch::default()
    };
    let why = describe(outcome);
    let now = now_ms();
    let mut next = now + ms(settings.query_delay(order.queries + 1));
    if order.state == OrderState::Unknown
        && r.not_found
        && order.attempts <= i64::from(settings.max_not_found_resends)
    {
        // Not there (yet): ask again no later than when a resend becomes allowed.
        next = next.min(resend_due(order, settings).max(now + 1));
    }
    let applied = match r.verdict {
        Verdict::Succeeded => {
            let done = OrderPatch { next_action_at: Some(None), ..facts };
            tx.transition_with(order.id, OrderState::Succeeded, &why, done)?;
            Applied::Succeeded
        }
        Verdict::Failed => {
            // A query's "failed" is the provider's final, refunded state: definite.
            let done = OrderPatch { next_action_at: Some(None), last_error: Some(&why), ..facts };
            tx.transition_with(order.id, OrderState::Failed, &why, done)?;
            Applied::DefinitelyFailed
        }
        Verdict::Accepted if order.state == OrderState::Unknown => {
            let later = OrderPatch { next_action_at: Some(Some(next)), ..facts };
            tx.transition_with(order.id, OrderState::Accepted, &why, later)?;
            Applied::Progress
        }
        _ if manual && order.state == OrderState::ManualReview => {
            tx.patch_order(order.id, facts)?;
            tx.add_event(
                order.id,
                EventKind::Note,
                None,
                None,
                &format!("人工查询：结果仍未确定 / manual query: still undecided: {why}"),
            )?;
            Applied::Nothing
        }
        _ if resend => {
            tx.patch_order(order.id, facts)?;
            tx.add_event(order.id, EventKind::Note, None, None, &why)?;
            Applied::Nothing
        }
        _ => {
            // Still in progress or unknown: keep asking until the window closes, then a person decides.
            let first_send = order.submitted_at.unwrap_or(order.created_at);
            let mut window = settings.manual_review_after_ms;
            if let Some(w) = provider_window {
                window = window.min(u64::try_from(w.as_millis()).unwrap_or(u64::MAX));
            }
            let window_closes = first_send.saturating_add(i64::try_from(window).unwrap_or(i64::MAX));
            if now >= window_closes
                || next > window_closes && order.state == OrderState::Unknown && r.not_found
            {
                tx.transition_with(
                    order.id,
                    OrderState::ManualReview,
                    &format!("查询期已过仍无结果，需人工处理 / query window closed without a result: {why}"),
                    OrderPatch { next_action_at: Some(None), last_error: Some(&why), ..facts },
                )?;
                Applied::ManualReview
            } else {
                let next = Some(next.min(window_closes.max(now + 1000)));
                tx.patch_order(
                    order.id,
                    OrderPatch { next_action_at: Some(next), last_error: Some(&why), ..facts },
                )?;
                Applied::Progress
            }
        }
    };
    Ok(applied)
}

/// What a verified callback does to its order (decided before anything is written).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Effect {
    /// It names another amount than the order's: not applied, a person checks.
    WrongAmount(Li),
    /// A signed final state that contradicts the order's final state: kept, a person checks.
    Contradicts(OrderState),
    /// A signed final state for an order that is waiting for one.
    Settle(OrderState),
    /// A state that is only a hint (its signature does not cover it, or the client did not understand
    /// it): query the order at this time, or `None` when a query is due by then anyway.
    Confirm(Option<i64>),
    /// Nothing to apply.
    Nothing,
}

/// The rule for a verified callback. Only a state its signature covers (`needs_confirmation ==
/// false`) is a fact: it settles a waiting order, or, against a final order, raises the conflict alarm.
/// Anything else is a hint that may bring the next query forward (rate-limited by [`confirm_at`]) and
/// never changes a state or raises an alarm by itself.
///
/// A final order is never queried (its state came from a signed callback or the provider's own query
/// answer, and the loop only queries pending orders), so an unsigned state that contradicts it does
/// nothing; a person sees it in the history (first of its kind) and the counter.
fn effect(current: &Order, update: &CallbackUpdate, query_gap: Duration, now: i64) -> Effect {
    if let Some(face) = update.face.filter(|face| *face != current.face) {
        return Effect::WrongAmount(face);
    }
    let claimed = match update.verdict {
        Verdict::Succeeded => Some(OrderState::Succeeded),
        Verdict::Failed => Some(OrderState::Failed),
        _ => None,
    };
    let signed = claimed.filter(|_| !update.needs_confirmation);
    if current.state.is_final() {
        return match signed {
            Some(s) if s != current.state => Effect::Contradicts(s),
            _ => Effect::Nothing,
        };
    }
    match (signed, current.state) {
        (Some(target), OrderState::Accepted | OrderState::Unknown | OrderState::ManualReview) => {
            Effect::Settle(target)
        }
        (None, OrderState::Accepted | OrderState::Unknown) => {
            Effect::Confirm(confirm_at(current, query_gap, now))
        }
        // Submitting: the reply to our own send is not stored yet; it, or the query that follows it,
        // settles the order. New: never sent. Manual review with a hint: a person decides (and can
        // query it).
        _ => Effect::Nothing,
    }
}

/// When a callback may have `order` queried: now, but no sooner than `query_gap` after its last query
/// — however many callbacks arrive — and never later than it is due already (`None` then).
fn confirm_at(order: &Order, query_gap: Duration, now: i64) -> Option<i64> {
    let at = order.last_query_at.map_or(now, |last| last.saturating_add(ms(query_gap))).max(now);
    match order.next_action_at {
        Some(due) if due <= at => None,
        _ => Some(at),
    }
}

/// Text from a callback for the history: at most `max` characters, control characters dropped.
fn short(text: &str, max: usize) -> String {
    text.chars().filter(|c| !c.is_control()).take(max).collect()
}

/// How a callback's history line starts: by it, a callback of the same kind (same claimed state) is
/// recognised as one the history already holds.
fn callback_head(verdict: Verdict) -> String {
    let claim = match verdict {
        Verdict::Succeeded => "succeeded",
        Verdict::Failed => "failed",
        Verdict::Accepted => "accepted",
        Verdict::Unknown => "unknown",
    };
    format!("回调 / callback {claim}:")
}

/// The history line of a callback: what its client recognised, in one canonical form, and how it came
/// (`via`, e.g. `GET query`) — never the raw request, to which anyone can add unsigned fields.
fn callback_line(update: &CallbackUpdate, via: &str, effect: Effect) -> String {
    let text = |v: Option<&str>| v.map_or_else(|| "-".to_owned(), |v| short(v, 64));
    let mut line = format!(
        "{} {via} orderid={} provider_order_id={} code={}",
        callback_head(update.verdict),
        short(&update.merchant_order_id, 64),
        text(update.provider_order_id.as_deref()),
        text(update.code.as_deref()),
    );
    if let Some(face) = update.face {
        line.push_str(&format!(" face={face}"));
    }
    if let Some(m) = &update.message {
        line.push_str(&format!(" message={}", short(m, 64)));
    }
    let note = match effect {
        Effect::Confirm(_) if update.needs_confirmation => {
            " — 状态未签名，查询确认 / state not signed: confirming by query"
        }
        Effect::Confirm(_) => " — 状态不明，查询确认 / state not understood: confirming by query",
        Effect::Nothing if update.needs_confirmation => {
            " — 状态未签名，未采用 / state not signed: not applied"
        }
        Effect::WrongAmount(_) => " — 金额不符，未采用 / amount differs: not applied",
        _ => "",
    };
    line.push_str(note);
    crate::redact::text(&line).into_owned()
}

/// A verified callback for `current`, the order as read in this same transaction; `via` says how it
/// came (method, and whether its fields were in the query string or the body). Every callback is
/// counted; its line is stored in the history only when it changes the order or is the first of its
/// kind there, so a replay costs a counter, not a row. Returns whether the engine should look for due
/// orders now (a query was brought forward).
pub fn callback(
    tx: &mut Tx<'_>,
    current: Order,
    update: &CallbackUpdate,
    via: &str,
    query_gap: Duration,
) -> Result<bool, BookError> {
    let id = current.id;
    tx.count_callback(id)?;
    let effect = effect(&current, update, query_gap, now_ms());
    // The provider's order id is filled in when the book has none, never overwritten (by a replay
    // with another, unsigned, value); a callback for another amount brings no facts.
    let provider_order_id = update
        .provider_order_id
        .as_deref()
        .filter(|_| current.provider_order_id.is_none() && !matches!(effect, Effect::WrongAmount(_)));
    let flags = matches!(effect, Effect::WrongAmount(_) | Effect::Contradicts(_)) && !current.attention;
    let changes = flags || provider_order_id.is_some() || matches!(effect, Effect::Settle(_));
    if changes || !tx.has_event(id, EventKind::Callback, &callback_head(update.verdict))? {
        tx.add_event(id, EventKind::Callback, None, None, &callback_line(update, via, effect))?;
    }
    let facts = OrderPatch { provider_order_id, ..OrderPatch::default() };
    match effect {
        Effect::Settle(target) => {
            let also = OrderPatch { next_action_at: Some(None), ..facts };
            tx.transition_from(current, target, "供应商回调 / provider callback", also)?;
            return Ok(false);
        }
        Effect::Confirm(Some(at)) => {
            tx.patch_order(id, OrderPatch { next_action_at: Some(Some(at)), ..facts })?;
            return Ok(true);
        }
        _ if provider_order_id.is_some() => {
            tx.patch_order(id, facts)?;
        }
        _ => {}
    }
    let why = match effect {
        Effect::WrongAmount(face) if flags => format!(
            "回调金额 {face} 与订单面值 {} 不符，未采用，需人工核对 / callback amount {face} does not match face value {}",
            current.face, current.face
        ),
        Effect::Contradicts(claimed) if flags => format!(
            "回调结果“{}”与已确定的“{}”矛盾，需人工核对 / callback says {claimed} but the order is {}",
            claimed.label_zh(),
            current.state.label_zh(),
            current.state
        ),
        _ => return Ok(false),
    };
    tx.set_attention(id, true, &why)?;
    Ok(false)
}
