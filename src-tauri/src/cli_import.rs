//! `topup-desk import` and `topup-desk export`: thin shells over `topup_engine::import`.
//!
//! Exit codes: 0 imported (or a clean dry run, or exported), 1 rows are invalid or duplicate (nothing
//! written unless `--skip-invalid`), 2 bad usage or a file that cannot be read.

use crate::cli_out::{api_fail, emit, fail, open, USAGE};
use clap::Args;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use topup_engine::api::{self, import::ImportJob, OrderQuery};
use topup_engine::import::{ColumnMapping, ImportError, Level, Preview, RowStatus, SourceFile};
use topup_engine::ProductKind;

const FAILED: u8 = 1;

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// 表格文件（xlsx、xls、ods、csv、txt）；`-` 从标准输入读取表格或粘贴的文字（每行一单，如
    /// “13812345678 100”） / the spreadsheet (xlsx, xls, ods, csv, txt); `-` reads a spreadsheet or
    /// pasted text (one order a line, e.g. "13812345678 100") from stdin
    pub file: PathBuf,
    /// 供应商（dingyin、oper、juhe）；默认按引擎设置的路由 / provider; default: the engine's routing
    #[arg(long)]
    pub provider: Option<String>,
    /// 无“类型”列时的产品类型（phone、electricity、game、douyin） / kind of rows without a kind column
    #[arg(long)]
    pub kind: Option<String>,
    /// 工作表名；默认第一个可见的工作表 / sheet name; default the first visible sheet
    #[arg(long)]
    pub sheet: Option<String>,
    /// 列映射，如 A=account、面值(元)=face（可多次） / column mapping COL=FIELD (repeatable)
    #[arg(long = "map", value_name = "COL=FIELD")]
    pub map: Vec<String>,
    /// 表格没有表头行 / the sheet has no heading row
    #[arg(long)]
    pub no_header: bool,
    /// 跳过无效和重复的行，只导入有效行 / import the valid rows, leaving out invalid and duplicate ones
    #[arg(long)]
    pub skip_invalid: bool,
    /// 允许重复（同一文件、同一账号和面值） / allow duplicates (same file, same account and amount)
    #[arg(long)]
    pub allow_duplicates: bool,
    /// 重复检查的时间窗口（小时）；默认按引擎设置 / duplicate window in hours; default the engine setting
    #[arg(long, value_name = "HOURS")]
    pub window_hours: Option<u32>,
    /// 只检查，不写入 / check only, write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// 以 JSON 输出预览和结果 / print the preview and the result as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// 导出此批次 / export this batch
    #[arg(long)]
    pub batch: Option<String>,
    /// 只导出此状态（可多次） / only this state (repeatable)
    #[arg(long)]
    pub state: Vec<String>,
    #[arg(long)]
    pub provider: Option<String>,
    /// 输出文件（.xlsx 或 .csv） / output file (.xlsx or .csv)
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long)]
    pub json: bool,
}

fn import_error(e: ImportError) -> ExitCode {
    api_fail(e.into())
}

/// The file, or standard input for `-`: its bytes decide what it is (a workbook, a table with
/// headings, or lines of pasted text), as for any file.
fn read_source(path: &Path) -> Result<SourceFile, ImportError> {
    if path.as_os_str() != "-" {
        return SourceFile::open(path);
    }
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .map_err(|e| ImportError::Io { path: "-".into(), message: e.to_string() })?;
    SourceFile::from_bytes("标准输入 stdin".into(), bytes)
}

pub fn import(args: ImportArgs, data_dir: Option<&Path>) -> ExitCode {
    let kind = match args.kind.as_deref().map(str::parse::<ProductKind>).transpose() {
        Ok(k) => k,
        Err(e) => return fail(USAGE, e),
    };
    let provider = match args.provider.as_deref().map(api::provider_id).transpose() {
        Ok(p) => p,
        Err(e) => return api_fail(e),
    };
    let mappings = match args.map.iter().map(|m| m.parse::<ColumnMapping>()).collect::<Result<Vec<_>, _>>() {
        Ok(m) => m,
        Err(e) => return import_error(e),
    };
    let file = match read_source(&args.file) {
        Ok(f) => f,
        Err(e) => return import_error(e),
    };
    let (_dir, book) = match open(data_dir) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let job = ImportJob {
        provider,
        kind,
        sheet: args.sheet.clone(),
        mappings,
        header: args.no_header.then_some(false),
        allow_duplicates: args.allow_duplicates,
        duplicate_window_ms: args.window_hours.map(|h| i64::from(h) * 3_600_000),
        balance: None,
    };
    let preview = match api::available_providers(&book, &topup_engine::session::secret_store())
        .and_then(|available| job.options(&book, &available))
        .and_then(|opts| api::import::preview(&book, &file, &opts))
    {
        Ok(p) => p,
        Err(e) => return api_fail(e),
    };
    if !args.json {
        print_preview(&preview);
    }
    let blocked = !preview.is_clean() && !args.skip_invalid;
    let already = !preview.allow_duplicates && !preview.previous_imports.is_empty();
    if args.dry_run || blocked || already {
        if args.json {
            println!("{}", serde_json::json!({ "preview": preview, "committed": null }));
        } else if blocked || already {
            println!("未写入任何订单 / nothing was written");
        } else {
            println!("试运行：未写入 / dry run: nothing written");
        }
        return if preview.is_clean() { ExitCode::SUCCESS } else { ExitCode::from(FAILED) };
    }
    match api::import::commit(&book, None, &preview, args.skip_invalid) {
        Ok(c) => {
            if args.json {
                println!("{}", serde_json::json!({ "preview": preview, "committed": c }));
            } else {
                println!(
                    "已导入批次 {}：{} 笔订单（跳过 {} 行） / imported batch {}: {} orders ({} rows left out)",
                    c.batch_id, c.orders, c.skipped_invalid, c.batch_id, c.orders, c.skipped_invalid
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => api_fail(e),
    }
}

fn print_preview(p: &Preview) {
    let sheet = p.sheet.as_deref().map(|s| format!("，工作表 {s}")).unwrap_or_default();
    println!(
        "文件 / file: {} ({}{sheet})，供应商 / provider: {}",
        p.file_name,
        p.format.as_str(),
        p.provider
    );
    for m in &p.file_messages {
        let tag = if m.level == Level::Error { "错误 / error" } else { "警告 / warning" };
        println!("{tag}: {}", m.describe(None));
    }
    for r in &p.rows {
        for m in &r.messages {
            let tag = match (m.level, r.status) {
                (Level::Error, _) => "错误 / error",
                (Level::Warning, RowStatus::Valid) => "警告 / warning",
                (Level::Warning, _) => "提示 / note",
            };
            println!("{tag}: {}", m.describe(Some(r.row)));
        }
    }
    let t = &p.totals;
    println!(
        "共 {} 行：有效 {}，无效 {}，重复 {}，空行 {}；面值合计 {} 元，预计成本 {} 元（估算） / {} rows: {} valid, {} invalid, {} duplicate, {} empty; face total {}, estimated cost {} (estimate)",
        t.rows, t.valid, t.invalid, t.duplicates, t.skipped, t.face_total, t.estimated_cost,
        t.rows, t.valid, t.invalid, t.duplicates, t.skipped, t.face_total, t.estimated_cost
    );
}

pub fn export(args: ExportArgs, data_dir: Option<&Path>) -> ExitCode {
    let mut query = OrderQuery { batch_id: args.batch.clone(), ..OrderQuery::default() };
    for s in &args.state {
        match s.parse() {
            Ok(st) => query.states.push(st),
            Err(e) => return fail(USAGE, e),
        }
    }
    match args.provider.as_deref().map(api::provider_id).transpose() {
        Ok(p) => query.provider = p,
        Err(e) => return api_fail(e),
    }
    let (_dir, book) = match open(data_dir) {
        Ok(b) => b,
        Err(code) => return code,
    };
    match api::export_to(&book, &query, &args.out) {
        Ok(r) => {
            emit(args.json, &r, |r| {
                println!("已导出 {} 笔订单到 {} / exported {} orders", r.rows, r.path, r.rows);
            });
            ExitCode::SUCCESS
        }
        Err(e) => api_fail(e),
    }
}
