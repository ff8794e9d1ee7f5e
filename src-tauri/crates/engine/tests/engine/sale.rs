//! The sale price (售价, issue 14 item 1) from every front end, decided once and stored with its source:
//! the order form (through the engine, against the simulator), an import column, the price list, a
//! markup rule; and unknown when none applies — never 0.

use crate::run::{fast_settings, rig_with};
use rust_xlsxwriter::Workbook;
use topup_engine::api::{self, NewOrderInput};
use topup_engine::book::{Book, ReportBy};
use topup_engine::config::EngineSettings;
use topup_engine::import::{commit, preview, CommitOptions, ImportOptions, RowStatus, SourceFile};
use topup_engine::order::{self, Context, Origin};
use topup_engine::report::{self, ReportQuery};
use topup_engine::sale::{Markup, PriceEntry, PriceList, SaleSource};
use topup_engine::{Li, ProductKind, ProviderId};

fn prices() -> PriceList {
    PriceList {
        entries: vec![PriceEntry {
            kind: ProductKind::Phone,
            provider: None,
            face: Li::from_yuan(50),
            sale: Li(49_500),
        }],
        markups: vec![Markup {
            kind: Some(ProductKind::Phone),
            provider: Some(ProviderId::Juhe),
            permille: 1002,
            fixed: Li(100),
        }],
    }
}

trait Checked {
    fn checked(&self, ctx: &Context<'_>) -> Result<order::CheckedOrder, order::Refused>;
}

impl Checked for NewOrderInput {
    /// The form's order through the one check, refused as the form names fields.
    fn checked(&self, ctx: &Context<'_>) -> Result<order::CheckedOrder, order::Refused> {
        order::check(&self.raw(), ctx).into_result(Origin::Form)
    }
}

fn form(account: &str, face: &str, sale: Option<&str>, customer: Option<&str>) -> NewOrderInput {
    NewOrderInput {
        provider: Some(ProviderId::Juhe),
        kind: ProductKind::Phone,
        account: account.into(),
        face: face.into(),
        product_id: None,
        area: None,
        server: None,
        quantity: None,
        electricity: None,
        sale: sale.map(str::to_owned),
        customer: customer.map(str::to_owned),
        speed: None,
    }
}

/// The form's sale price, the price list's and the markup's go through the engine onto the order with
/// their source; the simulator's cost makes the profit, and the day's report adds them up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn form_orders_store_their_sale_and_the_day_report_shows_the_profit() {
    let rig = rig_with(EngineSettings { prices: prices(), ..fast_settings() }).await;
    let cases = [
        (
            form("13800138001", "100", Some("￥101.5元"), Some("张三")),
            Some(Li(101_500)),
            Some(SaleSource::Form),
        ),
        (form("13800138002", "50", None, Some("李四")), Some(Li(49_500)), Some(SaleSource::PriceList)),
        // 30 × 1.002 + 0.1 = 30.16
        (form("13800138003", "30", Some(""), None), Some(Li(30_160)), Some(SaleSource::Markup)),
    ];
    let mut placed = Vec::new();
    for (input, sale, source) in cases {
        let pre = api::preflight(&rig.engine, &input).await.unwrap();
        assert_eq!((pre.sale, pre.sale_source), (sale, source), "the confirmation shows what will be stored");
        let order = api::add_order(&rig.engine, &input).unwrap();
        assert_eq!((order.sale, order.sale_source), (sale, source));
        assert_eq!(order.customer.as_deref(), input.customer.as_deref());
        placed.push(order);
    }
    let mut profit = 0;
    for o in &placed {
        let o = rig.settle(o).await;
        assert_eq!(o.state, topup_engine::book::OrderState::Succeeded, "{o:?}");
        let cost = o.cost.expect("the simulator's price");
        assert_eq!(o.profit, Some(Li(o.sale.unwrap().0 - cost.0)));
        profit += o.profit.unwrap().0;
    }
    let today = report::day_text(rig.book.local_day(topup_engine::book::now_ms()).unwrap());
    let q = ReportQuery { from: Some(today.clone()), to: Some(today), by: Some(ReportBy::Customer) };
    let r = report::report(&rig.book, &q).unwrap();
    assert_eq!((r.total.orders, r.total.succeeded, r.total.profit), (3, 3, Some(Li(profit))));
    let customers: Vec<&str> = r.rows.iter().map(|l| l.key.as_str()).collect();
    assert_eq!(customers, ["", "张三", "李四"]);
    rig.stop().await;
}

/// A bad sale price in the form is refused naming the field, in Chinese and English.
#[test]
fn a_bad_sale_in_the_form_names_the_field() {
    let settings = EngineSettings::default();
    let ctx = Context { default_kind: ProductKind::Phone, settings: &settings, available: &ProviderId::ALL };
    let e = form("13800138001", "100", Some("十元"), None).checked(&ctx).unwrap_err().to_string();
    assert!(e.contains("售价") && e.contains("sale price") && e.contains("十元"), "{e}");
    let e = form("13800138001", "100", Some("-1"), None).checked(&ctx).unwrap_err().to_string();
    assert!(e.contains("不能为负数") && e.contains("cannot be negative"), "{e}");
    let long = "客".repeat(65);
    let e = form("13800138001", "100", None, Some(&long)).checked(&ctx).unwrap_err().to_string();
    assert!(e.contains("客户") && e.contains("customer"), "{e}");
}

/// Without a price list and without a typed price the sale is unknown: `None`, not 0.
#[test]
fn no_rule_means_an_unknown_sale_never_zero() {
    let settings = EngineSettings { prices: prices(), ..EngineSettings::default() };
    let ctx = Context { default_kind: ProductKind::Phone, settings: &settings, available: &ProviderId::ALL };
    // oper, 30 yuan: no fixed price for 30, the markup is juhe's only.
    let mut input = form("13800138001", "30", None, None);
    input.provider = Some(ProviderId::Oper);
    let checked = input.checked(&ctx).unwrap();
    assert_eq!((checked.sale().amount, checked.sale().source), (None, None));
    // The same order through juhe gets the markup, and a typed 0 is a known 0.
    input.provider = Some(ProviderId::Juhe);
    assert_eq!(input.checked(&ctx).unwrap().sale().amount, Some(Li(30_160)));
    input.sale = Some("0".into());
    let zero = input.checked(&ctx).unwrap().sale();
    assert_eq!((zero.amount, zero.source), (Some(Li(0)), Some(SaleSource::Form)));
    // The flags of `order add`: the source says so.
    let raw = {
        let mut r = order::RawOrder::new(Origin::Flags, Some(ProviderId::Juhe));
        r.text(topup_engine::import::Field::Account, Some("13800138001"))
            .text(topup_engine::import::Field::Face, Some("30"))
            .text(topup_engine::import::Field::Sale, Some("31"));
        r
    };
    let c = order::check(&raw, &ctx).into_result(Origin::Flags).unwrap();
    assert_eq!((c.sale().amount, c.sale().source), (Some(Li(31_000)), Some(SaleSource::Cli)));
}

fn sheet() -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let rows: [[&str; 4]; 6] = [
        ["手机号", "面值", "客户价(元)", "客户"],
        ["13812345678", "100", "99.8", "张三"],
        ["13812345679", "50", "", "李四"],
        ["13812345670", "30", "", ""],
        ["13812345671", "100", "abc", "张三"],
        ["13812345672", "100", "-2", ""],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string(r as u32, c as u16, *v).unwrap();
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

/// An import column (here headed 客户价(元)) gives each row its sale price; a blank cell takes the
/// price list, then unknown; a bad cell is refused naming its row and column in both languages; the
/// committed orders carry their sale, source and customer.
#[test]
fn an_import_column_or_the_price_list_gives_each_row_its_sale() {
    let dir = tempfile::tempdir().unwrap();
    let book = Book::open(&dir.path().join("orders.sqlite3")).unwrap();
    let file = SourceFile::from_bytes("客户订单.xlsx".into(), sheet()).unwrap();
    let mut opts = ImportOptions::new(ProviderId::Oper);
    opts.prices = Some(prices());
    let p = preview(&book, &file, &opts).unwrap();
    let row = |n: u32| p.rows.iter().find(|r| r.row == n).unwrap();
    let sold = |n: u32| row(n).order.as_ref().map(|o| (o.sale, o.sale_source, o.customer.clone()));
    assert_eq!(sold(2), Some((Some(Li(99_800)), Some(SaleSource::Import), Some("张三".into()))));
    assert_eq!(sold(3), Some((Some(Li(49_500)), Some(SaleSource::PriceList), Some("李四".into()))));
    assert_eq!(sold(4), Some((None, None, None)));
    for (n, zh, en) in [(5, "不是准确的金额", "not an exact amount"), (6, "不能为负数", "cannot be negative")]
    {
        assert_eq!(row(n).status, RowStatus::Invalid, "row {n}");
        let text = row(n).messages[0].describe(Some(n));
        assert!(text.contains(&format!("第 {n} 行 C 列（客户价(元)）")), "{text}");
        assert!(text.contains(&format!("row {n}, column C (客户价(元))")), "{text}");
        assert!(text.contains(zh) && text.contains(en), "{text}");
    }
    let done = commit(&book, &p, &CommitOptions { skip_invalid: true, ..Default::default() }).unwrap();
    assert_eq!(done.orders, 3);
    let page = book.list_orders(&Default::default()).unwrap();
    let mut stored: Vec<_> =
        page.orders.iter().map(|o| (o.account.clone(), o.sale, o.sale_source, o.customer.clone())).collect();
    stored.sort();
    assert_eq!(
        stored,
        [
            ("13812345670".to_owned(), None, None, None),
            ("13812345678".to_owned(), Some(Li(99_800)), Some(SaleSource::Import), Some("张三".to_owned())),
            (
                "13812345679".to_owned(),
                Some(Li(49_500)),
                Some(SaleSource::PriceList),
                Some("李四".to_owned())
            ),
        ]
    );
    // The saved price list is the default one (the window's and the command line's import).
    let saved = EngineSettings { prices: PriceList::default(), ..EngineSettings::default() };
    saved.save(&book).unwrap();
    let p = preview(
        &book,
        &file,
        &ImportOptions { allow_duplicates: true, ..ImportOptions::new(ProviderId::Oper) },
    )
    .unwrap();
    assert_eq!(p.rows.iter().find(|r| r.row == 3).unwrap().order.as_ref().unwrap().sale, None);
}
