//! The simulator's account ledgers: every movement of a provider balance is an entry, and the balance
//! moves only through [`Ledger::post`].
//!
//! Why: oper's balance reply names the account's last ledger entry (`paymentDetailId`, `record`,
//! `income`/`expenditure`, `gmtCreate`), and the app keeps it with every balance read. A simulator that
//! invented those fields per request would let a client pass that could not tell two reads apart. Here
//! an unchanged `paymentDetailId` means no money moved, as at the real provider.
//!
//! Also the deposit (the reseller topping up the account, `Inner::deposit`); the other admin operations
//! that move money behind the app's back (`plant_charge`, `set_state`) are in `admin` and post here too.

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

/// `POST /_sim/deposit`: the reseller tops up the account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deposit {
    pub provider: String,
    pub amount_li: i64,
}

impl crate::state::Inner {
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
