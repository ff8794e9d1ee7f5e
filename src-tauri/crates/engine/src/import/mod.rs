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
    #[error("无法读取文件 {path}：{message} / cannot read {path}: {message}")]
    Io { path: String, message: String },
    #[error("文件 {0} 是空的 / file {0} is empty")]
    EmptyFile(String),
    #[error("无法识别文件 {file} 的格式：{detail} / unrecognised file format of {file}")]
    UnknownFormat { file: String, detail: String },
    #[error("文件按 {format} 读取失败（文件可能已损坏或加密）：{message} / cannot read the file as {format} (damaged or encrypted?): {message}")]
    Spreadsheet { format: &'static str, message: String },
    #[error(
        "没有名为“{name}”的工作表（有：{available}） / no sheet named “{name}” (there are: {available})"
    )]
    NoSuchSheet { name: String, available: String },
    #[error("文件中没有可见的工作表 / the file has no visible sheet")]
    NoVisibleSheet,
    #[error("{0}")]
    Mapping(String),
    #[error("找不到“{field}”列（未识别的表头：{seen}），请用映射指定，如 A={field_en} / no “{field_en}” column found (unrecognised headings: {seen}); map one, e.g. A={field_en}")]
    MissingColumn { field: &'static str, field_en: &'static str, seen: String },
    #[error("有 {invalid} 行无效、{duplicates} 行重复，未导入任何订单（可用“跳过无效行”只导入有效行） / {invalid} invalid and {duplicates} duplicate rows: nothing imported (skip invalid rows to import the valid ones)")]
    InvalidRows { invalid: usize, duplicates: usize },
    #[error("此文件已于批次 {batch_id} 导入过，未再次导入（如确需重复导入，请允许重复） / this file was already imported as batch {batch_id}: not imported again (allow duplicates to import it anyway)")]
    AlreadyImported { batch_id: i64 },
    #[error("预览之后又有相同账号和面值的订单写入（{0}），请重新预览 / orders with the same account and face value were written after the preview ({0}): preview again")]
    ChangedSincePreview(String),
    #[error("没有可导入的有效行 / no valid rows to import")]
    NothingToImport,
    #[error("无法写入文件 {path}：{message} / cannot write {path}: {message}")]
    Write { path: String, message: String },
    #[error(transparent)]
    Book(#[from] BookError),
}

impl ImportError {
    /// A stable machine-readable code for the UI and the command line.
    pub fn code(&self) -> &'static str {
        match self {
            ImportError::Io { .. } => "io_error",
            ImportError::EmptyFile(_) => "empty_file",
            ImportError::UnknownFormat { .. } => "unknown_format",
            ImportError::Spreadsheet { .. } => "unreadable_spreadsheet",
            ImportError::NoSuchSheet { .. } => "no_such_sheet",
            ImportError::NoVisibleSheet => "no_visible_sheet",
            ImportError::Mapping(_) => "bad_mapping",
            ImportError::MissingColumn { .. } => "missing_column",
            ImportError::InvalidRows { .. } => "invalid_rows",
            ImportError::AlreadyImported { .. } => "already_imported",
            ImportError::ChangedSincePreview(_) => "changed_since_preview",
            ImportError::NothingToImport => "nothing_to_import",
            ImportError::Write { .. } => "write_error",
            ImportError::Book(e) => e.code(),
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
