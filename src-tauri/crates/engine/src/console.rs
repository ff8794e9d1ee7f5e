//! What the console window asks of the engine, as plain functions on engine types.
//!
//! Why a facade: Tauri commands must stay one line each and hold no logic, and the same answers must be
//! testable without a window. Inputs arrive in the UI's shape (camelCase, money as text typed by a
//! person, ids as strings) and are validated here into engine types, with errors that name the field.

use crate::book::{Book, Order, OrderFilter, OrderState};
use crate::config::{EngineSettings, Registry};
use crate::import::Field;
use crate::order::{Cell, CheckedOrder, FieldMessage, Origin, RawOrder};
use crate::run::{Engine, EngineError};
use crate::secrets::{fields, BookKeys, SecretStore};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use topup_core::{Li, ProductKind, ProviderId};
use topup_providers::{Carrier, PhoneProduct};

/// Errors for the console, each with a stable code and a message naming the field.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("{field}：{message}")]
    Field { field: &'static str, message: String },
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Book(#[from] crate::book::BookError),
    #[error(transparent)]
    Secret(#[from] crate::secrets::SecretError),
    #[error(transparent)]
    Settings(#[from] crate::secrets::SettingsError),
    #[error(transparent)]
    Provider(#[from] topup_providers::ProviderError),
    #[error(transparent)]
    Import(#[from] crate::import::ImportError),
    #[error(transparent)]
    Refused(#[from] crate::order::Refused),
}

impl ConsoleError {
    pub fn code(&self) -> &'static str {
        match self {
            ConsoleError::Field { .. } => "invalid_field",
            ConsoleError::Engine(e) => e.code(),
            ConsoleError::Book(e) => e.code(),
            ConsoleError::Secret(e) => e.code(),
            ConsoleError::Settings(e) => e.code(),
            ConsoleError::Provider(_) => "provider_error",
            ConsoleError::Import(e) => e.code(),
            ConsoleError::Refused(e) => e.code(),
        }
    }
}

fn field(field: &'static str, message: impl Into<String>) -> ConsoleError {
    ConsoleError::Field { field, message: message.into() }
}

fn parse_id(name: &'static str, id: &str) -> Result<i64, ConsoleError> {
    id.trim().parse::<i64>().map_err(|_| field(name, format!("编号“{id}”无效 / invalid id")))
}

/// The order list query, as the UI sends it.
#[derive(Clone, Debug, Default, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase", default)]
pub struct OrderQuery {
    pub states: Vec<OrderState>,
    pub provider: Option<ProviderId>,
    pub batch_id: Option<String>,
    pub created_from: Option<i64>,
    pub created_to: Option<i64>,
    pub search: Option<String>,
    pub needs_attention: bool,
    pub offset: i64,
    pub limit: i64,
}

impl OrderQuery {
    pub fn filter(&self) -> Result<OrderFilter, ConsoleError> {
        Ok(OrderFilter {
            states: self.states.clone(),
            provider: self.provider,
            batch_id: self
                .batch_id
                .as_deref()
                .filter(|b| !b.is_empty())
                .map(|b| parse_id("批次 / batch", b))
                .transpose()?,
            created_from: self.created_from,
            created_to: self.created_to,
            search: self.search.clone(),
            needs_attention: self.needs_attention,
            offset: self.offset,
            limit: self.limit,
        })
    }
}

#[derive(Clone, Debug, Deserialize, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct ElectricityInput {
    pub grid: String,
    pub mobile: Option<String>,
    pub id_card: Option<String>,
    pub account_type: Option<String>,
    pub province: Option<String>,
    pub city: Option<String>,
}

/// A new order as typed in the order-entry screen.
#[derive(Clone, Debug, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct NewOrderInput {
    pub provider: Option<ProviderId>,
    pub kind: ProductKind,
    pub account: String,
    pub face: String,
    pub product_id: Option<String>,
    pub area: Option<String>,
    pub server: Option<String>,
    pub quantity: Option<u32>,
    pub electricity: Option<ElectricityInput>,
    /// 售价 as typed (yuan); empty: the price list decides ([`crate::sale`]).
    #[serde(default)]
    #[ts(optional = nullable)]
    pub sale: Option<String>,
    /// 客户.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub customer: Option<String>,
}

impl NewOrderInput {
    /// The form's values as a raw order, nothing checked yet (see [`crate::order`]).
    pub fn raw(&self) -> RawOrder<'_> {
        let mut raw = RawOrder::new(Origin::Form, self.provider);
        raw.text(Field::Kind, Some(self.kind.as_str()))
            .text(Field::Account, Some(&self.account))
            .text(Field::Face, Some(&self.face))
            .text(Field::Product, self.product_id.as_deref())
            .text(Field::Area, self.area.as_deref())
            .text(Field::Server, self.server.as_deref())
            .text(Field::Sale, self.sale.as_deref())
            .text(Field::Customer, self.customer.as_deref());
        if let Some(q) = self.quantity {
            raw.set(Field::Quantity, Cell::Int(i64::from(q)));
        }
        if let Some(e) = &self.electricity {
            raw.text(Field::Grid, Some(&e.grid))
                .text(Field::PayerMobile, e.mobile.as_deref())
                .text(Field::IdCard, e.id_card.as_deref())
                .text(Field::AccountType, e.account_type.as_deref())
                .text(Field::Province, e.province.as_deref())
                .text(Field::City, e.city.as_deref());
        }
        raw
    }

    /// Checks the order against every rule, the provider from `ctx`'s routing when none was chosen;
    /// errors name the field in Chinese and English. (The window uses [`check`], which also asks the
    /// configured provider.)
    pub fn check(&self, ctx: &crate::order::Context<'_>) -> Result<CheckedOrder, ConsoleError> {
        Ok(crate::order::check(&self.raw(), ctx).into_result(Origin::Form)?)
    }
}

/// Checks an order typed in the order-entry screen: every rule, the engine's routing, and the
/// configured provider's own check.
pub fn check(engine: &Engine, input: &NewOrderInput) -> Result<CheckedOrder, ConsoleError> {
    Ok(crate::order::check_with_engine(engine, &input.raw()).into_result(Origin::Form)?)
}

/// What is known about a mobile number.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct PhoneInfo {
    /// The segment's original carrier, or juhe's answer (right for ported numbers).
    pub carrier: Option<Carrier>,
    /// From the 7-digit number segment (porting keeps a number in its province), or juhe's area when
    /// it names a province.
    pub province: Option<String>,
    pub city: Option<String>,
    /// `segment` (number prefix only: unreliable for ported numbers) or `telcheck` (juhe asked).
    #[ts(type = "\"segment\" | \"telcheck\"")]
    pub source: &'static str,
    pub supported: Option<bool>,
    pub message: Option<String>,
}

const PROVINCES: &[&str] = &[
    "北京",
    "天津",
    "河北",
    "山西",
    "内蒙古",
    "辽宁",
    "吉林",
    "黑龙江",
    "上海",
    "江苏",
    "浙江",
    "安徽",
    "福建",
    "江西",
    "山东",
    "河南",
    "湖北",
    "湖南",
    "广东",
    "广西",
    "海南",
    "重庆",
    "四川",
    "贵州",
    "云南",
    "西藏",
    "陕西",
    "甘肃",
    "青海",
    "宁夏",
    "新疆",
];

/// Splits juhe's `game_area` ("浙江杭州移动") into province, city and carrier.
pub fn parse_area(area: &str) -> (Option<String>, Option<String>, Option<Carrier>) {
    let carrier = if area.ends_with("移动") {
        Some(Carrier::Mobile)
    } else if area.ends_with("联通") {
        Some(Carrier::Unicom)
    } else if area.ends_with("电信") {
        Some(Carrier::Telecom)
    } else {
        None
    };
    let rest = area.trim_end_matches("移动").trim_end_matches("联通").trim_end_matches("电信");
    match PROVINCES.iter().find(|p| rest.starts_with(*p)) {
        Some(p) => {
            let city = rest[p.len()..].trim();
            (Some((*p).to_owned()), (!city.is_empty()).then(|| city.to_owned()), carrier)
        }
        None => (None, None, carrier),
    }
}

/// What the number segment alone says, without asking anyone: carrier, province and city from the
/// 7-digit table ([`topup_providers::phone_segments`], data of April 2020); for segments opened since,
/// the carrier from oper's 3-digit list and no region. `number` is the 11 digits (anything else: all
/// `None`).
pub fn segment_info(number: &str) -> PhoneInfo {
    let segment = topup_providers::phone_segments::lookup(number);
    PhoneInfo {
        carrier: segment.map(|s| s.carrier).or_else(|| topup_providers::oper::segments::carrier_of(number)),
        province: segment.map(|s| s.province.to_owned()),
        city: segment.map(|s| s.city.to_owned()),
        source: "segment",
        ..PhoneInfo::default()
    }
}

/// Puts juhe's telcheck/telquery answer over the segment's: its carrier when it names one (right for
/// ported numbers), its province and city when it names a province (the segment's city is kept only
/// when juhe names the same province and no city).
pub fn apply_telcheck(info: &mut PhoneInfo, product: &PhoneProduct) {
    info.source = "telcheck";
    info.supported = Some(product.supported);
    info.message = product.message.clone().or(product.card_name.clone());
    if let Some(area) = &product.area {
        let (province, city, carrier) = parse_area(area);
        if let Some(province) = province {
            if info.province.as_deref() != Some(province.as_str()) || city.is_some() {
                info.city = city;
            }
            info.province = Some(province);
        }
        if carrier.is_some() {
            info.carrier = carrier;
        }
    }
}

/// The carrier, province and city from the number segment, then juhe's telcheck/telquery when juhe
/// is available (asked once per number and face within the lookup cache's TTL, under juhe's limits:
/// see `run::lookup`).
pub async fn phone_info(
    engine: &Engine,
    number: &str,
    face: Option<&str>,
) -> Result<PhoneInfo, ConsoleError> {
    // Read as the order check reads them, so the lookup here and the preflight's share one answer.
    let (number, _) = crate::order::text::normalise_number_text(number, true);
    let mut info = segment_info(&number);
    if !topup_providers::rules::phone::is_mobile(&number) {
        return Ok(info);
    }
    let face = face
        .and_then(|f| crate::order::text::face_value(&Cell::Text(f), &mut Vec::new()))
        .unwrap_or(Li::from_yuan(10));
    if let Some(Ok(product)) = engine.phone_product(&number, face).await {
        apply_telcheck(&mut info, &product);
    }
    Ok(info)
}

/// What the confirmation dialog shows before money moves, and what the order check says about the
/// input (the window decides nothing itself: see [`crate::order`]).
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct Preflight {
    pub provider: ProviderId,
    pub phone: Option<PhoneInfo>,
    pub cost: Option<Li>,
    pub cost_source: Option<String>,
    pub duplicates: Vec<Order>,
    pub duplicate_window_ms: u64,
    /// Everything that stops the order, as `中文 / English` text: each error of `messages` (as
    /// [`FieldMessage::text`]), and a provider that is not configured.
    pub problems: Vec<String>,
    /// What the order check found, by field: errors and warnings.
    pub messages: Vec<FieldMessage>,
    /// The face values (yuan) the provider sells for this kind when it sells only some.
    #[ts(type = "Array<number> | null")]
    pub sold_faces: Option<Vec<i64>>,
    /// The sale price the order will store ([`crate::sale`]: typed, else the price list); `null`: unknown.
    #[ts(optional = nullable)]
    pub sale: Option<Li>,
    #[ts(optional = nullable)]
    pub sale_source: Option<crate::sale::SaleSource>,
}

pub async fn preflight(engine: &Engine, input: &NewOrderInput) -> Result<Preflight, ConsoleError> {
    let checked = crate::order::check_with_engine(engine, &input.raw());
    let Some(provider) = checked.provider else {
        return Err(checked.into_result(Origin::Form).err().map_or_else(
            || field("供应商 / provider", "没有可用的供应商 / no provider available"),
            ConsoleError::from,
        ));
    };
    let settings = engine.settings();
    let mut problems: Vec<String> = checked.errors().map(FieldMessage::text).collect();
    if engine.provider(provider).is_none() {
        problems.push(format!("{} 未配置 / {provider} is not configured", provider.label_zh()));
    }
    let (mut duplicates, mut cost, mut cost_source) = (Vec::new(), None, None);
    let face = checked.order.as_ref().map(CheckedOrder::face);
    if let Some(order) = &checked.order {
        let since = crate::book::now_ms() - i64::try_from(settings.duplicate_window_ms).unwrap_or(i64::MAX);
        duplicates = engine.book().recent_same_orders(order.account(), order.face(), since)?;
    }
    let mut phone = None;
    if input.kind == ProductKind::Phone {
        let info = phone_info(engine, &input.account, Some(&input.face)).await?;
        if let (ProviderId::Juhe, Some(order)) = (provider, &checked.order) {
            if let Some(Ok(p)) = engine.phone_product(order.account(), order.face()).await {
                cost = p.in_price;
                cost_source = cost.map(|_| "聚合 telquery 进价 / juhe telquery inprice".to_owned());
            }
        }
        phone = Some(info);
    }
    if let (None, Some(face)) = (cost, face) {
        cost = Some(crate::import::estimated_cost(provider, face));
        cost_source = Some("按供应商折扣估算 / estimated from the provider's discount".to_owned());
    }
    Ok(Preflight {
        provider,
        phone,
        cost,
        cost_source,
        duplicates,
        duplicate_window_ms: settings.duplicate_window_ms,
        problems,
        sold_faces: topup_providers::rules::face::sold_faces(provider, checked.kind.unwrap_or(input.kind))
            .map(<[i64]>::to_vec),
        sale: checked.order.as_ref().and_then(|o| o.sale().amount),
        sale_source: checked.order.as_ref().and_then(|o| o.sale().source),
        messages: checked.messages,
    })
}

pub fn resolve(engine: &Engine, id: &str, outcome: &str, note: &str) -> Result<Order, ConsoleError> {
    let state = match outcome {
        "succeeded" => OrderState::Succeeded,
        "failed" => OrderState::Failed,
        other => return Err(field("处理结果 / outcome", format!("“{other}”无效 / invalid"))),
    };
    Ok(engine.resolve(parse_id("订单 / order", id)?, state, note)?)
}

pub fn order_id(id: &str) -> Result<i64, ConsoleError> {
    parse_id("订单 / order", id)
}

/// One provider's balance as last read.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct BalanceRow {
    pub provider: ProviderId,
    pub balance: Option<Li>,
    pub error: Option<String>,
    pub read_at: i64,
    pub sandbox: bool,
    pub low_threshold: Option<Li>,
    pub low: bool,
}

pub async fn balance(engine: &Engine, provider: ProviderId) -> BalanceRow {
    let settings = engine.settings();
    let low_threshold = settings.low_balance.get(provider.as_str()).copied().map(Li);
    let (balance, error) = match engine.provider(provider) {
        None => (None, Some(format!("{} 未配置 / not configured", provider.label_zh()))),
        Some(client) => match client.balance().await.0 {
            Ok(b) => (Some(b.amount), None),
            Err(e) => (None, Some(crate::redact::text(&e.to_string()).into_owned())),
        },
    };
    let low = matches!((balance, low_threshold), (Some(b), Some(t)) if b < t);
    BalanceRow {
        provider,
        balance,
        error,
        read_at: crate::book::now_ms(),
        sandbox: engine.sandbox(),
        low_threshold,
        low,
    }
}

/// A provider's settings for the settings screen: never the secret, only whether one is stored.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct ProviderSettingsView {
    pub id: ProviderId,
    pub configured: bool,
    pub has_secret: bool,
    /// As stored (snake_case keys); `{}` when the provider is not configured.
    #[ts(type = "Record<string, unknown>")]
    pub settings: serde_json::Value,
    #[ts(type = "Record<string, unknown>")]
    pub defaults: serde_json::Value,
    /// Address fields (`base_url`, `query_base_url`) that send requests in clear text to another
    /// machine (`http://`, not loopback), stored or by default: the screen warns beside each.
    pub plain_http: Vec<String>,
}

#[derive(Clone, Debug, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct SettingsView {
    pub sandbox: bool,
    pub providers: Vec<ProviderSettingsView>,
    pub engine: EngineSettings,
    pub callback_listening: Option<String>,
    pub data_dir: String,
    pub db_path: String,
}

pub fn settings_view(
    book: &Book,
    secrets: &SecretStore,
    callback_listening: Option<String>,
    data_dir: &std::path::Path,
) -> Result<SettingsView, ConsoleError> {
    let mut providers = Vec::new();
    let keys = BookKeys::open(book, secrets)?;
    for id in ProviderId::ALL {
        let stored = shown_provider_settings(book, id)?;
        let configured = stored.is_some();
        let has_secret = configured && matches!(secrets.get(&keys.account(id)), Ok(Some(_)));
        let settings = stored.unwrap_or_else(|| serde_json::json!({}));
        providers.push(ProviderSettingsView {
            id,
            configured,
            has_secret,
            plain_http: topup_providers::plain_http_fields(id, &settings)
                .into_iter()
                .map(str::to_owned)
                .collect(),
            settings,
            defaults: topup_providers::default_settings(id),
        });
    }
    Ok(SettingsView {
        sandbox: !Registry::any_configured(book)?,
        providers,
        engine: EngineSettings::load(book)?,
        callback_listening,
        data_dir: data_dir.display().to_string(),
        db_path: book.path().display().to_string(),
    })
}

/// A provider's stored settings as they may be shown (the settings screen, `provider list`): never a
/// secret, even one an older version left in the order book ([`fields::public_view`]).
pub fn shown_provider_settings(
    book: &Book,
    id: ProviderId,
) -> Result<Option<serde_json::Value>, ConsoleError> {
    Ok(book.provider_settings(id)?.map(|s| fields::public_view(&s)))
}

/// Saves a provider's settings, for every front end (the window, `topup-desk provider set`).
///
/// `settings` may carry the key (`secret`, `key`, `md5key` or `appkey`), `secret` may give it beside
/// them; [`fields::split`] takes it out and refuses what it cannot place, so nothing secret reaches
/// SQLite. Without a key the book's stored one is kept (the first save needs one). The settings are
/// validated by building the client before anything is stored; the key goes to the keyring first.
pub fn save_provider(
    book: &Book,
    secrets: &SecretStore,
    id: ProviderId,
    settings: &serde_json::Value,
    secret: Option<String>,
) -> Result<(), ConsoleError> {
    let split = fields::split(settings, secret.as_deref())?;
    let account = BookKeys::open(book, secrets)?.account(id);
    let secret = match split.secret {
        Some(s) => s,
        None => secrets
            .get(&account)?
            .ok_or_else(|| field("密钥 / secret", "首次保存必须填写密钥 / required the first time"))?,
    };
    topup_providers::build(id, &split.public, secret.clone())?;
    secrets.set(&account, &secret)?;
    book.write(|tx| tx.put_provider_settings(id, &split.public))?;
    Ok(())
}

pub fn remove_provider(book: &Book, secrets: &SecretStore, id: ProviderId) -> Result<(), ConsoleError> {
    let account = BookKeys::open(book, secrets)?.account(id);
    book.write(|tx| {
        tx.conn().execute("DELETE FROM provider_settings WHERE provider = ?1", [id.as_str()])?;
        tx.changed(crate::book::Change::Settings);
        Ok(())
    })?;
    secrets.delete(&account)?;
    Ok(())
}

/// Today's local midnight, in ms.
pub fn local_day_start() -> i64 {
    let now = time::OffsetDateTime::now_utc()
        .to_offset(time::UtcOffset::current_local_offset().unwrap_or(time::UtcOffset::UTC));
    let midnight = now.replace_time(time::Time::MIDNIGHT);
    midnight.unix_timestamp() * 1000
}

/// Provider → balance rows, kept for the low-balance notification.
pub type Balances = BTreeMap<ProviderId, BalanceRow>;

/// A spreadsheet import as the UI sends it: the file's bytes and the user's choices.
#[derive(Clone, Debug, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct ImportRequest {
    pub file_name: String,
    pub bytes: Vec<u8>,
    pub provider: ProviderId,
    #[serde(default)]
    pub sheet: Option<String>,
    /// Column (letter or heading) → field name.
    #[serde(default)]
    pub mapping: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub allow_duplicates: bool,
    #[serde(default)]
    pub has_header: Option<bool>,
    /// Import the valid rows and leave the invalid ones out (the user confirmed this).
    #[serde(default)]
    pub skip_invalid: bool,
}

fn import_options(
    engine: &Engine,
    balances: &std::sync::Mutex<Balances>,
    request: &ImportRequest,
) -> Result<crate::import::ImportOptions, ConsoleError> {
    let mut opts = crate::import::ImportOptions::new(request.provider);
    opts.sheet = request.sheet.clone().filter(|s| !s.is_empty());
    opts.header = request.has_header;
    opts.allow_duplicates = request.allow_duplicates;
    opts.duplicate_window_ms = i64::try_from(engine.settings().duplicate_window_ms).unwrap_or(i64::MAX);
    opts.balance =
        balances.lock().unwrap_or_else(|p| p.into_inner()).get(&request.provider).and_then(|r| r.balance);
    for (column, field_name) in request.mapping.iter().flatten() {
        if field_name.trim().is_empty() {
            continue;
        }
        opts.mappings
            .push(crate::import::ColumnMapping { column: column.clone(), field: field_name.parse()? });
    }
    Ok(opts)
}

pub fn import_preview(
    book: &Book,
    engine: &Engine,
    balances: &std::sync::Mutex<Balances>,
    request: &ImportRequest,
) -> Result<crate::import::Preview, ConsoleError> {
    let file = crate::import::SourceFile::from_bytes(request.file_name.clone(), request.bytes.clone())?;
    Ok(crate::import::preview(book, &file, &import_options(engine, balances, request)?)?)
}

/// Previews again (the file and the book may have changed) and commits the batch in one transaction.
pub fn import_commit(
    book: &Book,
    engine: &Engine,
    balances: &std::sync::Mutex<Balances>,
    request: &ImportRequest,
) -> Result<crate::import::Committed, ConsoleError> {
    let preview = import_preview(book, engine, balances, request)?;
    let opts = crate::import::CommitOptions { skip_invalid: request.skip_invalid, ..Default::default() };
    let committed = crate::import::commit(book, &preview, &opts)?;
    engine.poke();
    Ok(committed)
}

/// Exports the orders matching `query` to `<data dir>/exports/`. Returns the file and row count.
pub fn export(
    book: &Book,
    data_dir: &std::path::Path,
    query: &OrderQuery,
    format: &str,
) -> Result<(std::path::PathBuf, usize), ConsoleError> {
    let (format, ext) = match format {
        "xlsx" => (crate::import::ExportFormat::Xlsx, "xlsx"),
        "csv" => (crate::import::ExportFormat::Csv, "csv"),
        other => {
            return Err(field(
                "格式 / format",
                format!("“{other}”无效，应为 xlsx 或 csv / must be xlsx or csv"),
            ))
        }
    };
    let dir = data_dir.join("exports");
    std::fs::create_dir_all(&dir).map_err(|e| field("导出目录 / export folder", e.to_string()))?;
    let stamp = crate::import::export::format_time(crate::book::now_ms()).replace([' ', ':', '-'], "");
    let path = dir.join(format!("订单导出-{stamp}.{ext}"));
    let mut filter = query.filter()?;
    filter.offset = 0;
    let rows = crate::import::export_orders(book, &filter, &path, format)?;
    Ok((path, rows))
}
