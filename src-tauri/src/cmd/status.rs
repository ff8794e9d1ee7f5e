use super::blocking;
use crate::error::CmdResult;
use crate::state::AppStatus;
use tauri::AppHandle;

#[tauri::command]
pub async fn app_status<R: tauri::Runtime>(app: AppHandle<R>) -> CmdResult<AppStatus> {
    blocking(app, |s| s.status()).await
}

#[tauri::command]
pub async fn set_locale<R: tauri::Runtime>(app: AppHandle<R>, locale: String) -> CmdResult<()> {
    blocking(app, move |s| s.set_locale(&locale)).await
}
