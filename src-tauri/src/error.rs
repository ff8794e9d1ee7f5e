//! The one error shape the UI sees: `{code, message}`. The code is stable and the UI branches on it;
//! the message is Chinese first, then English, and never contains a secret (it passes redaction).

use serde::Serialize;

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct CmdError {
    pub code: String,
    pub message: String,
}

impl CmdError {
    pub fn new(code: &str, message: impl AsRef<str>) -> CmdError {
        CmdError { code: code.to_owned(), message: topup_engine::redact::text(message.as_ref()).into_owned() }
    }
}

macro_rules! from_coded {
    ($($t:ty),*) => {$(
        impl From<$t> for CmdError {
            fn from(e: $t) -> Self {
                CmdError::new(e.code(), e.to_string())
            }
        }
    )*};
}

from_coded!(
    topup_engine::book::BookError,
    topup_engine::secrets::SecretError,
    topup_engine::run::EngineError,
    topup_engine::api::ApiError,
    topup_engine::import::ImportError,
    topup_engine::reconcile::ReconcileError
);

pub type CmdResult<T> = Result<T, CmdError>;
