//! Reading a file into a grid of cells: the format is chosen from the bytes, not the file name.
//!
//! Why sniff: resellers forward files through WeChat and shops that rename them (`订单.xlsx` that is
//! really a csv, an xlsx saved as `.csv`, an `.xls` that is an HTML export). Trusting the extension
//! gives a confusing "invalid zip" error or, worse, reads a spreadsheet's bytes as text. So: `PK` is a
//! zip (ods when its `mimetype` entry says so, xlsb when it holds `xl/workbook.bin`, else xlsx);
//! `D0 CF 11 E0` is an OLE file (xls); anything else that looks like text is delimited text in UTF-8
//! (with or without BOM), UTF-16 (Excel's "Unicode text") or GBK (anything that is not valid UTF-8),
//! with tab or comma sniffed from the first lines. Every cell is kept as calamine's [`Data`], so a
//! number stays a number until validation decides, exactly, what it may mean.

use super::ImportError;
use calamine::{Data, Reader, SheetVisible};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::io::Cursor;
use std::path::Path;

/// A file to import, fully in memory (spreadsheets are small next to RAM, and the hash needs all bytes).
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub file_name: String,
    pub bytes: Vec<u8>,
    /// sha256 of the bytes, lower-case hex: the same file imported twice is recognised by this.
    pub content_hash: String,
    pub format: FileFormat,
}

/// What the bytes are, whatever the file is called.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    Xlsx,
    Xlsb,
    Xls,
    Ods,
    /// Delimited text (csv, tsv, txt).
    Text,
    /// Text without headings, one order a line (pasted from a chat): see `order::chat`.
    Chat,
}

impl FileFormat {
    pub const fn as_str(self) -> &'static str {
        match self {
            FileFormat::Xlsx => "xlsx",
            FileFormat::Xlsb => "xlsb",
            FileFormat::Xls => "xls",
            FileFormat::Ods => "ods",
            FileFormat::Text => "text",
            FileFormat::Chat => "chat",
        }
    }
}

/// A sheet of a workbook, as offered to the user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct SheetInfo {
    pub name: String,
    pub hidden: bool,
}

/// The text encoding a delimited file was read with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "kebab-case")]
pub enum TextEncoding {
    Utf8,
    Utf8Bom,
    Utf16,
    Gbk,
}

/// The cells of one sheet. `cells[i][j]` is at spreadsheet row `row0 + i` (0-based) and column
/// `col0 + j`, so row numbers shown to the user are `row0 + i + 1` whatever blank rows came first.
#[derive(Clone, Debug, Default)]
pub struct Grid {
    pub row0: u32,
    pub col0: u32,
    pub cells: Vec<Vec<Data>>,
    /// Cells whose value was copied from the top-left cell of a merged range (absolute row, column).
    pub merged_filled: HashSet<(u32, u32)>,
}

impl Grid {
    pub fn get(&self, i: usize, abs_col: u32) -> &Data {
        static EMPTY: Data = Data::Empty;
        abs_col.checked_sub(self.col0).and_then(|j| self.cells.get(i)?.get(j as usize)).unwrap_or(&EMPTY)
    }

    pub fn width(&self) -> u32 {
        self.cells.iter().map(Vec::len).max().unwrap_or(0) as u32
    }
}

impl SourceFile {
    /// Reads a file from disk and decides its format from its bytes.
    pub fn open(path: &Path) -> Result<SourceFile, ImportError> {
        let bytes = std::fs::read(path)
            .map_err(|e| ImportError::Io { path: path.display().to_string(), message: e.to_string() })?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        SourceFile::from_bytes(name, bytes)
    }

    pub fn from_bytes(file_name: String, bytes: Vec<u8>) -> Result<SourceFile, ImportError> {
        let format = sniff(&file_name, &bytes)?;
        let content_hash = hex(&Sha256::digest(&bytes));
        Ok(SourceFile { file_name, bytes, content_hash, format })
    }

    /// The sheets of a workbook (one unnamed sheet for text files), hidden ones marked.
    pub fn sheets(&self) -> Result<Vec<SheetInfo>, ImportError> {
        if matches!(self.format, FileFormat::Text | FileFormat::Chat) {
            return Ok(vec![SheetInfo { name: self.file_name.clone(), hidden: false }]);
        }
        let wb = self.workbook()?;
        Ok(wb
            .sheets_metadata()
            .iter()
            .filter(|s| s.typ == calamine::SheetType::WorkSheet)
            .map(|s| SheetInfo { name: s.name.clone(), hidden: s.visible != SheetVisible::Visible })
            .collect())
    }

    fn workbook(&self) -> Result<calamine::Sheets<Cursor<&[u8]>>, ImportError> {
        let rs = Cursor::new(self.bytes.as_slice());
        let err = |e: String| ImportError::Spreadsheet { format: self.format.as_str(), message: e };
        Ok(match self.format {
            FileFormat::Xlsx => calamine::Sheets::Xlsx(
                calamine::open_workbook_from_rs(rs).map_err(|e: calamine::XlsxError| err(e.to_string()))?,
            ),
            FileFormat::Xlsb => calamine::Sheets::Xlsb(
                calamine::open_workbook_from_rs(rs).map_err(|e: calamine::XlsbError| err(e.to_string()))?,
            ),
            FileFormat::Xls => calamine::Sheets::Xls(
                calamine::open_workbook_from_rs(rs).map_err(|e: calamine::XlsError| err(e.to_string()))?,
            ),
            FileFormat::Ods => calamine::Sheets::Ods(
                calamine::open_workbook_from_rs(rs).map_err(|e: calamine::OdsError| err(e.to_string()))?,
            ),
            FileFormat::Text | FileFormat::Chat => return Err(err("not a workbook".into())),
        })
    }

    /// Reads one sheet (default: the first visible one) into a grid, merged ranges filled from their
    /// top-left cell. Returns the sheet's name, whether it is hidden, and the text encoding for text.
    pub fn read_sheet(&self, wanted: Option<&str>) -> Result<ReadSheet, ImportError> {
        if matches!(self.format, FileFormat::Text | FileFormat::Chat) {
            let (text, encoding) = decode_text(&self.bytes);
            let grid = parse_delimited(&text);
            return Ok(ReadSheet { name: None, hidden: false, encoding: Some(encoding), grid });
        }
        let sheets = self.sheets()?;
        let chosen = match wanted {
            Some(w) => sheets
                .iter()
                .find(|s| s.name == w)
                .or_else(|| sheets.iter().find(|s| s.name.trim().eq_ignore_ascii_case(w.trim()))),
            None => sheets.iter().find(|s| !s.hidden),
        };
        let Some(chosen) = chosen.cloned() else {
            return Err(match wanted {
                Some(w) => ImportError::NoSuchSheet {
                    name: w.to_owned(),
                    available: sheets.iter().map(|s| s.name.clone()).collect::<Vec<_>>().join(", "),
                },
                None => ImportError::NoVisibleSheet,
            });
        };
        let mut wb = self.workbook()?;
        let spreadsheet_err =
            |e: String| ImportError::Spreadsheet { format: self.format.as_str(), message: e };
        let mut range = wb.worksheet_range(&chosen.name).map_err(|e| spreadsheet_err(e.to_string()))?;
        let merges = match &mut wb {
            calamine::Sheets::Xlsx(x) => {
                x.merge_cells_by_sheet_name(&chosen.name).map_err(|e| spreadsheet_err(e.to_string()))?
            }
            #[allow(deprecated)]
            calamine::Sheets::Xls(x) => x.worksheet_merge_cells(&chosen.name).unwrap_or_default(),
            // calamine does not report merged ranges for ods and xlsb: LibreOffice keeps the value in the
            // top-left cell and leaves the others empty, so such rows show up as missing values.
            _ => Vec::new(),
        };
        let mut merged_filled = HashSet::new();
        if let (Some(start), Some(end)) = (range.start(), range.end()) {
            for m in merges {
                let Some(value) = range.get_value(m.start).cloned() else { continue };
                for r in m.start.0.max(start.0)..=m.end.0.min(end.0) {
                    for c in m.start.1.max(start.1)..=m.end.1.min(end.1) {
                        if (r, c) != m.start {
                            range.set_value((r, c), value.clone());
                            merged_filled.insert((r, c));
                        }
                    }
                }
            }
        }
        let (row0, col0) = range.start().unwrap_or((0, 0));
        let cells = range.rows().map(<[Data]>::to_vec).collect();
        Ok(ReadSheet {
            name: Some(chosen.name),
            hidden: chosen.hidden,
            encoding: None,
            grid: Grid { row0, col0, cells, merged_filled },
        })
    }
}

/// One sheet as read.
#[derive(Debug)]
pub struct ReadSheet {
    pub name: Option<String>,
    pub hidden: bool,
    pub encoding: Option<TextEncoding>,
    pub grid: Grid,
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Decides the format from the first bytes; the name only words the error.
fn sniff(name: &str, bytes: &[u8]) -> Result<FileFormat, ImportError> {
    if bytes.is_empty() {
        return Err(ImportError::EmptyFile(name.to_owned()));
    }
    if bytes.starts_with(b"PK\x03\x04") {
        // ODF puts an uncompressed `mimetype` entry first (local header is 30 bytes + name).
        if bytes.len() > 38 && &bytes[30..38] == b"mimetype" {
            let head = &bytes[38..bytes.len().min(120)];
            if find(head, b"opendocument.spreadsheet") {
                return Ok(FileFormat::Ods);
            }
            return Err(ImportError::UnknownFormat {
                file: name.to_owned(),
                detail: "OpenDocument 文件但不是表格 / an OpenDocument file that is not a spreadsheet".into(),
            });
        }
        if find(bytes, b"xl/workbook.bin") {
            return Ok(FileFormat::Xlsb);
        }
        return Ok(FileFormat::Xlsx);
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Ok(FileFormat::Xls);
    }
    if looks_like_text(bytes) {
        return Ok(FileFormat::Text);
    }
    Err(ImportError::UnknownFormat {
        file: name.to_owned(),
        detail: format!(
            "开头字节 {} 既不是 Excel/ODS 表格也不是文本 / the first bytes are neither a spreadsheet nor text",
            hex(&bytes[..bytes.len().min(8)])
        ),
    })
}

fn looks_like_text(bytes: &[u8]) -> bool {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return true;
    }
    let head = &bytes[..bytes.len().min(64 * 1024)];
    !head.iter().any(|&b| b == 0 || (b < 0x20 && !matches!(b, b'\t' | b'\r' | b'\n' | 0x0C)))
}

/// Valid UTF-8 is UTF-8; a UTF-16 BOM is UTF-16; anything else is GBK (the encoding Chinese Windows
/// Excel saves csv in). GBK decoding is done by encoding_rs's GBK (a GB18030 decoder), which never fails.
pub fn decode_text(bytes: &[u8]) -> (String, TextEncoding) {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return (String::from_utf8_lossy(rest).into_owned(), TextEncoding::Utf8Bom);
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        let enc = if bytes[0] == 0xFF { encoding_rs::UTF_16LE } else { encoding_rs::UTF_16BE };
        let (text, _) = enc.decode_with_bom_removal(bytes);
        return (text.into_owned(), TextEncoding::Utf16);
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_owned(), TextEncoding::Utf8),
        Err(_) => {
            let (text, _, _) = encoding_rs::GBK.decode(bytes);
            (text.into_owned(), TextEncoding::Gbk)
        }
    }
}

/// Tab when the first non-empty line has a tab outside quotes and at least as many tabs as commas.
fn sniff_delimiter(text: &str) -> char {
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let (mut tabs, mut commas, mut quoted) = (0, 0, false);
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            '\t' if !quoted => tabs += 1,
            ',' if !quoted => commas += 1,
            _ => {}
        }
    }
    if tabs > 0 && tabs >= commas {
        '\t'
    } else {
        ','
    }
}

/// RFC 4180 with the delimiter sniffed: quoted fields may hold delimiters, `""` and line breaks.
/// Every field is text: what a number means is decided by validation.
pub fn parse_delimited(text: &str) -> Grid {
    let delim = sniff_delimiter(text);
    let mut rows: Vec<Vec<Data>> = Vec::new();
    let mut row: Vec<Data> = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut was_quoted = false;
    let mut chars = text.chars().peekable();
    let push_field = |row: &mut Vec<Data>, field: &mut String| {
        let f = std::mem::take(field);
        row.push(if f.is_empty() { Data::Empty } else { Data::String(f) });
    };
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' if field.is_empty() && !was_quoted => {
                quoted = true;
                was_quoted = true;
            }
            c if c == delim => {
                push_field(&mut row, &mut field);
                was_quoted = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                push_field(&mut row, &mut field);
                was_quoted = false;
                rows.push(std::mem::take(&mut row));
            }
            c => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() || was_quoted {
        push_field(&mut row, &mut field);
        rows.push(row);
    }
    Grid { row0: 0, col0: 0, cells: rows, merged_filled: HashSet::new() }
}

/// `A`, `B`, … `Z`, `AA`, … for a 0-based column index.
pub fn column_letter(col: u32) -> String {
    let mut n = col as u64 + 1;
    let mut out = Vec::new();
    while n > 0 {
        let rem = ((n - 1) % 26) as u8;
        out.push(b'A' + rem);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// The 0-based column index of a letter reference such as `c` or `AB`; `None` when it is not one.
pub fn column_index(letters: &str) -> Option<u32> {
    let t = letters.trim();
    if t.is_empty() || t.len() > 3 || !t.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let mut n: u32 = 0;
    for b in t.bytes() {
        n = n * 26 + u32::from(b.to_ascii_uppercase() - b'A' + 1);
    }
    Some(n - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_round_trip() {
        for i in [0, 1, 25, 26, 27, 51, 52, 701, 702] {
            assert_eq!(column_index(&column_letter(i)), Some(i));
        }
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_index("手机"), None);
    }

    #[test]
    fn delimited_text_quotes_and_tabs() {
        let g = parse_delimited("a,\"b,c\",\"d\"\"e\"\r\n1,,3\n");
        assert_eq!(g.cells.len(), 2);
        assert_eq!(g.cells[0][1], Data::String("b,c".into()));
        assert_eq!(g.cells[0][2], Data::String("d\"e".into()));
        assert_eq!(g.cells[1][1], Data::Empty);
        let t = parse_delimited("手机号\t面值\n13812345678\t10");
        assert_eq!(t.cells[1][0], Data::String("13812345678".into()));
        assert_eq!(t.cells[1][1], Data::String("10".into()));
    }
}
