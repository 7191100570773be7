#!/usr/bin/env bash
# CI: the README's first command on a machine as a newcomer has it — the system Python (which
# refuses pip, PEP 668), no uv, an empty HOME, PATH=/usr/bin:/bin — in a clean clone; then the
# README's next commands, as written, in a new shell with the same bare environment.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
git clone -q "$repo" "$work/keyaudit"
home="$work/home"
mkdir "$home"
bare=(env -i "HOME=$home" PATH=/usr/bin:/bin LANG=C.UTF-8)
cd "$work/keyaudit"
"${bare[@]}" make demo >"$work/demo.log" 2>&1 || { tail -40 "$work/demo.log"; exit 1; }
grep -q "PDF report" "$work/demo.log" || { tail -40 "$work/demo.log"; echo "fresh machine: no PDF report" >&2; exit 1; }
test -x "$home/.local/bin/uv"
# The README's next commands, in a new shell where ~/.local/bin is not on PATH.
# They are the README's console lines that start with `$ .venv/bin/keyaudit query`.
grep -E '^\$ \.venv/bin/keyaudit query' README.md | sed 's/^\$ //; s/ *#.*$//' >"$work/next.sh"
test -s "$work/next.sh"
"${bare[@]}" bash -euo pipefail "$work/next.sh" >/dev/null
echo "fresh machine: make demo and the README's next commands work with the system Python, no uv, an empty HOME"
