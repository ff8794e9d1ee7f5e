//! `topup-desk rules`: the stuck-order rules (when an order still waiting is overdue, when a person
//! must look) listed, set, removed or reset. The rules are engine settings; every change goes through
//! `topup_engine::api::stuck`, which checks it like the settings screen. A running window picks a
//! change up when its session restarts.

use crate::cli_out::{api_fail, emit, fail, open, FAILED, USAGE};
use clap::Subcommand;
use std::path::Path;
use std::process::ExitCode;
use topup_engine::api::stuck as api;
use topup_engine::run::stuck::{default_rules, StuckProduct, StuckRule};
use topup_engine::ProviderId;

#[derive(Subcommand, Debug)]
pub enum RulesCmd {
    /// 列出规则 / list the rules
    List {
        #[arg(long)]
        json: bool,
    },
    /// 新增规则，或修改同一产品、供应商、省份的规则 / add a rule, or change the one for the same product,
    /// provider and province
    Set {
        /// phone_fast | phone_slow | electricity_fast | electricity_slow | game | douyin（或 话费快充 …）
        product: String,
        /// 首次提交后多少分钟标记超时 / minutes after the first send until overdue
        #[arg(long, value_name = "MIN")]
        overdue: u32,
        /// 首次提交后多少分钟转人工 / minutes after the first send until a person looks
        #[arg(long, value_name = "MIN")]
        review: u32,
        /// 只用于此供应商 / only for this provider (dingyin, oper, juhe)
        #[arg(long)]
        provider: Option<String>,
        /// 只用于此省份 / only for this province (e.g. 江苏)
        #[arg(long)]
        province: Option<String>,
    },
    /// 删除规则 / remove a rule
    Remove {
        product: String,
        #[arg(long)]
        provider: Option<String>,
        #[arg(long)]
        province: Option<String>,
    },
    /// 恢复默认规则 / back to the default rules
    Reset,
}

fn scope(product: &str, provider: Option<&str>) -> Result<(StuckProduct, Option<ProviderId>), ExitCode> {
    let product = product.parse::<StuckProduct>().map_err(|e| fail(USAGE, e))?;
    let provider = provider.map(|p| topup_engine::api::provider_id(p).map_err(api_fail)).transpose()?;
    Ok((product, provider))
}

fn print(rules: &[StuckRule], json: bool) {
    emit(json, &rules, |rules| print_text(rules));
}

fn print_text(rules: &[StuckRule]) {
    println!("product\tprovider\tprovince\toverdue_min\treview_min");
    for r in rules {
        println!(
            "{}\t{}\t{}\t{}\t{}\t# {}",
            r.product,
            r.provider.map_or("*", ProviderId::as_str),
            r.province.as_deref().unwrap_or("*"),
            r.overdue_after_min,
            r.review_after_min,
            r.scope_zh()
        );
    }
}

pub fn rules(cmd: RulesCmd, data_dir: Option<&Path>) -> ExitCode {
    let (_dir, book) = match open(data_dir) {
        Ok(v) => v,
        Err(c) => return c,
    };
    let result = match cmd {
        RulesCmd::List { json } => {
            return match api::rules(&book) {
                Ok(r) => {
                    print(&r, json);
                    ExitCode::SUCCESS
                }
                Err(e) => fail(FAILED, e),
            }
        }
        RulesCmd::Set { product, overdue, review, provider, province } => {
            let (product, provider) = match scope(&product, provider.as_deref()) {
                Ok(v) => v,
                Err(c) => return c,
            };
            let rule = StuckRule {
                product,
                provider,
                province,
                overdue_after_min: overdue,
                review_after_min: review,
            };
            api::put_rule(&book, None, rule)
        }
        RulesCmd::Remove { product, provider, province } => {
            let (product, provider) = match scope(&product, provider.as_deref()) {
                Ok(v) => v,
                Err(c) => return c,
            };
            api::remove_rule(&book, None, product, provider, province.as_deref())
        }
        RulesCmd::Reset => api::set_rules(&book, None, default_rules()),
    };
    match result {
        Ok(r) => {
            print(&r, false);
            ExitCode::SUCCESS
        }
        // A refused rule is the input's fault: exit code 2, the message names the rule and field.
        Err(e @ topup_engine::book::BookError::Invalid(_)) => fail(USAGE, e),
        Err(e) => fail(FAILED, e),
    }
}
