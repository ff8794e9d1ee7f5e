use crate::error::CmdResult;
use crate::state::{AppState, AppStatus};
use tauri::State;

#[tauri::command]
pub fn app_status(state: State<'_, AppState>) -> CmdResult<AppStatus> {
    state.status()
}

#[tauri::command]
pub fn set_locale(state: State<'_, AppState>, locale: String) -> CmdResult<()> {
    state.set_locale(&locale)
}
