//! The operations layer: everything a person can do with Topup Desk, one operation per function,
//! shared by every front end (the window's Tauri commands and the command line).
//!
//! Why one layer (GitButler's `but-api`): before, the window went through a facade and the command
//! line kept its own copies of the same operations (saving a provider, adding an order, reading
//! balances, choosing a provider), and the copies drifted. Now a front end only turns what it was
//! given into a raw request (the deserializable struct the window sends, or the flags of a
//! subcommand), calls one function here, and shows the typed result or the typed [`ApiError`]. The
//! rules themselves live below this layer: an order's in [`crate::order`] and the providers crate,
//! storage in [`crate::book`] (the only place with SQL), scheduling in [`crate::run`]. Nothing here
//! knows about Tauri or a terminal.
//!
//! One file per domain: [`orders`] (list, enter, resolve), [`phone`] (what a number is),
//! [`balances`], [`providers`] (accounts and the provider for a new order), [`settings`] (the engine
//! settings, also by dotted key), [`import`] and [`export`], [`report`] (报表 and its xlsx), [`stuck`] (the
//! stuck-order rules and notices); the balance drift watch ([`balance_watch`]: every read kept and
//! judged) and the daily statement ([`balance_statement`]).

pub mod balance_statement;
pub mod balance_watch;
pub mod balances;
pub mod export;
pub mod import;
pub mod orders;
pub mod phone;
pub mod providers;
pub mod reconcile;
pub mod report;
pub mod settings;
pub mod stuck;

pub use balances::{balance, balances, local_day_start, provider_stats, BalanceRow, Balances};
pub use export::{export, export_to, ExportResult};
pub use import::{import_commit, import_preview, ImportRequest};
pub use orders::{
    add_order, add_raw, batch_counts, check, check_raw, find_order, list_orders, order_detail, order_id,
    preflight, preflight_raw, query_order, resolve, resubmit, state_counts, ElectricityInput, NewOrderInput,
    OrderDetail, OrderQuery, Preflight,
};
pub use phone::{apply_telcheck, phone_info, segment_info, PhoneInfo};
pub use providers::{
    available_providers, default_provider, provider_views, remove_provider, save_provider,
    shown_provider_settings, ProviderSettingsView,
};
pub use settings::{get_setting, save_engine_settings, set_setting, settings_view, SettingsView};
pub use topup_providers::rules::area::parse_area;

use crate::run::EngineError;

/// What an operation can fail with: a stable code (the window branches on it) and a message in
/// Chinese and English naming the field.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{field}：{message}")]
    Field { field: &'static str, message: String },
    #[error("找不到{what} {id} / no {what_en} {id}")]
    NotFound { what: &'static str, what_en: &'static str, id: String },
    /// An engine setting (by its dotted key) that cannot be stored.
    #[error("设置 {key}：{message}")]
    EngineSetting { key: String, message: String },
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

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Field { .. } => "invalid_field",
            ApiError::NotFound { .. } => "not_found",
            ApiError::EngineSetting { .. } => "invalid_setting",
            ApiError::Engine(e) => e.code(),
            ApiError::Book(e) => e.code(),
            ApiError::Secret(e) => e.code(),
            ApiError::Settings(e) => e.code(),
            ApiError::Provider(_) => "provider_error",
            ApiError::Import(e) => e.code(),
            ApiError::Refused(e) => e.code(),
        }
    }

    /// Whether the caller asked for something wrong (bad input, unknown order) rather than the
    /// operation failing: the command line's exit code 2 instead of 1.
    pub fn is_usage(&self) -> bool {
        match self {
            ApiError::Field { .. } | ApiError::NotFound { .. } | ApiError::EngineSetting { .. } => true,
            ApiError::Refused(_) => true,
            ApiError::Settings(_) | ApiError::Provider(_) => true,
            ApiError::Import(e) => e.is_usage(),
            ApiError::Engine(_) | ApiError::Book(_) | ApiError::Secret(_) => false,
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

pub(crate) fn field(field: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::Field { field, message: message.into() }
}

pub(crate) fn parse_id(name: &'static str, id: &str) -> Result<i64, ApiError> {
    id.trim().parse::<i64>().map_err(|_| field(name, format!("编号“{id}”无效 / invalid id")))
}

/// A provider named by a front end (`dingyin`, `oper`, `juhe`).
pub fn provider_id(name: &str) -> ApiResult<topup_core::ProviderId> {
    name.trim().parse().map_err(|e: topup_core::ParseIdError| field("供应商 / provider", e.to_string()))
}
