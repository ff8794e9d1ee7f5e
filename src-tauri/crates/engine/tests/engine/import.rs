//! Batch import and export (issue 6), each case with a real file: xlsx fixtures are generated here with
//! rust_xlsxwriter; xls and ods fixtures were converted once with LibreOffice and are committed under
//! `tests/fixtures/` (see the README there).

use calamine::{Data, Reader};
use rust_xlsxwriter::{Format, Workbook, Worksheet};
use std::path::{Path, PathBuf};
use topup_engine::book::{Book, OrderFilter, OrderState};
use topup_engine::import::{
    commit, export_orders, preview, ColumnMapping, CommitOptions, ExportFormat, FileFormat, ImportError,
    ImportOptions, Level, Preview, RowResult, RowStatus, SourceFile, TextEncoding,
};
use topup_engine::{Li, ProductKind, ProviderId};

fn open() -> (tempfile::TempDir, Book) {
    let dir = tempfile::tempdir().unwrap();
    let book = Book::open(&dir.path().join("orders.sqlite3")).unwrap();
    (dir, book)
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A cell value for the generator.
enum V {
    S(&'static str),
    N(f64),
    E,
}

fn write_rows(ws: &mut Worksheet, rows: &[&[V]]) {
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            match v {
                V::S(s) => {
                    ws.write_string(r as u32, c as u16, *s).unwrap();
                }
                V::N(n) => {
                    ws.write_number(r as u32, c as u16, *n).unwrap();
                }
                V::E => {}
            }
        }
    }
}

fn xlsx(rows: &[&[V]]) -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    write_rows(ws, rows);
    wb.save_to_buffer().unwrap()
}

fn file(name: &str, bytes: Vec<u8>) -> SourceFile {
    SourceFile::from_bytes(name.to_owned(), bytes).unwrap()
}

fn row(p: &Preview, n: u32) -> &RowResult {
    p.rows.iter().find(|r| r.row == n).unwrap_or_else(|| panic!("no row {n}: {:#?}", p.rows))
}

fn codes(r: &RowResult) -> Vec<&'static str> {
    r.messages.iter().map(|m| m.code).collect()
}

fn juhe() -> ImportOptions {
    ImportOptions::new(ProviderId::Juhe)
}

#[test]
fn phone_numbers_as_floats_scientific_full_width_and_stray_characters() {
    let (_d, book) = open();
    let bytes = xlsx(&[
        &[V::S("手机号码"), V::S("面值(元)"), V::S("备注")],
        &[V::N(13812345678.0), V::N(50.0), V::S("float")],
        &[V::S("1.38123E+10"), V::N(10.0), V::S("scientific text")],
        &[V::S("１３９１２３４５６７８"), V::N(20.0), V::S("full width")],
        &[V::S("137 1234-5678\u{200B}\u{FEFF}\u{00A0}"), V::N(30.0), V::E],
        &[V::N(13812345678.5), V::N(50.0), V::S("fraction")],
        &[V::S("1.3812345678E+10"), V::N(100.0), V::S("sci exact")],
        &[V::S("1234567"), V::N(100.0), V::S("short")],
        &[V::N(1.38e10), V::N(2.0), V::S("float 11 digits")],
        &[V::S(" 13600001111 "), V::N(5.0), V::S("plain")],
    ]);
    let p = preview(&book, &file("phones.xlsx", bytes), &juhe()).unwrap();
    assert_eq!(p.format, FileFormat::Xlsx);
    assert_eq!(p.layout.header_row, Some(1));

    let r2 = row(&p, 2);
    assert_eq!(r2.status, RowStatus::Valid, "{r2:#?}");
    assert_eq!(r2.order.as_ref().unwrap().account, "13812345678");
    assert_eq!(r2.order.as_ref().unwrap().note.as_deref(), Some("float"));
    let w = &r2.messages[0];
    assert_eq!((w.level, w.code), (Level::Warning, "number_converted"));
    assert_eq!(w.column.as_ref().unwrap().letter, "A");
    assert_eq!(w.column.as_ref().unwrap().header.as_deref(), Some("手机号码"));
    let text = w.describe(Some(2));
    assert!(text.starts_with("第 2 行 A 列（手机号码）"), "{text}");
    assert!(text.contains("row 2, column A (手机号码)"), "{text}");

    // `1.38123E+10` has lost five digits: refused, naming the row and column, never guessed.
    let r3 = row(&p, 3);
    assert_eq!(r3.status, RowStatus::Invalid, "{r3:#?}");
    assert!(r3.order.is_none());
    assert_eq!(codes(r3), ["scientific_truncated"]);
    assert!(r3.messages[0].describe(Some(3)).starts_with("第 3 行 A 列"), "{:?}", r3.messages);

    let r4 = row(&p, 4);
    assert_eq!(r4.order.as_ref().unwrap().account, "13912345678");
    assert_eq!(codes(r4), ["normalised"]);
    assert!(r4.messages[0].zh.contains("全角"), "{:?}", r4.messages);

    let r5 = row(&p, 5);
    assert_eq!(r5.order.as_ref().unwrap().account, "13712345678");
    assert!(r5.messages[0].en.contains("spaces") && r5.messages[0].en.contains("invisible"), "{r5:?}");
    assert!(r5.messages[0].en.contains("dashes"), "{r5:?}");

    let r6 = row(&p, 6);
    assert_eq!(r6.status, RowStatus::Invalid);
    assert_eq!(codes(r6), ["number_inexact"]);

    assert_eq!(row(&p, 7).order.as_ref().unwrap().account, "13812345678");
    let r8 = row(&p, 8);
    assert_eq!((r8.status, codes(r8)), (RowStatus::Invalid, vec!["not_a_phone"]));
    assert_eq!(row(&p, 9).order.as_ref().unwrap().account, "13800000000");
    let r10 = row(&p, 10);
    assert_eq!((r10.status, r10.messages.len()), (RowStatus::Valid, 0), "{r10:?}");

    assert_eq!((p.totals.rows, p.totals.valid, p.totals.invalid), (9, 6, 3));
    assert_eq!(p.totals.face_total, Li::from_yuan(50 + 20 + 30 + 100 + 2 + 5));
    assert!(p.totals.estimated_cost > Li::ZERO && p.totals.estimated_cost <= p.totals.face_total);
}

#[test]
fn face_values_the_provider_does_not_sell_are_errors() {
    let (_d, book) = open();
    let bytes = xlsx(&[
        &[V::S("phone"), V::S("amount")],
        &[V::S("13800000001"), V::N(15.0)],
        &[V::S("13800000002"), V::N(10.5)],
        &[V::S("13800000003"), V::S("abc")],
        &[V::S("13800000004"), V::S("-10")],
        &[V::S("13800000005"), V::S("￥100元")],
        &[V::S("13800000006"), V::E],
        &[V::S("13800000007"), V::N(300.0)],
    ]);
    let f = file("faces.xlsx", bytes);
    let p = preview(&book, &f, &juhe()).unwrap();
    assert_eq!(codes(row(&p, 2)), ["face_not_sold"]);
    assert_eq!(row(&p, 2).messages[0].column.as_ref().unwrap().letter, "B");
    assert_eq!(codes(row(&p, 3)), ["face_not_whole"]);
    assert_eq!(codes(row(&p, 4)), ["face_not_money"]);
    assert_eq!(codes(row(&p, 5)), ["face_not_positive"]);
    assert_eq!(row(&p, 6).order.as_ref().unwrap().face, Li::from_yuan(100));
    assert_eq!(codes(row(&p, 7)), ["missing_value"]);
    assert_eq!(row(&p, 8).status, RowStatus::Valid);
    assert_eq!((p.totals.valid, p.totals.invalid), (2, 5));

    // oper sells any whole fen: 15 and 10.5 are fine there, 10.005 is not.
    let oper = preview(&book, &f, &ImportOptions::new(ProviderId::Oper)).unwrap();
    assert_eq!(row(&oper, 2).status, RowStatus::Valid, "{:?}", row(&oper, 2));
    assert_eq!(row(&oper, 3).order.as_ref().unwrap().face, Li(10_500));
    let b = xlsx(&[&[V::S("phone"), V::S("amount")], &[V::S("13800000001"), V::S("10.005")]]);
    let oper = preview(&book, &file("f.xlsx", b), &ImportOptions::new(ProviderId::Oper)).unwrap();
    assert_eq!(codes(row(&oper, 2)), ["face_not_fen"]);
}

#[test]
fn merged_cells_take_their_top_left_value_and_empty_rows_are_skipped() {
    let (_d, book) = open();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    write_rows(
        ws,
        &[
            &[V::S("充值号码"), V::S("面值")],
            &[V::S("13800000001"), V::E],
            &[V::S("13800000002"), V::E],
            &[V::S("13800000003"), V::E],
            &[V::E, V::E],
            &[V::S("   "), V::E],
            &[V::S("13800000004"), V::N(10.0)],
        ],
    );
    ws.merge_range(1, 1, 3, 1, "", &Format::new()).unwrap();
    ws.write_number(1, 1, 50.0).unwrap();
    let p = preview(&book, &file("merged.xlsx", wb.save_to_buffer().unwrap()), &juhe()).unwrap();
    for n in 2..=4 {
        let r = row(&p, n);
        assert_eq!(r.status, RowStatus::Valid, "{r:?}");
        assert_eq!(r.order.as_ref().unwrap().face, Li::from_yuan(50));
    }
    assert!(codes(row(&p, 2)).is_empty());
    assert_eq!(codes(row(&p, 3)), ["merged_cell"]);
    assert_eq!(row(&p, 5).status, RowStatus::Skipped);
    assert_eq!(row(&p, 6).status, RowStatus::Skipped);
    assert_eq!((p.totals.rows, p.totals.valid, p.totals.skipped), (6, 4, 2));
}

#[test]
fn several_sheets_hidden_ones_named_as_hidden() {
    let (_d, book) = open();
    let mut wb = Workbook::new();
    let old = wb.add_worksheet().set_name("旧订单").unwrap();
    write_rows(old, &[&[V::S("手机号"), V::S("面值")], &[V::S("13800000009"), V::N(10.0)]]);
    old.set_hidden(true);
    let main = wb.add_worksheet().set_name("订单").unwrap();
    write_rows(
        main,
        &[
            &[V::S("手机号"), V::S("面值")],
            &[V::S("13800000001"), V::N(10.0)],
            &[V::S("13800000002"), V::N(20.0)],
        ],
    );
    main.set_active(true);
    let other = wb.add_worksheet().set_name("Other").unwrap();
    write_rows(other, &[&[V::S("Mobile"), V::S("Face")], &[V::S("13800000003"), V::N(30.0)]]);
    let f = file("sheets.xlsx", wb.save_to_buffer().unwrap());

    let sheets = f.sheets().unwrap();
    let listed: Vec<(&str, bool)> = sheets.iter().map(|s| (s.name.as_str(), s.hidden)).collect();
    assert_eq!(listed, [("旧订单", true), ("订单", false), ("Other", false)]);

    let p = preview(&book, &f, &juhe()).unwrap();
    assert_eq!(p.sheet.as_deref(), Some("订单"));
    assert_eq!(p.totals.valid, 2);
    assert!(p.file_messages.is_empty());

    let mut o = juhe();
    o.sheet = Some("other".into());
    let p = preview(&book, &f, &o).unwrap();
    assert_eq!(p.rows[0].order.as_ref().unwrap().account, "13800000003");

    o.sheet = Some("旧订单".into());
    let p = preview(&book, &f, &o).unwrap();
    assert!(p.sheet_hidden);
    assert_eq!(p.file_messages[0].code, "hidden_sheet");
    assert_eq!(p.rows[0].order.as_ref().unwrap().account, "13800000009");

    o.sheet = Some("没有".into());
    let err = preview(&book, &f, &o).unwrap_err();
    assert!(matches!(err, ImportError::NoSuchSheet { .. }), "{err}");
    assert!(err.to_string().contains("订单"), "{err}");
}

#[test]
fn a_sheet_without_headings_needs_and_takes_an_explicit_mapping() {
    let (_d, book) = open();
    let bytes = xlsx(&[
        &[V::S("张三"), V::S("13800000001"), V::N(10.0)],
        &[V::S("李四"), V::S("13800000002"), V::N(20.0)],
    ]);
    let f = file("noheader.xlsx", bytes);
    let err = preview(&book, &f, &juhe()).unwrap_err();
    assert!(matches!(err, ImportError::MissingColumn { .. }), "{err}");
    assert!(err.to_string().contains("A=account") || err.to_string().contains("映射"), "{err}");

    let mut o = juhe();
    o.mappings = vec!["b=account".parse().unwrap(), "C=面值".parse().unwrap(), "A=note".parse().unwrap()];
    let p = preview(&book, &f, &o).unwrap();
    assert_eq!(p.layout.header_row, None);
    assert_eq!(p.rows.len(), 2);
    assert_eq!(p.rows[0].row, 1);
    let first = p.rows[0].order.as_ref().unwrap();
    assert_eq!(
        (first.account.as_str(), first.face, first.note.as_deref()),
        ("13800000001", Li::from_yuan(10), Some("张三"))
    );

    // A mapping by heading text overrides recognition.
    let bytes = xlsx(&[
        &[V::S("号码"), V::S("客户电话"), V::S("面值")],
        &[V::S("x"), V::S("13800000001"), V::N(10.0)],
    ]);
    let mut o = juhe();
    o.mappings = vec![ColumnMapping { column: "客户电话".into(), field: "account".parse().unwrap() }];
    let p = preview(&book, &file("m.xlsx", bytes), &o).unwrap();
    assert_eq!(p.rows[0].order.as_ref().unwrap().account, "13800000001");
    assert!("Z=whatever".parse::<ColumnMapping>().is_err());
}

#[test]
fn electricity_rows_carry_what_dingyin_requires() {
    let (_d, book) = open();
    let bytes = xlsx(&[
        &[V::S("户号"), V::S("金额"), V::S("电网"), V::S("缴费手机号"), V::S("身份证号"), V::S("省份")],
        &[V::S("0012345678"), V::N(100.0), V::S("国网"), V::S("13800000001"), V::E, V::S("浙江")],
        &[V::S("0012345679"), V::N(100.0), V::S("国家电网"), V::E, V::E, V::E],
        &[V::S("5100001111"), V::N(200.0), V::S("南网"), V::E, V::S("11010519491231002X"), V::S("广东")],
        &[V::S("5100001112"), V::N(200.0), V::S("南方电网"), V::E, V::E, V::E],
        &[V::S("5100001113"), V::N(50.0), V::S("南网"), V::E, V::N(110105194912310020.0), V::E],
        &[V::S("5100001114"), V::N(50.0), V::S("华北电网"), V::E, V::E, V::E],
        &[V::S("5100001115"), V::N(50.5), V::S("国网"), V::S("13800000002"), V::E, V::E],
    ]);
    let opts = ImportOptions::new(ProviderId::Dingyin);
    let p = preview(&book, &file("power.xlsx", bytes.clone()), &opts).unwrap();
    let r2 = row(&p, 2);
    assert_eq!(r2.status, RowStatus::Valid, "{r2:?}");
    let o = r2.order.as_ref().unwrap();
    assert_eq!((o.kind, o.account.as_str()), (ProductKind::Electricity, "0012345678"));
    assert_eq!(o.details["electricity"]["grid"], "state");
    assert_eq!(o.details["electricity"]["mobile"], "13800000001");
    assert_eq!(o.details["electricity"]["province"], "浙江");

    let r3 = row(&p, 3);
    assert_eq!((r3.status, codes(r3)), (RowStatus::Invalid, vec!["missing_value"]));
    assert_eq!(r3.messages[0].column.as_ref().unwrap().letter, "D");
    assert!(r3.messages[0].en.contains("State Grid"), "{r3:?}");

    let r4 = row(&p, 4);
    assert_eq!(r4.status, RowStatus::Valid, "{r4:?}");
    assert_eq!(r4.order.as_ref().unwrap().details["electricity"]["id_card"], "11010519491231002X");

    let r5 = row(&p, 5);
    assert_eq!((r5.status, codes(r5)), (RowStatus::Invalid, vec!["missing_value"]));
    assert_eq!(r5.messages[0].column.as_ref().unwrap().letter, "E");

    // An 18-digit ID stored as a number has lost its last digits: refused.
    assert_eq!(codes(row(&p, 6)), ["number_inexact"]);
    assert_eq!(codes(row(&p, 7)), ["bad_grid"]);
    assert_eq!(codes(row(&p, 8)), ["face_not_whole"]);

    // juhe does not sell electricity at all.
    let p = preview(&book, &file("power.xlsx", bytes), &juhe()).unwrap();
    assert!(codes(row(&p, 2)).contains(&"kind_not_sold"), "{:?}", row(&p, 2));
}

fn csv_preview(book: &Book, name: &str, bytes: Vec<u8>) -> Preview {
    let f = file(name, bytes);
    assert_eq!(f.format, FileFormat::Text);
    preview(book, &f, &juhe()).unwrap()
}

#[test]
fn csv_and_txt_in_utf8_bom_gbk_with_comma_or_tab() {
    let (_d, book) = open();
    let text = "手机号,面值,备注\r\n13800000001,10,张三\r\n\"13800000002\",\"20\",\"李四, 王五\"\r\n";
    let check = |p: &Preview, enc: TextEncoding| {
        assert_eq!(p.encoding, Some(enc));
        assert_eq!(p.totals.valid, 2, "{:#?}", p.rows);
        assert_eq!(p.rows[0].order.as_ref().unwrap().note.as_deref(), Some("张三"));
        assert_eq!(p.rows[1].order.as_ref().unwrap().note.as_deref(), Some("李四, 王五"));
        assert_eq!(p.rows[1].row, 3);
    };
    check(&csv_preview(&book, "a.csv", text.as_bytes().to_vec()), TextEncoding::Utf8);
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(text.as_bytes());
    check(&csv_preview(&book, "b.csv", bom), TextEncoding::Utf8Bom);
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(text);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&gbk).is_err(), "the GBK fixture must not be valid UTF-8");
    check(&csv_preview(&book, "c.csv", gbk.into_owned()), TextEncoding::Gbk);
    let tabbed = "手机号\t面值\t备注\n13800000001\t10\t张三\n13800000002\t20\t李四, 王五\n";
    check(&csv_preview(&book, "d.txt", tabbed.as_bytes().to_vec()), TextEncoding::Utf8);
    // Excel's "Unicode text": UTF-16LE with BOM, tab-separated.
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(tabbed.encode_utf16().flat_map(u16::to_le_bytes));
    check(&csv_preview(&book, "e.txt", utf16), TextEncoding::Utf16);
    // Scientific notation written by Excel into a csv.
    let p = csv_preview(&book, "f.csv", b"phone,face\n1.38123E+10,10\n1.3812345678E+10,10\n".to_vec());
    assert_eq!(codes(&p.rows[0]), ["scientific_truncated"]);
    assert_eq!(p.rows[1].order.as_ref().unwrap().account, "13812345678");
    assert_eq!(codes(&p.rows[1]), ["scientific_converted"]);
}

#[test]
fn the_reader_follows_the_content_not_the_extension_and_reports_real_errors() {
    let (_d, book) = open();
    let bytes = xlsx(&[&[V::S("手机号"), V::S("面值")], &[V::S("13800000001"), V::N(10.0)]]);
    let f = file("orders.csv", bytes.clone());
    assert_eq!(f.format, FileFormat::Xlsx);
    assert_eq!(preview(&book, &f, &juhe()).unwrap().totals.valid, 1);

    // A csv called .xlsx is read as text.
    let f = file("orders.xlsx", b"phone,face\n13800000001,10\n".to_vec());
    assert_eq!(f.format, FileFormat::Text);

    // A truncated xlsx: calamine's own error, named as an xlsx problem.
    let f = file("broken.xlsx", bytes[..bytes.len() / 2].to_vec());
    let err = preview(&book, &f, &juhe()).unwrap_err();
    assert!(matches!(err, ImportError::Spreadsheet { format: "xlsx", .. }), "{err}");
    assert!(err.to_string().contains("xlsx"), "{err}");
    assert!(!err.is_usage() || err.code() == "unreadable_spreadsheet");

    // Binary junk.
    let junk: Vec<u8> = (0u8..=255).cycle().take(4096).collect();
    let err = SourceFile::from_bytes("junk.xls".into(), junk).unwrap_err();
    assert!(matches!(err, ImportError::UnknownFormat { .. }), "{err}");
    assert!(err.to_string().contains("junk.xls"), "{err}");
    // An OLE header with nothing behind it.
    let mut ole = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    ole.extend([0u8; 600]);
    let err = preview(&book, &file("fake.xls", ole), &juhe()).unwrap_err();
    assert!(matches!(err, ImportError::Spreadsheet { format: "xls", .. }), "{err}");
    let err = SourceFile::from_bytes("empty.csv".into(), Vec::new()).unwrap_err();
    assert_eq!(err.code(), "empty_file");
}

#[test]
fn xls_and_ods_fixtures_made_by_libreoffice() {
    let (_d, book) = open();
    for name in ["orders.xls", "orders.ods"] {
        let f = SourceFile::open(&fixtures().join(name)).unwrap();
        assert_eq!(f.format, if name.ends_with("xls") { FileFormat::Xls } else { FileFormat::Ods });
        let sheets = f.sheets().unwrap();
        assert_eq!(
            sheets.iter().map(|s| (s.name.as_str(), s.hidden)).collect::<Vec<_>>(),
            [("订单", false), ("隐藏", true)],
            "{name}"
        );
        let p = preview(&book, &f, &juhe()).unwrap();
        assert_eq!(p.sheet.as_deref(), Some("订单"));
        let accounts: Vec<&str> =
            p.rows.iter().filter_map(|r| r.order.as_ref()).map(|o| o.account.as_str()).collect();
        assert_eq!(row(&p, 2).messages[0].code, "number_converted", "{name}");
        assert_eq!(row(&p, 5).status, RowStatus::Invalid, "{name}");
        assert_eq!(codes(row(&p, 5)), ["face_not_sold"], "{name}");
        if name.ends_with("xls") {
            // The xls keeps the merge: row 4 takes 100 from row 3's merged cell.
            assert_eq!(accounts, ["13812345678", "13900001111", "13700002222"], "{name}: {:#?}", p.rows);
            assert_eq!(codes(row(&p, 4)), ["merged_cell"], "{name}");
            assert_eq!(p.totals.face_total, Li::from_yuan(50 + 100 + 100), "{name}");
        } else {
            // calamine reports no merged ranges for ods: the covered cell reads empty, and the row is
            // refused rather than guessed.
            assert_eq!(accounts, ["13812345678", "13900001111"], "{name}: {:#?}", p.rows);
            assert_eq!(codes(row(&p, 4)), ["missing_value"], "{name}");
        }
    }
}

#[test]
fn duplicates_in_the_file_in_the_book_and_the_same_file_are_each_reported() {
    let (_d, book) = open();
    let rows: &[&[V]] = &[
        &[V::S("手机号"), V::S("面值")],
        &[V::S("13800000001"), V::N(10.0)],
        &[V::S("13800000002"), V::N(10.0)],
        &[V::S("13800000001"), V::N(10.0)],
        &[V::S("13800000001"), V::N(20.0)],
    ];
    let f = file("dupes.xlsx", xlsx(rows));
    let p = preview(&book, &f, &juhe()).unwrap();
    for n in [2, 4] {
        let r = row(&p, n);
        assert_eq!((r.status, codes(r)), (RowStatus::Duplicate, vec!["duplicate_in_file"]));
    }
    assert!(row(&p, 2).messages[0].zh.contains('4'), "{:?}", row(&p, 2));
    assert_eq!(row(&p, 3).status, RowStatus::Valid);
    assert_eq!(row(&p, 5).status, RowStatus::Valid);
    assert_eq!((p.totals.valid, p.totals.duplicates), (2, 2));
    // Not silently allowed: a commit refuses, writing nothing.
    let err = commit(&book, &p, &CommitOptions::default()).unwrap_err();
    assert!(matches!(err, ImportError::InvalidRows { invalid: 0, duplicates: 2 }), "{err}");
    assert_eq!(book.list_orders(&OrderFilter::default()).unwrap().total, 0);

    // Allowed explicitly: valid, with warnings.
    let mut o = juhe();
    o.allow_duplicates = true;
    let allowed = preview(&book, &f, &o).unwrap();
    assert_eq!((allowed.totals.valid, allowed.totals.duplicates), (4, 0));
    assert_eq!(row(&allowed, 2).messages[0].level, Level::Warning);
    let c = commit(&book, &allowed, &CommitOptions::default()).unwrap();
    assert_eq!(c.orders, 4);

    // The same file again: reported, and refused even with skip_invalid.
    let again = preview(&book, &f, &juhe()).unwrap();
    assert_eq!(again.previous_imports.len(), 1);
    assert_eq!(again.previous_imports[0].batch_id, c.batch_id);
    assert_eq!(again.file_messages[0].code, "file_imported_before");
    let err = commit(&book, &again, &CommitOptions { skip_invalid: true, ..Default::default() }).unwrap_err();
    assert!(matches!(err, ImportError::AlreadyImported { batch_id } if batch_id == c.batch_id), "{err}");

    // A different file with an account and face value ordered within the window.
    let other = file(
        "other.xlsx",
        xlsx(&[
            &[V::S("手机号"), V::S("面值")],
            &[V::S("13800000002"), V::N(10.0)],
            &[V::S("13800000003"), V::N(10.0)],
        ]),
    );
    let p = preview(&book, &other, &juhe()).unwrap();
    assert_eq!(codes(row(&p, 2)), ["duplicate_in_book"]);
    assert_eq!(row(&p, 2).status, RowStatus::Duplicate);
    assert_eq!(row(&p, 3).status, RowStatus::Valid);
    // Outside the window it is not a duplicate.
    let mut o = juhe();
    o.duplicate_window_ms = 0;
    std::thread::sleep(std::time::Duration::from_millis(5));
    assert_eq!(preview(&book, &other, &o).unwrap().totals.duplicates, 0);
}

#[test]
fn commit_writes_one_batch_and_skips_invalid_only_when_asked() {
    let (_d, book) = open();
    let f = file(
        "mixed.xlsx",
        xlsx(&[
            &[V::S("手机号"), V::S("面值"), V::S("备注")],
            &[V::S("13800000001"), V::N(10.0), V::S("a")],
            &[V::S("bad"), V::N(10.0), V::E],
            &[V::E, V::E, V::E],
            &[V::S("13800000003"), V::N(20.0), V::E],
        ]),
    );
    let p = preview(&book, &f, &juhe()).unwrap();
    let err = commit(&book, &p, &CommitOptions::default()).unwrap_err();
    assert!(matches!(err, ImportError::InvalidRows { invalid: 1, .. }), "{err}");
    assert_eq!(book.list_orders(&OrderFilter::default()).unwrap().total, 0);

    let c = commit(&book, &p, &CommitOptions { skip_invalid: true, ..Default::default() }).unwrap();
    assert_eq!((c.orders, c.skipped_invalid), (2, 1));
    let batch = book.batch(c.batch_id).unwrap();
    assert_eq!(batch.file_name, "mixed.xlsx");
    assert_eq!(batch.content_hash, f.content_hash);
    assert_eq!(batch.sheet.as_deref(), Some("Sheet1"));
    assert_eq!((batch.total_rows, batch.valid_rows, batch.invalid_rows, batch.skipped_rows), (4, 2, 1, 1));
    let orders = book.list_orders(&OrderFilter { batch_id: Some(c.batch_id), ..Default::default() }).unwrap();
    assert_eq!(orders.total, 2);
    let first = orders.orders.iter().find(|o| o.account == "13800000001").unwrap();
    assert_eq!(first.note.as_deref(), Some("a"));
    assert_eq!(first.provider, ProviderId::Juhe);
    assert_eq!(first.face, Li::from_yuan(10));
    assert_ne!(orders.orders[0].merchant_order_id, orders.orders[1].merchant_order_id);
    let events = book.events(first.id).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, "created");
}

/// An import's progress arrives by event: the commit publishes the batch's counts (every order new),
/// coalesced into the window's `ChangeBatch` under the batch id with the book's counts — no read.
#[tokio::test]
async fn a_commit_publishes_its_batch_counts_for_the_window() {
    let (_d, book) = open();
    let mut batches = topup_engine::events::coalesce(book.subscribe(), std::time::Duration::from_millis(20));
    let f = file(
        "progress.xlsx",
        xlsx(&[
            &[V::S("手机号"), V::S("面值")],
            &[V::S("13800000001"), V::N(10.0)],
            &[V::S("13800000002"), V::N(20.0)],
            &[V::S("13800000003"), V::N(30.0)],
        ]),
    );
    let p = preview(&book, &f, &juhe()).unwrap();
    let c = commit(&book, &p, &CommitOptions::default()).unwrap();
    let b = batches.recv().await.expect("a change batch");
    let three_new = topup_engine::book::StateCounts { new: 3, ..Default::default() };
    assert_eq!(b.batches.get(&c.batch_id.to_string()), Some(&three_new), "{b:?}");
    assert_eq!(b.counts, Some(three_new));
}

#[test]
fn an_error_mid_commit_leaves_no_partial_batch() {
    let (_d, book) = open();
    let mut rows: Vec<Vec<V>> = vec![vec![V::S("手机号"), V::S("面值")]];
    let numbers: Vec<String> = (0..25_000).map(|i| format!("138{i:08}")).collect();
    let numbers: &'static [String] = Box::leak(numbers.into_boxed_slice());
    for n in numbers {
        rows.push(vec![V::S(n.as_str()), V::N(10.0)]);
    }
    let refs: Vec<&[V]> = rows.iter().map(Vec::as_slice).collect();
    let f = file("big.xlsx", xlsx(&refs));
    let p = preview(&book, &f, &juhe()).unwrap();
    assert_eq!(p.totals.valid, 25_000);
    let err = commit(&book, &p, &CommitOptions { fail_after_orders: Some(10_000), ..Default::default() })
        .unwrap_err();
    assert!(err.to_string().contains("injected"), "{err}");
    let c = rusqlite::Connection::open(book.path()).unwrap();
    for table in ["orders", "batches", "order_events"] {
        let n: i64 = c.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0)).unwrap();
        assert_eq!(n, 0, "{table} after a failed commit");
    }
    // Nothing was imported, so the same preview commits cleanly afterwards.
    let c = commit(&book, &p, &CommitOptions::default()).unwrap();
    assert_eq!(c.orders, 25_000);
    assert_eq!(book.list_orders(&OrderFilter::default()).unwrap().total, 25_000);
}

#[test]
fn a_commit_after_someone_else_imported_the_same_rows_is_refused() {
    let (_d, book) = open();
    let f = file("race.xlsx", xlsx(&[&[V::S("手机号"), V::S("面值")], &[V::S("13800000001"), V::N(10.0)]]));
    let p1 = preview(&book, &f, &juhe()).unwrap();
    let p2 = preview(&book, &f, &juhe()).unwrap();
    commit(&book, &p1, &CommitOptions::default()).unwrap();
    let err = commit(&book, &p2, &CommitOptions::default()).unwrap_err();
    assert!(matches!(err, ImportError::AlreadyImported { .. }), "{err}");
    // A different file with the same row, previewed before the first commit.
    let g = file("race2.csv", b"phone,face\n13800000001,10\n".to_vec());
    let (_d2, book2) = open();
    let pg = preview(&book2, &g, &juhe()).unwrap();
    let pf = preview(&book2, &f, &juhe()).unwrap();
    commit(&book2, &pf, &CommitOptions::default()).unwrap();
    let err = commit(&book2, &pg, &CommitOptions::default()).unwrap_err();
    assert!(matches!(err, ImportError::ChangedSincePreview(_)), "{err}");
    assert_eq!(book2.list_orders(&OrderFilter::default()).unwrap().total, 1);
}

#[test]
fn the_preview_serialises_for_the_ui_without_floats() {
    let (_d, book) = open();
    let f = file("json.xlsx", xlsx(&[&[V::S("手机号"), V::S("面值")], &[V::S("13800000001"), V::N(10.0)]]));
    let mut o = juhe();
    o.balance = Some(Li(5_000));
    let p = preview(&book, &f, &o).unwrap();
    assert_eq!(p.balance_sufficient, Some(false));
    let v = serde_json::to_value(&p).unwrap();
    assert_eq!(v["totals"]["faceTotal"], 10_000);
    assert_eq!(v["totals"]["estimatedCost"], 9_950);
    assert_eq!(v["balance"], 5_000);
    assert_eq!(v["rows"][0]["status"], "valid");
    assert_eq!(v["rows"][0]["order"]["account"], "13800000001");
    assert_eq!(v["layout"]["columns"][0][1]["letter"], "A");
    fn no_floats(v: &serde_json::Value) {
        match v {
            serde_json::Value::Number(n) => assert!(!n.is_f64(), "float in preview JSON: {n}"),
            serde_json::Value::Array(a) => a.iter().for_each(no_floats),
            serde_json::Value::Object(o) => o.values().for_each(no_floats),
            _ => {}
        }
    }
    no_floats(&v);
}

#[test]
fn export_round_trip_keeps_accounts_as_text() {
    let (dir, book) = open();
    let f = file(
        "export.xlsx",
        xlsx(&[
            &[V::S("手机号"), V::S("面值"), V::S("备注")],
            &[V::N(13812345678.0), V::N(10.0), V::S("含,逗号")],
            &[V::S("13800000002"), V::N(20.0), V::E],
        ]),
    );
    let p = preview(&book, &f, &juhe()).unwrap();
    let c = commit(&book, &p, &CommitOptions::default()).unwrap();
    let filter = OrderFilter { batch_id: Some(c.batch_id), ..Default::default() };

    let out = dir.path().join("out.xlsx");
    assert_eq!(export_orders(&book, &filter, &out, ExportFormat::Xlsx).unwrap(), 2);
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&out).unwrap();
    let range = wb.worksheet_range("订单").unwrap();
    let heads: Vec<String> = range.rows().next().unwrap().iter().map(|d| d.to_string()).collect();
    assert_eq!(heads, topup_engine::import::export::HEADINGS);
    let first = range.rows().nth(1).unwrap();
    assert_eq!(first[3], Data::String("13812345678".into()), "account must be a string cell");
    assert_eq!(first[4], Data::String("10.00".into()));
    assert_eq!(first[1], Data::String("聚合数据".into()));
    assert_eq!(first[6], Data::String(OrderState::New.label_zh().into()));
    assert_eq!(first[10], Data::String("含,逗号".into()));
    assert!(first[0].to_string().starts_with("TD"));

    // Re-importing the export reads the same accounts back.
    let back = preview(&book, &SourceFile::open(&out).unwrap(), &{
        let mut o = juhe();
        o.allow_duplicates = true;
        o
    })
    .unwrap();
    let accounts: Vec<&str> =
        back.rows.iter().filter_map(|r| r.order.as_ref()).map(|o| o.account.as_str()).collect();
    assert_eq!(accounts, ["13812345678", "13800000002"]);

    let csv = dir.path().join("out.csv");
    assert_eq!(export_orders(&book, &filter, &csv, ExportFormat::Csv).unwrap(), 2);
    let bytes = std::fs::read(&csv).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "csv must start with a BOM");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    assert!(text.starts_with("商户订单号,供应商,类型,账号,面值"), "{text}");
    assert!(text.contains(",13812345678,10.00,"), "{text}");
    assert!(text.contains("\"含,逗号\""), "{text}");
    assert_eq!(ExportFormat::from_path(Path::new("a.CSV")), Some(ExportFormat::Csv));
    assert_eq!(ExportFormat::from_path(Path::new("a.txt")), None);
}

#[test]
fn the_committed_bad_file_fixture_reports_each_bad_row() {
    let (_d, book) = open();
    let f = SourceFile::open(&fixtures().join("bad-orders.xlsx")).unwrap();
    let p = preview(&book, &f, &juhe()).unwrap();
    let bad: Vec<u32> = p.bad_rows().map(|r| r.row).collect();
    assert_eq!(bad, [2, 3, 4, 5, 6, 8], "{:#?}", p.rows);
    assert!(!p.is_clean());
    for r in p.bad_rows() {
        assert!(r.messages.iter().any(|m| m.level == Level::Error), "{r:?}");
    }
    let err = commit(&book, &p, &CommitOptions::default()).unwrap_err();
    assert_eq!(err.code(), "invalid_rows");
    assert_eq!(book.list_orders(&OrderFilter::default()).unwrap().total, 0);
}

/// Regenerates the committed xlsx fixtures (`cargo test ... -- --ignored make_fixtures`); the xls/ods
/// are then converted from `orders-source.xlsx` with LibreOffice (see tests/fixtures/README.md).
#[test]
#[ignore]
fn make_fixtures() {
    let dir = fixtures();
    std::fs::create_dir_all(&dir).unwrap();
    let bad = xlsx(&[
        &[V::S("手机号"), V::S("面值"), V::S("备注")],
        &[V::S("13800000001"), V::N(50.0), V::S("ok")],
        &[V::S("1380000000"), V::N(50.0), V::S("10 digits")],
        &[V::S("13800000003"), V::N(15.0), V::S("face juhe does not sell")],
        &[V::S("13800000004"), V::N(10.5), V::S("not whole yuan")],
        &[V::N(13800000005.5), V::N(10.0), V::S("fractional float")],
        &[V::S("１３８０００００００７"), V::N(100.0), V::S("full width: warning only")],
        &[V::S("13800000001"), V::N(50.0), V::S("duplicate of row 2")],
    ]);
    std::fs::write(dir.join("bad-orders.xlsx"), bad).unwrap();

    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name("订单").unwrap();
    write_rows(
        ws,
        &[
            &[V::S("手机号"), V::S("面值"), V::S("备注")],
            &[V::N(13812345678.0), V::N(50.0), V::S("number cell")],
            &[V::S("13900001111"), V::N(100.0), V::S("merged face below")],
            &[V::S("13700002222"), V::E, V::S("merged")],
            &[V::S("13600003333"), V::N(15.0), V::S("bad face")],
        ],
    );
    ws.merge_range(2, 1, 3, 1, "", &Format::new()).unwrap();
    ws.write_number(2, 1, 100.0).unwrap();
    ws.set_active(true);
    let hidden = wb.add_worksheet().set_name("隐藏").unwrap();
    write_rows(hidden, &[&[V::S("手机号"), V::S("面值")], &[V::S("13500000000"), V::N(10.0)]]);
    hidden.set_hidden(true);
    std::fs::write(dir.join("orders-source.xlsx"), wb.save_to_buffer().unwrap()).unwrap();
}
