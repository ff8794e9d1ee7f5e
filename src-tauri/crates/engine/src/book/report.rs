//! The report's figures kept per day, provider, batch and customer (`report_days`, schema 10), and the
//! same figures counted afresh from `orders` (the plain `GROUP BY` a report would otherwise be).
//!
//! `report_days` holds finished orders only (an order is added when it succeeds or fails, so creating
//! orders — a 100,000-row import — costs the triggers nothing); the orders not yet final are few and
//! are counted when the report is read (`report_pending`, through the state index).
//!
//! What each figure means is defined once, in `crate::report`'s module doc; the SQL that computes an
//! order's share is the `report_contrib` view of schema 10, shared by the triggers and [`Book::recount_report`].

use super::{Book, BookError, Tx};
use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};

/// How a report groups its rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub enum ReportBy {
    Day,
    Provider,
    Batch,
    Customer,
}

impl ReportBy {
    pub const ALL: [ReportBy; 4] = [ReportBy::Day, ReportBy::Provider, ReportBy::Batch, ReportBy::Customer];

    pub const fn as_str(self) -> &'static str {
        match self {
            ReportBy::Day => "day",
            ReportBy::Provider => "provider",
            ReportBy::Batch => "batch",
            ReportBy::Customer => "customer",
        }
    }

    /// The grouping column of `report_days` (and of the `report_contrib` view).
    const fn column(self) -> &'static str {
        match self {
            ReportBy::Day => "day",
            ReportBy::Provider => "provider",
            ReportBy::Batch => "batch_id",
            ReportBy::Customer => "customer",
        }
    }
}

impl std::str::FromStr for ReportBy {
    type Err = String;
    fn from_str(s: &str) -> Result<ReportBy, String> {
        match s.trim() {
            "day" | "日" | "按日" => Ok(ReportBy::Day),
            "provider" | "供应商" => Ok(ReportBy::Provider),
            "batch" | "批次" => Ok(ReportBy::Batch),
            "customer" | "客户" => Ok(ReportBy::Customer),
            other => Err(format!(
                "分组“{other}”无效，应为 day、provider、batch 或 customer / grouping “{other}” must be day, provider, batch or customer"
            )),
        }
    }
}

/// One group's sums, as kept (see `crate::report` for what each counts).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportSums {
    /// The group: a day (yyyymmdd), a provider id, a batch id (`0`: no batch) or a customer (`""`).
    pub key: String,
    pub orders: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub face: i64,
    pub cost: i64,
    pub cost_unknown: i64,
    pub sale: i64,
    pub sale_unknown: i64,
    pub profit: i64,
    pub profit_orders: i64,
    pub refund: i64,
    pub refund_orders: i64,
    pub refund_unknown: i64,
    pub success_ms: i64,
    pub success_timed: i64,
}

const SUMS: &str = "SUM(orders), SUM(succeeded), SUM(failed), SUM(face_li), SUM(cost_li), SUM(cost_unknown), \
     SUM(sale_li), SUM(sale_unknown), SUM(profit_li), SUM(profit_orders), SUM(refund_li), SUM(refund_orders), \
     SUM(refund_unknown), SUM(success_ms), SUM(success_timed)";

/// The finished orders' sums from `sql` (over `report_days` or `report_contrib`), with the orders not
/// yet final counted in (`report_pending`), in key order.
fn sums(
    c: &Connection,
    sql: &str,
    by: ReportBy,
    from_day: i64,
    to_day: i64,
) -> Result<Vec<ReportSums>, BookError> {
    let mut out = finished(c, sql, from_day, to_day)?;
    let col = by.column();
    let mut st = c.prepare_cached(&format!(
        "SELECT {col}, COUNT(*) FROM report_pending WHERE day BETWEEN ?1 AND ?2 GROUP BY {col}"
    ))?;
    let mut rows = st.query(params![from_day, to_day])?;
    while let Some(r) = rows.next()? {
        let key = key_text(r.get(0)?);
        let n: i64 = r.get(1)?;
        match out.iter_mut().find(|s| s.key == key) {
            Some(s) => s.orders += n,
            None => out.push(ReportSums { key, orders: n, ..ReportSums::default() }),
        }
    }
    out.retain(|s| s.orders != 0);
    match by {
        ReportBy::Day | ReportBy::Batch => out.sort_by_key(|s| s.key.parse::<i64>().unwrap_or(0)),
        ReportBy::Provider | ReportBy::Customer => out.sort_by(|a, b| a.key.cmp(&b.key)),
    }
    Ok(out)
}

fn key_text(key: rusqlite::types::Value) -> String {
    match key {
        rusqlite::types::Value::Integer(i) => i.to_string(),
        rusqlite::types::Value::Text(t) => t,
        _ => String::new(),
    }
}

fn finished(c: &Connection, sql: &str, from_day: i64, to_day: i64) -> Result<Vec<ReportSums>, BookError> {
    let mut st = c.prepare_cached(sql)?;
    let rows = st.query_map(params![from_day, to_day], |r| {
        Ok(ReportSums {
            key: key_text(r.get(0)?),
            orders: r.get(1)?,
            succeeded: r.get(2)?,
            failed: r.get(3)?,
            face: r.get(4)?,
            cost: r.get(5)?,
            cost_unknown: r.get(6)?,
            sale: r.get(7)?,
            sale_unknown: r.get(8)?,
            profit: r.get(9)?,
            profit_orders: r.get(10)?,
            refund: r.get(11)?,
            refund_orders: r.get(12)?,
            refund_unknown: r.get(13)?,
            success_ms: r.get(14)?,
            success_timed: r.get(15)?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

impl Book {
    /// The kept sums of the local days `from_day..=to_day` (yyyymmdd), grouped `by`, in key order.
    /// Reads `report_days` (its primary key starts with the day): a few thousand rows for a year.
    pub fn report_sums(
        &self,
        by: ReportBy,
        from_day: i64,
        to_day: i64,
    ) -> Result<Vec<ReportSums>, BookError> {
        let col = by.column();
        let sql = format!(
            "SELECT {col}, {SUMS} FROM report_days WHERE day BETWEEN ?1 AND ?2 GROUP BY {col} ORDER BY {col}"
        );
        self.read(|c| sums(c, &sql, by, from_day, to_day))
    }

    /// The same sums counted afresh over every order of the range (the plain `GROUP BY` over
    /// `orders`, a full scan): for tests and the benchmark, which compare the kept sums with it.
    pub fn recount_report(
        &self,
        by: ReportBy,
        from_day: i64,
        to_day: i64,
    ) -> Result<Vec<ReportSums>, BookError> {
        let col = by.column();
        let sql = format!(
            "SELECT {col}, {SUMS} FROM report_contrib WHERE day BETWEEN ?1 AND ?2 GROUP BY {col} ORDER BY {col}"
        );
        self.read(|c| sums(c, &sql, by, from_day, to_day))
    }

    /// The local calendar day (yyyymmdd) of `ms`, as the order book files orders under.
    pub fn local_day(&self, ms: i64) -> Result<i64, BookError> {
        self.read(|c| local_day(c, ms))
    }

    /// The file name of each batch among `ids`.
    pub fn batch_names(&self, ids: &[i64]) -> Result<Vec<(i64, String)>, BookError> {
        self.read(|c| {
            let mut st = c.prepare_cached("SELECT file_name FROM batches WHERE id = ?1")?;
            let mut out = Vec::new();
            for &id in ids {
                let mut rows = st.query([id])?;
                if let Some(r) = rows.next()? {
                    out.push((id, r.get(0)?));
                }
            }
            Ok(out)
        })
    }
}

/// The local calendar day (yyyymmdd) of `ms`, in the zone of this machine (SQLite's `localtime`,
/// which reads the system zone: the `time` crate cannot read it in a multi-threaded process).
pub(crate) fn local_day(c: &Connection, ms: i64) -> Result<i64, BookError> {
    Ok(c.prepare_cached("SELECT CAST(strftime('%Y%m%d', ?1 / 1000, 'unixepoch', 'localtime') AS INTEGER)")?
        .query_row([ms], |r| r.get(0))?)
}

impl Tx<'_> {
    /// A replacement order (resubmit, fallback) takes over the sale and customer of the failed order
    /// `from`: the customer paid once, so the sale now counts on `to`, and `from`'s is marked moved
    /// (not owed back) — also when it was unknown: whatever the customer paid went with the order.
    pub fn carry_sale(&mut self, from: i64, to: i64) -> Result<(), BookError> {
        self.conn()
            .prepare_cached(
                "UPDATE orders SET sale_li = f.sale_li, customer = f.customer, \
                 sale_source = CASE WHEN f.sale_li IS NULL THEN NULL ELSE 'carried' END \
                 FROM (SELECT sale_li, customer FROM orders WHERE id = ?1) AS f WHERE orders.id = ?2",
            )?
            .execute(params![from, to])?;
        self.conn()
            .prepare_cached("UPDATE orders SET sale_source = 'moved' WHERE id = ?1")?
            .execute([from])?;
        Ok(())
    }
}
