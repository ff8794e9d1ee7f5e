//! Tauri commands: one file per screen or domain, each a one-line call into the engine (or its
//! console facade). No logic lives here.

pub mod balances;
pub mod import;
pub mod orders;
pub mod settings;
pub mod status;
