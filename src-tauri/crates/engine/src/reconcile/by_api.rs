//! The API pass: every order of the range asked about again, through the engine.
//!
//! Why this shape: a day can hold thousands of orders and the provider counts every request, so the
//! pass keeps a few requests going (the provider's own [`Limits`](crate::run::limits::Limits) decide
//! how many really leave, and when), reports progress after each answer, and can be cancelled — it
//! then stops starting requests but waits for the ones in flight, whose answers are stored as always
//! (a reply is never abandoned). Orders past the provider's query window are not asked: it can no
//! longer answer, and a "not found" then would prove nothing.

use super::{
    compare, finish_run, start_run, LineKind, ProviderState, ReconcileError, Reconciliation, Request, Source,
    Theirs, TimeBasis,
};
use crate::run::{Engine, Recheck};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use topup_providers::Verdict;

/// How many orders are being asked about at once; the provider's limits hold the requests to its
/// concurrency and rate whatever this is.
const ASK_AT_ONCE: usize = 16;

/// How far the pass is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[ts(rename = "ReconcileProgress")]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    #[ts(type = "string")]
    #[serde(serialize_with = "super::id_text")]
    pub run_id: i64,
    pub done: usize,
    pub total: usize,
}

/// What the provider said, as a reconciliation reads it.
fn theirs(answer: &Recheck) -> Result<Theirs, (LineKind, &'static str, &'static str)> {
    let reply = match answer {
        Recheck::Answered(r) => r,
        Recheck::OutOfWindow => {
            return Err((
                LineKind::OutOfWindow,
                "已超过供应商可查询期限，未查询",
                "past the provider's query window: not asked",
            ))
        }
        Recheck::NoProvider => {
            return Err((LineKind::Unanswered, "供应商未配置，未查询", "provider not configured: not asked"))
        }
        Recheck::InFlight | Recheck::NotSent => {
            return Err((
                LineKind::Unanswered,
                "订单正在提交或查询中，未重复查询",
                "being sent or queried right now: not asked twice",
            ))
        }
    };
    let state = match reply.verdict {
        Verdict::Succeeded => ProviderState::Succeeded,
        Verdict::Failed => ProviderState::Failed,
        Verdict::Accepted => ProviderState::Pending,
        Verdict::Unknown if reply.not_found => ProviderState::NotFound,
        Verdict::Unknown => {
            return Err((LineKind::Unanswered, "供应商没有确定答复", "no definite answer from the provider"))
        }
    };
    Ok(Theirs {
        state: Some(state),
        face: None,
        amount: reply.cost,
        provider_order_id: reply.provider_order_id.clone(),
        row: None,
    })
}

/// Asks again about every order of `req`'s range (one provider, or all) and compares (see the module
/// docs). `progress` is called after each answer; setting `cancel` stops the pass early.
pub async fn by_api(
    engine: &Arc<Engine>,
    req: &Request,
    progress: &(dyn Fn(Progress) + Send + Sync),
    cancel: &AtomicBool,
) -> Result<Reconciliation, ReconcileError> {
    let book = engine.book().clone();
    let finish = req.basis == TimeBasis::Finish;
    let ids = book.order_ids_between(finish, req.from, req.to, req.provider)?;
    let run_id = start_run(&book, req, Source::Api, None)?;
    let total = ids.len();
    progress(Progress { run_id, done: 0, total });
    let mut pending = ids.into_iter();
    let mut asking = tokio::task::JoinSet::new();
    let mut lines = Vec::new();
    let mut done = 0;
    let mut cancelled = false;
    loop {
        while asking.len() < ASK_AT_ONCE && !cancelled {
            if cancel.load(Ordering::Relaxed) {
                cancelled = true;
                break;
            }
            let Some(id) = pending.next() else { break };
            let e = engine.clone();
            asking.spawn(async move { (id, e.recheck(id).await) });
        }
        let Some(joined) = asking.join_next().await else { break };
        let (id, answer) =
            joined.map_err(|e| ReconcileError::Invalid(format!("内部错误 / internal error: {e}")))?;
        let answer = answer?;
        done += 1;
        progress(Progress { run_id, done, total });
        if matches!(answer, Recheck::NotSent) {
            continue;
        }
        // The order as it stands after the answer was applied.
        let order = book.order(id)?;
        let time = if finish { order.finished_at } else { Some(order.created_at) };
        let line = match theirs(&answer) {
            Ok(t) => compare(&order, &t, time),
            Err((kind, zh, en)) => {
                let mut l = compare(&order, &Theirs::default(), time);
                l.kind = kind;
                l.zh = zh.into();
                l.en = en.into();
                l
            }
        };
        lines.push(line);
    }
    let counts = finish_run(&book, run_id, &mut lines, 0, cancelled)?;
    Ok(Reconciliation {
        run_id,
        source: Source::Api,
        provider: req.provider,
        from: req.from,
        to: req.to,
        basis: req.basis,
        file_name: None,
        counts,
        lines,
        bad_rows: Vec::new(),
        outside_range: 0,
        cancelled,
    })
}
