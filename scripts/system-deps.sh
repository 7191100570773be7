#!/usr/bin/env bash
# Install the system packages keyaudit needs, when they are missing. Debian/Ubuntu only;
# elsewhere it says what to install.
#
#   scripts/system-deps.sh        running (`make setup`, `make demo`): the libraries WeasyPrint
#                                 needs (Pango, HarfBuzz via Pango, fontconfig) and DejaVu fonts
#   scripts/system-deps.sh test   testing (`make test`, `make test-slow`, CI): chromium, which the
#                                 HTML report's browser test drives; skipped with a message when it
#                                 cannot be installed, except under CI, where that test must run
set -euo pipefail
what=${1:-run}
missing=()
optional=()
case $what in
  run)
    libs=$(PATH="$PATH:/sbin:/usr/sbin" ldconfig -p 2>/dev/null || true)  # /sbin is off a bare PATH   # read once: grep -q on a pipe trips pipefail
    fonts=$(fc-list 2>/dev/null || true)
    grep -q 'libpango-1.0.so' <<<"$libs" || missing+=(libpango-1.0-0)
    grep -q 'libpangoft2-1.0.so' <<<"$libs" || missing+=(libpangoft2-1.0-0)
    grep -q 'libharfbuzz-subset.so' <<<"$libs" || missing+=(libharfbuzz-subset0)
    grep -qi 'DejaVuSans' <<<"$fonts" || missing+=(fonts-dejavu-core fontconfig)
    ;;
  test)
    [[ -x /usr/bin/chromium ]] || optional+=(chromium)
    ;;
  *)
    echo "keyaudit: scripts/system-deps.sh takes no argument (running) or 'test' (testing), not '$what'" >&2
    exit 2
    ;;
esac
((${#missing[@]} + ${#optional[@]})) || exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  if ((${#missing[@]})); then
    echo "keyaudit: install these for WeasyPrint: ${missing[*]} (Pango, fontconfig, DejaVu fonts)" >&2
    exit 1
  fi
  echo "keyaudit: the browser test needs chromium at /usr/bin/chromium; install it" >&2
  [[ -z "${CI:-}" ]] || exit 1
  exit 0
fi
SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO="sudo"
install() {
  echo "keyaudit: installing $*" >&2
  $SUDO apt-get update -qq >/dev/null &&
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}
if ((${#missing[@]})); then
  install "${missing[@]}"
elif ! install "${optional[@]}"; then
  echo "keyaudit: could not install ${optional[*]}; the browser test will be skipped" >&2
  [[ -z "${CI:-}" ]] || exit 1
fi
