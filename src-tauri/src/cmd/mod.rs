//! Tauri commands: one file per screen or domain, each a one-line call into the app state / engine.
//! No logic lives here.

pub mod status;
