#!/usr/bin/env bash
# Prove that keyaudit installs: build the wheel, check that it carries the SQL, the templates and
# the other shipped files, and nothing outside keyaudit/ (flows/ ships as keyaudit/flows), pip-install
# it into clean virtual environments outside the checkout and run it from an empty folder with an
# empty HOME.
#
#   1. `pip install <wheel>`         (no extras): --help, `query --help` and `rules` work, and every
#      module outside the demo (its source, review.demo) imports without moto or Dask (keyaudit.flows; no
#      top-level `flows`); prefect.yaml's entrypoint loads the installed flow; `keyaudit demo`
#      answers with one error line naming `pip install 'keyaudit[demo]'`, exit 2, no traceback.
#   2. `pip install '<wheel>[demo]'` (a new venv): `keyaudit demo` exits 0 and writes report.html
#      and report.pdf.
#
# Versions are pinned to uv.lock (pip constraints exported from it); KEYAUDIT_WHEEL_UNLOCKED=1
# lets pip resolve the newest allowed versions instead. KEEP=1 keeps the work folder.
# Prints the time taken and the installed size of each venv.
set -euo pipefail
cd "$(dirname "$0")/.."
UV=$(command -v uv 2>/dev/null || echo "$HOME/.local/bin/uv")
export UV_PYTHON_DOWNLOADS=never
start=$SECONDS
work=$(mktemp -d "${TMPDIR:-/tmp}/keyaudit-wheel.XXXXXX")
[[ -n "${KEEP:-}" ]] || trap 'rm -rf "$work"' EXIT
say() { printf 'wheel-check: %s\n' "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }

# ---------------------------------------------------------------- build and look inside
"$UV" build --wheel --quiet --out-dir "$work/dist" .
wheel=$(ls "$work"/dist/keyaudit-*.whl)
say "built $(basename "$wheel") ($(du -h "$wheel" | cut -f1)) in $((SECONDS - start)) s"
python3 - "$wheel" <<'EOF' || die "the wheel lacks files of the checkout"
import sys, zipfile
from pathlib import Path
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
shipped = {"sql": "keyaudit/_data/sql", "reports/templates": "keyaudit/_data/reports/templates"}
missing = [
    f"{folder}/{path.relative_to(folder)}"
    for folder, inside in shipped.items()
    for path in Path(folder).rglob("*")
    if path.is_file() and "__pycache__" not in path.parts
    and f"{inside}/{path.relative_to(folder).as_posix()}" not in names
]
missing += [f for f in ("prefect.yaml", "keyaudit.example.toml") if f"keyaudit/_data/{f}" not in names]
missing += [m for m in ("keyaudit/cli/__init__.py", "keyaudit/flows/audit.py") if m not in names]
if missing:
    print("missing from the wheel:", *missing, sep="\n  ", file=sys.stderr)
    sys.exit(1)
# keyaudit and its .dist-info only: a top-level `flows` (any other name) would clash with others'
tops = {n.split("/")[0] for n in names}
foreign = sorted(t for t in tops if t != "keyaudit" and not t.endswith(".dist-info"))
if foreign:
    print("the wheel installs top-level names besides keyaudit:", *foreign, sep="\n  ", file=sys.stderr)
    sys.exit(1)
sql = sum(n.startswith("keyaudit/_data/sql/") for n in names)
templates = sum(n.startswith("keyaudit/_data/reports/templates/") for n in names)
print(f"wheel-check: the wheel carries {sql} SQL files and {templates} template files", file=sys.stderr)
EOF

pip_args=(--quiet --quiet)  # errors only: no notes on the machine's extra indexes
if [[ -z "${KEYAUDIT_WHEEL_UNLOCKED:-}" ]]; then
  "$UV" export --frozen --quiet --all-extras --no-dev --no-emit-project --no-hashes \
    --output-file "$work/constraints.txt" >/dev/null
  pip_args+=(--constraint "$work/constraints.txt")
fi

# Run keyaudit as a user of the installed package would: an empty folder outside the checkout,
# an empty HOME, no Prefect API, nothing of this shell's environment.
run_clean() {  # venv folder, then the command; stdout/stderr of the command pass through
  local venv=$1
  shift
  (cd "$work/run" && env -i PATH="$venv/bin:/usr/local/bin:/usr/bin:/bin" HOME="$work/home" \
    LANG=C.UTF-8 TMPDIR="$work/tmp" "$@")
}
fresh_folder() { rm -rf "$work/run" "$work/home" "$work/tmp" && mkdir -p "$work/run" "$work/home" "$work/tmp"; }
size() { du -sm "$1" | cut -f1; }

# ---------------------------------------------------------------- install, both venvs at once
# pip spends most of its time waiting on the package index, so the two installs overlap well.
t=$SECONDS
python3 -m venv "$work/lean"
python3 -m venv "$work/demo"
"$work/lean/bin/pip" install "${pip_args[@]}" "$wheel" &
lean_pid=$!
"$work/demo/bin/pip" install "${pip_args[@]}" "$wheel[demo]" &
demo_pid=$!
wait $lean_pid || die "pip install $(basename "$wheel")"
wait $demo_pid || die "pip install '$(basename "$wheel")[demo]'"
say "pip install into two clean venvs: $((SECONDS - t)) s"
say "venv size: keyaudit $(size "$work/lean") MB, keyaudit[demo] $(size "$work/demo") MB"

# ---------------------------------------------------------------- 1. no extras
fresh_folder
run_clean "$work/lean" keyaudit --help >/dev/null || die "keyaudit --help"
run_clean "$work/lean" keyaudit query --help >/dev/null || die "keyaudit query --help"
run_clean "$work/lean" keyaudit rules >"$work/rules.txt" || die "keyaudit rules (reads the packaged sql/rules)"
run_clean "$work/lean" python - <<'EOF' || die "a module outside the demo source needs an optional extra, or the data is not the packaged one"
import importlib, importlib.util, pkgutil, sys
import keyaudit.paths as paths
assert "site-packages" in str(paths.SQL_DIR), paths.SQL_DIR
# the demo needs moto: its source, and its review of the first month (keyaudit.review.demo, which
# refuses in one line without it); __main__ runs the CLI
skip = ("keyaudit.sources.demo", "keyaudit.review.demo", "keyaudit.__main__")
def walk(name):
    module = importlib.import_module(name)
    for info in pkgutil.iter_modules(getattr(module, "__path__", [])):
        if f"{name}.{info.name}" not in skip:
            walk(f"{name}.{info.name}")
walk("keyaudit")  # keyaudit.flows included
assert importlib.util.find_spec("flows") is None, "a top-level flows package is installed"
loaded = sorted({m.split(".")[0] for m in sys.modules} & {"moto", "dask", "distributed", "prefect_dask"})
assert not loaded, f"imported without being asked for: {loaded}"
EOF
# the deployment's entrypoint (the packaged prefect.yaml) loads the installed flow from any folder
run_clean "$work/lean" python - <<'EOF' || die "prefect.yaml's entrypoint does not load the flow from the installed wheel"
import yaml
from prefect.flows import load_flow_from_entrypoint
import keyaudit.paths as paths
(deployment,) = yaml.safe_load(paths.PREFECT_YAML.read_text())["deployments"]
flow = load_flow_from_entrypoint(deployment["entrypoint"], use_placeholder_flow=False)
assert flow.fn.__module__ == "keyaudit.flows.audit", flow.fn.__module__
assert "site-packages" in flow.fn.__code__.co_filename, flow.fn.__code__.co_filename
EOF
set +e
run_clean "$work/lean" keyaudit demo >"$work/demo.out" 2>"$work/demo.err"
code=$?
set -e
errors=$(grep -c '^keyaudit: error:' "$work/demo.err" || true)
if [[ $code -ne 2 || $errors -ne 1 ]] || grep -q Traceback "$work/demo.err" \
  || ! grep -q "pip install 'keyaudit\[demo\]'" "$work/demo.err"; then
  cat "$work/demo.err" >&2
  die "keyaudit demo without the demo extra: exit $code, expected 2 and one line naming the fix"
fi
say "without the demo extra, keyaudit demo says: $(grep '^keyaudit: error:' "$work/demo.err")"

# ---------------------------------------------------------------- 2. the demo extra
fresh_folder
t=$SECONDS
if ! run_clean "$work/demo" keyaudit demo >"$work/demo.out" 2>"$work/demo.err"; then
  cat "$work/demo.out" "$work/demo.err" >&2
  die "keyaudit demo from an empty folder (see above)"
fi
grep -q Traceback "$work/demo.err" && { cat "$work/demo.err" >&2; die "keyaudit demo printed a traceback"; }
for report in report.html report.pdf; do
  found=$(find "$work/run" -name "$report" -size +0 | head -1)
  [[ -n $found ]] || { cat "$work/demo.out" >&2; die "keyaudit demo wrote no $report"; }
done
say "keyaudit demo from an empty folder: exit 0 in $((SECONDS - t)) s, report.html and report.pdf written"
say "passed in $((SECONDS - start)) s"
