"""The report's SQL lives in sql/report/, one query per file, read by name: no SQL in the Python
of the report or of delivery (which reads the same files), every file used, every name used has
its file, and missing files are named."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import keyaudit.delivery
import keyaudit.report
from keyaudit.report import queries
from keyaudit.report.queries import ReportQueryError

READERS = (Path(keyaudit.report.__file__).parent, Path(keyaudit.delivery.__file__).parent)
QUERY_FILES = sorted(p.stem for p in queries.QUERIES_DIR.glob("*.sql"))
SQL = re.compile(
    r"\bselect\b.+\bfrom\b|\bwith \w+ as \(|\binsert into\b|\bdelete from\b|\bupdate \w+ set\b"
    r"|\bcreate (or replace )?(temp )?(table|view|macro)\b|\bdrop (table|view)\b"
    r"|^\s*(set|reset) \w+|\b(group by|left join)\b",
    re.IGNORECASE | re.DOTALL,
)


def string_constants() -> list[tuple[str, str]]:
    """(module, text) of every string literal in the readers' Python, docstrings included."""
    found = []
    for path in sorted(p for package in READERS for p in package.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.append((path.name, node.value))
    return found


def named_queries() -> list[tuple[str, str]]:
    """(module, name) of every query run by a literal name: rows(con, "name"), execute(...)."""
    found = []
    for path in sorted(p for package in READERS for p in package.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", None))
                in ("rows", "execute", "sql")
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
            ):
                found.append((path.name, node.args[1].value))
    return found


def test_the_report_python_holds_no_sql():
    sql = [(module, text) for module, text in string_constants() if SQL.search(text)]
    assert sql == []


def test_every_query_file_is_used_by_the_report():
    literals = {text for _, text in string_constants()}
    assert [name for name in QUERY_FILES if name not in literals] == []


def test_every_query_the_report_runs_by_name_has_its_file():
    used = named_queries()
    assert len(used) > 15
    assert [(module, name) for module, name in used if name not in QUERY_FILES] == []


# a string literal ('' inside it is a quote) or a comment to the end of its line, in file order
_SQL_TOKEN = re.compile(r"'(?:[^']|'')*'|--[^\n]*")


@pytest.mark.parametrize("name", QUERY_FILES)
def test_query_files_bind_values_and_read_no_raw_key_tables(name):
    text = queries.sql(name)
    literals = [t[1:-1] for t in _SQL_TOKEN.findall(text) if t.startswith("'")]
    outside = _SQL_TOKEN.sub(lambda t: "''" if t[0].startswith("'") else " ", text)
    # a brace is SQL only inside a string (a JSON text, a regular expression's \x{85})
    assert "{" not in outside, "a placeholder for string formatting"
    assert [s for s in literals if re.search(r"\{[A-Za-z_]\w*\}|\{\}", s)] == [], (
        "a placeholder for string formatting in a string"
    )
    # key facts come from the keys and users marts, never from staging or the raw tables
    assert not re.search(r"\b(stg_\w+|access_keys|credential_report)\b", text)


def test_a_missing_query_file_is_named(monkeypatch, tmp_path):
    monkeypatch.setattr(queries, "QUERIES_DIR", tmp_path)
    queries.sql.cache_clear()
    try:
        with pytest.raises(ReportQueryError, match=r"no_such_query\.sql: cannot read the report"):
            queries.sql("no_such_query")
    finally:
        queries.sql.cache_clear()
