//! Asking a provider again about one order, for a reconciliation (对账).
//!
//! Why through the engine and not around it: a reconciliation re-queries a whole day, and every one of
//! those requests must go through the provider's [`super::limits::Limits`] (the provider counts them
//! with the engine's own), and every answer must be applied exactly as the engine applies any query —
//! [`Engine::query`] as asked by a person: a definite answer proven about the order settles a pending
//! order, nothing fails or refunds on an uncertain one, and a final order only has the exchange
//! recorded (final states never change; a contradiction is the reconciliation's to report). The order
//! is held as in flight meanwhile, so the engine's loop does not query it at the same time.

use super::{Engine, EngineError};
use crate::book::{now_ms, OrderState};
use topup_providers::Reply;

/// What asking again came to.
#[derive(Clone, Debug)]
pub enum Recheck {
    /// Never sent (`new`): nothing to ask.
    NotSent,
    /// A request of the engine is working on it right now: not asked twice.
    InFlight,
    /// The provider is not configured.
    NoProvider,
    /// Past the provider's query window: it can no longer answer; not asked.
    OutOfWindow,
    /// The provider's classified answer, applied as any query is.
    Answered(Reply),
}

impl Engine {
    /// Asks `id`'s provider about it again (see the module docs).
    pub async fn recheck(&self, id: i64) -> Result<Recheck, EngineError> {
        let order = self.book.order(id)?;
        match order.state {
            OrderState::New => return Ok(Recheck::NotSent),
            OrderState::Submitting => return Ok(Recheck::InFlight),
            _ => {}
        }
        let Some(slot) = self.slot(order.provider) else { return Ok(Recheck::NoProvider) };
        if let Some(window) = slot.entry.client.query_window() {
            let first_send = order.submitted_at.unwrap_or(order.created_at);
            let window = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
            if now_ms() >= first_send.saturating_add(window) {
                return Ok(Recheck::OutOfWindow);
            }
        }
        {
            let mut held = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
            if held.contains_key(&id) {
                return Ok(Recheck::InFlight);
            }
            held.insert(id, order.provider);
        }
        let answer = self.query(order, true).await;
        self.in_flight.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
        self.wake.notify_one();
        Ok(Recheck::Answered(answer?))
    }
}
