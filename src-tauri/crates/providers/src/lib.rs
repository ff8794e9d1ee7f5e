//! Clients for the three upstream providers, behind one [`Provider`] trait.
//!
//! Why one trait: the engine must treat every provider alike (submit, query, balance, callback) and must
//! never decide money questions from provider-specific details. Each client turns the provider's bytes
//! into a [`Reply`] whose [`Verdict`] is exactly one of accepted, succeeded, failed (definitely not
//! charged) or unknown (must be queried). Anything a client does not fully understand is `Unknown`:
//! a wrong guess towards `Failed` can pay a customer twice, a wrong guess towards `Unknown` only costs a
//! query. Every request/reply is returned as a redacted [`Exchange`] for the audit trail.
//!
//! Layout: one folder per provider (`dingyin/`, `oper/`, `juhe/`), each with request building and
//! signing, reply classification, and callback verification; `http` holds the one HTTP client setup.

pub mod dingyin;
pub mod http;
pub mod juhe;
pub mod oper;
pub mod sign;
mod types;

pub use types::*;
