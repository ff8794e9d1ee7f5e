//! Batch import from spreadsheets (xlsx, xls, ods, csv/txt) and export of orders.
//!
//! Why in two steps, [`preview`] then [`commit`]: money is at stake, so every row of the file is read
//! and validated, and every duplicate found, before anything is written; the user (or `--dry-run`)
//! sees the same [`Preview`] that the commit will store. The commit then writes all valid rows as one
//! batch in ONE transaction with fresh merchant order ids — a crash or an error leaves no partial batch
//! — and the engine's submit loop picks the new orders up from the book. The importer does no network
//! I/O: the provider's balance, when known, is passed in by the caller.
//!
//! Layout: [`read`] (format sniffing, text encodings, merged cells), [`columns`] (headings and
//! mappings), [`validate`] (row → order or messages), [`dupes`] (three kinds of duplicate),
//! [`preview`] (the report and the price estimate), [`commit`], [`export`] (xlsx/csv).

pub mod columns;
pub mod commit;
pub mod dupes;
pub mod export;
pub mod preview;
pub mod read;
pub mod validate;

pub use columns::{ColumnMapping, ColumnRef, Field, Layout};
pub use commit::{commit, CommitOptions, Committed};
pub use export::{export_orders, ExportFormat};
pub use preview::{estimated_cost, preview, Preview, PreviousImport, RowResult, RowStatus, Totals};
pub use read::{FileFormat, SheetInfo, SourceFile, TextEncoding};
pub use validate::{ImportedOrder, Level, RowMessage};

use crate::book::BookError;
use crate::contract::{ErrorCode, Message};
use crate::msg;
use topup_core::{Li, ProductKind, ProviderId};

/// Default window for "already ordered" duplicates: one day.
pub const DEFAULT_DUPLICATE_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// What the caller decides about an import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportOptions {
    pub provider: ProviderId,
    /// The kind of every row without a 类型 column; default phone (electricity when the sheet has a
    /// 电网 column).
    pub kind: Option<ProductKind>,
    /// Sheet name; default the first visible sheet.
    pub sheet: Option<String>,
    pub mappings: Vec<ColumnMapping>,
    /// `Some(false)`: the sheet has no heading row; `None`: detect.
    pub header: Option<bool>,
    /// Duplicates are reported as warnings instead of making rows invalid.
    pub allow_duplicates: bool,
    /// How far back an order with the same account and face value counts as a duplicate.
    pub duplicate_window_ms: i64,
    /// The provider's current balance, if the caller knows it (the importer does no network I/O).
    pub balance: Option<Li>,
    /// The price list for rows without a 售价 value; `None`: the one saved in the order book's
    /// engine settings (what the window and the command line use).
    pub prices: Option<crate::sale::PriceList>,
}

impl ImportOptions {
    pub fn new(provider: ProviderId) -> ImportOptions {
        ImportOptions {
            provider,
            kind: None,
            sheet: None,
            mappings: Vec::new(),
            header: None,
            allow_duplicates: false,
            duplicate_window_ms: DEFAULT_DUPLICATE_WINDOW_MS,
            balance: None,
            prices: None,
        }
    }
}

/// Why an import (or export) could not go ahead. Row problems are not errors: they are in the preview.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    Io { path: String, message: String },
    EmptyFile(String),
    UnknownFormat { file: String, detail: String },
    Spreadsheet { format: &'static str, message: String },
    NoSuchSheet { name: String, available: String },
    NoVisibleSheet,
    Mapping(Message),
    MissingColumn { field: &'static str, field_en: &'static str, seen: String },
    InvalidRows { invalid: usize, duplicates: usize },
    AlreadyImported { batch_id: i64 },
    ChangedSincePreview(String),
    NothingToImport,
    Write { path: String, message: String },
    Book(#[from] BookError),
}

crate::coded!(ImportError);

impl ImportError {
    /// A stable machine-readable code for the UI and the command line.
    pub fn code(&self) -> ErrorCode {
        match self {
            ImportError::Io { .. } => ErrorCode::IoError,
            ImportError::EmptyFile(_) => ErrorCode::EmptyFile,
            ImportError::UnknownFormat { .. } => ErrorCode::UnknownFormat,
            ImportError::Spreadsheet { .. } => ErrorCode::UnreadableSpreadsheet,
            ImportError::NoSuchSheet { .. } => ErrorCode::NoSuchSheet,
            ImportError::NoVisibleSheet => ErrorCode::NoVisibleSheet,
            ImportError::Mapping(_) => ErrorCode::BadMapping,
            ImportError::MissingColumn { .. } => ErrorCode::MissingColumn,
            ImportError::InvalidRows { .. } => ErrorCode::InvalidRows,
            ImportError::AlreadyImported { .. } => ErrorCode::AlreadyImported,
            ImportError::ChangedSincePreview(_) => ErrorCode::ChangedSincePreview,
            ImportError::NothingToImport => ErrorCode::NothingToImport,
            ImportError::Write { .. } => ErrorCode::WriteError,
            ImportError::Book(e) => e.code(),
        }
    }

    /// What went wrong, in Chinese and English.
    pub fn message(&self) -> Message {
        match self {
            ImportError::Io { path, message } => msg!("无法读取文件 {path}：{message}", "cannot read {path}: {message}"),
            ImportError::EmptyFile(f) => msg!("文件 {f} 是空的", "file {f} is empty"),
            ImportError::UnknownFormat { file, detail } => {
                msg!("无法识别文件 {file} 的格式：{detail}", "unrecognised file format of {file}")
            }
            ImportError::Spreadsheet { format, message } => msg!(
                "文件按 {format} 读取失败（文件可能已损坏或加密）：{message}",
                "cannot read the file as {format} (damaged or encrypted?): {message}"
            ),
            ImportError::NoSuchSheet { name, available } => msg!(
                "没有名为“{name}”的工作表（有：{available}）",
                "no sheet named “{name}” (there are: {available})"
            ),
            ImportError::NoVisibleSheet => msg!("文件中没有可见的工作表", "the file has no visible sheet"),
            ImportError::Mapping(m) => m.clone(),
            ImportError::MissingColumn { field, field_en, seen } => msg!(
                "找不到“{field}”列（未识别的表头：{seen}），请用映射指定，如 A={field_en}",
                "no “{field_en}” column found (unrecognised headings: {seen}); map one, e.g. A={field_en}"
            ),
            ImportError::InvalidRows { invalid, duplicates } => msg!(
                "有 {invalid} 行无效、{duplicates} 行重复，未导入任何订单（可用“跳过无效行”只导入有效行）",
                "{invalid} invalid and {duplicates} duplicate rows: nothing imported (skip invalid rows to import the valid ones)"
            ),
            ImportError::AlreadyImported { batch_id } => msg!(
                "此文件已于批次 {batch_id} 导入过，未再次导入（如确需重复导入，请允许重复）",
                "this file was already imported as batch {batch_id}: not imported again (allow duplicates to import it anyway)"
            ),
            ImportError::ChangedSincePreview(which) => msg!(
                "预览之后又有相同账号和面值的订单写入（{which}），请重新预览",
                "orders with the same account and face value were written after the preview ({which}): preview again"
            ),
            ImportError::NothingToImport => msg!("没有可导入的有效行", "no valid rows to import"),
            ImportError::Write { path, message } => msg!("无法写入文件 {path}：{message}", "cannot write {path}: {message}"),
            ImportError::Book(e) => e.message(),
        }
    }

    /// Whether the error is about the file or the request (exit code 2) rather than its rows (1).
    pub fn is_usage(&self) -> bool {
        !matches!(
            self,
            ImportError::InvalidRows { .. }
                | ImportError::AlreadyImported { .. }
                | ImportError::ChangedSincePreview(_)
                | ImportError::NothingToImport
                | ImportError::Book(_)
        )
    }
}
