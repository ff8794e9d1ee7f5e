//! Admin operations that plant what a misbehaving provider does *behind* its API, and the provider's
//! statement of account.
//!
//! Why: reconciliation and the balance watch exist to catch money the replies never told the engine
//! about — a charge for an order the book does not have (a duplicate placed by a lost resend, a
//! stranger using the account), or an order whose final state at the provider is not the one its reply
//! or callback said. Neither can be produced through the public API (that is the point), so tests plant
//! them here, on the same ledger the API and the balance use. The statement is what providers hand out
//! for a day: every order of the ledger with its amounts, state and times, generated from the
//! simulator's own state so that a test reads real data, not a file written by the test.

use crate::model::{OrderState, SimOrder};
use crate::state::{Detail, Flags, Provider, Shared};
use serde::Deserialize;

/// `POST /_sim/plant_charge`: an order the merchant never sent, charged on the account.
#[derive(Clone, Debug, Deserialize)]
pub struct PlantCharge {
    /// "dingyin", "oper" or "juhe".
    pub provider: String,
    pub merchant_order_id: String,
    pub account: String,
    pub face_li: i64,
    /// What is charged; default the face value.
    #[serde(default)]
    pub cost_li: Option<i64>,
    /// Its state; default `Succeeded` (a failed one is refunded at once).
    #[serde(default)]
    pub state: Option<OrderState>,
}

/// `POST /_sim/set_state`: the provider's own final state of an order changes behind its API.
#[derive(Clone, Debug, Deserialize)]
pub struct SetState {
    pub provider: String,
    pub merchant_order_id: String,
    pub state: OrderState,
}

fn provider(name: &str) -> Result<Provider, String> {
    Provider::parse(name).ok_or_else(|| format!("unknown provider “{name}”"))
}

/// Plants a charge. Refused when the id exists at that provider.
pub fn plant_charge(shared: &Shared, plant: &PlantCharge) -> Result<SimOrder, String> {
    let p = provider(&plant.provider)?;
    let now = crate::server::now_unix_ms();
    let mut inner = shared.lock();
    if inner.find(p, &plant.merchant_order_id).is_some() {
        return Err(format!("order {} exists", plant.merchant_order_id));
    }
    let seq = inner.next_seq();
    let detail = match p {
        Provider::Dingyin => Detail::Dingyin {
            productid: String::new(),
            num: (plant.face_li / 1000).to_string(),
            productname: "话费".into(),
            spordertime: String::new(),
            back_url: None,
            account_param: plant.account.clone(),
        },
        Provider::Oper => Detail::Oper {
            phone: plant.account.clone(),
            face_value: (plant.face_li / 10).to_string(),
            notify_url: String::new(),
            mobile_order_no: 907_831_667_054_165_634u64 + seq,
            serial_number: 12_599_351_947_837_504u64 + seq,
            created_unix_ms: now,
        },
        Provider::Juhe => Detail::Juhe,
    };
    let cost = plant.cost_li.unwrap_or(plant.face_li);
    let mut order = inner.create_order(
        p,
        &plant.merchant_order_id,
        format!("PLANT{seq:08}"),
        &plant.account,
        plant.face_li,
        cost,
        detail,
        Flags { no_callback: true, ..Flags::default() },
    );
    let state = plant.state.unwrap_or(OrderState::Succeeded);
    if state != OrderState::Pending {
        order = set_final(&mut inner, p, &plant.merchant_order_id, state)?;
    }
    Ok(order.public)
}

/// Sets an order's state at the provider, moving the balance as the provider would: a refund when it
/// becomes failed, a charge again when a refunded order becomes succeeded.
pub fn set_state(shared: &Shared, change: &SetState) -> Result<SimOrder, String> {
    let p = provider(&change.provider)?;
    let mut inner = shared.lock();
    set_final(&mut inner, p, &change.merchant_order_id, change.state).map(|o| o.public)
}

fn set_final(
    inner: &mut crate::state::Inner,
    p: Provider,
    id: &str,
    state: OrderState,
) -> Result<crate::state::Order, String> {
    let order = inner.find_mut(p, id).ok_or_else(|| format!("no order {id}"))?;
    let was_refunded = order.public.refunded;
    order.public.state = state;
    order.public.refunded = state == OrderState::Failed;
    order.public.finished_unix_ms = (state != OrderState::Pending).then(crate::server::now_unix_ms);
    // Pending forever no more: the state was set by hand.
    order.flags.pending_forever = state == OrderState::Pending;
    let charged = order.public.charged_li;
    let snapshot = order.clone();
    let delta = match (was_refunded, state == OrderState::Failed) {
        (false, true) => charged,
        (true, false) => -charged,
        _ => 0,
    };
    inner.adjust_balance(p, delta);
    Ok(snapshot)
}

/// The statement headings, as a provider's export names them.
pub const STATEMENT_HEADINGS: [&str; 8] =
    ["商户订单号", "供应商订单号", "充值账号", "面值", "扣款金额", "状态", "下单时间", "完成时间"];

fn yuan(li: i64) -> String {
    let sign = if li < 0 { "-" } else { "" };
    format!("{sign}{}.{:03}", li.unsigned_abs() / 1000, li.unsigned_abs() % 1000)
}

fn local_time(ms: u64) -> String {
    topup_core::local_time::text(i64::try_from(ms).unwrap_or(0))
}

/// The provider's statement of every order on its ledger, oldest first, as UTF-8 csv with a BOM (what
/// Excel opens): one row per order with the amount charged, the state (成功 / 失败 / 处理中) and the
/// local times.
pub fn statement_csv(shared: &Shared, provider_name: &str) -> Result<String, String> {
    let p = provider(provider_name)?;
    let inner = shared.lock();
    let mut out = String::from("\u{FEFF}");
    out.push_str(&STATEMENT_HEADINGS.join(","));
    out.push_str("\r\n");
    for o in inner.orders.iter().filter(|o| o.provider == p) {
        let o = &o.public;
        let state = match o.state {
            OrderState::Succeeded => "成功",
            OrderState::Failed => "失败",
            OrderState::Pending => "处理中",
        };
        let row = [
            o.merchant_order_id.clone(),
            o.provider_order_id.clone(),
            o.account.clone(),
            yuan(o.face_li),
            yuan(o.charged_li),
            state.to_owned(),
            local_time(o.created_unix_ms),
            o.finished_unix_ms.map(local_time).unwrap_or_default(),
        ];
        let cells: Vec<String> =
            row.iter()
                .map(|c| {
                    if c.contains([',', '"']) {
                        format!("\"{}\"", c.replace('"', "\"\""))
                    } else {
                        c.clone()
                    }
                })
                .collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    Ok(out)
}
