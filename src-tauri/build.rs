fn main() {
    // The one Tauri config lives at the repository root; paths inside it are relative to it.
    if let Err(e) = tauri_build::try_build(tauri_build::Attributes::new().config_path("../tauri.conf.json")) {
        panic!("tauri build step failed (is ui/dist built? run `npm ci && npm run build` in ui/): {e:#}");
    }
}
