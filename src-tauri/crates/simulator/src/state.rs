//! The simulator's memory: accounts' balances, orders, scripts, recorded requests.
//!
//! Why one mutex over everything: the invariants that matter (an order id is charged at most once, the
//! balance moves exactly with charges and refunds) span several of these tables, and the simulator is
//! never the bottleneck of a test.

use crate::config::SimConfig;
use crate::model::{Fault, OrderState, RecordedRequest, Script, SimOrder, Target};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// The three providers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Provider {
    Dingyin,
    Oper,
    Juhe,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Dingyin => "dingyin",
            Provider::Oper => "oper",
            Provider::Juhe => "juhe",
        }
    }

    pub fn parse(name: &str) -> Option<Provider> {
        match name {
            "dingyin" => Some(Provider::Dingyin),
            "oper" => Some(Provider::Oper),
            "juhe" => Some(Provider::Juhe),
            _ => None,
        }
    }
}

/// Faults fixed at order creation.
#[derive(Clone, Copy, Debug, Default)]
pub struct Flags {
    pub pending_forever: bool,
    pub settle_failed: bool,
    pub bad_callback_sign: bool,
    pub no_callback: bool,
    /// Callbacks change the unsigned fields ([`Fault::CallbackUnsignedChanged`]).
    pub unsigned_changed: bool,
}

/// Provider-specific facts of an order, needed for query replies and callbacks.
#[derive(Clone, Debug)]
pub enum Detail {
    Dingyin {
        productid: String,
        num: String,
        productname: String,
        spordertime: String,
        back_url: Option<String>,
        /// The `account` parameter as sent (a JSON object for electricity).
        account_param: String,
    },
    Oper {
        phone: String,
        face_value: String,
        notify_url: String,
        mobile_order_no: u64,
        serial_number: u64,
        created_unix_ms: u64,
    },
    /// juhe needs nothing beyond the public order.
    Juhe,
}

/// An order with everything the simulator needs.
#[derive(Clone, Debug)]
pub struct Order {
    pub public: SimOrder,
    pub provider: Provider,
    pub created: Instant,
    pub flags: Flags,
    pub charges: u32,
    pub detail: Detail,
}

#[derive(Clone, Debug)]
struct ScriptSlot {
    script: Script,
    remaining: Option<u32>,
}

pub struct Inner {
    pub juhe_callback_url: Option<String>,
    scripts: Vec<ScriptSlot>,
    pub requests: Vec<RecordedRequest>,
    pub orders: Vec<Order>,
    index: HashMap<(Provider, String), usize>,
    balances: HashMap<Provider, i64>,
    rate: HashMap<Provider, (Instant, u32)>,
    seq: u64,
}

/// Shared by every handler and background task.
pub struct Shared {
    pub config: SimConfig,
    inner: Mutex<Inner>,
    pub http: reqwest::Client,
    tasks: Mutex<JoinSet<()>>,
}

impl Shared {
    pub fn new(config: SimConfig) -> std::io::Result<Arc<Shared>> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(std::io::Error::other)?;
        let mut balances = HashMap::new();
        for p in [Provider::Dingyin, Provider::Oper, Provider::Juhe] {
            balances.insert(p, config.initial_balance_li);
        }
        let inner = Inner {
            juhe_callback_url: config.juhe.callback_url.clone(),
            scripts: Vec::new(),
            requests: Vec::new(),
            orders: Vec::new(),
            index: HashMap::new(),
            balances,
            rate: HashMap::new(),
            seq: 0,
        };
        Ok(Arc::new(Shared { config, inner: Mutex::new(inner), http, tasks: Mutex::new(JoinSet::new()) }))
    }

    /// Lock the state; a poisoned lock (a panic elsewhere) is recovered, never propagated.
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Run a background task that `shutdown` aborts.
    pub fn spawn<F>(&self, fut: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        while tasks.try_join_next().is_some() {}
        tasks.spawn(fut);
    }

    pub fn abort_tasks(&self) {
        self.tasks.lock().unwrap_or_else(|e| e.into_inner()).abort_all();
    }
}

fn target_matches(
    target: &Target,
    provider: Provider,
    order_id: Option<&str>,
    account: Option<&str>,
) -> bool {
    match target {
        Target::All => true,
        Target::Order(id) => order_id == Some(id.as_str()),
        Target::Account(a) => account == Some(a.as_str()),
        Target::Provider(p) => p == provider.as_str(),
    }
}

impl Inner {
    pub fn add_script(&mut self, script: Script) {
        if script.times == Some(0) {
            return;
        }
        self.scripts.push(ScriptSlot { remaining: script.times, script });
    }

    /// Take (use up once) the first script matching the request whose fault passes `kind`.
    pub fn take_fault(
        &mut self,
        provider: Provider,
        order_id: Option<&str>,
        account: Option<&str>,
        kind: impl Fn(&Fault) -> bool,
    ) -> Option<Fault> {
        let pos = self.scripts.iter().position(|s| {
            kind(&s.script.fault) && target_matches(&s.script.target, provider, order_id, account)
        })?;
        let fault = self.scripts[pos].script.fault.clone();
        if let Some(n) = self.scripts[pos].remaining.as_mut() {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.scripts.remove(pos);
            }
        }
        Some(fault)
    }

    /// Take every matching lifecycle fault (each script once) into flags.
    pub fn take_flags(&mut self, provider: Provider, order_id: &str, account: &str) -> Flags {
        let mut flags = Flags::default();
        let mut seen: Vec<Fault> = Vec::new();
        loop {
            let f = self.take_fault(provider, Some(order_id), Some(account), |f| {
                f.is_lifecycle_fault() && !seen.contains(f)
            });
            let Some(f) = f else { break };
            match f {
                Fault::PendingForever => flags.pending_forever = true,
                Fault::SettleFailed => flags.settle_failed = true,
                Fault::BadCallbackSign => flags.bad_callback_sign = true,
                Fault::NoCallback => flags.no_callback = true,
                Fault::CallbackUnsignedChanged => flags.unsigned_changed = true,
                _ => {}
            }
            seen.push(f);
        }
        flags
    }

    /// Take the query fault scripted for this order (matched by id, or by the account of the order
    /// when the simulator has it): [`Fault::QueryNotFound`] or [`Fault::QueryAboutOtherOrder`].
    pub fn take_query_fault(&mut self, provider: Provider, order_id: &str) -> Option<Fault> {
        let account = self.find(provider, order_id).map(|o| o.public.account.clone());
        self.take_fault(provider, Some(order_id), account.as_deref(), Fault::is_query_fault)
    }

    /// Append a request record; returns its index.
    pub fn record(&mut self, req: RecordedRequest) -> usize {
        self.requests.push(req);
        self.requests.len() - 1
    }

    pub fn set_record_order(&mut self, record: Option<usize>, order_id: &str) {
        if let Some(r) = record.and_then(|i| self.requests.get_mut(i)) {
            if !order_id.is_empty() {
                r.merchant_order_id = Some(order_id.to_string());
            }
        }
    }

    /// Count a request against the provider's per-second limit; false when over it.
    pub fn rate_ok(&mut self, provider: Provider, limit: Option<u32>) -> bool {
        let Some(limit) = limit else { return true };
        let now = Instant::now();
        let slot = self.rate.entry(provider).or_insert((now, 0));
        if now.duration_since(slot.0) >= Duration::from_secs(1) {
            *slot = (now, 0);
        }
        slot.1 = slot.1.saturating_add(1);
        slot.1 <= limit
    }

    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Moves the balance by `delta` li (admin operations).
    pub fn adjust_balance(&mut self, provider: Provider, delta: i64) {
        *self.balances.entry(provider).or_insert(0) += delta;
    }

    pub fn balance(&self, provider: Provider) -> i64 {
        self.balances.get(&provider).copied().unwrap_or(0)
    }

    pub fn find(&self, provider: Provider, merchant_order_id: &str) -> Option<&Order> {
        self.index.get(&(provider, merchant_order_id.to_string())).and_then(|i| self.orders.get(*i))
    }

    pub fn find_mut(&mut self, provider: Provider, merchant_order_id: &str) -> Option<&mut Order> {
        let i = *self.index.get(&(provider, merchant_order_id.to_string()))?;
        self.orders.get_mut(i)
    }

    /// Create an order and charge `cost_li` once. The caller has checked it does not exist yet.
    #[allow(clippy::too_many_arguments)]
    pub fn create_order(
        &mut self,
        provider: Provider,
        merchant_order_id: &str,
        provider_order_id: String,
        account: &str,
        face_li: i64,
        cost_li: i64,
        detail: Detail,
        flags: Flags,
    ) -> Order {
        let bal = self.balances.entry(provider).or_insert(0);
        *bal -= cost_li;
        let order = Order {
            public: SimOrder {
                provider: provider.as_str().to_string(),
                merchant_order_id: merchant_order_id.to_string(),
                provider_order_id,
                account: account.to_string(),
                face_li,
                state: OrderState::Pending,
                charged_li: cost_li,
                refunded: false,
                callback_attempts: 0,
                callback_acknowledged: false,
                created_unix_ms: crate::server::now_unix_ms(),
                finished_unix_ms: None,
            },
            provider,
            created: Instant::now(),
            flags,
            charges: 1,
            detail,
        };
        self.index.insert((provider, merchant_order_id.to_string()), self.orders.len());
        self.orders.push(order.clone());
        order
    }

    /// A held order (pending forever) is let go and settled now, succeeded or failed.
    pub fn release(&mut self, provider: Provider, merchant_order_id: &str, succeed: bool) -> bool {
        let Some(order) = self.find_mut(provider, merchant_order_id) else { return false };
        order.flags.pending_forever = false;
        order.flags.settle_failed = !succeed;
        self.settle(provider, merchant_order_id).is_some()
    }

    /// Move a pending order to its final state (refunding on failure). Returns the order after.
    pub fn settle(&mut self, provider: Provider, merchant_order_id: &str) -> Option<Order> {
        let order = self.find_mut(provider, merchant_order_id)?;
        if order.public.state != OrderState::Pending || order.flags.pending_forever {
            return None;
        }
        let failed = order.flags.settle_failed;
        let refund = order.public.charged_li;
        order.public.finished_unix_ms = Some(crate::server::now_unix_ms());
        if failed {
            order.public.state = OrderState::Failed;
            order.public.refunded = true;
        } else {
            order.public.state = OrderState::Succeeded;
        }
        let snapshot = order.clone();
        if failed {
            *self.balances.entry(provider).or_insert(0) += refund;
        }
        Some(snapshot)
    }
}
