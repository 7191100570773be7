"""Print what a warehouse answers, one line per relation, for scripts/check_duckdb_compat.sh.

    python scripts/duckdb_compat_dump.py WAREHOUSE

Runs under any DuckDB the interpreter has (standard library and duckdb only, so an older DuckDB in
a bare venv runs it too) and prints, sorted by name:

    table|view NAME  COLUMN TYPES  ROW COUNT  SHA-256 OF THE SORTED ROWS
    macro NAME       its parameters (the macro was read back from the file)
    call NAME        one call of the macro (CALLS below), answered like a relation

Every value is compared as DuckDB's own text of it (cast to varchar), so two DuckDB versions that
agree on the data print the same line whatever their Python clients make of the types. The file is
opened read-only: the check never changes it.
"""

from __future__ import annotations

import hashlib
import sys

import duckdb

# One call of every persistent macro, answered like a relation: a macro the file holds and this
# list lacks fails the check (add a call here). Table macros with null: "every account".
CALLS = {
    "control_populations_for": "control_populations_for(null)",
    "control_results_for": "control_results_for(null)",
    "rule_population_for": "rule_population_for(null)",
    "ka_timestamp": "(select ka_timestamp(v) as value from (values"
    " ('2026-01-02T03:04:05+00:00'), ('N/A'), ('no_information'), ('not_supported'), ('true')) as t(v))",
    "ka_sentinel": "(select ka_sentinel(v) as value from (values ('N/A'), ('not_supported'), ('x')) as t(v))",
    "ka_text": "(select ka_text(v) as value from (values ('N/A'), ('no_information'), ('x')) as t(v))",
    "ka_subject": "(select ka_subject(r, account_id, user_name, access_key_id, key_slot) as value"
    " from key_identities, (values ('account'), ('user'), ('key')) as t(r))",
    "ka_days": "(select ka_days(as_of, created_at) as value from runs, key_identities)",
    "ka_finding_id": "(select ka_finding_id('RULE', account_id, user_name, access_key_id, key_slot,"
    " created_at, same_second_rank) as value from key_identities)",
    "ka_named": "(select ka_named(v) as value from (values (['a']), (['a', 'b', 'c', 'd', 'e', 'f', 'g']))"
    " as t(v))",
    "ka_kind_plural": "(select ka_kind_plural(v) as value from (values ('key'), ('user'),"
    " ('root user'), ('account')) as t(v))",
    "ka_reconcile_command": "(select ka_reconcile_command('reconcile_keys', 'RUN', v) as value"
    " from (values ('123456789012'), (null)) as t(v))",
    "ka_run_id": "(select ka_run_id(v) as value from (values (null), ('no such run')) as t(v)"
    " union all select ka_run_id(run_id) from runs)",
    "ka_run": "(select * from ka_run(null) union all by name select * from ka_run('no such run'))",
    "ka_in_accounts": "(select account_id, ka_in_accounts(account_id, null) as every_account,"
    " ka_in_accounts(account_id, ['123456789012']) as one, ka_in_accounts(account_id, []) as none"
    " from accounts)",
    "ka_root_user": "(select ka_root_user() as value)",
    "ka_one_account": "(select ka_one_account(v) as value from (values ('123456789012'), (null)) as t(v))",
    "fix_first_for": "(select * from fix_first_for(null, null) union all by name"
    " select * from fix_first_for(null, ka_one_account('123456789012')))",
    "evidence_files_for": "(select * from evidence_files_for(null, ['123456789012']))",
    "input_files_for": "(select * from input_files_for(null, null))",
    "remediation_times_for": "(select * from remediation_times_for(null, null))",
    "ka_severities": "(select ka_severities() as value)",
    "ka_headline_severities": "(select ka_headline_severities() as value)",
    "ka_severity_rank": "(select ka_severity_rank(v) as value from (values ('critical'), ('info'),"
    " ('other')) as t(v))",
    "ka_new_since_previous": "(select ka_new_since_previous(n, p) as value from (values (true, 'r0'),"
    " (true, null), (false, 'r0')) as t(n, p))",
}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def answer(con: duckdb.DuckDBPyConnection, source: str) -> str:
    """Column types, row count and a hash of every row, sorted, as text."""
    columns = con.execute(f"describe select * from {source}").fetchall()
    types = ",".join(f"{name}:{kind}" for name, kind, *_ in columns)
    rows = con.execute(
        f"select columns(*)::varchar from (select * from {source}) order by all"
    ).fetchall()
    digest = hashlib.sha256()
    for row in rows:
        digest.update(repr(row).encode())
        digest.update(b"\n")
    return f"{types}\t{len(rows)}\t{digest.hexdigest()}"


def main(path: str) -> int:
    con = duckdb.connect(path, read_only=True)
    con.execute("set TimeZone = 'UTC'")
    lines = []
    relations = con.execute(
        "select table_name, table_type from information_schema.tables"
        " where table_catalog = current_database() and table_schema = 'main'"
    ).fetchall()
    for name, kind in relations:
        label = "view" if kind == "VIEW" else "table"
        lines.append(f"{label} {name}\t{answer(con, _quote(name))}")
    macros = con.execute(
        "select function_name, function_type, parameters from duckdb_functions()"
        " where database_name = current_database() and not internal"
        " and function_type in ('macro', 'table_macro')"
    ).fetchall()
    for name, kind, parameters in macros:
        lines.append(f"{kind} {name}\t({', '.join(parameters)})")
        if name not in CALLS:
            print(f"macro {name} has no call in CALLS of {__file__}: add one", file=sys.stderr)
            return 1
        lines.append(f"call {name}\t{answer(con, CALLS[name])}")
    con.close()
    print(*sorted(lines), sep="\n")
    print(f"# {len(relations)} relations, {len(macros)} macros", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
