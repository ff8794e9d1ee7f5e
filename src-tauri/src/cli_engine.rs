//! Command-line handlers on the engine. Each turns its flags into the request an operation of
//! `topup_engine::api` takes (the same operations the window's commands call), and prints the
//! result as text or, with `--json`, as the window's own types. No rule lives here.

use crate::cli_out::{
    api_fail, done, emit, engine_at, fail, open, runtime, with_engine, Outcome, FAILED, TIMEOUT, USAGE,
};
use clap::{Args, Subcommand};
use serde_json::json;
use std::io::Read;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use topup_engine::api::{self, OrderQuery};
use topup_engine::import::Field;
use topup_engine::order::{Origin, RawOrder};
use topup_engine::session::{self, Session, SessionOptions};
use topup_engine::ProviderId;

#[derive(Subcommand, Debug)]
pub enum ProviderCmd {
    /// 从标准输入读取 JSON 设置（密钥放在 secret，也可用 key/md5key/appkey）并保存；密钥只进入系统钥匙串 /
    /// read the provider's settings as JSON on stdin (the key in "secret", or key/md5key/appkey); the key
    /// goes to the keyring only
    Set {
        /// dingyin | oper | juhe
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// 列出已配置的供应商（不显示密钥） / list configured providers (secrets never shown)
    List {
        #[arg(long)]
        json: bool,
    },
    /// 删除供应商账号（设置与钥匙串中的密钥） / remove a provider account (settings and its key)
    Remove {
        name: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum OrderCmd {
    /// 新增订单（保存后由 `run` 提交） / add an order (submitted by `run`)
    Add(AddArgs),
    /// 检查订单而不保存：供应商、成本、重复、号码信息 / check an order without storing it (the window's
    /// confirmation: provider, cost, duplicates, number)
    Check(AddArgs),
    /// 显示订单与完整历史 / show an order and its history
    Show {
        /// 商户订单号或内部编号 / merchant order id or internal id
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// 立即查询订单状态 / query an order now
    Query {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// 人工处理待人工订单 / settle an order waiting for a person
    Resolve {
        id: String,
        /// succeeded | failed
        #[arg(long = "as", value_name = "OUTCOME")]
        outcome: String,
        #[arg(long)]
        note: String,
        #[arg(long)]
        json: bool,
    },
    /// 为明确失败的订单新建订单重新提交 / resubmit a definitely failed order as a new linked order
    Resubmit {
        id: String,
        #[arg(long)]
        json: bool,
    },
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
    /// 快充 | 慢充（话费、电费；默认快充） / fast | slow (phone, electricity; default fast)
    #[arg(long, value_name = "快充|慢充")]
    speed: Option<String>,
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
    /// 结束时以 JSON 输出各状态订单数 / print the state counts at the end as JSON
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub struct OrdersArgs {
    #[arg(long)]
    json: bool,
    /// 按状态过滤（可多次） / only this state, repeatable (new, submitting, accepted, unknown, succeeded,
    /// failed, manual_review)
    #[arg(long)]
    state: Vec<String>,
    #[arg(long)]
    provider: Option<String>,
    /// 只看此批次 / only this import batch
    #[arg(long)]
    batch: Option<topup_engine::contract::BatchId>,
    /// 按账号或订单号搜索 / search accounts and order ids
    #[arg(long)]
    search: Option<String>,
    /// 只看需要人工处理的 / only orders that need a person
    #[arg(long)]
    attention: bool,
    /// 只看超过超时规则仍未完成的 / only orders past a stuck-order limit
    #[arg(long)]
    overdue: bool,
    #[arg(long, default_value_t = 1000)]
    limit: i64,
}

#[derive(Args, Debug)]
pub struct PhoneArgs {
    /// 手机号 / mobile number
    number: String,
    /// 面值（元），聚合按面值查询 / face value in yuan (juhe looks up by face)
    #[arg(long, value_name = "YUAN")]
    face: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub struct StatsArgs {
    #[arg(long)]
    json: bool,
}

fn provider_arg(name: &str) -> Result<ProviderId, ExitCode> {
    api::provider_id(name).map_err(api_fail)
}

fn find(book: &topup_engine::book::Book, id: &str) -> Result<topup_engine::book::Order, ExitCode> {
    api::find_order(book, id).map_err(api_fail)
}

fn print_order(order: &topup_engine::book::Order) {
    println!("{}\t{}", order.merchant_order_id, order.state.label_zh());
}

pub fn provider(cmd: ProviderCmd, data_dir: Option<&Path>) -> ExitCode {
    let (_dir, book) = match open(data_dir) {
        Ok(v) => v,
        Err(c) => return c,
    };
    let secrets = session::secret_store();
    done((|| -> Outcome {
        match cmd {
            ProviderCmd::List { json } => {
                let mut rows = Vec::new();
                for id in ProviderId::ALL {
                    if let Some(s) = api::shown_provider_settings(&book, id).map_err(api_fail)? {
                        rows.push(json!({"provider": id, "settings": s}));
                    }
                }
                emit(json, &rows, |rows| {
                    if rows.is_empty() {
                        println!("未配置供应商，使用演示模式 / no provider configured: sandbox mode");
                    }
                    for r in rows {
                        println!("{}\t{}", r["provider"].as_str().unwrap_or_default(), r["settings"]);
                    }
                });
            }
            ProviderCmd::Set { name, json } => {
                let id = provider_arg(&name)?;
                let mut input = String::new();
                std::io::stdin()
                    .read_to_string(&mut input)
                    .map_err(|e| fail(USAGE, format!("无法读取标准输入 / cannot read stdin: {e}")))?;
                let value: serde_json::Value = serde_json::from_str(&input).map_err(|e| {
                    fail(USAGE, format!("JSON 无法解析（第 {} 行）/ invalid JSON: {e}", e.line()))
                })?;
                // The window's operation: the key is split out, checked and sent to the keyring.
                api::save_provider(&book, &secrets, id, &value, None).map_err(api_fail)?;
                emit(json, &json!({"provider": id, "saved": true}), |_| {
                    println!(
                        "已保存 {}（密钥在系统钥匙串中）/ saved {id} (secret in the OS keyring)",
                        id.label_zh()
                    );
                });
            }
            ProviderCmd::Remove { name, json } => {
                let id = provider_arg(&name)?;
                api::remove_provider(&book, &secrets, id).map_err(api_fail)?;
                emit(json, &json!({"provider": id, "removed": true}), |_| {
                    println!("已删除 {} / removed {id}", id.label_zh());
                });
            }
        }
        Ok(())
    })())
}

pub fn order(cmd: OrderCmd, data_dir: Option<&Path>) -> ExitCode {
    let (dir, book) = match open(data_dir) {
        Ok(v) => v,
        Err(c) => return c,
    };
    match cmd {
        OrderCmd::Add(a) => with_engine(&dir, book, |engine| async move {
            let order = api::add_raw(&engine, &raw_order(&a)?).map_err(api_fail)?;
            emit(a.json, &order, |o| println!("{}", o.merchant_order_id));
            Ok(())
        }),
        OrderCmd::Check(a) => with_engine(&dir, book, |engine| async move {
            let preflight = api::preflight_raw(&engine, &raw_order(&a)?).await.map_err(api_fail)?;
            let problems = !preflight.problems.is_empty();
            emit(a.json, &preflight, |p| {
                println!("供应商 / provider\t{}", p.provider);
                if let Some(cost) = p.cost {
                    println!("成本 / cost\t{cost} 元（{}）", p.cost_source.as_deref().unwrap_or(""));
                }
                for m in &p.messages {
                    println!("{}", m.text());
                }
                for d in &p.duplicates {
                    println!("重复 / duplicate\t{}\t{}", d.merchant_order_id, d.state.label_zh());
                }
            });
            if problems {
                return Err(ExitCode::from(USAGE));
            }
            Ok(())
        }),
        OrderCmd::Show { id, json } => done((|| {
            let detail = api::order_detail(&book, find(&book, &id)?.id).map_err(api_fail)?;
            emit(json, &detail, |d| {
                let o = &d.order;
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    o.merchant_order_id,
                    o.provider,
                    o.account,
                    o.face,
                    o.state.label_zh()
                );
                for e in &d.events {
                    let to = e.to_state.map(|s| s.label_zh()).unwrap_or("");
                    println!("  {}\t{}\t{}\t{}", e.at, e.kind, to, e.detail);
                }
            });
            Ok(())
        })()),
        OrderCmd::Query { id, json } => with_engine(&dir, book, |engine| async move {
            let order = find(engine.book(), &id)?;
            let after = api::query_order(&engine, order.id).await.map_err(api_fail)?;
            emit(json, &after, print_order);
            Ok(())
        }),
        OrderCmd::Resolve { id, outcome, note, json } => with_engine(&dir, book, |engine| async move {
            let order = find(engine.book(), &id)?;
            let after = api::resolve(&engine, order.id, &outcome, &note).map_err(api_fail)?;
            emit(json, &after, print_order);
            Ok(())
        }),
        OrderCmd::Resubmit { id, json } => with_engine(&dir, book, |engine| async move {
            let order = find(engine.book(), &id)?;
            let new = api::resubmit(&engine, order.id).map_err(api_fail)?;
            emit(json, &new, |o| println!("{}", o.merchant_order_id));
            Ok(())
        }),
    }
}

/// `order add`'s and `order check`'s flags as a raw order, named by flag in messages; the engine's
/// one order check reads it (see `topup_engine::order`).
fn raw_order(a: &AddArgs) -> Result<RawOrder<'_>, ExitCode> {
    let provider = a.provider.as_deref().map(provider_arg).transpose()?;
    let mut raw = RawOrder::new(Origin::Flags, provider);
    raw.text(Field::Kind, Some(&a.kind))
        .text(Field::Account, Some(&a.account))
        .text(Field::Face, Some(&a.face))
        .text(Field::Product, a.product.as_deref())
        .text(Field::Area, a.area.as_deref())
        .text(Field::Server, a.server.as_deref())
        .text(Field::Grid, a.grid.as_deref())
        .text(Field::PayerMobile, a.mobile.as_deref())
        .text(Field::IdCard, a.id_card.as_deref())
        .text(Field::Sale, a.sale.as_deref())
        .text(Field::Customer, a.customer.as_deref())
        .text(Field::Speed, a.speed.as_deref());
    if let Some(q) = a.quantity {
        raw.set(Field::Quantity, topup_engine::order::Cell::Int(i64::from(q)));
    }
    Ok(raw)
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
        let counts = api::state_counts(&session.book).ok();
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
            if args.json {
                emit(true, &c, |_| {});
            }
            let pending = c.new + c.submitting + c.accepted + c.unknown;
            eprintln!(
                "成功 {} · 失败 {} · 人工处理 {} · 未完成 {pending} / succeeded {} failed {} manual review {} pending {pending}",
                c.succeeded, c.failed, c.manual_review, c.succeeded, c.failed, c.manual_review
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
    done((|| {
        let mut query = OrderQuery {
            limit: args.limit,
            needs_attention: args.attention,
            overdue: args.overdue,
            batch_id: args.batch,
            search: args.search.clone(),
            provider: args.provider.as_deref().map(provider_arg).transpose()?,
            ..OrderQuery::default()
        };
        for s in &args.state {
            query.states.push(s.parse().map_err(|e| fail(USAGE, e))?);
        }
        let page = api::list_orders(&book, &query).map_err(api_fail)?;
        emit(args.json, &page.orders, |orders| {
            for o in orders {
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
        });
        Ok(())
    })())
}

pub fn phone(args: PhoneArgs, data_dir: Option<&Path>) -> ExitCode {
    engine_at(data_dir, |engine| async move {
        let info = api::phone_info(&engine, &args.number, args.face.as_deref()).await.map_err(api_fail)?;
        emit(args.json, &info, |i| {
            let carrier = i.carrier.map(|c| format!("{c:?}")).unwrap_or_default();
            let region =
                format!("{}{}", i.province.as_deref().unwrap_or(""), i.city.as_deref().unwrap_or(""));
            println!("{carrier}\t{region}\t{}", i.source);
        });
        Ok(())
    })
}

pub fn stats(args: StatsArgs, data_dir: Option<&Path>) -> ExitCode {
    let (_dir, book) = match open(data_dir) {
        Ok(v) => v,
        Err(c) => return c,
    };
    done((|| {
        let counts = api::state_counts(&book).map_err(api_fail)?;
        let providers = api::provider_stats(&book).map_err(api_fail)?;
        emit(args.json, &json!({"counts": counts, "providers": providers}), |_| {
            let c = &counts;
            println!(
                "成功 {} · 失败 {} · 人工处理 {} · 需要处理 {} / succeeded {} failed {} manual review {} attention {}",
                c.succeeded, c.failed, c.manual_review, c.attention, c.succeeded, c.failed, c.manual_review, c.attention
            );
            println!("今日 / today	订单 orders	成功 succeeded	失败 failed	未完成 pending	花费 spend");
            for p in &providers {
                let name = p.provider.map(|p| p.to_string()).unwrap_or_else(|| "全部 / all".into());
                println!(
                    "{name}\t{}\t{}\t{}\t{}\t{} 元",
                    p.orders_today, p.succeeded_today, p.failed_today, p.pending_today, p.spend_today
                );
            }
        });
        Ok(())
    })())
}
