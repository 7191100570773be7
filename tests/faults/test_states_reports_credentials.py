"""Fault matrix, account-state, malformed-report and credential-expiry rows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from keyaudit.sources.credential_report import COLUMNS
from tests.faults.fault_harness import expired_credentials, run_audit

# slow end to end: `make test-slow` runs it, `make test` leaves it out, CI runs both
pytestmark = pytest.mark.slow


def test_suspended_closed_and_pending_closure_accounts_are_skipped_with_their_state(
    org, baseline, vt, faults, tmp_path, healthy
):
    states = dict(zip(healthy[:3], ("SUSPENDED", "CLOSED", "PENDING_CLOSURE"), strict=True))
    faults.rewrite("organizations.ListAccounts", _set_states(states))
    result = run_audit(org, tmp_path, vt=vt, injector=faults)
    for account, state in states.items():
        row = result.accounts[account]
        assert (row.status, row.state) == ("skipped", state)
        assert row.error == f"account state is {state}; only ACTIVE accounts are audited"
    assert not faults.accounts_called() & set(states), "a skipped account was called"
    assert result.summary.accounts_skipped == baseline.summary.accounts_skipped + 3
    assert result.summary.accounts_in_scope == baseline.summary.accounts_in_scope - 3
    assert not {f for f in result.findings if f[1] in states}  # skipped is not "not assessed"


def test_retired_status_field_still_skips_a_suspended_account(
    org, baseline, vt, faults, tmp_path, healthy
):
    def status_only(parsed: dict[str, Any]) -> None:
        for account in parsed["Accounts"]:
            account["Status"] = "SUSPENDED" if account["Id"] == healthy[0] else account["State"]
            del account["State"]

    faults.rewrite("organizations.ListAccounts", status_only)
    result = run_audit(org, tmp_path, vt=vt, injector=faults)
    assert (result.accounts[healthy[0]].status, result.accounts[healthy[0]].state) == (
        "skipped",
        "SUSPENDED",
    )
    assert result.summary.accounts_skipped == baseline.summary.accounts_skipped + 1


def _drop_column(name: str) -> Callable[[bytes], bytes]:
    def change(content: bytes) -> bytes:
        index = COLUMNS.index(name)
        lines = [line.split(",") for line in content.decode().split("\n")]
        return "\n".join(",".join(c for i, c in enumerate(f) if i != index) for f in lines).encode()

    return change


def _bad_date(content: bytes) -> bytes:
    header, root, *users = content.decode().split("\n")
    fields = users[0].split(",")
    fields[COLUMNS.index("user_creation_time")] = "2026-02-30T10:00:00+00:00"
    return "\n".join([header, root, ",".join(fields), *users[1:]]).encode()


def _truncated(content: bytes) -> bytes:
    lines = content.decode().split("\n")
    return "\n".join([*lines[:-1], lines[-1][:60]]).encode()  # cut inside the last row


MALFORMED = {
    "missing column": (
        _drop_column("mfa_active"),
        "line 1: header has missing column(s) mfa_active — expected the 22 credential report "
        "columns in AWS order (user, arn, ..., cert_2_last_rotated); use the file as IAM "
        "returns it",
    ),
    "bad date": (
        _bad_date,
        "line 3, column user_creation_time: '2026-02-30T10:00:00+00:00' is neither a timestamp "
        "like 2024-01-31T09:15:00+00:00 nor one of N/A, no_information, not_supported — fetch "
        "the report again or fix the file",
    ),
    "truncated": (_truncated, "— the file looks truncated or edited; fetch the report again"),
    "empty body": (
        lambda content: b"",
        ": the file is empty — expected a CSV starting with the header "
        "'user,arn,user_creation_time,...'; fetch the report again or fix the file",
    ),
}


@pytest.mark.parametrize("kind", MALFORMED)
def test_malformed_credential_report_leaves_only_that_account_not_assessed(
    org, baseline, vt, faults, tmp_path, healthy, kind
):
    broken = healthy[1]
    change, reason = MALFORMED[kind]

    def corrupt(parsed: dict[str, Any]) -> None:
        parsed["Content"] = change(parsed["Content"])

    faults.rewrite("iam.GetCredentialReport", corrupt, accounts=[broken])
    result = run_audit(org, tmp_path, vt=vt, injector=faults)
    error = result.error(broken)
    assert result.accounts[broken].status == "not_assessed"
    assert error.startswith(f"account {broken}: account {broken} credential report")
    assert reason in error
    saved = (result.evidence / broken / "credential_report.csv").read_bytes()
    assert saved == change(_report_of(baseline, broken))  # the bad file is kept as evidence
    assert faults.count("iam:ListUsers", broken) == 0  # nothing built on a report not trusted
    others = {a: s for a, s in baseline.statuses().items() if a != broken}
    assert {a: s for a, s in result.statuses().items() if a != broken} == others
    assert {f for f in result.findings if f[1] != broken} == {
        f for f in baseline.findings if f[1] != broken
    }


def test_expired_role_credentials_are_refreshed_and_no_account_is_lost(
    org, baseline, vt, faults, tmp_path, healthy
):
    # Every member's first credentials expired an hour ago, as after a run longer than the
    # role session: botocore's RefreshableCredentials must assume the role again.
    faults.rewrite("sts.AssumeRole", expired_credentials, times=1)
    result = run_audit(org, tmp_path, vt=vt, injector=faults)
    assert result.statuses() == baseline.statuses()
    assert result.findings == baseline.findings
    for account in healthy:
        assert faults.count("sts:AssumeRole", account) == 2, account


def test_role_credentials_expiring_mid_account_are_refreshed_before_the_next_call(
    org, baseline, vt, faults, tmp_path, healthy
):
    # The hour runs out between the credential report and ListUsers: botocore must notice
    # before signing the next request and assume the role again, mid-account.
    member = healthy[0]

    def expire_now(account_id: str, session: boto3.Session) -> None:
        if account_id != member:
            return

        def expire(**_: Any) -> None:
            credentials = session.get_credentials()
            credentials._expiry_time = datetime.now(UTC) - timedelta(minutes=1)  # botocore's own

        session.events.register("after-call.iam.GetCredentialReport", expire)

    result = run_audit(org, tmp_path, vt=vt, injector=faults, extra_customizers=[expire_now])
    assert result.statuses() == baseline.statuses()
    assert result.findings == baseline.findings
    assert faults.count("sts:AssumeRole", member) == 2
    order = [a for who, a in faults.calls if who == member]
    assert order.index("sts:AssumeRole", 1) > order.index("iam:GetCredentialReport")


def _report_of(result: Any, account: str) -> bytes:
    return (result.evidence / account / "credential_report.csv").read_bytes()


def _set_states(states: dict[str, str]) -> Callable[[dict[str, Any]], None]:
    def change(parsed: dict[str, Any]) -> None:
        for account in parsed["Accounts"]:
            if account["Id"] in states:
                account["State"] = states[account["Id"]]

    return change
