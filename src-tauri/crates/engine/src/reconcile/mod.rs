//! Reconciliation (对账): does the provider's account of a day agree with the order book?
//!
//! Two sources, one comparison. **By API** ([`by_api`]) asks the provider again about every order of
//! the range it can still answer, through the engine ([`Engine::recheck`](crate::run::Engine::recheck)):
//! its rate limits, its rules for applying an answer. **By file** ([`by_file`]) reads the provider's
//! statement ([`statement`]) with the import's reader and column mapping. Both end in [`compare`], the
//! one rule that sorts each order into: matched; **state differs** (the dangerous one: the provider says
//! success and the book failed or unknown, or the reverse); amount differs; in the book only; in the
//! statement only (a charge the book does not have — a duplicate, a lost order). Lines are ranked
//! dangerous first.
//!
//! A reconciliation reports; it never decides. The API pass changes an order only as any query does
//! (a definite answer proven about a pending order settles it); a statement changes nothing. An order
//! whose final state the provider contradicts is flagged for a person (`attention`, with the run named)
//! — the same flag a contradicting callback raises — so that it can be resolved through the one
//! resolve path, with a note naming the reconciliation. Every run is kept ([`crate::book::ReconcileRun`]).

pub mod by_api;
pub mod export;
pub mod statement;

use crate::book::{now_ms, Book, BookError, Order, OrderState, RunCounts};
use crate::import::ImportError;
use crate::run::EngineError;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use topup_core::{Li, ProviderId};

pub use by_api::{by_api, Progress};
pub use statement::{BadRow, StatementField, StatementMapping};

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error(transparent)]
    Book(#[from] BookError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error("{0}")]
    Invalid(String),
}

impl ReconcileError {
    pub fn code(&self) -> &'static str {
        match self {
            ReconcileError::Book(e) => e.code(),
            ReconcileError::Engine(e) => e.code(),
            ReconcileError::Import(e) => e.code(),
            ReconcileError::Invalid(_) => "invalid",
        }
    }

    /// Whether the request or the file was at fault (exit code 2) rather than the run (1).
    pub fn is_usage(&self) -> bool {
        match self {
            ReconcileError::Import(e) => e.is_usage(),
            ReconcileError::Invalid(_) => true,
            _ => false,
        }
    }
}

/// Which time places an order in the range.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "lowercase")]
pub enum TimeBasis {
    /// When the order was placed (the book's `created_at`, the statement's 下单时间).
    #[default]
    Order,
    /// When it became final (`finished_at`, 完成时间). Orders not final have none.
    Finish,
}

impl TimeBasis {
    pub const fn as_str(self) -> &'static str {
        match self {
            TimeBasis::Order => "order",
            TimeBasis::Finish => "finish",
        }
    }
}

impl std::str::FromStr for TimeBasis {
    type Err = ReconcileError;
    fn from_str(s: &str) -> Result<TimeBasis, ReconcileError> {
        match s.trim() {
            "order" | "下单时间" => Ok(TimeBasis::Order),
            "finish" | "完成时间" => Ok(TimeBasis::Finish),
            other => Err(ReconcileError::Invalid(format!(
                "时间依据“{other}”无效（order 或 finish） / time basis “{other}” must be order or finish"
            ))),
        }
    }
}

/// What the provider says about an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ts_rs::TS, Deserialize)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum ProviderState {
    Succeeded,
    Failed,
    Pending,
    /// The provider has no such order (a query's "not found").
    NotFound,
}

/// The kinds of line, in the order they are shown (most dangerous first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, ts_rs::TS, Deserialize)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    StateDiffers,
    StatementOnly,
    AmountDiffers,
    BookOnly,
    /// The API pass got no definite answer (network, busy, not configured): not compared.
    Unanswered,
    /// Past the provider's query window: not asked.
    OutOfWindow,
    Matched,
}

/// One order of the comparison.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS, Deserialize)]
#[ts(export)]
#[ts(rename = "ReconcileLine")]
#[serde(rename_all = "camelCase")]
pub struct Line {
    pub kind: LineKind,
    /// Within a kind: 0 the most dangerous (success against failure), higher less.
    pub severity: u8,
    /// The book's order id (a string for JavaScript), when the book has the order.
    #[ts(type = "string | null")]
    #[serde(serialize_with = "opt_id_text", deserialize_with = "opt_id_from_text")]
    pub order_id: Option<i64>,
    pub merchant_order_id: Option<String>,
    pub provider_order_id: Option<String>,
    pub provider: Option<ProviderId>,
    pub account: Option<String>,
    pub book_state: Option<OrderState>,
    pub provider_state: Option<ProviderState>,
    pub book_face: Option<Li>,
    pub provider_face: Option<Li>,
    /// The book's cost and the provider's charge, when known (unknown is never 0).
    pub book_amount: Option<Li>,
    pub provider_amount: Option<Li>,
    /// The statement row, for a file.
    pub row: Option<u32>,
    /// The time the range was matched on (ms).
    pub time: Option<i64>,
    pub zh: String,
    pub en: String,
}

fn opt_id_from_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let text: Option<String> = Option::deserialize(d)?;
    text.map(|t| t.parse().map_err(serde::de::Error::custom)).transpose()
}

fn opt_id_text<S: serde::Serializer>(id: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match id {
        Some(id) => s.serialize_str(&id.to_string()),
        None => s.serialize_none(),
    }
}

/// `api` or `file`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[ts(rename = "ReconcileSource")]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Api,
    File,
}

/// What a reconciliation asks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// `[from, to)`, ms.
    pub from: i64,
    pub to: i64,
    pub basis: TimeBasis,
    /// One provider (a statement is always one provider's); `None`: every provider (API only).
    pub provider: Option<ProviderId>,
}

/// The result of a run.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct Reconciliation {
    #[ts(type = "string")]
    #[serde(serialize_with = "id_text")]
    pub run_id: i64,
    pub source: Source,
    pub provider: Option<ProviderId>,
    pub from: i64,
    pub to: i64,
    pub basis: TimeBasis,
    pub file_name: Option<String>,
    pub counts: RunCounts,
    /// Ranked: state differences first (most dangerous first), matched last.
    pub lines: Vec<Line>,
    /// Statement rows that could not be read, each naming row and column.
    pub bad_rows: Vec<BadRow>,
    /// Statement rows outside the range, not compared.
    pub outside_range: usize,
    pub cancelled: bool,
}

fn id_text<S: serde::Serializer>(id: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&id.to_string())
}

/// What the provider says about one order, from a query or a statement row.
#[derive(Clone, Debug, Default)]
pub struct Theirs {
    pub state: Option<ProviderState>,
    pub face: Option<Li>,
    pub amount: Option<Li>,
    pub provider_order_id: Option<String>,
    pub row: Option<u32>,
}

/// The book's side of a state: final success, final failure, or still open.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ours {
    Succeeded,
    Failed,
    Open,
    NotSent,
}

fn ours(state: OrderState) -> Ours {
    match state {
        OrderState::Succeeded => Ours::Succeeded,
        OrderState::Failed => Ours::Failed,
        OrderState::New => Ours::NotSent,
        _ => Ours::Open,
    }
}

/// The line for a line-less side: a statement row the book does not have.
pub fn statement_only(
    theirs: &Theirs,
    merchant_order_id: Option<String>,
    account: Option<String>,
    time: Option<i64>,
) -> Line {
    Line {
        kind: LineKind::StatementOnly,
        severity: u8::from(theirs.state != Some(ProviderState::Succeeded)),
        order_id: None,
        merchant_order_id,
        provider_order_id: theirs.provider_order_id.clone(),
        provider: None,
        account,
        book_state: None,
        provider_state: theirs.state,
        book_face: None,
        provider_face: theirs.face,
        book_amount: None,
        provider_amount: theirs.amount,
        row: theirs.row,
        time,
        zh: "账上没有此单，供应商有（重复扣款或丢单？）".into(),
        en: "the provider has this order, the book does not (a duplicate charge or a lost order?)".into(),
    }
}

/// The one comparison of an order with what the provider says about it.
pub fn compare(order: &Order, theirs: &Theirs, time: Option<i64>) -> Line {
    let mut line = Line {
        kind: LineKind::Matched,
        severity: 0,
        order_id: Some(order.id),
        merchant_order_id: Some(order.merchant_order_id.clone()),
        provider_order_id: order.provider_order_id.clone().or_else(|| theirs.provider_order_id.clone()),
        provider: Some(order.provider),
        account: Some(order.account.clone()),
        book_state: Some(order.state),
        provider_state: theirs.state,
        book_face: Some(order.face),
        provider_face: theirs.face,
        book_amount: order.cost,
        provider_amount: theirs.amount,
        row: theirs.row,
        time,
        zh: String::new(),
        en: String::new(),
    };
    let mut set = |kind, severity, zh: &str, en: &str| {
        line.kind = kind;
        line.severity = severity;
        line.zh = zh.to_owned();
        line.en = en.to_owned();
    };
    use ProviderState as P;
    match (theirs.state, ours(order.state)) {
        (None, _) => {
            set(LineKind::Unanswered, 0, "供应商没有确定答复", "no definite answer from the provider")
        }
        // Never sent, or definitely rejected: the provider not having it is what should be.
        (Some(P::NotFound), Ours::Failed | Ours::NotSent) => {}
        (Some(P::NotFound), _) => set(
            LineKind::BookOnly,
            u8::from(order.state != OrderState::Succeeded),
            "账上有此单，供应商查无此单",
            "in the book, but the provider has no such order",
        ),
        (Some(P::Succeeded), Ours::Failed) => set(
            LineKind::StateDiffers,
            0,
            "供应商：成功（已扣款）；账上：失败",
            "provider: succeeded (charged); book: failed",
        ),
        (Some(P::Failed), Ours::Succeeded) => set(
            LineKind::StateDiffers,
            0,
            "供应商：失败（已退款）；账上：成功",
            "provider: failed (refunded); book: succeeded",
        ),
        (Some(P::Succeeded), Ours::Open | Ours::NotSent) => set(
            LineKind::StateDiffers,
            1,
            "供应商：成功（已扣款）；账上：未确定",
            "provider: succeeded (charged); book: not final",
        ),
        (Some(P::Failed), Ours::Open | Ours::NotSent) => {
            set(LineKind::StateDiffers, 2, "供应商：失败；账上：未确定", "provider: failed; book: not final")
        }
        (Some(P::Pending), Ours::Succeeded | Ours::Failed) => set(
            LineKind::StateDiffers,
            2,
            "供应商：处理中；账上：已确定",
            "provider: still in progress; book: final",
        ),
        (Some(P::Pending), _) | (Some(P::Failed), Ours::Failed) => {}
        (Some(P::Succeeded), Ours::Succeeded) => {
            let face_differs = theirs.face.is_some_and(|f| f != order.face);
            let cost_differs = matches!((theirs.amount, order.cost), (Some(a), Some(b)) if a != b);
            if face_differs {
                set(LineKind::AmountDiffers, 0, "面值不符", "face value differs");
            } else if cost_differs {
                set(
                    LineKind::AmountDiffers,
                    1,
                    "扣款金额与账上成本不符",
                    "the charge differs from the book's cost",
                );
            }
        }
    }
    line
}

/// Ranks lines (dangerous first) and counts them.
pub fn rank(lines: &mut [Line]) -> RunCounts {
    lines.sort_by_key(|l| (l.kind, l.severity, l.time.unwrap_or(i64::MAX)));
    let mut c = RunCounts::default();
    for l in lines.iter() {
        let n = match l.kind {
            LineKind::StateDiffers => &mut c.state_differs,
            LineKind::StatementOnly => &mut c.statement_only,
            LineKind::AmountDiffers => &mut c.amount_differs,
            LineKind::BookOnly => &mut c.book_only,
            LineKind::Unanswered => &mut c.unanswered,
            LineKind::OutOfWindow => &mut c.out_of_window,
            LineKind::Matched => &mut c.matched,
        };
        *n += 1;
    }
    c
}

/// Starts a run in the book; returns its id.
fn start_run(book: &Book, req: &Request, source: Source, file_name: Option<&str>) -> Result<i64, BookError> {
    let source = match source {
        Source::Api => "api",
        Source::File => "file",
    };
    book.write(|tx| {
        tx.start_reconcile_run(
            now_ms(),
            (req.from, req.to),
            req.basis.as_str(),
            source,
            req.provider,
            file_name,
        )
    })
}

/// Ends a run: flags every order whose state the provider contradicts for a person (once, naming the
/// run), ranks the lines and stores the counts.
fn finish_run(
    book: &Book,
    run_id: i64,
    lines: &mut [Line],
    bad_rows: usize,
    cancelled: bool,
) -> Result<RunCounts, BookError> {
    let mut counts = rank(lines);
    counts.bad_rows = bad_rows as i64;
    book.write(|tx| {
        for l in lines.iter().filter(|l| l.kind == LineKind::StateDiffers) {
            let Some(id) = l.order_id else { continue };
            if tx.order(id)?.attention {
                continue;
            }
            tx.set_attention(
                id,
                true,
                &format!(
                    "对账 #{run_id}：{}，需人工核对 / reconciliation #{run_id}: {}; please check",
                    l.zh, l.en
                ),
            )?;
        }
        tx.finish_reconcile_run(run_id, now_ms(), &counts, cancelled)
    })?;
    Ok(counts)
}

/// Reconciles the book with a provider's statement (see the module docs). Nothing is sent anywhere.
pub fn by_file(
    book: &Book,
    req: &Request,
    file: &crate::import::SourceFile,
    sheet: Option<&str>,
    mappings: &[StatementMapping],
) -> Result<Reconciliation, ReconcileError> {
    let Some(provider) = req.provider else {
        return Err(ReconcileError::Invalid(
            "请指定对账单所属的供应商 / name the provider the statement is from".into(),
        ));
    };
    let statement = statement::read(file, sheet, mappings)?;
    let run_id = start_run(book, req, Source::File, Some(&file.file_name))?;
    let finish = req.basis == TimeBasis::Finish;
    let in_book: Vec<Order> = book
        .order_ids_between(finish, req.from, req.to, Some(provider))?
        .into_iter()
        .map(|id| book.order(id))
        .collect::<Result<_, _>>()?;
    let by_provider_id: HashMap<&str, &Order> =
        in_book.iter().filter_map(|o| Some((o.provider_order_id.as_deref()?, o))).collect();
    let time_of = |o: &Order| if finish { o.finished_at } else { Some(o.created_at) };
    let mut lines = Vec::new();
    let mut seen: HashSet<i64> = HashSet::new();
    let mut outside_range = 0;
    for r in &statement.rows {
        let t = if finish { r.finish_time } else { r.order_time };
        if t.is_some_and(|t| t < req.from || t >= req.to) {
            outside_range += 1;
            continue;
        }
        let theirs = Theirs {
            state: Some(r.state),
            face: r.face,
            amount: r.amount,
            provider_order_id: r.provider_order_id.clone(),
            row: Some(r.row),
        };
        // By our id anywhere in the book (an order of the day before may finish in this one), else by
        // the provider's id among the range's orders.
        let order = match &r.order_id {
            Some(id) => book.order_by_merchant_id(id)?.filter(|o| o.provider == provider),
            None => r.provider_order_id.as_deref().and_then(|p| by_provider_id.get(p)).map(|o| (*o).clone()),
        };
        match order {
            Some(o) if seen.insert(o.id) => lines.push(compare(&o, &theirs, t.or(time_of(&o)))),
            Some(o) => {
                // The same order twice in the statement: a second charge for it.
                let mut l = statement_only(&theirs, Some(o.merchant_order_id.clone()), r.account.clone(), t);
                l.order_id = Some(o.id);
                l.provider = Some(provider);
                l.zh = "对账单中重复出现（同一订单被扣款两次？）".into();
                l.en = "listed twice in the statement (the same order charged twice?)".into();
                lines.push(l);
            }
            None => {
                let mut l = statement_only(&theirs, r.order_id.clone(), r.account.clone(), t);
                l.provider = Some(provider);
                lines.push(l);
            }
        }
    }
    for o in in_book.iter().filter(|o| !seen.contains(&o.id)) {
        // Not in the statement: fine for an order never sent or definitely rejected.
        let theirs = Theirs { state: Some(ProviderState::NotFound), ..Theirs::default() };
        let mut l = compare(o, &theirs, time_of(o));
        if l.kind == LineKind::BookOnly {
            l.zh = "账上有此单，对账单中没有".into();
            l.en = "in the book, not in the statement".into();
            lines.push(l);
        }
    }
    let counts = finish_run(book, run_id, &mut lines, statement.bad_rows.len(), false)?;
    Ok(Reconciliation {
        run_id,
        source: Source::File,
        provider: Some(provider),
        from: req.from,
        to: req.to,
        basis: req.basis,
        file_name: Some(file.file_name.clone()),
        counts,
        lines,
        bad_rows: statement.bad_rows,
        outside_range,
        cancelled: false,
    })
}

/// `[local midnight of from, local midnight after to)` for days `yyyy-MM-dd`.
pub fn day_range(from: &str, to: &str) -> Result<(i64, i64), ReconcileError> {
    let day = |d: &str| {
        statement::parse_local_time(d).filter(|_| d.trim().len() == 10).ok_or_else(|| {
            ReconcileError::Invalid(format!(
                "日期“{d}”无效（应为 2026-12-04） / date “{d}” is not valid (2026-12-04)"
            ))
        })
    };
    let (a, b) = (day(from)?, day(to)?);
    if b < a {
        return Err(ReconcileError::Invalid(format!(
            "结束日期 {to} 早于开始日期 {from} / the end date {to} is before the start date {from}"
        )));
    }
    Ok((a, b + 86_400_000))
}
