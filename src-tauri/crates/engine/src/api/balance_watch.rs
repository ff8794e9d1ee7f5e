//! The balance drift watch: every balance read is kept, and the change between two consecutive reads
//! of one provider account is compared with what the order book explains.
//!
//! # Why
//! A charge the book does not know about — a duplicate, an order lost between our send and the
//! provider's reply, a provider's mistake — shows nowhere else: the order list only holds what we sent.
//! The provider's balance is the one figure it cannot keep from us.
//!
//! # When money moves (from the provider documents, `shared/provider-docs`)
//! * **Charged on acceptance.** Every provider takes the price when it accepts an order (dingyin
//!   `resultno` 0 "等待充值", oper `code` 200, juhe `error_code` 0; the simulator does the same). A
//!   definite rejection at submit (dingyin 5001–5012, oper 400 without a duplicate hint, juhe's
//!   "rejected" codes) is "definitely not charged" (README, money rules).
//! * **Refunded on failure.** A failure after acceptance returns the money (dingyin `resultno` 9
//!   "failed and refunded", oper `statusId` 9 "退回", juhe `game_state` 9 "failed (refunded)"), at the
//!   moment the provider settles the order.
//!
//! # Which times of the book say so
//! All times are this machine's clock (never the provider's): a balance read has `asked_at` (request
//! left) and `read_at` (reply arrived); the balance is of some moment `m` in between. For an order:
//! `S` = `submitted_at`, committed just before its first request left, so it is charged at or after
//! `S`; `A` = the first stored `accepted`/`succeeded` state event, after the charge; `F` =
//! `finished_at`, after any refund.
//!
//! | order (book) | charged | refunded |
//! |---|---|---|
//! | accepted, succeeded | yes, in `[S, A]` | no |
//! | failed, was accepted | yes, in `[S, A]` | yes, in `[S, F]` |
//! | failed, was unknown / manual review, never accepted | maybe, in `[S, F]` | maybe (the same) |
//! | failed straight from submitting (definite rejection) | no | no |
//! | submitting, unknown, manual review (never accepted) | maybe, at or after `S` | maybe, later |
//! | manual review after being accepted | yes, in `[S, A]` | maybe, at or after `S` |
//! | new (never sent, or "definitely not placed") | no, unless it was ever unknown: maybe | — |
//!
//! The amount is the provider's price when it said it (`cost`), else the estimate of
//! [`crate::import::estimated_cost`] (oper never says its price: correct the table to your discount),
//! and the order is marked `estimatedCost`.
//!
//! # The rule (no false alarm from a race, no real charge hidden)
//! A move at time `x ∈ [lo, hi]` is surely inside the window between reads `r0` and `r1` when
//! `lo > r0.read_at` and `hi < r1.asked_at`, surely outside when `hi < r0.asked_at` or
//! `lo > r1.read_at`, and *maybe* otherwise. Each order then adds an exact amount or a range
//! (`[-cost, 0]` for a charge that may fall in the window, `[0, cost]` for a refund), and the window's
//! expected change is the range `[lo, hi]`. With the observed change `d` and the tolerance `t`
//! ([`crate::config::EngineSettings::balance_drift_tolerance_li`]):
//! * `d < lo - t`: **drift**, at once, even with orders in flight — no order the book holds, charged
//!   at any moment it could have been, explains that much money gone. Amount `lo - d`.
//! * `d > hi + t`: money came in that no refund explains: a **deposit** (the reseller topped up) of at
//!   least `d - hi`, which the user confirms.
//! * otherwise, with every order of the window exact: **ok**; with some in flight: **pending** — not
//!   judged yet. Each read judges the recent windows again, so a pending window whose orders settle
//!   becomes ok or drift then; a real charge is never hidden by a race, only judged when it can be.
//!
//! oper's balance reply names its last ledger entry (`paymentDetailId`, record, time); it is kept with
//! the read and shown with the window.

use super::balances::BalanceRow;
use crate::book::{BalanceRead, Book, BookError, ChargeFacts, NewBalanceRead, OrderState};
use crate::run::Engine;
use serde::Serialize;
use topup_core::{Li, ProviderId};

/// What the watch says about one window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Explained by the orders, within the tolerance.
    Ok,
    /// Orders in flight could still explain it: judged once they settle.
    Pending,
    /// More money gone than any order of the book explains.
    Drift,
    /// More money came in than refunds explain: a deposit.
    Deposit,
}

/// How an order of a window moved the balance in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct WindowOrder {
    #[serde(flatten)]
    pub facts: ChargeFacts,
    /// The amount charged or refunded: the provider's price, or the estimate.
    pub amount: Li,
    pub estimated_cost: bool,
    /// Its effect on the window's balance change: exact when `low == high`.
    pub low: Li,
    pub high: Li,
}

/// The change between two consecutive reads of one provider account, judged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct Window {
    pub provider: ProviderId,
    pub from: BalanceRead,
    /// The later read: the window's identity (`to.id`).
    pub to: BalanceRead,
    /// `to.balance - from.balance`.
    pub observed: Li,
    /// The range the orders explain.
    pub expected_low: Li,
    pub expected_high: Li,
    /// Exact charges and refunds of the window (positive amounts).
    pub spend: Li,
    pub refunds: Li,
    /// Every order's effect is exact.
    pub settled: bool,
    pub verdict: Verdict,
    /// Drift: money gone beyond the range (`expected_low - observed`); deposit: money come in beyond
    /// it (`observed - expected_high`, a lower bound while not settled); else 0.
    pub unexplained: Li,
    /// The orders that moved or may have moved money in the window.
    pub orders: Vec<WindowOrder>,
}

/// A move that happens at some time in `[lo, hi]` (`hi` `None`: not yet known, any time after `lo`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Move {
    No,
    Surely(i64, Option<i64>),
    Maybe(i64, Option<i64>),
}

/// Where a move falls against the window between reads `r0` and `r1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    Inside,
    Outside,
    Maybe,
}

fn place(lo: i64, hi: Option<i64>, r0: &BalanceRead, r1: &BalanceRead) -> Place {
    let hi_before_r0 = hi.is_some_and(|h| h < r0.asked_at);
    if hi_before_r0 || lo > r1.read_at {
        Place::Outside
    } else if lo > r0.read_at && hi.is_some_and(|h| h < r1.asked_at) {
        Place::Inside
    } else {
        Place::Maybe
    }
}

/// The charge and the refund of an order, per the table of the module doc.
fn moves(o: &ChargeFacts) -> (Move, Move) {
    let Some(s) = o.submitted_at else { return (Move::No, Move::No) };
    let taken = o.taken_at;
    match o.state {
        OrderState::Accepted | OrderState::Succeeded => {
            (Move::Surely(s, Some(taken.or(o.finished_at).unwrap_or(s))), Move::No)
        }
        OrderState::Failed => match taken {
            Some(a) => (Move::Surely(s, Some(a)), Move::Surely(s, o.finished_at)),
            None if o.was_uncertain => (Move::Maybe(s, o.finished_at), Move::Maybe(s, o.finished_at)),
            None => (Move::No, Move::No),
        },
        OrderState::ManualReview => match taken {
            Some(a) => (Move::Surely(s, Some(a)), Move::Maybe(s, None)),
            None => (Move::Maybe(s, None), Move::Maybe(s, None)),
        },
        OrderState::Submitting | OrderState::Unknown => (Move::Maybe(s, None), Move::Maybe(s, None)),
        OrderState::New if o.was_uncertain => (Move::Maybe(s, None), Move::Maybe(s, None)),
        OrderState::New => (Move::No, Move::No),
    }
}

/// The effect of one move of `amount` (negative for a charge) on the window: `(low, high)`.
fn effect(m: Move, amount: i64, r0: &BalanceRead, r1: &BalanceRead) -> (i64, i64) {
    let (surely, lo, hi) = match m {
        Move::No => return (0, 0),
        Move::Surely(lo, hi) => (true, lo, hi),
        Move::Maybe(lo, hi) => (false, lo, hi),
    };
    match place(lo, hi, r0, r1) {
        Place::Outside => (0, 0),
        Place::Inside if surely => (amount, amount),
        _ => (amount.min(0), amount.max(0)),
    }
}

/// Judges the window between two consecutive reads with the orders that may fall in it.
pub fn judge(from: BalanceRead, to: BalanceRead, facts: Vec<ChargeFacts>, tolerance: Li) -> Window {
    let (mut low, mut high, mut spend, mut refunds) = (0i64, 0i64, 0i64, 0i64);
    let mut orders = Vec::new();
    for f in facts {
        let (cost, estimated_cost) = match f.cost {
            Some(c) => (c, false),
            None => (crate::import::estimated_cost(to.provider, f.face), true),
        };
        let (charge, refund) = moves(&f);
        let (c_lo, c_hi) = effect(charge, -cost.0, &from, &to);
        let (r_lo, r_hi) = effect(refund, cost.0, &from, &to);
        if (c_lo, c_hi, r_lo, r_hi) == (0, 0, 0, 0) {
            continue;
        }
        if c_lo == c_hi {
            spend -= c_lo;
        }
        if r_lo == r_hi {
            refunds += r_lo;
        }
        low += c_lo + r_lo;
        high += c_hi + r_hi;
        orders.push(WindowOrder {
            facts: f,
            amount: cost,
            estimated_cost,
            low: Li(c_lo + r_lo),
            high: Li(c_hi + r_hi),
        });
    }
    let observed = to.balance.0 - from.balance.0;
    let settled = low == high;
    let t = tolerance.0.max(0);
    let (verdict, unexplained) = if observed < low - t {
        (Verdict::Drift, low - observed)
    } else if observed > high + t {
        (Verdict::Deposit, observed - high)
    } else if settled {
        (Verdict::Ok, 0)
    } else {
        (Verdict::Pending, 0)
    };
    Window {
        provider: to.provider,
        from,
        to,
        observed: Li(observed),
        expected_low: Li(low),
        expected_high: Li(high),
        spend: Li(spend),
        refunds: Li(refunds),
        settled,
        verdict,
        unexplained: Li(unexplained),
        orders,
    }
}

/// How many reads a pending window may be stretched over ([`windows`]).
const MAX_SPAN: usize = 64;

/// The windows between consecutive reads of `provider` whose later read is in `[from, to)`, judged.
///
/// A window is not cut at a read that the moment of a settled order straddles (the order was charged
/// somewhere between its send and the stored acceptance, across that read): it is stretched over the
/// next reads until the moment falls inside, and the span is judged exactly — so a charge hidden
/// behind an in-flight order is found once that order settles, even when the windows around it were
/// judged apart while it was in flight. An order whose outcome is still unknown stops the stretching
/// (the window stays pending, never judged by a guess).
pub fn windows(
    book: &Book,
    provider: ProviderId,
    from: i64,
    to: i64,
    tolerance: Li,
) -> Result<Vec<Window>, BookError> {
    let reads = book.balance_reads(provider, from, to)?;
    let judged = |i: usize, j: usize| -> Result<Window, BookError> {
        let (r0, r1) = (&reads[i], &reads[j]);
        let facts = book.window_orders(provider, r0.asked_at, r1.read_at)?;
        Ok(judge(r0.clone(), r1.clone(), facts, tolerance))
    };
    let mut out = Vec::with_capacity(reads.len());
    let mut i = 0;
    while i + 1 < reads.len() {
        let mut j = i + 1;
        let mut w = judged(i, j)?;
        while (w.verdict == Verdict::Pending || straddles_end(&w))
            && j + 1 < reads.len()
            && j - i < MAX_SPAN
            && all_known(&w)
        {
            j += 1;
            w = judged(i, j)?;
        }
        out.push(w);
        i = j;
    }
    Ok(out)
}

/// Whether an order's known move may fall after the window's end read (its moment straddles it).
fn straddles_end(w: &Window) -> bool {
    w.orders.iter().any(|o| {
        let (charge, refund) = moves(&o.facts);
        [charge, refund].iter().any(|m| match *m {
            Move::Surely(lo, Some(hi)) | Move::Maybe(lo, Some(hi)) => {
                lo <= w.to.read_at && hi >= w.to.asked_at
            }
            _ => false,
        })
    })
}

/// Whether every order of the window has a known outcome (its moves have an end).
fn all_known(w: &Window) -> bool {
    w.orders.iter().all(|o| {
        let (charge, refund) = moves(&o.facts);
        [charge, refund].iter().all(|m| !matches!(m, Move::Surely(_, None) | Move::Maybe(_, None)))
    })
}

/// Reads a provider's balance now and keeps the read (`source`: who asked). Every balance read of the
/// product goes through here, so that none is lost to the watch.
pub async fn read(engine: &Engine, provider: ProviderId, source: &str) -> BalanceRow {
    let settings = engine.settings();
    let low_threshold = settings.low_balance.get(provider.as_str()).copied().map(Li);
    let asked_at = crate::book::now_ms();
    let (balance, error) = match engine.provider(provider) {
        None => (None, Some(format!("{} 未配置 / not configured", provider.label_zh()))),
        Some(client) => match client.balance().await.0 {
            Ok(b) => {
                let read_at = crate::book::now_ms();
                let new = NewBalanceRead {
                    provider,
                    asked_at,
                    read_at,
                    balance: b.amount,
                    ledger: b.ledger.as_ref(),
                    source,
                };
                if let Err(e) = engine.book().write(|tx| tx.add_balance_read(&new)) {
                    tracing::warn!(error = %e, %provider, "could not keep a balance read");
                }
                (Some(b.amount), None)
            }
            Err(e) => (None, Some(crate::redact::text(&e.to_string()).into_owned())),
        },
    };
    let low = matches!((balance, low_threshold), (Some(b), Some(t)) if b < t);
    BalanceRow {
        provider,
        balance,
        error,
        read_at: crate::book::now_ms(),
        sandbox: engine.sandbox(),
        low_threshold,
        low,
    }
}

/// How far back the watch looks for windows to show (and to notify): two days.
pub const ALERT_LOOKBACK_MS: i64 = 2 * 24 * 3600 * 1000;

/// What the banner shows: the drifts and deposits nobody has looked at, and how many windows are
/// still pending, over the last [`ALERT_LOOKBACK_MS`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct BalanceAlerts {
    pub drifts: Vec<Window>,
    pub deposits: Vec<Window>,
    pub pending: i64,
}

pub fn alerts(book: &Book, tolerance: Li, now: i64) -> Result<BalanceAlerts, BookError> {
    let mut out = BalanceAlerts::default();
    for p in ProviderId::ALL {
        for w in windows(book, p, now - ALERT_LOOKBACK_MS, i64::MAX, tolerance)? {
            let open = w.to.resolved_at.is_none();
            match w.verdict {
                Verdict::Drift if open => out.drifts.push(w),
                Verdict::Deposit if open => out.deposits.push(w),
                Verdict::Pending => out.pending += 1,
                _ => {}
            }
        }
    }
    Ok(out)
}

/// Records the user's word on the window ending at read `read_id`: a deposit confirmed (its amount
/// as judged now), or a drift looked at (`note` says what was found).
pub fn confirm(book: &Book, read_id: i64, note: &str, tolerance: Li) -> Result<Window, BookError> {
    let read = book.balance_read(read_id)?;
    let window = windows(book, read.provider, read.read_at, read.read_at + 1, tolerance)?
        .into_iter()
        .find(|w| w.to.id == read_id)
        .ok_or_else(|| {
            BookError::NoSuch(crate::msg!("找不到余额窗口 {read_id}", "no balance window {read_id}"))
        })?;
    let amount = (window.verdict == Verdict::Deposit).then_some(window.unexplained);
    book.write(|tx| tx.resolve_balance_window(read_id, crate::book::now_ms(), amount, note))?;
    Ok(window)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(id: i64, asked_at: i64, read_at: i64, balance: i64) -> BalanceRead {
        BalanceRead {
            id,
            provider: ProviderId::Juhe,
            asked_at,
            read_at,
            balance: Li(balance),
            ledger: None,
            source: "test".into(),
            notified_at: None,
            resolved_at: None,
            resolved: None,
            resolved_note: None,
        }
    }

    fn order(state: OrderState, sent: i64, taken: Option<i64>, finished: Option<i64>) -> ChargeFacts {
        ChargeFacts {
            id: 1,
            merchant_order_id: "M1".into(),
            account: "13800000000".into(),
            state,
            face: Li(10_000),
            cost: Some(Li(9_900)),
            submitted_at: Some(sent),
            taken_at: taken,
            was_uncertain: taken.is_none(),
            finished_at: finished,
        }
    }

    const T: Li = Li(0);

    /// Reads at 100–110 and 200–210 (asked–answered): the balance is of some moment in each.
    fn judged(observed: i64, orders: Vec<ChargeFacts>) -> Window {
        judge(read(1, 100, 110, 1_000_000), read(2, 200, 210, 1_000_000 + observed), orders, T)
    }

    #[test]
    fn an_order_charged_between_the_reads_is_exact() {
        let w = judged(-9_900, vec![order(OrderState::Succeeded, 120, Some(130), Some(150))]);
        assert_eq!((w.verdict, w.expected_low, w.expected_high), (Verdict::Ok, Li(-9_900), Li(-9_900)));
        let w = judged(-9_901, vec![order(OrderState::Succeeded, 120, Some(130), Some(150))]);
        assert_eq!((w.verdict, w.unexplained), (Verdict::Drift, Li(1)), "one li beyond a zero tolerance");
    }

    /// An order sent while the first balance request was in flight may or may not be in it: either
    /// observed change is fine, neither is an alarm; only more than its cost is.
    #[test]
    fn an_order_racing_a_balance_read_is_no_alarm_either_way() {
        for sent in [95, 105] {
            let o = order(OrderState::Succeeded, sent, Some(130), Some(150));
            assert_eq!(judged(0, vec![o.clone()]).verdict, Verdict::Pending, "sent {sent}, not in it");
            assert_eq!(judged(-9_900, vec![o.clone()]).verdict, Verdict::Pending, "sent {sent}, in it");
            assert_eq!(judged(-9_901, vec![o]).verdict, Verdict::Drift);
        }
        // Taken while the second read was in flight.
        let o = order(OrderState::Succeeded, 150, Some(205), Some(205));
        assert_eq!(judged(0, vec![o.clone()]).verdict, Verdict::Pending);
        assert_eq!(judged(-9_900, vec![o]).verdict, Verdict::Pending);
    }

    #[test]
    fn orders_outside_the_window_do_not_count() {
        let before = order(OrderState::Succeeded, 10, Some(20), Some(30));
        let after = order(OrderState::Succeeded, 220, Some(230), Some(240));
        let w = judged(0, vec![before, after]);
        assert_eq!((w.verdict, w.orders.len()), (Verdict::Ok, 0));
    }

    #[test]
    fn an_unknown_order_may_be_charged_or_refunded_until_it_settles() {
        let o = order(OrderState::Unknown, 120, None, None);
        for observed in [-9_900, 0, 9_900] {
            assert_eq!(judged(observed, vec![o.clone()]).verdict, Verdict::Pending, "{observed}");
        }
        assert_eq!(judged(-9_901, vec![o.clone()]).verdict, Verdict::Drift);
        assert_eq!(judged(9_901, vec![o]).verdict, Verdict::Deposit);
    }

    #[test]
    fn a_failure_inside_the_window_nets_to_zero_and_one_across_a_read_is_either() {
        let w = judged(0, vec![order(OrderState::Failed, 120, Some(130), Some(150))]);
        assert_eq!((w.verdict, w.spend, w.refunds), (Verdict::Ok, Li(9_900), Li(9_900)));
        // Charged before the window, failed during it: the provider may have refunded it before the
        // first read (a refund can come before the book stores the acceptance), so a rise of the
        // refund and no change are both explained, a deposit is only more than that.
        let o = order(OrderState::Failed, 50, Some(60), Some(150));
        assert_eq!(judged(9_900, vec![o.clone()]).verdict, Verdict::Pending);
        assert_eq!(judged(0, vec![o.clone()]).verdict, Verdict::Pending);
        assert_eq!(judged(9_901, vec![o]).verdict, Verdict::Deposit);
        // A definite rejection at submit: never charged.
        let mut rejected = order(OrderState::Failed, 120, None, Some(125));
        rejected.was_uncertain = false;
        assert_eq!(judged(-9_900, vec![rejected]).verdict, Verdict::Drift);
    }

    #[test]
    fn an_unknown_cost_uses_the_estimate_and_says_so() {
        let mut o = order(OrderState::Succeeded, 120, Some(130), Some(150));
        o.cost = None;
        let estimate = crate::import::estimated_cost(ProviderId::Juhe, Li(10_000));
        let w = judged(-estimate.0, vec![o]);
        assert_eq!(w.verdict, Verdict::Ok);
        assert!(w.orders[0].estimated_cost);
    }
}
