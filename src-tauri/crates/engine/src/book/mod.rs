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
//! * **One module per table** (`orders`, `patch` for writing it, `due` for the scheduler's questions,
//!   `events`, `batches`, `settings`, `state_counts`), and no SQL outside this module: the rest of the
//!   engine calls named functions on [`Book`] (reads) and [`Tx`] (writes in a transaction).
//! * **Changes say what changed.** A [`Change`] carries the order row as committed and, once per
//!   commit, the kept counts of the book and of each touched import batch, so watchers never re-read.

/// The columns `orders::order_from_row` reads, in its order (a macro so that fixed queries, and the
/// `RETURNING` clauses of `patch`, are literals).
macro_rules! order_columns {
    () => {
        "id, merchant_order_id, provider, kind, product_id, account, details, face_li, cost_li, \
         state, provider_order_id, batch_id, resubmit_of, created_at, updated_at, submitted_at, finished_at, \
         attempts, next_action_at, last_error, attention, note, queries, last_query_at, fallback_of, last_sent_at, \
         callbacks, stuck, sale_li, sale_source, customer"
    };
}

mod balance_reads;
mod batches;
mod change;
mod due;
mod error;
mod events;
mod orders;
mod patch;
mod reconcile_runs;
mod report;
mod schema;
mod settings;
mod state;
mod state_counts;
mod stats;
mod stuck;

pub use balance_reads::{BalanceRead, ChargeFacts, NewBalanceRead};
pub use batches::{Batch, NewBatch, PriorBatch};
pub use change::Change;
pub use error::BookError;
pub use events::{EventKind, OrderEvent};
pub use orders::{NewOrder, Order, OrderFilter, OrderPage};
pub use patch::OrderPatch;
pub use reconcile_runs::{ReconcileRun, RunCounts};
pub use report::{ReportBy, ReportSums};
pub use state::{OrderState, UnknownState};
pub use state_counts::StateCounts;
pub use stats::ProviderStats;
pub(crate) use stuck::NEEDS_ATTENTION;
pub use stuck::{StuckCandidate, StuckLevel, StuckNotice};

use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

/// The name of the order book file inside the data directory.
pub const DB_FILE_NAME: &str = "orders.sqlite3";

/// The order book. Cheap to share behind an `Arc`.
pub struct Book {
    path: PathBuf,
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
    changes: broadcast::Sender<Change>,
    /// Writes waiting for the next group commit ([`Book::write_grouped`]).
    queue: Mutex<Vec<GroupedJob>>,
    /// When the last group commit ended: a write soon after it lingers for company ([`GROUP_LINGER`]).
    last_group: Mutex<Option<Instant>>,
    /// Wakes the writer thread that commits [`Book::write_grouped_async`] writes (started on first use).
    writer_thread: Mutex<Option<mpsc::Sender<()>>>,
}

/// Under load (a group committed less than [`BUSY_GAP`] ago), a group waits this long before it
/// starts, so that the writes arriving right behind the first share its transaction and its fsync.
/// Each commit costs a transaction, a write of every page it touched (the same index pages again and
/// again) and an fsync; at 200 orders a second (three writes each) the writes came one or two per
/// group. A lone write (nothing committed recently) does not wait. 1 ms: 3 ms put a callback's p50
/// at 5 ms and its p99 past 20 ms under 2,000 callbacks/s.
const GROUP_LINGER: Duration = Duration::from_millis(1);
const BUSY_GAP: Duration = Duration::from_millis(20);

/// A queued write: `run` executes it inside the group's transaction and returns how to report the
/// commit's outcome; `abort` reports an error when no transaction could be started.
struct GroupedJob {
    run: Box<dyn FnOnce(&mut Tx<'_>) -> Report + Send>,
    abort: Box<dyn FnOnce(&str) + Send>,
}

type Report = Box<dyn FnOnce(Option<&str>) + Send>;

/// A write transaction. Changes it records are published after commit.
pub struct Tx<'a> {
    tx: Txn<'a>,
    changes: Vec<Change>,
}

/// An immediate transaction on the writer connection whose `BEGIN IMMEDIATE`, `COMMIT` and
/// `ROLLBACK` come from the statement cache (rusqlite's `Transaction` compiles them with
/// `execute_batch` for every transaction, ~1.4 % of the engine's CPU with one group commit per
/// few writes). Dropped without [`Txn::commit`], or after a failed commit, it rolls back.
struct Txn<'a> {
    conn: &'a Connection,
}

impl<'a> Txn<'a> {
    fn begin(conn: &'a Connection) -> rusqlite::Result<Txn<'a>> {
        conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
        Ok(Txn { conn })
    }

    fn commit(self) -> rusqlite::Result<()> {
        self.conn.prepare_cached("COMMIT")?.execute([])?;
        Ok(())
    }
}

impl Drop for Txn<'_> {
    fn drop(&mut self) {
        if !self.conn.is_autocommit() {
            let rolled_back = self.conn.prepare_cached("ROLLBACK").and_then(|mut s| s.execute([]));
            if rolled_back.is_err() {
                // A statement may still be running; the uncached form reports nothing more useful.
                let _ = self.conn.execute_batch("ROLLBACK");
            }
        }
    }
}

impl std::ops::Deref for Txn<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
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
        reader.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        stable_plans(&reader)?;
        let (changes, _) = broadcast::channel(4096);
        Ok(Book {
            path: path.to_owned(),
            writer: Mutex::new(writer),
            reader: Mutex::new(reader),
            changes,
            queue: Mutex::new(Vec::new()),
            last_group: Mutex::new(None),
            writer_thread: Mutex::new(None),
        })
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
            let conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
            let tx = Txn::begin(&conn)?;
            let mut w = Tx { tx, changes: Vec::new() };
            let value = f(&mut w)?;
            w.settle_counts();
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

    /// The write path under load: like [`Book::write`], but writes that arrive while another commit
    /// is in progress share the next transaction and its one fsync (group commit). Each write runs in
    /// its own savepoint, so one failing write does not undo the others; every caller gets its result
    /// only after the shared commit, so "returned" still means "on disk".
    ///
    /// Why: with `synchronous=FULL` every commit waits for the disk; one commit per callback or per
    /// submit caps the engine at the disk's fsync rate (about 200/s on the test machine).
    ///
    /// How: the write is queued and one writer thread per book (started on first use) commits the
    /// queue group by group; this call blocks until its group is committed. Async callers use
    /// [`Book::write_grouped_async`] and need no blocking thread of their own.
    pub fn write_grouped<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut Tx<'_>) -> Result<T, BookError> + Send + 'static,
    ) -> Result<T, BookError> {
        let (send, receive) = mpsc::sync_channel::<Result<T, BookError>>(1);
        self.enqueue(f, move |result| {
            let _ = send.send(result);
        });
        // A closed channel: the group's transaction panicked, nothing was committed.
        receive.recv().unwrap_or_else(|_| Err(interrupted()))
    }

    /// [`Book::write_grouped`] for async callers: the caller's task waits for the commit without
    /// holding a thread. (Every engine write used to take a blocking thread that then mostly waited for
    /// the writer lock: two thread hand-offs and a lock convoy per write.) Dropping the future does
    /// not withdraw a queued write: it is committed all the same.
    pub async fn write_grouped_async<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut Tx<'_>) -> Result<T, BookError> + Send + 'static,
    ) -> Result<T, BookError> {
        let (send, receive) = tokio::sync::oneshot::channel::<Result<T, BookError>>();
        self.enqueue(f, move |result| {
            let _ = send.send(result);
        });
        receive.await.unwrap_or_else(|_| Err(interrupted()))
    }

    /// Queues a write for the writer thread; `deliver` gets its result after the group's commit.
    fn enqueue<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut Tx<'_>) -> Result<T, BookError> + Send + 'static,
        deliver: impl FnOnce(Result<T, BookError>) + Send + 'static,
    ) {
        let deliver = Arc::new(Mutex::new(Some(deliver)));
        let on_abort = deliver.clone();
        let job = GroupedJob {
            run: Box::new(move |tx: &mut Tx<'_>| {
                let result = tx.savepoint(f);
                Box::new(move |commit_error: Option<&str>| {
                    let result = match commit_error {
                        None => result,
                        Some(e) => Err(BookError::CommitFailed(e.to_owned())),
                    };
                    if let Some(d) = deliver.lock().unwrap_or_else(|p| p.into_inner()).take() {
                        d(result);
                    }
                })
            }),
            abort: Box::new(move |e: &str| {
                if let Some(d) = on_abort.lock().unwrap_or_else(|p| p.into_inner()).take() {
                    d(Err(BookError::CommitFailed(e.to_owned())));
                }
            }),
        };
        self.queue.lock().unwrap_or_else(|p| p.into_inner()).push(job);
        self.wake_writer_thread();
    }

    fn wake_writer_thread(self: &Arc<Self>) {
        let mut wake = self.writer_thread.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(w) = wake.as_ref() {
            if w.send(()).is_ok() {
                return;
            }
        }
        let (send, receive) = mpsc::channel();
        let book = Arc::downgrade(self);
        match std::thread::Builder::new()
            .name("book-writer".into())
            .spawn(move || writer_loop(&book, &receive))
        {
            Ok(_) => {
                let _ = send.send(());
                *wake = Some(send);
            }
            Err(e) => {
                // No thread: fail the queued writes rather than leave them waiting.
                let text = format!("无法启动写入线程 / cannot start the writer thread: {e}");
                for job in std::mem::take(&mut *self.queue.lock().unwrap_or_else(|p| p.into_inner())) {
                    (job.abort)(&text);
                }
            }
        }
    }

    /// Commits every queued write as one group and publishes their changes; `false` if the queue
    /// was empty. Under load it first lingers (without the writer lock, so that [`Book::write`]
    /// callers get their turn) for company.
    fn commit_queued(&self) -> bool {
        // Nothing queued (the writes this wake-up was for went with the last group): no linger.
        // Before, the loop's final call and every stale wake-up slept 1 ms to find an empty queue.
        if self.queue.lock().unwrap_or_else(|p| p.into_inner()).is_empty() {
            return false;
        }
        let busy =
            self.last_group.lock().unwrap_or_else(|p| p.into_inner()).is_some_and(|t| t.elapsed() < BUSY_GAP);
        if busy {
            std::thread::sleep(GROUP_LINGER);
        }
        let conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let jobs = std::mem::take(&mut *self.queue.lock().unwrap_or_else(|p| p.into_inner()));
        if jobs.is_empty() {
            return false;
        }
        let changes = Self::run_group(&conn, jobs);
        *self.last_group.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
        drop(conn);
        for c in changes {
            let _ = self.changes.send(c);
        }
        true
    }

    /// Runs queued writes in one transaction, then tells each of them how the commit went.
    fn run_group(conn: &Connection, jobs: Vec<GroupedJob>) -> Vec<Change> {
        let tx = match Txn::begin(conn) {
            Ok(tx) => tx,
            Err(e) => {
                // Without a transaction nothing ran: every job gets the error.
                let text = e.to_string();
                for job in jobs {
                    (job.abort)(&text);
                }
                return Vec::new();
            }
        };
        let mut w = Tx { tx, changes: Vec::new() };
        let reports: Vec<_> = jobs.into_iter().map(|job| (job.run)(&mut w)).collect();
        w.settle_counts();
        let Tx { tx, changes } = w;
        match tx.commit() {
            Ok(()) => {
                for report in reports {
                    report(None);
                }
                changes
            }
            Err(e) => {
                let text = e.to_string();
                for report in reports {
                    report(Some(&text));
                }
                Vec::new()
            }
        }
    }

    /// A read on the reader connection (sees every committed write). The book's own: callers ask
    /// named questions ([`Book::order`], [`Book::due_ids`], …), never SQL.
    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T, BookError>) -> Result<T, BookError> {
        f(&self.read_conn())
    }

    fn read_conn(&self) -> MutexGuard<'_, Connection> {
        self.reader.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Tx<'_> {
    /// The transaction's connection, for the table modules of the book only: nothing outside
    /// `book/` writes SQL.
    fn conn(&self) -> &Connection {
        &self.tx
    }

    fn changed(&mut self, change: Change) {
        self.changes.push(change);
    }

    /// Runs `f` with a 128 MB page cache when `large` (a big import batch touches seven indexes;
    /// with SQLite's default 2 MB cache they spill to the WAL mid-transaction and the commit slows
    /// down several times), restoring the connection's cache size after it whatever it returns.
    pub(crate) fn with_large_cache<T>(
        &mut self,
        large: bool,
        f: impl FnOnce(&mut Tx<'_>) -> Result<T, BookError>,
    ) -> Result<T, BookError> {
        if !large {
            return f(self);
        }
        let cache: i64 = self.tx.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
        self.tx.execute_batch("PRAGMA cache_size = -131072")?;
        let result = f(self);
        self.tx.execute_batch(&format!("PRAGMA cache_size = {cache}"))?;
        result
    }

    /// Runs `f` in a savepoint: its writes and published changes are undone if it fails.
    fn savepoint<T>(&mut self, f: impl FnOnce(&mut Tx<'_>) -> Result<T, BookError>) -> Result<T, BookError> {
        // Cached statements: `execute_batch` would compile these three for every write.
        let run = |tx: &Connection, sql: &str| tx.prepare_cached(sql)?.execute([]);
        run(&self.tx, "SAVEPOINT grouped_write")?;
        let mark = self.changes.len();
        match f(self) {
            Ok(v) => {
                run(&self.tx, "RELEASE grouped_write")?;
                Ok(v)
            }
            Err(e) => {
                run(&self.tx, "ROLLBACK TO grouped_write")?;
                run(&self.tx, "RELEASE grouped_write")?;
                self.changes.truncate(mark);
                Err(e)
            }
        }
    }
}

/// Prepared statements kept per connection: every hot-path statement of the engine fits.
const STATEMENT_CACHE: usize = 64;

fn configure(conn: &Connection) -> Result<(), BookError> {
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    stable_plans(conn)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(BookError::Corrupt(format!("journal_mode is {mode}, expected wal")));
    }
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
    Ok(())
}

/// Query plans that do not depend on bound values (SQLite's "query planner stability guarantee").
/// Without it, SQLite compiles a statement for the values bound to it when they might change the plan
/// (a bound `LIMIT ?`, a bound value compared with a partial index's condition), and every new binding
/// expires the cached statement: the engine's due scan (`provider = ?1 … LIMIT ?3`, ~50 a second) was
/// compiled again on every run (`sqlite3Reprepare`, ~2.5 % of the engine's CPU in a profile). Our
/// plans come from the indexes and the literal conditions in the SQL, never from the bound values.
fn stable_plans(conn: &Connection) -> Result<(), BookError> {
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
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

/// The writer thread of one book: commits queued writes whenever woken, until the book is dropped.
/// A write that panics fails its group (the callers' result channels are dropped); the thread goes on.
fn writer_loop(book: &Weak<Book>, wake: &mpsc::Receiver<()>) {
    while wake.recv().is_ok() {
        while wake.try_recv().is_ok() {}
        let Some(book) = book.upgrade() else { return };
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| while book.commit_queued() {}));
    }
}

fn interrupted() -> BookError {
    BookError::CommitFailed("写入被中断 / the write was interrupted".into())
}
