//! `topup-desk balance`: read each provider's balance (kept in the balance history like every read),
//! show the history with the drift watch's judgment (`--history`), the daily statement
//! (`--statement --day YYYY-MM-DD`), and confirm a deposit or a looked-at drift (`--confirm READ_ID`).
//!
//! Exit codes: 0 done, 1 a balance could not be read, or `--history` shows an open drift (a script
//! can alarm on it), 2 bad usage.

use crate::cli_out::{emit, fail, open, with_engine, FAILED, USAGE};
use clap::Args;
use serde_json::json;
use std::path::Path;
use std::process::ExitCode;
use topup_engine::api::balance_statement;
use topup_engine::api::balance_watch::{self, Verdict};
use topup_engine::config::EngineSettings;
use topup_engine::{Li, ProviderId};

#[derive(Args, Debug)]
pub struct BalanceArgs {
    #[arg(long)]
    json: bool,
    /// 余额历史与漂移判断（不读取余额） / the balance history, judged (reads nothing)
    #[arg(long, conflicts_with_all = ["statement", "confirm"])]
    history: bool,
    /// 日对账单（不读取余额） / the daily statement (reads nothing)
    #[arg(long, conflicts_with = "confirm")]
    statement: bool,
    /// 日期 YYYY-MM-DD（本地时间，默认今天） / day, local time (default today)
    #[arg(long, value_name = "YYYY-MM-DD")]
    day: Option<String>,
    /// 只看这个供应商 / only this provider
    #[arg(long)]
    provider: Option<String>,
    /// 确认该余额记录结束的窗口：充值到账，或已查看的漂移 / confirm the window ending at this read: a
    /// deposit, or a drift looked at
    #[arg(long, value_name = "READ_ID")]
    confirm: Option<i64>,
    /// 确认说明 / what was found
    #[arg(long, default_value = "")]
    note: String,
}

pub fn balance(args: BalanceArgs, data_dir: Option<&Path>) -> ExitCode {
    let (dir, book) = match open(data_dir) {
        Ok(v) => v,
        Err(c) => return c,
    };
    let providers = match args
        .provider
        .as_deref()
        .map(|p| p.parse::<ProviderId>().map_err(|e| fail(USAGE, e)))
        .transpose()
    {
        Ok(p) => p.map_or_else(|| ProviderId::ALL.to_vec(), |p| vec![p]),
        Err(c) => return c,
    };
    let tolerance = match EngineSettings::load(&book) {
        Ok(s) => Li(s.balance_drift_tolerance_li),
        Err(e) => return fail(USAGE, e),
    };
    let offset = balance_statement::local_offset();
    let day = args.day.clone().unwrap_or_else(|| balance_statement::today(offset));
    if let Some(read_id) = args.confirm {
        return match balance_watch::confirm(&book, read_id, &args.note, tolerance) {
            Ok(w) if args.json => {
                emit(true, &w, |_| {});
                ExitCode::SUCCESS
            }
            Ok(w) => {
                println!("已确认 / confirmed\t{}\t{:?}\t{} 元", w.provider, w.verdict, w.unexplained);
                ExitCode::SUCCESS
            }
            Err(e) => fail(if e.code() == "not_found" { USAGE } else { FAILED }, e),
        };
    }
    let view = View { book: &book, providers: &providers, day: &day, offset, tolerance, json_out: args.json };
    if args.statement {
        return statement(&view);
    }
    if args.history {
        return history(&view);
    }
    let json_out = args.json;
    with_engine(&dir, book, |engine| async move {
        let mut rows = Vec::new();
        for id in engine.providers().into_iter().filter(|p| providers.contains(p)) {
            rows.push(balance_watch::read(&engine, id, "cli").await);
        }
        // The window's rows; `balanceLi` repeats `balance` (li) under the name older scripts read.
        let shown: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                let mut v = serde_json::to_value(r).unwrap_or_default();
                if let Some(b) = r.balance {
                    v["balanceLi"] = json!(b.0);
                }
                v
            })
            .collect();
        emit(json_out, &shown, |_| {
            for r in &rows {
                match (r.balance, &r.error) {
                    (Some(b), _) => {
                        println!("{}\t{b} 元{}", r.provider, if r.low { "（余额不足 / low）" } else { "" })
                    }
                    (None, e) => {
                        println!("{}\t错误 / error: {}", r.provider, e.as_deref().unwrap_or_default())
                    }
                }
            }
        });
        if rows.iter().any(|r| r.error.is_some()) {
            return Err(ExitCode::from(FAILED));
        }
        Ok(())
    })
}

/// What `--statement` and `--history` look at.
struct View<'a> {
    book: &'a topup_engine::book::Book,
    providers: &'a [ProviderId],
    day: &'a str,
    offset: balance_statement::UtcOffset,
    tolerance: Li,
    json_out: bool,
}

fn statement(v: &View<'_>) -> ExitCode {
    let View { book, providers, day, offset, tolerance, json_out } = *v;
    let mut out = Vec::new();
    for p in providers {
        match balance_statement::statement(book, *p, day, offset, tolerance) {
            Ok(s) => out.push(s),
            Err(e) => return fail(USAGE, e),
        }
    }
    if json_out {
        emit(true, &out, |_| {});
        return ExitCode::SUCCESS;
    }
    let yuan = |l: Option<Li>| l.map_or_else(|| "—".to_owned(), |l| l.to_string());
    println!("{day}\t期初/opening\t充值/deposits\t支出/spend\t退款/refunds\t期末/closing\t应为/expected\t差额/difference\t在途/in flight");
    for s in &out {
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}..{}",
            s.provider,
            yuan(s.opening),
            s.deposits,
            s.spend,
            s.refunds,
            yuan(s.closing),
            yuan(s.expected_closing),
            yuan(s.difference),
            s.in_flight_low,
            s.in_flight_high
        );
    }
    ExitCode::SUCCESS
}

fn history(v: &View<'_>) -> ExitCode {
    let View { book, providers, day, offset, tolerance, json_out } = *v;
    let (from, to) = match balance_statement::day_range(day, offset) {
        Ok(r) => r,
        Err(e) => return fail(USAGE, e),
    };
    let mut all = Vec::new();
    for p in providers {
        match balance_watch::windows(book, *p, from, to, tolerance) {
            Ok(ws) => all.extend(ws),
            Err(e) => return fail(FAILED, e),
        }
    }
    let open_drift = all.iter().any(|w| w.verdict == Verdict::Drift && w.to.resolved_at.is_none());
    if json_out {
        emit(true, &all, |_| {});
    } else {
        println!("供应商/provider\t记录/read\t时间/at\t余额/balance\t变化/change\t订单能解释/explained\t判断/verdict\t未解释/unexplained\t订单/orders");
        for w in &all {
            let at = topup_engine::import::export::format_time(w.to.read_at);
            let orders: Vec<_> = w.orders.iter().map(|o| o.facts.merchant_order_id.as_str()).collect();
            println!(
                "{}\t{}\t{at}\t{}\t{}\t{}..{}\t{:?}\t{}\t{}",
                w.provider,
                w.to.id,
                w.to.balance,
                w.observed,
                w.expected_low,
                w.expected_high,
                w.verdict,
                w.unexplained,
                orders.join(",")
            );
        }
    }
    if open_drift {
        ExitCode::from(FAILED)
    } else {
        ExitCode::SUCCESS
    }
}
