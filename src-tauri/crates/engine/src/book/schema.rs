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
    // 10 (issue 14, sale price and reports): what the customer paid and who the customer is, stored
    //    once when the order is created (`crate::sale` decides the price; `sale_source` says how); the
    //    local calendar day of its creation (yyyymmdd, the zone of the machine that created it: a day
    //    stays the day it was for the reseller even if the zone changes later); and `report_days`, the
    //    report's figures per day, provider, batch and customer, kept by triggers in the writing
    //    transaction like `state_counts` (a report over a year of orders reads a few thousand rows
    //    instead of 1,000,000: see `crate::report`). What each column counts is defined in
    //    `crate::report`'s module doc. The triggers fire only when a figure changes: the state moving
    //    into or out of succeeded/failed, or a money, time or key column changing.
    r#"
    ALTER TABLE orders ADD COLUMN sale_li INTEGER CHECK (sale_li IS NULL OR sale_li >= 0);
    ALTER TABLE orders ADD COLUMN sale_source TEXT;
    ALTER TABLE orders ADD COLUMN customer TEXT;
    ALTER TABLE orders ADD COLUMN local_day INTEGER;
    UPDATE orders SET local_day = CAST(strftime('%Y%m%d', created_at / 1000, 'unixepoch', 'localtime') AS INTEGER);

    CREATE TABLE report_days (
        day             INTEGER NOT NULL,
        provider        TEXT NOT NULL,
        batch_id        INTEGER NOT NULL,
        customer        TEXT NOT NULL,
        orders          INTEGER NOT NULL DEFAULT 0,
        succeeded       INTEGER NOT NULL DEFAULT 0,
        failed          INTEGER NOT NULL DEFAULT 0,
        face_li         INTEGER NOT NULL DEFAULT 0,
        cost_li         INTEGER NOT NULL DEFAULT 0,
        cost_unknown    INTEGER NOT NULL DEFAULT 0,
        sale_li         INTEGER NOT NULL DEFAULT 0,
        sale_unknown    INTEGER NOT NULL DEFAULT 0,
        profit_li       INTEGER NOT NULL DEFAULT 0,
        profit_orders   INTEGER NOT NULL DEFAULT 0,
        refund_li       INTEGER NOT NULL DEFAULT 0,
        refund_orders   INTEGER NOT NULL DEFAULT 0,
        refund_unknown  INTEGER NOT NULL DEFAULT 0,
        success_ms      INTEGER NOT NULL DEFAULT 0,
        success_timed   INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (day, provider, batch_id, customer)
    ) WITHOUT ROWID;

    -- One order's contribution, as a row of report_days (a view so that the triggers and the
    -- migration's fill share one definition of every figure). Only finished orders (succeeded,
    -- failed) are kept: an order adds to report_days when it finishes, never when it is created, so a
    -- 100,000-row import pays nothing here (an upsert per new order cost the import commit ~40 %).
    -- Orders not yet final are counted when a report is read, from `report_pending` (few, and found
    -- through the state index).
    CREATE VIEW report_contrib AS
    SELECT id,
        COALESCE(local_day, CAST(strftime('%Y%m%d', created_at / 1000, 'unixepoch', 'localtime') AS INTEGER)) AS day,
        provider, COALESCE(batch_id, 0) AS batch_id, COALESCE(customer, '') AS customer,
        state IN ('succeeded', 'failed') AS orders,
        state = 'succeeded' AS succeeded,
        state = 'failed' AS failed,
        CASE WHEN state = 'succeeded' THEN face_li ELSE 0 END AS face_li,
        CASE WHEN state = 'succeeded' THEN COALESCE(cost_li, 0) ELSE 0 END AS cost_li,
        state = 'succeeded' AND cost_li IS NULL AS cost_unknown,
        CASE WHEN state = 'succeeded' THEN COALESCE(sale_li, 0) ELSE 0 END AS sale_li,
        state = 'succeeded' AND sale_li IS NULL AS sale_unknown,
        CASE WHEN state = 'succeeded' AND cost_li IS NOT NULL AND sale_li IS NOT NULL
             THEN sale_li - cost_li ELSE 0 END AS profit_li,
        state = 'succeeded' AND cost_li IS NOT NULL AND sale_li IS NOT NULL AS profit_orders,
        CASE WHEN state = 'failed' AND COALESCE(sale_source, '') <> 'moved' THEN COALESCE(sale_li, 0) ELSE 0 END
            AS refund_li,
        state = 'failed' AND COALESCE(sale_source, '') <> 'moved' AND sale_li IS NOT NULL AS refund_orders,
        state = 'failed' AND COALESCE(sale_source, '') <> 'moved' AND sale_li IS NULL AS refund_unknown,
        CASE WHEN state = 'succeeded' AND finished_at IS NOT NULL THEN finished_at - created_at ELSE 0 END
            AS success_ms,
        state = 'succeeded' AND finished_at IS NOT NULL AS success_timed
    FROM orders;

    INSERT INTO report_days (day, provider, batch_id, customer, orders, succeeded, failed, face_li, cost_li,
        cost_unknown, sale_li, sale_unknown, profit_li, profit_orders, refund_li, refund_orders, refund_unknown,
        success_ms, success_timed)
    SELECT day, provider, batch_id, customer, SUM(orders), SUM(succeeded), SUM(failed), SUM(face_li),
        SUM(cost_li), SUM(cost_unknown), SUM(sale_li), SUM(sale_unknown), SUM(profit_li), SUM(profit_orders),
        SUM(refund_li), SUM(refund_orders), SUM(refund_unknown), SUM(success_ms), SUM(success_timed)
    FROM report_contrib GROUP BY day, provider, batch_id, customer;

    -- The triggers only move a finished order's share (the view's row for it) in and out: out BEFORE
    -- a change or a delete (the row as it still is), in AFTER an insert or a change. New orders and
    -- transitions between pending states cost only the WHEN.
    -- The orders not yet final, with their report key (no index of their own: a partial covering one
    -- saved ~10 ms a report at 60,000 pending orders and cost a 100,000-row import commit ~20 %).
    CREATE VIEW report_pending AS
    SELECT COALESCE(local_day, CAST(strftime('%Y%m%d', created_at / 1000, 'unixepoch', 'localtime') AS INTEGER)) AS day,
        provider, COALESCE(batch_id, 0) AS batch_id, COALESCE(customer, '') AS customer
    FROM orders WHERE state IN ('new', 'submitting', 'accepted', 'unknown', 'manual_review');

    CREATE TRIGGER report_days_insert AFTER INSERT ON orders
    WHEN NEW.state IN ('succeeded', 'failed')
    BEGIN
        INSERT INTO report_days (day, provider, batch_id, customer, orders, succeeded, failed, face_li, cost_li, cost_unknown, sale_li, sale_unknown,
            profit_li, profit_orders, refund_li, refund_orders, refund_unknown, success_ms, success_timed)
        SELECT day, provider, batch_id, customer, orders, succeeded, failed, face_li, cost_li, cost_unknown, sale_li, sale_unknown,
            profit_li, profit_orders, refund_li, refund_orders, refund_unknown, success_ms, success_timed
        FROM report_contrib WHERE id = NEW.id
        ON CONFLICT (day, provider, batch_id, customer) DO UPDATE SET
            orders = orders + excluded.orders, succeeded = succeeded + excluded.succeeded,
            failed = failed + excluded.failed, face_li = face_li + excluded.face_li,
            cost_li = cost_li + excluded.cost_li, cost_unknown = cost_unknown + excluded.cost_unknown,
            sale_li = sale_li + excluded.sale_li, sale_unknown = sale_unknown + excluded.sale_unknown,
            profit_li = profit_li + excluded.profit_li, profit_orders = profit_orders + excluded.profit_orders,
            refund_li = refund_li + excluded.refund_li, refund_orders = refund_orders + excluded.refund_orders,
            refund_unknown = refund_unknown + excluded.refund_unknown,
            success_ms = success_ms + excluded.success_ms, success_timed = success_timed + excluded.success_timed;
    END;

    CREATE TRIGGER report_days_delete BEFORE DELETE ON orders
    WHEN OLD.state IN ('succeeded', 'failed')
    BEGIN
        UPDATE report_days SET
            orders = report_days.orders - c.orders, succeeded = report_days.succeeded - c.succeeded,
            failed = report_days.failed - c.failed, face_li = report_days.face_li - c.face_li,
            cost_li = report_days.cost_li - c.cost_li, cost_unknown = report_days.cost_unknown - c.cost_unknown,
            sale_li = report_days.sale_li - c.sale_li, sale_unknown = report_days.sale_unknown - c.sale_unknown,
            profit_li = report_days.profit_li - c.profit_li,
            profit_orders = report_days.profit_orders - c.profit_orders,
            refund_li = report_days.refund_li - c.refund_li,
            refund_orders = report_days.refund_orders - c.refund_orders,
            refund_unknown = report_days.refund_unknown - c.refund_unknown,
            success_ms = report_days.success_ms - c.success_ms,
            success_timed = report_days.success_timed - c.success_timed
        FROM (SELECT * FROM report_contrib WHERE id = OLD.id) AS c
        WHERE report_days.day = c.day AND report_days.provider = c.provider
            AND report_days.batch_id = c.batch_id AND report_days.customer = c.customer;
    END;

    CREATE TRIGGER report_days_update_out BEFORE UPDATE OF state, face_li, cost_li, sale_li, sale_source, customer, local_day, batch_id, provider, created_at, finished_at ON orders
    WHEN (OLD.state IN ('succeeded', 'failed') OR NEW.state IN ('succeeded', 'failed'))
        AND (OLD.state IS NOT NEW.state
        OR OLD.face_li IS NOT NEW.face_li OR OLD.cost_li IS NOT NEW.cost_li OR OLD.sale_li IS NOT NEW.sale_li
        OR OLD.sale_source IS NOT NEW.sale_source OR OLD.customer IS NOT NEW.customer
        OR OLD.local_day IS NOT NEW.local_day OR OLD.batch_id IS NOT NEW.batch_id
        OR OLD.provider IS NOT NEW.provider OR OLD.created_at IS NOT NEW.created_at
        OR OLD.finished_at IS NOT NEW.finished_at)
    BEGIN
        UPDATE report_days SET
            orders = report_days.orders - c.orders, succeeded = report_days.succeeded - c.succeeded,
            failed = report_days.failed - c.failed, face_li = report_days.face_li - c.face_li,
            cost_li = report_days.cost_li - c.cost_li, cost_unknown = report_days.cost_unknown - c.cost_unknown,
            sale_li = report_days.sale_li - c.sale_li, sale_unknown = report_days.sale_unknown - c.sale_unknown,
            profit_li = report_days.profit_li - c.profit_li,
            profit_orders = report_days.profit_orders - c.profit_orders,
            refund_li = report_days.refund_li - c.refund_li,
            refund_orders = report_days.refund_orders - c.refund_orders,
            refund_unknown = report_days.refund_unknown - c.refund_unknown,
            success_ms = report_days.success_ms - c.success_ms,
            success_timed = report_days.success_timed - c.success_timed
        FROM (SELECT * FROM report_contrib WHERE id = OLD.id) AS c
        WHERE report_days.day = c.day AND report_days.provider = c.provider
            AND report_days.batch_id = c.batch_id AND report_days.customer = c.customer;
    END;

    CREATE TRIGGER report_days_update_in AFTER UPDATE OF state, face_li, cost_li, sale_li, sale_source, customer, local_day, batch_id, provider, created_at, finished_at ON orders
    WHEN (OLD.state IN ('succeeded', 'failed') OR NEW.state IN ('succeeded', 'failed'))
        AND (OLD.state IS NOT NEW.state
        OR OLD.face_li IS NOT NEW.face_li OR OLD.cost_li IS NOT NEW.cost_li OR OLD.sale_li IS NOT NEW.sale_li
        OR OLD.sale_source IS NOT NEW.sale_source OR OLD.customer IS NOT NEW.customer
        OR OLD.local_day IS NOT NEW.local_day OR OLD.batch_id IS NOT NEW.batch_id
        OR OLD.provider IS NOT NEW.provider OR OLD.created_at IS NOT NEW.created_at
        OR OLD.finished_at IS NOT NEW.finished_at)
    BEGIN
        INSERT INTO report_days (day, provider, batch_id, customer, orders, succeeded, failed, face_li, cost_li, cost_unknown, sale_li, sale_unknown,
            profit_li, profit_orders, refund_li, refund_orders, refund_unknown, success_ms, success_timed)
        SELECT day, provider, batch_id, customer, orders, succeeded, failed, face_li, cost_li, cost_unknown, sale_li, sale_unknown,
            profit_li, profit_orders, refund_li, refund_orders, refund_unknown, success_ms, success_timed
        FROM report_contrib WHERE id = NEW.id
        ON CONFLICT (day, provider, batch_id, customer) DO UPDATE SET
            orders = orders + excluded.orders, succeeded = succeeded + excluded.succeeded,
            failed = failed + excluded.failed, face_li = face_li + excluded.face_li,
            cost_li = cost_li + excluded.cost_li, cost_unknown = cost_unknown + excluded.cost_unknown,
            sale_li = sale_li + excluded.sale_li, sale_unknown = sale_unknown + excluded.sale_unknown,
            profit_li = profit_li + excluded.profit_li, profit_orders = profit_orders + excluded.profit_orders,
            refund_li = refund_li + excluded.refund_li, refund_orders = refund_orders + excluded.refund_orders,
            refund_unknown = refund_unknown + excluded.refund_unknown,
            success_ms = success_ms + excluded.success_ms, success_timed = success_timed + excluded.success_timed;
    END;
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

    /// A book at schema 9 with finished and pending orders gets, in place, each order's local day and
    /// the report's kept figures (schema 10) filled from the orders already there: the same as counting
    /// them afresh. Its orders have no sale price: unknown, not 0.
    #[test]
    fn a_version_9_book_gets_its_report_figures_filled() {
        use crate::book::ReportBy;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("orders.sqlite3");
        {
            let conn = at_version(&path, 9);
            for (i, (state, cost)) in
                [("succeeded", Some(49_000)), ("succeeded", None), ("failed", None), ("new", None)]
                    .iter()
                    .enumerate()
            {
                conn.execute(
                    "INSERT INTO orders (merchant_order_id, provider, kind, account, face_li, cost_li, state, \
                     created_at, updated_at, finished_at) VALUES (?1, 'juhe', 'phone', '13900000000', 50000, ?2, ?3, \
                     1764806400000, 1764806400000, 1764806460000)",
                    rusqlite::params![format!("M{i}"), cost, state],
                )
                .unwrap();
            }
        }
        let book = Book::open(&path).unwrap();
        let day = book.local_day(1_764_806_400_000).unwrap();
        let order = book.order_by_merchant_id("M0").unwrap().unwrap();
        assert_eq!((order.sale, order.profit), (None, None));
        for by in ReportBy::ALL {
            let kept = book.report_sums(by, day, day).unwrap();
            assert_eq!(kept, book.recount_report(by, day, day).unwrap(), "{by:?}");
            assert_eq!(kept.len(), 1);
            let s = &kept[0];
            assert_eq!((s.orders, s.succeeded, s.failed, s.cost, s.cost_unknown), (4, 2, 1, 49_000, 1));
            assert_eq!((s.sale_unknown, s.profit_orders, s.refund_unknown), (2, 0, 1));
            assert_eq!((s.success_ms, s.success_timed), (2 * 60_000, 2));
        }
    }
}
