use super::blocking;
use crate::error::CmdResult;
use crate::state::AppState;
use tauri::{AppHandle, State};
use topup_engine::api::{self, ExportResult, NewOrderInput, OrderDetail, OrderQuery, PhoneInfo, Preflight};
use topup_engine::book::{Order, OrderPage, StateCounts};

#[tauri::command]
pub async fn list_orders(app: AppHandle, query: OrderQuery) -> CmdResult<OrderPage> {
    blocking(app, move |s| Ok(api::list_orders(&s.book, &query)?)).await
}

#[tauri::command]
pub async fn order_detail(app: AppHandle, id: String) -> CmdResult<OrderDetail> {
    blocking(app, move |s| Ok(api::order_detail(&s.book, api::order_id(&id)?)?)).await
}

#[tauri::command]
pub async fn state_counts(app: AppHandle) -> CmdResult<StateCounts> {
    blocking(app, |s| Ok(api::state_counts(&s.book)?)).await
}

#[tauri::command]
pub async fn batch_counts(app: AppHandle, batch_id: String) -> CmdResult<StateCounts> {
    blocking(app, move |s| Ok(api::batch_counts(&s.book, &batch_id)?)).await
}

#[tauri::command]
pub async fn order_preflight(state: State<'_, AppState>, input: NewOrderInput) -> CmdResult<Preflight> {
    Ok(api::preflight(&state.engine(), &input).await?)
}

#[tauri::command]
pub async fn add_order(app: AppHandle, input: NewOrderInput) -> CmdResult<Order> {
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
pub async fn query_order(state: State<'_, AppState>, id: String) -> CmdResult<Order> {
    Ok(api::query_order(&state.engine(), api::order_id(&id)?).await?)
}

#[tauri::command]
pub async fn resolve_order(app: AppHandle, id: String, outcome: String, note: String) -> CmdResult<Order> {
    blocking(app, move |s| Ok(api::resolve(&s.engine(), api::order_id(&id)?, &outcome, &note)?)).await
}

#[tauri::command]
pub async fn resubmit_order(app: AppHandle, id: String) -> CmdResult<Order> {
    blocking(app, move |s| Ok(api::resubmit(&s.engine(), api::order_id(&id)?)?)).await
}

#[tauri::command]
pub async fn export_orders(app: AppHandle, query: OrderQuery, format: String) -> CmdResult<ExportResult> {
    blocking(app, move |s| Ok(api::export(&s.book, &s.data_dir, &query, &format)?)).await
}
