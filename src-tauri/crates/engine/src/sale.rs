//! What the customer paid (售价): the one place that decides an order's sale price.
//!
//! Why here, once: a sale price can come from the order form, `order add --sale`, an import column
//! (售价, 收款, 客户价, 单价 …), a pasted chat line, or — when none was given — the price list the user
//! keeps in Settings. If each front end decided on its own, the same order would sell for different
//! prices depending on how it was typed. So every front end only hands its raw value to
//! [`crate::order::check()`], which calls [`PriceList::decide`] exactly once; the decision (amount and
//! its [`SaleSource`]) is stored on the order when it is created and never recomputed, so changing
//! the price list later does not rewrite history.
//!
//! Unknown stays unknown: an order with no given price, no matching list entry and no markup rule has
//! no sale price (`NULL`), and every figure built on it (profit, refunds) says "unknown", never 0.
//! Money is integer 厘 throughout; a markup is `face × permille / 1000 + fixed`, rounded half up to
//! the 厘, integers only.

use serde::{Deserialize, Serialize};
use std::str::FromStr;
use topup_core::{Li, ProductKind, ProviderId};

/// The price list (价目表): fixed prices first, then markup rules. Stored with the engine settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(default, rename_all = "camelCase")]
pub struct PriceList {
    /// A fixed sale price for one face value of a kind (and, optionally, one provider).
    pub entries: Vec<PriceEntry>,
    /// `face × permille / 1000 + fixed` for a kind and/or provider (either may be left open).
    pub markups: Vec<Markup>,
}

/// One fixed price: orders of `kind` with this face value (through `provider`, or any) sell for `sale`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct PriceEntry {
    pub kind: ProductKind,
    /// `None`: every provider.
    pub provider: Option<ProviderId>,
    pub face: Li,
    pub sale: Li,
}

/// A markup rule: sale = face × `permille` / 1000 + `fixed` (厘). 1000 ‰ and 0 sells at face value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct Markup {
    /// `None`: every kind.
    pub kind: Option<ProductKind>,
    /// `None`: every provider.
    pub provider: Option<ProviderId>,
    pub permille: i64,
    #[serde(default)]
    pub fixed: Li,
}

/// Where an order's sale price came from (stored as text in `orders.sale_source`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum SaleSource {
    /// Typed in the order form.
    Form,
    /// `topup-desk order add --sale`.
    Cli,
    /// A column of an imported spreadsheet.
    Import,
    /// A line pasted from a chat.
    Chat,
    /// A fixed price of the price list.
    PriceList,
    /// A markup rule of the price list.
    Markup,
    /// Carried over from the failed order this one replaces (resubmit or fallback); that order's
    /// sale then counts as moved, not as owed back.
    Carried,
    /// The order's sale was carried to its replacement.
    Moved,
}

impl SaleSource {
    pub const fn as_str(self) -> &'static str {
        match self {
            SaleSource::Form => "form",
            SaleSource::Cli => "cli",
            SaleSource::Import => "import",
            SaleSource::Chat => "chat",
            SaleSource::PriceList => "price_list",
            SaleSource::Markup => "markup",
            SaleSource::Carried => "carried",
            SaleSource::Moved => "moved",
        }
    }

    pub const fn label_zh(self) -> &'static str {
        match self {
            SaleSource::Form => "下单时填写",
            SaleSource::Cli => "命令行填写",
            SaleSource::Import => "导入表格",
            SaleSource::Chat => "粘贴文字",
            SaleSource::PriceList => "价目表",
            SaleSource::Markup => "加价规则",
            SaleSource::Carried => "沿用原订单",
            SaleSource::Moved => "已转到新订单",
        }
    }

    const ALL: [SaleSource; 8] = [
        SaleSource::Form,
        SaleSource::Cli,
        SaleSource::Import,
        SaleSource::Chat,
        SaleSource::PriceList,
        SaleSource::Markup,
        SaleSource::Carried,
        SaleSource::Moved,
    ];
}

impl FromStr for SaleSource {
    type Err = String;
    fn from_str(s: &str) -> Result<SaleSource, String> {
        SaleSource::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| format!("unknown sale source {s}"))
    }
}

/// An order's sale price as decided: `amount` is `None` when unknown (then `source` is too).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sale {
    pub amount: Option<Li>,
    pub source: Option<SaleSource>,
}

/// What an order stores about its sale when it is created: the decided price and the customer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sold {
    pub sale: Sale,
    pub customer: Option<String>,
}

/// Longest customer name kept (characters).
pub const MAX_CUSTOMER_CHARS: usize = 64;

impl PriceList {
    /// The sale price of a new order. `given` is what the front end carried (already read as exact
    /// money), with the source it came from; it always wins. Otherwise the most specific fixed price
    /// (this provider before any provider), then the most specific markup (kind and provider, kind,
    /// provider, any), else unknown.
    pub fn decide(
        &self,
        given: Option<(Li, SaleSource)>,
        kind: ProductKind,
        provider: ProviderId,
        face: Li,
    ) -> Sale {
        if let Some((amount, source)) = given {
            return Sale { amount: Some(amount), source: Some(source) };
        }
        let entry = |p: Option<ProviderId>| {
            self.entries.iter().find(|e| e.kind == kind && e.provider == p && e.face == face).map(|e| e.sale)
        };
        if let Some(sale) = entry(Some(provider)).or_else(|| entry(None)) {
            return Sale { amount: Some(sale), source: Some(SaleSource::PriceList) };
        }
        let rule = |k: Option<ProductKind>, p: Option<ProviderId>| {
            self.markups.iter().find(|m| m.kind == k && m.provider == p)
        };
        let found = rule(Some(kind), Some(provider))
            .or_else(|| rule(Some(kind), None))
            .or_else(|| rule(None, Some(provider)))
            .or_else(|| rule(None, None));
        match found.and_then(|m| m.apply(face)) {
            Some(sale) => Sale { amount: Some(sale), source: Some(SaleSource::Markup) },
            None => Sale::default(),
        }
    }

    /// What is wrong with the list, in Chinese and English (saved lists are checked first).
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for e in &self.entries {
            if e.face <= Li::ZERO || e.sale < Li::ZERO {
                out.push(format!(
                    "价目表：面值 {} 的售价 {} 无效 / price list: sale {} for face {} is invalid",
                    e.face, e.sale, e.sale, e.face
                ));
            }
        }
        for m in &self.markups {
            if !(0..=100_000).contains(&m.permille) || m.fixed < Li(-1_000_000) || m.fixed > Li(1_000_000) {
                out.push(format!(
                    "加价规则 {}‰ + {} 超出范围（0–100000‰，±1000 元） / markup {}‰ + {} out of range",
                    m.permille, m.fixed, m.permille, m.fixed
                ));
            }
        }
        out
    }
}

impl Markup {
    /// `face × permille / 1000 + fixed`, rounded half up to the 厘; `None` on overflow or below 0.
    pub fn apply(&self, face: Li) -> Option<Li> {
        let scaled = i128::from(face.0) * i128::from(self.permille);
        let rounded = (scaled + 500).div_euclid(1000);
        let sale = i64::try_from(rounded).ok()?.checked_add(self.fixed.0)?;
        (sale >= 0).then_some(Li(sale))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list() -> PriceList {
        PriceList {
            entries: vec![
                PriceEntry {
                    kind: ProductKind::Phone,
                    provider: None,
                    face: Li::from_yuan(100),
                    sale: Li(99_500),
                },
                PriceEntry {
                    kind: ProductKind::Phone,
                    provider: Some(ProviderId::Juhe),
                    face: Li::from_yuan(100),
                    sale: Li(99_800),
                },
            ],
            markups: vec![
                Markup { kind: None, provider: None, permille: 1000, fixed: Li(0) },
                Markup { kind: Some(ProductKind::Phone), provider: None, permille: 1005, fixed: Li(200) },
                Markup {
                    kind: Some(ProductKind::Game),
                    provider: Some(ProviderId::Dingyin),
                    permille: 1100,
                    fixed: Li(0),
                },
            ],
        }
    }

    #[test]
    fn given_then_fixed_price_then_the_most_specific_markup() {
        let l = list();
        let phone = ProductKind::Phone;
        let d = |given, kind, p, face| l.decide(given, kind, p, face);
        let given = Some((Li(1), SaleSource::Form));
        assert_eq!(d(given, phone, ProviderId::Juhe, Li::from_yuan(100)).amount, Some(Li(1)));
        assert_eq!(d(None, phone, ProviderId::Juhe, Li::from_yuan(100)).amount, Some(Li(99_800)));
        let any = d(None, phone, ProviderId::Oper, Li::from_yuan(100));
        assert_eq!((any.amount, any.source), (Some(Li(99_500)), Some(SaleSource::PriceList)));
        // 50 × 1.005 + 0.2 = 50.45
        let m = d(None, phone, ProviderId::Oper, Li::from_yuan(50));
        assert_eq!((m.amount, m.source), (Some(Li(50_450)), Some(SaleSource::Markup)));
        assert_eq!(
            d(None, ProductKind::Game, ProviderId::Dingyin, Li::from_yuan(10)).amount,
            Some(Li(11_000))
        );
        assert_eq!(d(None, ProductKind::Douyin, ProviderId::Oper, Li(1_234)).amount, Some(Li(1_234)));
        // No rule at all: unknown, never 0.
        assert_eq!(PriceList::default().decide(None, phone, ProviderId::Oper, Li(1)), Sale::default());
    }

    #[test]
    fn markups_round_half_up_in_integers() {
        let m = Markup { kind: None, provider: None, permille: 1015, fixed: Li(0) };
        assert_eq!(m.apply(Li(1)), Some(Li(1))); // 1.015 → 1
        assert_eq!(m.apply(Li(100)), Some(Li(102))); // 101.5 → 102
        let neg = Markup { kind: None, provider: None, permille: 0, fixed: Li(-5) };
        assert_eq!(neg.apply(Li(1)), None);
        let huge = Markup { kind: None, provider: None, permille: i64::MAX, fixed: Li(0) };
        assert_eq!(huge.apply(Li(i64::MAX)), None);
    }
}
