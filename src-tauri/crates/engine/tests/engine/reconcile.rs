//! Reconciliation (对账) against the simulator over real HTTP on 127.0.0.1, on a real SQLite file:
//! what the provider's ledger says that the book does not — planted behind the provider's API, read
//! back by query or from the statement the simulator exports — is reported, ranked dangerous first,
//! and never acted on beyond what any query does.

use crate::run::{fast_settings, rig, rig_custom, Rig};
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;
use topup_engine::api::reconcile::{self as api, ReconcileRequest};
use topup_engine::book::{Order, OrderState};
use topup_engine::import::export::format_time;
use topup_engine::reconcile::{LineKind, ProviderState, Reconciliation, StatementMapping, TimeBasis};
use topup_engine::{Li, ProviderId};
use topup_sim::{Fault, OrderState as SimState, PlantCharge, Script, SetState, SimConfig, Target};

fn today() -> String {
    format_time(topup_engine::book::now_ms())[..10].to_owned()
}

fn days_ago(n: i64) -> String {
    format_time(topup_engine::book::now_ms() - n * 86_400_000)[..10].to_owned()
}

fn request(provider: Option<ProviderId>) -> ReconcileRequest {
    ReconcileRequest { from_day: today(), provider, ..ReconcileRequest::default() }
}

async fn by_api(rig: &Rig, req: &ReconcileRequest) -> (Reconciliation, Vec<(usize, usize)>) {
    let seen = Mutex::new(Vec::new());
    let progress = |p: topup_engine::reconcile::Progress| seen.lock().unwrap().push((p.done, p.total));
    let r = api::by_api(&rig.engine, req, &progress, &AtomicBool::new(false)).await.unwrap();
    (r, seen.into_inner().unwrap())
}

fn line_of<'a>(r: &'a Reconciliation, order: &Order) -> &'a topup_engine::reconcile::Line {
    r.lines
        .iter()
        .find(|l| l.merchant_order_id.as_deref() == Some(order.merchant_order_id.as_str()))
        .unwrap_or_else(|| panic!("no line for {}: {:#?}", order.merchant_order_id, r.lines))
}

/// The provider settles an order as failed (refunded), the book says failed; then, behind its API,
/// the provider's ledger turns it into a success (charged again). The API pass asks again, reports it
/// as the most dangerous difference, first, flags the order for a person naming the run — and leaves
/// its final state alone. An order whose query answers about another order is unanswered, not
/// failed; a pending one stays pending.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_pass_reports_a_provider_success_the_book_holds_as_failed() {
    let rig = rig().await;
    rig.sim.script(Script::once(Target::Account("13900000001".into()), Fault::SettleFailed));
    let flipped = rig.add(ProviderId::Juhe, "13900000001", 10);
    let fine = rig.add(ProviderId::Oper, "13900000002", 20);
    let flipped = rig.settle(&flipped).await;
    let fine = rig.settle(&fine).await;
    assert_eq!((flipped.state, fine.state), (OrderState::Failed, OrderState::Succeeded));
    rig.sim
        .set_state(&SetState {
            provider: "juhe".into(),
            merchant_order_id: flipped.merchant_order_id.clone(),
            state: SimState::Succeeded,
        })
        .unwrap();
    rig.sim.script(Script::once(Target::Account("13900000003".into()), Fault::PendingForever));
    let pending = rig.add(ProviderId::Dingyin, "13900000003", 30);
    for _ in 0..100 {
        if rig.book.order(pending.id).unwrap().state == OrderState::Accepted {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    rig.sim.script(Script::always(Target::Account("13900000003".into()), Fault::QueryAboutOtherOrder));

    let (r, progress) = by_api(&rig, &request(None)).await;
    assert_eq!(progress.last(), Some(&(3, 3)), "progress reported to the end: {progress:?}");
    let first = &r.lines[0];
    assert_eq!(first.kind, LineKind::StateDiffers, "{:#?}", r.lines);
    assert_eq!(first.severity, 0);
    assert_eq!(first.merchant_order_id.as_deref(), Some(flipped.merchant_order_id.as_str()));
    assert_eq!(
        (first.book_state, first.provider_state),
        (Some(OrderState::Failed), Some(ProviderState::Succeeded))
    );
    assert_eq!(line_of(&r, &fine).kind, LineKind::Matched);
    assert_eq!(
        line_of(&r, &pending).kind,
        LineKind::Unanswered,
        "an answer about another order is no answer"
    );
    assert_eq!((r.counts.state_differs, r.counts.matched, r.counts.unanswered), (1, 1, 1));

    // Reported, never decided: the failed order stays failed, flagged for a person with the run named;
    // the pending one is neither failed nor refunded.
    let after = rig.book.order(flipped.id).unwrap();
    assert_eq!(after.state, OrderState::Failed);
    assert!(after.attention);
    let run = r.run_id.to_string();
    assert!(rig.book.events(flipped.id).unwrap().iter().any(|e| e.detail.contains(&format!("对账 #{run}"))
        && e.detail.contains(&format!("reconciliation #{run}"))));
    assert_eq!(rig.book.order(pending.id).unwrap().state, OrderState::Accepted);

    // The run is kept; the line is resolved through the resolve path with a note naming the run.
    let runs = api::runs(&rig.book).unwrap();
    assert_eq!(runs[0].id, r.run_id);
    assert_eq!((runs[0].source.as_str(), runs[0].counts.state_differs), ("api", 1));
    let resolved = api::resolve(&rig.engine, &run, &flipped.id.to_string(), "", "已向聚合补单").unwrap();
    assert!(!resolved.attention);
    assert_eq!(resolved.state, OrderState::Failed, "a final state never changes");
    assert!(resolved.note.unwrap().contains(&format!("对账 #{run} / reconciliation #{run}：已向聚合补单")));
    rig.stop().await;
}

/// A charge the book does not have (a duplicate) planted on the simulator's ledger is found by the
/// file pass, from the statement the simulator exports of its own ledger.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_pass_finds_a_duplicate_charge_planted_in_the_simulator() {
    let rig = rig().await;
    let a = rig.add(ProviderId::Juhe, "13900000011", 10);
    let b = rig.add(ProviderId::Juhe, "13900000012", 20);
    rig.settle(&a).await;
    rig.settle(&b).await;
    rig.sim
        .plant_charge(&PlantCharge {
            provider: "juhe".into(),
            merchant_order_id: "DUP20261204000001".into(),
            account: "13900000011".into(),
            face_li: 10_000,
            cost_li: Some(10_020),
            state: None,
        })
        .unwrap();
    let csv = rig.sim.statement_csv("juhe").unwrap();
    let req = ReconcileRequest {
        file_name: Some("juhe-statement.csv".into()),
        bytes: Some(csv.into_bytes()),
        ..request(Some(ProviderId::Juhe))
    };
    let r = api::by_file(&rig.book, &req).unwrap();
    assert!(r.bad_rows.is_empty(), "{:#?}", r.bad_rows);
    assert_eq!(r.lines[0].kind, LineKind::StatementOnly, "{:#?}", r.lines);
    assert_eq!(r.lines[0].merchant_order_id.as_deref(), Some("DUP20261204000001"));
    assert_eq!(r.lines[0].provider_amount, Some(Li(10_020)));
    assert_eq!((r.counts.statement_only, r.counts.matched), (1, 2), "{:#?}", r.lines);
    assert_eq!(line_of(&r, &a).kind, LineKind::Matched);
    assert_eq!(api::runs(&rig.book).unwrap()[0].source, "file");
    rig.stop().await;
}

/// One xlsx statement holding every kind of difference, each named: matched, state differs both ways
/// (ranked first), amount differs, book only, statement only, the same order twice, a row outside the
/// range, and rows with bad cells named by row and column in Chinese and English. Its id column has a
/// heading no alias knows, mapped as import maps (`A=orderId`); matching is on the finish time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_with_every_kind_of_difference_in_one_file() {
    let rig = rig().await;
    rig.sim.script(Script::once(Target::Account("13900000022".into()), Fault::SettleFailed));
    let mut orders = Vec::new();
    for (i, acct) in
        ["13900000021", "13900000022", "13900000023", "13900000024", "13900000025"].iter().enumerate()
    {
        let o = rig.add(ProviderId::Juhe, acct, 10);
        let o = rig.settle(&o).await;
        assert_eq!(o.state, if i == 1 { OrderState::Failed } else { OrderState::Succeeded });
        orders.push(o);
    }
    let [matched, failed_in_book, wrong_amount, succeeded_in_book, book_only] = &orders[..] else {
        unreachable!()
    };
    let cost = |o: &Order| o.cost.unwrap().to_string();
    let now = format_time(topup_engine::book::now_ms());
    let yesterday = format!("{} 12:00:00", days_ago(1));
    let rows: Vec<[String; 5]> = vec![
        [matched.merchant_order_id.clone(), "13900000021".into(), cost(matched), "成功".into(), now.clone()],
        [
            failed_in_book.merchant_order_id.clone(),
            "13900000022".into(),
            "10.020".into(),
            "充值成功".into(),
            now.clone(),
        ],
        [
            wrong_amount.merchant_order_id.clone(),
            "13900000023".into(),
            "10.500".into(),
            "成功".into(),
            now.clone(),
        ],
        [
            succeeded_in_book.merchant_order_id.clone(),
            "13900000024".into(),
            cost(succeeded_in_book),
            "已退款".into(),
            now.clone(),
        ],
        [
            "STRANGER0000000001".into(),
            "=HYPERLINK(\"http://x\")".into(),
            "50.100".into(),
            "成功".into(),
            now.clone(),
        ],
        [matched.merchant_order_id.clone(), "13900000021".into(), cost(matched), "成功".into(), now.clone()],
        ["OLD000000000000001".into(), "13900000027".into(), "10.020".into(), "成功".into(), yesterday],
        ["BAD000000000000001".into(), "13900000028".into(), "10.020".into(), "已成".into(), now.clone()],
        ["BAD000000000000002".into(), "13900000029".into(), "9.9.9".into(), "成功".into(), now.clone()],
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("聚合对账单.xlsx");
    {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let sheet = wb.add_worksheet();
        sheet.write_string(0, 0, "聚合数据 12 月对账单").unwrap();
        for (c, h) in ["我方单号", "充值号码", "扣款金额(元)", "订单状态", "完成时间"].iter().enumerate()
        {
            sheet.write_string(1, c as u16, *h).unwrap();
        }
        for (i, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                sheet.write_string(i as u32 + 2, c as u16, v).unwrap();
            }
        }
        wb.save(&path).unwrap();
    }
    let req = ReconcileRequest {
        basis: TimeBasis::Finish,
        mappings: vec!["A=orderId".parse::<StatementMapping>().unwrap()],
        ..request(Some(ProviderId::Juhe))
    };
    let r = api::by_path(&rig.book, &req, &path).unwrap();
    let kinds: Vec<LineKind> = r.lines.iter().map(|l| l.kind).collect();
    assert_eq!(
        kinds,
        [
            LineKind::StateDiffers,
            LineKind::StateDiffers,
            LineKind::StatementOnly,
            LineKind::StatementOnly,
            LineKind::AmountDiffers,
            LineKind::BookOnly,
            LineKind::Matched,
        ],
        "{:#?}",
        r.lines
    );
    let differs: Vec<(Option<OrderState>, Option<ProviderState>)> =
        r.lines[..2].iter().map(|l| (l.book_state, l.provider_state)).collect();
    assert!(differs.contains(&(Some(OrderState::Failed), Some(ProviderState::Succeeded))), "{differs:?}");
    assert!(differs.contains(&(Some(OrderState::Succeeded), Some(ProviderState::Failed))), "{differs:?}");
    assert_eq!(line_of(&r, wrong_amount).kind, LineKind::AmountDiffers);
    assert_eq!(line_of(&r, wrong_amount).provider_amount, Some(Li(10_500)));
    assert_eq!(line_of(&r, book_only).kind, LineKind::BookOnly);
    let twice =
        r.lines.iter().filter(|l| l.kind == LineKind::StatementOnly).find(|l| l.order_id.is_some()).unwrap();
    assert_eq!(twice.merchant_order_id.as_deref(), Some(matched.merchant_order_id.as_str()));
    assert!(twice.zh.contains("重复"), "{twice:?}");
    assert_eq!(r.outside_range, 1);
    // Rows 10 and 11 of the sheet (a title row, the heading row, then data from row 3).
    assert_eq!(r.bad_rows.len(), 2, "{:#?}", r.bad_rows);
    assert_eq!(r.bad_rows[0].row, 10);
    let state_msg = &r.bad_rows[0].text[0];
    assert!(state_msg.starts_with("第 10 行 D 列（订单状态）：状态“已成”无法识别"), "{state_msg}");
    assert!(state_msg.contains("row 10, column D (订单状态): state “已成” is not recognised"), "{state_msg}");
    let amount_msg = &r.bad_rows[1].text[0];
    assert!(amount_msg.starts_with("第 11 行 C 列（扣款金额(元)）：金额“9.9.9”"), "{amount_msg}");
    assert!(
        amount_msg.contains("row 11, column C (扣款金额(元)): amount “9.9.9” is not an exact amount"),
        "{amount_msg}"
    );
    assert_eq!(r.counts.bad_rows, 2);

    // The list exports with formulas neutralised: a statement-only line's account is the provider's text,
    // here a formula.
    let out = dir.path().join("对账.csv");
    let exported = api::export_to(&r.lines, &out).unwrap();
    assert_eq!(exported.rows, 7);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("\u{FEFF}类别,商户订单号"));
    assert!(text.contains("状态不符"));
    assert!(text.contains(",\"'=HYPERLINK(\"\"http://x\"\")\","), "a formula is neutralised: {text}");
    rig.stop().await;
}

/// The API pass asks only what the provider can still answer (dingyin: 3 days) and goes through the
/// engine's rate limits: with juhe held to 5 requests a second and the simulator refusing a sixth,
/// every order is answered (a refused query would be unanswered) and no second holds more than 5.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_pass_respects_the_query_window_and_rate_limits() {
    let sim_config = SimConfig { rate_limit_per_sec: Some(5), ..SimConfig::sandbox() };
    let rig = rig_custom(fast_settings(), sim_config, |registry| {
        for entry in registry.providers.values_mut() {
            entry.requests_per_second = 5;
        }
    })
    .await;
    let mut juhe = Vec::new();
    for i in 0..12 {
        juhe.push(rig.add(ProviderId::Juhe, &format!("139000001{i:02}"), 10));
    }
    let old = rig.add(ProviderId::Dingyin, "13900000199", 10);
    for o in juhe.iter().chain([&old]) {
        assert_eq!(rig.settle(o).await.state, OrderState::Succeeded);
    }
    let four_days_ago = topup_engine::book::now_ms() - 4 * 86_400_000;
    // Aged behind the engine's back (a second connection, as an old order book would hold it).
    rusqlite::Connection::open(rig.book.path())
        .unwrap()
        .execute(
            "UPDATE orders SET created_at = ?1, submitted_at = ?1 WHERE id = ?2",
            rusqlite::params![four_days_ago, old.id],
        )
        .unwrap();
    let before = rig.sim.requests().len();
    let req =
        ReconcileRequest { from_day: days_ago(5), to_day: Some(today()), ..ReconcileRequest::default() };
    let (r, _) = by_api(&rig, &req).await;
    assert_eq!(line_of(&r, &old).kind, LineKind::OutOfWindow);
    assert_eq!((r.counts.matched, r.counts.out_of_window, r.counts.unanswered), (12, 1, 0), "{:#?}", r.lines);
    let asked: Vec<_> = rig.sim.requests()[before..].to_vec();
    assert!(
        !asked.iter().any(|q| q.merchant_order_id.as_deref() == Some(old.merchant_order_id.as_str())),
        "an order past the query window is not asked"
    );
    let times: Vec<u64> = asked.iter().filter(|q| q.provider == "juhe").map(|q| q.at_unix_ms).collect();
    assert_eq!(times.len(), 12);
    for (i, t) in times.iter().enumerate() {
        let in_second = times[i..].iter().take_while(|u| **u < t + 1000).count();
        assert!(in_second <= 5, "{in_second} queries within one second from query {i}");
    }

    // Cancelled before it starts: nothing is asked, and the run is kept as cancelled.
    let before = rig.sim.requests().len();
    let stopped = api::by_api(&rig.engine, &req, &|_| {}, &AtomicBool::new(true)).await.unwrap();
    assert!(stopped.cancelled && stopped.lines.is_empty());
    assert_eq!(rig.sim.requests().len(), before);
    let runs = api::runs(&rig.book).unwrap();
    assert_eq!((runs[0].id, runs[0].cancelled), (stopped.run_id, true));
    rig.stop().await;
}
