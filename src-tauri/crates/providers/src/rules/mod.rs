//! Rules of an order that the providers and the engine share, each in one place.
//!
//! Why here: the same question — is this a mobile number, does this provider sell this face value —
//! was answered by the order form, the command line, the importer and every request builder, each
//! with its own copy that drifted (one took any 11 characters, another no check digit). The engine's
//! one order check (`topup_engine::order`) asks these, and each provider's request builder asks the
//! same functions before anything is sent, so a rule cannot say yes in one place and no in another.
//! What only one provider knows (juhe's face table) stays in that provider's `table`; this module is
//! the one place that reads it for everybody else.

pub mod area;
pub mod face;
pub mod phone;
