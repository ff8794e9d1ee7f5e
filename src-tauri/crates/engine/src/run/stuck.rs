//! Stuck-order rules: how long an order may wait for its outcome before a person hears of it.
//!
//! The customer who paid asks within minutes; the query window (`manual_review_after_ms`, two days by
//! default, or the provider's shorter one) is about when the provider can no longer answer, not about
//! when someone should look. So each product has two time limits, counted from the order's first send:
//!
//! * past the **overdue** limit the order is flagged overdue: the board shows it (badge, filter), the
//!   navigation badge counts it, and the desktop is notified once;
//! * past the **review** limit it is put in front of a person: it counts as needing attention, with the
//!   reason in its history, and is notified once more.
//!
//! **Flags, not states.** Both are a level in the order's `stuck` column beside its state
//! ([`StuckLevel`]), never a state: the state machine ([`crate::book::OrderState`]) says what is known
//! about the money, and time teaches nothing about the money. The order stays `accepted` / `unknown` and
//! keeps being queried on its schedule, so a late success or failure lands by itself — and a final state
//! clears the flag (a trigger, below every writer). Nothing here fails, refunds, resends or reroutes an
//! order, and nothing moves it to `manual_review`: that state still means "the provider's query window
//! closed, or answers contradict each other" and stops the queries. A person who has looked at a
//! review-flagged order clears it with the same "handled" action as other flags ([`Engine::resolve`]);
//! it stays overdue and keeps being queried.
//!
//! **Which rule.** A rule names a product ([`StuckProduct`]: the kind and, for phone and electricity,
//! 快充 or 慢充 — slow top-ups legitimately take a day), and optionally a provider and a province. Of the
//! rules that match an order, the most specific wins: province beats provider beats the product alone
//! (a longer province name beats a shorter prefix of it). An order no rule matches is never flagged. The
//! province is the phone number's (the embedded segment table) or the electricity account's.
//!
//! **Once.** The sweep raises a flag in the same transaction that stores it, so a restart never raises
//! it again; the desktop claims the flags it has not told about in one transaction before it shows them
//! ([`crate::book::Tx::claim_stuck_notices`]): a crash between flag and notice keeps the flag and
//! notifies after the restart, and nothing is notified twice.
//!
//! [`Engine::resolve`]: crate::run::Engine::resolve

use crate::book::{Book, BookError, StuckCandidate, StuckLevel};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use topup_core::{ProductKind, ProviderId};

/// A product as the stuck rules see it: the kind, and for phone and electricity whether it is a fast
/// (快充, minutes) or slow (慢充, up to a day or more) top-up. An order is slow when its details say
/// `"speed": "slow"`; otherwise fast.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum StuckProduct {
    PhoneFast,
    PhoneSlow,
    ElectricityFast,
    ElectricitySlow,
    Game,
    Douyin,
}

impl StuckProduct {
    pub const ALL: [StuckProduct; 6] = [
        StuckProduct::PhoneFast,
        StuckProduct::PhoneSlow,
        StuckProduct::ElectricityFast,
        StuckProduct::ElectricitySlow,
        StuckProduct::Game,
        StuckProduct::Douyin,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            StuckProduct::PhoneFast => "phone_fast",
            StuckProduct::PhoneSlow => "phone_slow",
            StuckProduct::ElectricityFast => "electricity_fast",
            StuckProduct::ElectricitySlow => "electricity_slow",
            StuckProduct::Game => "game",
            StuckProduct::Douyin => "douyin",
        }
    }

    pub const fn label_zh(self) -> &'static str {
        match self {
            StuckProduct::PhoneFast => "话费快充",
            StuckProduct::PhoneSlow => "话费慢充",
            StuckProduct::ElectricityFast => "电费快充",
            StuckProduct::ElectricitySlow => "电费慢充",
            StuckProduct::Game => "游戏",
            StuckProduct::Douyin => "抖币",
        }
    }

    /// The product of an order of `kind` with these `details`.
    pub fn of(kind: ProductKind, details: &serde_json::Value) -> StuckProduct {
        let slow = details
            .get("speed")
            .and_then(serde_json::Value::as_str)
            .is_some_and(|s| matches!(s.trim(), "slow" | "慢充" | "慢"));
        match (kind, slow) {
            (ProductKind::Phone, false) => StuckProduct::PhoneFast,
            (ProductKind::Phone, true) => StuckProduct::PhoneSlow,
            (ProductKind::Electricity, false) => StuckProduct::ElectricityFast,
            (ProductKind::Electricity, true) => StuckProduct::ElectricitySlow,
            (ProductKind::Game, _) => StuckProduct::Game,
            (ProductKind::Douyin, _) => StuckProduct::Douyin,
        }
    }
}

impl fmt::Display for StuckProduct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StuckProduct {
    type Err = RuleError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        StuckProduct::ALL.into_iter().find(|p| p.as_str() == s || p.label_zh() == s).ok_or_else(|| {
            RuleError(format!(
                "未知的产品“{s}”（phone_fast、phone_slow、electricity_fast、electricity_slow、game、douyin） / \
                 unknown product “{s}”"
            ))
        })
    }
}

/// One stuck-order rule: for orders of `product` (and, when set, of `provider` and in `province`),
/// overdue `overdue_after_min` minutes after the first send, in front of a person after
/// `review_after_min`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct StuckRule {
    pub product: StuckProduct,
    #[serde(default)]
    pub provider: Option<ProviderId>,
    /// e.g. `江苏` (省/市/自治区 may be left off).
    #[serde(default)]
    pub province: Option<String>,
    pub overdue_after_min: u32,
    pub review_after_min: u32,
}

/// The longest limit a rule may set: 30 days (past any provider's query window).
pub const MAX_LIMIT_MIN: u32 = 30 * 24 * 60;

/// A refused rule set, in Chinese and English, naming the rule and the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RuleError(pub String);

impl StuckRule {
    const fn rule(product: StuckProduct, overdue_after_min: u32, review_after_min: u32) -> StuckRule {
        StuckRule { product, provider: None, province: None, overdue_after_min, review_after_min }
    }

    /// A rule for `product`, narrowed to `provider` and `province` when given.
    pub fn new(
        product: StuckProduct,
        provider: Option<ProviderId>,
        province: Option<&str>,
        overdue_after_min: u32,
        review_after_min: u32,
    ) -> StuckRule {
        StuckRule {
            product,
            provider,
            province: province.map(str::to_owned),
            overdue_after_min,
            review_after_min,
        }
    }

    /// The level an order governed by this rule has reached `elapsed_ms` after its first send.
    pub fn level_at(&self, elapsed_ms: i64) -> StuckLevel {
        let min = |m: u32| i64::from(m) * 60_000;
        if elapsed_ms >= min(self.review_after_min) {
            StuckLevel::Review
        } else if elapsed_ms >= min(self.overdue_after_min) {
            StuckLevel::Overdue
        } else {
            StuckLevel::None
        }
    }

    /// What the rule covers, for a person: `话费快充 / 聚合数据 / 江苏`.
    pub fn scope_zh(&self) -> String {
        let mut s = self.product.label_zh().to_owned();
        if let Some(p) = self.provider {
            s.push_str(" / ");
            s.push_str(p.label_zh());
        }
        if let Some(p) = &self.province {
            s.push_str(" / ");
            s.push_str(p);
        }
        s
    }

    fn specificity(&self) -> (u8, usize) {
        let province = self.province.as_deref().map_or(0, |p| province_key(p).chars().count());
        (u8::from(self.province.is_some()) * 2 + u8::from(self.provider.is_some()), province)
    }
}

/// The rules an order book starts with. Fast top-ups (phone, game, Douyin coins) finish in seconds to
/// minutes: overdue at 10 min, a person at 60. Electricity through the grids takes longer: 2 h and 12 h.
/// Slow (慢充) phone and electricity top-ups are sold as "within 24–72 h": overdue after a day, a person
/// at 36 h — still inside the two-day query window, while the provider can answer.
pub fn default_rules() -> Vec<StuckRule> {
    vec![
        StuckRule::rule(StuckProduct::PhoneFast, 10, 60),
        StuckRule::rule(StuckProduct::PhoneSlow, 24 * 60, 36 * 60),
        StuckRule::rule(StuckProduct::ElectricityFast, 2 * 60, 12 * 60),
        StuckRule::rule(StuckProduct::ElectricitySlow, 24 * 60, 36 * 60),
        StuckRule::rule(StuckProduct::Game, 10, 60),
        StuckRule::rule(StuckProduct::Douyin, 10, 60),
    ]
}

/// A province name without its 省/市/自治区 suffix, for matching (`广西壮族自治区` → `广西壮族`).
fn province_key(p: &str) -> &str {
    let p = p.trim();
    ["自治区", "省", "市"].iter().find_map(|s| p.strip_suffix(s)).unwrap_or(p)
}

/// Whether an order in `order_province` is in the rule's `rule_province` (a prefix after the suffixes
/// are dropped: `广西` covers `广西壮族自治区`).
fn in_province(order_province: &str, rule_province: &str) -> bool {
    let rule = province_key(rule_province);
    !rule.is_empty() && province_key(order_province).starts_with(rule)
}

/// Checks and tidies a rule set: provinces trimmed (blank → any), both limits 1..=[`MAX_LIMIT_MIN`]
/// minutes, review after overdue, and no two rules for the same product, provider and province.
pub fn check_rules(rules: &mut [StuckRule]) -> Result<(), RuleError> {
    for (i, r) in rules.iter_mut().enumerate() {
        let n = i + 1;
        r.province = r.province.as_deref().map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned);
        for (field, v) in
            [("overdue_after_min", r.overdue_after_min), ("review_after_min", r.review_after_min)]
        {
            if v == 0 || v > MAX_LIMIT_MIN {
                return Err(RuleError(format!(
                    "超时规则 {n}（{}）：{field} 须在 1 到 {MAX_LIMIT_MIN} 分钟之间（现为 {v}） / stuck rule {n}: \
                     {field} must be 1 to {MAX_LIMIT_MIN} minutes (is {v})",
                    r.scope_zh()
                )));
            }
        }
        if r.review_after_min <= r.overdue_after_min {
            return Err(RuleError(format!(
                "超时规则 {n}（{}）：review_after_min（转人工，{} 分钟）须大于 overdue_after_min（超时，{} 分钟） / \
                 stuck rule {n}: review_after_min must be greater than overdue_after_min",
                r.scope_zh(),
                r.review_after_min,
                r.overdue_after_min
            )));
        }
    }
    for (i, r) in rules.iter().enumerate() {
        let key = |x: &StuckRule| {
            (x.product, x.provider, x.province.as_deref().map(province_key).map(str::to_owned))
        };
        if let Some(j) = rules[..i].iter().position(|x| key(x) == key(r)) {
            return Err(RuleError(format!(
                "超时规则 {} 与规则 {} 重复（{}） / stuck rule {} repeats rule {} (same product, provider and province)",
                i + 1,
                j + 1,
                r.scope_zh(),
                i + 1,
                j + 1
            )));
        }
    }
    Ok(())
}

/// The most specific rule for an order of `product` at `provider` in `province` (see the module doc).
pub fn rule_for<'a>(
    rules: &'a [StuckRule],
    product: StuckProduct,
    provider: ProviderId,
    province: Option<&str>,
) -> Option<&'a StuckRule> {
    rules
        .iter()
        .filter(|r| r.product == product)
        .filter(|r| r.provider.is_none_or(|p| p == provider))
        .filter(|r| r.province.as_deref().is_none_or(|rp| province.is_some_and(|op| in_province(op, rp))))
        .max_by_key(|r| r.specificity())
}

/// The province of an order, if the book can tell: the phone number's segment, or the electricity
/// account's province as entered.
pub fn province_of(kind: ProductKind, account: &str, details: &serde_json::Value) -> Option<String> {
    match kind {
        ProductKind::Phone => topup_providers::phone_segments::lookup(account).map(|s| s.province.to_owned()),
        ProductKind::Electricity => details
            .get("electricity")
            .and_then(|e| e.get("province"))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned),
        ProductKind::Game | ProductKind::Douyin => None,
    }
}

/// The rule that governs a waiting order.
fn governing<'a>(rules: &'a [StuckRule], c: &StuckCandidate) -> Option<&'a StuckRule> {
    let province = province_of(c.kind, &c.account, &c.details);
    rule_for(rules, StuckProduct::of(c.kind, &c.details), c.provider, province.as_deref())
}

/// The history line of a raised flag.
fn reason(rule: &StuckRule, level: StuckLevel) -> String {
    let scope = rule.scope_zh();
    match level {
        StuckLevel::Review => format!(
            "超过转人工时限：首次提交后 {} 分钟仍无结果（规则：{scope}），请人工跟进（如联系供应商）；订单继续查询，\
             迟到的结果会自动入账 / needs a person: no outcome {} min after the first send (rule: {}); still \
             querying, a late answer lands by itself",
            rule.review_after_min,
            rule.review_after_min,
            rule.product
        ),
        _ => format!(
            "已超时：首次提交后 {} 分钟仍无结果（规则：{scope}），继续查询 / overdue: no outcome {} min after the \
             first send (rule: {}); still querying",
            rule.overdue_after_min, rule.overdue_after_min, rule.product
        ),
    }
}

/// How many waiting orders one read of the sweep takes.
const SWEEP_PAGE: usize = 500;

/// Raises the flag of every waiting order that has reached a limit of its rule at `now` (ms; the
/// engine passes the clock, tests a chosen time). Returns how many flags were raised. Reads only
/// orders sent at least the shortest overdue limit ago, so with nothing late it is one empty read.
pub fn sweep(book: &Book, rules: &[StuckRule], now: i64) -> Result<usize, BookError> {
    let Some(shortest) = rules.iter().map(|r| r.overdue_after_min).min() else { return Ok(0) };
    let sent_before = now.saturating_sub(i64::from(shortest) * 60_000);
    let (mut after, mut raised) = (0, 0);
    loop {
        let page = book.stuck_candidates(sent_before, after, SWEEP_PAGE)?;
        let raises: Vec<(i64, StuckLevel, String)> = page
            .iter()
            .filter_map(|c| {
                let rule = governing(rules, c)?;
                let level = rule.level_at(now.saturating_sub(c.submitted_at));
                (level > c.stuck).then(|| (c.id, level, reason(rule, level)))
            })
            .collect();
        if !raises.is_empty() {
            raised += book.write(|tx| {
                let mut n = 0;
                for (id, level, why) in &raises {
                    n += usize::from(tx.raise_stuck(*id, *level, why)?);
                }
                Ok(n)
            })?;
        }
        match page.last() {
            Some(last) if page.len() == SWEEP_PAGE => after = last.id,
            _ => return Ok(raised),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(
        product: StuckProduct,
        provider: Option<ProviderId>,
        province: Option<&str>,
        o: u32,
    ) -> StuckRule {
        StuckRule::new(product, provider, province, o, o + 1)
    }

    #[test]
    fn the_most_specific_matching_rule_wins() {
        let rules = vec![
            rule(StuckProduct::PhoneFast, None, None, 10),
            rule(StuckProduct::PhoneFast, Some(ProviderId::Juhe), None, 20),
            rule(StuckProduct::PhoneFast, None, Some("江苏省"), 30),
            rule(StuckProduct::PhoneFast, Some(ProviderId::Juhe), Some("江苏"), 40),
            rule(StuckProduct::PhoneSlow, None, None, 50),
            rule(StuckProduct::PhoneFast, None, Some("广西"), 60),
        ];
        let pick = |provider, province: Option<&str>| {
            rule_for(&rules, StuckProduct::PhoneFast, provider, province).map(|r| r.overdue_after_min)
        };
        assert_eq!(pick(ProviderId::Oper, None), Some(10), "the product alone");
        assert_eq!(pick(ProviderId::Juhe, Some("浙江")), Some(20), "provider beats the product alone");
        assert_eq!(pick(ProviderId::Oper, Some("江苏")), Some(30), "province beats the product alone");
        assert_eq!(pick(ProviderId::Juhe, Some("江苏")), Some(40), "both beat either");
        assert_eq!(pick(ProviderId::Oper, Some("广西壮族自治区")), Some(60), "suffixes left off match");
        assert_eq!(
            rule_for(&rules, StuckProduct::PhoneSlow, ProviderId::Juhe, Some("江苏"))
                .unwrap()
                .overdue_after_min,
            50
        );
        assert_eq!(
            rule_for(&rules, StuckProduct::Game, ProviderId::Dingyin, None),
            None,
            "no rule: never flagged"
        );
    }

    #[test]
    fn fast_and_slow_are_different_products() {
        let slow = serde_json::json!({"speed": "slow"});
        assert_eq!(StuckProduct::of(ProductKind::Phone, &serde_json::json!({})), StuckProduct::PhoneFast);
        assert_eq!(StuckProduct::of(ProductKind::Phone, &slow), StuckProduct::PhoneSlow);
        assert_eq!(StuckProduct::of(ProductKind::Electricity, &slow), StuckProduct::ElectricitySlow);
        assert_eq!(StuckProduct::of(ProductKind::Game, &slow), StuckProduct::Game);
        let d = default_rules();
        let limit = |p| rule_for(&d, p, ProviderId::Juhe, None).unwrap().overdue_after_min;
        assert!(limit(StuckProduct::PhoneSlow) > limit(StuckProduct::PhoneFast));
    }

    #[test]
    fn a_rule_fires_at_its_limit_and_not_before() {
        let r = StuckRule::rule(StuckProduct::PhoneFast, 10, 60);
        assert_eq!(r.level_at(10 * 60_000 - 1), StuckLevel::None);
        assert_eq!(r.level_at(10 * 60_000), StuckLevel::Overdue);
        assert_eq!(r.level_at(60 * 60_000 - 1), StuckLevel::Overdue);
        assert_eq!(r.level_at(60 * 60_000), StuckLevel::Review);
    }

    #[test]
    fn bad_rule_sets_are_refused_naming_the_rule_and_field() {
        let mut ok = default_rules();
        assert_eq!(check_rules(&mut ok), Ok(()));
        let mut zero = vec![StuckRule::rule(StuckProduct::Game, 0, 5)];
        assert!(check_rules(&mut zero).unwrap_err().0.contains("overdue_after_min"));
        let mut order = vec![StuckRule::rule(StuckProduct::Game, 30, 30)];
        assert!(check_rules(&mut order).unwrap_err().0.contains("review_after_min"));
        let mut dup = vec![
            rule(StuckProduct::Game, None, Some("江苏"), 5),
            rule(StuckProduct::Game, None, Some("江苏省 "), 7),
        ];
        let e = check_rules(&mut dup).unwrap_err().0;
        assert!(e.contains("规则 2") && e.contains("rule 1"), "{e}");
        let mut blank = vec![rule(StuckProduct::Game, None, Some("  "), 5)];
        check_rules(&mut blank).unwrap();
        assert_eq!(blank[0].province, None, "a blank province means any");
    }
}
