"""A framework view's figures add up like with like, and an auditor can re-perform each one: the
PCI DSS and SOC 2 views of the demo run, rendered, against the queries docs/report.md shows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from keyaudit.paths import SQL_DIR
from keyaudit.report import build_report_context, render_html
from keyaudit.rules.catalogue import load_catalogue
from tests.runs import DemoRun

DOCS = SQL_DIR.parent / "docs" / "report.md"
DOCS_RUN_ID = "20261201T060000Z-3f9a1c"
# a population's words in the view -> the column of the docs' queries that counts it
COLUMNS = {
    "active IAM-user access keys": "active_keys",
    "active IAM-user access keys of users whose effective privilege is known": (
        "active_keys_privilege_known"
    ),
    "active IAM-user access keys of users in the permissions listing": "active_keys_listed",
    "IAM users": "iam_users",
    "IAM users with a console password": "console_users",
    "root users of assessed accounts": "root_users",
}
KINDS = {
    "active_keys": "key",
    "active_keys_privilege_known": "key",
    "active_keys_listed": "key",
    "iam_users": "user",
    "console_users": "user",
    "root_users": "root user",
}
LINE = re.compile(r"^([\d,]+) (.+?) evaluated: ([\d,]+) fail(?:, ([\d,]+) waived)?$")
ACCOUNTS = re.compile(r"^([\d,]+) of ([\d,]+) accounts? evaluated$")


def docs_queries() -> list[str]:
    """The SQL blocks of docs/report.md's section on a requirement's figures."""
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index("### A requirement's figures, per kind") :]
    section = section[: section.index("\n## ")]
    blocks = re.findall(r"```sql\n(.*?)```", section, re.S)
    assert len(blocks) == 2, "docs/report.md: the populations block and the failing block"
    return blocks


@pytest.fixture(scope="module")
def demo(demo_run: DemoRun) -> Iterator[tuple[duckdb.DuckDBPyConnection, str]]:
    con = duckdb.connect(str(demo_run.warehouse), read_only=True)
    yield con, demo_run.run_id
    con.close()


@pytest.fixture(scope="module")
def expected(demo: tuple[duckdb.DuckDBPyConnection, str]) -> dict[str, int]:
    """Each population of the demo run, by the docs' queries."""
    con, run_id = demo
    populations, _failing = docs_queries()
    answers: dict[str, int] = {}
    for statement in populations.split(";"):
        if statement.strip():
            cursor = con.execute(statement.replace(DOCS_RUN_ID, run_id))
            names = [d[0] for d in cursor.description]
            answers.update(zip(names, cursor.fetchone(), strict=True))
    return answers


def failing_by_query(
    con: duckdb.DuckDBPyConnection, run_id: str, framework: str, control_id: str
) -> dict[str, tuple[int, int]]:
    sql = docs_queries()[1].replace(DOCS_RUN_ID, run_id)
    sql = sql.replace("'SOC 2'", "$framework").replace("'CC6.1'", "$control_id")
    rows = con.execute(sql, {"framework": framework, "control_id": control_id}).fetchall()
    return {kind: (failing, waived) for kind, failing, waived in rows}


def evidence(html: str) -> dict[str, list[str]]:
    """Requirement id -> the lines of its Evidence cell."""
    out = {}
    for row in re.findall(r'<tr class="control-[^"]*" id="requirement-[^"]*">.*?</tr>', html, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        requirement = re.search(r'class="requirement-id">([^<]+)<', cells[0]).group(1)
        lines = re.findall(r'<span class="population-line">(.*?)</span>', cells[3], re.S)
        out[requirement] = [re.sub(r"\s+", " ", line).strip() for line in lines]
    return out


def number(text: str | None) -> int:
    return int((text or "0").replace(",", ""))


@pytest.mark.parametrize("framework", ["PCI DSS v4.0.1", "SOC 2"])
def test_every_figure_of_the_view_is_what_the_docs_queries_answer(
    demo: tuple[duckdb.DuckDBPyConnection, str], expected: dict[str, int], framework: str
):
    con, run_id = demo
    html = render_html(
        build_report_context(con, run_id, rules=load_catalogue(), framework=framework)
    )
    found = evidence(html)
    assert found, "the view lists requirements"
    for requirement, lines in found.items():
        *populations, accounts = lines
        assert ACCOUNTS.match(accounts).groups() == (
            str(expected["accounts_evaluated"]),
            str(expected["accounts_in_scope"]),
        ), requirement
        kinds: dict[str, tuple[int, int]] = {}
        for line in populations:
            match = LINE.match(line)
            assert match, (requirement, line)
            evaluated, words, failing, waived = match.groups()
            column = COLUMNS[words]
            assert number(evaluated) == expected[column], (requirement, line)
            assert KINDS[column] not in kinds, (requirement, "one line per kind")
            kinds[KINDS[column]] = (number(failing), number(waived))
        assert kinds == failing_by_query(con, run_id, framework, requirement), requirement


def test_soc2_cc61_lists_keys_users_and_root_users_apart_never_their_sum(
    demo: tuple[duckdb.DuckDBPyConnection, str], expected: dict[str, int]
):
    con, run_id = demo
    html = render_html(build_report_context(con, run_id, rules=load_catalogue(), framework="SOC 2"))
    lines = evidence(html)["CC6.1"]
    assert [line.split(" evaluated")[0] for line in lines[:3]] == [
        f"{expected['active_keys']} active IAM-user access keys",
        f"{expected['iam_users']} IAM users",
        f"{expected['root_users']} root users of assessed accounts",
    ]
    total = expected["active_keys"] + expected["iam_users"] + expected["root_users"]
    assert str(total) not in html[html.index('id="requirement-CC6-1"') :].split("</tr>")[0]


def test_pci_822_counts_the_root_users_once_though_two_rules_judge_them(
    demo: tuple[duckdb.DuckDBPyConnection, str], expected: dict[str, int]
):
    con, run_id = demo
    context = build_report_context(con, run_id, rules=load_catalogue(), framework="PCI DSS v4.0.1")
    (requirement,) = [
        r for r in context.compliance.framework_view["requirements"] if r["control_id"] == "8.2.2"
    ]
    assert len(requirement["rules"]) == 2
    assert [(p["kind"], p["evaluated"]) for p in requirement["populations"]] == [
        ("root user", expected["root_users"])
    ]


@pytest.mark.slow  # a whole run again: make test-slow
def test_a_requirement_is_titled_by_number_and_title_and_its_basis_has_a_column_of_its_own(
    demo: tuple[duckdb.DuckDBPyConnection, str],
):
    con, run_id = demo
    html = render_html(
        build_report_context(con, run_id, rules=load_catalogue(), framework="PCI DSS v4.0.1")
    )
    row = re.search(r'<tr[^>]*id="requirement-8-3-9".*?</tr>', html, re.S).group(0)
    cells = [re.sub(r"<[^>]+>", " ", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    words = [re.sub(r"\s+", " ", c).strip() for c in cells]
    assert words[0] == "8.3.9 Single-factor secrets changed at least every 90 days"
    assert words[1] == "Prowler 8.3.9.1 lists iam_rotate_access_key_90_days"
    assert "Prowler" not in words[0]
    assert "<th>Basis of the mapping</th>" in html


def test_the_docs_queries_are_the_ones_tested():
    assert Path(__file__).name in DOCS.read_text(encoding="utf-8")
