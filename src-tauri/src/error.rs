//! The one error shape the UI sees: `{code, zh, en}`. The code is one of the engine's
//! [`ErrorCode`]s (a union type in TypeScript) and the UI branches on it; the message comes in both
//! languages as written at its source, and never contains a secret (both halves pass redaction).

use serde::Serialize;
use topup_engine::contract::{ErrorCode, Message};

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct CmdError {
    pub code: ErrorCode,
    #[serde(flatten)]
    #[ts(flatten)]
    pub message: Message,
}

impl CmdError {
    pub fn new(code: ErrorCode, message: Message) -> CmdError {
        CmdError { code, message: message.map(|t| topup_engine::redact::text(t).into_owned()) }
    }
}

impl std::fmt::Display for CmdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

macro_rules! from_coded {
    ($($t:ty),*) => {$(
        impl From<$t> for CmdError {
            fn from(e: $t) -> Self {
                CmdError::new(e.code(), e.message())
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
    topup_engine::session::SessionError,
    topup_engine::reconcile::ReconcileError,
    topup_engine::report::ReportError
);

pub type CmdResult<T> = Result<T, CmdError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_travels_as_its_code_and_both_halves_redacted() {
        let e = CmdError::from(topup_engine::book::BookError::NotFound("42".into()));
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"code": "not_found", "zh": "找不到订单 42", "en": "no order 42"})
        );
        let secret = CmdError::new(
            ErrorCode::Internal,
            Message::new("密钥 key=abcdef1234567890", "key=abcdef1234567890"),
        );
        assert!(!serde_json::to_string(&secret).unwrap().contains("abcdef1234567890"));
    }
}
