//! Export: the orders a query selects, to an xlsx or csv file.
//!
//! The window names the file itself (`<data dir>/exports/订单导出-<time>.<format>`); the command
//! line writes where it is told, the format from the file's extension.

use super::{field, ApiResult, OrderQuery};
use crate::book::Book;
use crate::import::ExportFormat;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Where the export went and how many orders it holds.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct ExportResult {
    pub path: String,
    pub rows: usize,
}

fn format_named(format: &str) -> ApiResult<(ExportFormat, &'static str)> {
    match format {
        "xlsx" => Ok((ExportFormat::Xlsx, "xlsx")),
        "csv" => Ok((ExportFormat::Csv, "csv")),
        other => {
            Err(field("格式 / format", format!("“{other}”无效，应为 xlsx 或 csv / must be xlsx or csv")))
        }
    }
}

/// Exports the orders matching `query` to `<data dir>/exports/`, named by the time.
pub fn export(book: &Book, data_dir: &Path, query: &OrderQuery, format: &str) -> ApiResult<ExportResult> {
    let (_, ext) = format_named(format)?;
    let dir = data_dir.join("exports");
    std::fs::create_dir_all(&dir).map_err(|e| field("导出目录 / export folder", e.to_string()))?;
    let stamp = crate::import::export::format_time(crate::book::now_ms()).replace([' ', ':', '-'], "");
    export_to(book, query, &dir.join(format!("订单导出-{stamp}.{ext}")))
}

/// Exports the orders matching `query` (all of them: the page's offset is ignored) to `path`, in
/// the format its extension names (`.xlsx` or `.csv`).
pub fn export_to(book: &Book, query: &OrderQuery, path: &Path) -> ApiResult<ExportResult> {
    let format = ExportFormat::from_path(path).ok_or_else(|| {
        field("输出文件 / output file", "须以 .xlsx 或 .csv 结尾 / must end in .xlsx or .csv")
    })?;
    let mut filter = query.filter()?;
    filter.offset = 0;
    let rows = crate::import::export_orders(book, &filter, path, format)?;
    Ok(ExportResult { path: PathBuf::from(path).display().to_string(), rows })
}
