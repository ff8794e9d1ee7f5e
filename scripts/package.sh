#!/usr/bin/env bash
# Builds the installers this machine can build, .deb and .rpm, with the Tauri CLI pinned in
# ui/package-lock.json:
#   bash scripts/package.sh
#   → ${CARGO_TARGET_DIR:-target}/release/bundle/deb/Topup Desk_<version>_amd64.deb
#   → ${CARGO_TARGET_DIR:-target}/release/bundle/rpm/Topup Desk-<version>-1.x86_64.rpm
# The release program is compiled once, by cargo, the way `tauri build` compiles it (--release with
# Tauri's custom-protocol feature: the UI in ui/dist is embedded, no dev server); `tauri bundle` then
# packages that same program without compiling anything. AppImage, NSIS and MSI need tools downloaded
# from GitHub (or Windows) and come from .github/workflows/installers.yml, like the macOS app and dmg.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

[[ -n ${TOPUP_DESK_DEPS_DONE:-} ]] || bash scripts/deps.sh
target_dir=${CARGO_TARGET_DIR:-$PWD/target}

say "release build (cargo build --release --features custom-protocol)"
cargo build --release --locked --features custom-protocol

say "bundling deb and rpm (tauri bundle, pinned CLI $(ui/node_modules/.bin/tauri --version))"
rm -rf "$target_dir/release/bundle"
ui/node_modules/.bin/tauri bundle --ci --bundles deb,rpm
find "$target_dir/release/bundle" -maxdepth 2 -type f \( -name '*.deb' -o -name '*.rpm' \) -printf '%s bytes\t%p\n'
