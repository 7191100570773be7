"""Service control policies in a run (issue 19): the pipeline reads them once, after discovery,
into run evidence that is listed and verified; a denied call fails the SCPs in one line and the
accounts are collected all the same; throttling is retried; `[collection] scps = false` and files
runs read nothing. The demo organization denies IAM to the accounts of its Sandbox OU."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from keyaudit.config import Config
from keyaudit.evidence.scps import SCP_FILE, read_scps, scp_levels
from keyaudit.integrity.verify import verify_run
from keyaudit.sources.demo import simulated_organization
from keyaudit.sources.demo.organization import (
    DENY_IAM_SCP_DOCUMENT,
    DENY_IAM_SCP_NAME,
    DENY_IAM_SCP_OU,
)
from keyaudit.warehouse.db import connect
from tests.auditor.given import A, audit_files, folder_of, report
from tests.faults.fault_harness import (
    AuditResult,
    FaultInjector,
    run_audit,
)

# slow end to end: `make test-slow` runs it, `make test` leaves it out, CI runs both
pytestmark = pytest.mark.slow

AS_OF = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
GRANT = (
    "grant organizations:ListRoots, ListPolicies, DescribePolicy, ListTargetsForPolicy to the "
    "auditing principal in the management or a delegated administrator account "
    "(docs/permissions.md)"
)


@pytest.fixture(scope="module")
def demo() -> Iterator[Any]:
    with simulated_organization(AS_OF, members=8, users_per_account=1) as org:
        yield org


def expected_statuses(org: Any) -> dict[str, str]:
    return {
        a.account_id: "skipped"
        if a.state != "ACTIVE"
        else "not_assessed"
        if a.account_id == org.missing_role_account_id
        else "assessed"
        for a in org.accounts
    }


def scp_evidence(result: AuditResult) -> dict[str, Any]:
    found = read_scps(result.evidence)
    assert found is not None
    return found


def test_the_demo_run_keeps_its_scps_as_run_evidence_listed_and_verified(demo, vt, tmp_path):
    recorder = FaultInjector()
    result = run_audit(demo, tmp_path, vt=vt, injector=recorder)
    scps = scp_evidence(result)
    assert (scps["status"], scps["enabled"]) == ("collected", True)
    (sandbox_ml,) = demo.iam_denied_by_scp
    assert {sandbox_ml} == {
        a.account_id for a in demo.accounts if a.ou_path == DENY_IAM_SCP_OU and a.state == "ACTIVE"
    }
    (deny,) = [p for p, e in scps["policies"].items() if e["name"] == DENY_IAM_SCP_NAME]
    sandbox_ou = scps["chains"][sandbox_ml][-2]
    assert scps["attachments"][sandbox_ou] == sorted(["p-FullAWSAccess", deny])
    levels = dict(scp_levels(scps, sandbox_ml))
    assert (
        f"SCP {DENY_IAM_SCP_NAME} ({deny}) attached to {sandbox_ou}",
        DENY_IAM_SCP_DOCUMENT,
    ) in levels[sandbox_ou]
    assert scp_levels(scps, demo.management_account_id) == []
    scp_calls = [a for who, a in recorder.calls if a.startswith("organizations:") and who == "base"]
    assert [c for c in scp_calls if c not in DISCOVERY] == [
        "organizations:ListRoots",
        "organizations:ListPolicies",
        *["organizations:DescribePolicy", "organizations:ListTargetsForPolicy"] * 2,
    ]
    con = connect(result.warehouse, read_only=True)
    try:
        listed = con.execute(
            "select account_id, kind from evidence where run_id = ? and path = ?",
            [result.run_id, SCP_FILE],
        ).fetchall()
        verification = verify_run(con, result.evidence.parent, result.run_id)
    finally:
        con.close()
    assert listed == [(None, "service_control_policies")]
    assert verification.ok, verification.differences


DISCOVERY = {
    "organizations:DescribeOrganization",
    "organizations:ListAccounts",
    "organizations:ListParents",
    "organizations:DescribeOrganizationalUnit",
    "organizations:ListTagsForResource",
}


def test_denied_scp_listing_fails_in_one_line_and_the_run_goes_on(demo, vt, tmp_path):
    faults = FaultInjector()
    faults.fail("organizations.ListPolicies", "AccessDeniedException")
    result = run_audit(demo, tmp_path, vt=vt, injector=faults)
    scps = scp_evidence(result)
    action = "organizations:ListPolicies"
    assert scps["status"] == "failed"
    assert scps["error"] == (
        f"{action} denied (AccessDeniedException: User is not authorized to perform: {action} "
        f"because no identity-based policy allows the {action} action) — {GRANT}"
    )
    assert "\n" not in scps["error"]
    assert result.statuses() == expected_statuses(demo)
    assert result.summary.accounts_partial == 0


def test_throttled_scp_calls_are_retried_to_a_full_collection(demo, vt, tmp_path):
    faults = FaultInjector()
    for call in ("ListRoots", "ListPolicies", "DescribePolicy", "ListTargetsForPolicy"):
        faults.fail(f"organizations.{call}", "TooManyRequestsException", times=2)
    result = run_audit(demo, tmp_path, vt=vt, injector=faults)
    scps = scp_evidence(result)
    assert (scps["status"], scps["error"], scps["enabled"]) == ("collected", None, True)
    assert len(scps["policies"]) == 2
    assert sum(sum(f.served.values()) for f in faults.faults) == 2 * 4
    assert result.statuses() == expected_statuses(demo)


def test_scps_off_in_the_configuration_make_no_scp_call(demo, vt, tmp_path):
    recorder = FaultInjector()
    config = Config.model_validate({"collection": {"scps": False}})
    result = run_audit(demo, tmp_path, vt=vt, injector=recorder, config=config)
    assert scp_evidence(result)["status"] == "off"
    called = {a for _, a in recorder.calls}
    assert not called & {
        "organizations:ListRoots",
        "organizations:ListPolicies",
        "organizations:DescribePolicy",
        "organizations:ListTargetsForPolicy",
    }


def test_a_files_run_writes_no_scp_evidence(tmp_path):
    run = audit_files(folder_of(tmp_path, {f"{A}.csv": report(A)}), tmp_path)
    assert not (run.store.run_dir / SCP_FILE).exists()
    assert read_scps(run.store.run_dir) is None
