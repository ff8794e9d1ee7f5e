use crate::error::CmdResult;
use crate::state::AppState;
use serde::Serialize;
use tauri::State;
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
pub fn list_orders(state: State<'_, AppState>, query: OrderQuery) -> CmdResult<OrderPage> {
    Ok(state.book.list_orders(&query.filter()?)?)
}

#[tauri::command]
pub fn order_detail(state: State<'_, AppState>, id: String) -> CmdResult<OrderDetail> {
    let id = console::order_id(&id)?;
    Ok(OrderDetail { order: state.book.order(id)?, events: state.book.events(id)? })
}

#[tauri::command]
pub fn state_counts(state: State<'_, AppState>) -> CmdResult<StateCounts> {
    Ok(state.book.state_counts()?)
}

#[tauri::command]
pub fn batch_counts(state: State<'_, AppState>, batch_id: String) -> CmdResult<StateCounts> {
    Ok(state.book.batch_counts(console::order_id(&batch_id)?)?)
}

#[tauri::command]
pub async fn order_preflight(state: State<'_, AppState>, input: NewOrderInput) -> CmdResult<Preflight> {
    Ok(console::preflight(&state.engine(), &input).await?)
}

#[tauri::command]
pub fn add_order(state: State<'_, AppState>, input: NewOrderInput) -> CmdResult<Order> {
    Ok(state.engine().add_order(input.request()?)?)
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
pub fn resolve_order(
    state: State<'_, AppState>,
    id: String,
    outcome: String,
    note: String,
) -> CmdResult<Order> {
    Ok(console::resolve(&state.engine(), &id, &outcome, &note)?)
}

#[tauri::command]
pub fn resubmit_order(state: State<'_, AppState>, id: String) -> CmdResult<Order> {
    Ok(state.engine().resubmit(console::order_id(&id)?)?)
}

#[tauri::command]
pub fn export_orders(
    state: State<'_, AppState>,
    query: OrderQuery,
    format: String,
) -> CmdResult<ExportResult> {
    let (path, rows) = console::export(&state.book, &state.data_dir, &query, &format)?;
    Ok(ExportResult { path: path.display().to_string(), rows })
}
