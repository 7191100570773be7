#!/usr/bin/env bash
# Install the system libraries WeasyPrint needs (Pango, HarfBuzz via Pango, fontconfig, DejaVu
# fonts) when they are missing. Debian/Ubuntu only; elsewhere it says what to install.
set -euo pipefail
missing=()
libs=$(ldconfig -p 2>/dev/null || true)   # read once: grep -q on a pipe trips pipefail
fonts=$(fc-list 2>/dev/null || true)
grep -q 'libpango-1.0.so' <<<"$libs" || missing+=(libpango-1.0-0)
grep -q 'libpangoft2-1.0.so' <<<"$libs" || missing+=(libpangoft2-1.0-0)
grep -q 'libharfbuzz-subset.so' <<<"$libs" || missing+=(libharfbuzz-subset0)
grep -qi 'DejaVuSans' <<<"$fonts" || missing+=(fonts-dejavu-core fontconfig)
((${#missing[@]})) || exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "keyaudit: install these for WeasyPrint: ${missing[*]} (Pango, fontconfig, DejaVu fonts)" >&2
  exit 1
fi
SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO="sudo"
echo "keyaudit: installing ${missing[*]} for WeasyPrint" >&2
$SUDO apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
