//! The order state machine: the one place that says which state changes are allowed.
//!
//! Why it lives in one place: money safety depends on two facts that every writer must respect —
//! a final state (succeeded, failed) never changes, and nothing moves to `failed` except on a definite
//! answer. The order book refuses any transition not listed here, so a bug elsewhere becomes an error
//! instead of a double charge or a lost order.
//!
//! ```text
//! new ──▶ submitting ──▶ accepted ──▶ succeeded | failed | manual_review
//!  │          │  ╰─────▶ unknown  ──▶ accepted | succeeded | failed | manual_review
//!  │          ├────────▶ succeeded | failed        (answer at submit)
//!  │          ╰────────▶ new                      (definitely not placed: resend the same id later)
//!  ╰──▶ failed                                    (never sent: cancelled before its first request)
//! unknown ──▶ submitting                           (a query says the provider has no such order:
//!                                                   resend the *same* id; its duplicate check guards)
//! manual_review ──▶ succeeded | failed             (a human decides, or a definite query answer)
//! ```

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    /// Stored, not yet sent.
    New,
    /// The intent to send is committed; the request may or may not have left.
    Submitting,
    /// The provider took it; waiting for the result.
    Accepted,
    /// The outcome of a request is uncertain; the order is being queried.
    Unknown,
    /// Topped up. Final.
    Succeeded,
    /// Definitely not charged (or refunded). Final.
    Failed,
    /// Still uncertain after the provider's query window, or contradictory: a human decides.
    ManualReview,
}

impl OrderState {
    pub const ALL: [OrderState; 7] = [
        OrderState::New,
        OrderState::Submitting,
        OrderState::Accepted,
        OrderState::Unknown,
        OrderState::Succeeded,
        OrderState::Failed,
        OrderState::ManualReview,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            OrderState::New => "new",
            OrderState::Submitting => "submitting",
            OrderState::Accepted => "accepted",
            OrderState::Unknown => "unknown",
            OrderState::Succeeded => "succeeded",
            OrderState::Failed => "failed",
            OrderState::ManualReview => "manual_review",
        }
    }

    pub const fn label_zh(self) -> &'static str {
        match self {
            OrderState::New => "待提交",
            OrderState::Submitting => "提交中",
            OrderState::Accepted => "充值中",
            OrderState::Unknown => "待确认",
            OrderState::Succeeded => "成功",
            OrderState::Failed => "失败",
            OrderState::ManualReview => "人工处理",
        }
    }

    /// Succeeded and failed never change again.
    pub const fn is_final(self) -> bool {
        matches!(self, OrderState::Succeeded | OrderState::Failed)
    }

    /// Orders the engine still has to move (submit or query).
    pub const fn is_pending(self) -> bool {
        matches!(self, OrderState::New | OrderState::Submitting | OrderState::Accepted | OrderState::Unknown)
    }

    /// Whether `self → to` is allowed. Staying in the same state is not a transition.
    pub const fn can_become(self, to: OrderState) -> bool {
        use OrderState::*;
        matches!(
            (self, to),
            (New, Submitting)
                | (New, Failed)
                | (Submitting, New)
                | (Submitting, Accepted)
                | (Submitting, Unknown)
                | (Submitting, Succeeded)
                | (Submitting, Failed)
                | (Accepted, Succeeded)
                | (Accepted, Failed)
                | (Accepted, ManualReview)
                | (Unknown, Accepted)
                | (Unknown, Submitting)
                | (Unknown, Succeeded)
                | (Unknown, Failed)
                | (Unknown, ManualReview)
                | (ManualReview, Succeeded)
                | (ManualReview, Failed)
        )
    }
}

impl fmt::Display for OrderState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("未知的订单状态“{0}” / unknown order state “{0}”")]
pub struct UnknownState(pub String);

impl FromStr for OrderState {
    type Err = UnknownState;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrderState::ALL.into_iter().find(|st| st.as_str() == s).ok_or_else(|| UnknownState(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::OrderState::{self, *};

    /// The whole table, written out independently of `can_become`, so that a change to either is seen.
    const ALLOWED: &[(OrderState, OrderState)] = &[
        (New, Submitting),
        (New, Failed),
        (Submitting, New),
        (Submitting, Accepted),
        (Submitting, Unknown),
        (Submitting, Succeeded),
        (Submitting, Failed),
        (Accepted, Succeeded),
        (Accepted, Failed),
        (Accepted, ManualReview),
        (Unknown, Accepted),
        (Unknown, Submitting),
        (Unknown, Succeeded),
        (Unknown, Failed),
        (Unknown, ManualReview),
        (ManualReview, Succeeded),
        (ManualReview, Failed),
    ];

    #[test]
    fn every_pair_is_allowed_exactly_when_listed() {
        for from in OrderState::ALL {
            for to in OrderState::ALL {
                let listed = ALLOWED.contains(&(from, to));
                assert_eq!(from.can_become(to), listed, "{from} -> {to}");
            }
        }
    }

    #[test]
    fn final_states_never_change() {
        for from in [Succeeded, Failed] {
            assert!(from.is_final());
            for to in OrderState::ALL {
                assert!(!from.can_become(to), "{from} -> {to} must be refused");
            }
        }
    }

    #[test]
    fn uncertain_states_cannot_go_back_to_new() {
        // Only a definite "not placed" answer during submitting may re-queue an order; an unknown
        // order may be resent (same id) only through `submitting`, after a query, never via `new`.
        for from in [Accepted, Unknown, ManualReview] {
            assert!(!from.can_become(New));
        }
        for from in [Accepted, ManualReview] {
            assert!(!from.can_become(Submitting), "{from} must never be resent");
        }
    }

    #[test]
    fn names_round_trip() {
        for s in OrderState::ALL {
            assert_eq!(s.as_str().parse::<OrderState>(), Ok(s));
        }
        assert!("paid".parse::<OrderState>().is_err());
    }
}
