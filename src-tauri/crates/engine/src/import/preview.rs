//! The preview: every row's result and the totals, before anything is written.
//!
//! Serialised in camelCase for the UI and `--json`; money is an integer count of 厘 and ids are
//! strings or integers, never floats. The estimated cost uses [`ESTIMATED_PRICE_PERMILLE`], a rough
//! per-provider discount table: it is an estimate for the "is my balance enough" question, not a
//! price — the provider's own `ordercash` is what is recorded once an order is accepted.

use super::columns::Layout;
use super::read::{FileFormat, SheetInfo, SourceFile, TextEncoding};
use super::validate::{validate_row, ImportedOrder, Level, RowMessage, RowOutcome, Rules};
use super::Field;
use super::{dupes, ImportError, ImportOptions};
use crate::book::{now_ms, Book};
use crate::order::{Origin, RawOrder};
use serde::Serialize;
use topup_core::{Li, ProductKind, ProviderId};

/// Estimated price as ‰ of the face value, per provider. **Assumed** typical reseller discounts; keep
/// them here so they are easy to correct (or replace with the provider's quoted price later).
pub const ESTIMATED_PRICE_PERMILLE: [(ProviderId, i64); 3] =
    [(ProviderId::Dingyin, 985), (ProviderId::Oper, 990), (ProviderId::Juhe, 995)];

/// Face × the provider's estimated ‰, rounded up to the 厘 (an estimate should not flatter the balance).
pub fn estimated_cost(provider: ProviderId, face: Li) -> Li {
    let permille = ESTIMATED_PRICE_PERMILLE.iter().find(|(p, _)| *p == provider).map_or(1000, |(_, m)| *m);
    let product = i128::from(face.0) * i128::from(permille);
    let cost = (product + 999).div_euclid(1000);
    Li(i64::try_from(cost).unwrap_or(i64::MAX))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "lowercase")]
pub enum RowStatus {
    Valid,
    Invalid,
    Skipped,
    Duplicate,
}

/// One row of the file and what became of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct RowResult {
    /// Spreadsheet row number as the user sees it (1-based, heading row included).
    pub row: u32,
    pub status: RowStatus,
    /// Whether any kind of duplicate was found (also when duplicates are allowed).
    pub duplicate: bool,
    pub messages: Vec<RowMessage>,
    /// The normalised order, for valid rows (and for duplicates, so the UI can show them).
    pub order: Option<ImportedOrder>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct PreviousImport {
    /// A string for JavaScript, like every id the UI sees.
    #[serde(serialize_with = "crate::contract::BatchId::serialize_raw")]
    #[ts(as = "crate::contract::BatchId")]
    pub batch_id: i64,
    pub file_name: String,
    pub created_at: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    /// Data rows (below the heading row), empty ones included.
    pub rows: usize,
    pub valid: usize,
    pub invalid: usize,
    pub duplicates: usize,
    /// Empty rows, skipped.
    pub skipped: usize,
    /// Rows with at least one warning.
    pub warnings: usize,
    /// Face value of the valid rows.
    pub face_total: Li,
    /// Estimated cost of the valid rows at the provider's price.
    pub estimated_cost: Li,
}

/// What an import would do.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct Preview {
    pub file_name: String,
    pub content_hash: String,
    pub format: FileFormat,
    pub encoding: Option<TextEncoding>,
    pub sheets: Vec<SheetInfo>,
    pub sheet: Option<String>,
    pub sheet_hidden: bool,
    pub provider: ProviderId,
    pub layout: Layout,
    pub allow_duplicates: bool,
    pub duplicate_window_ms: i64,
    /// Batches already imported from a file with the same bytes.
    pub previous_imports: Vec<PreviousImport>,
    /// Findings about the file as a whole (hidden sheet, file imported before).
    pub file_messages: Vec<RowMessage>,
    pub rows: Vec<RowResult>,
    pub totals: Totals,
    pub balance: Option<Li>,
    /// Whether the balance covers the estimated cost, when the balance is known.
    pub balance_sufficient: Option<bool>,
    /// When the preview was made (ms): the commit re-checks orders written since.
    pub previewed_at: i64,
}

impl Preview {
    /// Whether a commit without `skip_invalid` would go ahead.
    pub fn is_clean(&self) -> bool {
        self.totals.invalid == 0
            && self.totals.duplicates == 0
            && (self.allow_duplicates || self.previous_imports.is_empty())
    }

    /// Rows that would not be imported (invalid or duplicate).
    pub fn bad_rows(&self) -> impl Iterator<Item = &RowResult> {
        self.rows.iter().filter(|r| matches!(r.status, RowStatus::Invalid | RowStatus::Duplicate))
    }
}

/// Reads, validates and checks a file for duplicates. Writes nothing.
///
/// Text without a heading row (and without a mapping saying where the columns are) is read as pasted
/// chat lines, one order a line ([`crate::order::chat`]); its rows are numbered by line.
pub fn preview(book: &Book, file: &SourceFile, opts: &ImportOptions) -> Result<Preview, ImportError> {
    let previewed_at = now_ms();
    let sheets = file.sheets()?;
    let sheet = file.read_sheet(opts.sheet.as_deref())?;
    let chat = file.format == FileFormat::Text
        && opts.mappings.is_empty()
        && opts.header.is_none()
        && super::columns::heading_row(&sheet.grid).is_none();
    let prices = match &opts.prices {
        Some(p) => p.clone(),
        None => crate::config::EngineSettings::load(book)?.prices,
    };
    let (layout, mut rows) = if chat {
        let (text, _) = super::read::decode_text(&file.bytes);
        (no_columns(), chat_rows(&text, opts, &prices))
    } else {
        let layout = super::columns::layout(&sheet.grid, &opts.mappings, opts.header)?;
        let rows = sheet_rows(&sheet.grid, &layout, opts, &prices);
        (layout, rows)
    };
    // Trailing empty rows are not rows the user means (a formatted but empty range): drop them.
    while rows.last().is_some_and(|r| r.status == RowStatus::Skipped) {
        rows.pop();
    }

    let level = if opts.allow_duplicates { Level::Warning } else { Level::Error };
    dupes::in_file(&mut rows, level);
    dupes::in_book(book, &mut rows, previewed_at.saturating_sub(opts.duplicate_window_ms), level)?;
    let previous_imports = dupes::previous_imports(book, &file.content_hash)?;

    let mut file_messages = Vec::new();
    if sheet.hidden {
        let name = sheet.name.clone().unwrap_or_default();
        file_messages.push(RowMessage::new(
            Level::Warning,
            "hidden_sheet",
            None,
            format!("工作表“{name}”是隐藏的"),
            format!("sheet “{name}” is hidden"),
        ));
    }
    for p in &previous_imports {
        file_messages.push(RowMessage::new(
            level,
            "file_imported_before",
            None,
            format!(
                "同一文件（内容相同）已于 {} 导入为批次 {}（{}）",
                super::export::format_time(p.created_at),
                p.batch_id,
                p.file_name
            ),
            format!(
                "the same file (same content) was imported at {} as batch {} ({})",
                super::export::format_time(p.created_at),
                p.batch_id,
                p.file_name
            ),
        ));
    }

    let mut totals = Totals { rows: rows.len(), ..Totals::default() };
    for r in &mut rows {
        if r.duplicate && !opts.allow_duplicates && r.status == RowStatus::Valid {
            r.status = RowStatus::Duplicate;
        }
        if r.messages.iter().any(|m| m.level == Level::Warning) {
            totals.warnings += 1;
        }
        match r.status {
            RowStatus::Valid => {
                totals.valid += 1;
                if let Some(o) = &r.order {
                    totals.face_total = totals.face_total.checked_add(o.face).unwrap_or(Li(i64::MAX));
                    totals.estimated_cost =
                        totals.estimated_cost.checked_add(o.estimated_cost).unwrap_or(Li(i64::MAX));
                }
            }
            RowStatus::Invalid => totals.invalid += 1,
            RowStatus::Duplicate => totals.duplicates += 1,
            RowStatus::Skipped => totals.skipped += 1,
        }
    }
    Ok(Preview {
        file_name: file.file_name.clone(),
        content_hash: file.content_hash.clone(),
        format: if chat { FileFormat::Chat } else { file.format },
        encoding: sheet.encoding,
        sheets,
        sheet: sheet.name,
        sheet_hidden: sheet.hidden,
        provider: opts.provider,
        layout,
        allow_duplicates: opts.allow_duplicates,
        duplicate_window_ms: opts.duplicate_window_ms,
        previous_imports,
        file_messages,
        rows,
        balance_sufficient: opts.balance.map(|b| b >= totals.estimated_cost),
        totals,
        balance: opts.balance,
        previewed_at,
    })
}

/// Every row of a sheet, validated.
fn sheet_rows(
    grid: &super::read::Grid,
    layout: &Layout,
    opts: &ImportOptions,
    prices: &crate::sale::PriceList,
) -> Vec<RowResult> {
    let default_kind = opts.kind.unwrap_or(if layout.column(super::Field::Grid).is_some() {
        ProductKind::Electricity
    } else {
        ProductKind::Phone
    });
    let rules = Rules::new(opts.provider, default_kind, layout, prices);
    let first = layout.header_index.map_or(0, |h| h + 1);
    let mut rows: Vec<RowResult> = Vec::with_capacity(grid.cells.len().saturating_sub(first));
    for i in first..grid.cells.len() {
        rows.push(row_result(grid.row0 + i as u32 + 1, validate_row(grid, i, &rules)));
    }
    rows
}

/// Every line of pasted text, read and validated like a sheet's rows.
fn chat_rows(text: &str, opts: &ImportOptions, prices: &crate::sale::PriceList) -> Vec<RowResult> {
    let layout = no_columns();
    let rules = Rules::new(opts.provider, opts.kind.unwrap_or(ProductKind::Phone), &layout, prices);
    crate::order::chat::parse(text)
        .into_iter()
        .map(|line| {
            let notes: Vec<RowMessage> =
                line.notes.iter().map(|m| RowMessage::at_column(m.clone(), &layout)).collect();
            let outcome = if line.empty {
                RowOutcome { empty: true, messages: notes, order: None }
            } else if line.has_errors() {
                RowOutcome { empty: false, messages: notes, order: None }
            } else {
                let mut raw = RawOrder::new(Origin::Line(line.line), Some(opts.provider));
                raw.text(Field::Account, line.account.as_deref());
                raw.text(Field::Face, line.face.as_deref());
                RowOutcome::from_checked(rules.check(&raw), &layout, notes)
            };
            row_result(line.line, outcome)
        })
        .collect()
}

/// The layout of pasted lines: no heading row, no columns (messages name the line).
fn no_columns() -> Layout {
    Layout { header_index: None, header_row: None, columns: Vec::new(), unmapped: Vec::new() }
}

fn row_result(row: u32, out: RowOutcome) -> RowResult {
    let status = if out.empty {
        RowStatus::Skipped
    } else if out.has_errors() {
        RowStatus::Invalid
    } else {
        RowStatus::Valid
    };
    RowResult { row, status, duplicate: false, messages: out.messages, order: out.order }
}
