//! The headless command line: the same binary, engine and order book as the window.
//!
//! Every subcommand is a thin call into the engine's operations layer (`topup_engine::api`), the
//! one the window's commands call; `--json` prints the result as the window's types.
//!
//! Exit codes: 0 success, 1 the operation failed, 2 bad usage, bad input or the order book cannot be
//! opened, 3 `run --until-idle` timed out with orders still pending.

use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "topup-desk",
    version,
    about = "充值台 Topup Desk：话费、游戏、电费、抖币代理商的充值控制台。\nWith no command, opens the console window."
)]
pub struct Args {
    /// 数据目录（订单库、日志） / data directory (order book, logs) [env: TOPUP_DESK_DATA_DIR]
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// 启动内置的供应商模拟器（演示模式用） / run the built-in provider simulator
    #[command(disable_help_flag = true)]
    Simulator {
        /// Arguments passed to the simulator (`topup-desk simulator --help`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// 显示数据目录与订单库路径 / print where the data lives
    Paths {
        #[arg(long)]
        json: bool,
    },
    /// 供应商账号设置 / provider accounts
    #[command(subcommand)]
    Provider(crate::cli_engine::ProviderCmd),
    /// 单笔订单：新增、查看、查询、人工处理、重新提交 / one order: add, show, query, resolve, resubmit
    #[command(subcommand)]
    Order(crate::cli_engine::OrderCmd),
    /// 运行引擎：提交、查询、接收回调 / run the engine: submit, poll, serve callbacks
    Run(crate::cli_engine::RunArgs),
    /// 列出订单 / list orders
    Orders(crate::cli_engine::OrdersArgs),
    /// 查询各供应商余额；余额历史、漂移与日对账单 / read each provider's balance; history, drift, daily statement
    Balance(crate::cli_balance::BalanceArgs),
    /// 从表格批量导入订单 / import orders from a spreadsheet
    Import(crate::cli_import::ImportArgs),
    /// 导出订单到 xlsx 或 csv / export orders to xlsx or csv
    Export(crate::cli_import::ExportArgs),
    /// 开发用：在 127.0.0.1 上为界面的 `npm run dev` 提供真实引擎（演示模式） / development only: serve the
    /// real engine (sandbox mode) to the UI's `npm run dev` on 127.0.0.1
    #[cfg(feature = "dev-server")]
    DevServer(crate::dev_server::DevServerArgs),
    /// 引擎设置：查看、修改（与设置页同一校验） / engine settings: get, set (checked as in the window)
    #[command(subcommand)]
    Settings(crate::cli_settings::SettingsCmd),
    /// 手机号的运营商与归属地 / a mobile number's carrier and region
    Phone(crate::cli_engine::PhoneArgs),
    /// 各状态订单数与今日各供应商统计 / orders per state and today's figures per provider
    Stats(crate::cli_engine::StatsArgs),
    /// 报表：按日、供应商、批次、客户统计订单、成本、销售额、利润、应退 / report: orders, cost, sales, profit, refunds
    Report(crate::cli_report::ReportArgs),
    /// 超时规则：何时标记超时、何时转人工 / stuck-order rules: when an order is overdue, when a person looks
    #[command(subcommand)]
    Rules(crate::cli_rules::RulesCmd),
    /// 对账：按接口逐单查询或读取供应商对账单，与订单库比对 / reconcile the book with the provider (API or statement)
    Reconcile(crate::cli_reconcile::ReconcileArgs),
}

pub fn run(command: Command, data_dir: Option<&Path>) -> ExitCode {
    match command {
        Command::Paths { json } => {
            let dir = topup_engine::paths::data_dir(data_dir);
            let paths = [
                ("data_dir", dir.display().to_string()),
                ("order_book", topup_engine::paths::db_path(&dir).display().to_string()),
                ("logs", topup_engine::paths::log_dir(&dir).display().to_string()),
            ];
            let map: std::collections::BTreeMap<_, _> = paths.iter().cloned().collect();
            crate::cli_out::emit(json, &map, |_| {
                for (k, v) in &paths {
                    println!("{k}\t{v}");
                }
            });
            ExitCode::SUCCESS
        }
        Command::Simulator { args } => simulator(args),
        Command::Provider(cmd) => crate::cli_engine::provider(cmd, data_dir),
        Command::Order(cmd) => crate::cli_engine::order(cmd, data_dir),
        Command::Run(args) => crate::cli_engine::run(args, data_dir),
        Command::Orders(args) => crate::cli_engine::orders(args, data_dir),
        Command::Balance(args) => crate::cli_balance::balance(args, data_dir),
        Command::Import(args) => crate::cli_import::import(args, data_dir),
        Command::Export(args) => crate::cli_import::export(args, data_dir),
        #[cfg(feature = "dev-server")]
        Command::DevServer(args) => crate::dev_server::run(args, data_dir),
        Command::Settings(cmd) => crate::cli_settings::settings(cmd, data_dir),
        Command::Phone(args) => crate::cli_engine::phone(args, data_dir),
        Command::Stats(args) => crate::cli_engine::stats(args, data_dir),
        Command::Report(args) => crate::cli_report::report(args, data_dir),
        Command::Rules(cmd) => crate::cli_rules::rules(cmd, data_dir),
        Command::Reconcile(args) => crate::cli_reconcile::reconcile(args, data_dir),
    }
}

fn simulator(args: Vec<String>) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("无法启动运行时 / cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(topup_sim::run_cli(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("模拟器错误 / simulator error: {e:#}");
            ExitCode::from(2)
        }
    }
}
