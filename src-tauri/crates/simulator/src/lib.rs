//! A strict simulator of Topup Desk's three upstream providers (dingyin, oper, juhe) on 127.0.0.1.
//!
//! # Why it exists
//! The money rules of the product (README in `shared/provider-docs`) are about what happens when a
//! provider misbehaves: a reply lost after the charge, a duplicate answer, a callback that never comes.
//! Real providers cannot be made to do that on demand, and their test environments are not reachable
//! from CI. The simulator implements the three documented APIs from the documents alone — not from the
//! client code — and checks every request byte for byte (sign, charset, parameter rules), so a client
//! that passes against it is exercised against the documents, and every fault can be scripted per order.
//!
//! # Endpoints (one listener; the real paths do not collide)
//! * dingyin: `POST /gameonlinepay.do`, `POST /searchpay.do`, `POST /searchbalance.do` (the two queries on a
//!   second listener instead when [`SimConfig::separate_dingyin_query`] is set; see
//!   [`Simulator::dingyin_query_base_url`]).
//! * oper: `POST /1/api/oper/order`, `POST /1/api/oper/balance`, `POST /1/api/oper/query_order` (form or JSON).
//! * juhe: `POST /ofpay/mobile/onlineorder` (multipart or urlencoded), `GET /ofpay/mobile/ordersta`,
//!   `GET /ofpay/mobile/telcheck`, `GET /ofpay/mobile/telquery`, `GET /ofpay/mobile/yue`.
//! * control: `POST /_sim/script` (a [`Script`] as JSON, e.g.
//!   `{"target":{"Order":"SP1"},"fault":"LostResponseAfterAccept","times":1}`), `GET /_sim/requests`,
//!   `GET /_sim/orders`, `GET /_sim/balances`, `POST /_sim/juhe_callback_url` (the URL as the body);
//!   admin ops behind the API ([`admin`]): `POST /_sim/plant_charge`, `POST /_sim/set_state`,
//!   `GET /_sim/statement?provider=juhe` (the statement of account, csv).
//! * anything else: 404.
//!
//! # dingyin product ids (this simulator's table)
//! | `productid` | product | `num` | `account` | other rules | price |
//! |---|---|---|---|---|---|
//! | empty | phone top-up, operator from the number segment | face in yuan: 10, 20, 30, 50, 100, 200, 300, 500 (else 5010) | 11-digit phone (else 5004) | | face × 0.985 |
//! | `DF-GW` | 国网 electricity | yuan, 1–5000 (else 5011) | JSON `{"product_type":"3","userid":"户号",...}` (not JSON: 5012, product_type ≠ "3": 5004) | `areaid` = 11-digit mobile (else 5012) | face × 0.99 |
//! | `DF-NW` | 南网 electricity | yuan, 1–5000 | same JSON; `username` = last 6 of the ID card | `userip` = ID card, 15 or 18 chars (else 5012) | face × 0.99 |
//! | `DY` | 抖音 coins | yuan, 1–5000 | 抖音 account, non-empty | | face × 0.96 |
//! | `GAME-<n>` | game top-up, `n` yuan per unit (1–1000) | quantity 1–100 | game account, non-empty | `areaid`/`serverid` free | face × 0.95 |
//! | anything else | — | | | 5003 | |
//!
//! dingyin codes: 5001 unknown userid, 5002 balance, 5003 product, 5004 number/product mismatch, 5005 sign
//! (also for a body that is not GBK-encoded), 5006 duplicate sporderid, 5007 query: not found, 5010
//! amount, 5011 quantity, 5012 missing or invalid parameter (also a Content-Type that is not a form),
//! 5013 rate limit. Provider order ids are `XS<yymmdd><seq>`.
//!
//! # oper and juhe specifics
//! * oper: every rejection is `code` 400 with a Chinese `msg` (duplicate: "订单号重复"); rate limit is
//!   HTTP 429. `code`/`count` are a JSON string for some order numbers and a number for others. Price:
//!   face × 0.99 rounded down to the fen. `operatorSn` in query data is an integer literal when `order_no`
//!   is all digits without a leading zero, else a string.
//! * juhe: 10001 wrong key, 208505 phone, 208506 face value, 208509 order id (missing, not 8–32 of
//!   `[A-Za-z0-9_-]`), 208514 sign, 208516 duplicate, 208517 balance, 10012 rate limit, 208509 ordersta
//!   for an id it does not have (错误的订单号, as a strict juhe answers), 208501 telcheck refused. Price: face × 1.002. Amounts are strings.
//!
//! # Money
//! Balances are `i64` 厘 (li, 1/1000 yuan), one per provider account, charged on acceptance and refunded
//! when the order settles as failed. [`Simulator::charges`] counts how often an order id was charged; a
//! resubmitted id never charges again and gets the duplicate answer.
//!
//! # Sandbox credentials
//! [`SANDBOX_DINGYIN_USERID`]/[`SANDBOX_DINGYIN_KEY`], [`SANDBOX_OPER_UID`]/[`SANDBOX_OPER_MD5KEY`],
//! [`SANDBOX_JUHE_OPENID`]/[`SANDBOX_JUHE_APPKEY`], each account starting with
//! [`SANDBOX_INITIAL_BALANCE_LI`].

mod admin;
mod codec;
mod config;
mod dingyin;
mod juhe;
mod model;
mod oper;
mod orders;
mod server;
mod state;

pub use admin::{PlantCharge, SetState, STATEMENT_HEADINGS};
pub use config::{
    DingyinAccount, JuheAccount, OperAccount, SimConfig, SANDBOX_DINGYIN_KEY, SANDBOX_DINGYIN_USERID,
    SANDBOX_INITIAL_BALANCE_LI, SANDBOX_JUHE_APPKEY, SANDBOX_JUHE_OPENID, SANDBOX_OPER_MD5KEY,
    SANDBOX_OPER_UID,
};
pub use juhe::JUHE_FACES;
pub use model::{Fault, OrderState, RecordedRequest, Script, SimOrder, Target};

use server::Role;
use state::{Provider, Shared};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Why the command-line simulator could not run.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("bad argument “{0}”: {1}")]
    BadArgument(String, String),
    #[error("could not start the simulator: {0}")]
    Start(#[from] std::io::Error),
}

/// A running simulator. Dropping the handle also stops the listeners (their stop signal goes away);
/// [`Simulator::shutdown`] additionally waits for them and aborts pending settlements and callbacks.
pub struct Simulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    query_addr: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    loops: Vec<JoinHandle<()>>,
}

impl Simulator {
    /// Bind and start serving.
    pub async fn start(config: SimConfig) -> std::io::Result<Simulator> {
        let shared = Shared::new(config.clone())?;
        let (stop, stop_rx) = watch::channel(false);
        let main = TcpListener::bind(config.bind).await?;
        let addr = main.local_addr()?;
        let mut loops = Vec::new();
        let mut query_addr = None;
        if config.separate_dingyin_query {
            let q = TcpListener::bind(SocketAddr::new(config.bind.ip(), 0)).await?;
            query_addr = Some(q.local_addr()?);
            let router = server::router(shared.clone(), Role::DingyinQuery);
            loops.push(tokio::spawn(server::serve(q, router, stop_rx.clone())));
        }
        let router = server::router(shared.clone(), Role::Main { with_dingyin_query: query_addr.is_none() });
        loops.push(tokio::spawn(server::serve(main, router, stop_rx)));
        Ok(Simulator { shared, addr, query_addr, stop, loops })
    }

    /// `http://127.0.0.1:PORT` of the main listener.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Where dingyin's `searchpay.do` / `searchbalance.do` live.
    pub fn dingyin_query_base_url(&self) -> String {
        match self.query_addr {
            Some(a) => format!("http://{a}"),
            None => self.base_url(),
        }
    }

    /// Add a fault script.
    pub fn script(&self, script: Script) {
        self.shared.lock().add_script(script);
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// How many times the order was charged (0 or 1).
    pub fn charges(&self, provider: &str, merchant_order_id: &str) -> u32 {
        let Some(p) = Provider::parse(provider) else { return 0 };
        self.shared.lock().find(p, merchant_order_id).map(|o| o.charges).unwrap_or(0)
    }

    /// Every order, in creation order.
    pub fn orders(&self) -> Vec<SimOrder> {
        self.shared.lock().orders.iter().map(|o| o.public.clone()).collect()
    }

    /// The account balance at a provider, in li (0 for an unknown provider name).
    pub fn balance_li(&self, provider: &str) -> i64 {
        Provider::parse(provider).map(|p| self.shared.lock().balance(p)).unwrap_or(0)
    }

    /// A late answer for an order held by [`Fault::PendingForever`]: it settles now, succeeded or
    /// failed (and refunded), as a provider that finally finished it would. Returns whether it did.
    pub fn release(&self, provider: &str, merchant_order_id: &str, succeed: bool) -> bool {
        let Some(p) = Provider::parse(provider) else { return false };
        self.shared.lock().release(p, merchant_order_id, succeed)
    }

    /// Plants a charge the merchant never sent ([`admin::plant_charge`]).
    pub fn plant_charge(&self, plant: &PlantCharge) -> Result<SimOrder, String> {
        admin::plant_charge(&self.shared, plant)
    }

    /// Changes an order's state at the provider behind its API ([`admin::set_state`]).
    pub fn set_state(&self, change: &SetState) -> Result<SimOrder, String> {
        admin::set_state(&self.shared, change)
    }

    /// The provider's statement of account as csv ([`admin::statement_csv`]).
    pub fn statement_csv(&self, provider: &str) -> Result<String, String> {
        admin::statement_csv(&self.shared, provider)
    }

    /// Change the juhe account's callback URL (`None`: no callbacks).
    pub fn set_juhe_callback_url(&self, url: Option<String>) {
        self.shared.lock().juhe_callback_url = url;
    }

    /// Stop listening, drop every connection, abort settlements and callbacks.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for l in self.loops {
            let _ = l.await;
        }
        self.shared.abort_tasks();
    }
}

/// Parse `--port N`, `--settle-ms N`, `--rate-limit N`, `--separate-dingyin-query`,
/// `--juhe-callback URL`, `--initial-balance-li N`.
fn cli_config(args: &[String]) -> Result<SimConfig, SimError> {
    let mut cfg = SimConfig::sandbox();
    let mut it = args.iter();
    let num = |flag: &str, v: Option<&String>| -> Result<u64, SimError> {
        let v = v.ok_or_else(|| SimError::BadArgument(flag.to_string(), "needs a value".into()))?;
        v.parse().map_err(|_| SimError::BadArgument(flag.to_string(), format!("“{v}” is not a number")))
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--port" => {
                let p = num(a, it.next())?;
                let p = u16::try_from(p)
                    .map_err(|_| SimError::BadArgument(a.clone(), "port too large".into()))?;
                cfg.bind.set_port(p);
            }
            "--settle-ms" => cfg.settle_after = Duration::from_millis(num(a, it.next())?),
            "--rate-limit" => {
                cfg.rate_limit_per_sec = Some(u32::try_from(num(a, it.next())?).unwrap_or(u32::MAX));
            }
            "--separate-dingyin-query" => cfg.separate_dingyin_query = true,
            "--initial-balance-li" => {
                cfg.initial_balance_li = i64::try_from(num(a, it.next())?)
                    .map_err(|_| SimError::BadArgument(a.clone(), "too large".into()))?;
            }
            "--juhe-callback" => {
                let url = it.next().ok_or_else(|| SimError::BadArgument(a.clone(), "needs a URL".into()))?;
                cfg.juhe.callback_url = Some(url.clone());
            }
            other => return Err(SimError::BadArgument(other.to_string(), "unknown option".into())),
        }
    }
    Ok(cfg)
}

/// Usage text of `topup-desk simulator` / `topup-sim`.
pub const CLI_HELP: &str = "\
供应商模拟器（演示模式与测试用），仅监听 127.0.0.1 / provider simulator on 127.0.0.1 (sandbox mode, tests)

用法 / Usage: topup-desk simulator [OPTIONS]

  --port N                   监听端口，默认 0（随机） / port, default 0 (any free port)
  --settle-ms N              订单多少毫秒后出结果，默认 1000 / settle orders after N ms (default 1000)
  --rate-limit N             每个供应商每秒最多请求数 / max requests per second per provider
  --separate-dingyin-query   鼎音查询接口使用另一个端口 / serve dingyin's query on a second port
  --juhe-callback URL        聚合回调地址 / juhe callback URL
  --initial-balance-li N     每个账户的初始余额（厘） / starting balance of each account, in li
  -h, --help                 显示帮助 / show this help

控制接口 / control endpoints: POST /_sim/script, GET /_sim/requests, GET /_sim/orders, GET /_sim/balances";

/// Run a sandbox simulator until Ctrl-C, printing its URL and credentials (`topup-desk simulator` and the
/// `topup-sim` binary). `args` are the options after the command name.
pub async fn run_cli(args: Vec<String>) -> anyhow::Result<()> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{CLI_HELP}");
        return Ok(());
    }
    let cfg = cli_config(&args)?;
    let sim = Simulator::start(cfg.clone()).await.map_err(SimError::Start)?;
    println!("Topup Desk provider simulator (sandbox)");
    println!("  base URL:            {}", sim.base_url());
    println!("  dingyin query URL:   {}", sim.dingyin_query_base_url());
    println!("  dingyin userid/key:  {} / {}", cfg.dingyin.userid, cfg.dingyin.key);
    println!("  oper uid/md5key:     {} / {}", cfg.oper.uid, cfg.oper.md5key);
    println!("  juhe openid/appkey:  {} / {}", cfg.juhe.openid, cfg.juhe.appkey);
    println!("  balance each:        {} li", cfg.initial_balance_li);
    println!("  settle after:        {} ms", cfg.settle_after.as_millis());
    println!("Ctrl-C to stop.");
    tokio::signal::ctrl_c().await?;
    sim.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_args_parse() {
        let cfg = cli_config(&["--port".into(), "8088".into(), "--settle-ms".into(), "200".into()])
            .expect("parses");
        assert_eq!(cfg.bind.port(), 8088);
        assert_eq!(cfg.settle_after, Duration::from_millis(200));
        let cfg = cli_config(&["--initial-balance-li".into(), "1000000000000".into()]).expect("parses");
        assert_eq!(cfg.initial_balance_li, 1_000_000_000_000);
        assert!(cli_config(&["--bogus".into()]).is_err());
        assert!(cli_config(&["--port".into()]).is_err());
        assert!(cli_config(&["--port".into(), "99999".into()]).is_err());
    }
}
