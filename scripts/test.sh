#!/usr/bin/env bash
# Runs every test of Topup Desk, installing what is missing first:
#   formatting, clippy (-D warnings), the UI's unit tests (Vitest), and all cargo tests — the engine's
#   against a real SQLite file, the real OS keyring (gnome-keyring, unlocked, inside a private D-Bus
#   session) and the provider simulator on 127.0.0.1, and the end-to-end tests on the real app window
#   under Xvfb through tauri-driver + WebKitWebDriver;
#   then the installers (scripts/package-test.sh): builds the .deb and .rpm, installs the .deb with apt
#   (root or sudo), smoke-tests the installed program, uninstalls it, and runs the cross-built Windows
#   program's command-line suite under wine; TOPUP_DESK_SKIP_PACKAGING=1 leaves this out.
# Extra arguments go to `cargo test` (e.g. `scripts/test.sh -p topup-engine`); such a targeted run
# leaves the installers out too.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

bash scripts/deps.sh

say "cargo fmt --check"
cargo fmt --all --check

say "clippy -D warnings"
cargo clippy --workspace --all-targets --locked --features topup-desk/dev-server -- -D warnings

say "UI unit tests (Vitest)"
(cd ui && npm test --silent)

say "cargo test (real keyring in a private D-Bus session, app window under Xvfb)"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
KEYRING_HOME=$(mktemp -d)
trap 'rm -rf "$KEYRING_HOME"' EXIT
dbus-run-session -- bash -c '
  set -euo pipefail
  # A throw-away login keyring, unlocked with a throw-away password, only for this session.
  printf %s topup-desk-test | XDG_DATA_HOME="$0" gnome-keyring-daemon --unlock --components=secrets >/dev/null
  export TOPUP_DESK_KEYRING_SERVICE=topup-desk-test
  xvfb-run -a -s "-screen 0 1366x900x24" cargo test --workspace --locked --features topup-desk/failpoints,topup-desk/dev-server "${@}"
' "$KEYRING_HOME" "$@"

say "TypeScript bindings (ts-rs, names.ts) and the UI's recorded fixtures match the Rust side"
# The cargo tests above regenerated ui/src/lib/backend/bindings/ from the Rust types and lists, and
# recorded ui/src/test/fixtures/ from the real backend (tests/dev_server.rs); the committed files must
# be what they wrote (no change, no new file). Fix: run the tests, commit what they wrote.
generated=(ui/src/lib/backend/bindings ui/src/test/fixtures)
if ! git diff --exit-code --stat -- "${generated[@]}" \
  || [ -n "$(git status --porcelain -- "${generated[@]}")" ]; then
  git status --short -- "${generated[@]}"
  echo "${generated[*]} out of date: commit what cargo test generated" >&2
  exit 1
fi

if (($# == 0)) && [[ -z ${TOPUP_DESK_SKIP_PACKAGING:-} ]]; then
  say "installers: deb + rpm, installed and smoke-tested; the Windows program under wine"
  TOPUP_DESK_DEPS_DONE=1 bash scripts/package-test.sh
fi
