"""The deactivation plan each run writes: which keys, and on which days they are warned and
deactivated (sql/remediation/plan.sql, docs/remediation.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from keyaudit.config import RemediationConfig
from keyaudit.warehouse.remediation_plan import build_plan
from tests.lifecycle.lifecycle_given import A, History, finding
from tests.remediation.plan_given import KEY, OTHER, given_keys

DEC_1 = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
DEC_15 = datetime(2026, 12, 15, 6, 0, tzinfo=UTC)
JAN_20 = datetime(2027, 1, 20, 6, 0, tzinfo=UTC)


def _plan(con: Any, run_id: str) -> dict[str, tuple]:
    rows = con.execute(
        "select access_key_id, deactivate_on, warn_on, rule_ids, plan_id, key_status "
        "from remediation_plan where run_id = ?",
        [run_id],
    ).fetchall()
    return {row[0]: tuple(row[1:]) for row in rows}


@pytest.fixture
def history(warehouse: Any) -> History:
    return History(warehouse)


def _run(history: History, run_id: str, as_of: datetime, findings: list[dict]) -> str:
    history.run(run_id, as_of, findings)
    given_keys(history.con, run_id, ("alice", KEY, True), ("bob", OTHER, True))
    return run_id


def test_active_key_with_an_open_finding_is_planned_with_its_warning_days(history):
    run = _run(history, "r1", DEC_1, [finding("ACCESS_KEY_NOT_ROTATED", A, "alice", KEY)])
    assert build_plan(history.con, run, RemediationConfig(deactivate_after_days=30)) == 1
    deactivate_on, warn_on, rules, plan_id, status = _plan(history.con, run)[KEY]
    assert deactivate_on == date(2026, 12, 31)  # first seen Dec 1 + 30
    assert warn_on == [date(2026, 12, 17), date(2026, 12, 24), date(2026, 12, 30)]
    assert (rules, plan_id, status) == (["ACCESS_KEY_NOT_ROTATED"], "plan-r1", "Active")


def test_deactivation_never_comes_before_every_warning(history):
    run = _run(history, "r1", DEC_1, [finding("ACCESS_KEY_NOT_ROTATED", A, "alice", KEY)])
    build_plan(history.con, run, RemediationConfig(deactivate_after_days=3))
    deactivate_on, warn_on, *_ = _plan(history.con, run)[KEY]
    assert deactivate_on == date(2026, 12, 15)  # as-of + the largest warning day (14)
    assert warn_on[0] == date(2026, 12, 1)


def test_a_key_keeps_the_day_of_the_previous_plan(history):
    key_finding = finding("ACCESS_KEY_NOT_ROTATED", A, "alice", KEY)
    first = _run(history, "r1", DEC_1, [key_finding])
    build_plan(history.con, first, RemediationConfig(deactivate_after_days=3))
    second = _run(history, "r2", DEC_15, [key_finding])
    build_plan(history.con, second, RemediationConfig(deactivate_after_days=3))
    assert _plan(history.con, second)[KEY][0] == date(2026, 12, 15)  # not Dec 29


def test_a_finding_open_since_an_earlier_run_counts_from_its_first_day(history):
    key_finding = finding("ACCESS_KEY_UNUSED", A, "alice", KEY)
    _run(history, "r1", DEC_1, [key_finding])  # planned before plans existed: no plan rows
    later = _run(history, "r2", JAN_20, [key_finding])
    build_plan(history.con, later, RemediationConfig(deactivate_after_days=60))
    assert _plan(history.con, later)[KEY][0] == date(2027, 2, 3)  # Jan 20 + 14 > Dec 1 + 60


def test_waived_inactive_root_and_user_level_findings_are_not_planned(history):
    history.run(
        "r1",
        DEC_1,
        [
            finding("ACCESS_KEY_NOT_ROTATED", A, "alice", KEY, waived=True, waiver_id="W-1"),
            finding("ACCESS_KEY_NOT_ROTATED", A, "bob", OTHER),
            finding("CONSOLE_USER_WITHOUT_MFA", A, "carol"),
            finding("ROOT_ACCESS_KEY_PRESENT", A, "<root_account>", "AKIAROOT000000000003"),
        ],
    )
    given_keys(history.con, "r1", ("alice", KEY, True), ("bob", OTHER, False))
    given_keys(history.con, "r1", ("<root_account>", "AKIAROOT000000000003", True), root=True)
    assert build_plan(history.con, "r1") == 0


def test_a_key_with_several_findings_is_planned_once_with_all_of_them(history):
    run = _run(
        history,
        "r1",
        DEC_1,
        [
            finding("ACCESS_KEY_UNUSED", A, "alice", KEY),
            finding("ACCESS_KEY_NOT_ROTATED", A, "alice", KEY),
        ],
    )
    build_plan(history.con, run)
    assert _plan(history.con, run)[KEY][2] == ["ACCESS_KEY_NOT_ROTATED", "ACCESS_KEY_UNUSED"]
