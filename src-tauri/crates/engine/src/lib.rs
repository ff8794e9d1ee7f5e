//! The Topup Desk engine: everything the product does, without a window.
//!
//! Why a separate crate with no Tauri dependency: the order book, the keyring, the provider clients,
//! the submit/poll loop, callbacks and import must build and be tested headless — in CI, from the
//! command line, and under crash tests that SIGKILL the process. The Tauri shell only calls in here.

pub mod api;
pub mod book;
pub mod callbacks;
pub mod config;
pub mod contract;
pub mod events;
pub mod failpoint;
pub mod ids;
pub mod import;
pub mod logging;
pub mod order;
pub mod paths;
pub mod reconcile;
pub mod redact;
pub mod report;
pub mod run;
pub mod sale;
pub mod secrets;
pub mod session;

pub use topup_core::{Li, ProductKind, ProviderId, Sensitive};
