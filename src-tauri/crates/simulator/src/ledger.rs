//! The simulator's account ledgers: every movement of a provider balance is an entry, and the balance
//! moves only through [`Ledger::post`].
//!
//! Why: oper's balance reply names the account's last ledger entry (`paymentDetailId`, `record`,
//! `income`/`expenditure`, `gmtCreate`), and the app keeps it with every balance read. A simulator that
//! invented those fields per request would let a client pass that could not tell two reads apart. Here
//! an unchanged `paymentDetailId` means no money moved, as at the real provider.
//!
//! Also the admin operations that move money behind the app's back, for tests and demos:
//! [`Ledger::post`] via `Inner::plant_charge` (a charged order the app never sent: a duplicate or a
//! lost order, as reconciliation and the balance drift watch must find it) and `Inner::deposit` (the
//! reseller topping up the account).

use crate::server::now_unix_ms;
use crate::state::Provider;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// One movement of one account's balance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// The provider's ledger id (oper's `paymentDetailId`), increasing.
    pub id: u64,
    pub provider: String,
    pub at_unix_ms: u64,
    /// Money in (refund, deposit), li.
    pub income_li: i64,
    /// Money out (charge), li.
    pub expenditure_li: i64,
    /// The balance after this entry, li.
    pub balance_li: i64,
    /// oper's `record` text: 订单扣款, 订单退款, 账户充值, 期初余额.
    pub record: String,
    /// The merchant order id the movement is about, if any.
    pub merchant_order_id: Option<String>,
}

/// What a balance movement is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Movement {
    Opening,
    Charge,
    Refund,
    Deposit,
}

impl Movement {
    fn record(self) -> &'static str {
        match self {
            Movement::Opening => "期初余额",
            Movement::Charge => "订单扣款",
            Movement::Refund => "订单退款",
            Movement::Deposit => "账户充值",
        }
    }
}

/// Balances and their ledgers, per provider.
#[derive(Default)]
pub struct Ledger {
    balances: HashMap<Provider, i64>,
    entries: Vec<LedgerEntry>,
    next_id: u64,
}

impl Ledger {
    /// Every account opened with `initial_li`.
    pub fn new(initial_li: i64) -> Ledger {
        let mut ledger = Ledger { next_id: 67_954_631, ..Ledger::default() };
        for p in [Provider::Dingyin, Provider::Oper, Provider::Juhe] {
            ledger.post(p, Movement::Opening, initial_li, None);
        }
        ledger
    }

    pub fn balance(&self, provider: Provider) -> i64 {
        self.balances.get(&provider).copied().unwrap_or(0)
    }

    /// Moves `provider`'s balance by `delta_li` (negative: money out) and appends the entry.
    pub fn post(&mut self, provider: Provider, what: Movement, delta_li: i64, order: Option<&str>) {
        let bal = self.balances.entry(provider).or_insert(0);
        *bal += delta_li;
        let entry = LedgerEntry {
            id: self.next_id,
            provider: provider.as_str().to_string(),
            at_unix_ms: now_unix_ms(),
            income_li: delta_li.max(0),
            expenditure_li: (-delta_li).max(0),
            balance_li: *bal,
            record: what.record().to_string(),
            merchant_order_id: order.map(str::to_string),
        };
        self.next_id += 1;
        self.entries.push(entry);
    }

    /// The account's last entry (oper's balance reply names it).
    pub fn last(&self, provider: Provider) -> Option<&LedgerEntry> {
        self.entries.iter().rev().find(|e| e.provider == provider.as_str())
    }

    /// Every entry of every account, oldest first.
    pub fn entries(&self) -> &[LedgerEntry] {
        &self.entries
    }
}

/// `POST /_sim/plant_charge`: an order charged at the provider that the app never sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlantCharge {
    /// "dingyin", "oper" or "juhe".
    pub provider: String,
    /// The merchant order id the provider holds it under: a copy of one of the app's ids is a
    /// duplicate; a new id is an order the app lost. Must not exist at the provider yet.
    pub merchant_order_id: String,
    pub account: String,
    pub face_li: i64,
    /// What the account is charged, li; default the face value.
    #[serde(default)]
    pub cost_li: Option<i64>,
    /// Its state; default `Succeeded` (a failed one is refunded at once; `Pending` stays pending).
    #[serde(default)]
    pub state: Option<crate::model::OrderState>,
}

/// `POST /_sim/deposit`: the reseller tops up the account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deposit {
    pub provider: String,
    pub amount_li: i64,
}

impl crate::state::Inner {
    /// Plants a charge the app never asked for ([`PlantCharge`]): the order exists at the provider,
    /// charged (and settled at once, refunded when `failed`), queryable like any other, with no
    /// callback. Errors: an unknown provider, a non-positive amount, an id the provider has already.
    pub fn plant_charge(&mut self, plant: &PlantCharge) -> Result<crate::model::SimOrder, String> {
        let provider =
            Provider::parse(&plant.provider).ok_or_else(|| format!("unknown provider {}", plant.provider))?;
        let cost_li = plant.cost_li.unwrap_or(plant.face_li);
        if plant.face_li <= 0 || cost_li <= 0 {
            return Err("face_li and cost_li must be positive".into());
        }
        let id = plant.merchant_order_id.as_str();
        if id.is_empty() || self.find(provider, id).is_some() {
            return Err(format!("order id “{id}” is empty or exists already"));
        }
        let seq = self.next_seq();
        let now = now_unix_ms();
        let (provider_order_id, detail) = match provider {
            Provider::Dingyin => (
                format!("XS000000{seq:08}"),
                crate::state::Detail::Dingyin {
                    productid: String::new(),
                    num: (plant.face_li / 1000).to_string(),
                    productname: "话费".into(),
                    spordertime: "20000101000000".into(),
                    back_url: None,
                    account_param: plant.account.clone(),
                },
            ),
            Provider::Oper => (
                (507_831_667_054_165_634u64 + seq * 7919).to_string(),
                crate::state::Detail::Oper {
                    phone: plant.account.clone(),
                    face_value: (plant.face_li / 10).to_string(),
                    notify_url: String::new(),
                    mobile_order_no: 507_831_667_054_165_634u64 + seq * 7919,
                    serial_number: 12_599_351_947_837_504u64 + seq,
                    created_unix_ms: now,
                },
            ),
            Provider::Juhe => (format!("J{seq:012}"), crate::state::Detail::Juhe),
        };
        let state = plant.state.unwrap_or(crate::model::OrderState::Succeeded);
        let flags = crate::state::Flags {
            settle_failed: state == crate::model::OrderState::Failed,
            pending_forever: state == crate::model::OrderState::Pending,
            no_callback: true,
            ..Default::default()
        };
        let order = self.create_order(
            provider,
            id,
            provider_order_id,
            &plant.account,
            plant.face_li,
            cost_li,
            detail,
            flags,
        );
        Ok(self.settle(provider, id).unwrap_or(order).public)
    }

    /// The reseller tops up the account ([`Deposit`]).
    pub fn deposit(&mut self, deposit: &Deposit) -> Result<i64, String> {
        let provider = Provider::parse(&deposit.provider)
            .ok_or_else(|| format!("unknown provider {}", deposit.provider))?;
        if deposit.amount_li <= 0 {
            return Err("amount_li must be positive".into());
        }
        self.ledger.post(provider, Movement::Deposit, deposit.amount_li, None);
        Ok(self.ledger.balance(provider))
    }
}
