"""The report context: typed, frozen sections whose counts equal the warehouse's, order and
labels decided in Python; its summary built alone for the e-mails."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import duckdb
import pytest
from report_rows import (
    ASSESSED,
    FAILURE,
    GENERATED_AT,
    NOT_ASSESSED,
    OTHER,
    OWNER_TAG,
    PREV_RUN_ID,
    RULES,
    RUN_ID,
    SUSPENDED,
    FakeRule,
    count,
    keep_as_loading_does,
)

from keyaudit.report import SEVERITIES, build_report_context, build_report_summary
from keyaudit.report.context import UnknownAccountError
from keyaudit.report.sections import (
    AccountDetail,
    Compliance,
    Coverage,
    History,
    Methodology,
    ReportContext,
    ReportSummary,
)


def context(con: duckdb.DuckDBPyConnection, **kwargs):
    return build_report_context(con, RUN_ID, rules=RULES, **kwargs)


# What the templates read: every name once, from the section that owns it.
TEMPLATE_NAMES = {
    ReportSummary: {
        "title",
        "organization_name",
        "generated_at",
        "report_tool_version",
        "run",
        "slice",
        "coverage",
        "warnings",
        "severity_summary",
        "totals",
        "rule_summary",
        "changes",
        "accounts",
        "rules",
    },
    Compliance: {
        "controls",
        "controls_all",
        "summary_frameworks",
        "frameworks",
        "framework_view",
    },
    History: {"trend", "footprint"},
    AccountDetail: {
        "ranked_accounts",
        "severity_columns",
        "account_sections",
        "detail_limits",
        "not_assessed",
        "partial",
        "skipped",
    },
    Methodology: {"thresholds", "caveats", "run_notes", "provenance"},
}
ONE_VALUE_SECTIONS = {
    "paper",
    "fix_first",
    "waivers",
    "api_calls",
    "evidence",
    "completeness",
    "remediation",
    "review",
    "explorer",
    "sections",
}


def test_the_context_is_made_of_typed_sections(shared_context):
    assert isinstance(shared_context, ReportContext)
    for name, kind in (
        ("summary", ReportSummary),
        ("compliance", Compliance),
        ("history", History),
        ("account_detail", AccountDetail),
        ("methodology", Methodology),
    ):
        section = getattr(shared_context, name)
        assert type(section) is kind
        assert {f.name for f in dataclasses.fields(section)} == TEMPLATE_NAMES[kind]
    assert type(shared_context.summary.coverage) is Coverage


def test_every_section_is_frozen(shared_context):
    for section in (shared_context, shared_context.summary, shared_context.summary.coverage):
        with pytest.raises(dataclasses.FrozenInstanceError):
            section.title = "changed"  # type: ignore[misc]


def test_the_templates_read_each_name_of_each_section_once(shared_context):
    names = shared_context.template_names()
    assert set(names) == set().union(*TEMPLATE_NAMES.values()) | ONE_VALUE_SECTIONS
    assert names["coverage"] is shared_context.summary.coverage
    assert names["controls"] is shared_context.compliance.controls
    assert names["waivers"] is shared_context.waivers


def test_a_name_given_by_two_sections_is_refused(shared_context):
    methodology = dataclasses.make_dataclass("Clash", [("title", str)], frozen=True)("x")
    clash = dataclasses.replace(shared_context, methodology=methodology)
    with pytest.raises(ValueError, match="the report context gives title twice"):
        clash.template_names()


@pytest.mark.parametrize("account_ids", [None, [OTHER, NOT_ASSESSED]])
def test_the_summary_built_alone_is_the_reports_summary(shared_db, account_ids):
    whole = build_report_context(shared_db, RUN_ID, rules=RULES, account_ids=account_ids)
    alone = build_report_summary(shared_db, RUN_ID, rules=RULES, account_ids=account_ids)
    assert alone == whole.summary


def test_the_summary_alone_reads_none_of_the_other_sections(shared_db, monkeypatch):
    import keyaudit.report.context as built

    def never(*args, **kwargs):
        raise AssertionError("the summary read a section it does not show")

    for section in ("control_results", "trend", "footprint", "waiver_lists", "completeness"):
        monkeypatch.setattr(built, section, never)
    summary = build_report_summary(shared_db, RUN_ID, rules=RULES)
    assert summary.totals["open"] == count(
        shared_db, "select count(*) from findings where run_id = ? and not waived", RUN_ID
    )


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
    assert shared_context.summary.generated_at == "2026-12-01 06:04 UTC"


def test_generated_at_can_be_given(shared_db):
    assert (
        context(shared_db, generated_at=GENERATED_AT).summary.generated_at == "2026-12-01 07:30 UTC"
    )


def test_coverage_counts_skipped_outside_the_scope(shared_context):
    assert shared_context.summary.coverage == Coverage(
        in_scope=3,
        assessed=2,
        partial=0,
        not_assessed=1,
        skipped=1,
        oldest_report_at="2026-12-01 03:00 UTC",
        oldest_report_account_id=OTHER,
        incomplete_count=1,
        is_complete=False,
    )


def test_coverage_agrees_with_the_run_record_so_no_warning(shared_context):
    assert shared_context.summary.warnings == []


def test_run_record_disagreeing_with_account_rows_is_warned(report_db):
    report_db.execute("update runs set accounts_in_scope = 5 where run_id = ?", [RUN_ID])
    (warning,) = context(report_db).summary.warnings
    assert warning.startswith("The run record counts 5 in scope, 2 assessed")


def test_failed_run_is_never_complete(report_db):
    report_db.execute("update runs set status = 'failed' where run_id = ?", [RUN_ID])
    ctx = context(report_db)
    assert ctx.summary.coverage.is_complete is False
    assert "status is 'failed'" in ctx.summary.warnings[0]


def test_not_assessed_account_has_no_findings_count_not_zero(shared_context):
    accounts = {a["account_id"]: a for a in shared_context.summary.accounts}
    assert accounts[NOT_ASSESSED]["open_findings"] is None
    assert accounts[SUSPENDED]["open_findings"] is None
    assert accounts[ASSESSED]["open_findings"] == 8  # 9 rows, one waived


def test_not_assessed_and_skipped_lists_carry_the_full_error(shared_context):
    ctx = shared_context
    assert [(a["account_id"], a["error"]) for a in ctx.account_detail.not_assessed] == [
        (NOT_ASSESSED, FAILURE)
    ]
    assert [(a["account_id"], a["state"]) for a in ctx.account_detail.skipped] == [
        (SUSPENDED, "SUSPENDED")
    ]


def test_severity_summary_equals_the_warehouse(shared_db, shared_context):
    expected = dict(
        shared_db.execute(
            "select severity, count(*) from findings where run_id = ? and not waived group by 1",
            [RUN_ID],
        ).fetchall()
    )
    summary = shared_context.summary.severity_summary
    assert [r["severity"] for r in summary] == ["critical", "high", "medium", "low"]
    assert {r["severity"]: r["open"] for r in summary} == expected
    assert {r["severity"]: r["waived"] for r in summary if r["waived"]} == {"high": 1}


def test_info_and_unknown_severities_appear_only_when_present(report_db):
    change = "update findings set severity = ? where rule_id = ?"
    report_db.execute(change, ["info", "INACTIVE_KEY_NOT_REMOVED"])
    report_db.execute(change, ["urgent", "MULTIPLE_ACTIVE_KEYS"])
    summary = context(report_db, with_explorer=False).summary.severity_summary
    assert [(r["severity"], r["css"]) for r in summary] == [
        ("critical", "critical"),
        ("high", "high"),
        ("medium", "medium"),
        ("low", "low"),
        ("info", "info"),
        ("urgent", "unknown"),
    ]


def test_accounts_are_ranked_by_open_findings_worst_first(shared_context):
    ranked = [a["account_id"] for a in shared_context.account_detail.ranked_accounts]
    assert ranked == [ASSESSED, NOT_ASSESSED, OTHER, SUSPENDED]


def test_owner_is_the_configured_owner_tags_address(shared_context):
    owners = {a["account_id"]: a["owner"] for a in shared_context.summary.accounts}
    # ASSESSED is tagged owner and team, not the configured owner-email: it has no owner
    assert owners == {
        ASSESSED: None,
        OTHER: "pay@example.com",  # tagged Owner-Email: tag keys compared without case
        NOT_ASSESSED: None,
        SUSPENDED: None,
    }


def delivered_owners(con: duckdb.DuckDBPyConnection) -> dict[str, str | None]:
    """Who delivery sends each account's findings to (None: the compliance list)."""
    from keyaudit.delivery.dispatch import _owners

    owners, _ = _owners(con, RUN_ID, compliance=["compliance@example.com"])
    return {
        account_id: owner.recipients[0] if owner.via == "owner" else None
        for owner in owners
        for account_id in owner.account_ids
    }


def test_the_report_names_the_owner_delivery_sends_to(report_db):
    """One rule for an account's owner: the report shows whom the e-mail goes to, and an account
    tagged only `team` (which the report once read as an owner tag) has none in either."""
    report_db.execute(
        "insert into owner_tags values (?, ?, null, 'team', 'payments@example.com', "
        "'payments@example.com')",
        [RUN_ID, ASSESSED],
    )
    report_db.execute(
        "insert into owner_tags values (?, ?, null, ?, 'ops@example.com', 'ops@example.com')",
        [RUN_ID, NOT_ASSESSED, OWNER_TAG.upper()],
    )
    shown = {
        a["account_id"]: a["owner"]
        for a in build_report_summary(report_db, RUN_ID, rules=RULES).accounts
    }
    delivered = delivered_owners(report_db)
    assert delivered == {ASSESSED: None, OTHER: "pay@example.com", NOT_ASSESSED: "ops@example.com"}
    assert {a: shown[a] for a in delivered} == delivered
    assert shown[SUSPENDED] is None  # skipped: not delivered, and no owner shown either


def test_section_rows_carry_key_age_and_last_use(shared_context):
    (section,) = [
        s
        for s in shared_context.account_detail.account_sections
        if s["account"]["account_id"] == ASSESSED
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
        s
        for s in shared_context.account_detail.account_sections
        if s["account"]["account_id"] == ASSESSED
    ]
    rows = {(r["rule_id"], r["user_name"]): r for r in section["rows"]}
    assert rows[("ACCESS_KEY_NOT_ROTATED", "alice")]["is_new"] is False
    assert rows[("ACCESS_KEY_NOT_ROTATED", "alice")]["days_open"] == 30
    assert rows[("ACCESS_KEY_UNUSED", "bob")]["is_new"] is True


def test_trend_has_this_run_and_the_previous_one_oldest_first(shared_db, shared_context):
    runs = shared_context.history.trend["runs"]
    assert [(r["run_id"], r["is_current"]) for r in runs] == [(PREV_RUN_ID, False), (RUN_ID, True)]
    for run in runs:
        assert run["open"] == count(
            shared_db,
            "select count(*) from findings where run_id = ? and not waived",
            run["run_id"],
        )
    assert shared_context.history.trend["chart_svg"].startswith("<svg")


def test_new_and_resolved_equal_the_lifecycle_views(shared_db, shared_context):
    changes = shared_context.summary.changes
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
    assert ctx.history.trend["previous_run_id"] is None
    assert ctx.summary.changes == {"available": False, "note": "first run", "previous_run_id": None}
    assert [r["run_id"] for r in ctx.history.trend["runs"]] == [PREV_RUN_ID]


def test_controls_come_from_the_control_view(shared_db, shared_context):
    controls = shared_context.compliance.controls
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
    keep_as_loading_does(report_db)  # as loading the run again would
    requirements = context(report_db, with_explorer=False).compliance.controls["requirements"]
    multiple = next(r for r in requirements if r["rules"] == ["MULTIPLE_ACTIVE_KEYS"])
    assert ([p["failing"] for p in multiple["populations"]], multiple["result"]) == ([0], "pass")


def test_waivers_are_listed_by_status(shared_context):
    waivers = shared_context.waivers
    assert [w["waiver_id"] for w in waivers["active"]] == ["W-7"]
    assert [w["waiver_id"] for w in waivers["expired"]] == ["W-8"]
    assert [w["waiver_id"] for w in waivers["unused"]] == ["W-9"]
    assert waivers["active"][0]["scope"] == f"account {ASSESSED}, user carol"


def test_thresholds_in_force_come_from_the_run(shared_context):
    rotated = next(
        r for r in shared_context.methodology.thresholds if r["rule_id"] == "ACCESS_KEY_NOT_ROTATED"
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
    assert ctx.summary.rule_summary[0]["title"] == "Root user has an active access key"


def test_findings_of_a_rule_nobody_describes_are_labelled(report_db):
    report_db.execute("delete from run_rules")
    rules = [r for r in RULES if r.rule_id != "MULTIPLE_ACTIVE_KEYS"]
    ctx = build_report_context(report_db, RUN_ID, rules=rules, with_explorer=False)
    titles = {r["rule_id"]: r["title"] for r in ctx.summary.rule_summary}
    assert titles["MULTIPLE_ACTIVE_KEYS"].startswith("(not in the rule catalogue")


def test_evidence_lists_every_file_of_the_run(shared_db, shared_context):
    files = shared_context.evidence["files"]
    assert len(files) == count(shared_db, "select count(*) from evidence where run_id = ?", RUN_ID)
    assert files[0]["path"] == "manifest.json"


def test_sections_in_order(shared_context):
    assert [s["id"] for s in shared_context.sections] == [
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
    assert ctx.summary.coverage.assessed == 2
    assert ctx.summary.coverage.partial == 1
    assert [a["error"] for a in ctx.account_detail.partial] == ["ListAccessKeys denied"]
    assert ctx.summary.warnings == []


# --- per-owner slices -------------------------------------------------------------------------


def test_a_slice_counts_only_its_accounts(shared_db):
    ctx = build_report_context(shared_db, RUN_ID, rules=RULES, account_ids=[OTHER, NOT_ASSESSED])
    assert [a["account_id"] for a in ctx.summary.accounts] == [NOT_ASSESSED, OTHER]
    assert ctx.summary.coverage.in_scope == 2
    assert ctx.summary.coverage.not_assessed == 1
    assert ctx.summary.totals == {"open": 2, "waived": 0, "total": 2}
    assert {f["path"] for f in ctx.evidence["files"]} == {
        "run.json",
        "manifest.json",
        f"{OTHER}/credential_report.csv",
        f"{NOT_ASSESSED}/collection.json",
    }
    assert [w["waiver_id"] for w in ctx.waivers["unused"]] == ["W-9"]
    assert ctx.waivers["active"] == []
    assert [r["open"] for r in ctx.history.trend["runs"]] == [0, 2]
    assert ctx.summary.slice == {"account_ids": [NOT_ASSESSED, OTHER], "count": 2}
    assert ctx.summary.warnings == []


def test_a_slice_naming_an_account_the_run_lacks_is_refused(shared_db):
    with pytest.raises(UnknownAccountError) as refused:
        build_report_context(shared_db, RUN_ID, rules=RULES, account_ids=[OTHER, "999999999999"])
    assert str(refused.value) == (
        f"account 999999999999 is not in run {RUN_ID} — check the id; "
        f"`keyaudit query --file run_accounts --param run_id={RUN_ID}` lists the run's accounts"
    )


def test_a_slice_of_an_unassessed_account_evaluates_no_control(shared_db):
    ctx = build_report_context(shared_db, RUN_ID, rules=RULES, account_ids=[NOT_ASSESSED])
    results = {r["rules"][0]: r["result"] for r in ctx.compliance.controls["rows"]}
    assert results.pop("ACCOUNT_NOT_ASSESSED") == "fail"
    assert results and set(results.values()) == {"not evaluated"}
    assert ctx.compliance.controls["passing"] == 0


def test_a_pass_over_part_of_the_scope_says_how_far_it_reaches(shared_db):
    ctx = build_report_context(shared_db, RUN_ID, rules=RULES, account_ids=[OTHER, NOT_ASSESSED])
    passes = [r for r in ctx.compliance.controls["rows"] if r["result"] == "pass"]
    assert passes
    assert {r["qualifier"] for r in passes} == {"pass in 1 of 2 accounts; 1 not assessed"}


def test_a_slice_refuses_ids_that_are_not_account_ids(shared_db):
    with pytest.raises(ValueError, match=r"^account_ids: 12345 is not a 12-digit account id"):
        build_report_context(shared_db, RUN_ID, rules=RULES, account_ids=[12345])  # type: ignore[list-item]
