//! The engine: moves every order to a final state, safely, whatever the network, the provider and the
//! process do.
//!
//! The rules it keeps (see the provider-docs README):
//! * An order is committed as `submitting` before its request leaves; any resend uses the same id.
//! * Only a definite rejection fails an order. Timeouts, resets, 5xx, garbage and "query" codes make it
//!   `unknown`, and it is queried on a schedule until final; past the query window it goes to manual
//!   review. Nothing fails, refunds or reroutes automatically on an uncertain outcome.
//! * At start every `submitting` order (the process died around its send) becomes `unknown` and is
//!   queried; it is resent — with the same id — only after the provider says it has no such order.
//! * Callbacks are verified, applied idempotently in one transaction, and acknowledged after commit.
//!
//! Work is driven by the order book: a loop picks due orders (`next_action_at`), and per-provider
//! [`limits::Limits`] cap concurrency and pace requests.

mod apply;
pub mod limits;
pub mod lookup;
mod recheck;
pub mod stuck;

pub use recheck::Recheck;

use crate::book::{Book, BookError, EventKind, NewOrder, Order, OrderPatch, OrderState};
use crate::config::{EngineSettings, Registry};
use crate::contract::{ErrorCode, Message};
use crate::msg;
use apply::Applied;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{watch, Notify};
use topup_core::{Li, ProviderId};
use topup_providers::{CallbackRequest, Outcome, QueryRequest, SubmitRequest, Verdict};

/// How many orders may be in the engine's hands at once (waiting for a slot or in flight), all
/// providers together. Each provider is held to less: see [`Engine::hold_cap`].
const MAX_IN_FLIGHT: usize = 2000;

/// How many due orders one scan takes on per provider at most.
const MAX_PICK_PER_SCAN: usize = 500;

/// A `submitting` order that no request of this process is working on becomes `unknown` (and is
/// queried) once it has not changed for this long: a write that was cancelled between the intent and
/// the reply left it behind. Far longer than any request (30 s timeout by default), so another process
/// on the same order book (the command line next to the window) is never overtaken mid-request.
const STALE_SUBMITTING_AFTER: Duration = Duration::from_secs(300);

/// How often the loop looks for such orders.
const STALE_CHECK_EVERY: Duration = Duration::from_secs(1);

/// The loop scans the book at most this often, however many requests finish in between.
const MIN_SCAN_GAP: Duration = Duration::from_millis(20);

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    Book(#[from] BookError),
    NoProvider(ProviderId),
    Invalid(Message),
    /// The provider client's reason (its own words).
    Callback(String),
}

crate::coded!(EngineError);

impl EngineError {
    pub fn code(&self) -> ErrorCode {
        match self {
            EngineError::Book(e) => e.code(),
            EngineError::NoProvider(_) => ErrorCode::NoProvider,
            EngineError::Invalid(_) => ErrorCode::Invalid,
            EngineError::Callback(_) => ErrorCode::CallbackRefused,
        }
    }

    pub fn message(&self) -> Message {
        match self {
            EngineError::Book(e) => e.message(),
            EngineError::NoProvider(p) => {
                msg!("供应商 {p} 未配置或不可用", "provider {p} is not configured or unavailable")
            }
            EngineError::Invalid(m) => m.clone(),
            EngineError::Callback(why) => msg!("回调被拒绝：{why}", "callback refused: {why}"),
        }
    }
}

/// What the engine is doing, for the status line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum EngineState {
    Idle,
    Running,
    Stopped,
}

struct Slot {
    entry: crate::config::ProviderEntry,
    limits: limits::Limits,
}

/// The engine. Share it behind an `Arc`.
pub struct Engine {
    book: Arc<Book>,
    settings: Mutex<EngineSettings>,
    slots: BTreeMap<ProviderId, Slot>,
    sandbox: bool,
    /// Orders in this process's hands (waiting for a send slot or in flight), with their provider.
    in_flight: Mutex<HashMap<i64, ProviderId>>,
    /// [`STALE_SUBMITTING_AFTER`], in ms; tests shorten it.
    stale_submitting_after_ms: AtomicU64,
    wake: Notify,
    state: watch::Sender<EngineState>,
    /// juhe's number lookups, cached ([`lookup`]).
    lookups: lookup::Lookups,
}

impl Engine {
    pub fn new(book: Arc<Book>, registry: Registry, settings: EngineSettings) -> Arc<Engine> {
        let slots = registry
            .providers
            .into_iter()
            .map(|(id, entry)| {
                let limits = limits::Limits::new(entry.concurrency, entry.requests_per_second);
                (id, Slot { entry, limits })
            })
            .collect();
        let (state, _) = watch::channel(EngineState::Stopped);
        Arc::new(Engine {
            book,
            settings: Mutex::new(settings),
            slots,
            sandbox: registry.sandbox,
            in_flight: Mutex::new(HashMap::new()),
            stale_submitting_after_ms: AtomicU64::new(
                u64::try_from(STALE_SUBMITTING_AFTER.as_millis()).unwrap_or(u64::MAX),
            ),
            wake: Notify::new(),
            state,
            lookups: lookup::Lookups::default(),
        })
    }

    pub fn book(&self) -> &Arc<Book> {
        &self.book
    }

    pub fn sandbox(&self) -> bool {
        self.sandbox
    }

    pub fn providers(&self) -> Vec<ProviderId> {
        self.slots.keys().copied().collect()
    }

    pub fn provider(&self, id: ProviderId) -> Option<Arc<dyn topup_providers::Provider>> {
        self.slots.get(&id).map(|s| s.entry.client.clone())
    }

    /// juhe's telcheck + telquery for a number and face value, cached and within juhe's limits
    /// ([`lookup`]); `None` when juhe is not configured.
    pub async fn phone_product(
        &self,
        number: &str,
        face: Li,
    ) -> Option<Result<topup_providers::PhoneProduct, topup_providers::ProviderError>> {
        let slot = self.slots.get(&ProviderId::Juhe)?;
        Some(self.lookups.get(slot.entry.client.as_ref(), &slot.limits, number, face).await)
    }

    /// Replaces the settings (from the settings screen, or the sandbox's local callback URL).
    pub fn set_settings(&self, settings: EngineSettings) {
        *self.settings.lock().unwrap_or_else(|p| p.into_inner()) = settings;
        self.wake.notify_one();
    }

    pub fn settings(&self) -> EngineSettings {
        self.settings.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn state(&self) -> watch::Receiver<EngineState> {
        self.state.subscribe()
    }

    /// Stores a checked order (state `new`) and wakes the loop. Returns the stored order. The order
    /// passed every rule in [`crate::order::check()`] (the provider decided there too); nothing is
    /// checked again here.
    pub fn add_order(&self, order: crate::order::CheckedOrder) -> Result<Order, EngineError> {
        let new = order.new_order(crate::ids::new_merchant_order_id(), None);
        let sold = order.sold();
        let id = self.book.write(|tx| tx.insert_order_sold(&new, &sold))?;
        self.wake.notify_one();
        Ok(self.book.order(id)?)
    }

    /// Wakes the loop (new orders were stored by someone else, e.g. an import).
    pub fn poke(&self) {
        self.wake.notify_one();
    }

    /// Crash recovery: every `submitting` order may or may not have reached its provider. It becomes
    /// `unknown` and is queried at once; nothing is resent blindly.
    pub fn recover(&self) -> Result<usize, EngineError> {
        let stuck = self.book.orders_in_state(OrderState::Submitting)?;
        for o in &stuck {
            self.book.write(|tx| {
                // Read again inside the write: the row as it stands now is the one transitioned.
                let current = tx.order(o.id)?;
                apply::interrupted_submit(
                    tx,
                    current,
                    "程序在提交过程中中断，结果未知，将查询 / interrupted while submitting: outcome unknown, querying",
                )
            })?;
        }
        if !stuck.is_empty() {
            tracing::warn!(count = stuck.len(), "recovered orders interrupted while submitting");
        }
        Ok(stuck.len())
    }

    /// How long a `submitting` order that no request of this process is working on may stay so before
    /// the running loop makes it `unknown` (default [`STALE_SUBMITTING_AFTER`]).
    pub fn set_stale_submitting_after(&self, after: Duration) {
        let ms = u64::try_from(after.as_millis()).unwrap_or(u64::MAX);
        self.stale_submitting_after_ms.store(ms, Ordering::Relaxed);
        self.wake.notify_one();
    }

    /// Recovery while running: a `submitting` order that none of this process's requests is working
    /// on and that has not changed for the stale bound (a cancelled write between its intent and its
    /// reply left it so) becomes `unknown` and is queried at once — as at start, never resent
    /// blindly. Returns how many were recovered.
    fn recover_stale(&self) -> Result<usize, EngineError> {
        let after = self.stale_submitting_after_ms.load(Ordering::Relaxed);
        let cutoff = crate::book::now_ms().saturating_sub(i64::try_from(after).unwrap_or(i64::MAX));
        let candidates = self.book.submitting_since_before(cutoff)?;
        let mut recovered = 0;
        for id in candidates {
            // Every request of this process holds its order in `in_flight` from before its intent is
            // written until its reply is stored, and nothing else moves an order to `submitting`.
            if self.in_flight.lock().unwrap_or_else(|p| p.into_inner()).contains_key(&id) {
                continue;
            }
            let done = self.book.write(|tx| {
                let o = tx.order(id)?;
                if o.state != OrderState::Submitting || o.updated_at > cutoff {
                    return Ok(false);
                }
                apply::interrupted_submit(
                    tx,
                    o,
                    "提交中断（未保存回复），结果未知，将查询 / submit interrupted before its reply was stored: outcome unknown, querying",
                )?;
                Ok(true)
            })?;
            recovered += usize::from(done);
        }
        if recovered > 0 {
            tracing::warn!(count = recovered, "recovered stale submitting orders while running");
        }
        Ok(recovered)
    }

    /// How many orders of `provider` the loop holds at once: its concurrency plus one second of its
    /// rate — enough that a free send slot never waits for the loop (which scans whenever a request
    /// finishes and at least every second), few enough that orders waiting for a slot cost little
    /// memory and the due scan stays short. A provider that is not configured: a few (its orders are
    /// only rescheduled).
    fn hold_cap(&self, provider: ProviderId) -> usize {
        let cap = match self.slots.get(&provider) {
            Some(slot) => {
                let concurrency = slot.entry.concurrency as usize;
                let per_second = match slot.entry.requests_per_second {
                    0 => concurrency.max(64),
                    r => r as usize,
                };
                concurrency + per_second
            }
            None => 16,
        };
        cap.clamp(8, MAX_IN_FLIGHT)
    }

    /// Runs until `stop` becomes true: recovers, then submits and queries due orders.
    pub async fn run(self: &Arc<Self>, mut stop: watch::Receiver<bool>) -> Result<(), EngineError> {
        self.recover()?;
        self.state.send_replace(EngineState::Running);
        let mut tasks = tokio::task::JoinSet::new();
        let mut last_scan =
            tokio::time::Instant::now().checked_sub(MIN_SCAN_GAP).unwrap_or_else(tokio::time::Instant::now);
        let mut last_stale_check = tokio::time::Instant::now();
        loop {
            if *stop.borrow() {
                break;
            }
            // Every finished request wakes the loop; scanning the book for each of them would cost
            // more than the requests (10,000 queued orders, 200 sends a second). Wake-ups within
            // MIN_SCAN_GAP of the last scan are served together.
            let since = last_scan.elapsed();
            if since < MIN_SCAN_GAP {
                tokio::select! {
                    _ = tokio::time::sleep(MIN_SCAN_GAP - since) => {}
                    _ = stop.changed() => {}
                }
                if *stop.borrow() {
                    break;
                }
            }
            last_scan = tokio::time::Instant::now();
            if last_stale_check.elapsed() >= STALE_CHECK_EVERY {
                last_stale_check = tokio::time::Instant::now();
                self.recover_stale()?;
                let rules = self.settings.lock().unwrap_or_else(|p| p.into_inner()).stuck_rules.clone();
                if let Err(e) = stuck::sweep(&self.book, &rules, crate::book::now_ms()) {
                    tracing::error!(error = %e, "the stuck-order sweep failed");
                }
            }
            let now = crate::book::now_ms();
            // Per provider, the due orders it has room for (ids only, in due order, enough to see past
            // the ones already in our hands); full rows are read for the new ones alone.
            let mut picked = Vec::new();
            let mut backlog = false;
            {
                let mut held = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
                for provider in ProviderId::ALL {
                    let mine = held.values().filter(|p| **p == provider).count();
                    let room = self
                        .hold_cap(provider)
                        .saturating_sub(mine)
                        .min(MAX_IN_FLIGHT.saturating_sub(held.len()))
                        .min(MAX_PICK_PER_SCAN);
                    if room == 0 {
                        continue;
                    }
                    let want = mine + room;
                    let due = self.due_ids(provider, now, want)?;
                    let mut taken = 0;
                    for &id in &due {
                        if taken >= room {
                            break;
                        }
                        if let std::collections::hash_map::Entry::Vacant(e) = held.entry(id) {
                            e.insert(provider);
                            picked.push(id);
                            taken += 1;
                        }
                    }
                    // The scan stopped at its limit with room left: more may be due right now.
                    backlog |= due.len() >= want && taken < room;
                }
            }
            for id in picked {
                let order = match self.book.order(id) {
                    Ok(o) => o,
                    Err(e) => {
                        self.in_flight.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
                        return Err(e.into());
                    }
                };
                let engine = self.clone();
                tasks.spawn(async move {
                    let id = order.id;
                    if let Err(e) = engine.process(order).await {
                        tracing::error!(order = id, error = %e, "processing an order failed");
                    }
                    engine.in_flight.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
                    engine.wake.notify_one();
                });
            }
            while tasks.try_join_next().is_some() {}
            let pending = self.book.has_pending()?;
            self.state.send_replace(if pending { EngineState::Running } else { EngineState::Idle });
            // Sleep until the next order falls due, something wakes us (a new order, a finished
            // request: due orders not taken now are held back only by a full provider, and a finished
            // request frees it), or at most a second.
            let wait = if backlog {
                MIN_SCAN_GAP
            } else {
                match self.next_due_after(now)? {
                    Some(t) => Duration::from_millis(u64::try_from(t - now).unwrap_or(1000).min(1000)),
                    None => Duration::from_millis(1000),
                }
            };
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => {}
            }
        }
        // Let requests in flight finish and be stored: stopping never abandons a reply.
        while tasks.join_next().await.is_some() {}
        self.state.send_replace(EngineState::Stopped);
        Ok(())
    }

    fn in_flight_len(&self) -> usize {
        self.in_flight.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// The ids of `provider`'s orders to act on now, oldest due first (index `orders_due`).
    fn due_ids(&self, provider: ProviderId, now: i64, limit: usize) -> Result<Vec<i64>, EngineError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        Ok(self.book.due_ids(provider, now, limit)?)
    }

    /// The earliest time after `now` at which a pending order falls due, if any.
    fn next_due_after(&self, now: i64) -> Result<Option<i64>, EngineError> {
        let mut next: Option<i64> = None;
        for provider in ProviderId::ALL {
            let t = self.book.next_due_after(provider, now)?;
            next = match (next, t) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        Ok(next)
    }

    /// Whether any order is still on its way to a final state (manual review does not count).
    pub fn is_idle(&self) -> Result<bool, EngineError> {
        Ok(!self.book.has_pending()? && self.in_flight_len() == 0)
    }

    async fn process(&self, order: Order) -> Result<(), EngineError> {
        match order.state {
            OrderState::New => self.submit(order).await,
            OrderState::Accepted | OrderState::Unknown => self.query(order, false).await.map(|_| ()),
            _ => Ok(()),
        }
    }

    fn slot(&self, provider: ProviderId) -> Option<&Slot> {
        self.slots.get(&provider)
    }

    /// Sends a `new` order (or resends an `unknown` one that the provider said it does not have).
    async fn submit(&self, order: Order) -> Result<(), EngineError> {
        let Some(slot) = self.slot(order.provider) else {
            self.book.write(|tx| {
                let patch = OrderPatch {
                    next_action_at: Some(Some(crate::book::now_ms() + 60_000)),
                    last_error: Some(
                        "供应商未配置或不可用，订单等待中 / provider not configured; the order waits",
                    ),
                    ..OrderPatch::default()
                };
                tx.patch_order(order.id, patch).map(drop)
            })?;
            return Ok(());
        };
        let settings = self.settings();
        let mut request = submit_request(&order, &settings);
        request.notify_url = settings.callback_url(order.provider);
        let _permit = slot.limits.acquire_paced().await;
        crate::failpoint!("before_intent_commit");
        // The intent is durable before the request leaves: a crash from here on is recovered by query.
        let detail = if order.state == OrderState::New {
            "提交 / submitting".to_owned()
        } else {
            "供应商查无此单，用同一单号重新提交 / provider has no such order: resending the same id"
                .to_owned()
        };
        let id = order.id;
        match self.write(move |tx| tx.transition(id, OrderState::Submitting, &detail)).await {
            Ok(_) => {}
            // Someone else (another engine on the same book) moved it first: not ours to send.
            Err(BookError::IllegalTransition { .. }) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        crate::failpoint!("after_intent_commit");
        slot.limits.before_send().await;
        let sent_at = crate::book::now_ms();
        let outcome = slot.entry.client.submit(&request).await;
        crate::failpoint!("after_send_before_store");
        let (retry_later, failed) = (outcome.reply.retry_later, outcome.reply.verdict == Verdict::Failed);
        let (o, s) = (order.clone(), settings.clone());
        let applied = self.write(move |tx| apply::submit_reply(tx, &o, &outcome, &s, sent_at)).await?;
        if failed && retry_later {
            slot.limits.back_off(settings.retry_delay(1));
        }
        self.after_apply(&order, applied)?;
        Ok(())
    }

    /// Queries an `accepted`, `unknown` (or, when asked by a person, `manual_review`) order. Returns
    /// the classified reply (a final order — settled meanwhile, or rechecked by a reconciliation — only
    /// has the exchange recorded).
    async fn query(&self, order: Order, manual: bool) -> Result<topup_providers::Reply, EngineError> {
        let Some(slot) = self.slot(order.provider) else {
            return Err(EngineError::NoProvider(order.provider));
        };
        let settings = self.settings();
        let window = slot.entry.client.query_window();
        let _permit = slot.limits.acquire().await;
        let outcome = slot
            .entry
            .client
            .query(&QueryRequest {
                merchant_order_id: order.merchant_order_id.clone(),
                provider_order_id: order.provider_order_id.clone(),
            })
            .await;
        let fresh = self.book.order(order.id)?;
        if fresh.state.is_final() {
            // A callback settled it while we were asking: record the exchange only.
            let (id, reply) = (fresh.id, outcome.reply.clone());
            self.write(move |tx| apply::record_exchanges(tx, id, &outcome)).await?;
            return Ok(reply);
        }
        let resend = !manual && apply::should_resend(&fresh, &outcome, &settings);
        let reply = outcome.reply.clone();
        let (f, s) = (fresh.clone(), settings.clone());
        let applied =
            self.write(move |tx| apply::query_reply(tx, &f, &outcome, &s, window, manual, resend)).await?;
        self.after_apply(&fresh, applied)?;
        if resend {
            let again = self.book.order(order.id)?;
            if again.state == OrderState::Unknown {
                drop(_permit);
                Box::pin(self.submit(again)).await?;
            }
        }
        Ok(reply)
    }

    /// Follow-ups after a reply was stored: automatic fallback after a definite failure.
    ///
    /// A fallback buys the same top-up again, under a new id at another provider, so it may follow
    /// only a failure that settles this order for good: `DefinitelyFailed` comes only from a
    /// `Verdict::Failed`, which the clients give only for a reply proven to be about this order (it
    /// names this order's id, or is the direct answer to its own request and names no other order; a
    /// reply about another order, or lacking the id its provider documents, is `Unknown`), or for a
    /// local refusal of a *first* send (nothing left this machine and nothing was ever sent: definite,
    /// and another provider may well take the order). A local refusal or an oper `code` 400 on a
    /// resend is `Unknown` (the earlier send may have placed it), so neither fails nor reroutes.
    fn after_apply(&self, order: &Order, applied: Applied) -> Result<(), EngineError> {
        if applied != Applied::DefinitelyFailed {
            return Ok(());
        }
        let settings = self.settings();
        let Some(&to) = settings.fallback.get(order.provider.as_str()) else { return Ok(()) };
        if order.fallback_of.is_some()
            || to == order.provider
            || !to.sells(order.kind)
            || self.slot(to).is_none()
        {
            return Ok(());
        }
        let new = NewOrder {
            merchant_order_id: crate::ids::new_merchant_order_id(),
            provider: to,
            kind: order.kind,
            product_id: None,
            account: order.account.clone(),
            details: order.details.clone(),
            face: order.face,
            batch_id: order.batch_id,
            resubmit_of: None,
            fallback_of: Some(order.id),
        };
        self.book.write(|tx| {
            let id = tx.insert_order(&new)?;
            tx.carry_sale(order.id, id)?;
            tx.add_event(
                order.id,
                EventKind::Note,
                None,
                None,
                &format!(
                    "明确失败后自动转到 {} 的新订单 {} / definite failure: fallback to {} as order {}",
                    to.label_zh(),
                    new.merchant_order_id,
                    to,
                    new.merchant_order_id
                ),
            )?;
            tx.add_event(
                id,
                EventKind::Note,
                None,
                None,
                &format!(
                    "由订单 {} 明确失败后自动转来 / fallback from order {}",
                    order.merchant_order_id, order.merchant_order_id
                ),
            )?;
            Ok(())
        })?;
        self.wake.notify_one();
        Ok(())
    }

    /// A write through the group commit ([`Book::write_grouped_async`]): concurrent writes meet in one
    /// transaction. `Ok` means committed.
    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut crate::book::Tx<'_>) -> Result<T, BookError> + Send + 'static,
    ) -> Result<T, BookError> {
        self.book.write_grouped_async(f).await
    }

    // ----- manual actions -------------------------------------------------------------------

    /// Queries an order now (accepted, unknown or manual review) and applies a definite answer.
    pub async fn query_now(&self, id: i64) -> Result<Order, EngineError> {
        let order = self.book.order(id)?;
        if !matches!(order.state, OrderState::Accepted | OrderState::Unknown | OrderState::ManualReview) {
            return Err(EngineError::Invalid(Message::new(
                format!("订单状态为“{}”，无需查询", order.state.label_zh()),
                format!("order is {}, nothing to query", order.state),
            )));
        }
        self.query(order, true).await?;
        Ok(self.book.order(id)?)
    }

    /// A person settles a manual-review order (or clears the attention flag of a final one, or the
    /// review flag of an order past its stuck-order limit: it stays overdue and keeps being queried).
    pub fn resolve(&self, id: i64, outcome: OrderState, note: &str) -> Result<Order, EngineError> {
        let note = note.trim();
        if note.is_empty() {
            return Err(EngineError::Invalid(crate::msg!("请填写处理说明", "a note is required")));
        }
        let order = self.book.order(id)?;
        self.book.write(|tx| {
            if order.state == OrderState::ManualReview {
                if !outcome.is_final() {
                    return Err(BookError::Invalid(crate::msg!(
                        "只能处理为成功或失败",
                        "resolve as succeeded or failed"
                    )));
                }
                tx.transition(id, outcome, &format!("人工处理 / resolved by hand: {note}"))?;
            } else if !order.attention && order.stuck != crate::book::StuckLevel::Review {
                return Err(BookError::Invalid(Message::new(
                    format!("订单状态为“{}”，不需要人工处理", order.state.label_zh()),
                    format!("order is {}, not waiting for a person", order.state),
                )));
            }
            tx.patch_order(
                id,
                OrderPatch { note: Some(note), attention: Some(false), ..OrderPatch::default() },
            )?;
            tx.add_event(id, EventKind::Note, None, None, note)?;
            tx.add_event(id, EventKind::Note, None, None, &format!("人工已处理 / handled by hand: {note}"))?;
            tx.acknowledge_stuck(id)?;
            Ok(())
        })?;
        Ok(self.book.order(id)?)
    }

    /// Creates a new order, with a new merchant id, for a definitely failed one. Never automatic.
    pub fn resubmit(&self, id: i64) -> Result<Order, EngineError> {
        let order = self.book.order(id)?;
        if order.state != OrderState::Failed {
            return Err(EngineError::Invalid(Message::new(
                format!("只能重新提交失败的订单（当前“{}”）", order.state.label_zh()),
                format!("only failed orders can be resubmitted (this one is {})", order.state),
            )));
        }
        let new = NewOrder {
            merchant_order_id: crate::ids::new_merchant_order_id(),
            provider: order.provider,
            kind: order.kind,
            product_id: order.product_id.clone(),
            account: order.account.clone(),
            details: order.details.clone(),
            face: order.face,
            batch_id: order.batch_id,
            resubmit_of: Some(order.id),
            fallback_of: None,
        };
        let new_id = self.book.write(|tx| {
            let new_id = tx.insert_order(&new)?;
            tx.carry_sale(id, new_id)?;
            tx.add_event(
                id,
                EventKind::Note,
                None,
                None,
                &format!("已重新提交为 {} / resubmitted as {}", new.merchant_order_id, new.merchant_order_id),
            )?;
            tx.add_event(
                new_id,
                EventKind::Note,
                None,
                None,
                &format!(
                    "重新提交自 {} / resubmission of {}",
                    order.merchant_order_id, order.merchant_order_id
                ),
            )?;
            Ok(new_id)
        })?;
        self.wake.notify_one();
        Ok(self.book.order(new_id)?)
    }

    // ----- callbacks ------------------------------------------------------------------------

    /// Verifies a provider callback and applies it in one transaction. Returns the body to acknowledge
    /// with, *after* the commit. A refused callback stores nothing and gets no acknowledgement.
    /// Blocks until the commit: async callers use [`Engine::apply_callback_async`].
    pub fn apply_callback(
        &self,
        provider: ProviderId,
        request: &CallbackRequest,
    ) -> Result<&'static str, EngineError> {
        let (write, ack) = self.callback_write(provider, request)?;
        let confirm = self.book.write_grouped(write)?;
        self.callback_stored(confirm, ack)
    }

    /// [`Engine::apply_callback`] for the listener: waits for the commit without holding a thread.
    pub async fn apply_callback_async(
        &self,
        provider: ProviderId,
        request: &CallbackRequest,
    ) -> Result<&'static str, EngineError> {
        let (write, ack) = self.callback_write(provider, request)?;
        let confirm = self.book.write_grouped_async(write).await?;
        self.callback_stored(confirm, ack)
    }

    /// Verifies a callback and returns the write that applies it, with its acknowledgement. The order
    /// is looked up inside that write (one transaction, no separate read); an unknown order or one of
    /// another provider is refused before anything is written.
    #[allow(clippy::type_complexity)]
    fn callback_write(
        &self,
        provider: ProviderId,
        request: &CallbackRequest,
    ) -> Result<
        (
            impl FnOnce(&mut crate::book::Tx<'_>) -> Result<Result<bool, String>, BookError> + Send + 'static,
            &'static str,
        ),
        EngineError,
    > {
        let Some(slot) = self.slot(provider) else {
            return Err(EngineError::NoProvider(provider));
        };
        let update =
            slot.entry.client.parse_callback(request).map_err(|e| EngineError::Callback(e.to_string()))?;
        // How it came, for the history: the method, and where its fields were (the rule is the
        // providers' own: the body, or the query string when the body is empty).
        let source = if std::ptr::eq(topup_providers::form::callback_bytes(request), request.body.as_slice())
        {
            "body"
        } else {
            "query"
        };
        let method: String = request.method.chars().filter(char::is_ascii_alphabetic).take(10).collect();
        let via = format!("{method} {source}");
        let gap_ms = self.settings.lock().unwrap_or_else(|p| p.into_inner()).callback_query_gap_ms;
        let query_gap = Duration::from_millis(gap_ms);
        let ack = update.ack;
        let write = move |tx: &mut crate::book::Tx<'_>| {
            let Some(order) = tx.order_by_merchant_id(&update.merchant_order_id)? else {
                return Ok(Err(format!("未知订单 {} / unknown order", update.merchant_order_id)));
            };
            if order.provider != provider {
                return Ok(Err(format!(
                    "订单 {} 不属于 {} / order belongs to another provider",
                    order.merchant_order_id, provider
                )));
            }
            apply::callback(tx, order, &update, &via, query_gap).map(Ok)
        };
        Ok((write, ack))
    }

    /// After a callback's write committed (or was refused before writing anything).
    fn callback_stored(
        &self,
        confirm: Result<bool, String>,
        ack: &'static str,
    ) -> Result<&'static str, EngineError> {
        let confirm = confirm.map_err(EngineError::Callback)?;
        crate::failpoint!("after_callback_store_before_ack");
        if confirm {
            self.wake.notify_one();
        }
        Ok(ack)
    }
}

/// The provider request for a stored order. Fields come from the order's columns and `details`.
pub fn submit_request(order: &Order, _settings: &EngineSettings) -> SubmitRequest {
    let d = &order.details;
    let text =
        |k: &str| d.get(k).and_then(serde_json::Value::as_str).map(str::to_owned).filter(|s| !s.is_empty());
    let order_time = time::OffsetDateTime::from_unix_timestamp(order.created_at / 1000)
        .ok()
        .map(|t| t.to_offset(topup_core::local_time::offset_at(order.created_at)))
        .map(|t| {
            format!(
                "{:04}{:02}{:02}{:02}{:02}{:02}",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            )
        })
        .unwrap_or_default();
    SubmitRequest {
        merchant_order_id: order.merchant_order_id.clone(),
        kind: order.kind,
        account: order.account.clone(),
        face: order.face,
        product_id: order.product_id.clone(),
        quantity: d
            .get("quantity")
            .and_then(serde_json::Value::as_u64)
            .and_then(|q| u32::try_from(q).ok())
            .unwrap_or(1),
        area: text("area"),
        server: text("server"),
        electricity: d.get("electricity").and_then(|e| serde_json::from_value(e.clone()).ok()),
        carrier: d.get("carrier").and_then(|c| serde_json::from_value(c.clone()).ok()),
        order_time,
        notify_url: None,
        // `attempts` counts the sends already intended; this request is the next one.
        attempt: u32::try_from(order.attempts.max(0).saturating_add(1)).unwrap_or(u32::MAX),
    }
}

/// Keeps the type in the public API for callers that build outcomes in tests.
pub type ProviderOutcome = Outcome;
