#!/usr/bin/env bash
# Starts Topup Desk (充值台), installing what is missing first. A fresh install opens in sandbox mode
# (演示模式) against the built-in provider simulator: no provider account and no money needed.
# Arguments go to the app (e.g. `scripts/run.sh --data-dir /tmp/demo`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo "没有图形显示（DISPLAY 未设置）。请在桌面会话中运行，或：xvfb-run -a bash scripts/run.sh" >&2
  echo "No display (DISPLAY is not set). Run it in a desktop session, or: xvfb-run -a bash scripts/run.sh" >&2
  exit 2
fi
exec cargo run --locked --quiet -p topup-desk -- "$@"
