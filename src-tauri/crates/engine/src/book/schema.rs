//! Schema migrations, applied in order and counted in SQLite's `user_version`.
//!
//! Why hand-rolled: the list is short, each step runs in the same immediate transaction as the version
//! bump (so a crash mid-migration leaves the old version intact), and a database written by a newer
//! binary is refused instead of being silently half-understood. Never edit a released step: append.

/// Each entry moves the schema from version `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: the order book.
    r#"
    CREATE TABLE batches (
        id              INTEGER PRIMARY KEY,
        file_name       TEXT NOT NULL,
        content_hash    TEXT NOT NULL,
        sheet           TEXT,
        total_rows      INTEGER NOT NULL,
        valid_rows      INTEGER NOT NULL,
        invalid_rows    INTEGER NOT NULL,
        skipped_rows    INTEGER NOT NULL DEFAULT 0,
        created_at      INTEGER NOT NULL
    );
    CREATE INDEX batches_hash ON batches(content_hash);

    CREATE TABLE orders (
        id                  INTEGER PRIMARY KEY,
        merchant_order_id   TEXT NOT NULL UNIQUE,
        provider            TEXT NOT NULL CHECK (provider IN ('dingyin', 'oper', 'juhe')),
        kind                TEXT NOT NULL CHECK (kind IN ('phone', 'electricity', 'game', 'douyin')),
        product_id          TEXT,
        account             TEXT NOT NULL,
        details             TEXT NOT NULL DEFAULT '{}',
        face_li             INTEGER NOT NULL CHECK (face_li > 0),
        cost_li             INTEGER,
        state               TEXT NOT NULL CHECK (state IN
                              ('new', 'submitting', 'accepted', 'unknown', 'succeeded', 'failed', 'manual_review')),
        provider_order_id   TEXT,
        batch_id            INTEGER REFERENCES batches(id),
        resubmit_of         INTEGER REFERENCES orders(id),
        created_at          INTEGER NOT NULL,
        updated_at          INTEGER NOT NULL,
        submitted_at        INTEGER,
        finished_at         INTEGER,
        attempts            INTEGER NOT NULL DEFAULT 0,
        next_action_at      INTEGER,
        last_error          TEXT,
        attention           INTEGER NOT NULL DEFAULT 0,
        note                TEXT
    );
    CREATE INDEX orders_state ON orders(state, next_action_at);
    CREATE INDEX orders_created ON orders(created_at);
    CREATE INDEX orders_batch ON orders(batch_id);
    CREATE INDEX orders_account ON orders(account, face_li, created_at);
    CREATE INDEX orders_provider ON orders(provider, created_at);
    CREATE INDEX orders_attention ON orders(attention) WHERE attention = 1;

    CREATE TABLE order_events (
        id          INTEGER PRIMARY KEY,
        order_id    INTEGER NOT NULL REFERENCES orders(id),
        at          INTEGER NOT NULL,
        kind        TEXT NOT NULL,
        from_state  TEXT,
        to_state    TEXT,
        detail      TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX order_events_order ON order_events(order_id, id);

    CREATE TABLE provider_settings (
        provider    TEXT PRIMARY KEY CHECK (provider IN ('dingyin', 'oper', 'juhe')),
        settings    TEXT NOT NULL,
        updated_at  INTEGER NOT NULL
    );

    CREATE TABLE app_settings (
        key         TEXT PRIMARY KEY,
        value       TEXT NOT NULL
    );

    -- Final states never change: enforced here too, below the state machine, as a last line.
    CREATE TRIGGER orders_final_is_final
    BEFORE UPDATE OF state ON orders
    WHEN OLD.state IN ('succeeded', 'failed') AND NEW.state <> OLD.state
    BEGIN
        SELECT RAISE(ABORT, 'final order state cannot change');
    END;
    "#,
    // 2: query bookkeeping for the engine's schedule.
    r#"
    ALTER TABLE orders ADD COLUMN queries INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE orders ADD COLUMN last_query_at INTEGER;
    ALTER TABLE orders ADD COLUMN fallback_of INTEGER REFERENCES orders(id);
    "#,
    // 3: when the last submit of an order left (the "resend after not found" wait is measured from it;
    //    NULL for orders sent before this version), and the engine's due scan: per provider, in due
    //    order, only pending states — read in index order with a LIMIT instead of scanning and sorting
    //    every pending order.
    r#"
    ALTER TABLE orders ADD COLUMN last_sent_at INTEGER;
    CREATE INDEX orders_due ON orders(provider, COALESCE(next_action_at, 0), id)
        WHERE state IN ('new', 'accepted', 'unknown');
    "#,
    // 4: how many verified callbacks arrived for an order. A callback that changes nothing and repeats
    //    one already in the history (a provider's retry, or a replay) is counted here instead of being
    //    stored as another event: a replay costs a counter, not a row.
    r#"
    ALTER TABLE orders ADD COLUMN callbacks INTEGER NOT NULL DEFAULT 0;
    "#,
    // 5: orders per state, and the orders that need a human, kept as they change instead of recounted:
    //    the status line reads them after every change batch, and a `GROUP BY state` over 1,000,000
    //    orders cost ~35 ms each time. Triggers keep the counts exact whatever statement writes `orders`,
    //    in the writing transaction itself (a crash or rollback undoes both). The `attention` row counts
    //    orders in manual review or flagged (`attention = 1`), each once, as the needs-attention filter.
    //    Every row exists from the start (zero) so that the triggers only ever UPDATE.
    r#"
    CREATE TABLE state_counts (
        state   TEXT PRIMARY KEY,
        n       INTEGER NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO state_counts (state, n) VALUES
        ('new', 0), ('submitting', 0), ('accepted', 0), ('unknown', 0), ('succeeded', 0), ('failed', 0),
        ('manual_review', 0), ('attention', 0);
    UPDATE state_counts SET n = (SELECT COUNT(*) FROM orders WHERE orders.state = state_counts.state)
        WHERE state <> 'attention';
    UPDATE state_counts SET n = (SELECT COUNT(*) FROM orders WHERE state = 'manual_review' OR attention = 1)
        WHERE state = 'attention';

    -- One statement per row for the common case (a new order, a state change); the attention row
    -- only when the order's "needs a human" condition actually changes (the WHEN clauses are cheap,
    -- a statement is not).
    CREATE TRIGGER state_counts_insert AFTER INSERT ON orders
    BEGIN
        UPDATE state_counts SET n = n + 1 WHERE state = NEW.state;
    END;
    CREATE TRIGGER state_counts_insert_attention AFTER INSERT ON orders
    WHEN NEW.state = 'manual_review' OR NEW.attention = 1
    BEGIN
        UPDATE state_counts SET n = n + 1 WHERE state = 'attention';
    END;
    CREATE TRIGGER state_counts_delete AFTER DELETE ON orders
    BEGIN
        UPDATE state_counts SET n = n - 1 WHERE state = OLD.state;
    END;
    CREATE TRIGGER state_counts_delete_attention AFTER DELETE ON orders
    WHEN OLD.state = 'manual_review' OR OLD.attention = 1
    BEGIN
        UPDATE state_counts SET n = n - 1 WHERE state = 'attention';
    END;
    CREATE TRIGGER state_counts_update AFTER UPDATE OF state ON orders
    WHEN OLD.state IS NOT NEW.state
    BEGIN
        UPDATE state_counts SET n = n - 1 WHERE state = OLD.state;
        UPDATE state_counts SET n = n + 1 WHERE state = NEW.state;
    END;
    -- State and attention may change in one UPDATE: the order is counted once, before and after.
    CREATE TRIGGER state_counts_update_attention AFTER UPDATE OF state, attention ON orders
    WHEN (NEW.state = 'manual_review' OR NEW.attention = 1) IS NOT (OLD.state = 'manual_review' OR OLD.attention = 1)
    BEGIN
        UPDATE state_counts SET n = n + (CASE WHEN NEW.state = 'manual_review' OR NEW.attention = 1
                                              THEN 1 ELSE -1 END)
            WHERE state = 'attention';
    END;
    "#,
    // 6: the same counts per import batch, kept by triggers like `state_counts`: import progress
    //    travels with every change event (read just before the commit), and a `GROUP BY` over a batch
    //    of 100,000 orders per commit would cost milliseconds on the writer. Rows appear on a batch's
    //    first order (UPSERT); orders without a batch cost one cheap WHEN per write.
    r#"
    CREATE TABLE batch_counts (
        batch_id    INTEGER NOT NULL,
        state       TEXT NOT NULL,
        n           INTEGER NOT NULL,
        PRIMARY KEY (batch_id, state)
    ) WITHOUT ROWID;
    INSERT INTO batch_counts (batch_id, state, n)
        SELECT batch_id, state, COUNT(*) FROM orders WHERE batch_id IS NOT NULL GROUP BY batch_id, state;
    INSERT INTO batch_counts (batch_id, state, n)
        SELECT batch_id, 'attention', COUNT(*) FROM orders
        WHERE batch_id IS NOT NULL AND (state = 'manual_review' OR attention = 1) GROUP BY batch_id;

    CREATE TRIGGER batch_counts_insert AFTER INSERT ON orders
    WHEN NEW.batch_id IS NOT NULL
    BEGIN
        INSERT INTO batch_counts (batch_id, state, n) VALUES (NEW.batch_id, NEW.state, 1)
            ON CONFLICT (batch_id, state) DO UPDATE SET n = n + 1;
        INSERT INTO batch_counts (batch_id, state, n)
            SELECT NEW.batch_id, 'attention', 1 WHERE NEW.state = 'manual_review' OR NEW.attention = 1
            ON CONFLICT (batch_id, state) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER batch_counts_delete AFTER DELETE ON orders
    WHEN OLD.batch_id IS NOT NULL
    BEGIN
        UPDATE batch_counts SET n = n - 1 WHERE batch_id = OLD.batch_id AND state = OLD.state;
        UPDATE batch_counts SET n = n - 1 WHERE batch_id = OLD.batch_id AND state = 'attention'
            AND (OLD.state = 'manual_review' OR OLD.attention = 1);
    END;
    CREATE TRIGGER batch_counts_update AFTER UPDATE OF state ON orders
    WHEN NEW.batch_id IS NOT NULL AND OLD.state IS NOT NEW.state
    BEGIN
        UPDATE batch_counts SET n = n - 1 WHERE batch_id = OLD.batch_id AND state = OLD.state;
        INSERT INTO batch_counts (batch_id, state, n) VALUES (NEW.batch_id, NEW.state, 1)
            ON CONFLICT (batch_id, state) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER batch_counts_update_attention AFTER UPDATE OF state, attention ON orders
    WHEN NEW.batch_id IS NOT NULL
        AND (NEW.state = 'manual_review' OR NEW.attention = 1) IS NOT (OLD.state = 'manual_review' OR OLD.attention = 1)
    BEGIN
        INSERT INTO batch_counts (batch_id, state, n)
            VALUES (NEW.batch_id, 'attention',
                    CASE WHEN NEW.state = 'manual_review' OR NEW.attention = 1 THEN 1 ELSE -1 END)
            ON CONFLICT (batch_id, state) DO UPDATE SET n = n + excluded.n;
    END;
    "#,
    // 7: stuck-order rules (run/stuck.rs). `stuck` is how far past its product's time limits an order
    //    still waiting is: 0 within, 1 overdue, 2 past the review limit (needs a person), 3 a person
    //    looked and it keeps waiting. A flag beside the state, never a state: the order keeps being
    //    queried. `stuck_notified` is the level the desktop was told about (claimed in the same
    //    transaction that reads it, so a restart never tells twice). A final state clears both, below
    //    every writer. Orders past the review limit count as needing a person; orders flagged at all
    //    are counted in the `overdue` row.
    r#"
    ALTER TABLE orders ADD COLUMN stuck INTEGER NOT NULL DEFAULT 0 CHECK (stuck BETWEEN 0 AND 3);
    ALTER TABLE orders ADD COLUMN stuck_notified INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX orders_stuck_unnotified ON orders(id) WHERE stuck > stuck_notified;
    CREATE INDEX orders_stuck ON orders(id) WHERE stuck <> 0;
    INSERT INTO state_counts (state, n) VALUES ('overdue', 0);

    CREATE TRIGGER orders_final_clears_stuck AFTER UPDATE OF state ON orders
    WHEN NEW.state IN ('succeeded', 'failed') AND (NEW.stuck <> 0 OR NEW.stuck_notified <> 0)
    BEGIN
        UPDATE orders SET stuck = 0, stuck_notified = 0 WHERE id = NEW.id;
    END;

    DROP TRIGGER state_counts_insert_attention;
    DROP TRIGGER state_counts_delete_attention;
    DROP TRIGGER state_counts_update_attention;
    CREATE TRIGGER state_counts_insert_attention AFTER INSERT ON orders
    WHEN NEW.state = 'manual_review' OR NEW.attention = 1 OR NEW.stuck = 2
    BEGIN
        UPDATE state_counts SET n = n + 1 WHERE state = 'attention';
    END;
    CREATE TRIGGER state_counts_delete_attention AFTER DELETE ON orders
    WHEN OLD.state = 'manual_review' OR OLD.attention = 1 OR OLD.stuck = 2
    BEGIN
        UPDATE state_counts SET n = n - 1 WHERE state = 'attention';
    END;
    CREATE TRIGGER state_counts_update_attention AFTER UPDATE OF state, attention, stuck ON orders
    WHEN (NEW.state = 'manual_review' OR NEW.attention = 1 OR NEW.stuck = 2)
         IS NOT (OLD.state = 'manual_review' OR OLD.attention = 1 OR OLD.stuck = 2)
    BEGIN
        UPDATE state_counts SET n = n + (CASE WHEN NEW.state = 'manual_review' OR NEW.attention = 1
                                                   OR NEW.stuck = 2 THEN 1 ELSE -1 END)
            WHERE state = 'attention';
    END;
    CREATE TRIGGER state_counts_insert_overdue AFTER INSERT ON orders
    WHEN NEW.stuck <> 0
    BEGIN
        UPDATE state_counts SET n = n + 1 WHERE state = 'overdue';
    END;
    CREATE TRIGGER state_counts_delete_overdue AFTER DELETE ON orders
    WHEN OLD.stuck <> 0
    BEGIN
        UPDATE state_counts SET n = n - 1 WHERE state = 'overdue';
    END;
    CREATE TRIGGER state_counts_update_overdue AFTER UPDATE OF stuck ON orders
    WHEN (NEW.stuck <> 0) IS NOT (OLD.stuck <> 0)
    BEGIN
        UPDATE state_counts SET n = n + (CASE WHEN NEW.stuck <> 0 THEN 1 ELSE -1 END) WHERE state = 'overdue';
    END;
    "#,
    // 8: reconciliation (对账): every run a reseller made — when, which range, by API or by a statement
    //    file, and what it found — so that what was checked, and what was not, stays visible.
    r#"
    CREATE TABLE reconcile_runs (
        id              INTEGER PRIMARY KEY,
        started_at      INTEGER NOT NULL,
        finished_at     INTEGER,
        range_from      INTEGER NOT NULL,
        range_to        INTEGER NOT NULL,
        time_basis      TEXT NOT NULL CHECK (time_basis IN ('order', 'finish')),
        source          TEXT NOT NULL CHECK (source IN ('api', 'file')),
        provider        TEXT,
        file_name       TEXT,
        matched         INTEGER NOT NULL DEFAULT 0,
        state_differs   INTEGER NOT NULL DEFAULT 0,
        amount_differs  INTEGER NOT NULL DEFAULT 0,
        book_only       INTEGER NOT NULL DEFAULT 0,
        statement_only  INTEGER NOT NULL DEFAULT 0,
        unanswered      INTEGER NOT NULL DEFAULT 0,
        out_of_window   INTEGER NOT NULL DEFAULT 0,
        bad_rows        INTEGER NOT NULL DEFAULT 0,
        cancelled       INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX reconcile_runs_started ON reconcile_runs(started_at);
    "#,
    // 9: the balance history (the drift watch, `book::balance_reads`): every successful balance read,
    //    with when it was asked and answered (the balance is of some moment in between), the provider's
    //    last ledger entry when its reply names one (oper), and what the user said about the window that
    //    ends at this read (a deposit confirmed, a drift looked at). Orders by provider and finish time,
    //    for the orders that may have moved money in a window.
    r#"
    CREATE TABLE balance_reads (
        id              INTEGER PRIMARY KEY,
        provider        TEXT NOT NULL CHECK (provider IN ('dingyin', 'oper', 'juhe')),
        asked_at        INTEGER NOT NULL,
        read_at         INTEGER NOT NULL CHECK (read_at >= asked_at),
        balance_li      INTEGER NOT NULL,
        ledger_id       TEXT,
        ledger          TEXT,
        source          TEXT NOT NULL,
        notified_at     INTEGER,
        resolved_at     INTEGER,
        resolved_li     INTEGER,
        resolved_note   TEXT
    );
    CREATE INDEX balance_reads_provider ON balance_reads(provider, read_at);
    CREATE INDEX orders_provider_finished ON orders(provider, finished_at);
    "#,
];

/// The schema version this binary writes.
pub(crate) const fn current_version() -> i64 {
    MIGRATIONS.len() as i64
}

#[cfg(test)]
mod tests {
    use super::MIGRATIONS;
    use crate::book::Book;

    /// A database file at schema `version`, as that version's binary left it.
    fn at_version(path: &std::path::Path, version: usize) -> rusqlite::Connection {
        let conn = rusqlite::Connection::open(path).unwrap();
        for (i, step) in MIGRATIONS.iter().take(version).enumerate() {
            conn.execute_batch(step).unwrap();
            conn.pragma_update(None, "user_version", i as i64 + 1).unwrap();
        }
        conn
    }

    /// A book written by an earlier version (schema 2) opens, is migrated, and keeps its orders;
    /// their last send time is unknown (NULL), never invented, and they have had no callback counted.
    #[test]
    fn a_version_2_book_is_migrated_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("orders.sqlite3");
        {
            let conn = at_version(&path, 2);
            conn.execute(
                "INSERT INTO orders (merchant_order_id, provider, kind, account, face_li, state, created_at, \
                 updated_at, submitted_at, attempts) VALUES ('M1', 'dingyin', 'phone', '13900000000', 10000, \
                 'unknown', 1, 2, 1, 1)",
                [],
            )
            .unwrap();
        }
        let book = Book::open(&path).unwrap();
        assert_eq!(book.schema_version().unwrap(), super::current_version());
        let order = book.order_by_merchant_id("M1").unwrap().unwrap();
        assert_eq!((order.submitted_at, order.last_sent_at), (Some(1), None));
        assert_eq!(order.callbacks, 0);
    }

    /// A book at schema 4 with orders in it gets its kept state counts (schema 5) filled from the
    /// orders already there: each state, and the attention count taking an order in manual review that
    /// is also flagged once.
    #[test]
    fn a_version_4_book_gets_its_state_counts_filled() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("orders.sqlite3");
        {
            let conn = at_version(&path, 4);
            let rows = [
                ("new", 0),
                ("new", 1),
                ("new", 0),
                ("unknown", 0),
                ("unknown", 1),
                ("succeeded", 0),
                ("failed", 0),
                ("manual_review", 0),
                ("manual_review", 1),
            ];
            for (i, (state, attention)) in rows.iter().enumerate() {
                conn.execute(
                    "INSERT INTO orders (merchant_order_id, provider, kind, account, face_li, state, attention, \
                     created_at, updated_at) VALUES (?1, 'dingyin', 'phone', '13900000000', 10000, ?2, ?3, 1, 1)",
                    rusqlite::params![format!("M{i}"), state, attention],
                )
                .unwrap();
            }
        }
        let book = Book::open(&path).unwrap();
        assert_eq!(book.schema_version().unwrap(), super::current_version());
        let counts = book.state_counts().unwrap();
        let expected = crate::book::StateCounts {
            new: 3,
            unknown: 2,
            succeeded: 1,
            failed: 1,
            manual_review: 2,
            attention: 4,
            ..Default::default()
        };
        assert_eq!(counts, expected);
        assert_eq!(counts, book.recount_state_counts().unwrap());
    }

    /// A book at schema 5 with imported orders gets each batch's kept counts (schema 6) filled from
    /// the orders already there, and the triggers keep them from then on.
    #[test]
    fn a_version_5_book_gets_its_batch_counts_filled() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("orders.sqlite3");
        {
            let conn = at_version(&path, 5);
            conn.execute(
                "INSERT INTO batches (id, file_name, content_hash, total_rows, valid_rows, invalid_rows, created_at) \
                 VALUES (1, 'a.xlsx', 'h', 4, 4, 0, 1)",
                [],
            )
            .unwrap();
            for (i, (batch, state, attention)) in [
                (Some(1), "new", 0),
                (Some(1), "succeeded", 1),
                (Some(1), "manual_review", 0),
                (None, "new", 0),
            ]
            .iter()
            .enumerate()
            {
                conn.execute(
                    "INSERT INTO orders (merchant_order_id, provider, kind, account, face_li, state, attention, \
                     batch_id, created_at, updated_at) VALUES (?1, 'dingyin', 'phone', '13900000000', 10000, ?2, ?3, ?4, 1, 1)",
                    rusqlite::params![format!("M{i}"), state, attention, batch],
                )
                .unwrap();
            }
        }
        let book = Book::open(&path).unwrap();
        let counts = book.batch_counts(1).unwrap();
        let expected = crate::book::StateCounts {
            new: 1,
            succeeded: 1,
            manual_review: 1,
            attention: 2,
            ..Default::default()
        };
        assert_eq!(counts, expected);
        assert_eq!(counts, book.recount_batch_counts(1).unwrap());
        let id = book.order_by_merchant_id("M0").unwrap().unwrap().id;
        book.write(|tx| tx.transition(id, crate::book::OrderState::Submitting, "")).unwrap();
        let counts = book.batch_counts(1).unwrap();
        assert_eq!((counts.new, counts.submitting), (0, 1));
        assert_eq!(counts, book.recount_batch_counts(1).unwrap());
    }
}
