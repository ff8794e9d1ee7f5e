//! Errors of the order book, each with a stable code the UI can branch on.

use super::OrderState;

#[derive(Debug, thiserror::Error)]
pub enum BookError {
    #[error("订单库错误：{0} / order book error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error(
        "订单库由更新版本的充值台创建（版本 {found}，本程序支持到 {supported}），请升级程序 / \
         the order book was written by a newer Topup Desk (schema {found}, this binary supports {supported}): upgrade"
    )]
    TooNew { found: i64, supported: i64 },
    #[error("订单 {order} 不能从“{}”变为“{}” / order {order} cannot go from {from} to {to}", from.label_zh(), to.label_zh())]
    IllegalTransition { order: String, from: OrderState, to: OrderState },
    #[error("找不到订单 {0} / no order {0}")]
    NotFound(String),
    #[error("商户订单号 {0} 已存在 / merchant order id {0} already exists")]
    DuplicateMerchantId(String),
    #[error("订单库数据异常：{0} / order book data is inconsistent: {0}")]
    Corrupt(String),
    #[error("无法访问目录 {0}：{1} / cannot use directory {0}: {1}")]
    Io(String, String),
    #[error("{0}")]
    Invalid(String),
    #[error("订单库提交失败，本次写入未保存：{0} / the order book commit failed, nothing was saved: {0}")]
    CommitFailed(String),
}

impl BookError {
    /// A stable machine-readable code for the UI and the command line.
    pub fn code(&self) -> &'static str {
        match self {
            BookError::Sqlite(_) => "db_error",
            BookError::TooNew { .. } => "db_too_new",
            BookError::IllegalTransition { .. } => "illegal_transition",
            BookError::NotFound(_) => "not_found",
            BookError::DuplicateMerchantId(_) => "duplicate_order_id",
            BookError::Corrupt(_) => "db_corrupt",
            BookError::Io(..) => "io_error",
            BookError::Invalid(_) => "invalid",
            BookError::CommitFailed(_) => "db_commit_failed",
        }
    }
}
