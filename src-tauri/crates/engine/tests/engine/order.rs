//! Issue 13: one order check for every front end. The same bad value typed in the order form, given as
//! a command-line flag, found in a spreadsheet row or in a pasted chat line gets the same error code
//! and text, each naming the field where that front end has it; the ID card rule is the strictest
//! correct one everywhere; pasted chat lines go through the import preview; juhe's number lookups are
//! asked once per number and face.

use std::sync::Arc;
use topup_engine::api::{self, ElectricityInput, NewOrderInput};
use topup_engine::book::{Book, OrderFilter};
use topup_engine::config::EngineSettings;
use topup_engine::import::{self, Field, FileFormat, ImportOptions, Level, Preview, RowStatus, SourceFile};
use topup_engine::order::{self, Context, FieldMessage, Origin, RawOrder};
use topup_engine::{Li, ProductKind, ProviderId};
use topup_sim::Simulator;

/// One way of writing an order, the same in every front end.
struct Case {
    provider: ProviderId,
    kind: ProductKind,
    account: &'static str,
    face: &'static str,
    grid: Option<&'static str>,
    id_card: Option<&'static str>,
}

fn phone(provider: ProviderId, account: &'static str, face: &'static str) -> Case {
    Case { provider, kind: ProductKind::Phone, account, face, grid: None, id_card: None }
}

fn south(id_card: &'static str) -> Case {
    Case {
        provider: ProviderId::Dingyin,
        kind: ProductKind::Electricity,
        account: "0301234567",
        face: "100",
        grid: Some("south"),
        id_card: Some(id_card),
    }
}

/// (code, field, zh, en) of every error.
type Errors = Vec<(&'static str, Option<Field>, String, String)>;

fn errors<'a>(messages: impl IntoIterator<Item = &'a FieldMessage>) -> Errors {
    messages
        .into_iter()
        .filter(|m| m.level == Level::Error)
        .map(|m| (m.code, m.field, m.zh.clone(), m.en.clone()))
        .collect()
}

fn ctx_check(raw: &RawOrder<'_>) -> order::Checked {
    let settings = EngineSettings::default();
    order::check(
        raw,
        &Context { default_kind: ProductKind::Phone, settings: &settings, available: &ProviderId::ALL },
    )
}

/// The order form: what the window sends.
fn form(c: &Case) -> (Errors, String) {
    let input = NewOrderInput {
        provider: Some(c.provider),
        kind: c.kind,
        account: c.account.into(),
        face: c.face.into(),
        product_id: None,
        area: None,
        server: None,
        quantity: None,
        electricity: c.grid.map(|g| ElectricityInput {
            grid: g.into(),
            mobile: None,
            id_card: c.id_card.map(str::to_owned),
            account_type: None,
            province: None,
            city: None,
        }),
        sale: None,
        customer: None,
        speed: None,
    };
    let settings = EngineSettings::default();
    let ctx = Context { default_kind: ProductKind::Phone, settings: &settings, available: &ProviderId::ALL };
    let checked = order::check(&input.raw(), &ctx);
    let errs = errors(&checked.messages);
    let shown = input.check(&ctx).expect_err("the form refuses it").to_string();
    (errs, shown)
}

/// `topup-desk order add`'s flags, as the command line builds its raw order.
fn flags(c: &Case) -> (Errors, String) {
    let kind = c.kind.as_str();
    let mut raw = RawOrder::new(Origin::Flags, Some(c.provider));
    raw.text(Field::Kind, Some(kind))
        .text(Field::Account, Some(c.account))
        .text(Field::Face, Some(c.face))
        .text(Field::Grid, c.grid)
        .text(Field::IdCard, c.id_card);
    let checked = ctx_check(&raw);
    let errs = errors(&checked.messages);
    let shown = checked.into_result(Origin::Flags).expect_err("the command line refuses it").to_string();
    (errs, shown)
}

fn preview_text(book: &Book, text: &str, provider: ProviderId) -> Preview {
    let file = SourceFile::from_bytes("orders.csv".into(), text.as_bytes().to_vec()).unwrap();
    import::preview(book, &file, &ImportOptions::new(provider)).unwrap()
}

/// A spreadsheet (csv) row 2 with a heading row; the errors and the columns they name.
fn sheet(book: &Book, c: &Case) -> (Errors, Vec<Option<String>>) {
    let text = match c.kind {
        ProductKind::Electricity => format!(
            "户号,面值,电网,身份证号\n{},{},{},{}\n",
            c.account,
            c.face,
            if c.grid == Some("south") { "南网" } else { "国网" },
            c.id_card.unwrap_or("")
        ),
        _ => format!("手机号,面值\n{},{}\n", c.account, c.face),
    };
    let p = preview_text(book, &text, c.provider);
    assert_eq!(p.format, FileFormat::Text);
    let r = &p.rows[0];
    assert_eq!((r.row, r.status), (2, RowStatus::Invalid), "{r:?}");
    let errs = r
        .messages
        .iter()
        .filter(|m| m.level == Level::Error)
        .map(|m| {
            let field = m.column.as_ref().and_then(|col| {
                p.layout.columns.iter().find(|(_, c)| c.letter == col.letter).map(|(f, _)| *f)
            });
            (m.code, field, m.zh.clone(), m.en.clone())
        })
        .collect();
    let letters = r.messages.iter().map(|m| m.column.as_ref().map(|c| c.letter.clone())).collect();
    (errs, letters)
}

/// A pasted chat line (phone orders only).
fn line(book: &Book, c: &Case) -> Errors {
    let p = preview_text(book, &format!("老板 {} 充 {} 元\n", c.account, c.face), c.provider);
    assert_eq!(p.format, FileFormat::Chat);
    let r = &p.rows[0];
    assert_eq!((r.row, r.status), (1, RowStatus::Invalid), "{r:?}");
    r.messages
        .iter()
        .filter(|m| m.level == Level::Error)
        .map(|m| {
            assert_eq!(m.column, None, "a line has no columns");
            (m.code, None, m.zh.clone(), m.en.clone())
        })
        .collect()
}

#[test]
fn the_form_the_command_line_a_sheet_row_and_a_pasted_line_give_the_same_error() {
    let dir = tempfile::tempdir().unwrap();
    let book = Book::open(&dir.path().join("orders.sqlite3")).unwrap();
    let cases = [
        (
            phone(ProviderId::Juhe, "1381234567", "10"),
            "not_a_phone",
            Field::Account,
            "A",
            "手机号",
            "--account",
        ),
        (phone(ProviderId::Juhe, "13812345678", "25"), "face_not_sold", Field::Face, "B", "面值", "--face"),
        (
            phone(ProviderId::Dingyin, "13812345678", "10.5"),
            "face_not_whole",
            Field::Face,
            "B",
            "面值",
            "--face",
        ),
        (south("110105194912310021"), "id_card_checksum", Field::IdCard, "D", "身份证号", "--id-card"),
        (south("4401011990"), "bad_id_card", Field::IdCard, "D", "身份证号", "--id-card"),
    ];
    for (case, code, field, letter, label, flag) in cases {
        let (form_errors, form_text) = form(&case);
        assert_eq!(form_errors.len(), 1, "{form_errors:?}");
        let (got_code, got_field, zh, en) = &form_errors[0];
        assert_eq!((*got_code, *got_field), (code, Some(field)), "{form_errors:?}");
        assert!(form_text.starts_with(&format!("{label}：{zh}")), "the form names the field: {form_text}");
        assert!(form_text.contains(en.as_str()), "{form_text}");

        let (flag_errors, flag_text) = flags(&case);
        assert_eq!(flag_errors, form_errors, "the command line: the same error");
        assert!(flag_text.starts_with(&format!("{flag}（{label}）：{zh}")), "the flag is named: {flag_text}");

        let (sheet_errors, letters) = sheet(&book, &case);
        assert_eq!(sheet_errors, form_errors, "a spreadsheet row: the same error");
        assert_eq!(letters, [Some(letter.to_owned())], "the row's error names the column");

        if case.kind == ProductKind::Phone {
            let line_errors = line(&book, &case);
            let same: Errors =
                form_errors.iter().map(|(c, _, zh, en)| (*c, None, zh.clone(), en.clone())).collect();
            assert_eq!(line_errors, same, "a pasted line: the same error");
        }
    }
}

#[test]
fn the_id_card_is_eighteen_with_a_check_digit_or_fifteen_digits_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let book = Book::open(&dir.path().join("orders.sqlite3")).unwrap();
    let accepted = |id: &'static str| {
        let c = south(id);
        let mut raw = RawOrder::new(Origin::Form, Some(c.provider));
        raw.text(Field::Kind, Some("electricity"))
            .text(Field::Account, Some(c.account))
            .text(Field::Face, Some(c.face))
            .text(Field::Grid, c.grid)
            .text(Field::IdCard, c.id_card);
        let form_ok = ctx_check(&raw).order.is_some();
        let p = preview_text(
            &book,
            &format!("户号,面值,电网,身份证号\n{},100,南网,{id}\n", c.account),
            c.provider,
        );
        let sheet_ok = p.rows[0].status == RowStatus::Valid;
        assert_eq!(form_ok, sheet_ok, "{id}: {:?}", p.rows[0]);
        form_ok
    };
    // The check digit decides (before: the import only warned, the form took any 18 characters).
    assert!(accepted("11010519491231002X"));
    assert!(accepted("11010519491231002x"));
    assert!(!accepted("110105194912310021"));
    // 15 digits of a first-generation card (before: the window refused them).
    assert!(accepted("110105491231002"));
    assert!(!accepted("11010549123100X"));
    assert!(!accepted("1101051949123100"));
}

#[test]
fn pasted_chat_lines_are_previewed_with_row_errors_and_committed_like_a_sheet() {
    let dir = tempfile::tempdir().unwrap();
    let book = Book::open(&dir.path().join("orders.sqlite3")).unwrap();
    let text = "13812345678 100\n张三 １３９-1234-5678，50元 谢谢\n1381234567 10\n\n好的老板\n13712345678 100 2\n13612345678：20\n";
    let p = preview_text(&book, text, ProviderId::Juhe);
    assert_eq!(p.format, FileFormat::Chat);
    assert_eq!(p.layout.header_row, None);
    let status: Vec<(u32, RowStatus)> = p.rows.iter().map(|r| (r.row, r.status)).collect();
    assert_eq!(
        status,
        [
            (1, RowStatus::Valid),
            (2, RowStatus::Valid),
            (3, RowStatus::Invalid),
            (4, RowStatus::Skipped),
            (5, RowStatus::Skipped),
            (6, RowStatus::Invalid),
            (7, RowStatus::Valid),
        ]
    );
    let r2 = &p.rows[1];
    let o = r2.order.as_ref().unwrap();
    assert_eq!((o.account.as_str(), o.face), ("13912345678", Li::from_yuan(50)));
    assert!(r2.messages.iter().any(|m| m.code == "words_ignored" && m.zh.contains("张三")), "{r2:?}");
    assert_eq!(p.rows[2].messages[0].code, "not_a_phone");
    assert!(p.rows[2].messages[0].describe(Some(3)).starts_with("第 3 行"), "{:?}", p.rows[2]);
    assert_eq!(p.rows[4].messages[0].code, "no_digits");
    assert_eq!(p.rows[5].messages[0].code, "two_amounts");
    assert_eq!((p.totals.valid, p.totals.invalid, p.totals.skipped), (3, 2, 2));
    assert_eq!(p.totals.face_total, Li::from_yuan(170));

    let committed =
        import::commit(&book, &p, &import::CommitOptions { skip_invalid: true, ..Default::default() })
            .unwrap();
    assert_eq!(committed.orders, 3);
    let mut accounts: Vec<String> =
        book.list_orders(&OrderFilter::default()).unwrap().orders.into_iter().map(|o| o.account).collect();
    accounts.sort();
    assert_eq!(accounts, ["13612345678", "13812345678", "13912345678"]);
    // The same text pasted again is the same "file": refused unless duplicates are allowed.
    let again = preview_text(&book, text, ProviderId::Juhe);
    assert_eq!(again.previous_imports.len(), 1);
    // A table with headings, or a mapping, is still a table.
    assert_eq!(
        preview_text(&book, "手机号,面值\n13512345678,10\n", ProviderId::Juhe).format,
        FileFormat::Text
    );
}

fn lookups(sim: &Simulator, number: &str) -> (usize, usize) {
    let reqs = sim.requests();
    let count = |path: &str| reqs.iter().filter(|r| r.endpoint == path && r.query.contains(number)).count();
    (count("/ofpay/mobile/telcheck"), count("/ofpay/mobile/telquery"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_entry_asks_juhe_once_per_number_and_face() {
    let dir = tempfile::tempdir().unwrap();
    let book = Arc::new(Book::open(&dir.path().join("orders.sqlite3")).unwrap());
    let (sim, engine) = crate::console::sandbox_engine(book).await;
    let mut input = NewOrderInput {
        provider: Some(ProviderId::Juhe),
        kind: ProductKind::Phone,
        account: "13912345678".into(),
        face: "50".into(),
        product_id: None,
        area: None,
        server: None,
        quantity: None,
        electricity: None,
        sale: None,
        customer: None,
        speed: None,
    };
    // As the window does it: the number as typed, the preflight, the preflight again at the
    // confirmation, then the order.
    api::phone_info(&engine, "139 1234 5678", Some("50")).await.unwrap();
    let first = api::preflight(&engine, &input).await.unwrap();
    assert_eq!(first.cost, Some(Li(50_100)), "juhe's telquery price");
    let again = api::preflight(&engine, &input).await.unwrap();
    assert_eq!(again.phone, first.phone);
    engine.add_order(api::check(&engine, &input).unwrap()).unwrap();
    assert_eq!(lookups(&sim, "13912345678"), (1, 1), "one telcheck and one telquery for the order");
    // Another face value is another question.
    input.face = "100".into();
    api::preflight(&engine, &input).await.unwrap();
    assert_eq!(lookups(&sim, "13912345678"), (2, 2));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_preflight_reports_field_messages_and_the_faces_juhe_sells() {
    let dir = tempfile::tempdir().unwrap();
    let book = Arc::new(Book::open(&dir.path().join("orders.sqlite3")).unwrap());
    let (sim, engine) = crate::console::sandbox_engine(book).await;
    let input = NewOrderInput {
        provider: None,
        kind: ProductKind::Phone,
        account: "1381234".into(),
        face: "200".into(),
        product_id: None,
        area: None,
        server: None,
        quantity: None,
        electricity: None,
        sale: None,
        customer: None,
        speed: None,
    };
    let p = api::preflight(&engine, &input).await.unwrap();
    assert_eq!(p.provider, ProviderId::Juhe, "the engine's routing decides the provider");
    let codes: Vec<_> = p.messages.iter().map(|m| (m.code, m.field)).collect();
    assert_eq!(codes, [("not_a_phone", Some(Field::Account)), ("face_not_sold", Some(Field::Face))]);
    assert_eq!(p.problems, p.messages.iter().map(|m| m.message.clone()).collect::<Vec<_>>());
    assert_eq!(p.sold_faces.as_deref(), Some(topup_providers::juhe::table::FACE_VALUES));
    assert!(p.duplicates.is_empty() && p.phone.is_some());
    sim.shutdown().await;
}

/// The simulator models juhe on its own (so that a wrong table in the client would show in tests), but
/// the two must not drift apart.
#[test]
fn the_simulator_sells_the_faces_the_client_knows() {
    let sim: Vec<i64> = topup_sim::JUHE_FACES.iter().map(|f| i64::from(*f)).collect();
    assert_eq!(sim, topup_providers::juhe::table::FACE_VALUES);
}

/// 快充 and 慢充 are different products (issue 14 item 5): the form, a command-line flag and a sheet
/// column mark a phone or electricity order slow, the stuck-order rules see the slow product, a game
/// cannot be slow, and a value that is neither is an error naming the field, row and column.
#[test]
fn a_slow_top_up_is_marked_from_every_front_end_and_only_where_it_exists() {
    use topup_engine::run::stuck::StuckProduct;
    let form = |v: serde_json::Value| {
        let input: NewOrderInput = serde_json::from_value(v).unwrap();
        let raw = input.raw();
        ctx_check(&raw)
    };
    let slow = form(serde_json::json!({
        "provider": "juhe", "kind": "phone", "account": "13812345678", "face": "100", "speed": "slow"
    }));
    let details = slow.order.as_ref().expect("a slow phone order is fine").details();
    assert_eq!(details["speed"], "slow");
    assert_eq!(StuckProduct::of(ProductKind::Phone, &details), StuckProduct::PhoneSlow);
    let fast = form(serde_json::json!({
        "provider": "juhe", "kind": "phone", "account": "13812345678", "face": "100", "speed": "快充"
    }));
    let details = fast.order.as_ref().unwrap().details();
    assert_eq!(StuckProduct::of(ProductKind::Phone, &details), StuckProduct::PhoneFast);
    let game = form(serde_json::json!({
        "provider": "dingyin", "kind": "game", "account": "player1", "face": "10", "productId": "G1",
        "speed": "慢充"
    }));
    assert_eq!(
        errors(&game.messages).iter().map(|e| (e.0, e.1)).collect::<Vec<_>>(),
        [("speed_not_sold", Some(Field::Speed))]
    );

    // The command line names its flag.
    let mut raw = RawOrder::new(Origin::Flags, Some(ProviderId::Juhe));
    raw.text(Field::Account, Some("13812345678"))
        .text(Field::Face, Some("100"))
        .text(Field::Speed, Some("超快"));
    let shown = ctx_check(&raw).into_result(Origin::Flags).expect_err("refused").to_string();
    assert!(shown.contains("--speed") && shown.contains("快充/慢充"), "{shown}");

    // A sheet's 充值方式 column: stored on the order; a bad cell names its row and column.
    let dir = tempfile::tempdir().unwrap();
    let book = Book::open(&dir.path().join("orders.sqlite3")).unwrap();
    let text = "手机号,面值,充值方式\n13812345678,100,慢充\n13912345678,100,快充\n13712345678,100,很快\n";
    let p = preview_text(&book, text, ProviderId::Juhe);
    let status: Vec<RowStatus> = p.rows.iter().map(|r| r.status).collect();
    assert_eq!(status, [RowStatus::Valid, RowStatus::Valid, RowStatus::Invalid]);
    let bad = &p.rows[2].messages[0];
    assert_eq!(bad.code, "bad_speed");
    assert_eq!(bad.column.as_ref().map(|c| c.letter.as_str()), Some("C"));
    assert!(bad.describe(Some(4)).starts_with("第 4 行"), "{bad:?}");
    import::commit(&book, &p, &import::CommitOptions { skip_invalid: true, ..Default::default() }).unwrap();
    let orders = book.list_orders(&OrderFilter::default()).unwrap().orders;
    let speed_of = |account: &str| {
        let o = orders.iter().find(|o| o.account == account).unwrap();
        StuckProduct::of(o.kind, &o.details)
    };
    assert_eq!(speed_of("13812345678"), StuckProduct::PhoneSlow);
    assert_eq!(speed_of("13912345678"), StuckProduct::PhoneFast);
}
