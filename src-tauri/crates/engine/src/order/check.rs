//! The one check: a [`RawOrder`] from any front end → a [`CheckedOrder`], or messages naming the field.
//!
//! Every message has a stable code (`not_a_phone`, `face_not_sold`, …) and Chinese and English text;
//! the front end says where the field is (a form label, a flag, a row and column, a line). All rules
//! run and every problem is reported, not only the first; the provider's own pure check runs last, on
//! an order that passed everything else, so nothing is accepted here that submit would refuse.

use super::text::{face_value, half_width, is_blank, money_value, number_like, plain_text, Digits};
use super::{id_card, words, Cell, Checked, CheckedOrder, Context, FieldMessage, Level, Origin, RawOrder};
use crate::import::Field;
use crate::run::Engine;
use crate::sale::{SaleSource, MAX_CUSTOMER_CHARS};
use topup_core::{Li, ProductKind, ProviderId};
use topup_providers::rules::face::{self, FaceRefusal};
use topup_providers::rules::phone::is_mobile;
use topup_providers::{Electricity, Grid};

/// Most units of a per-unit product in one order (the order form's limit, now everyone's).
pub const MAX_QUANTITY: u32 = 999_999;

/// A merchant order id for checks before the order has one (the shape every provider takes).
const CHECKING_ID: &str = "TD000000000000CHECKING";

fn missing(field: Field, zh: &str, en: &str) -> FieldMessage {
    FieldMessage::new(
        Level::Error,
        "missing_value",
        Some(field),
        format!("缺少{}{zh}", field.label_zh()),
        format!("{} is missing{en}", field.as_str()),
    )
}

fn error(code: &'static str, field: Option<Field>, zh: String, en: String) -> FieldMessage {
    FieldMessage::new(Level::Error, code, Some(field).flatten(), zh, en)
}

/// Checks `raw` against every rule. See the module doc.
pub fn check(raw: &RawOrder<'_>, ctx: &Context<'_>) -> Checked {
    const EMPTY: Cell<'static> = Cell::Empty;
    let cell = |f: Field| raw.get(f).unwrap_or(&EMPTY);
    let text_of = |f: Field| plain_text(cell(f));
    let mut msgs: Vec<FieldMessage> = Vec::new();

    // Kind: as given, else the caller's default.
    let mut kind = ctx.default_kind;
    if let Some(t) = text_of(Field::Kind) {
        match words::kind(&t) {
            Some(k) => kind = k,
            None => msgs.push(error(
                "bad_kind",
                Some(Field::Kind),
                format!("无法识别的类型“{t}”（话费/电费/游戏/抖币）"),
                format!("unknown kind “{t}” (phone/electricity/game/douyin)"),
            )),
        }
    }

    // Provider: as chosen, else the routing for the kind.
    let provider = raw.provider.or_else(|| ctx.settings.default_provider(kind, ctx.available));
    match provider {
        None => msgs.push(error(
            "no_provider",
            None,
            format!("没有可用于{}的供应商", kind.label_zh()),
            format!("no provider available for {kind}"),
        )),
        Some(p) if !p.sells(kind) => msgs.push(error(
            "kind_not_sold",
            Some(Field::Kind),
            format!("{}不卖{}", p.label_zh(), kind.label_zh()),
            format!("{p} does not sell {kind}"),
        )),
        Some(_) => {}
    }

    // Account.
    let acc = cell(Field::Account);
    let account = match kind {
        ProductKind::Phone => {
            match number_like(acc, Field::Account, ("手机号", "phone number"), Digits::Only, &mut msgs) {
                Some(p) if p.is_empty() => {
                    msgs.push(missing(Field::Account, "", ""));
                    None
                }
                Some(p) if !is_mobile(&p) => {
                    msgs.push(error(
                        "not_a_phone",
                        Some(Field::Account),
                        format!("“{p}”不是 11 位、以 1 开头的手机号（{} 位）", p.len()),
                        format!(
                            "“{p}” is not an 11-digit mobile number starting with 1 ({} digits)",
                            p.len()
                        ),
                    ));
                    None
                }
                v => v,
            }
        }
        ProductKind::Electricity => {
            match number_like(acc, Field::Account, ("户号", "account number"), Digits::Alnum, &mut msgs) {
                Some(a) if a.is_empty() => {
                    msgs.push(missing(Field::Account, "（户号）", " (account number)"));
                    None
                }
                v => v,
            }
        }
        ProductKind::Game | ProductKind::Douyin => {
            let v = match acc {
                Cell::Float(_) | Cell::Int(_) => {
                    number_like(acc, Field::Account, ("账号", "account"), Digits::Only, &mut msgs)
                }
                _ => plain_text(acc).map(|s| s.chars().map(half_width).collect()),
            };
            if v.as_deref().is_none_or(str::is_empty) && !msgs.iter().any(|m| m.level == Level::Error) {
                msgs.push(missing(Field::Account, "", ""));
            }
            v.filter(|s: &String| !s.is_empty())
        }
    };

    // Face value, and whether the provider sells it.
    let product_id = text_of(Field::Product);
    let face = if is_blank(cell(Field::Face)) {
        msgs.push(missing(Field::Face, "", ""));
        None
    } else {
        face_value(cell(Field::Face), &mut msgs)
    };
    if let Some(face) = face {
        // Without a provider, only the rule every provider shares: more than zero.
        let refusal = match provider {
            Some(p) => face::check(p, kind, product_id.is_some(), face).err(),
            None => face::positive(face).err(),
        };
        if let Some(r) = refusal {
            msgs.push(face_refused(r, face, provider, kind));
        }
    }

    // Details.
    let mut quantity: u32 = 1;
    if let Some(q) = raw.get(Field::Quantity).filter(|c| !is_blank(c)) {
        match number_like(q, Field::Quantity, ("数量", "quantity"), Digits::Only, &mut Vec::new())
            .and_then(|q| q.parse::<u32>().ok())
        {
            Some(q) if (1..=MAX_QUANTITY).contains(&q) => quantity = q,
            _ => msgs.push(error(
                "bad_quantity",
                Some(Field::Quantity),
                format!("数量须为 1 到 {MAX_QUANTITY} 的整数"),
                format!("quantity must be a whole number from 1 to {MAX_QUANTITY}"),
            )),
        }
    }
    let mut carrier = None;
    if let Some(t) = text_of(Field::Carrier) {
        match words::carrier(&t) {
            Some(c) => carrier = Some(c),
            None => msgs.push(error(
                "bad_carrier",
                Some(Field::Carrier),
                format!("无法识别的运营商“{t}”（移动/联通/电信）"),
                format!("unknown carrier “{t}” (mobile/unicom/telecom)"),
            )),
        }
    }
    let mut electricity = None;
    match kind {
        ProductKind::Game => {
            if product_id.is_none() && provider == Some(ProviderId::Dingyin) {
                msgs.push(missing(Field::Product, "（游戏须填写商品编号）", " (games need a product id)"));
            }
        }
        ProductKind::Electricity => electricity = check_electricity(raw, &mut msgs),
        ProductKind::Phone | ProductKind::Douyin => {}
    }

    let (given_sale, customer) = check_sale(raw, &mut msgs);

    // 快充 or 慢充: only phone and electricity top-ups come in both.
    let mut slow = false;
    if let Some(t) = text_of(Field::Speed) {
        match (words::slow(&t), kind) {
            (None, _) => msgs.push(error(
                "bad_speed",
                Some(Field::Speed),
                format!("无法识别的“{t}”（快充/慢充）"),
                format!("unknown speed “{t}” (fast/slow)"),
            )),
            (Some(true), ProductKind::Game | ProductKind::Douyin) => msgs.push(error(
                "speed_not_sold",
                Some(Field::Speed),
                format!("{}没有慢充，只有话费和电费有", kind.label_zh()),
                format!("{kind} has no slow top-up; only phone and electricity do"),
            )),
            (Some(s), _) => slow = s,
        }
    }

    let mut checked = Checked { messages: msgs, order: None, kind: Some(kind), provider };
    let (Some(account), Some(face), Some(provider)) = (account, face, provider) else { return checked };
    if checked.has_errors() {
        return checked;
    }
    let order = CheckedOrder {
        provider,
        kind,
        account,
        face,
        product_id,
        quantity,
        area: text_of(Field::Area),
        server: text_of(Field::Server),
        carrier,
        electricity,
        note: text_of(Field::Note),
        sale: ctx.settings.prices.decide(given_sale, kind, provider, face),
        customer,
        slow,
    };
    // The provider's own pure check: what submit would refuse is refused here.
    if let Err(e) = topup_providers::check_order(provider, &order.submit_request(CHECKING_ID)) {
        checked.messages.push(error("provider_refuses", None, e.to_string(), String::new()));
        return checked;
    }
    checked.order = Some(order);
    checked
}

/// The sale price as given (exact money, not negative, with where it came from) and the customer
/// (at most [`MAX_CUSTOMER_CHARS`] characters). Absent or blank: not given.
fn check_sale(
    raw: &RawOrder<'_>,
    msgs: &mut Vec<FieldMessage>,
) -> (Option<(Li, SaleSource)>, Option<String>) {
    let source = match raw.origin {
        Origin::Form => SaleSource::Form,
        Origin::Flags => SaleSource::Cli,
        Origin::Sheet { .. } => SaleSource::Import,
        Origin::Line(_) => SaleSource::Chat,
    };
    let given = match raw.get(Field::Sale).filter(|c| !is_blank(c)) {
        None => None,
        Some(c) => match money_value(c, Field::Sale, ("售价", "sale price"), "sale_not_money", msgs) {
            Some(v) if v < Li::ZERO => {
                msgs.push(error(
                    "sale_negative",
                    Some(Field::Sale),
                    format!("售价 {v} 不能为负数"),
                    format!("sale price {v} cannot be negative"),
                ));
                None
            }
            v => v.map(|v| (v, source)),
        },
    };
    let customer = raw.get(Field::Customer).and_then(plain_text);
    if let Some(c) = &customer {
        let n = c.chars().count();
        if n > MAX_CUSTOMER_CHARS {
            msgs.push(error(
                "customer_too_long",
                Some(Field::Customer),
                format!("客户名称有 {n} 个字，最多 {MAX_CUSTOMER_CHARS} 个"),
                format!("customer name has {n} characters, at most {MAX_CUSTOMER_CHARS}"),
            ));
        }
    }
    (given, customer)
}

/// The message for a face value the provider cannot sell.
fn face_refused(r: FaceRefusal, face: Li, provider: Option<ProviderId>, kind: ProductKind) -> FieldMessage {
    let (p_zh, p) = provider.map_or(("", ""), |p| (p.label_zh(), p.as_str()));
    let (code, zh, en) = match r {
        FaceRefusal::NotPositive => (
            "face_not_positive",
            format!("面值 {face} 必须大于 0"),
            format!("face value {face} must be positive"),
        ),
        FaceRefusal::NotWholeYuan => (
            "face_not_whole",
            format!("面值 {face} 元不是整数元，{p_zh}的{}只能按整元充值", kind.label_zh()),
            format!("face value {face} is not a whole number of yuan, which {p} requires for {kind}"),
        ),
        FaceRefusal::NotSold(sold) => {
            let sold = face::faces_text(sold);
            (
                "face_not_sold",
                format!("{p_zh}不卖面值 {face} 元（只有 {sold}）"),
                format!("{p} does not sell a face value of {face} (only {sold})"),
            )
        }
        FaceRefusal::NotFen => (
            "face_not_fen",
            format!("面值 {face} 不是整分"),
            format!("face value {face} is not a whole number of fen"),
        ),
    };
    error(code, Some(Field::Face), zh, en)
}

/// 国网 needs the payer's mobile number, 南网 the ID card number (dingyin's note 1).
fn check_electricity(raw: &RawOrder<'_>, msgs: &mut Vec<FieldMessage>) -> Option<Electricity> {
    let present = |f: Field| raw.get(f).filter(|c| !is_blank(c));
    let text_of = |f: Field| raw.get(f).and_then(plain_text);
    let grid = match raw.get(Field::Grid) {
        Some(c) => match plain_text(c) {
            Some(t) => {
                let g = words::grid(&t);
                if g.is_none() {
                    msgs.push(error(
                        "bad_grid",
                        Some(Field::Grid),
                        format!("无法识别的电网“{t}”（国网/南网）"),
                        format!("unknown grid “{t}” (State Grid 国网 / Southern Grid 南网)"),
                    ));
                }
                g
            }
            None => {
                msgs.push(missing(Field::Grid, "（国网/南网）", " (国网 State / 南网 South)"));
                None
            }
        },
        None if matches!(raw.origin, Origin::Sheet { .. }) => {
            msgs.push(missing(Field::Grid, "（表中没有电网列）", " (the sheet has no grid column)"));
            None
        }
        None => {
            msgs.push(missing(
                Field::Grid,
                "（请选择国网或南网）",
                " (choose State Grid 国网 or Southern Grid 南网)",
            ));
            None
        }
    }?;
    let (mut mobile, mut id_card) = (None, None);
    match grid {
        Grid::State => match present(Field::PayerMobile) {
            Some(c) => {
                match number_like(c, Field::PayerMobile, ("缴费手机号", "payer mobile"), Digits::Only, msgs)
                {
                    Some(m) if is_mobile(&m) => mobile = Some(m),
                    Some(m) => msgs.push(error(
                        "not_a_phone",
                        Some(Field::PayerMobile),
                        format!("缴费手机号“{m}”不是 11 位手机号"),
                        format!("payer mobile “{m}” is not an 11-digit mobile number"),
                    )),
                    None => {}
                }
            }
            None => msgs.push(missing(
                Field::PayerMobile,
                "（国网电费须填写缴费人手机号）",
                " (State Grid needs the payer's mobile)",
            )),
        },
        Grid::South => match present(Field::IdCard) {
            Some(c) => {
                if let Some(id) =
                    number_like(c, Field::IdCard, ("身份证号", "ID card number"), Digits::Alnum, msgs)
                {
                    match id_card::check(&id) {
                        Ok(id) => id_card = Some(id),
                        Err(id_card::IdCardError::Shape) => msgs.push(error(
                            "bad_id_card",
                            Some(Field::IdCard),
                            format!("身份证号“{id}”应为 18 位（或旧的 15 位数字）"),
                            format!("ID card number “{id}” must have 18 characters (or the old 15 digits)"),
                        )),
                        Err(id_card::IdCardError::CheckDigit) => msgs.push(error(
                            "id_card_checksum",
                            Some(Field::IdCard),
                            format!("身份证号“{id}”的校验位不符，请核对"),
                            format!("the check digit of ID card number “{id}” does not match: check it"),
                        )),
                    }
                }
            }
            None => msgs.push(missing(
                Field::IdCard,
                "（南网电费须填写身份证号）",
                " (Southern Grid needs the ID card number)",
            )),
        },
    }
    Some(Electricity {
        grid,
        mobile,
        id_card,
        account_type: text_of(Field::AccountType),
        province: text_of(Field::Province),
        city: text_of(Field::City),
    })
}

/// [`check`] for an order entered by hand (the form, the command line): the provider from the
/// engine's routing when none was chosen, and — when that provider is configured — its client's own
/// check with its account settings (e.g. oper's callback address).
pub fn check_with_engine(engine: &Engine, raw: &RawOrder<'_>) -> Checked {
    let settings = engine.settings();
    let available = engine.providers();
    let ctx = Context { default_kind: ProductKind::Phone, settings: &settings, available: &available };
    let mut checked = check(raw, &ctx);
    if let Some(order) = &checked.order {
        if let Some(client) = engine.provider(order.provider()) {
            if let Err(e) = client.validate(&order.submit_request(CHECKING_ID)) {
                checked.messages.push(error("provider_refuses", None, e.to_string(), String::new()));
                checked.order = None;
            }
        }
    }
    checked
}
