use crate::error::CmdResult;
use crate::state::AppState;
use tauri::{AppHandle, State};
use topup_engine::api::{self, SettingsView};
use topup_engine::config::EngineSettings;
use topup_engine::ProviderId;

fn view(state: &AppState) -> CmdResult<SettingsView> {
    Ok(api::settings_view(&state.book, &state.secrets, state.callback_listening(), &state.data_dir)?)
}

#[tauri::command]
pub async fn get_settings(app: AppHandle) -> CmdResult<SettingsView> {
    super::blocking(app, view).await
}

#[tauri::command]
pub async fn save_provider(
    app: AppHandle,
    state: State<'_, AppState>,
    id: ProviderId,
    settings: serde_json::Value,
    secret: Option<String>,
) -> CmdResult<SettingsView> {
    api::save_provider(&state.book, &state.secrets, id, &settings, secret)?;
    crate::restart(&app, &state).await?;
    view(&state)
}

#[tauri::command]
pub async fn remove_provider(
    app: AppHandle,
    state: State<'_, AppState>,
    id: ProviderId,
) -> CmdResult<SettingsView> {
    api::remove_provider(&state.book, &state.secrets, id)?;
    crate::restart(&app, &state).await?;
    view(&state)
}

#[tauri::command]
pub async fn save_engine_settings(
    app: AppHandle,
    state: State<'_, AppState>,
    settings: EngineSettings,
) -> CmdResult<SettingsView> {
    if api::save_engine_settings(&state.book, &settings)? {
        crate::restart(&app, &state).await?;
    } else {
        state.engine().set_settings(settings);
    }
    view(&state)
}
