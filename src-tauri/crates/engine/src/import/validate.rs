//! One spreadsheet row → one order ready to store, or the reasons it is not, naming row and column.
//!
//! The rules are not here: a row is mapped to a [`RawOrder`] (each mapped column's cell, as the
//! spreadsheet stored it) and checked by [`crate::order::check()`], the same check as the order form,
//! the command line and pasted text, so a bad value gets the same message everywhere. What is here is
//! what only a spreadsheet has: merged cells, and turning a message about a field into one about a
//! column. The check reads cells exactly (a float phone number, `1.38123E+10`, full-width digits: see
//! `order::text`), and ends with the provider's own pure check, so the importer never accepts what
//! submit would refuse.

use super::columns::{ColumnRef, Layout};
use super::read::Grid;
use crate::config::EngineSettings;
use crate::order::{Cell, Checked, CheckedOrder, Context, FieldMessage, Origin, RawOrder};
use calamine::Data;
use serde::Serialize;
use topup_core::{Li, ProductKind, ProviderId};

pub use crate::order::Level;

/// One finding about one row (or about the file, when `column` and the row are absent).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct RowMessage {
    pub level: Level,
    /// Stable code for the UI (`not_a_phone`, `face_not_sold`, `duplicate_in_file`, …).
    pub code: &'static str,
    pub column: Option<ColumnRef>,
    /// `en` is empty when `zh` is already bilingual (a provider's message).
    #[serde(flatten)]
    #[ts(flatten)]
    pub message: crate::contract::Message,
}

/// A finding reads as its message (`m.zh`, `m.en`).
impl std::ops::Deref for RowMessage {
    type Target = crate::contract::Message;
    fn deref(&self) -> &crate::contract::Message {
        &self.message
    }
}

impl RowMessage {
    pub fn new(level: Level, code: &'static str, column: Option<&ColumnRef>, zh: String, en: String) -> Self {
        RowMessage { level, code, column: column.cloned(), message: crate::contract::Message { zh, en } }
    }

    /// `第 5 行 B 列（手机号）：… / row 5, column B (手机号): …`
    pub fn describe(&self, row: Option<u32>) -> String {
        let (mut zh, mut en) = (String::new(), String::new());
        if let Some(r) = row {
            zh.push_str(&format!("第 {r} 行"));
            en.push_str(&format!("row {r}"));
        }
        if let Some(c) = &self.column {
            let h = c.header.as_deref().map(|h| format!("（{h}）")).unwrap_or_default();
            let he = c.header.as_deref().map(|h| format!(" ({h})")).unwrap_or_default();
            zh.push_str(&format!(" {} 列{h}", c.letter));
            en.push_str(&format!("{}column {}{he}", if row.is_some() { ", " } else { "" }, c.letter));
        }
        let sep = if zh.is_empty() { "" } else { "：" };
        let sep_en = if en.is_empty() { "" } else { ": " };
        if self.en.is_empty() {
            // The text is already bilingual (a provider's message).
            let prefix = if zh.is_empty() { String::new() } else { format!("{} / {en}：", zh.trim_start()) };
            format!("{prefix}{}", self.zh)
        } else {
            format!("{}{sep}{} / {en}{sep_en}{}", zh.trim_start(), self.zh, self.en)
        }
    }
}

impl RowMessage {
    /// The message about a field, placed at the field's column.
    pub fn at_column(m: FieldMessage, layout: &Layout) -> RowMessage {
        RowMessage {
            level: m.level,
            code: m.code,
            column: m.field.and_then(|f| layout.column(f)).cloned(),
            message: m.message,
        }
    }
}

/// A validated order, with its normalised values, ready to be stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "camelCase")]
pub struct ImportedOrder {
    pub kind: ProductKind,
    pub account: String,
    pub face: Li,
    pub product_id: Option<String>,
    /// What goes into `orders.details`: `quantity`, `area`, `server`, `carrier`, `electricity`
    /// (the providers crate's [`Electricity`] as JSON).
    #[ts(type = "Record<string, unknown>")]
    pub details: serde_json::Value,
    pub note: Option<String>,
    /// Estimated cost at the provider's price (see `preview::ESTIMATED_PRICE_PERMILLE`).
    pub estimated_cost: Li,
    /// The sale price as decided ([`crate::sale`]): the row's 售价 column, else the price list;
    /// `null` when unknown.
    pub sale: Option<Li>,
    pub sale_source: Option<crate::sale::SaleSource>,
    pub customer: Option<String>,
}

impl ImportedOrder {
    pub fn new(order: &CheckedOrder, estimated_cost: Li) -> ImportedOrder {
        ImportedOrder {
            kind: order.kind(),
            account: order.account().to_owned(),
            face: order.face(),
            product_id: order.product_id().map(str::to_owned),
            details: order.details(),
            note: order.note().map(str::to_owned),
            estimated_cost,
            sale: order.sale().amount,
            sale_source: order.sale().source,
            customer: order.customer().map(str::to_owned),
        }
    }

    /// What the order stores about its sale.
    pub fn sold(&self) -> crate::sale::Sold {
        crate::sale::Sold {
            sale: crate::sale::Sale { amount: self.sale, source: self.sale_source },
            customer: self.customer.clone(),
        }
    }
}

/// What validation says about a row.
#[derive(Debug, Default)]
pub struct RowOutcome {
    pub empty: bool,
    pub messages: Vec<RowMessage>,
    pub order: Option<ImportedOrder>,
}

impl RowOutcome {
    pub fn has_errors(&self) -> bool {
        self.messages.iter().any(|m| m.level == Level::Error)
    }

    /// The outcome of a checked order: its messages at their columns, and the order with its
    /// estimated cost.
    pub fn from_checked(checked: Checked, layout: &Layout, mut messages: Vec<RowMessage>) -> RowOutcome {
        messages.extend(checked.messages.into_iter().map(|m| RowMessage::at_column(m, layout)));
        let order = checked
            .order
            .map(|o| ImportedOrder::new(&o, super::preview::estimated_cost(o.provider(), o.face())));
        RowOutcome { empty: false, messages, order }
    }
}

/// What validation needs to know besides the row.
pub struct Rules<'a> {
    pub provider: ProviderId,
    pub default_kind: ProductKind,
    pub layout: &'a Layout,
    /// No routing (every row is for the import's provider), and the user's price list.
    pub settings: EngineSettings,
}

impl<'a> Rules<'a> {
    pub fn new(
        provider: ProviderId,
        default_kind: ProductKind,
        layout: &'a Layout,
        prices: &crate::sale::PriceList,
    ) -> Rules<'a> {
        let settings = EngineSettings { prices: prices.clone(), ..EngineSettings::default() };
        Rules { provider, default_kind, layout, settings }
    }

    /// The check's context: every row is for the import's provider.
    pub fn check(&self, raw: &RawOrder<'_>) -> Checked {
        let ctx = Context {
            default_kind: self.default_kind,
            settings: &self.settings,
            available: &[self.provider],
        };
        crate::order::check(raw, &ctx)
    }
}

pub(crate) fn cell(d: &Data) -> Cell<'_> {
    match d {
        Data::Empty => Cell::Empty,
        Data::String(s) => Cell::Text(s),
        Data::Int(i) => Cell::Int(*i),
        Data::Float(f) => Cell::Float(*f),
        other => Cell::Other(other.to_string()),
    }
}

pub(crate) fn is_blank(d: &Data) -> bool {
    match d {
        Data::Empty => true,
        Data::String(s) => s.chars().all(|c| c.is_whitespace() || crate::order::text::is_invisible(c)),
        _ => false,
    }
}

/// Validates row `i` of the grid.
pub fn validate_row(grid: &Grid, i: usize, rules: &Rules<'_>) -> RowOutcome {
    let layout = rules.layout;
    let row = &grid.cells[i];
    if row.iter().all(is_blank) {
        return RowOutcome { empty: true, ..RowOutcome::default() };
    }
    let abs_row = grid.row0 + i as u32;
    let mut messages = Vec::new();
    for (_, c) in &layout.columns {
        if grid.merged_filled.contains(&(abs_row, c.index)) {
            messages.push(RowMessage::new(
                Level::Warning,
                "merged_cell",
                Some(c),
                "合并单元格，取其左上角的值".into(),
                "merged cell: the value of its top-left cell is used".into(),
            ));
        }
    }
    let mut raw = RawOrder::new(Origin::Sheet { row: abs_row + 1 }, Some(rules.provider));
    for (field, c) in &layout.columns {
        raw.set(*field, cell(grid.get(i, c.index)));
    }
    RowOutcome::from_checked(rules.check(&raw), layout, messages)
}
