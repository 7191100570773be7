"""deploy/ holds least privilege: only reads, only the actions keyaudit calls, every one of
them used by a run; the CloudFormation template grants exactly the audit-role policy."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from keyaudit.paths import PROJECT_ROOT
from keyaudit.sources.aws.session import ROLE_SESSION_SECONDS
from keyaudit.sources.demo import simulated_organization
from keyaudit.sources.demo.credentials import certificate_pem
from keyaudit.sources.demo.iam import grant, iam_client
from tests.faults.fault_harness import run_audit
from tests.security.deploy_files import (
    ORG_PLACEHOLDER,
    ROLE,
    actions,
    policy,
    rendered_role,
    template,
)

AS_OF = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
NEEDS_NO_PERMISSION = {"sts:GetCallerIdentity"}  # always allowed, even under an explicit Deny


def test_deploy_policies_only_read_and_name_every_action():
    for name in ("audit-role-policy.json", "management-policy.json"):
        document = policy(name)
        assert {s["Effect"] for s in document["Statement"]} == {"Allow"}
        for action in actions(document):
            assert "*" not in action, f"{name}: wildcard action {action}"
            verb = action.split(":")[1]
            assert verb.startswith(("Get", "List", "Describe", "GenerateCredentialReport")) or (
                action == "sts:AssumeRole"
            ), f"{name}: {action} is not a read"
    assume = next(
        s for s in policy("management-policy.json")["Statement"] if s["Action"] == "sts:AssumeRole"
    )
    assert assume["Resource"] == f"arn:aws:iam::*:role/{ROLE}"  # that role only, never "*"


def test_the_audit_role_may_be_assumed_only_in_the_organization_with_a_documented_placeholder():
    (assume,) = [
        s for s in policy("management-policy.json")["Statement"] if s["Action"] == "sts:AssumeRole"
    ]
    assert assume["Condition"] == {"StringEquals": {"aws:ResourceOrgID": ORG_PLACEHOLDER}}
    assert re.fullmatch(r"o-[a-z0-9]{10,32}", ORG_PLACEHOLDER)  # a well-formed id: IAM accepts it
    permissions = (PROJECT_ROOT / "docs" / "permissions.md").read_text(encoding="utf-8")
    assert f"`{ORG_PLACEHOLDER}`" in permissions
    assert "aws organizations describe-organization --query Organization.Id" in permissions


def test_cloudformation_template_grants_exactly_the_audit_role_policy():
    body = template()
    role = body["Resources"]["AuditRole"]
    assert role["Type"] == "AWS::IAM::Role"
    (inline,) = role["Properties"]["Policies"]
    assert inline["PolicyDocument"] == policy("audit-role-policy.json")
    assert body["Parameters"]["RoleName"]["Default"] == ROLE
    assert role["Properties"]["MaxSessionDuration"] >= ROLE_SESSION_SECONDS
    assert body["Outputs"]["RoleArn"]["Value"] == {"Fn::GetAtt": ["AuditRole", "Arn"]}
    assert set(body["Parameters"]) == {"AuditingAccountId", "RoleName", "ExternalId"}


def test_trust_policy_admits_the_auditing_account_and_requires_the_external_id_when_given():
    plain = rendered_role("111122223333")["AssumeRolePolicyDocument"]["Statement"]
    assert plain == [
        {
            "Sid": "TrustTheAuditingAccount",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "sts:AssumeRole",
        }
    ]
    (guarded,) = rendered_role("111122223333", "audit-7f3a")["AssumeRolePolicyDocument"][
        "Statement"
    ]
    assert guarded["Condition"] == {"StringEquals": {"sts:ExternalId": "audit-7f3a"}}


@pytest.fixture(scope="module")
def org() -> Iterator[Any]:
    with simulated_organization(AS_OF, members=4, users_per_account=3) as org:
        # GetPolicy and GetPolicyVersion are called for AWS-managed policies users hold: give
        # every audited account one, whichever personas its three users were drawn from
        for account in {u.account_id for u in org.users} - {org.missing_role_account_id}:
            user = next(u for u in org.users if u.account_id == account)
            iam = demo_iam_client(account, org.management_account_id)
            grant(iam, account, user.user_name, ("aws:ReadOnlyAccess",))
            # ListSigningCertificates is called for users the credential report shows with one
            iam.upload_signing_certificate(
                UserName=user.user_name, CertificateBody=certificate_pem()
            )
        yield org


def demo_iam_client(account_id: str, management: str) -> Any:
    base = boto3.Session(region_name="us-east-1")
    return iam_client(base, base.client("sts"), account_id, management)


@pytest.mark.slow  # a whole run again: make test-slow
def test_every_call_of_a_run_is_granted_and_every_grant_is_used(org, vt, recorder, tmp_path):
    result = run_audit(org, tmp_path, vt=vt, injector=recorder)
    assert result.summary.accounts_assessed == result.summary.accounts_in_scope - 1
    caller = {"base", org.management_account_id}
    by_caller = {a for who, a in recorder.principal_calls if who in caller}
    by_role = {a for who, a in recorder.principal_calls if who not in caller}
    management = actions(policy("management-policy.json"))
    audit_role = actions(policy("audit-role-policy.json"))
    assert by_caller - NEEDS_NO_PERMISSION - management == set(), "calls the policy lacks"
    assert by_role - audit_role == set(), "calls the audit role's policy lacks"
    assert management - by_caller == set(), "granted but never called"
    assert audit_role - by_role == set(), "granted but never called"
