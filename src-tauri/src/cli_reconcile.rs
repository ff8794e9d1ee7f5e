//! `topup-desk reconcile`: a thin shell over `topup_engine::api::reconcile`.
//!
//! Progress of the API pass goes to stderr (one line per answer); Ctrl-C stops it after the requests
//! in flight (their answers are stored). Exit codes: 0 the run finished (differences or not: they are
//! in the output and the run is kept), 1 it failed, 2 bad usage or a statement that cannot be read.

use crate::cli_out::{done, emit, fail, open, with_engine, FAILED, USAGE};
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use topup_engine::api::reconcile::{self as api, ReconcileRequest};
use topup_engine::reconcile::export::{kind_zh, provider_state_zh};
use topup_engine::reconcile::{LineKind, ReconcileError, Reconciliation, StatementMapping, TimeBasis};

#[derive(Args, Debug)]
pub struct ReconcileArgs {
    /// 对账日期，如 2026-12-04；默认今天 / the day, e.g. 2026-12-04; default today
    #[arg(long, conflicts_with_all = ["from", "to"])]
    pub day: Option<String>,
    /// 起始日期（含） / first day (included)
    #[arg(long, requires = "to")]
    pub from: Option<String>,
    /// 结束日期（含） / last day (included)
    #[arg(long, requires = "from")]
    pub to: Option<String>,
    /// 通过接口逐单重新查询（默认） / re-query every order through the provider's API (the default)
    #[arg(long, conflicts_with = "file")]
    pub by_api: bool,
    /// 供应商的对账单（xlsx、xls、ods、csv） / the provider's statement (xlsx, xls, ods, csv)
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// 对账单的列映射，如 A=orderId、扣款(元)=amount（可多次） / statement column mapping (repeatable)
    #[arg(long = "map", value_name = "COL=FIELD")]
    pub map: Vec<String>,
    /// 工作表名 / sheet name
    #[arg(long)]
    pub sheet: Option<String>,
    /// 供应商（dingyin、oper、juhe）；对账单必填 / provider; required with --file
    #[arg(long)]
    pub provider: Option<String>,
    /// 按下单时间（order）或完成时间（finish）归入日期 / place orders by order time or finish time
    #[arg(long = "time", default_value = "order")]
    pub time: String,
    /// 以 JSON 输出 / print the result as JSON
    #[arg(long)]
    pub json: bool,
    /// 把结果导出到 xlsx 或 csv / export the lines to .xlsx or .csv
    #[arg(long, value_name = "FILE")]
    pub export: Option<PathBuf>,
}

fn error(e: ReconcileError) -> ExitCode {
    fail(if e.is_usage() { USAGE } else { FAILED }, e)
}

fn request(args: &ReconcileArgs) -> Result<ReconcileRequest, ReconcileError> {
    let today = topup_engine::import::export::format_time(topup_engine::book::now_ms())[..10].to_owned();
    let (from_day, to_day) = match (&args.day, &args.from, &args.to) {
        (Some(d), _, _) => (d.clone(), None),
        (None, Some(f), Some(t)) => (f.clone(), Some(t.clone())),
        _ => (today, None),
    };
    let provider = args
        .provider
        .as_deref()
        .map(str::parse::<topup_engine::ProviderId>)
        .transpose()
        .map_err(|e| ReconcileError::Invalid(e.to_string()))?;
    let mappings = args
        .map
        .iter()
        .map(|m| m.parse::<StatementMapping>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(ReconcileError::Import)?;
    Ok(ReconcileRequest {
        from_day,
        to_day,
        basis: args.time.parse::<TimeBasis>()?,
        provider,
        file_name: None,
        bytes: None,
        sheet: args.sheet.clone(),
        mappings,
    })
}

/// One line of the plain output: kind, ids, states, amounts, why.
fn print_line(l: &topup_engine::reconcile::Line) {
    let money = |v: Option<topup_engine::Li>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
    println!(
        "{}\t{}\t{}\t账上/book {} {}\t供应商/provider {} {}\t{} / {}",
        kind_zh(l.kind),
        l.merchant_order_id.as_deref().unwrap_or("-"),
        l.provider.map_or("-", |p| p.as_str()),
        l.book_state.map_or("-", |s| s.label_zh()),
        money(l.book_amount),
        l.provider_state.map_or("-", provider_state_zh),
        money(l.provider_amount),
        l.zh,
        l.en
    );
}

fn print(r: &Reconciliation, json: bool) {
    emit(json, r, print_text);
}

fn print_text(r: &Reconciliation) {
    let c = &r.counts;
    println!(
        "对账 #{} / reconciliation #{}: 一致 matched {}，状态不符 state differs {}，金额不符 amount differs {}，\
         仅账上 book only {}，仅供应商 statement only {}，未答复 unanswered {}，超出查询期 out of window {}，\
         无法读取的行 bad rows {}{}",
        r.run_id,
        r.run_id,
        c.matched,
        c.state_differs,
        c.amount_differs,
        c.book_only,
        c.statement_only,
        c.unanswered,
        c.out_of_window,
        c.bad_rows,
        if r.cancelled { "（已取消 / cancelled）" } else { "" }
    );
    for l in r.lines.iter().filter(|l| l.kind != LineKind::Matched) {
        print_line(l);
    }
    for b in &r.bad_rows {
        for t in &b.text {
            println!("无法读取 / unreadable\t{t}");
        }
    }
}

fn finish(r: Reconciliation, args: &ReconcileArgs) -> Result<(), ExitCode> {
    if let Some(path) = &args.export {
        let done = api::export_to(&r.lines, path).map_err(error)?;
        eprintln!("已导出 {} 行到 {} / exported {} lines to {}", done.rows, done.path, done.rows, done.path);
    }
    print(&r, args.json);
    Ok(())
}

pub fn reconcile(args: ReconcileArgs, data_dir: Option<&Path>) -> ExitCode {
    let request = match request(&args) {
        Ok(r) => r,
        Err(e) => return error(e),
    };
    let (dir, book) = match open(data_dir) {
        Ok(v) => v,
        Err(c) => return c,
    };
    if let Some(file) = &args.file {
        return done(api::by_path(&book, &request, file).map_err(error).and_then(|r| finish(r, &args)));
    }
    with_engine(&dir, book, |engine| async move {
        let cancel = Arc::new(AtomicBool::new(false));
        let on_ctrl_c = cancel.clone();
        let watcher = tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("正在停止：等待进行中的查询 / stopping: waiting for the queries in flight");
                on_ctrl_c.store(true, Ordering::Relaxed);
            }
        });
        let progress = |p: topup_engine::reconcile::Progress| {
            eprintln!("对账进度 / progress: {}/{}", p.done, p.total);
        };
        let result = api::by_api(&engine, &request, &progress, &cancel).await;
        watcher.abort();
        finish(result.map_err(error)?, &args)
    })
}
