//! Which column holds what: header recognition in Chinese and English, and explicit mappings.
//!
//! Why a synonym table and not a fixed template: files come from customers and shops, each with its own
//! headings (`手机号码`, `充值号码`, `Phone`, `面值(元)`…). Headings are compared after normalising case,
//! full-width letters, spaces and a trailing unit in brackets; an explicit mapping (by column letter or
//! heading text) always wins, and a sheet without a heading row works with a mapping alone.

use super::read::{column_index, column_letter, Grid};
use super::ImportError;
use calamine::Data;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// What a column means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub enum Field {
    /// Phone number, game account, 抖音 id, or electricity 户号.
    Account,
    /// Face value in yuan.
    Face,
    /// Provider product id (dingyin `productid`).
    Product,
    /// Product kind: 话费 / 电费 / 游戏 / 抖币.
    Kind,
    Carrier,
    Area,
    Server,
    Note,
    IdCard,
    Grid,
    Province,
    City,
    /// Electricity (国网): the payer's mobile number.
    PayerMobile,
    /// Electricity 户号类型.
    AccountType,
    Quantity,
    /// What the customer paid (售价), in yuan: see [`crate::sale`].
    Sale,
    /// Who the order is for (客户): reports group by it.
    Customer,
    /// 快充 or 慢充 (phone and electricity): a slow top-up is another product with other time limits
    /// (`run::stuck`).
    Speed,
}

impl Field {
    pub const ALL: [Field; 18] = [
        Field::Account,
        Field::Face,
        Field::Product,
        Field::Kind,
        Field::Carrier,
        Field::Area,
        Field::Server,
        Field::Note,
        Field::IdCard,
        Field::Grid,
        Field::Province,
        Field::City,
        Field::PayerMobile,
        Field::AccountType,
        Field::Quantity,
        Field::Sale,
        Field::Customer,
        Field::Speed,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Field::Account => "account",
            Field::Face => "face",
            Field::Product => "product",
            Field::Kind => "kind",
            Field::Carrier => "carrier",
            Field::Area => "area",
            Field::Server => "server",
            Field::Note => "note",
            Field::IdCard => "idCard",
            Field::Grid => "grid",
            Field::Province => "province",
            Field::City => "city",
            Field::PayerMobile => "payerMobile",
            Field::AccountType => "accountType",
            Field::Quantity => "quantity",
            Field::Sale => "sale",
            Field::Customer => "customer",
            Field::Speed => "speed",
        }
    }

    pub const fn label_zh(self) -> &'static str {
        match self {
            Field::Account => "充值账号",
            Field::Face => "面值",
            Field::Product => "商品编号",
            Field::Kind => "类型",
            Field::Carrier => "运营商",
            Field::Area => "区",
            Field::Server => "服",
            Field::Note => "备注",
            Field::IdCard => "身份证号",
            Field::Grid => "电网",
            Field::Province => "省份",
            Field::City => "城市",
            Field::PayerMobile => "缴费手机号",
            Field::AccountType => "户号类型",
            Field::Quantity => "数量",
            Field::Sale => "售价",
            Field::Customer => "客户",
            Field::Speed => "快慢充",
        }
    }

    /// Normalised headings (see [`normalise_heading`]) that mean this field.
    const fn synonyms(self) -> &'static [&'static str] {
        match self {
            Field::Account => &[
                "手机号",
                "手机号码",
                "手机",
                "号码",
                "电话",
                "电话号码",
                "充值号码",
                "充值手机号",
                "充值手机号码",
                "充值手机",
                "充值电话",
                "充值账号",
                "充值帐号",
                "账号",
                "帐号",
                "账户",
                "户号",
                "电费户号",
                "缴费户号",
                "用户号",
                "用户编号",
                "游戏账号",
                "游戏帐号",
                "抖音号",
                "抖音id",
                "account",
                "phone",
                "mobile",
                "phoneno",
                "phonenumber",
                "mobileno",
                "number",
                "tel",
                "accountno",
            ],
            Field::Face => &[
                "面值",
                "金额",
                "充值金额",
                "充值面值",
                "面额",
                "充值面额",
                "价格",
                "face",
                "facevalue",
                "amount",
                "value",
                "money",
                "denomination",
            ],
            Field::Product => &[
                "产品",
                "产品编号",
                "产品id",
                "产品代码",
                "商品",
                "商品编号",
                "商品id",
                "商品代码",
                "productid",
                "product",
                "sku",
                "productcode",
            ],
            Field::Kind => &["类型", "业务", "业务类型", "充值类型", "产品类型", "kind", "type"],
            Field::Carrier => &["运营商", "carrier", "operator", "isp"],
            Field::Area => &["区服", "区", "大区", "游戏区", "游戏区服", "area", "zone", "region"],
            Field::Server => &["服", "服务器", "游戏服", "server"],
            Field::Note => &["备注", "说明", "留言", "note", "notes", "remark", "remarks", "memo", "comment"],
            Field::IdCard => &[
                "身份证",
                "身份证号",
                "身份证号码",
                "证件号",
                "证件号码",
                "idcard",
                "idcardno",
                "idno",
                "idnumber",
            ],
            Field::Grid => &["电网", "电网类型", "电网公司", "grid", "powergrid"],
            Field::Province => &["省份", "省", "province"],
            Field::City => &["城市", "市", "地市", "city"],
            Field::PayerMobile => &[
                "缴费手机",
                "缴费手机号",
                "缴费人手机",
                "缴费人手机号",
                "缴费人电话",
                "联系手机",
                "联系电话",
                "payermobile",
                "payerphone",
            ],
            Field::AccountType => &["户号类型", "账户类型", "accounttype"],
            Field::Quantity => &["数量", "quantity", "qty", "num", "count"],
            Field::Sale => &[
                "售价",
                "销售价",
                "销售价格",
                "售出价",
                "卖价",
                "收款",
                "收款金额",
                "实收",
                "实收金额",
                "客户价",
                "单价",
                "saleprice",
                "sale",
                "sellingprice",
                "price",
            ],
            Field::Customer => {
                &["客户", "客户名", "客户名称", "客户姓名", "买家", "下游", "customer", "client", "buyer"]
            }
            Field::Speed => &["快慢充", "快充慢充", "充值方式", "充值速度", "到账方式", "到账速度", "speed"],
        }
    }

    /// The field a heading names, if any.
    pub fn from_heading(text: &str) -> Option<Field> {
        let n = normalise_heading(text);
        if n.is_empty() {
            return None;
        }
        Field::ALL.into_iter().find(|f| f.synonyms().contains(&n.as_str()))
    }
}

impl FromStr for Field {
    type Err = ImportError;
    /// A field by its English name (`account`, `face`, `idCard`…) or any heading that names it.
    fn from_str(s: &str) -> Result<Field, ImportError> {
        Field::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
            .or_else(|| Field::from_heading(s))
            .ok_or_else(|| ImportError::Mapping(crate::msg!(
                "未知的字段“{s}”",
                "unknown field “{s}” (account, face, product, kind, carrier, area, server, note, idCard, grid, province, city, payerMobile, accountType, quantity, sale, customer)"
            )))
    }
}

/// Lower case, half-width, no spaces/underscores/dashes/stars, no trailing `(元)` / `（选填）`.
pub fn normalise_heading(text: &str) -> String {
    let mut s: String = text
        .chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            c => c,
        })
        .filter(|c| !c.is_whitespace() && !matches!(c, '_' | '-' | '*' | ':' | '\u{200B}' | '\u{FEFF}'))
        .flat_map(char::to_lowercase)
        .collect();
    // Drop a bracketed suffix such as "(元)", "[必填]".
    for (open, close) in [('(', ')'), ('[', ']'), ('【', '】'), ('<', '>')] {
        if s.ends_with(close) {
            if let Some(i) = s.rfind(open) {
                if i > 0 {
                    s.truncate(i);
                }
            }
        }
    }
    s
}

/// An explicit mapping: `column` is a letter (`A`) or heading text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct ColumnMapping {
    pub column: String,
    pub field: Field,
}

impl FromStr for ColumnMapping {
    type Err = ImportError;
    /// `COL=FIELD`, e.g. `A=account`, `面值(元)=face`, `C=手机号`.
    fn from_str(s: &str) -> Result<ColumnMapping, ImportError> {
        let (col, field) = s.rsplit_once('=').ok_or_else(|| {
            ImportError::Mapping(crate::msg!("映射“{s}”应为 列=字段", "mapping “{s}” must be COLUMN=FIELD"))
        })?;
        if col.trim().is_empty() {
            return Err(ImportError::Mapping(crate::msg!("映射“{s}”缺少列", "mapping “{s}” lacks a column")));
        }
        Ok(ColumnMapping { column: col.trim().to_owned(), field: field.parse()? })
    }
}

/// A column as the user sees it: letter and heading.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct ColumnRef {
    /// 0-based absolute column index.
    #[serde(skip)]
    pub index: u32,
    pub letter: String,
    pub header: Option<String>,
}

/// The decided layout of a sheet.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct Layout {
    /// Index into `Grid::cells` of the heading row, when there is one.
    #[serde(skip)]
    pub header_index: Option<usize>,
    /// Spreadsheet row number (1-based) of the heading row.
    pub header_row: Option<u32>,
    pub columns: Vec<(Field, ColumnRef)>,
    /// Headings that were not recognised (shown so the user can map them).
    pub unmapped: Vec<ColumnRef>,
}

impl Layout {
    pub fn column(&self, field: Field) -> Option<&ColumnRef> {
        self.columns.iter().find(|(f, _)| *f == field).map(|(_, c)| c)
    }
}

fn cell_text(d: &Data) -> Option<String> {
    match d {
        Data::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Data::Empty => None,
        other => Some(other.to_string()),
    }
}

/// The heading row: the first of the first five non-empty rows that names an account or a face
/// value column.
pub fn heading_row(grid: &Grid) -> Option<usize> {
    heading_row_by(grid, |h| matches!(Field::from_heading(h), Some(Field::Account | Field::Face)))
}

/// The first of the first five non-empty rows with a cell for which `is_key` holds (a title row may
/// come first).
fn heading_row_by(grid: &Grid, is_key: impl Fn(&str) -> bool) -> Option<usize> {
    grid.cells
        .iter()
        .enumerate()
        .filter(|(_, r)| r.iter().any(|c| cell_text(c).is_some()))
        .take(5)
        .find(|(_, row)| row.iter().any(|c| cell_text(c).is_some_and(|t| is_key(&t))))
        .map(|(i, _)| i)
}

/// Columns mapped to fields of any kind `F`: the heading row, each field's column, and the headings
/// not recognised.
pub struct Mapped<F> {
    pub header_index: Option<usize>,
    pub columns: Vec<(F, ColumnRef)>,
    pub unmapped: Vec<ColumnRef>,
}

/// Finds the heading row (a row with a heading for which `is_key` holds, within the first few
/// non-empty rows) and maps columns by `from_heading`; explicit mappings (`column` a letter or
/// heading text) override. `header`: `Some(false)` says there is no heading row. One rule for every
/// table the app reads: the import's [`layout`] and a provider's statement (`reconcile::statement`).
pub fn map_columns<F: Copy + PartialEq>(
    grid: &Grid,
    mappings: &[(&str, F)],
    header: Option<bool>,
    from_heading: impl Fn(&str) -> Option<F>,
    is_key: impl Fn(F) -> bool,
) -> Result<Mapped<F>, ImportError> {
    let width = grid.width();
    let mut header_index = None;
    if header != Some(false) {
        header_index = heading_row_by(grid, |h| from_heading(h).is_some_and(&is_key));
        if header == Some(true) && header_index.is_none() {
            // The caller says there is a heading row: take the first non-empty row.
            header_index = grid.cells.iter().position(|r| r.iter().any(|c| cell_text(c).is_some()));
        }
    }
    let heading = |col: u32| header_index.and_then(|i| cell_text(grid.get(i, col)));
    let col_ref = |col: u32| ColumnRef { index: col, letter: column_letter(col), header: heading(col) };

    let mut columns: Vec<(F, ColumnRef)> = Vec::new();
    for (column, field) in mappings {
        let wanted = normalise_heading(column);
        let by_heading = (grid.col0..grid.col0 + width)
            .find(|&c| heading(c).is_some_and(|h| h == column.trim() || normalise_heading(&h) == wanted));
        let col = by_heading.or_else(|| column_index(column)).ok_or_else(|| {
            ImportError::Mapping(crate::msg!(
                "找不到列“{column}”（应为列字母如 A，或表头文字）",
                "no column “{column}” (use a letter such as A, or heading text)"
            ))
        })?;
        columns.retain(|(f, c)| f != field && c.index != col);
        columns.push((*field, col_ref(col)));
    }
    let mut unmapped = Vec::new();
    if header_index.is_some() {
        for col in grid.col0..grid.col0 + width {
            if columns.iter().any(|(_, c)| c.index == col) {
                continue;
            }
            let Some(h) = heading(col) else { continue };
            match from_heading(&h) {
                Some(f) if !columns.iter().any(|(g, _)| *g == f) => columns.push((f, col_ref(col))),
                _ => unmapped.push(col_ref(col)),
            }
        }
    }
    Ok(Mapped { header_index, columns, unmapped })
}

/// The unrecognised headings, for a "column not found" message: `A=标题, C=…`, or `—`.
pub fn unmapped_text(unmapped: &[ColumnRef]) -> String {
    let seen: Vec<String> =
        unmapped.iter().map(|c| format!("{}={}", c.letter, c.header.clone().unwrap_or_default())).collect();
    if seen.is_empty() {
        "—".into()
    } else {
        seen.join(", ")
    }
}

/// Finds the heading row (within the first few non-empty rows: a title row may come first) and maps
/// columns; explicit mappings override. `header`: `Some(false)` says there is no heading row.
pub fn layout(grid: &Grid, mappings: &[ColumnMapping], header: Option<bool>) -> Result<Layout, ImportError> {
    let mappings: Vec<(&str, Field)> = mappings.iter().map(|m| (m.column.as_str(), m.field)).collect();
    let mapped = map_columns(grid, &mappings, header, Field::from_heading, |f| {
        matches!(f, Field::Account | Field::Face)
    })?;
    let layout = Layout {
        header_index: mapped.header_index,
        header_row: mapped.header_index.map(|i| grid.row0 + i as u32 + 1),
        columns: mapped.columns,
        unmapped: mapped.unmapped,
    };
    for need in [Field::Account, Field::Face] {
        if layout.column(need).is_none() {
            return Err(ImportError::MissingColumn {
                field: need.label_zh(),
                field_en: need.as_str(),
                seen: unmapped_text(&layout.unmapped),
            });
        }
    }
    Ok(layout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_in_both_languages() {
        assert_eq!(Field::from_heading("手机号码"), Some(Field::Account));
        assert_eq!(Field::from_heading(" Phone Number "), Some(Field::Account));
        assert_eq!(Field::from_heading("面值(元)"), Some(Field::Face));
        assert_eq!(Field::from_heading("充值金额（元）"), Some(Field::Face));
        assert_eq!(Field::from_heading("ＡＭＯＵＮＴ"), Some(Field::Face));
        assert_eq!(Field::from_heading("*户号"), Some(Field::Account));
        assert_eq!(Field::from_heading("身份证号"), Some(Field::IdCard));
        assert_eq!(Field::from_heading("随便"), None);
        assert_eq!("A=account".parse::<ColumnMapping>().unwrap().field, Field::Account);
        assert_eq!("B=面值".parse::<ColumnMapping>().unwrap().field, Field::Face);
        assert!("B".parse::<ColumnMapping>().is_err());
        assert!("B=nonsense".parse::<ColumnMapping>().is_err());
    }
}
