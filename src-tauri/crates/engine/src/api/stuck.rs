//! Stuck-order rules and notices as the window and the command line use them: read the rules, add,
//! change or remove one, replace them all, and claim the flags not yet notified. The rules live in the
//! engine settings (`stuck_rules`), so any settings editor reaches them too; what they mean:
//! [`crate::run::stuck`].

use crate::book::{Book, BookError, StuckNotice};
use crate::config::EngineSettings;
use crate::run::stuck::{check_rules, StuckProduct, StuckRule};
use crate::run::Engine;
use topup_core::ProviderId;

/// The rules in force (the defaults until someone changes them).
pub fn rules(book: &Book) -> Result<Vec<StuckRule>, BookError> {
    Ok(EngineSettings::load(book)?.stuck_rules)
}

/// Replaces every rule (checked first: nothing is stored if one is wrong), and hands the new settings
/// to the running engine, if any. Returns the rules as stored.
pub fn set_rules(
    book: &Book,
    engine: Option<&Engine>,
    mut rules: Vec<StuckRule>,
) -> Result<Vec<StuckRule>, BookError> {
    check_rules(&mut rules).map_err(|e| BookError::Invalid(e.0))?;
    let settings = EngineSettings { stuck_rules: rules.clone(), ..EngineSettings::load(book)? };
    settings.save(book)?;
    if let Some(engine) = engine {
        engine.set_settings(EngineSettings { stuck_rules: rules.clone(), ..engine.settings() });
    }
    Ok(rules)
}

/// Whether two rules are for the same product, provider and province (as entered).
fn same_scope(
    a: &StuckRule,
    product: StuckProduct,
    provider: Option<ProviderId>,
    province: Option<&str>,
) -> bool {
    a.product == product && a.provider == provider && a.province.as_deref() == province.map(str::trim)
}

/// Adds a rule, or changes the limits of the rule for the same product, provider and province.
pub fn put_rule(book: &Book, engine: Option<&Engine>, rule: StuckRule) -> Result<Vec<StuckRule>, BookError> {
    let mut all = rules(book)?;
    match all.iter_mut().find(|r| same_scope(r, rule.product, rule.provider, rule.province.as_deref())) {
        Some(r) => *r = rule,
        None => all.push(rule),
    }
    set_rules(book, engine, all)
}

/// Removes the rule for exactly this product, provider and province; refused if there is none.
pub fn remove_rule(
    book: &Book,
    engine: Option<&Engine>,
    product: StuckProduct,
    provider: Option<ProviderId>,
    province: Option<&str>,
) -> Result<Vec<StuckRule>, BookError> {
    let mut all = rules(book)?;
    let before = all.len();
    all.retain(|r| !same_scope(r, product, provider, province));
    if all.len() == before {
        return Err(BookError::Invalid(format!(
            "没有这条超时规则（{product}） / no such stuck rule ({product}, provider {}, province {})",
            provider.map_or("-", ProviderId::as_str),
            province.unwrap_or("-")
        )));
    }
    set_rules(book, engine, all)
}

/// The overdue and review flags raised since the last call, marked as told in the same transaction
/// (see [`crate::book::Tx::claim_stuck_notices`]): show them after this returns.
pub fn claim_notices(book: &Book, limit: usize) -> Result<Vec<StuckNotice>, BookError> {
    book.write(|tx| tx.claim_stuck_notices(limit))
}
