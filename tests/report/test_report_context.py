"""The report context: counts equal the warehouse's, order and labels are decided in Python."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest
from report_rows import (
    ASSESSED,
    FAILURE,
    GENERATED_AT,
    HOSTILE,
    NOT_ASSESSED,
    OTHER,
    PREV_RUN_ID,
    RULES,
    RUN_ID,
    SUSPENDED,
    FakeRule,
    count,
)

from keyaudit.report import SEVERITIES, account_owner, build_report_context
from keyaudit.report.context import UnknownAccountError


def context(con: duckdb.DuckDBPyConnection, **kwargs):
    return build_report_context(con, RUN_ID, rules=RULES, **kwargs)


def test_unknown_run_is_a_clear_error(shared_db):
    with pytest.raises(
        ValueError,
        match=r"^run 'no-such-run' is not in the warehouse '.*report\.duckdb' — check the run id; "
        r"`keyaudit runs` lists the runs$",
    ):
        build_report_context(shared_db, "no-such-run", rules=RULES)


def test_naive_generated_at_is_refused(shared_db):
    with pytest.raises(ValueError, match="generated_at must be timezone-aware"):
        context(shared_db, generated_at=datetime(2026, 12, 1))


def test_unknown_paper_is_refused(shared_db):
    with pytest.raises(ValueError, match=r"^paper 'A3' is not supported; use one of A4, Letter$"):
        context(shared_db, paper="A3")


def test_duplicate_rule_is_refused(shared_db):
    with pytest.raises(ValueError, match="rule 'ROOT_ACCESS_KEY_PRESENT' is given twice"):
        build_report_context(shared_db, RUN_ID, rules=[*RULES, RULES[0]])


def test_generated_at_defaults_to_the_run_finish_so_rerenders_match(shared_context):
    assert shared_context["generated_at"] == "2026-12-01 06:04 UTC"


def test_generated_at_can_be_given(shared_db):
    assert context(shared_db, generated_at=GENERATED_AT)["generated_at"] == "2026-12-01 07:30 UTC"


def test_coverage_counts_skipped_outside_the_scope(shared_context):
    assert shared_context["coverage"] == {
        "in_scope": 3,
        "assessed": 2,
        "partial": 0,
        "not_assessed": 1,
        "skipped": 1,
        "oldest_report_at": "2026-12-01 03:00 UTC",
        "oldest_report_account_id": OTHER,
        "incomplete_count": 1,
        "is_complete": False,
    }


def test_coverage_agrees_with_the_run_record_so_no_warning(shared_context):
    assert shared_context["warnings"] == []


def test_run_record_disagreeing_with_account_rows_is_warned(report_db):
    report_db.execute("update runs set accounts_in_scope = 5 where run_id = ?", [RUN_ID])
    (warning,) = context(report_db)["warnings"]
    assert warning.startswith("The run record counts 5 in scope, 2 assessed")


def test_failed_run_is_never_complete(report_db):
    report_db.execute("update runs set status = 'failed' where run_id = ?", [RUN_ID])
    ctx = context(report_db)
    assert ctx["coverage"]["is_complete"] is False
    assert "status is 'failed'" in ctx["warnings"][0]


def test_not_assessed_account_has_no_findings_count_not_zero(shared_context):
    accounts = {a["account_id"]: a for a in shared_context["accounts"]}
    assert accounts[NOT_ASSESSED]["open_findings"] is None
    assert accounts[SUSPENDED]["open_findings"] is None
    assert accounts[ASSESSED]["open_findings"] == 8  # 9 rows, one waived


def test_not_assessed_and_skipped_lists_carry_the_full_error(shared_context):
    ctx = shared_context
    assert [(a["account_id"], a["error"]) for a in ctx["not_assessed"]] == [(NOT_ASSESSED, FAILURE)]
    assert [(a["account_id"], a["state"]) for a in ctx["skipped"]] == [(SUSPENDED, "SUSPENDED")]


def test_severity_summary_equals_the_warehouse(shared_db, shared_context):
    expected = dict(
        shared_db.execute(
            "select severity, count(*) from findings where run_id = ? and not waived group by 1",
            [RUN_ID],
        ).fetchall()
    )
    summary = shared_context["severity_summary"]
    assert [r["severity"] for r in summary] == ["critical", "high", "medium", "low"]
    assert {r["severity"]: r["open"] for r in summary} == expected
    assert {r["severity"]: r["waived"] for r in summary if r["waived"]} == {"high": 1}


def test_info_and_unknown_severities_appear_only_when_present(report_db):
    change = "update findings set severity = ? where rule_id = ?"
    report_db.execute(change, ["info", "INACTIVE_KEY_NOT_REMOVED"])
    report_db.execute(change, ["urgent", "MULTIPLE_ACTIVE_KEYS"])
    summary = context(report_db, with_explorer=False)["severity_summary"]
    assert [(r["severity"], r["css"]) for r in summary] == [
        ("critical", "critical"),
        ("high", "high"),
        ("medium", "medium"),
        ("low", "low"),
        ("info", "info"),
        ("urgent", "unknown"),
    ]


def test_accounts_are_ranked_by_open_findings_worst_first(shared_context):
    ranked = [a["account_id"] for a in shared_context["ranked_accounts"]]
    assert ranked == [ASSESSED, NOT_ASSESSED, OTHER, SUSPENDED]


def test_owner_comes_from_the_tags(shared_context):
    owners = {a["account_id"]: a["owner"] for a in shared_context["accounts"]}
    assert owners == {
        ASSESSED: HOSTILE,
        OTHER: "pay@example.com",
        NOT_ASSESSED: None,
        SUSPENDED: None,
    }


def test_owner_tag_keys_are_case_insensitive_and_ordered():
    assert account_owner({"Team": "t", "OWNER": "o"}) == "o"
    assert account_owner({"team": "t", "contact": "c"}) == "t"
    assert account_owner({"owner": "", "owner-email": "e@x"}) == "e@x"
    assert account_owner({"cost-center": "CC-1"}) is None


def test_section_rows_carry_key_age_and_last_use(shared_context):
    (section,) = [
        s for s in shared_context["account_sections"] if s["account"]["account_id"] == ASSESSED
    ]
    rows = {(r["rule_id"], r["user_name"]): r for r in section["rows"]}
    alice = rows[("ACCESS_KEY_NOT_ROTATED", "alice")]
    assert (alice["key"], alice["age_days"], alice["last_used"], alice["last_used_where"]) == (
        "AKIAALICE00000000001",
        212,
        "2026-11-28",
        "s3, eu-west-1",
    )
    assert rows[("ACCESS_KEY_NOT_ROTATED", "carol")]["last_used"] == "never"
    root = rows[("ROOT_ACCESS_KEY_PRESENT", "<root_account>")]
    assert (root["key"], root["age_days"], root["last_used"]) == ("slot 1", 689, "2026-11-24")
    assert rows[("MULTIPLE_ACTIVE_KEYS", "bob")]["key"] is None
    assert rows[("MULTIPLE_ACTIVE_KEYS", "bob")]["last_used"] is None


def test_lifecycle_marks_new_and_persisting_findings(shared_context):
    (section,) = [
        s for s in shared_context["account_sections"] if s["account"]["account_id"] == ASSESSED
    ]
    rows = {(r["rule_id"], r["user_name"]): r for r in section["rows"]}
    assert rows[("ACCESS_KEY_NOT_ROTATED", "alice")]["is_new"] is False
    assert rows[("ACCESS_KEY_NOT_ROTATED", "alice")]["days_open"] == 30
    assert rows[("ACCESS_KEY_UNUSED", "bob")]["is_new"] is True


def test_trend_has_this_run_and_the_previous_one_oldest_first(shared_db, shared_context):
    runs = shared_context["trend"]["runs"]
    assert [(r["run_id"], r["is_current"]) for r in runs] == [(PREV_RUN_ID, False), (RUN_ID, True)]
    for run in runs:
        assert run["open"] == count(
            shared_db,
            "select count(*) from findings where run_id = ? and not waived",
            run["run_id"],
        )
    assert shared_context["trend"]["chart_svg"].startswith("<svg")


def test_new_and_resolved_equal_the_lifecycle_views(shared_db, shared_context):
    changes = shared_context["changes"]
    assert changes["available"] is True
    assert changes["previous_run_id"] == PREV_RUN_ID
    assert changes["new"] == count(
        shared_db, "select count(*) from findings_new where run_id = ?", RUN_ID
    )
    assert changes["resolved"] == 1
    assert next((r["rule_id"], r["new"], r["resolved"]) for r in changes["by_rule"]) == (
        "ACCESS_KEY_NOT_ROTATED",
        1,
        1,
    )
    assert changes["mttr"] == [
        {"severity": "high", "css": "high", "resolved": 1, "mean_days": 30, "median_days": 30}
    ]


def test_first_run_has_nothing_to_compare(shared_db):
    ctx = build_report_context(shared_db, PREV_RUN_ID, rules=RULES, with_explorer=False)
    assert ctx["trend"]["previous_run_id"] is None
    assert ctx["changes"] == {"available": False, "note": "first run", "previous_run_id": None}
    assert [r["run_id"] for r in ctx["trend"]["runs"]] == [PREV_RUN_ID]


def test_controls_come_from_the_control_view(shared_db, shared_context):
    controls = shared_context["controls"]
    rotated = next(r for r in controls["requirements"] if r["rules"] == ["ACCESS_KEY_NOT_ROTATED"])
    view = shared_db.execute(
        "select evaluated, failing, waived from control_results "
        "where run_id = ? and rule_id = 'ACCESS_KEY_NOT_ROTATED' and control_id = 'IAM.3'",
        [RUN_ID],
    ).fetchone()
    (keys,) = rotated["populations"]
    assert (keys["evaluated"], keys["failing"], keys["waived"]) == view
    assert rotated["controls"] == ["CIS v1.4–v4.0 1.14", "CIS v5.0 1.13", "Security Hub IAM.3"]
    assert rotated["result"] == "fail"


def test_a_control_without_open_findings_passes(report_db):
    report_db.execute(
        "delete from findings where run_id = ? and rule_id = 'MULTIPLE_ACTIVE_KEYS'", [RUN_ID]
    )
    requirements = context(report_db, with_explorer=False)["controls"]["requirements"]
    multiple = next(r for r in requirements if r["rules"] == ["MULTIPLE_ACTIVE_KEYS"])
    assert ([p["failing"] for p in multiple["populations"]], multiple["result"]) == ([0], "pass")


def test_waivers_are_listed_by_status(shared_context):
    waivers = shared_context["waivers"]
    assert [w["waiver_id"] for w in waivers["active"]] == ["W-7"]
    assert [w["waiver_id"] for w in waivers["expired"]] == ["W-8"]
    assert [w["waiver_id"] for w in waivers["unused"]] == ["W-9"]
    assert waivers["active"][0]["scope"] == f"account {ASSESSED}, user carol"


def test_thresholds_in_force_come_from_the_run(shared_context):
    rotated = next(
        r for r in shared_context["thresholds"] if r["rule_id"] == "ACCESS_KEY_NOT_ROTATED"
    )
    assert rotated["parameters"] == [{"name": "max_key_age_days", "value": 90, "description": None}]
    assert rotated["severity"] == "high"
    assert "AWS Security Hub IAM.3" in rotated["control_labels"]


def test_rules_only_need_the_protocol_attributes(shared_db):
    class Minimal:
        def __init__(self, rule: FakeRule) -> None:
            self.rule_id, self.title = rule.rule_id, rule.title
            self.severity, self.remediation = rule.severity, rule.remediation

    ctx = build_report_context(shared_db, RUN_ID, rules=[Minimal(r) for r in RULES])
    assert ctx["rule_summary"][0]["title"] == "Root user has an active access key"


def test_findings_of_a_rule_nobody_describes_are_labelled(report_db):
    report_db.execute("delete from run_rules")
    rules = [r for r in RULES if r.rule_id != "MULTIPLE_ACTIVE_KEYS"]
    ctx = build_report_context(report_db, RUN_ID, rules=rules, with_explorer=False)
    titles = {r["rule_id"]: r["title"] for r in ctx["rule_summary"]}
    assert titles["MULTIPLE_ACTIVE_KEYS"].startswith("(not in the rule catalogue")


def test_evidence_lists_every_file_of_the_run(shared_db, shared_context):
    files = shared_context["evidence"]["files"]
    assert len(files) == count(shared_db, "select count(*) from evidence where run_id = ?", RUN_ID)
    assert files[0]["path"] == "manifest.json"


def test_sections_in_order(shared_context):
    assert [s["id"] for s in shared_context["sections"]] == [
        "scope",
        "completeness",
        "summary",
        "accounts",
        "findings",
        "waivers",
        "review",
        "methodology",
        "evidence",
        "remediation",
    ]


def test_severities_are_fixed():
    assert SEVERITIES == ("critical", "high", "medium", "low", "info")


def test_partially_assessed_account_counts_as_assessed_and_is_listed(report_db):
    report_db.execute(
        "update accounts set status = 'partial', error = 'ListAccessKeys denied' "
        "where account_id = ? and run_id = ?",
        [ASSESSED, RUN_ID],
    )
    ctx = context(report_db, with_explorer=False)
    assert ctx["coverage"]["assessed"] == 2
    assert ctx["coverage"]["partial"] == 1
    assert [a["error"] for a in ctx["partial"]] == ["ListAccessKeys denied"]
    assert ctx["warnings"] == []


# --- per-owner slices -------------------------------------------------------------------------


def test_a_slice_counts_only_its_accounts(shared_db):
    ctx = build_report_context(shared_db, RUN_ID, rules=RULES, account_ids=[OTHER, NOT_ASSESSED])
    assert [a["account_id"] for a in ctx["accounts"]] == [NOT_ASSESSED, OTHER]
    assert ctx["coverage"]["in_scope"] == 2
    assert ctx["coverage"]["not_assessed"] == 1
    assert ctx["totals"] == {"open": 2, "waived": 0, "total": 2}
    assert {f["path"] for f in ctx["evidence"]["files"]} == {
        "run.json",
        "manifest.json",
        f"{OTHER}/credential_report.csv",
        f"{NOT_ASSESSED}/collection.json",
    }
    assert [w["waiver_id"] for w in ctx["waivers"]["unused"]] == ["W-9"]
    assert ctx["waivers"]["active"] == []
    assert [r["open"] for r in ctx["trend"]["runs"]] == [0, 2]
    assert ctx["slice"] == {"account_ids": [NOT_ASSESSED, OTHER], "count": 2}
    assert ctx["warnings"] == []


def test_a_slice_naming_an_account_the_run_lacks_is_refused(shared_db):
    with pytest.raises(UnknownAccountError) as refused:
        build_report_context(shared_db, RUN_ID, rules=RULES, account_ids=[OTHER, "999999999999"])
    assert str(refused.value) == (
        f"account 999999999999 is not in run {RUN_ID} — check the id; "
        f"`keyaudit query --file run_accounts --param run_id={RUN_ID}` lists the run's accounts"
    )


def test_a_slice_of_an_unassessed_account_evaluates_no_control(shared_db):
    ctx = build_report_context(shared_db, RUN_ID, rules=RULES, account_ids=[NOT_ASSESSED])
    results = {r["rules"][0]: r["result"] for r in ctx["controls"]["rows"]}
    assert results.pop("ACCOUNT_NOT_ASSESSED") == "fail"
    assert results and set(results.values()) == {"not evaluated"}
    assert ctx["controls"]["passing"] == 0


def test_a_pass_over_part_of_the_scope_says_how_far_it_reaches(shared_db):
    ctx = build_report_context(shared_db, RUN_ID, rules=RULES, account_ids=[OTHER, NOT_ASSESSED])
    passes = [r for r in ctx["controls"]["rows"] if r["result"] == "pass"]
    assert passes
    assert {r["qualifier"] for r in passes} == {"pass in 1 of 2 accounts; 1 not assessed"}


def test_a_slice_refuses_ids_that_are_not_account_ids(shared_db):
    with pytest.raises(ValueError, match=r"^account_ids: 12345 is not a 12-digit account id"):
        build_report_context(shared_db, RUN_ID, rules=RULES, account_ids=[12345])  # type: ignore[list-item]
