#!/usr/bin/env bash
# Start-up and memory of a Tauri window (docs/benchmarks.md, "Console window (issue 7)").
#   scripts/ui-bench-startup.sh LABEL RUNS [SEED_DIR] -- COMMAND [ARGS...]
# Runs COMMAND RUNS times on the current X display (run it inside xvfb-run, dbus-run-session and an
# unlocked keyring, see docs/benchmarks.md) and prints per run:
#   first paint: ms from exec until the screen (root window) first holds more than 8 distinct colours
#     (an unmapped or blank window gives 1-2: black root, window background; rendered text gives many),
#     polled with ImageMagick's `import` (each poll takes a few tens of ms, so that is the resolution);
#   RSS: VmRSS summed over the process and all its descendants (WebKitWebProcess, WebKitNetworkProcess,
#     …), 5 s after first paint.
# With SEED_DIR, each run gets a fresh copy of it in a temporary directory, passed as `--data-dir DIR`.
# Medians are printed at the end.
set -euo pipefail
label=$1 runs=$2 seed=
shift 2
if [[ $1 != -- ]]; then seed=$1; shift; fi
shift

tree_rss() { # KiB of VmRSS over pid $1 and its descendants
  local pids=("$1") i=0 p kids total=0
  while ((i < ${#pids[@]})); do
    p=${pids[i]}
    kids=$(ps -o pid= --ppid "$p" || true)
    for k in $kids; do pids+=("$k"); done
    i=$((i + 1))
  done
  for p in "${pids[@]}"; do
    total=$((total + $(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
  done
  echo "$total ${#pids[@]}"
}

colours() { import -silent -window root -format '%k' info: 2>/dev/null || echo 0; }

paints=() rsss=()
for ((r = 1; r <= runs; r++)); do
  extra=()
  if [[ -n $seed ]]; then
    dir=$(mktemp -d)
    cp -a "$seed/." "$dir/"
    extra=(--data-dir "$dir")
  fi
  sync
  sleep 2
  t0=$(date +%s%N)
  "$@" "${extra[@]}" >/dev/null 2>&1 &
  pid=$!
  paint=
  while :; do
    n=$(colours)
    [[ -n ${TRACE:-} ]] && echo "  $((($(date +%s%N) - t0) / 1000000)) ms: $n colours" >&2
    if ((n > 8)); then
      paint=$((($(date +%s%N) - t0) / 1000000))
      break
    fi
    if (($(date +%s%N) - t0 > 60000000000)); then break; fi
  done
  sleep 5
  read -r kib nproc < <(tree_rss "$pid")
  mib=$((kib / 1024))
  echo "$label run $r: first paint ${paint:-none} ms, tree RSS $mib MiB over $nproc processes, load $(cut -d' ' -f1-3 /proc/loadavg)"
  paints+=("${paint:-999999}")
  rsss+=("$mib")
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  [[ -n $seed ]] && rm -rf "$dir"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
echo "$label MEDIAN: first paint $(median "${paints[@]}") ms, tree RSS $(median "${rsss[@]}") MiB (runs: paint ${paints[*]}; RSS ${rsss[*]})"
