"""The summary a finished run prints says what is new and resolved since the previous run of
its scope, counted as the report counts them (keyaudit.warehouse.load.summarize)."""

from __future__ import annotations

from datetime import UTC, datetime

from lifecycle_given import A, finding

from keyaudit.cli.audit import _changes_line
from keyaudit.warehouse.load import summarize

DEC = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
JAN = datetime(2027, 1, 1, 6, 0, tzinfo=UTC)

OLD_KEY = finding("ACCESS_KEY_NOT_ROTATED", A, "svc-etl", "AKIAAAAAAAAAAAAAAAA1")
IDLE_KEY = finding("ACCESS_KEY_UNUSED", A, "svc-etl", "AKIAAAAAAAAAAAAAAAA1", severity="medium")
NO_MFA = finding("CONSOLE_USER_WITHOUT_MFA", A, "ana.costa")
WAIVED = finding("PASSWORD_UNUSED", A, "bob", severity="medium", waived=True, waiver_id="W-1")


def test_the_first_run_of_a_scope_says_there_is_no_previous_run(history):
    history.run("dec", DEC, [OLD_KEY, NO_MFA])
    summary = summarize(history.con, "dec")
    assert (summary.previous_run_id, summary.findings_new, summary.findings_resolved) == (
        None,
        None,
        None,
    )
    assert _changes_line(summary) == "  since previous run    no previous run of this scope"


def test_new_and_resolved_since_the_previous_run_are_counted_waived_ones_included(history):
    history.run("dec", DEC, [OLD_KEY, IDLE_KEY])
    history.run("jan", JAN, [OLD_KEY, NO_MFA, WAIVED])
    summary = summarize(history.con, "jan")
    assert (summary.previous_run_id, summary.findings_new, summary.findings_resolved) == (
        "dec",
        2,  # NO_MFA, WAIVED: as the report's "new" column counts them
        1,  # IDLE_KEY
    )
    assert _changes_line(summary) == ("  since previous run    2 new, 1 resolved (run dec)")
