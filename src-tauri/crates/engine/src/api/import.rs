//! Import: a spreadsheet or pasted text, previewed row by row, then committed as one batch.
//!
//! Two front ends ask for it: the window sends the file's bytes and the user's choices
//! ([`ImportRequest`]); the command line names a file (or `-`) and flags. Both become an
//! [`ImportJob`], so the provider chosen when none was named, the duplicate window and the mapping
//! are read in one place.

use super::{default_provider, ApiResult, Balances};
use crate::book::Book;
use crate::config::EngineSettings;
use crate::import::{ColumnMapping, CommitOptions, Committed, ImportOptions, Preview, SourceFile};
use crate::run::Engine;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Mutex;
use topup_core::{Li, ProductKind, ProviderId};

/// A spreadsheet import as the UI sends it: the file's bytes and the user's choices.
#[derive(Clone, Debug, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct ImportRequest {
    pub file_name: String,
    pub bytes: Vec<u8>,
    pub provider: ProviderId,
    #[serde(default)]
    pub sheet: Option<String>,
    /// Column (letter or heading) → field name.
    #[serde(default)]
    pub mapping: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub allow_duplicates: bool,
    #[serde(default)]
    pub has_header: Option<bool>,
    /// Import the valid rows and leave the invalid ones out (the user confirmed this).
    #[serde(default)]
    pub skip_invalid: bool,
}

/// An import's choices, from any front end, before the file is read.
#[derive(Clone, Debug, Default)]
pub struct ImportJob {
    /// `None`: the provider a new order of the kind goes to ([`default_provider`]).
    pub provider: Option<ProviderId>,
    pub kind: Option<ProductKind>,
    pub sheet: Option<String>,
    pub mappings: Vec<ColumnMapping>,
    /// `Some(false)`: no heading row; `None`: detect.
    pub header: Option<bool>,
    pub allow_duplicates: bool,
    /// `None`: the engine's duplicate window.
    pub duplicate_window_ms: Option<i64>,
    /// The provider's balance when known (the preview compares the batch's cost with it).
    pub balance: Option<Li>,
}

impl ImportJob {
    /// The importer's options: the provider as named or by the engine's rule among `available`.
    pub fn options(&self, book: &Book, available: &[ProviderId]) -> ApiResult<ImportOptions> {
        let settings = EngineSettings::load(book)?;
        let provider = match self.provider {
            Some(p) => p,
            None => default_provider(&settings, available, self.kind.unwrap_or(ProductKind::Phone))?,
        };
        let mut opts = ImportOptions::new(provider);
        opts.kind = self.kind;
        opts.sheet = self.sheet.clone().filter(|s| !s.is_empty());
        opts.mappings = self.mappings.clone();
        opts.header = self.header;
        opts.allow_duplicates = self.allow_duplicates;
        opts.duplicate_window_ms = self
            .duplicate_window_ms
            .unwrap_or_else(|| i64::try_from(settings.duplicate_window_ms).unwrap_or(i64::MAX));
        opts.balance = self.balance;
        Ok(opts)
    }
}

impl ImportRequest {
    fn job(&self, balances: &Mutex<Balances>) -> ApiResult<ImportJob> {
        let mut mappings = Vec::new();
        for (column, field_name) in self.mapping.iter().flatten() {
            if !field_name.trim().is_empty() {
                mappings.push(ColumnMapping { column: column.clone(), field: field_name.parse()? });
            }
        }
        Ok(ImportJob {
            provider: Some(self.provider),
            sheet: self.sheet.clone(),
            mappings,
            header: self.has_header,
            allow_duplicates: self.allow_duplicates,
            balance: balances
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&self.provider)
                .and_then(|r| r.balance),
            ..ImportJob::default()
        })
    }

    fn file(&self) -> ApiResult<SourceFile> {
        Ok(SourceFile::from_bytes(self.file_name.clone(), self.bytes.clone())?)
    }
}

/// Reads and checks every row of `file`; writes nothing.
pub fn preview(book: &Book, file: &SourceFile, opts: &ImportOptions) -> ApiResult<Preview> {
    Ok(crate::import::preview(book, file, opts)?)
}

/// Commits a preview as one batch (refused, writing nothing, when rows are invalid or duplicate
/// without `skip_invalid`, or the file was imported before), and wakes the engine when one runs.
pub fn commit(
    book: &Book,
    engine: Option<&Engine>,
    preview: &Preview,
    skip_invalid: bool,
) -> ApiResult<Committed> {
    let committed =
        crate::import::commit(book, preview, &CommitOptions { skip_invalid, ..Default::default() })?;
    if let Some(engine) = engine {
        engine.poke();
    }
    Ok(committed)
}

/// The window's preview of the file it sent.
pub fn import_preview(
    book: &Book,
    engine: &Engine,
    balances: &Mutex<Balances>,
    request: &ImportRequest,
) -> ApiResult<Preview> {
    let opts = request.job(balances)?.options(book, &engine.providers())?;
    preview(book, &request.file()?, &opts)
}

/// Previews again (the file and the book may have changed) and commits the batch in one transaction.
pub fn import_commit(
    book: &Book,
    engine: &Engine,
    balances: &Mutex<Balances>,
    request: &ImportRequest,
) -> ApiResult<Committed> {
    let preview = import_preview(book, engine, balances, request)?;
    commit(book, Some(engine), &preview, request.skip_invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An import that names no provider takes the engine's rule, as an order typed in the form does;
    /// when no available provider sells the kind it is refused (the command line used to pick
    /// dingyin, configured or not).
    #[test]
    fn the_provider_of_an_import_is_the_engines_default() {
        let dir = tempfile::tempdir().expect("temp dir");
        let book = Book::open(&dir.path().join("orders.sqlite3")).expect("open the book");
        let job = ImportJob::default();
        assert_eq!(job.options(&book, &ProviderId::ALL).unwrap().provider, ProviderId::Juhe);
        assert_eq!(job.options(&book, &[ProviderId::Oper]).unwrap().provider, ProviderId::Oper);
        let electricity = ImportJob { kind: Some(ProductKind::Electricity), ..ImportJob::default() };
        let e = electricity.options(&book, &[ProviderId::Juhe]).expect_err("juhe sells no electricity");
        assert!(e.to_string().contains("provider"), "{e}");
        let named = ImportJob { provider: Some(ProviderId::Dingyin), ..electricity };
        assert_eq!(named.options(&book, &[]).unwrap().provider, ProviderId::Dingyin);
    }
}
