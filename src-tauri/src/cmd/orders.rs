use super::blocking;
use crate::error::CmdResult;
use crate::state::AppState;
use serde::Serialize;
use tauri::{AppHandle, State};
use topup_engine::book::{Order, OrderEvent, OrderPage, StateCounts};
use topup_engine::console::{self, NewOrderInput, OrderQuery, PhoneInfo, Preflight};
use topup_engine::contract::{BatchId, OrderId};

#[derive(Serialize, ts_rs::TS)]
#[ts(export)]
pub struct OrderDetail {
    order: Order,
    events: Vec<OrderEvent>,
}

#[derive(Serialize, ts_rs::TS)]
#[ts(export)]
pub struct ExportResult {
    path: String,
    rows: usize,
}

#[tauri::command]
pub async fn list_orders<R: tauri::Runtime>(app: AppHandle<R>, query: OrderQuery) -> CmdResult<OrderPage> {
    blocking(app, move |s| Ok(s.book.list_orders(&query.filter()?)?)).await
}

#[tauri::command]
pub async fn order_detail<R: tauri::Runtime>(app: AppHandle<R>, id: OrderId) -> CmdResult<OrderDetail> {
    let id = id.get();
    blocking(app, move |s| Ok(OrderDetail { order: s.book.order(id)?, events: s.book.events(id)? })).await
}

#[tauri::command]
pub async fn state_counts<R: tauri::Runtime>(app: AppHandle<R>) -> CmdResult<StateCounts> {
    blocking(app, |s| Ok(s.book.state_counts()?)).await
}

#[tauri::command]
pub async fn batch_counts<R: tauri::Runtime>(app: AppHandle<R>, batch_id: BatchId) -> CmdResult<StateCounts> {
    blocking(app, move |s| Ok(s.book.batch_counts(batch_id.get())?)).await
}

#[tauri::command]
pub async fn order_preflight(state: State<'_, AppState>, input: NewOrderInput) -> CmdResult<Preflight> {
    Ok(console::preflight(&state.engine(), &input).await?)
}

#[tauri::command]
pub async fn add_order<R: tauri::Runtime>(app: AppHandle<R>, input: NewOrderInput) -> CmdResult<Order> {
    blocking(app, move |s| {
        let engine = s.engine();
        Ok(engine.add_order(console::check(&engine, &input)?)?)
    })
    .await
}

#[tauri::command]
pub async fn phone_info(
    state: State<'_, AppState>,
    number: String,
    face: Option<String>,
) -> CmdResult<PhoneInfo> {
    Ok(console::phone_info(&state.engine(), &number, face.as_deref()).await?)
}

#[tauri::command]
pub async fn query_order(state: State<'_, AppState>, id: OrderId) -> CmdResult<Order> {
    Ok(state.engine().query_now(id.get()).await?)
}

#[tauri::command]
pub async fn resolve_order<R: tauri::Runtime>(
    app: AppHandle<R>,
    id: OrderId,
    outcome: String,
    note: String,
) -> CmdResult<Order> {
    blocking(app, move |s| Ok(console::resolve(&s.engine(), id, &outcome, &note)?)).await
}

#[tauri::command]
pub async fn resubmit_order<R: tauri::Runtime>(app: AppHandle<R>, id: OrderId) -> CmdResult<Order> {
    blocking(app, move |s| Ok(s.engine().resubmit(id.get())?)).await
}

#[tauri::command]
pub async fn export_orders<R: tauri::Runtime>(
    app: AppHandle<R>,
    query: OrderQuery,
    format: String,
) -> CmdResult<ExportResult> {
    blocking(app, move |s| {
        let (path, rows) = console::export(&s.book, &s.data_dir, &query, &format)?;
        Ok(ExportResult { path: path.display().to_string(), rows })
    })
    .await
}
