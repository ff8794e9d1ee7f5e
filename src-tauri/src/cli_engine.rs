//! Command-line handlers on the engine. Each parses its arguments, calls the engine, prints the
//! result (plain text, or JSON with `--json`), and maps failures to exit codes. No logic lives here.

use clap::{Args, Subcommand};
use serde_json::json;
use std::io::Read;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use topup_engine::book::{Book, OrderFilter, OrderState};
use topup_engine::console;
use topup_engine::import::Field;
use topup_engine::order::{self, Origin, RawOrder};
use topup_engine::session::{self, Session, SessionOptions};
use topup_engine::ProviderId;

const FAILED: u8 = 1;
const USAGE: u8 = 2;
const TIMEOUT: u8 = 3;

#[derive(Subcommand, Debug)]
pub enum ProviderCmd {
    /// 从标准输入读取 JSON 设置（密钥放在 secret，也可用 key/md5key/appkey）并保存；密钥只进入系统钥匙串 /
    /// read the provider's settings as JSON on stdin (the key in "secret", or key/md5key/appkey); the key
    /// goes to the keyring only
    Set {
        /// dingyin | oper | juhe
        name: String,
    },
    /// 列出已配置的供应商（不显示密钥） / list configured providers (secrets never shown)
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum OrderCmd {
    /// 新增订单（保存后由 `run` 提交） / add an order (submitted by `run`)
    Add(Box<AddArgs>),
    /// 显示订单与完整历史 / show an order and its history
    Show {
        /// 商户订单号或内部编号 / merchant order id or internal id
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// 立即查询订单状态 / query an order now
    Query { id: String },
    /// 人工处理待人工订单 / settle an order waiting for a person
    Resolve {
        id: String,
        /// succeeded | failed
        #[arg(long = "as", value_name = "OUTCOME")]
        outcome: String,
        #[arg(long)]
        note: String,
    },
    /// 为明确失败的订单新建订单重新提交 / resubmit a definitely failed order as a new linked order
    Resubmit { id: String },
}

#[derive(Args, Debug)]
pub struct AddArgs {
    /// dingyin | oper | juhe（不填则按产品类型的默认供应商） / provider (default per product kind)
    #[arg(long)]
    provider: Option<String>,
    /// 充值账号：手机号、游戏账号、抖音号或电费户号 / account: phone, game account, 抖音 id, or 户号
    #[arg(long)]
    account: String,
    /// 面值（元） / face value in yuan
    #[arg(long, value_name = "YUAN")]
    face: String,
    /// phone | electricity | game | douyin（默认 phone）
    #[arg(long, default_value = "phone")]
    kind: String,
    /// 供应商商品编号 / provider product id
    #[arg(long)]
    product: Option<String>,
    /// 游戏区 / game area
    #[arg(long)]
    area: Option<String>,
    /// 游戏服 / game server
    #[arg(long)]
    server: Option<String>,
    /// 数量 / quantity
    #[arg(long)]
    quantity: Option<u32>,
    /// 电网：state（国网）| south（南网）
    #[arg(long)]
    grid: Option<String>,
    /// 国网：缴费人手机号 / State Grid: payer's mobile
    #[arg(long)]
    mobile: Option<String>,
    /// 南网：身份证号 / Southern Grid: ID card number
    #[arg(long)]
    id_card: Option<String>,
    /// 售价（元，客户付的钱）；不填则按价目表 / sale price in yuan (what the customer paid); default the price list
    #[arg(long, value_name = "YUAN")]
    sale: Option<String>,
    /// 客户 / customer
    #[arg(long)]
    customer: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// 所有订单都有结果（或转人工）后退出 / exit when no order is pending
    #[arg(long)]
    until_idle: bool,
    /// 最长运行秒数 / give up after this many seconds (exit code 3)
    #[arg(long, value_name = "SECS")]
    timeout: Option<u64>,
}

#[derive(Args, Debug)]
pub struct OrdersArgs {
    #[arg(long)]
    json: bool,
    /// 按状态过滤 / only this state (new, submitting, accepted, unknown, succeeded, failed, manual_review)
    #[arg(long)]
    state: Option<String>,
    #[arg(long)]
    provider: Option<String>,
    /// 只看需要人工处理的 / only orders that need a person
    #[arg(long)]
    attention: bool,
    #[arg(long, default_value_t = 1000)]
    limit: i64,
}

#[derive(Args, Debug)]
pub struct BalanceArgs {
    #[arg(long)]
    json: bool,
}

fn fail(code: u8, zh_en: impl std::fmt::Display) -> ExitCode {
    eprintln!("错误 / error: {}", topup_engine::redact::text(&zh_en.to_string()));
    ExitCode::from(code)
}

fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| fail(FAILED, format!("无法启动运行时 / cannot start the runtime: {e}")))
}

fn open(data_dir: Option<&Path>) -> Result<(std::path::PathBuf, Arc<Book>), ExitCode> {
    let dir = topup_engine::paths::data_dir(data_dir);
    let _ = topup_engine::logging::init(&dir, false).map(std::mem::forget);
    let book = session::open_book(&dir).map_err(|e| fail(USAGE, e))?;
    Ok((dir, book))
}

fn parse_provider(name: &str) -> Result<ProviderId, ExitCode> {
    name.parse::<ProviderId>().map_err(|e| fail(USAGE, e))
}

fn find_order(book: &Book, id: &str) -> Result<topup_engine::book::Order, ExitCode> {
    if let Some(o) = book.order_by_merchant_id(id).map_err(|e| fail(FAILED, e))? {
        return Ok(o);
    }
    if let Ok(n) = id.parse::<i64>() {
        if let Ok(o) = book.order(n) {
            return Ok(o);
        }
    }
    Err(fail(USAGE, format!("找不到订单 {id} / no order {id}")))
}

fn print_json(value: &serde_json::Value) {
    println!("{}", serde_json::to_string_pretty(value).unwrap_or_default());
}

pub fn provider(cmd: ProviderCmd, data_dir: Option<&Path>) -> ExitCode {
    let (_dir, book) = match open(data_dir) {
        Ok(v) => v,
        Err(c) => return c,
    };
    match cmd {
        ProviderCmd::List { json } => {
            let mut rows = Vec::new();
            for id in ProviderId::ALL {
                match console::shown_provider_settings(&book, id) {
                    Ok(Some(s)) => rows.push(json!({"provider": id, "settings": s})),
                    Ok(None) => {}
                    Err(e) => return fail(FAILED, e),
                }
            }
            if json {
                print_json(&json!(rows));
            } else if rows.is_empty() {
                println!("未配置供应商，使用演示模式 / no provider configured: sandbox mode");
            } else {
                for r in rows {
                    println!("{}\t{}", r["provider"].as_str().unwrap_or_default(), r["settings"]);
                }
            }
            ExitCode::SUCCESS
        }
        ProviderCmd::Set { name } => {
            let id = match parse_provider(&name) {
                Ok(id) => id,
                Err(c) => return c,
            };
            let mut input = String::new();
            if let Err(e) = std::io::stdin().read_to_string(&mut input) {
                return fail(USAGE, format!("无法读取标准输入 / cannot read stdin: {e}"));
            }
            let value: serde_json::Value = match serde_json::from_str(&input) {
                Ok(v) => v,
                Err(e) => {
                    return fail(USAGE, format!("JSON 无法解析（第 {} 行）/ invalid JSON: {e}", e.line()))
                }
            };
            // The same path as the window's: the key is split out, checked and sent to the keyring.
            if let Err(e) = console::save_provider(&book, &session::secret_store(), id, &value, None) {
                let code = match e {
                    console::ConsoleError::Secret(_) | console::ConsoleError::Book(_) => FAILED,
                    _ => USAGE,
                };
                return fail(code, e);
            }
            println!("已保存 {}（密钥在系统钥匙串中）/ saved {id} (secret in the OS keyring)", id.label_zh());
            ExitCode::SUCCESS
        }
    }
}

pub fn order(cmd: OrderCmd, data_dir: Option<&Path>) -> ExitCode {
    let (dir, book) = match open(data_dir) {
        Ok(v) => v,
        Err(c) => return c,
    };
    match cmd {
        OrderCmd::Add(a) => add(*a, &dir, book),
        OrderCmd::Show { id, json } => {
            let order = match find_order(&book, &id) {
                Ok(o) => o,
                Err(c) => return c,
            };
            let events = match book.events(order.id) {
                Ok(e) => e,
                Err(e) => return fail(FAILED, e),
            };
            if json {
                print_json(&json!({"order": order, "events": events}));
            } else {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    order.merchant_order_id,
                    order.provider,
                    order.account,
                    order.face,
                    order.state.label_zh()
                );
                for e in events {
                    let to = e.to_state.map(|s| s.label_zh()).unwrap_or("");
                    println!("  {}\t{}\t{}\t{}", e.at, e.kind, to, e.detail);
                }
            }
            ExitCode::SUCCESS
        }
        OrderCmd::Query { id } => with_engine(&dir, book.clone(), |engine| async move {
            let order = find_order(engine.book(), &id)?;
            let after = engine.query_now(order.id).await.map_err(|e| fail(FAILED, e))?;
            println!("{}\t{}", after.merchant_order_id, after.state.label_zh());
            Ok(())
        }),
        OrderCmd::Resolve { id, outcome, note } => {
            with_engine(&dir, book.clone(), |engine| async move {
                let order = find_order(engine.book(), &id)?;
                let state = match outcome.as_str() {
                "succeeded" | "success" | "成功" => OrderState::Succeeded,
                "failed" | "fail" | "失败" => OrderState::Failed,
                other => return Err(fail(USAGE, format!("--as 只能是 succeeded 或 failed，而不是“{other}” / --as must be succeeded or failed"))),
            };
                let after = engine.resolve(order.id, state, &note).map_err(|e| fail(FAILED, e))?;
                println!("{}\t{}", after.merchant_order_id, after.state.label_zh());
                Ok(())
            })
        }
        OrderCmd::Resubmit { id } => with_engine(&dir, book.clone(), |engine| async move {
            let order = find_order(engine.book(), &id)?;
            let new = engine.resubmit(order.id).map_err(|e| fail(FAILED, e))?;
            println!("{}", new.merchant_order_id);
            Ok(())
        }),
    }
}

/// Runs `f` with an engine that does not run its loop or listener (for one-off actions).
fn with_engine<F, Fut>(dir: &Path, book: Arc<Book>, f: F) -> ExitCode
where
    F: FnOnce(Arc<topup_engine::run::Engine>) -> Fut,
    Fut: std::future::Future<Output = Result<(), ExitCode>>,
{
    let rt = match runtime() {
        Ok(r) => r,
        Err(c) => return c,
    };
    rt.block_on(async {
        let options =
            SessionOptions { run_engine: false, serve_callbacks: false, ..SessionOptions::default() };
        let session = match Session::start(dir, book, options).await {
            Ok(s) => s,
            Err(e) => return fail(FAILED, e),
        };
        let result = f(session.engine.clone()).await;
        session.stop().await;
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(c) => c,
        }
    })
}

/// `order add`: the flags as a raw order, checked and stored by the engine like the window's form.
fn add(a: AddArgs, dir: &Path, book: Arc<Book>) -> ExitCode {
    let provider = match a.provider.as_deref().map(parse_provider).transpose() {
        Ok(p) => p,
        Err(c) => return c,
    };
    let json_out = a.json;
    with_engine(dir, book, |engine| async move {
        let quantity = a.quantity.map(|q| q.to_string());
        let mut raw = RawOrder::new(Origin::Flags, provider);
        raw.text(Field::Kind, Some(&a.kind))
            .text(Field::Account, Some(&a.account))
            .text(Field::Face, Some(&a.face))
            .text(Field::Product, a.product.as_deref())
            .text(Field::Area, a.area.as_deref())
            .text(Field::Server, a.server.as_deref())
            .text(Field::Quantity, quantity.as_deref())
            .text(Field::Grid, a.grid.as_deref())
            .text(Field::PayerMobile, a.mobile.as_deref())
            .text(Field::IdCard, a.id_card.as_deref())
            .text(Field::Sale, a.sale.as_deref())
            .text(Field::Customer, a.customer.as_deref());
        let checked = order::check_with_engine(&engine, &raw).into_result(Origin::Flags);
        let order = engine.add_order(checked.map_err(|e| fail(USAGE, e))?).map_err(|e| fail(FAILED, e))?;
        if json_out {
            print_json(&json!(order));
        } else {
            println!("{}", order.merchant_order_id);
        }
        Ok(())
    })
}

pub fn run(args: RunArgs, data_dir: Option<&Path>) -> ExitCode {
    let (dir, book) = match open(data_dir) {
        Ok(v) => v,
        Err(c) => return c,
    };
    let rt = match runtime() {
        Ok(r) => r,
        Err(c) => return c,
    };
    rt.block_on(async {
        let session = match Session::start(&dir, book, SessionOptions::default()).await {
            Ok(s) => s,
            Err(e) => return fail(FAILED, e),
        };
        if session.sandbox() {
            eprintln!("演示模式：使用内置模拟供应商，不会产生真实扣款 / sandbox mode: simulated providers, no real money");
        }
        if let Some(addr) = session.callback_addr {
            eprintln!("回调监听 / callbacks on http://{addr}/callback/<provider>");
        }
        let started = Instant::now();
        let deadline = args.timeout.map(Duration::from_secs);
        // One listener for the whole run: a Ctrl-C between two turns of the loop is not lost.
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        let code = loop {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                _ = &mut ctrl_c => {
                    eprintln!("正在停止……再按 Ctrl-C 立即退出 / stopping… press Ctrl-C again to quit at once");
                    break ExitCode::SUCCESS;
                }
            }
            if args.until_idle && session.engine.is_idle().unwrap_or(false) {
                // Give a just-finished reply time to be published, then confirm.
                if session.engine.is_idle().unwrap_or(false) {
                    break ExitCode::SUCCESS;
                }
            }
            if deadline.is_some_and(|d| started.elapsed() >= d) {
                let pending = session.book.pending_count().unwrap_or(-1);
                eprintln!("超时：仍有 {pending} 笔订单未完成 / timed out with {pending} orders pending");
                break ExitCode::from(TIMEOUT);
            }
        };
        let counts = session.book.state_counts().ok();
        // Bounded: the listener lets go within its grace period whatever its clients do; requests to
        // providers in flight are let finish. A second Ctrl-C does not wait for them (an order whose
        // reply was not stored is queried at the next start, never resent blindly).
        tokio::select! {
            () = session.stop() => {}
            _ = tokio::signal::ctrl_c() => {
                eprintln!("立即退出 / quitting at once");
                return ExitCode::from(FAILED);
            }
        }
        if let Some(c) = counts {
            eprintln!(
                "成功 {} · 失败 {} · 人工处理 {} · 未完成 {} / succeeded {} failed {} manual review {} pending {}",
                c.succeeded, c.failed, c.manual_review, c.new + c.submitting + c.accepted + c.unknown,
                c.succeeded, c.failed, c.manual_review, c.new + c.submitting + c.accepted + c.unknown
            );
        }
        code
    })
}

pub fn orders(args: OrdersArgs, data_dir: Option<&Path>) -> ExitCode {
    let (_dir, book) = match open(data_dir) {
        Ok(v) => v,
        Err(c) => return c,
    };
    let mut filter =
        OrderFilter { limit: args.limit, needs_attention: args.attention, ..OrderFilter::default() };
    if let Some(s) = &args.state {
        match s.parse::<OrderState>() {
            Ok(st) => filter.states.push(st),
            Err(e) => return fail(USAGE, e),
        }
    }
    if let Some(p) = &args.provider {
        match parse_provider(p) {
            Ok(p) => filter.provider = Some(p),
            Err(c) => return c,
        }
    }
    let page = match book.list_orders(&filter) {
        Ok(p) => p,
        Err(e) => return fail(FAILED, e),
    };
    if args.json {
        print_json(&json!(page.orders));
    } else {
        for o in &page.orders {
            println!(
                "{}\t{}\t{}\t{}\t{}\t{}",
                o.merchant_order_id,
                o.provider,
                o.account,
                o.face,
                o.state.label_zh(),
                o.last_error.as_deref().unwrap_or("")
            );
        }
        eprintln!("共 {} 笔 / {} orders", page.total, page.total);
    }
    ExitCode::SUCCESS
}

pub fn balance(args: BalanceArgs, data_dir: Option<&Path>) -> ExitCode {
    let (dir, book) = match open(data_dir) {
        Ok(v) => v,
        Err(c) => return c,
    };
    let json_out = args.json;
    with_engine(&dir, book, |engine| async move {
        let mut rows = Vec::new();
        let mut any_error = false;
        for id in engine.providers() {
            let Some(client) = engine.provider(id) else { continue };
            let (result, _exchanges) = client.balance().await;
            match result {
                Ok(b) => rows.push(json!({"provider": id, "balance": b.amount.to_string(), "balanceLi": b.amount.0, "sandbox": engine.sandbox()})),
                Err(e) => {
                    any_error = true;
                    rows.push(json!({"provider": id, "error": topup_engine::redact::text(&e.to_string())}));
                }
            }
        }
        if json_out {
            print_json(&json!(rows));
        } else {
            for r in &rows {
                match r.get("balance") {
                    Some(b) => println!(
                        "{}\t{} 元",
                        r["provider"].as_str().unwrap_or_default(),
                        b.as_str().unwrap_or_default()
                    ),
                    None => println!(
                        "{}\t错误 / error: {}",
                        r["provider"].as_str().unwrap_or_default(),
                        r["error"].as_str().unwrap_or_default()
                    ),
                }
            }
        }
        if any_error {
            Err(ExitCode::from(FAILED))
        } else {
            Ok(())
        }
    })
}
