"""Fault matrix, permission and credential-report rows: AccessDenied leaves an account not
assessed (or partial) with the missing permission named; a report stuck INPROGRESS or expiring
between generate and get is waited for, regenerated, and given up on in bounded time."""

from __future__ import annotations

from typing import Any

import pytest

from tests.faults.fault_harness import AuditResult, run_audit

# slow end to end: `make test-slow` runs it, `make test` leaves it out, CI runs both
pytestmark = pytest.mark.slow

MISSING_READ = "because no identity-based policy allows the {0} action"


def with_keys(org: Any, healthy: list[str]) -> str:
    """A healthy member account with at least one IAM user access key."""
    return next(a for a in healthy if any(u.keys for u in org.users if u.account_id == a))


def others_unchanged(result: AuditResult, baseline: AuditResult, account: str) -> None:
    mine = {a: s for a, s in result.statuses().items() if a != account}
    assert mine == {a: s for a, s in baseline.statuses().items() if a != account}
    theirs = {f for f in baseline.findings if f[1] != account}
    assert {f for f in result.findings if f[1] != account} == theirs


def test_access_denied_on_assume_role_leaves_the_account_not_assessed_naming_the_permission(
    org, baseline, vt, faults, tmp_path, healthy
):
    denied = healthy[0]
    faults.fail("sts.AssumeRole", "AccessDenied", accounts=[denied])
    result = run_audit(org, tmp_path, vt=vt, injector=faults)
    role = f"arn:aws:iam::{denied}:role/OrganizationAccountAccessRole"
    assert result.accounts[denied].status == "not_assessed"
    assert result.error(denied) == (
        f"account {denied}: AccessDenied on sts:AssumeRole {role}: User is not authorized to "
        "perform: sts:AssumeRole because no identity-based policy allows the sts:AssumeRole "
        "action — check that the role exists and its trust policy admits the auditing account"
    )
    assert faults.count("iam:GenerateCredentialReport", denied) == 0
    others_unchanged(result, baseline, denied)
    assert result.summary.accounts_not_assessed == baseline.summary.accounts_not_assessed + 1


@pytest.mark.parametrize("action", ["GenerateCredentialReport", "GetCredentialReport"])
def test_access_denied_on_the_credential_report_leaves_the_account_not_assessed(
    org, baseline, vt, faults, tmp_path, healthy, action
):
    denied = healthy[1]
    faults.fail(f"iam.{action}", "AccessDenied", accounts=[denied])
    result = run_audit(org, tmp_path, vt=vt, injector=faults)
    permission = f"iam:{action}"
    assert result.accounts[denied].status == "not_assessed"
    assert result.error(denied) == (
        f"account {denied}: AccessDenied on {permission}: User is not authorized to perform: "
        f"{permission} {MISSING_READ.format(permission)} — grant {permission} to the audit role"
    )
    assert ("ACCOUNT_NOT_ASSESSED", denied) in {(f[0], f[1]) for f in result.findings}
    assert not [f for f in result.findings if f[1] == denied and f[0] != "ACCOUNT_NOT_ASSESSED"]
    others_unchanged(result, baseline, denied)


@pytest.mark.parametrize(
    "action", ["ListUsers", "ListAccessKeys", "GetAccessKeyLastUsed", "GetAccountSummary"]
)
def test_access_denied_after_the_report_leaves_the_account_partial_naming_the_permission(
    org, baseline, vt, faults, tmp_path, healthy, action
):
    denied = with_keys(org, healthy)
    faults.fail(f"iam.{action}", "AccessDenied", accounts=[denied])
    result = run_audit(org, tmp_path, vt=vt, injector=faults)
    permission = f"iam:{action}"
    assert result.accounts[denied].status == "partial"
    assert result.error(denied) == (
        f"account {denied}: AccessDenied on {permission}: User is not authorized to perform: "
        f"{permission} {MISSING_READ.format(permission)} — grant {permission} to the audit role;"
        " findings use the credential report only"
        # without the users, their SSH keys and other credentials cannot be listed (issue 22.1)
        + (
            "; SSH public keys, service-specific credentials and signing certificates are unknown"
            if action == "ListUsers"
            else ""
        )
    )
    assert result.summary.accounts_partial == 1
    assert result.summary.coverage == baseline.summary.coverage  # partial still counts
    assert (result.evidence / denied / "credential_report.csv").is_file()
    others_unchanged(result, baseline, denied)


def test_report_stuck_in_progress_is_abandoned_at_the_report_deadline(
    org, baseline, vt, faults, tmp_path, healthy
):
    stuck = healthy[2]
    faults.rewrite("iam.GenerateCredentialReport", _in_progress, accounts=[stuck])
    faults.fail("iam.GetCredentialReport", "ReportInProgress", accounts=[stuck])
    result = run_audit(org, tmp_path, vt=vt, injector=faults)
    assert result.error(stuck) == (
        f"account {stuck}: credential report not ready after 300 s (last state INPROGRESS) — "
        "raise collection.report_deadline_seconds or rerun later"
    )
    assert 300 <= result.elapsed[stuck] < 301
    polls = vt.waits["keyaudit"]
    assert polls[:6] == [2, 4, 8, 16, 30, 30]  # capped exponential backoff, never zero
    assert sum(polls) == pytest.approx(300)
    others_unchanged(result, baseline, stuck)


def test_report_in_progress_for_a_while_is_waited_for_then_collected(
    org, baseline, vt, faults, tmp_path, healthy
):
    slow = healthy[2]
    faults.rewrite("iam.GenerateCredentialReport", _in_progress, accounts=[slow], times=1)
    faults.fail("iam.GetCredentialReport", "ReportInProgress", accounts=[slow], times=3)
    result = run_audit(org, tmp_path, vt=vt, injector=faults)
    assert result.statuses() == baseline.statuses()
    assert result.findings == baseline.findings
    assert vt.waits["keyaudit"] == [2, 4, 8, 16]
    assert faults.count("iam:GetCredentialReport", slow) == 4


def test_report_expired_between_generate_and_get_is_regenerated(
    org, baseline, vt, faults, tmp_path, healthy
):
    expired = healthy[3]
    faults.fail("iam.GetCredentialReport", "ReportExpired", accounts=[expired], times=1)
    result = run_audit(org, tmp_path, vt=vt, injector=faults)
    assert result.statuses() == baseline.statuses()
    assert result.findings == baseline.findings
    assert faults.count("iam:GenerateCredentialReport", expired) == 2


def test_report_that_keeps_expiring_leaves_the_account_not_assessed(
    org, baseline, vt, faults, tmp_path, healthy
):
    expired = healthy[3]
    faults.fail("iam.GetCredentialReport", "ReportExpired", accounts=[expired])
    result = run_audit(org, tmp_path, vt=vt, injector=faults)
    assert result.error(expired) == (
        f"account {expired}: ReportExpired on iam:GetCredentialReport: The report has expired. "
        "Reports are only retained for 4 hours. — still so after 2 regeneration(s) of the report;"
        " rerun later"
    )
    assert faults.count("iam:GenerateCredentialReport", expired) == 3
    others_unchanged(result, baseline, expired)


def _in_progress(parsed: dict[str, Any]) -> None:
    parsed["State"] = "INPROGRESS"
    parsed["Description"] = "Report generation in progress"
