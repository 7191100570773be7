#!/usr/bin/env bash
# Install the system libraries WeasyPrint needs (Pango, HarfBuzz via Pango, fontconfig, DejaVu
# fonts), and chromium for the browser test, when they are missing. Debian/Ubuntu only;
# elsewhere it says what to install.
set -euo pipefail
missing=()
libs=$(PATH="$PATH:/sbin:/usr/sbin" ldconfig -p 2>/dev/null || true)  # /sbin is off a bare PATH   # read once: grep -q on a pipe trips pipefail
fonts=$(fc-list 2>/dev/null || true)
grep -q 'libpango-1.0.so' <<<"$libs" || missing+=(libpango-1.0-0)
grep -q 'libpangoft2-1.0.so' <<<"$libs" || missing+=(libpangoft2-1.0-0)
grep -q 'libharfbuzz-subset.so' <<<"$libs" || missing+=(libharfbuzz-subset0)
grep -qi 'DejaVuSans' <<<"$fonts" || missing+=(fonts-dejavu-core fontconfig)
# Test-only: the HTML report's browser test drives Debian's chromium (skipped when it is missing,
# except under CI, where it must run).
optional=()
[[ -x /usr/bin/chromium ]] || optional+=(chromium)
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
echo "keyaudit: installing ${missing[*]} ${optional[*]}" >&2
$SUDO apt-get update -qq >/dev/null
if ((${#missing[@]})); then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ((${#optional[@]})) && ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
  "${optional[@]}" >/dev/null; then
  echo "keyaudit: could not install ${optional[*]}; the browser test will be skipped" >&2
  [[ -z "${CI:-}" ]] || exit 1
fi
