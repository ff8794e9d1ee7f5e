//! The typed wire contract shared by every front end: one error-code enum, bilingual messages as a
//! pair, and the id newtypes that travel as strings.
//!
//! Why here: the window (through Tauri), the command line and the UI's dev server all report the same
//! failures; a code decided once as an enum reaches TypeScript as a union type (ts-rs), so the UI
//! branches on a name the compiler checks instead of a free string. A message is built as its two
//! halves at the source, so nothing splits a glued `"中文 / English"` again; the glued form exists
//! only for logs and the command line, derived from the pair ([`Message`]'s `Display`).

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! codes {
    ($($(#[$doc:meta])* $v:ident = $n:literal,)*) => {
        /// Every stable error code a command, the command line or an import can return. The wire
        /// form is the snake_case name (`invalid_field`, `db_too_new`, …).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
        #[ts(export)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode {
            $($(#[$doc])* $v,)*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$v),*];

            /// The wire name (`"invalid_field"`), for plain-text output and logs.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$v => $n,)*
                }
            }
        }
    };
}

codes!(
    DbError = "db_error",
    DbTooNew = "db_too_new",
    DbCorrupt = "db_corrupt",
    DbCommitFailed = "db_commit_failed",
    IllegalTransition = "illegal_transition",
    NotFound = "not_found",
    DuplicateOrderId = "duplicate_order_id",
    IoError = "io_error",
    Invalid = "invalid",
    InvalidField = "invalid_field",
    InvalidLocale = "invalid_locale",
    InvalidSetting = "invalid_setting",
    KeyringUnavailable = "keyring_unavailable",
    KeyringCorrupt = "keyring_corrupt",
    SecretEmpty = "secret_empty",
    ProviderError = "provider_error",
    ProviderConfig = "provider_config",
    NoProvider = "no_provider",
    CallbackRefused = "callback_refused",
    StartFailed = "start_failed",
    EmptyFile = "empty_file",
    UnknownFormat = "unknown_format",
    UnreadableSpreadsheet = "unreadable_spreadsheet",
    NoSuchSheet = "no_such_sheet",
    NoVisibleSheet = "no_visible_sheet",
    BadMapping = "bad_mapping",
    MissingColumn = "missing_column",
    InvalidRows = "invalid_rows",
    AlreadyImported = "already_imported",
    ChangedSincePreview = "changed_since_preview",
    NothingToImport = "nothing_to_import",
    WriteError = "write_error",
    /// A failure of the app itself (a background task that died).
    Internal = "internal",
);

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Lets a test say `assert_eq!(err.code(), "invalid_field")` with the wire name.
impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// A message in both languages. On the wire: `{ "zh": …, "en": … }` (flattened into the error or
/// row that carries it). `en` is empty when `zh` is text from elsewhere that is shown as it is (a
/// provider's own message).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct Message {
    pub zh: String,
    pub en: String,
}

impl Message {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Message {
        Message { zh: zh.into(), en: en.into() }
    }

    /// Text that has one form only (a provider's message, an operating-system error): shown as is.
    pub fn verbatim(text: impl Into<String>) -> Message {
        Message { zh: text.into(), en: String::new() }
    }

    /// Applies `f` to both halves (redaction, a prefix).
    pub fn map(self, mut f: impl FnMut(&str) -> String) -> Message {
        Message { zh: f(&self.zh), en: if self.en.is_empty() { String::new() } else { f(&self.en) } }
    }
}

/// A message is the reason of a refused parse (an id's `FromStr`, a command-line value).
impl std::error::Error for Message {}

/// Text with one form only (see [`Message::verbatim`]).
impl From<&str> for Message {
    fn from(text: &str) -> Message {
        Message::verbatim(text)
    }
}

impl From<String> for Message {
    fn from(text: String) -> Message {
        Message::verbatim(text)
    }
}

/// `中文 / English` (or the one form), for logs and the command line.
impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.en.is_empty() {
            f.write_str(&self.zh)
        } else {
            write!(f, "{} / {}", self.zh, self.en)
        }
    }
}

/// `msg!("中文 {x}", "English {x}")`: a [`Message`] from two format strings.
#[macro_export]
macro_rules! msg {
    ($zh:literal, $en:literal $(,)?) => {
        $crate::contract::Message { zh: format!($zh), en: format!($en) }
    };
}

/// Defines an id newtype over the book's integer row id. It travels as a string (JavaScript numbers
/// lose integers above 2^53; ts type `string`), reads back from a string or a number, and refuses
/// anything else with a message naming the id.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $zh:literal, $en:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, ts_rs::TS)]
        #[ts(export, type = "string")]
        pub struct $name(pub i64);

        impl $name {
            pub const fn get(self) -> i64 {
                self.0
            }

            /// For a field kept as `i64` inside the engine: `#[serde(serialize_with = "…")]`.
            pub fn serialize_raw<S: serde::Serializer>(id: &i64, s: S) -> Result<S::Ok, S::Error> {
                $name(*id).serialize(s)
            }

            /// The same for an optional id (`null` when absent).
            pub fn serialize_opt_raw<S: serde::Serializer>(id: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
                id.map($name).serialize(s)
            }
        }

        impl From<i64> for $name {
            fn from(id: i64) -> $name {
                $name(id)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = Message;
            fn from_str(text: &str) -> Result<$name, Message> {
                text.trim().parse::<i64>().map($name).map_err(|_| {
                    Message::new(format!("{}“{text}”无效", $zh), format!("invalid {} “{text}”", $en))
                })
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                #[derive(Deserialize)]
                #[serde(untagged)]
                enum Raw {
                    Text(String),
                    Number(i64),
                }
                match Raw::deserialize(d)? {
                    Raw::Number(n) => Ok($name(n)),
                    Raw::Text(t) => t.parse().map_err(|m: Message| serde::de::Error::custom(m)),
                }
            }
        }
    };
}

id_type!(
    /// An order (the order book's row id; not the merchant order id sent to providers).
    OrderId,
    "订单编号",
    "order id"
);
id_type!(
    /// An import batch.
    BatchId,
    "批次编号",
    "batch id"
);
id_type!(
    /// A reconciliation run (对账).
    RunId,
    "对账编号",
    "reconciliation run"
);
id_type!(
    /// A kept balance read (the end of a balance window).
    BalanceReadId,
    "余额记录编号",
    "balance read id"
);

/// An error every front end can show: a stable code and a message in both languages.
pub trait Coded {
    fn code(&self) -> ErrorCode;
    fn message(&self) -> Message;
}

/// For error types with inherent `code()` and `message()`: implements [`Coded`], and `Display` (the
/// glued form for logs) from the message, so the two halves are written once, at the source.
#[macro_export]
macro_rules! coded {
    ($($t:ty),* $(,)?) => {$(
        impl $crate::contract::Coded for $t {
            fn code(&self) -> $crate::contract::ErrorCode {
                <$t>::code(self)
            }
            fn message(&self) -> $crate::contract::Message {
                <$t>::message(self)
            }
        }
        impl ::std::fmt::Display for $t {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&<$t>::message(self), f)
            }
        }
    )*};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_its_wire_name() {
        for code in ErrorCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), serde_json::json!(code.as_str()));
        }
    }

    #[test]
    fn ids_travel_as_strings_and_read_back_from_strings_or_numbers() {
        assert_eq!(
            serde_json::to_value(OrderId(9_007_199_254_740_993)).unwrap(),
            serde_json::json!("9007199254740993")
        );
        assert_eq!(serde_json::from_value::<OrderId>(serde_json::json!(" 42 ")).unwrap(), OrderId(42));
        assert_eq!(serde_json::from_value::<BatchId>(serde_json::json!(7)).unwrap(), BatchId(7));
        let err = serde_json::from_value::<OrderId>(serde_json::json!("x1")).unwrap_err().to_string();
        assert!(err.contains("订单编号“x1”无效") && err.contains("invalid order id"), "{err}");
        let map: std::collections::BTreeMap<OrderId, u8> = [(OrderId(3), 1)].into();
        assert_eq!(serde_json::to_string(&map).unwrap(), r#"{"3":1}"#);
    }

    #[test]
    fn message_glues_only_for_logs() {
        let m = Message::new("余额不足", "balance too low");
        assert_eq!(
            serde_json::to_value(&m).unwrap(),
            serde_json::json!({"zh": "余额不足", "en": "balance too low"})
        );
        assert_eq!(m.to_string(), "余额不足 / balance too low");
        assert_eq!(Message::verbatim("timeout").to_string(), "timeout");
    }
}
