use super::blocking;
use crate::error::CmdResult;
use crate::state::AppState;
use tauri::{AppHandle, State};
use topup_engine::api::{self, ExportResult, NewOrderInput, OrderDetail, OrderQuery, PhoneInfo, Preflight};
use topup_engine::book::{Order, OrderPage, StateCounts};
use topup_engine::contract::{BatchId, OrderId};

#[tauri::command]
pub async fn list_orders<R: tauri::Runtime>(app: AppHandle<R>, query: OrderQuery) -> CmdResult<OrderPage> {
    blocking(app, move |s| Ok(api::list_orders(&s.book, &query)?)).await
}

#[tauri::command]
pub async fn order_detail<R: tauri::Runtime>(app: AppHandle<R>, id: OrderId) -> CmdResult<OrderDetail> {
    blocking(app, move |s| Ok(api::order_detail(&s.book, id.get())?)).await
}

#[tauri::command]
pub async fn state_counts<R: tauri::Runtime>(app: AppHandle<R>) -> CmdResult<StateCounts> {
    blocking(app, |s| Ok(api::state_counts(&s.book)?)).await
}

#[tauri::command]
pub async fn batch_counts<R: tauri::Runtime>(app: AppHandle<R>, batch_id: BatchId) -> CmdResult<StateCounts> {
    blocking(app, move |s| Ok(api::batch_counts(&s.book, batch_id)?)).await
}

#[tauri::command]
pub async fn order_preflight(state: State<'_, AppState>, input: NewOrderInput) -> CmdResult<Preflight> {
    Ok(api::preflight(&state.engine(), &input).await?)
}

#[tauri::command]
pub async fn add_order<R: tauri::Runtime>(app: AppHandle<R>, input: NewOrderInput) -> CmdResult<Order> {
    blocking(app, move |s| Ok(api::add_order(&s.engine(), &input)?)).await
}

#[tauri::command]
pub async fn phone_info(
    state: State<'_, AppState>,
    number: String,
    face: Option<String>,
) -> CmdResult<PhoneInfo> {
    Ok(api::phone_info(&state.engine(), &number, face.as_deref()).await?)
}

#[tauri::command]
pub async fn query_order(state: State<'_, AppState>, id: OrderId) -> CmdResult<Order> {
    Ok(api::query_order(&state.engine(), id.get()).await?)
}

#[tauri::command]
pub async fn resolve_order<R: tauri::Runtime>(
    app: AppHandle<R>,
    id: OrderId,
    outcome: String,
    note: String,
) -> CmdResult<Order> {
    blocking(app, move |s| Ok(api::resolve(&s.engine(), id.get(), &outcome, &note)?)).await
}

#[tauri::command]
pub async fn resubmit_order<R: tauri::Runtime>(app: AppHandle<R>, id: OrderId) -> CmdResult<Order> {
    blocking(app, move |s| Ok(api::resubmit(&s.engine(), id.get())?)).await
}

#[tauri::command]
pub async fn export_orders<R: tauri::Runtime>(
    app: AppHandle<R>,
    query: OrderQuery,
    format: String,
) -> CmdResult<ExportResult> {
    blocking(app, move |s| Ok(api::export(&s.book, &s.data_dir, &query, &format)?)).await
}
