//! The order book: one SQLite file that is the source of truth for every order.
//!
//! Why it is shaped like this:
//! * **One write path.** Every change goes through [`Book::write`], an immediate transaction on the one
//!   writer connection. What the closure changed is published on [`Book::subscribe`] only after the
//!   commit, so the UI never shows a state that a crash could take back.
//! * **Durable before acting.** WAL with `synchronous=FULL`: when `write` returns, the order is on disk.
//!   The engine writes an order (and its `submitting` intent) before its request leaves.
//! * **Rules below the code.** The state machine ([`OrderState::can_become`]) is checked on every
//!   transition, and a trigger refuses any change to a final state even from raw SQL.
//! * Readers use their own connection, so a long list query never blocks a state change.

mod error;
mod orders;
mod schema;
mod state;
mod stats;

pub use error::BookError;
pub use orders::{
    Batch, Change, EventKind, NewBatch, NewOrder, Order, OrderEvent, OrderFilter, OrderPage, StateCounts,
};
pub use state::{OrderState, UnknownState};
pub use stats::ProviderStats;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::broadcast;

/// The name of the order book file inside the data directory.
pub const DB_FILE_NAME: &str = "orders.sqlite3";

/// The order book. Cheap to share behind an `Arc`.
pub struct Book {
    path: PathBuf,
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
    changes: broadcast::Sender<Change>,
}

/// A write transaction. Changes it records are published after commit.
pub struct Tx<'a> {
    tx: rusqlite::Transaction<'a>,
    changes: Vec<Change>,
}

impl Book {
    /// Opens (creating if needed) the order book at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Book, BookError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| BookError::Io(dir.display().to_string(), e.to_string()))?;
        }
        let mut writer = Connection::open(path)?;
        configure(&writer)?;
        migrate(&mut writer)?;
        let reader = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
        )?;
        reader.busy_timeout(Duration::from_secs(5))?;
        let (changes, _) = broadcast::channel(4096);
        Ok(Book { path: path.to_owned(), writer: Mutex::new(writer), reader: Mutex::new(reader), changes })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the open file.
    pub fn schema_version(&self) -> Result<i64, BookError> {
        Ok(self.read_conn().query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// Every change committed from now on. Slow receivers lose old changes (`Lagged`) and should
    /// re-read what they show; the book itself never waits for them.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    /// The one write path: runs `f` in an immediate transaction, commits, then publishes the changes.
    pub fn write<T>(&self, f: impl FnOnce(&mut Tx<'_>) -> Result<T, BookError>) -> Result<T, BookError> {
        let (value, changes) = {
            let mut conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut w = Tx { tx, changes: Vec::new() };
            let value = f(&mut w)?;
            let Tx { tx, changes } = w;
            tx.commit()?;
            (value, changes)
        };
        for c in changes {
            // No receiver is fine: nobody is watching.
            let _ = self.changes.send(c);
        }
        Ok(value)
    }

    /// A read on the reader connection (sees every committed write).
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T, BookError>) -> Result<T, BookError> {
        f(&self.read_conn())
    }

    fn read_conn(&self) -> MutexGuard<'_, Connection> {
        self.reader.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Tx<'_> {
    pub fn conn(&self) -> &Connection {
        &self.tx
    }

    pub(crate) fn changed(&mut self, change: Change) {
        self.changes.push(change);
    }
}

fn configure(conn: &Connection) -> Result<(), BookError> {
    conn.busy_timeout(Duration::from_secs(5))?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(BookError::Corrupt(format!("journal_mode is {mode}, expected wal")));
    }
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<(), BookError> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let supported = schema::current_version();
    if found > supported {
        return Err(BookError::TooNew { found, supported });
    }
    for (i, step) in schema::MIGRATIONS.iter().enumerate().skip(usize::try_from(found).unwrap_or(0)) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
        tracing::info!(version = i + 1, "order book schema migrated");
    }
    Ok(())
}

/// Milliseconds since the Unix epoch: how the order book stores time.
pub fn now_ms() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}
