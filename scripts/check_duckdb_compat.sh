#!/usr/bin/env bash
# Prove that the warehouse keyaudit writes opens in an older DuckDB and answers the same there:
# the README promises "the duckdb CLI, or any DuckDB client", and clients lag (the PyPI CLI,
# DBeaver's JDBC driver, a colleague's notebook). keyaudit creates the file in the storage format
# of [warehouse] storage_version (default v1.4.0; docs/querying.md, "Other DuckDB clients").
#
#   1. `keyaudit demo` twice (two as-of dates, so the lifecycle views have history) into a new
#      warehouse, with the project's venv and its DuckDB.
#   2. A bare venv with duckdb==$OLD (default 1.4.*, the oldest the default format promises) and
#      nothing else; scripts/duckdb_compat_dump.py prints every table, view, macro and table-macro
#      call of the warehouse (types, row count, hash of the sorted rows) under both DuckDBs, and
#      the two must be identical.
#   3. The old DuckDB opens a copy read-write (as DBeaver does) and checkpoints; the project's
#      DuckDB still reads the copy the same, and keyaudit (a writer: migrations, views) reopens it
#      without changing its format.
#
# Needs PyPI (the old duckdb wheel), nothing else. KEEP=1 keeps the work folder. Prints the times.
set -euo pipefail
cd "$(dirname "$0")/.."
UV=$(command -v uv 2>/dev/null || echo "$HOME/.local/bin/uv")
export UV_PYTHON_DOWNLOADS=never UV_LINK_MODE=copy UV_SYSTEM_CERTS=1  # as the Makefile
OLD=${OLD:-1.4.*}
start=$SECONDS
repo=$PWD
ours=$repo/.venv/bin/python
work=$(mktemp -d "${TMPDIR:-/tmp}/keyaudit-duckdb-compat.XXXXXX")
[[ -n "${KEEP:-}" ]] || trap 'rm -rf "$work"' EXIT
say() { printf 'duckdb-compat: %s\n' "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }

# ---------------------------------------------------------------- the old DuckDB (in the background)
t=$SECONDS
( "$UV" venv --quiet --python "$ours" "$work/old" \
    && "$UV" pip install --quiet --python "$work/old/bin/python" "duckdb==$OLD" ) \
  >"$work/old-install.log" 2>&1 &
old_pid=$!

# ---------------------------------------------------------------- 1. a demo warehouse, two runs
mkdir -p "$work/run"
db=$work/run/data/keyaudit.duckdb
# the second run waives one rule in one account, so the waiver tables and views have rows
cat >"$work/run/waivers.yml" <<'YAML'
- id: W-COMPAT-1
  rule: ACCESS_KEY_NOT_ROTATED
  account: "123456789012"
  reason: compatibility check of the warehouse
  approved_by: ci@example.com
  ticket: CI-1
  expires_on: 2027-12-31
YAML
for as_of in 2026-06-01T06:00:00Z 2026-09-01T06:00:00Z; do
  (cd "$work/run" && "$repo/.venv/bin/keyaudit" demo --as-of "$as_of" >"$work/demo.out" 2>"$work/demo.err") \
    || { cat "$work/demo.out" "$work/demo.err" >&2; die "keyaudit demo --as-of $as_of"; }
  printf 'waivers_file = "waivers.yml"\n' >"$work/run/keyaudit.toml"
done
say "two keyaudit demo runs into $db: $((SECONDS - t)) s"
wait $old_pid || { cat "$work/old-install.log" >&2; die "uv pip install duckdb==$OLD"; }
new_version=$("$ours" -c 'import duckdb; print(duckdb.__version__)')
old_version=$("$work/old/bin/python" -c 'import duckdb; print(duckdb.__version__)')
format=$("$ours" - "$db" <<'PY'
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.execute("select tags['storage_version'] from duckdb_databases() where database_name = current_database()").fetchone()[0])
PY
)
say "warehouse written by DuckDB $new_version in storage format $format; reader DuckDB $old_version"

# ---------------------------------------------------------------- 2. the same answers
t=$SECONDS
dump=scripts/duckdb_compat_dump.py
"$ours" "$dump" "$db" >"$work/new.txt" 2>"$work/new.err" \
  || { cat "$work/new.err" >&2; die "DuckDB $new_version cannot dump its own warehouse"; }
"$work/old/bin/python" "$dump" "$db" >"$work/old.txt" 2>"$work/old.err" \
  || { cat "$work/old.err" >&2; die "DuckDB $old_version cannot read the warehouse (see above)"; }
if ! diff -u "$work/new.txt" "$work/old.txt" >"$work/diff.txt"; then
  cut -c1-300 "$work/diff.txt" >&2
  die "DuckDB $old_version answers differently from DuckDB $new_version (- ours, + old)"
fi
relations=$(grep -c -E '^(table|view) ' "$work/new.txt")
macros=$(grep -c -E '^(macro|table_macro) ' "$work/new.txt")
empty=$(awk -F'\t' '/^(table|view|call) / && $3 == 0 {print $1}' "$work/new.txt" | sed 's/^[a-z_]* //' | tr '\n' ' ')
say "$relations tables and views, $macros macros and their calls: the same in DuckDB $old_version and $new_version ($((SECONDS - t)) s; empty: ${empty:-none})"

# ---------------------------------------------------------------- 3. the old DuckDB as a writer
t=$SECONDS
cp "$db" "$work/copy.duckdb"
"$work/old/bin/python" - "$work/copy.duckdb" <<'PY' || die "DuckDB $old_version cannot open the warehouse read-write"
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("checkpoint")
con.close()
PY
"$ours" "$dump" "$work/copy.duckdb" >"$work/copy.txt" 2>/dev/null || die "DuckDB $new_version cannot read the copy DuckDB $old_version wrote"
diff -q "$work/new.txt" "$work/copy.txt" >/dev/null || die "the copy DuckDB $old_version checkpointed answers differently"
after=$("$ours" - "$work/copy.duckdb" <<'PY'
import sys
from keyaudit.warehouse.db import connect, storage_version
con = connect(sys.argv[1])  # a writer: migrations and views applied again
print(storage_version(con))
PY
) || die "keyaudit cannot reopen the warehouse DuckDB $old_version wrote"
[[ $after == "$format" ]] || die "keyaudit changed the storage format of an existing warehouse: $format -> $after"
"$work/old/bin/python" "$dump" "$work/copy.duckdb" >/dev/null 2>&1 \
  || die "after keyaudit reopened it, DuckDB $old_version cannot read the warehouse"
say "DuckDB $old_version opened it read-write; keyaudit reopened it as a writer, still $after ($((SECONDS - t)) s)"
say "passed in $((SECONDS - start)) s"
