"""Collecting the permissions of IAM users (issue 15.2): every way a policy reaches a user ends up
in iam_user_policies, boundaries in iam_user_privilege_inputs, as raw evidence listed in the
manifests; a denied listing leaves the account partial and names the permission; `[collection]
privilege = false` makes no call at all; no call is ever repeated in an account."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from keyaudit.config import Config
from keyaudit.integrity.verify import verify_run
from keyaudit.sources.aws import privilege
from keyaudit.sources.demo import simulated_organization
from keyaudit.sources.demo.iam import AWS_MANAGED
from keyaudit.sources.demo.personas import PERSONAS
from keyaudit.warehouse.db import connect
from keyaudit.warehouse.load import _privilege_status
from tests.faults.fault_harness import (
    AuditResult,
    FaultInjector,
    VirtualTime,
    install_virtual_time,
    run_audit,
)

# slow end to end: `make test-slow` runs it, `make test` leaves it out, CI runs both
pytestmark = pytest.mark.slow

AS_OF = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
PRIVILEGE_CALLS = {"iam:GetAccountAuthorizationDetails", "iam:GetPolicy", "iam:GetPolicyVersion"}
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
BOUNDARY = "arn:aws:iam::aws:policy/ReadOnlyAccess"


@pytest.fixture(scope="module")
def org() -> Iterator[Any]:
    # every persona in every account
    with simulated_organization(AS_OF, members=3, users_per_account=len(PERSONAS)) as org:
        yield org


class CallParams:
    """Every API call of every account session, with its parameters (a repeated call shows)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()

    def customize(self, account_id: str, session: boto3.Session) -> None:
        def record(params: dict[str, Any], model: Any, **_: Any) -> None:
            call = (account_id, model.name, json.dumps(params, sort_keys=True, default=str))
            with self._lock:
                self.calls.append(call)

        session.events.register("before-parameter-build", record)

    def repeated(self) -> list[tuple[str, str, str]]:
        return [call for call, n in Counter(self.calls).items() if n > 1]


def with_boundary(account: str, user_name: str) -> Any:
    """moto keeps no user permissions boundary: add one to a user's details, as IAM reports it."""

    def customize(account_id: str, session: boto3.Session) -> None:
        if account_id != account:
            return

        def add(parsed: dict[str, Any], **_: Any) -> None:
            for user in parsed.get("UserDetailList", []):
                if user["UserName"] == user_name:
                    user["PermissionsBoundary"] = {
                        "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
                        "PermissionsBoundaryArn": BOUNDARY,
                    }

        session.events.register("after-call.iam.GetAccountAuthorizationDetails", add)

    return customize


def assessed(org: Any) -> list[str]:
    return [
        a.account_id
        for a in org.accounts
        if a.state == "ACTIVE" and a.account_id != org.missing_role_account_id
    ]


def user_of(org: Any, account_id: str, persona: str) -> str:
    return next(
        u.user_name for u in org.users if u.account_id == account_id and u.persona == persona
    )


def rows(result: AuditResult, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    con = connect(result.warehouse, read_only=True)
    try:
        return con.execute(sql, [result.run_id, *params]).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def collected(org: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[AuditResult, CallParams]:
    """One fault-free run; the first assessed member's admin-direct user has a boundary."""
    params = CallParams()
    member = next(a for a in assessed(org) if a != org.management_account_id)
    boundary = with_boundary(member, user_of(org, member, "admin-direct"))
    with pytest.MonkeyPatch.context() as monkeypatch:
        vt = VirtualTime()
        install_virtual_time(monkeypatch, vt)
        result = run_audit(
            org,
            tmp_path_factory.mktemp("privilege"),
            vt=vt,
            extra_customizers=[params.customize, boundary],
        )
    return result, params


def test_every_way_a_policy_reaches_a_user_is_in_iam_user_policies(org, collected):
    result, _ = collected
    for account in assessed(org):
        found = {
            (user, via, group, kind, name, arn): json.loads(document) if document else None
            for user, via, group, kind, name, arn, document in rows(
                result,
                "select user_name, via, group_name, policy_type, policy_name, policy_arn, document "
                "from iam_user_policies where run_id = ? and account_id = ?",
                account,
            )
        }
        direct = user_of(org, account, "admin-direct")
        assert found[(direct, "user", None, "managed", "AdministratorAccess", ADMIN)] == {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        }
        grouped = user_of(org, account, "admin-group")
        assert (grouped, "group", "admins", "managed", "AdministratorAccess", ADMIN) in found
        inline = user_of(org, account, "admin-inline-star")
        assert found[(inline, "user", None, "inline", "allow-everything", None)]["Statement"] == [
            {"Effect": "Allow", "Action": "*", "Resource": "*"}
        ]
        customer = user_of(org, account, "admin-iam-star")
        arn = f"arn:aws:iam::{account}:policy/iam-full-access"
        assert found[(customer, "user", None, "managed", "iam-full-access", arn)]["Statement"] == [
            {"Effect": "Allow", "Action": "iam:*", "Resource": "*"}
        ]
        inactive = user_of(org, account, "admin-inactive-key")
        assert (inactive, "group", "admins", "managed", "AdministratorAccess", ADMIN) in found
        keyless = user_of(org, account, "admin-no-keys")
        assert (keyless, "user", None, "managed", "AdministratorAccess", ADMIN) in found
        reader = user_of(org, account, "read-only-old-key")
        read_only = "arn:aws:iam::aws:policy/ReadOnlyAccess"
        document = found[(reader, "user", None, "managed", "ReadOnlyAccess", read_only)]
        assert document["Statement"][0]["Action"] != "*"
        plain = {u.user_name for u in org.users if u.account_id == account and not u.grants}
        assert not {key[0] for key in found} & plain
        assert all(document is not None for document in found.values())


def test_every_user_is_a_privilege_input_and_a_boundary_is_recorded(org, collected):
    result, _ = collected
    member = next(a for a in assessed(org) if a != org.management_account_id)
    inputs = rows(
        result,
        "select account_id, user_name, permissions_boundary_arn from iam_user_privilege_inputs "
        "where run_id = ?",
    )
    assert {(a, u) for a, u, _ in inputs} == {
        (u.account_id, u.user_name) for u in org.users if u.account_id in assessed(org)
    }
    bounded = {(a, u): b for a, u, b in inputs if b is not None}
    assert bounded == {(member, user_of(org, member, "admin-direct")): BOUNDARY}


def test_privilege_status_is_collected_and_the_evidence_is_listed_and_verified(org, collected):
    result, _ = collected
    statuses = dict(
        rows(result, "select account_id, privilege_status from accounts where run_id = ?")
    )
    assert {statuses[a] for a in assessed(org)} == {"collected"}
    assert statuses[org.missing_role_account_id] == "not collected"  # never reached
    assert result.summary.accounts_partial == 0
    for account in assessed(org):
        manifest = json.loads((result.evidence / account / "manifest.json").read_text())
        kinds = {f["path"].split("/")[-1]: f["kind"] for f in manifest["files"]}
        assert kinds[privilege.DETAILS_FILE] == "authorization_details"
        assert kinds[privilege.AWS_POLICIES_FILE] == "aws_managed_policies"
        assert kinds[privilege.OUTCOME_FILE] == "privilege_outcome"
    con = connect(result.warehouse, read_only=True)
    try:
        verification = verify_run(con, result.evidence.parent, result.run_id)
        kinds = set(
            con.execute(
                "select distinct kind from evidence where run_id = ?", [result.run_id]
            ).fetchall()
        )
    finally:
        con.close()
    assert verification.ok, verification.differences
    assert {("authorization_details",), ("aws_managed_policies",)} <= kinds


def test_no_call_is_repeated_and_aws_managed_documents_are_fetched_once_each(org, collected):
    _, params = collected
    assert params.repeated() == []
    per_account = Counter((a, op) for a, op, _ in params.calls)
    for account in assessed(org):
        assert per_account[(account, "GetAccountAuthorizationDetails")] == 1
        # each AWS-managed policy the demo attaches: one GetPolicy and one GetPolicyVersion
        assert per_account[(account, "GetPolicy")] == len(AWS_MANAGED)
        assert per_account[(account, "GetPolicyVersion")] == len(AWS_MANAGED)


def test_denied_listing_leaves_the_account_partial_naming_the_permission(org, vt, tmp_path):
    faults = FaultInjector()
    denied = next(a for a in assessed(org) if a != org.management_account_id)
    faults.fail("iam.GetAccountAuthorizationDetails", "AccessDenied", accounts=[denied])
    result = run_audit(org, tmp_path, vt=vt, injector=faults)
    action = "iam:GetAccountAuthorizationDetails"
    assert result.accounts[denied].status == "partial"
    assert result.error(denied) == (
        f"account {denied}: AccessDenied on {action}: User is not authorized to perform: "
        f"{action} because no identity-based policy allows the {action} action — grant {action} "
        "to the audit role; user privilege is unknown"
    )
    statuses = dict(
        rows(
            result,
            "select account_id, privilege_status || '|' || coalesce(privilege_error, '') "
            "from accounts where run_id = ?",
        )
    )
    assert statuses[denied] == f"failed|{result.error(denied).split(': ', 1)[1]}"
    others = [a for a in assessed(org) if a != denied]
    assert {result.accounts[a].status for a in others} == {"assessed"}
    assert not rows(
        result, "select * from iam_user_policies where run_id = ? and account_id = ?", denied
    )
    assert not (result.evidence / denied / privilege.DETAILS_FILE).exists()


def test_privilege_off_makes_no_privilege_call_and_no_account_partial(org, vt, tmp_path):
    recorder = FaultInjector()
    config = Config.model_validate({"collection": {"privilege": False}})
    result = run_audit(org, tmp_path, vt=vt, injector=recorder, config=config)
    assert {op for _, op in recorder.calls} & PRIVILEGE_CALLS == set()
    assert {call for _, call in recorder.calls} >= {"iam:ListUsers", "iam:GetAccountSummary"}
    assert result.summary.accounts_partial == 0
    statuses = dict(
        rows(result, "select account_id, privilege_status from accounts where run_id = ?")
    )
    assert {statuses[a] for a in assessed(org)} == {"off"}
    assert not rows(result, "select * from iam_user_policies where run_id = ?")


def test_evidence_without_privilege_outcome_is_not_collected(tmp_path: Path):
    """A folder of files (or evidence from before version 7) says nothing about permissions."""
    assert _privilege_status(tmp_path) == {
        "privilege_status": "not collected",
        "privilege_error": None,
    }


def test_url_encoded_documents_and_missing_groups_are_read():
    pages = [
        {
            "UserDetailList": [
                {
                    "UserName": "ops",
                    "GroupList": ["gone"],
                    "UserPolicyList": [
                        {
                            "PolicyName": "p",
                            "PolicyDocument": "%7B%22Statement%22%3A%5B%5D%7D",
                        }
                    ],
                    "AttachedManagedPolicies": [{"PolicyName": "X", "PolicyArn": ADMIN}],
                }
            ]
        }
    ]
    policies, inputs = privilege.user_privilege_rows(pages, [])
    assert policies == [
        {
            "user_name": "ops",
            "via": "user",
            "group_name": None,
            "policy_type": "inline",
            "policy_name": "p",
            "policy_arn": None,
            "document": '{"Statement": []}',
        },
        {
            "user_name": "ops",
            "via": "user",
            "group_name": None,
            "policy_type": "managed",
            "policy_name": "X",
            "policy_arn": ADMIN,
            "document": None,  # not fetched
        },
    ]
    assert inputs == [{"user_name": "ops", "permissions_boundary_arn": None}]
