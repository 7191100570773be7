"""Findings across runs: previous run, new, resolved, still open with first seen and days open,
and mean time to remediate — from given runs and findings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lifecycle_given import A, B, C, finding

DEC = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
JAN = datetime(2027, 1, 1, 6, 0, tzinfo=UTC)  # 31 days after DEC
FEB = datetime(2027, 2, 1, 6, 0, tzinfo=UTC)  # 62 days after DEC
MAR = datetime(2027, 3, 1, 6, 0, tzinfo=UTC)  # 90 days after DEC

OLD_KEY = finding("ACCESS_KEY_NOT_ROTATED", A, "svc-etl", "AKIAAAAAAAAAAAAAAAA1", severity="high")
IDLE_KEY = finding("ACCESS_KEY_UNUSED", A, "svc-etl", "AKIAAAAAAAAAAAAAAAA1", severity="medium")
NO_MFA = finding("CONSOLE_USER_WITHOUT_MFA", A, "ana.costa", severity="high")
ROOT_KEY = finding("ROOT_ACCESS_KEY_PRESENT", B, "<root_account>", severity="critical", key_slot=1)
IN_B = finding("ACCESS_KEY_NOT_ROTATED", B, "svc-ci", "AKIAAAAAAAAAAAAAAAA9", severity="high")


def previous(history) -> dict[str, str | None]:
    return dict(history.rows("select run_id, previous_run_id from previous_runs"))


def ids(history, view: str, run_id: str) -> set[str]:
    return {r[0] for r in history.rows(f"select finding_id from {view} where run_id = ?", run_id)}


def lifecycle(history, run_id: str) -> dict[str, tuple]:
    rows = history.rows(
        "select finding_id, first_seen_run_id, days_open, is_new from finding_lifecycle "
        "where run_id = ?",
        run_id,
    )
    return {r[0]: tuple(r[1:]) for r in rows}


def test_the_previous_run_is_the_latest_finished_earlier_run_of_the_same_scope(history):
    history.run("dec", DEC)
    history.run("jan", JAN)
    history.run("jan-failed", JAN + timedelta(days=3), status="failed")
    history.run("feb", FEB)
    history.run("feb-other-org", FEB, organization_id="o-other")
    history.run("feb-aws", FEB, source="aws")
    history.run("mar", MAR)
    assert previous(history) == {
        "dec": None,
        "jan": "dec",
        "jan-failed": "jan",  # a failed run has a previous run but is nobody's previous run
        "feb": "jan",
        "feb-other-org": None,
        "feb-aws": None,
        "mar": "feb",
    }


def test_of_two_runs_with_the_same_as_of_the_later_started_one_is_the_previous(history):
    history.run("dec", DEC)
    history.run("jan", JAN, started_at=JAN + timedelta(hours=1))
    history.run("jan-rerun", JAN, started_at=JAN + timedelta(hours=2))
    history.run("feb", FEB)
    assert previous(history) == {"dec": None, "jan": "dec", "jan-rerun": "dec", "feb": "jan-rerun"}


def test_outside_an_organization_the_same_scope_means_the_same_accounts(history):
    kw = {"source": "aws", "scope": "accounts", "organization_id": None}
    history.run("dec-ab", DEC, accounts={A: "assessed", B: "assessed"}, **kw)
    history.run("dec-a", DEC, accounts={A: "assessed"}, **kw)
    history.run("jan-ab", JAN, accounts={A: "assessed", B: "not_assessed"}, **kw)
    history.run("feb-a", FEB, accounts={A: "assessed", C: "skipped"}, **kw)
    assert previous(history) == {
        "dec-ab": None,
        "dec-a": None,
        "jan-ab": "dec-ab",
        "feb-a": "dec-a",
    }


def test_an_organization_that_gains_an_account_keeps_its_history(history):
    history.run("dec", DEC, accounts={A: "assessed"})
    history.run("jan", JAN, accounts={A: "assessed", B: "assessed"})
    assert previous(history)["jan"] == "dec"


def test_new_resolved_and_persisting_findings_since_the_previous_run(history):
    history.run("dec", DEC, [OLD_KEY, IDLE_KEY])
    history.run("jan", JAN, [OLD_KEY, NO_MFA])
    assert ids(history, "findings_new", "jan") == {NO_MFA["finding_id"]}
    assert ids(history, "findings_resolved", "jan") == {IDLE_KEY["finding_id"]}
    assert lifecycle(history, "jan") == {
        OLD_KEY["finding_id"]: ("dec", 31, False),
        NO_MFA["finding_id"]: ("jan", 0, True),
    }
    assert ids(history, "findings_open", "jan") == {OLD_KEY["finding_id"], NO_MFA["finding_id"]}


def test_a_resolved_finding_carries_where_it_was_first_and_last_seen(history):
    history.run("dec", DEC, [OLD_KEY])
    history.run("jan", JAN, [OLD_KEY])
    history.run("feb", FEB, [])
    rows = history.rows(
        "select finding_id, rule_id, severity, user_name, access_key_id, first_seen_run_id, "
        "last_seen_run_id, previous_run_id, resolved_as_of, days_to_remediate "
        "from findings_resolved where run_id = 'feb'"
    )
    assert rows == [
        (
            OLD_KEY["finding_id"], "ACCESS_KEY_NOT_ROTATED", "high", "svc-etl",
            "AKIAAAAAAAAAAAAAAAA1", "dec", "jan", "jan", FEB, 62,
        )
    ]  # fmt: skip


def test_the_first_run_of_a_scope_has_nothing_new_or_resolved_but_everything_first_seen(history):
    history.run("dec", DEC, [OLD_KEY, NO_MFA])
    assert ids(history, "findings_new", "dec") == set()
    assert ids(history, "findings_resolved", "dec") == set()
    assert lifecycle(history, "dec") == {
        OLD_KEY["finding_id"]: ("dec", 0, True),
        NO_MFA["finding_id"]: ("dec", 0, True),
    }


def test_a_finding_in_an_account_the_run_could_not_assess_is_not_resolved(history):
    not_assessed = finding("ACCOUNT_NOT_ASSESSED", B, severity="high")
    history.run("dec", DEC, [OLD_KEY, IN_B])
    history.run("jan", JAN, [OLD_KEY, not_assessed], accounts={A: "assessed", B: "not_assessed"})
    assert ids(history, "findings_resolved", "jan") == set()
    assert ids(history, "findings_new", "jan") == {not_assessed["finding_id"]}


def test_a_finding_seen_again_after_an_unassessed_month_keeps_its_first_seen(history):
    not_assessed = finding("ACCOUNT_NOT_ASSESSED", B, severity="high")
    history.run("dec", DEC, [IN_B])
    history.run("jan", JAN, [not_assessed], accounts={A: "assessed", B: "not_assessed"})
    history.run("feb", FEB, [IN_B])
    assert lifecycle(history, "feb") == {IN_B["finding_id"]: ("dec", 62, False)}
    assert ids(history, "findings_new", "feb") == set()
    assert ids(history, "findings_resolved", "feb") == {not_assessed["finding_id"]}
    history.run("mar", MAR, [])
    rows = history.rows(
        "select first_seen_run_id, last_seen_run_id, days_to_remediate from findings_resolved "
        "where run_id = 'mar'"
    )
    assert rows == [("dec", "feb", 90)]


def test_a_partially_assessed_account_neither_resolves_nor_restarts_a_finding(history):
    history.run("dec", DEC, [OLD_KEY])
    history.run("jan", JAN, [], accounts={A: "partial", B: "assessed"})
    history.run("feb", FEB, [OLD_KEY])
    assert ids(history, "findings_resolved", "jan") == set()
    assert lifecycle(history, "feb") == {OLD_KEY["finding_id"]: ("dec", 62, False)}


def test_a_finding_that_comes_back_after_being_resolved_is_new_again(history):
    history.run("dec", DEC, [OLD_KEY])
    history.run("jan", JAN, [])
    history.run("feb", FEB, [OLD_KEY])
    assert lifecycle(history, "feb") == {OLD_KEY["finding_id"]: ("feb", 0, True)}
    assert ids(history, "findings_new", "feb") == {OLD_KEY["finding_id"]}


def test_a_rerun_is_compared_with_the_same_previous_run_as_the_run_it_repeats(history):
    history.run("dec", DEC, [OLD_KEY, IDLE_KEY])
    history.run("jan", JAN, [OLD_KEY], started_at=JAN + timedelta(hours=1))
    history.run("jan-rerun", JAN, [OLD_KEY, NO_MFA], started_at=JAN + timedelta(hours=2))
    assert ids(history, "findings_resolved", "jan") == {IDLE_KEY["finding_id"]}
    assert ids(history, "findings_resolved", "jan-rerun") == {IDLE_KEY["finding_id"]}
    assert ids(history, "findings_new", "jan-rerun") == {NO_MFA["finding_id"]}


def test_waived_findings_are_new_but_not_open(history):
    waived = {**NO_MFA, "waived": True, "waiver_id": "W-1"}
    history.run("dec", DEC, [OLD_KEY])
    history.run("jan", JAN, [OLD_KEY, waived])
    assert ids(history, "findings_new", "jan") == {NO_MFA["finding_id"]}
    assert ids(history, "findings_open", "jan") == {OLD_KEY["finding_id"]}


def test_mean_time_to_remediate_per_severity_over_all_history(history):
    history.run("dec", DEC, [OLD_KEY, IDLE_KEY, NO_MFA, ROOT_KEY])
    history.run("jan", JAN, [OLD_KEY, NO_MFA], started_at=JAN + timedelta(hours=1))
    history.run("jan-rerun", JAN, [OLD_KEY, NO_MFA], started_at=JAN + timedelta(hours=2))
    history.run("feb", FEB, [NO_MFA])
    history.run("mar", MAR, [])
    # IDLE_KEY (medium) and ROOT_KEY (critical) resolved in jan after 31 days, counted once
    # although both jan runs found them gone; OLD_KEY (high) in feb after 62, NO_MFA (high) in
    # mar after 90.
    rows = history.rows(
        "select severity, resolved_count, mean_days_to_remediate from mttr_by_severity "
        "order by severity"
    )
    assert rows == [("critical", 1, 31.0), ("high", 2, 76.0), ("medium", 1, 31.0)]


def kept_and_view(history, table: str, view: str) -> tuple[list[tuple], list[tuple]]:
    """Every run's kept rows of `view` and what the view gives now, in one order."""
    kept = history.rows(f"select * from {table} order by all")
    now = history.rows(f"select * from {view} order by all")
    return kept, now


def test_the_kept_comparisons_of_every_run_are_the_views_in_whatever_order_runs_are_loaded(
    history,
):
    """Loading keeps a run's lifecycle and resolved findings (keyaudit.warehouse.kept.HISTORY)
    and keeps them again for every later run: a month loaded late, a rerun of a month and a
    month loaded again with other findings change what later months compare with."""
    from keyaudit.warehouse.db import delete_run

    def check() -> None:
        for table, view in (
            ("run_finding_lifecycle", "finding_lifecycle"),
            ("run_findings_resolved", "findings_resolved"),
        ):
            kept, now = kept_and_view(history, table, view)
            assert kept == now, f"{table} differs from {view}"

    history.run("mar", MAR, [OLD_KEY, NO_MFA])
    check()
    history.run("jan", JAN, [OLD_KEY, IDLE_KEY, IN_B])  # loaded late: March now compares with it
    check()
    assert ids(history, "run_findings_resolved", "mar") == {
        IDLE_KEY["finding_id"],
        IN_B["finding_id"],
    }
    history.run("dec", DEC, [OLD_KEY, ROOT_KEY])  # earlier still
    history.run("other-org", FEB, [NO_MFA], organization_id="o-other00002")
    check()
    history.run("feb", FEB, [OLD_KEY, IDLE_KEY])
    history.run("feb-again", FEB, [OLD_KEY], started_at=FEB + timedelta(hours=1))  # a rerun
    check()
    assert lifecycle(history, "mar")[NO_MFA["finding_id"]] == ("mar", 0, True)
    delete_run(history.con, "jan")  # January loaded again, with other findings
    history.run("jan", JAN, [OLD_KEY, NO_MFA])
    check()
    assert lifecycle(history, "mar")[NO_MFA["finding_id"]] == ("mar", 0, True)  # gone in Feb
    assert ids(history, "run_findings_resolved", "feb") == {NO_MFA["finding_id"]}
    new = history.rows("select count(*) from run_finding_lifecycle where is_new")[0][0]
    assert new and history.rows("select count(*) from run_findings_resolved")[0][0]
