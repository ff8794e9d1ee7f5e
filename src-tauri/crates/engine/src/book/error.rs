//! Errors of the order book, each with a stable code the UI can branch on.

use super::OrderState;
use crate::contract::{ErrorCode, Message};
use crate::msg;

#[derive(Debug, thiserror::Error)]
pub enum BookError {
    Sqlite(#[from] rusqlite::Error),
    TooNew {
        found: i64,
        supported: i64,
    },
    IllegalTransition {
        order: String,
        from: OrderState,
        to: OrderState,
    },
    NotFound(String),
    /// Something other than an order that is not there, worded by the caller (`找不到余额记录 7`).
    NoSuch(Message),
    DuplicateMerchantId(String),
    Corrupt(String),
    Io(String, String),
    /// A refusal worded by the caller.
    Invalid(Message),
    CommitFailed(String),
}

crate::coded!(BookError);

impl BookError {
    /// A stable machine-readable code for the UI and the command line.
    pub fn code(&self) -> ErrorCode {
        match self {
            BookError::Sqlite(_) => ErrorCode::DbError,
            BookError::TooNew { .. } => ErrorCode::DbTooNew,
            BookError::IllegalTransition { .. } => ErrorCode::IllegalTransition,
            BookError::NotFound(_) | BookError::NoSuch(_) => ErrorCode::NotFound,
            BookError::DuplicateMerchantId(_) => ErrorCode::DuplicateOrderId,
            BookError::Corrupt(_) => ErrorCode::DbCorrupt,
            BookError::Io(..) => ErrorCode::IoError,
            BookError::Invalid(_) => ErrorCode::Invalid,
            BookError::CommitFailed(_) => ErrorCode::DbCommitFailed,
        }
    }

    /// What went wrong, in Chinese and English.
    pub fn message(&self) -> Message {
        match self {
            BookError::Sqlite(e) => msg!("订单库错误：{e}", "order book error: {e}"),
            BookError::TooNew { found, supported } => msg!(
                "订单库由更新版本的充值台创建（版本 {found}，本程序支持到 {supported}），请升级程序",
                "the order book was written by a newer Topup Desk (schema {found}, this binary supports {supported}): upgrade"
            ),
            BookError::IllegalTransition { order, from, to } => Message::new(
                format!("订单 {order} 不能从“{}”变为“{}”", from.label_zh(), to.label_zh()),
                format!("order {order} cannot go from {from} to {to}"),
            ),
            BookError::NotFound(id) => msg!("找不到订单 {id}", "no order {id}"),
            BookError::DuplicateMerchantId(id) => msg!("商户订单号 {id} 已存在", "merchant order id {id} already exists"),
            BookError::Corrupt(d) => msg!("订单库数据异常：{d}", "order book data is inconsistent: {d}"),
            BookError::Io(dir, e) => msg!("无法访问目录 {dir}：{e}", "cannot use directory {dir}: {e}"),
            BookError::Invalid(m) | BookError::NoSuch(m) => m.clone(),
            BookError::CommitFailed(e) => {
                msg!("订单库提交失败，本次写入未保存：{e}", "the order book commit failed, nothing was saved: {e}")
            }
        }
    }
}
