//! The app package's manifest is the root `Cargo.toml` (the Tauri CLI bundles the package next to
//! `tauri.conf.json`), so this script runs in the repository root: the config is found there, and the
//! capabilities, which stay with the app's sources, are named explicitly. tauri-build writes the
//! capability JSON schemas to `gen/schemas/` of the working directory (git-ignored).
fn main() {
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    let attributes = tauri_build::Attributes::new().capabilities_path_pattern("src-tauri/capabilities/**/*");
    if let Err(e) = tauri_build::try_build(attributes) {
        panic!("tauri build step failed (is ui/dist built? run `npm ci && npm run build` in ui/): {e:#}");
    }
}
