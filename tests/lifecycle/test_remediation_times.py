"""remediation_times_for(run, accounts): how long findings took to be remediated, as known at a
run — the one definition behind the saved query resolved_findings and the report's remediation
figures."""

from __future__ import annotations

from datetime import UTC, datetime

from lifecycle_given import A, B, finding

DEC = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
JAN = datetime(2027, 1, 1, 6, 0, tzinfo=UTC)  # 31 days after DEC
FEB = datetime(2027, 2, 1, 6, 0, tzinfo=UTC)  # 62 days after DEC

OLD_KEY = finding("ACCESS_KEY_NOT_ROTATED", A, "svc-etl", "AKIAAAAAAAAAAAAAAAA1", severity="high")
NO_MFA = finding("CONSOLE_USER_WITHOUT_MFA", A, "ana.costa", severity="medium")
IN_B = finding("ACCESS_KEY_NOT_ROTATED", B, "svc-ci", "AKIAAAAAAAAAAAAAAAA9", severity="high")


def times(history, run_id: str | None, account_ids: list[str] | None = None) -> set[tuple]:
    return set(
        history.rows(
            "select run_id, finding_id, days_to_remediate from remediation_times_for(?, ?)",
            run_id,
            account_ids,
        )
    )


def test_a_run_knows_what_it_and_the_runs_before_it_resolved_and_nothing_later(history):
    history.run("dec", DEC, [OLD_KEY, NO_MFA, IN_B])
    history.run("jan", JAN, [OLD_KEY, IN_B])  # NO_MFA fixed after 31 days
    history.run("feb", FEB, [])  # the rest after 62
    assert times(history, "dec") == set()
    assert times(history, "jan") == {("jan", NO_MFA["finding_id"], 31)}
    assert times(history, "feb") == {
        ("jan", NO_MFA["finding_id"], 31),
        ("feb", OLD_KEY["finding_id"], 62),
        ("feb", IN_B["finding_id"], 62),
    }
    assert times(history, None) == times(history, "feb")  # NULL: the latest run


def test_a_slice_of_accounts_knows_only_its_accounts(history):
    history.run("dec", DEC, [OLD_KEY, IN_B])
    history.run("jan", JAN, [])
    assert times(history, "jan", [B]) == {("jan", IN_B["finding_id"], 31)}
    assert times(history, "jan", []) == set()


def test_another_scope_is_another_history(history):
    history.run("dec", DEC, [OLD_KEY])
    history.run("jan", JAN, [])
    history.run("feb-other-org", FEB, [], organization_id="o-other")
    assert times(history, "feb-other-org") == set()
