//! The provider-independent life of an order: submit decisions (faults, duplicates, balance), settlement
//! after `settle_after`, and callback delivery with retries.
//!
//! Why this is shared: the money rules under test (charged at most once per merchant id, refunded exactly
//! once on failure, a duplicate never charges) must be identical for the three providers; only the wire
//! formats differ, and those live in the provider modules.

use crate::model::Fault;
use crate::server::Shape;
use crate::state::{Detail, Order, Provider, Shared};
use std::sync::Arc;

/// Everything a provider module knows about a submit that passed its checks.
pub struct NewOrder<'a> {
    pub provider: Provider,
    pub merchant_order_id: &'a str,
    /// The account used for fault targeting and shown in `SimOrder::account`.
    pub account: &'a str,
    pub face_li: i64,
    pub cost_li: i64,
}

/// How the submit is to be answered.
pub enum Outcome {
    /// The provider's rate-limit answer; nothing placed.
    RateLimited,
    /// HTTP 500; nothing placed.
    Http500,
    /// A scripted rejection code (the order may have been created anyway).
    Reject(i64),
    /// The duplicate-order answer.
    Duplicate,
    /// Balance too low; nothing placed.
    Balance,
    /// Created and charged now.
    Accepted(Box<Order>),
}

/// Decide a submit: apply the scripted fault, refuse duplicates without charging, check the balance,
/// create and charge the order. `make` turns a fresh sequence number into (provider order id, detail).
pub fn submit(
    shared: &Arc<Shared>,
    new: NewOrder<'_>,
    make: impl FnOnce(u64) -> (String, Detail),
) -> (Outcome, Shape) {
    let created;
    let outcome;
    let shape;
    {
        let mut inner = shared.lock();
        let fault = inner.take_fault(
            new.provider,
            Some(new.merchant_order_id),
            Some(new.account),
            Fault::is_submit_fault,
        );
        let exists = inner.find(new.provider, new.merchant_order_id).is_some();
        shape = match &fault {
            Some(Fault::LostResponseAfterAccept) => Shape::Lost,
            Some(Fault::TruncatedBody) => Shape::Truncated,
            Some(Fault::GarbageBody) => Shape::Garbage,
            Some(Fault::SlowReply(d)) => Shape::Slow(*d),
            _ => Shape::Normal,
        };
        let create = |inner: &mut crate::state::Inner| {
            let seq = inner.next_seq();
            let (provider_order_id, detail) = make(seq);
            let flags = inner.take_flags(new.provider, new.merchant_order_id, new.account);
            inner.create_order(
                new.provider,
                new.merchant_order_id,
                provider_order_id,
                new.account,
                new.face_li,
                new.cost_li,
                detail,
                flags,
            )
        };
        match fault {
            Some(Fault::RateLimit) => {
                created = None;
                outcome = Outcome::RateLimited;
            }
            Some(Fault::Http500BeforeAccept) => {
                created = None;
                outcome = Outcome::Http500;
            }
            Some(Fault::Reject { code, accept_anyway }) => {
                created = (accept_anyway && !exists).then(|| create(&mut inner));
                outcome = Outcome::Reject(code);
            }
            Some(Fault::DuplicateOrder) => {
                created = (!exists).then(|| create(&mut inner));
                outcome = Outcome::Duplicate;
            }
            _ if exists => {
                created = None;
                outcome = Outcome::Duplicate;
            }
            _ if inner.balance(new.provider) < new.cost_li => {
                created = None;
                outcome = Outcome::Balance;
            }
            _ => {
                let order = create(&mut inner);
                created = Some(order.clone());
                outcome = Outcome::Accepted(Box::new(order));
            }
        }
    }
    if let Some(order) = created {
        spawn_settle(shared, order.provider, order.public.merchant_order_id.clone());
    }
    (outcome, shape)
}

/// The merchant order id a [`Fault::QueryAboutOtherOrder`] reply names instead of `ours`: ours with
/// one more character, so that only an exact comparison tells them apart.
pub fn other_order_id(ours: &str) -> String {
    format!("{ours}1")
}

/// A callback ready to send.
pub struct Callback {
    pub url: String,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    /// The exact body that acknowledges it.
    pub ack: &'static [u8],
}

/// Settle the order after `settle_after`, then deliver its callback (3 attempts).
fn spawn_settle(shared: &Arc<Shared>, provider: Provider, merchant_order_id: String) {
    let s = shared.clone();
    shared.spawn(async move {
        tokio::time::sleep(s.config.settle_after).await;
        let settled = s.lock().settle(provider, &merchant_order_id);
        let Some(order) = settled else { return };
        if order.flags.no_callback {
            return;
        }
        let callback = match provider {
            Provider::Dingyin => crate::dingyin::callback(&s, &order),
            Provider::Oper => crate::oper::callback(&s, &order),
            Provider::Juhe => crate::juhe::callback(&s, &order),
        };
        let Some(cb) = callback else { return };
        deliver(&s, provider, &merchant_order_id, cb).await;
    });
}

async fn deliver(s: &Arc<Shared>, provider: Provider, merchant_order_id: &str, cb: Callback) {
    for attempt in 0..3 {
        if attempt > 0 {
            tokio::time::sleep(s.config.callback_retry_delay).await;
        }
        if let Some(o) = s.lock().find_mut(provider, merchant_order_id) {
            o.public.callback_attempts += 1;
        }
        let res = s
            .http
            .post(&cb.url)
            .header(reqwest::header::CONTENT_TYPE, cb.content_type)
            .body(cb.body.clone())
            .send()
            .await;
        let acked = match res {
            Ok(r) if r.status() == reqwest::StatusCode::OK => {
                r.bytes().await.map(|b| b.as_ref() == cb.ack).unwrap_or(false)
            }
            _ => false,
        };
        if acked {
            if let Some(o) = s.lock().find_mut(provider, merchant_order_id) {
                o.public.callback_acknowledged = true;
            }
            return;
        }
        tracing::debug!(
            provider = provider.as_str(),
            merchant_order_id,
            attempt,
            "callback not acknowledged"
        );
    }
}
