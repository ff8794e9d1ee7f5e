//! The engine's integration tests: one binary, a real SQLite file in a temporary directory, and the real
//! OS keyring (run through `scripts/test.sh`, which starts an unlocked gnome-keyring inside
//! `dbus-run-session`; a bare `cargo test` has no keyring and the keyring tests say so).

mod balance_watch;
mod book;
mod callback_replay;
mod console;
mod contract;
mod fault_mix;
mod import;
mod keyring;
mod listener;
mod order;
mod reconcile;
mod report;
mod run;
mod sale;
mod secrets;
mod stuck;
