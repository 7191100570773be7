"""Completeness and accuracy: every reconciliation line holds on a demo run (real moto, real
DuckDB, the in-process pipeline) and does not hold once the evidence or the warehouse is
altered; a line that does not hold is a data note on its account, a line in the report's
section and a row of the saved queries.

The session's demo run is copied once; each test alters the copy inside a transaction that is
rolled back, and calls the function loading calls (record_differences) to turn the differences
into notes. One test edits the evidence and loads the run again, as loading would."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

import keyaudit.warehouse.db
from keyaudit.cli import app
from keyaudit.evidence.store import EvidenceStore
from keyaudit.report.context import build_report_context
from keyaudit.report.reconciliation import completeness
from keyaudit.report.render import render_html
from keyaudit.rules.catalogue import load_catalogue
from keyaudit.rules.waivers import Waiver, WaiverFile
from keyaudit.warehouse.db import connect
from keyaudit.warehouse.load import load_run
from keyaudit.warehouse.reconciliation import record_differences
from tests.runs import AS_OF, DemoRun, copy_run

CHECKS = {
    "accounts_listed",
    "accounts_in_scope",
    "users_listed",
    "access_keys_listed",
    "findings_of_rule",
    "requirement_population",
}


@pytest.fixture(scope="module")
def loaded(demo_run: DemoRun, tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """A private copy of the demo run: evidence, warehouse and report."""
    return copy_run(demo_run, tmp_path_factory.mktemp("reconciled"))


@pytest.fixture(scope="module")
def shared(loaded: DemoRun) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(loaded.warehouse)
    yield con
    con.close()


@pytest.fixture
def con(shared: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """The run's warehouse; whatever a test alters is rolled back after it."""
    shared.execute("begin")
    try:
        yield shared
    finally:
        shared.execute("rollback")


def lines(con: duckdb.DuckDBPyConnection, run_id: str) -> list[dict[str, Any]]:
    """Every line of the run, read once (the view is re-performed whenever it is read)."""
    cursor = con.execute("select * from reconciliation where run_id = ?", [run_id])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def pick(found: list[dict[str, Any]], **where: Any) -> list[dict[str, Any]]:
    return [x for x in found if all(x[k] == v for k, v in where.items())]


def one(found: list[dict[str, Any]], **where: Any) -> dict[str, Any]:
    (chosen,) = pick(found, **where)
    return chosen


def notes(con: duckdb.DuckDBPyConnection, run_id: str) -> list[tuple[str | None, str]]:
    record_differences(con, run_id)
    return con.execute(
        "select account_id, message from run_notes where run_id = ? and kind = 'reconciliation' "
        "order by all",
        [run_id],
    ).fetchall()


def first_assessed(con: duckdb.DuckDBPyConnection, run_id: str) -> str:
    row = con.execute(
        "select min(account_id) from accounts where run_id = ? and status = 'assessed'", [run_id]
    ).fetchone()
    assert row and row[0]
    return str(row[0])


# --------------------------------------------------------------------------- a run that holds


def test_every_line_of_a_clean_run_holds_and_none_becomes_a_note(con, loaded):
    found = lines(con, loaded.run_id)
    assert {x["check_id"] for x in found} == CHECKS
    assert {x["result"] for x in found} == {"holds", "not assessed"}
    assert all(x["difference"] == 0 for x in found if x["result"] == "holds")
    assert notes(con, loaded.run_id) == []


def kept(con: duckdb.DuckDBPyConnection, run_id: str) -> list[dict[str, Any]]:
    """The lines loading kept in reconciliation_lines, which the report and the notes read."""
    cursor = con.execute("select * from reconciliation_lines where run_id = ?", [run_id])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _sorted(found: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted((tuple(x.values()) for x in found), key=repr)


def test_the_lines_kept_at_load_are_the_views_lines_column_for_column(con, loaded):
    """One definition: the table is the view's result for the run, never a second opinion."""
    found = lines(con, loaded.run_id)
    assert found, "the demo run has reconciliation lines"
    assert [list(x) for x in kept(con, loaded.run_id)[:1]] == [list(found[0])]  # same columns
    assert _sorted(kept(con, loaded.run_id)) == _sorted(found)


def test_recording_the_differences_keeps_the_lines_the_view_gives_now(con, loaded):
    """What the tests below alter reaches the report only through record_differences, as
    loading calls it: the kept lines follow the view, and another run's are left alone."""
    con.execute("delete from listed_users where run_id = ?", [loaded.run_id])
    assert _sorted(kept(con, loaded.run_id)) != _sorted(lines(con, loaded.run_id))
    con.execute(
        "insert into reconciliation_lines by name select * replace ('other-run' as run_id) "
        "from reconciliation_lines where run_id = ?",
        [loaded.run_id],
    )
    others = con.execute(
        "select count(*) from reconciliation_lines where run_id = 'other-run'"
    ).fetchone()
    record_differences(con, loaded.run_id)
    assert _sorted(kept(con, loaded.run_id)) == _sorted(lines(con, loaded.run_id))
    assert {x["result"] for x in pick(kept(con, loaded.run_id), check_id="users_listed")} == {
        "does not hold",
        "not assessed",
    }
    assert (
        con.execute(
            "select count(*) from reconciliation_lines where run_id = 'other-run'"
        ).fetchone()
        == others
    )


def test_a_writer_whose_view_sql_changed_keeps_every_runs_lines_again(
    demo_run, tmp_path, monkeypatch
):
    """New view SQL (an upgrade, an edited file) makes the next writer remake the views and
    keep every run's lines as the new view gives them: the table never lags the view."""
    loaded = copy_run(demo_run, tmp_path / "copy")
    con = connect(loaded.warehouse)
    con.execute(
        "update reconciliation_lines set detail = 'stale' where run_id = ?", [loaded.run_id]
    )
    con.close()
    monkeypatch.setattr(keyaudit.warehouse.db, "sql_sha256", lambda folders: "changed")
    con = connect(loaded.warehouse)
    try:
        assert _sorted(kept(con, loaded.run_id)) == _sorted(lines(con, loaded.run_id))
    finally:
        con.close()


def test_the_organization_listing_adds_up_to_in_scope_skipped_and_filtered_out(con, loaded):
    found = lines(con, loaded.run_id)
    listed = one(found, check_id="accounts_listed")
    assert (listed["expected"], listed["found"], listed["result"]) == (10, 10, "holds")
    assert listed["detail"] == "9 in scope + 1 skipped + 0 filtered out"
    in_scope = one(found, check_id="accounts_in_scope")
    assert (in_scope["expected"], in_scope["found"], in_scope["result"]) == (9, 9, "holds")
    assert in_scope["detail"] == "8 assessed + 0 partial + 1 not assessed"


def test_an_account_not_assessed_has_nothing_to_reconcile_and_never_holds(con, loaded):
    (account_id,) = con.execute(
        "select account_id from accounts where run_id = ? and status = 'not_assessed'",
        [loaded.run_id],
    ).fetchone()
    mine = pick(lines(con, loaded.run_id), account_id=account_id)
    assert {x["check_id"] for x in mine} == {
        "users_listed",
        "access_keys_listed",
        "findings_of_rule",
    }
    assert {x["result"] for x in mine} == {"not assessed"}
    assert {(x["expected"], x["found"], x["difference"]) for x in mine} == {(None, None, None)}


def test_each_line_names_the_saved_query_that_lists_its_items(con, loaded):
    account_id = first_assessed(con, loaded.run_id)
    found = lines(con, loaded.run_id)
    keys = one(found, check_id="access_keys_listed", account_id=account_id)
    assert keys["query"] == (
        f"keyaudit query --file reconcile_keys --param run_id={loaded.run_id} "
        f"--param account_id={account_id}"
    )
    queries = {x["query_name"] for x in found}
    names = {p.stem for p in (Path(__file__).parents[2] / "sql" / "queries").glob("reconcile*.sql")}
    assert queries <= names


def test_each_rule_run_again_as_docs_say_gives_its_findings(con, loaded):
    """docs/for-auditors.md: a rule's SQL, run with $run_id, the run's as_of and the parameters
    recorded in run_rules, returns as many rows as the run has findings of that rule."""
    (as_of,) = con.execute("select as_of from runs where run_id = ?", [loaded.run_id]).fetchone()
    recorded = dict(
        con.execute(
            "select rule_id, parameters from run_rules where run_id = ? and enabled",
            [loaded.run_id],
        ).fetchall()
    )
    assert recorded
    for rule in load_catalogue():
        if rule.rule_id not in recorded:
            continue
        given = {"run_id": loaded.run_id, "as_of": as_of, **json.loads(recorded[rule.rule_id])}
        bound = {name: value for name, value in given.items() if f"${name}" in rule.sql}
        sql = rule.sql.rstrip().rstrip(";")
        (rows,) = con.execute(f"select count(*) from ({sql})", bound).fetchone()
        (findings,) = con.execute(
            "select count(*) from findings where run_id = ? and rule_id = ?",
            [loaded.run_id, rule.rule_id],
        ).fetchone()
        assert rows == findings, rule.rule_id


# --------------------------------------------------------------------------- lines that do not hold


def test_an_account_missing_from_the_warehouse_breaks_both_account_lines(con, loaded):
    account_id = first_assessed(con, loaded.run_id)
    con.execute(
        "delete from accounts where run_id = ? and account_id = ?", [loaded.run_id, account_id]
    )
    found = lines(con, loaded.run_id)
    listed = one(found, check_id="accounts_listed")
    assert (listed["expected"], listed["found"], listed["difference"]) == (10, 9, -1)
    assert listed["result"] == "does not hold"
    in_scope = one(found, check_id="accounts_in_scope")
    assert (in_scope["expected"], in_scope["found"], in_scope["result"]) == (9, 8, "does not hold")
    run_notes = [message for account, message in notes(con, loaded.run_id) if account is None]
    assert any(
        "accounts in scope = assessed + partial + not assessed does not hold: expected 9, found 8"
        in message
        for message in run_notes
    )
    assert any("(ListAccounts) answered" in message for message in run_notes)


def test_an_account_the_listing_had_but_the_run_does_not_account_for(con, loaded):
    con.execute(
        "update runs set accounts_listed = accounts_listed + 1 where run_id = ?", [loaded.run_id]
    )
    found = lines(con, loaded.run_id)
    listed = one(found, check_id="accounts_listed")
    assert (listed["expected"], listed["found"], listed["result"]) == (11, 10, "does not hold")
    assert one(found, check_id="accounts_in_scope")["result"] == "holds"


@pytest.mark.slow  # a whole run again: make test-slow
def test_without_an_organization_listing_the_listing_line_is_not_performed(con, loaded):
    con.execute("update runs set accounts_listed = null where run_id = ?", [loaded.run_id])
    listed = one(lines(con, loaded.run_id), check_id="accounts_listed")
    assert listed["result"] == "not performed"
    assert listed["detail"] == "scope organization: no organization listing to reconcile with"
    assert notes(con, loaded.run_id) == []


@pytest.mark.slow  # a whole run again: make test-slow
def test_a_user_missing_from_the_listing_is_named_on_its_account(con, loaded):
    account_id = first_assessed(con, loaded.run_id)
    (user,) = con.execute(
        "select min(user_name) from listed_users where run_id = ? and account_id = ?",
        [loaded.run_id, account_id],
    ).fetchone()
    holding = one(lines(con, loaded.run_id), check_id="users_listed", account_id=account_id)
    assert holding["result"] == "holds" and holding["expected"] == holding["found"] > 0
    con.execute(
        "delete from listed_users where run_id = ? and account_id = ? and user_name = ?",
        [loaded.run_id, account_id, user],
    )
    users = one(lines(con, loaded.run_id), check_id="users_listed", account_id=account_id)
    assert (users["expected"] - users["found"], users["difference"]) == (1, 1)
    assert users["result"] == "does not hold"
    assert users["detail"] == f"in the credential report, not listed: {user}"
    ((noted_account, message),) = notes(con, loaded.run_id)
    assert noted_account == account_id
    assert message.startswith(f"account {account_id}: IAM users in the credential report = ")
    assert f"not listed: {user}" in message


def test_a_user_listed_but_absent_from_the_report_does_not_hold_either(con, loaded):
    account_id = first_assessed(con, loaded.run_id)
    con.execute(
        "insert into listed_users (run_id, account_id, user_name) values (?, ?, 'late-user')",
        [loaded.run_id, account_id],
    )
    users = one(lines(con, loaded.run_id), check_id="users_listed", account_id=account_id)
    assert (users["found"] - users["expected"], users["difference"]) == (1, 1)
    assert users["detail"] == "listed, not in the credential report (created after it?): late-user"


def test_without_the_user_listing_the_users_line_is_not_performed(con, loaded):
    account_id = first_assessed(con, loaded.run_id)
    con.execute(
        "delete from evidence where run_id = ? and account_id = ? and kind = 'list_users'",
        [loaded.run_id, account_id],
    )
    users = one(lines(con, loaded.run_id), check_id="users_listed", account_id=account_id)
    assert (users["result"], users["expected"]) == ("not performed", None)


@pytest.mark.slow  # a whole run again: make test-slow
def test_a_finding_outside_its_rules_population_breaks_its_rule_and_requirement_lines(con, loaded):
    account_id = first_assessed(con, loaded.run_id)
    con.execute(
        "insert into findings (run_id, finding_id, rule_id, severity, account_id, user_name, "
        "access_key_id, reason) values (?, 'forged', 'ACCESS_KEY_NOT_ROTATED', 'high', ?, "
        "'nobody', 'AKIAFORGEDFORGED0000', 'planted')",
        [loaded.run_id, account_id],
    )
    found = lines(con, loaded.run_id)
    rule = one(
        found,
        check_id="findings_of_rule",
        account_id=account_id,
        requirement="ACCESS_KEY_NOT_ROTATED",
    )
    assert rule["expected"] - rule["found"] == 1 and rule["difference"] == -1
    assert rule["result"] == "does not hold"
    assert rule["detail"] == "outside the active IAM-user access keys: AKIAFORGEDFORGED0000"
    requirement = one(
        found,
        check_id="requirement_population",
        framework="CIS v1.4–v4.0",
        requirement="1.14",
    )
    assert (requirement["difference"], requirement["result"]) == (1, "does not hold")
    held = [x for x in pick(found, check_id="requirement_population") if x["result"] == "holds"]
    assert held, "requirements without ACCESS_KEY_NOT_ROTATED still hold"
    noted = notes(con, loaded.run_id)
    assert (account_id, rule["subject"]) in {(a, m.split(": ")[0]) for a, m in noted}
    assert any(a is None and m.startswith("CIS v1.4–v4.0 1.14 (keys): ") for a, m in noted)


@pytest.mark.slow  # a whole run again: make test-slow
def test_a_key_missing_from_the_api_listing_is_a_difference_after_loading(demo_run, tmp_path):
    """The evidence says ListAccessKeys did not list one key the credential report shows:
    loading the run makes the line fail and notes it on the account."""
    loaded = copy_run(demo_run, tmp_path / "copy")
    folder = loaded.warehouse.parent
    run_dir = loaded.evidence_run_dir
    path = next(p for p in sorted(run_dir.glob("*/access_keys.json")) if json.loads(p.read_text()))
    account_id = path.parent.name
    keys = json.loads(path.read_text())
    dropped = keys.pop(0)
    path.write_text(json.dumps(keys))
    con = connect(folder / "keyaudit.duckdb")
    try:
        load_run(
            con,
            EvidenceStore(folder / "evidence", loaded.run_id),
            rules=load_catalogue(),
            finished_at=AS_OF,
            manifest_sha256=None,
        )
        found = one(lines(con, loaded.run_id), check_id="access_keys_listed", account_id=account_id)
        assert found["expected"] - found["found"] == 1
        assert (found["difference"], found["result"]) == (1, "does not hold")
        assert found["detail"].startswith("in the credential report, no key id listed: ")
        assert f"{dropped['UserName']} slot " in found["detail"]
        messages = con.execute(
            "select message from run_notes where run_id = ? and account_id = ? "
            "and kind = 'reconciliation'",
            [loaded.run_id, account_id],
        ).fetchall()
        assert any(
            m.startswith(f"account {account_id}: access keys of IAM users") for (m,) in messages
        )
    finally:
        con.close()


@pytest.mark.slow  # a whole run again: make test-slow
def test_a_waiver_given_when_the_run_is_loaded_again_changes_the_reports_lines(demo_run, tmp_path):
    """Waivers reach the warehouse only by loading (a run loaded again with the waiver file
    given): the requirement lines the report reads count the newly waived findings."""
    loaded = copy_run(demo_run, tmp_path / "copy")
    folder = loaded.warehouse.parent
    con = connect(folder / "keyaudit.duckdb")
    try:
        rule_id, account_id = con.execute(
            "select rule_id, account_id from findings where run_id = ? and not waived "
            "and account_id is not null order by all limit 1",
            [loaded.run_id],
        ).fetchone()
        before = completeness(con, loaded.run_id, None)["lines"]
        waiver = Waiver(
            waiver_id="W-TEST",
            rule_id=rule_id,
            account_id=account_id,
            reason="accepted for the test",
            approved_by="tester@example.com",
            ticket="SEC-1",
            expires_on=AS_OF.date().replace(year=AS_OF.year + 1),
            user_name="*",
        )
        load_run(
            con,
            EvidenceStore(folder / "evidence", loaded.run_id),
            rules=load_catalogue(),
            finished_at=AS_OF,
            manifest_sha256=None,
            waivers=WaiverFile("waivers.yml", b"for the test", (waiver,)),
        )
        after = completeness(con, loaded.run_id, None)["lines"]
        assert _sorted(after) != _sorted(before)
        changed = {x["subject"] for x in after} - {x["subject"] for x in before} or {
            x["subject"] for x, y in zip(after, before, strict=True) if x["detail"] != y["detail"]
        }
        assert changed and all(" (" in subject for subject in changed)  # requirement lines
        view = lines(con, loaded.run_id)
        assert _sorted(kept(con, loaded.run_id)) == _sorted(view)
    finally:
        con.close()


# --------------------------------------------------------------------------- the saved queries


runner = CliRunner()


@pytest.mark.slow  # a whole run again: make test-slow
def test_the_saved_queries_list_the_lines_and_the_items_behind_them(demo_run, tmp_path):
    loaded = copy_run(demo_run, tmp_path / "copy")
    db = loaded.warehouse
    con = connect(db)
    con.execute(
        "delete from listed_users where user_name = (select min(user_name) from listed_users)"
    )
    con.close()

    def query(*args: str) -> list[dict[str, Any]]:
        result = runner.invoke(app, ["query", "--db", str(db), "--format", "json", *args])
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    run = ["--param", f"run_id={loaded.run_id}"]
    differing = query("--file", "reconciliation", *run, "--param", "differences_only=true")
    assert [x["check_id"] for x in differing] == ["users_listed"]
    users = query("--file", "reconcile_users", *run, "--param", "differences_only=true")
    assert [(u["is_in_report"], u["is_listed"]) for u in users] == [(True, False)]
    assert query("--file", "reconcile_keys", *run, "--param", "differences_only=true") == []
    assert query("--file", "reconcile_findings", *run, "--param", "differences_only=true") == []
    requirements = query("--file", "reconcile_requirements", *run)
    assert requirements and {r["difference"] for r in requirements} == {0}
    accounts = query("--file", "reconcile_accounts", *run)
    assert {
        "counted_from": "runs table",
        "bucket": "in scope, as the run recorded it",
        "accounts": 9,
    } in accounts


# --------------------------------------------------------------------------- the report


def section_ids(html: str) -> list[str]:
    return re.findall(r'<section id="([a-z-]+)"', html)


def test_the_report_shows_completeness_and_accuracy_right_after_scope(demo_run):
    html = (demo_run.report_dir / "report.html").read_text(encoding="utf-8")
    assert section_ids(html)[:2] == ["scope", "completeness"]
    assert 'id="completeness-all-hold"' in html
    for check in CHECKS:
        assert f'id="completeness-{check}"' in html
    assert f"keyaudit query --file reconcile_users --param run_id={demo_run.run_id}" in html


@pytest.mark.slow  # a whole run again: make test-slow
def test_a_line_that_does_not_hold_is_listed_in_the_report_and_its_notes(con, loaded):
    account_id = first_assessed(con, loaded.run_id)
    con.execute(
        "delete from listed_users where run_id = ? and account_id = ? and user_name = "
        "(select min(user_name) from listed_users where run_id = ? and account_id = ?)",
        [loaded.run_id, account_id, loaded.run_id, account_id],
    )
    record_differences(con, loaded.run_id)
    context = build_report_context(con, loaded.run_id, rules=load_catalogue(), with_explorer=False)
    group = next(g for g in context.completeness["groups"] if g["check_id"] == "users_listed")
    assert (group["holds"], group["results"]["does not hold"]) == (False, 1)
    assert [x["account_id"] for x in group["differing"]] == [account_id]
    html = render_html(context)
    table = html.split('id="completeness-lines-users_listed"')[1].split("</table>")[0]
    assert f"account {account_id}" in table
    assert 'id="completeness-differences"' in html
    assert html.count(f"account {account_id}: IAM users in the credential report") == 1  # the note


def test_an_owners_slice_shows_its_accounts_lines_only(con, loaded):
    account_id = first_assessed(con, loaded.run_id)
    section = completeness(con, loaded.run_id, [account_id])
    assert section["run_lines"] == []
    assert {x["account_id"] for x in section["lines"]} == {account_id}
    assert [g["check_id"] for g in section["groups"]] == [
        "users_listed",
        "access_keys_listed",
        "findings_of_rule",
    ]
