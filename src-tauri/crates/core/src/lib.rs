//! The shared vocabulary of Topup Desk.
//!
//! Every other crate (provider clients, the order engine, the simulator, the window) speaks in these
//! types, so that the money unit, the provider names and the rule "a secret never prints" are decided
//! once. Nothing here does I/O, except reading the local time zone (`local_time`).

mod ids;
pub mod local_time;
mod money;
mod sensitive;
pub mod untrusted;

pub use ids::{ParseIdError, ProductKind, ProviderId};
pub use money::{Li, MoneyError};
pub use sensitive::Sensitive;
