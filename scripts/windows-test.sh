#!/usr/bin/env bash
# The Windows program, cross-built on this Linux machine and its command line tested under wine.
#   bash scripts/windows-test.sh        (after `bash scripts/deps.sh --packaging`; scripts/package-test.sh
#                                        runs both)
# Build: x86_64-pc-windows-gnu, a release build (GUI subsystem, like the installers' program), with
# Debian's rustc-web (rustup here has no Windows target) building std from its sources, linked by
# mingw-w64. Tauri's official Windows target is MSVC; the installers come from
# .github/workflows/installers.yml on a real Windows runner. This build exists to test here what can
# be tested without Windows: paths under %APPDATA%, Chinese file names, SQLite, HTTP against the
# simulator, a sandbox order, import of xlsx and GBK csv, export, and the keyring round trip through
# the credential store (wine's CredWrite/CredRead), plus the console attach of console.rs.
# Not testable here: the window (wine has no WebView2), the installers, real Windows' credential
# manager and consoles. The README lists this.
#
# Each check prints "ok"/"FAILED"; the last line is "N passed, M failed". Wine runs in a fresh prefix
# under /var/tmp, deleted at the end (wineboot takes ~10 s).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

WIN=x86_64-pc-windows-gnu
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
exe_built=$target_dir/$WIN/release/topup-desk.exe

say "cross-building topup-desk.exe ($WIN, release; Debian's rustc-web, std from source)"
# /usr/bin/cargo explicitly: ~/.cargo/bin (rustup, no Windows target) comes first on PATH.
env RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1 \
  CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc \
  /usr/bin/cargo build --release --locked --bin topup-desk --features custom-protocol \
  -Zbuild-std=std,panic_abort --target "$WIN"

say "wine prefix"
# Wine turns the command line's UTF-8 into UTF-16 by the locale: Chinese arguments need a UTF-8 one.
export LC_ALL=C.UTF-8 WINEARCH=win64 WINEDEBUG=-all
WINEPREFIX=$(mktemp -d /var/tmp/topup-desk-wine.XXXXXX)
export WINEPREFIX
sim_pid=
cleanup() {
  if [[ -n $sim_pid ]]; then kill "$sim_pid" 2>/dev/null || true; fi
  wineserver -k 2>/dev/null || true
  rm -rf "$WINEPREFIX"
}
trap cleanup EXIT
# mscoree/mshtml off: no Mono or Gecko install prompts.
WINEDLLOVERRIDES="mscoree,mshtml=" wineboot --init >/dev/null 2>&1
wineserver -w
# Wine 8 lacks ProcessPrng (Rust's std needs it): a stub DLL next to the program, preferred over
# wine's own bcryptprimitives.dll (scripts/windows/processprng-stub.c). Never shipped.
app_dir=$WINEPREFIX/drive_c/topup-desk
mkdir -p "$app_dir"
cp "$exe_built" "$app_dir/"
cp "$target_dir/$WIN/release/WebView2Loader.dll" "$app_dir/" 2>/dev/null || true
x86_64-w64-mingw32-gcc -O2 -s -shared -static-libgcc -o "$app_dir/bcryptprimitives.dll" \
  scripts/windows/processprng-stub.c scripts/windows/processprng-stub.def -lbcrypt
export WINEDLLOVERRIDES="bcryptprimitives=n,b;mscoree,mshtml="
# The tests' own credential service, so nothing is written under the app's real one.
export TOPUP_DESK_KEYRING_SERVICE=topup-desk-wine-test
unset TOPUP_DESK_DATA_DIR
exe='C:\topup-desk\topup-desk.exe'
td() { wine "$exe" "$@"; }
win_user_dir=$WINEPREFIX/drive_c/users/$(id -un)
appdata_unix=$win_user_dir/AppData/Roaming/topup-desk

passed=0 failed=0
check() { # check NAME COMMAND...: runs COMMAND, counts it
  local name=$1
  shift
  if out=$("$@" 2>&1); then
    passed=$((passed + 1))
    echo "ok      $name"
  else
    failed=$((failed + 1))
    echo "FAILED  $name"
    printf '%s\n' "$out" | tail -n 30 | sed 's/^/        /'
  fi
}
has() { # has TEXT COMMAND...: COMMAND succeeds and prints TEXT
  local want=$1 got
  shift
  got=$("$@" 2>&1) || { printf 'exit %s:\n%s\n' "$?" "$got"; return 1; }
  grep -qF -- "$want" <<<"$got" || { printf 'wanted %q in:\n%s\n' "$want" "$got"; return 1; }
}
count_is() { # count_is N STATE [DATA_DIR]: the order book holds N orders in STATE
  local n dir=()
  [[ -n ${3:-} ]] && dir=(--data-dir "$3")
  n=$(td "${dir[@]}" orders --state "$2" 2>/dev/null | grep -c . || true)
  [[ $n == "$1" ]] || { echo "expected $1 $2 orders, found $n"; td "${dir[@]}" orders; return 1; }
}

say "checks"
# console.rs: the release program is a GUI-subsystem program (no console window on a double-click)…
check "the program is a GUI-subsystem executable" \
  has "(Windows GUI)" x86_64-w64-mingw32-objdump -p "$app_dir/topup-desk.exe"
# …that attaches to the terminal's console when given a command (wine shows the terminal's output
# either way, so the call itself is what is checked, in wine's trace of the console API).
attach_traced() { grep -q "AttachConsole" <<<"$(WINEDEBUG=trace+console wine "$exe" --version 2>&1)"; }
check "a command attaches to the parent console (AttachConsole)" attach_traced
check "--version prints" has "topup-desk 0.1.0" td --version
check "--help prints in Chinese" has "充值台" td --help

# The default data directory: %APPDATA%\topup-desk (FOLDERID_RoamingAppData).
appdata=$(wine cmd /c echo '%APPDATA%' 2>/dev/null | tr -d '\r')
check "paths: the data directory is %APPDATA%\\topup-desk" has "data_dir	$appdata\\topup-desk" td paths
check "paths: the order book is orders.sqlite3 in it" \
  has "order_book	$appdata\\topup-desk\\orders.sqlite3" td paths

# A sandbox order in the default data directory: SQLite, the built-in simulator over HTTP on
# 127.0.0.1, the engine's submit and poll, to success.
check "order add in the default data directory" \
  has "TD" td order add --provider juhe --account 13800000001 --face 50
check "the order book file is under %APPDATA%" test -s "$appdata_unix/orders.sqlite3"
check "run --until-idle pays it in sandbox mode" td run --until-idle --timeout 120
check "the order succeeded" count_is 1 succeeded

# A data directory with a Chinese name (and a space), given as --data-dir.
zh_dir='C:\充值台 数据\店铺一'
zh_unix="$WINEPREFIX/drive_c/充值台 数据/店铺一"
check "order add in a Chinese-named data directory" \
  has "TD" td --data-dir "$zh_dir" order add --provider juhe --account 13900000002 --face 30
check "its order book is where it was asked" test -s "$zh_unix/orders.sqlite3"
check "run --until-idle there" td --data-dir "$zh_dir" run --until-idle --timeout 120
check "that order succeeded" count_is 1 succeeded "$zh_dir"

# Import: an xlsx with a Chinese file name (engine fixture: sheet 订单, a merged face value, one face
# value juhe does not sell) and a GBK-encoded csv with Chinese headings, as Excel in China saves it.
imp_dir='C:\导入测试'
imp_unix="$WINEPREFIX/drive_c/导入测试"
mkdir -p "$imp_unix/文件"
cp src-tauri/crates/engine/tests/fixtures/orders-source.xlsx "$imp_unix/文件/今日订单.xlsx"
printf '手机号,面值,备注\r\n13700000011,10,张三\r\n13700000012,20,李四\r\n13700000013,30,王五\r\n' |
  iconv -f UTF-8 -t GBK >"$imp_unix/文件/客户订单（GBK）.csv"
check "the csv really is GBK (not valid UTF-8)" bash -c "! iconv -f UTF-8 -t UTF-8 '$imp_unix/文件/客户订单（GBK）.csv' >/dev/null 2>&1"
check "import an xlsx with a Chinese file name: the bad row named, the 3 valid rows imported" \
  has "imported batch 1: 3 orders (1 rows left out)" \
  td --data-dir "$imp_dir" import 'C:\导入测试\文件\今日订单.xlsx' --provider juhe --skip-invalid
check "import a GBK csv with a Chinese file name: its Chinese headings read, 3 orders" \
  has "imported batch 2: 3 orders (0 rows left out)" \
  td --data-dir "$imp_dir" import 'C:\导入测试\文件\客户订单（GBK）.csv' --provider juhe
check "run --until-idle pays the imported orders" td --data-dir "$imp_dir" run --until-idle --timeout 180
check "all 6 imported orders succeeded" count_is 6 succeeded "$imp_dir"

# Export into a folder with a Chinese name, to Chinese file names.
mkdir -p "$imp_unix/导出"
check "export to xlsx" has "exported 6 orders" td --data-dir "$imp_dir" export --out 'C:\导入测试\导出\全部订单.xlsx'
is_zip() { [[ $(head -c 2 "$1") == PK ]]; }
check "the xlsx is an Office Open XML (zip) file" is_zip "$imp_unix/导出/全部订单.xlsx"
check "export to csv" has "exported 6 orders" \
  td --data-dir "$imp_dir" export --state succeeded --out 'C:\导入测试\导出\成功订单.csv'
csv_rows() { [[ $(grep -c ',成功,' "$imp_unix/导出/成功订单.csv") == 6 ]] && grep -q 13700000012 "$imp_unix/导出/成功订单.csv"; }
check "the csv holds the 6 paid orders" csv_rows

# The credential store: a real provider account (juhe, at a simulator run by the Windows program on
# 127.0.0.1) whose secret goes to the credential store and is read back by later processes.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
wine "$exe" simulator --port "$port" --settle-ms 300 >"$WINEPREFIX/sim.log" 2>&1 &
sim_pid=$!
sim_up() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0; sleep 0.2; done; return 1; }
check "the simulator (Windows program) listens on 127.0.0.1:$port" sim_up
secret=jhsandboxappkey00000000000000001
kr_dir='C:\钥匙串测试'
kr_unix="$WINEPREFIX/drive_c/钥匙串测试"
set_provider() {
  printf '{"base_url":"http://127.0.0.1:%s","openid":"JHsandbox0penid000000000000000","secret":"%s"}' "$port" "$secret" |
    td --data-dir "$kr_dir" provider set juhe
}
check "provider set juhe (secret to the credential store)" set_provider
check "the secret is nowhere in the data directory" bash -c "! grep -rqF '$secret' '$kr_unix'"
check "the credential is in wine's credential store" \
  has "topup-desk-wine-test" wine reg query 'HKCU\Software\Wine\Credential Manager' /s
# The simulator checks juhe's signature (made with the secret) on every request: a balance from it
# proves that a new process read the right secret back from the credential store.
juhe_balance() { # juhe_balance SERVICE: juhe's balance, as the real (not sandbox) provider
  local out
  out=$(TOPUP_DESK_KEYRING_SERVICE=$1 td --data-dir "$kr_dir" balance --json 2>&1) || { echo "$out"; return 1; }
  if ! grep -q '"balanceLi": 10000000' <<<"$out" || ! grep -q '"sandbox": false' <<<"$out"; then
    echo "$out"
    return 1
  fi
}
check "balance: a new process reads the secret back and the simulator accepts its signature" \
  juhe_balance topup-desk-wine-test
wrong_service() { ! juhe_balance topup-desk-wine-none; }
check "without the stored secret (another credential service) there is no balance" wrong_service
check "an order through the configured provider" \
  has "TD" td --data-dir "$kr_dir" order add --provider juhe --account 13600000021 --face 50
check "run --until-idle pays it through the simulator" td --data-dir "$kr_dir" run --until-idle --timeout 120
check "that order succeeded" count_is 1 succeeded "$kr_dir"

echo
echo "$passed passed, $failed failed"
((failed == 0))
