"""Facts every stage uses are written once, where DESIGN.md puts them, and read from there: the
root user's name, the account-id pattern, the severities and the headline ones, the demo's
thresholds. Each test below fails when a second definition creeps
back into the code (Python string literals other than docstrings, SQL outside its comments,
templates), and names the file."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

from keyaudit.model import (
    ACCOUNT_ID_PATTERN,
    HEADLINE_SEVERITIES,
    ROOT_USER,
    SEVERITIES,
    is_account_id,
)

ROOT = Path(__file__).resolve().parents[1]
CODE_FOLDERS = ("keyaudit", "flows", "bench", "scripts")


@cache
def python_trees() -> dict[str, ast.Module]:
    """Every Python file of the code, parsed, by file relative to the checkout."""
    return {
        str(path.relative_to(ROOT)): ast.parse(path.read_text(encoding="utf-8"))
        for folder in CODE_FOLDERS
        for path in sorted((ROOT / folder).rglob("*.py"))
    }


@cache
def python_strings() -> dict[str, tuple[str, ...]]:
    """Every string literal of the code, by file, docstrings left out (they explain; they define
    nothing). f-strings give their literal parts."""
    found: dict[str, tuple[str, ...]] = {}
    for name, tree in python_trees().items():
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        found[name] = tuple(
            node.value if isinstance(node.value, str) else node.value.decode("latin-1")
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, (str, bytes))
            and id(node) not in docstrings
        )
    return found


@cache
def sql_code() -> dict[str, str]:
    """Every SQL file without its `--` comments, by file relative to the checkout."""
    return {
        str(path.relative_to(ROOT)): re.sub(r"--[^\n]*", "", path.read_text(encoding="utf-8"))
        for path in sorted((ROOT / "sql").rglob("*.sql"))
    }


@cache
def templates() -> dict[str, str]:
    return {
        str(path.relative_to(ROOT)): path.read_text(encoding="utf-8")
        for path in sorted((ROOT / "reports" / "templates").rglob("*"))
        if path.is_file()
    }


def python_files_with(text: str) -> set[str]:
    return {name for name, strings in python_strings().items() if any(text in s for s in strings)}


def sql_files_with(text: str) -> set[str]:
    return {name for name, code in sql_code().items() if text in code}


def test_the_scan_sees_the_code():
    assert len(python_strings()) > 100 and len(sql_code()) > 50 and templates()
    assert "keyaudit/model.py" in python_files_with(ROOT_USER)  # the home is found, so others are


def test_the_root_users_name_is_written_once_in_python_and_once_in_sql():
    assert python_files_with(ROOT_USER) == {"keyaudit/model.py"}
    assert sql_files_with(ROOT_USER) == {"sql/staging/_macros.sql"}
    assert [name for name, text in templates().items() if ROOT_USER in text] == []


def test_sql_reads_the_root_users_name_python_defines(warehouse):
    assert warehouse.execute("select ka_root_user()").fetchone() == (ROOT_USER,)


def test_the_account_id_pattern_is_written_once():
    # any repetition count of 12 ({12}, {12,17}) is the account id's length spelt again
    assert python_files_with("{12}") | python_files_with("{12,") == {"keyaudit/model.py"}
    assert sql_files_with("{12}") == set()


def test_the_account_id_pattern_is_the_account_id_check():
    assert re.fullmatch(ACCOUNT_ID_PATTERN, "012345678901")
    for value in ("012345678901", "12345678901", "1234567890123", "１２３４５６７８９０１２"):
        assert is_account_id(value) == (re.fullmatch(ACCOUNT_ID_PATTERN, value) is not None)


def test_the_demos_thresholds_are_the_catalogues_defaults():
    from keyaudit.rules.catalogue import load_catalogue
    from keyaudit.sources.demo import personas

    defaults = {rule.rule_id: rule.parameters for rule in load_catalogue()}
    demo = {
        ("ACCESS_KEY_NOT_ROTATED", "max_key_age_days"): personas.MAX_KEY_AGE_DAYS,
        ("ACCESS_KEY_NEVER_USED", "grace_days"): personas.NEVER_USED_GRACE_DAYS,
        ("SIGNING_CERTIFICATE_NOT_ROTATED", "max_certificate_age_days"): (
            personas.MAX_CERTIFICATE_AGE_DAYS
        ),
    }
    assert demo == {(rule, name): defaults[rule][name] for rule, name in demo}


def test_the_demo_states_no_threshold_of_its_own():
    """A whole number of days bound to a name in the demo is a rule threshold restated: read it
    with keyaudit.rules.catalogue.default_parameter instead."""
    restated = []
    for path in sorted((ROOT / "keyaudit" / "sources" / "demo").rglob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Constant)
                and type(node.value.value) is int
                and any(isinstance(t, ast.Name) and t.id.endswith("_DAYS") for t in node.targets)
            ):
                restated.append(f"{path.name}:{node.lineno}")
    assert restated == []


def test_the_severities_and_their_headline_are_listed_once_in_python():
    sliced, bound, listed = set(), set(), set()
    for name, tree in python_trees().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
                if node.value.id == "SEVERITIES":  # a sub-list without a name
                    sliced.add(name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(isinstance(t, ast.Name) and "SEVERITIES" in t.id for t in targets):
                    bound.add(name)
            elif isinstance(node, (ast.Tuple, ast.List, ast.Set)):
                words = {e.value for e in node.elts if isinstance(e, ast.Constant)}
                if len(words & set(SEVERITIES)) >= 2:
                    listed.add(name)
    assert sliced <= {"keyaudit/model.py"}
    assert bound == {"keyaudit/model.py"}
    assert listed == {"keyaudit/model.py"}


def test_sql_lists_the_severities_once_and_as_python_does(warehouse):
    lists = {name for name, code in sql_code().items() if re.search(r"[\[(]\s*'critical'", code)}
    assert lists == {"sql/staging/_macros.sql"}
    assert warehouse.execute("select ka_severities(), ka_headline_severities()").fetchone() == (
        list(SEVERITIES),
        list(HEADLINE_SEVERITIES),
    )
    ranks = warehouse.execute(
        "select list(ka_severity_rank(s) order by s) from unnest(?) as t(s)", [list(SEVERITIES)]
    ).fetchone()
    assert ranks == ([SEVERITIES.index(s) + 1 for s in sorted(SEVERITIES)],)


def test_assessed_counts_partial_accounts_and_fully_assessed_does_not():
    from keyaudit.warehouse.load import RunSummary

    summary = RunSummary("r", "2026-12-01T06:00:00+00:00", 4, 2, 1, 1, 0)
    assert (summary.accounts_fully_assessed, summary.accounts_partial) == (2, 1)
    assert summary.accounts_assessed == 3 and summary.coverage == 0.75
