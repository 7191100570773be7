#!/usr/bin/env bash
# Install the system libraries WeasyPrint needs (Pango, HarfBuzz via Pango, fontconfig, DejaVu
# fonts) when they are missing. Debian/Ubuntu only; elsewhere it says what to install.
set -euo pipefail
missing=()
ldconfig -p 2>/dev/null | grep -q 'libpango-1.0.so' || missing+=(libpango-1.0-0)
ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so' || missing+=(libpangoft2-1.0-0)
{ fc-list 2>/dev/null | grep -qi 'DejaVuSans'; } || missing+=(fonts-dejavu-core fontconfig)
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
