"""The report context: counts equal the warehouse's, order and labels are decided in Python."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest
from report_rows import (
    ASSESSED,
    FAILURE,
    GENERATED_AT,
    NOT_ASSESSED,
    RULES,
    RUN_ID,
    SUSPENDED,
    FakeRule,
)

from keyaudit.report import SEVERITIES, build_report_context


def context(con: duckdb.DuckDBPyConnection, **kwargs):
    return build_report_context(con, RUN_ID, rules=RULES, generated_at=GENERATED_AT, **kwargs)


def test_unknown_run_is_a_clear_error(report_db):
    with pytest.raises(
        ValueError, match=r"^run 'no-such-run' is not in the warehouse '.*report\.duckdb'"
    ):
        build_report_context(report_db, "no-such-run", rules=RULES, generated_at=GENERATED_AT)


def test_naive_generated_at_is_refused(report_db):
    with pytest.raises(ValueError, match="generated_at must be timezone-aware"):
        build_report_context(report_db, RUN_ID, rules=RULES, generated_at=datetime(2026, 12, 1))


def test_duplicate_rule_is_refused(report_db):
    with pytest.raises(ValueError, match="rule 'ROOT_ACCESS_KEY_PRESENT' is given twice"):
        build_report_context(report_db, RUN_ID, rules=[*RULES, RULES[0]], generated_at=GENERATED_AT)


def test_coverage_counts_skipped_outside_the_scope(report_db):
    coverage = context(report_db)["coverage"]
    assert coverage | {"oldest_report_at": None} == {
        "in_scope": 2,
        "assessed": 1,
        "partial": 0,
        "not_assessed": 1,
        "skipped": 1,
        "oldest_report_at": None,
        "oldest_report_account_id": ASSESSED,
        "incomplete_count": 1,
        "is_complete": False,
    }
    assert coverage["oldest_report_at"] == "2026-12-01 05:57 UTC"


def test_coverage_agrees_with_the_run_record_so_no_warning(report_db):
    assert context(report_db)["warnings"] == []


def test_run_record_disagreeing_with_account_rows_is_warned(report_db):
    report_db.execute("update runs set accounts_in_scope = 5 where run_id = ?", [RUN_ID])
    (warning,) = context(report_db)["warnings"]
    assert warning.startswith("The run record counts 5 in scope, 1 assessed")


def test_failed_run_is_never_complete(report_db):
    report_db.execute("update runs set status = 'failed' where run_id = ?", [RUN_ID])
    ctx = context(report_db)
    assert ctx["coverage"]["is_complete"] is False
    assert "status is 'failed'" in ctx["warnings"][0]


def test_not_assessed_account_has_no_findings_count_not_zero(report_db):
    accounts = {a["account_id"]: a for a in context(report_db)["accounts"]}
    assert accounts[NOT_ASSESSED]["open_findings"] is None
    assert accounts[SUSPENDED]["open_findings"] is None
    assert accounts[ASSESSED]["open_findings"] == 8  # 9 rows, one waived


def test_not_assessed_and_skipped_lists_carry_the_full_error(report_db):
    ctx = context(report_db)
    assert [(a["account_id"], a["error"]) for a in ctx["not_assessed"]] == [(NOT_ASSESSED, FAILURE)]
    assert [(a["account_id"], a["state"]) for a in ctx["skipped"]] == [(SUSPENDED, "SUSPENDED")]


def test_severity_summary_equals_the_warehouse(report_db):
    expected = dict(
        report_db.execute(
            "select severity, count(*) from findings where run_id = ? and not waived group by 1",
            [RUN_ID],
        ).fetchall()
    )
    summary = context(report_db)["severity_summary"]
    assert [r["severity"] for r in summary] == ["critical", "high", "medium", "low"]
    assert {r["severity"]: r["open"] for r in summary} == expected
    assert {r["severity"]: r["waived"] for r in summary if r["waived"]} == {"high": 1}


def test_info_and_unknown_severities_appear_only_when_present(report_db):
    change = "update findings set severity = ? where rule_id = ?"
    report_db.execute(change, ["info", "INACTIVE_KEY_NOT_REMOVED"])
    report_db.execute(change, ["urgent", "MULTIPLE_ACTIVE_KEYS"])
    summary = context(report_db)["severity_summary"]
    assert [(r["severity"], r["css"]) for r in summary] == [
        ("critical", "critical"),
        ("high", "high"),
        ("medium", "medium"),
        ("low", "low"),
        ("info", "info"),
        ("urgent", "unknown"),
    ]


def test_findings_sorted_by_severity_then_account_then_rule(report_db):
    findings = context(report_db)["findings"]
    keys = [(SEVERITIES.index(f["severity"]), f["account_id"], f["rule_id"]) for f in findings]
    assert keys == sorted(keys)
    assert len(findings) == 10


def test_key_is_its_id_or_its_slot(report_db):
    keys = {(f["rule_id"], f["user_name"]): f["key"] for f in context(report_db)["findings"]}
    assert keys[("ACCESS_KEY_NOT_ROTATED", "alice")] == "AKIAALICE00000000001"
    assert keys[("ACCESS_KEY_UNUSED", "dave")] == "slot 2"
    assert keys[("MULTIPLE_ACTIVE_KEYS", "bob")] is None


def test_rule_summary_titles_come_from_the_catalogue(report_db):
    rules = [r for r in RULES if r.rule_id != "MULTIPLE_ACTIVE_KEYS"]
    ctx = build_report_context(report_db, RUN_ID, rules=rules, generated_at=GENERATED_AT)
    titles = {r["rule_id"]: r["title"] for r in ctx["rule_summary"]}
    assert titles["ACCESS_KEY_NOT_ROTATED"] == "Active access key not rotated within the limit"
    assert titles["MULTIPLE_ACTIVE_KEYS"].startswith("(not in the rule catalogue")
    remedy = {r["rule_id"]: r for r in ctx["remediation"]}
    assert remedy["MULTIPLE_ACTIVE_KEYS"]["remediation"] is None
    assert remedy["ROOT_ACCESS_KEY_PRESENT"]["command"].startswith("aws iam delete-access-key")


def test_rules_only_need_the_protocol_attributes(report_db):
    class Minimal:
        def __init__(self, rule: FakeRule) -> None:
            self.rule_id, self.title = rule.rule_id, rule.title
            self.severity, self.remediation = rule.severity, rule.remediation

    ctx = build_report_context(
        report_db, RUN_ID, rules=[Minimal(r) for r in RULES], generated_at=GENERATED_AT
    )
    assert all(r["command"] is None for r in ctx["remediation"])


def test_sections_include_data_notes_only_when_there_are_notes(report_db):
    assert context(report_db)["sections"][-1]["id"] == "data-notes"
    report_db.execute("delete from run_notes")
    assert "data-notes" not in [s["id"] for s in context(report_db)["sections"]]


def test_partially_assessed_account_counts_as_assessed_and_is_listed(report_db):
    report_db.execute(
        "update accounts set status = 'partial', error = 'ListAccessKeys denied' "
        "where account_id = ?",
        [ASSESSED],
    )
    ctx = context(report_db)
    assert ctx["coverage"]["assessed"] == 1
    assert ctx["coverage"]["partial"] == 1
    assert [a["error"] for a in ctx["partial"]] == ["ListAccessKeys denied"]
    assert ctx["warnings"] == []
