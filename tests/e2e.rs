//! End-to-end tests: the real app window (WebKitGTK under Xvfb), driven through tauri-driver and
//! WebKitWebDriver with the fantoccini WebDriver client. Run them through `scripts/test.sh`, which
//! provides the X display, the D-Bus session and an unlocked keyring.
//!
//! Each test starts its own app on a fresh temporary data directory, so tests never touch a real order
//! book and never see each other's orders.

#[path = "e2e/harness.rs"]
mod harness;

#[path = "e2e/shell.rs"]
mod shell;

#[path = "e2e/console.rs"]
mod console;

#[path = "e2e/settings.rs"]
mod settings;

#[path = "e2e/installed.rs"]
mod installed;

#[path = "e2e/balances.rs"]
mod balances;
#[path = "e2e/report.rs"]
mod report;

#[path = "e2e/reconcile.rs"]
mod reconcile;
#[path = "e2e/stuck.rs"]
mod stuck;
