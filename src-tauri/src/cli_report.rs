//! `topup-desk report`: the report of a range of local days, grouped by day, provider, batch or
//! customer — as a table, as JSON (`--json`), or written to an xlsx file with one sheet per view
//! (`--xlsx FILE`). A thin shell over `topup_engine::report`; what each figure counts is defined there.
//!
//! Exit codes: 0 done, 1 the order book could not be read or the file not written, 2 bad usage.

use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use topup_engine::book::ReportBy;
use topup_engine::report::xlsx::{money, rate, seconds};
use topup_engine::report::{ReportError, ReportLine, ReportQuery};

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// 开始日期（含），YYYY-MM-DD，本地时区；默认结束日期前 29 天 / first local day (included); default 29 days before --to
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub from: Option<String>,
    /// 结束日期（含）；默认今天 / last local day (included); default today
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub to: Option<String>,
    /// 分组：day | provider | batch | customer（默认 day） / grouping (default day)
    #[arg(long, value_name = "VIEW", default_value = "day")]
    pub by: String,
    /// 以 JSON 输出 / print as JSON
    #[arg(long)]
    pub json: bool,
    /// 导出为 xlsx（每种分组一个工作表） / write an xlsx file, one sheet per grouping
    #[arg(long, value_name = "FILE")]
    pub xlsx: Option<PathBuf>,
}

fn fail(code: u8, e: impl std::fmt::Display) -> ExitCode {
    eprintln!("错误 / error: {}", topup_engine::redact::text(&e.to_string()));
    ExitCode::from(code)
}

fn failed(e: &ReportError) -> ExitCode {
    fail(if e.code() == "invalid_field" { 2 } else { 1 }, e)
}

fn line(l: &ReportLine) -> String {
    format!(
        "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
        if l.label.is_empty() { "—" } else { &l.label },
        l.orders,
        l.succeeded,
        l.failed,
        rate(l.success_rate_bp),
        money(Some(l.face)),
        money(l.cost),
        money(l.sales),
        money(l.profit),
        money(l.refunds),
        seconds(l.avg_success_ms),
    )
}

pub fn report(args: ReportArgs, data_dir: Option<&Path>) -> ExitCode {
    let by = match args.by.parse::<ReportBy>() {
        Ok(b) => b,
        Err(e) => return fail(2, e),
    };
    let dir = topup_engine::paths::data_dir(data_dir);
    let _ = topup_engine::logging::init(&dir, false).map(std::mem::forget);
    let book = match topup_engine::session::open_book(&dir) {
        Ok(b) => b,
        Err(e) => return fail(2, e),
    };
    let q = ReportQuery { from: args.from, to: args.to, by: Some(by) };
    let report = match topup_engine::api::report::report(&book, &q) {
        Ok(r) => r,
        Err(e) => return failed(&e),
    };
    if let Some(path) = &args.xlsx {
        if let Err(e) = topup_engine::api::report::export_to(&book, &q, path) {
            return failed(&e);
        }
        eprintln!("已导出报表 {} 至 {} 到 {} / report written", report.from, report.to, path.display());
    }
    if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(text) => println!("{text}"),
            Err(e) => return fail(1, e),
        }
    } else if args.xlsx.is_none() {
        println!("{} 至 {} / {} to {}", report.from, report.to, report.from, report.to);
        println!("分组\t订单\t成功\t失败\t成功率\t面值\t成本\t销售额\t利润\t应退客户\t平均成功用时(秒)");
        for l in &report.rows {
            println!("{}", line(l));
        }
        println!("{}", line(&report.total));
        let unknown = report.total.profit_unknown;
        if unknown > 0 {
            println!("利润未计入 {unknown} 笔成本或售价未知的成功订单 / profit leaves out {unknown} succeeded orders without a known cost or sale");
        }
    }
    ExitCode::SUCCESS
}
