use super::blocking;
use crate::error::CmdResult;
use crate::state::AppState;
use serde::Serialize;
use tauri::{AppHandle, State};
use topup_engine::book::{Order, OrderEvent, OrderPage, StateCounts};
use topup_engine::console::{self, NewOrderInput, OrderQuery, PhoneInfo, Preflight};

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
pub async fn list_orders(app: AppHandle, query: OrderQuery) -> CmdResult<OrderPage> {
    blocking(app, move |s| Ok(s.book.list_orders(&query.filter()?)?)).await
}

#[tauri::command]
pub async fn order_detail(app: AppHandle, id: String) -> CmdResult<OrderDetail> {
    let id = console::order_id(&id)?;
    blocking(app, move |s| Ok(OrderDetail { order: s.book.order(id)?, events: s.book.events(id)? })).await
}

#[tauri::command]
pub async fn state_counts(app: AppHandle) -> CmdResult<StateCounts> {
    blocking(app, |s| Ok(s.book.state_counts()?)).await
}

#[tauri::command]
pub async fn batch_counts(app: AppHandle, batch_id: String) -> CmdResult<StateCounts> {
    let id = console::order_id(&batch_id)?;
    blocking(app, move |s| Ok(s.book.batch_counts(id)?)).await
}

#[tauri::command]
pub async fn order_preflight(state: State<'_, AppState>, input: NewOrderInput) -> CmdResult<Preflight> {
    Ok(console::preflight(&state.engine(), &input).await?)
}

#[tauri::command]
pub async fn add_order(app: AppHandle, input: NewOrderInput) -> CmdResult<Order> {
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
pub async fn query_order(state: State<'_, AppState>, id: String) -> CmdResult<Order> {
    Ok(state.engine().query_now(console::order_id(&id)?).await?)
}

#[tauri::command]
pub async fn resolve_order(app: AppHandle, id: String, outcome: String, note: String) -> CmdResult<Order> {
    blocking(app, move |s| Ok(console::resolve(&s.engine(), &id, &outcome, &note)?)).await
}

#[tauri::command]
pub async fn resubmit_order(app: AppHandle, id: String) -> CmdResult<Order> {
    let id = console::order_id(&id)?;
    blocking(app, move |s| Ok(s.engine().resubmit(id)?)).await
}

#[tauri::command]
pub async fn export_orders(app: AppHandle, query: OrderQuery, format: String) -> CmdResult<ExportResult> {
    blocking(app, move |s| {
        let (path, rows) = console::export(&s.book, &s.data_dir, &query, &format)?;
        Ok(ExportResult { path: path.display().to_string(), rows })
    })
    .await
}
