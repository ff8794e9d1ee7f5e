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

use crate::contract::{ErrorCode, Message};
use crate::run::EngineError;

/// What an operation can fail with: a stable code (the window branches on it) and a message in
/// Chinese and English naming the field.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// `field` names the field (Chinese, English).
    Field {
        field: (&'static str, &'static str),
        message: Message,
    },
    NotFound {
        what: &'static str,
        what_en: &'static str,
        id: String,
    },
    /// An engine setting (by its dotted key) that cannot be stored.
    EngineSetting {
        key: String,
        message: Message,
    },
    Engine(#[from] EngineError),
    Book(#[from] crate::book::BookError),
    Secret(#[from] crate::secrets::SecretError),
    Settings(#[from] crate::secrets::SettingsError),
    Provider(#[from] topup_providers::ProviderError),
    Import(#[from] crate::import::ImportError),
    Refused(#[from] crate::order::Refused),
}

crate::coded!(ApiError);

impl ApiError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::Field { .. } => ErrorCode::InvalidField,
            ApiError::NotFound { .. } => ErrorCode::NotFound,
            ApiError::EngineSetting { .. } => ErrorCode::InvalidSetting,
            ApiError::Engine(e) => e.code(),
            ApiError::Book(e) => e.code(),
            ApiError::Secret(e) => e.code(),
            ApiError::Settings(e) => e.code(),
            ApiError::Provider(_) => ErrorCode::ProviderError,
            ApiError::Import(e) => e.code(),
            ApiError::Refused(e) => e.code(),
        }
    }

    pub fn message(&self) -> Message {
        match self {
            ApiError::Field { field: (zh, en), message } => {
                Message::new(format!("{zh}：{}", message.zh), format!("{en}: {}", message.en))
            }
            ApiError::NotFound { what, what_en, id } => crate::msg!("找不到{what} {id}", "no {what_en} {id}"),
            ApiError::EngineSetting { key, message } => {
                Message::new(format!("设置 {key}：{}", message.zh), format!("setting {key}: {}", message.en))
            }
            ApiError::Engine(e) => e.message(),
            ApiError::Book(e) => e.message(),
            ApiError::Secret(e) => e.message(),
            ApiError::Settings(e) => e.message(),
            ApiError::Provider(e) => Message::verbatim(e.to_string()),
            ApiError::Import(e) => e.message(),
            ApiError::Refused(e) => e.message(),
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

pub(crate) fn field(field: (&'static str, &'static str), message: Message) -> ApiError {
    ApiError::Field { field, message }
}

pub(crate) fn parse_id(name: (&'static str, &'static str), id: &str) -> Result<i64, ApiError> {
    id.trim().parse::<i64>().map_err(|_| field(name, crate::msg!("编号“{id}”无效", "invalid id")))
}

/// A provider named by a front end (`dingyin`, `oper`, `juhe`).
pub fn provider_id(name: &str) -> ApiResult<topup_core::ProviderId> {
    name.trim().parse().map_err(|e: topup_core::ParseIdError| {
        field(("供应商", "provider"), Message::verbatim(e.to_string()))
    })
}
