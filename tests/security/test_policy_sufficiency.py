"""The deploy/ policies are enough: the audit succeeds against moto with IAM authorization
enforced and nothing but those policies attached (and a grant taken away shows up, named); and
the management policy's organization condition admits the organization's roles only."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.core import set_initial_no_auth_action_count
from moto.iam import access_control

from keyaudit.config import Config
from keyaudit.sources.demo import ROLE_NAME, simulated_organization
from tests.faults.fault_harness import run_audit
from tests.security.deploy_files import ROLE, management_policy, policy, rendered_role

AS_OF = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def deploy_audit_setup(org: Any, role_policy: dict[str, Any]) -> boto3.Session:
    """What an administrator does with deploy/: the role in every member (but the one the demo
    leaves without a role), and an auditor user with the management policy. Returns the
    auditor's session. Runs before authorization is enforced."""
    session = boto3.Session(region_name="us-east-1")
    sts = session.client("sts")
    properties = rendered_role(org.management_account_id)
    for account in org.accounts:
        if account.is_management or account.state != "ACTIVE":
            continue
        if account.account_id == org.missing_role_account_id:
            continue
        creds = sts.assume_role(
            RoleArn=f"arn:aws:iam::{account.account_id}:role/{ROLE_NAME}",
            RoleSessionName="setup",
        )["Credentials"]
        iam = session.client(
            "iam",
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
        iam.create_role(
            RoleName=ROLE,
            AssumeRolePolicyDocument=json.dumps(properties["AssumeRolePolicyDocument"]),
            MaxSessionDuration=properties["MaxSessionDuration"],
        )
        iam.put_role_policy(
            RoleName=ROLE,
            PolicyName="keyaudit-read-credentials",
            PolicyDocument=json.dumps(role_policy),
        )
    organization_id = session.client("organizations").describe_organization()["Organization"]["Id"]
    iam = session.client("iam")
    iam.create_user(UserName="keyaudit-auditor")
    iam.put_user_policy(
        UserName="keyaudit-auditor",
        PolicyName="keyaudit-management",
        PolicyDocument=json.dumps(management_policy(organization_id)),
    )
    key = iam.create_access_key(UserName="keyaudit-auditor")["AccessKey"]
    return boto3.Session(
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        region_name="us-east-1",
    )


def enforced(run: Any) -> Any:
    """Run with moto checking every request's signature and IAM policies."""
    return set_initial_no_auth_action_count(0)(run)()


def resource_org_condition(
    monkeypatch: pytest.MonkeyPatch, organization_of: Callable[[str], str | None]
) -> None:
    """Make moto evaluate aws:ResourceOrgID on sts:AssumeRole as IAM does: the organization of
    the role's account (`organization_of(account id)`). moto passes identity policies no
    condition values, and treats a missing key as a match; IAM never does."""
    original = access_control.IAMPolicy.is_action_permitted

    def is_action_permitted(self, action, resource="*", principal=None, incoming=None):  # type: ignore[no-untyped-def]
        if action == "sts:AssumeRole" and incoming is None:  # an identity policy
            account = resource.split(":")[4] if resource.count(":") >= 5 else ""
            incoming = {"aws:ResourceOrgID": organization_of(account)}
        return original(self, action, resource, principal, incoming)

    monkeypatch.setattr(access_control.IAMPolicy, "is_action_permitted", is_action_permitted)


def organization_of(org: Any) -> Callable[[str], str | None]:
    """The simulated organization's id for its accounts, None (no organization) for others."""
    organization_id = boto3.client(
        "organizations", region_name="us-east-1"
    ).describe_organization()["Organization"]["Id"]
    members = {a.account_id for a in org.accounts}
    return lambda account: organization_id if account in members else None


@pytest.mark.slow  # a whole run again: make test-slow
def test_audit_succeeds_under_enforced_iam_authorization_with_only_the_deploy_policies(
    vt, tmp_path, monkeypatch
):
    config = Config.model_validate({"aws": {"role_name": ROLE}})
    with simulated_organization(AS_OF, members=3, users_per_account=3) as org:
        auditor = deploy_audit_setup(org, policy("audit-role-policy.json"))
        resource_org_condition(monkeypatch, organization_of(org))
        free = run_audit(org, tmp_path / "free", vt=vt, config=config, base=auditor)
        result = enforced(
            lambda: run_audit(org, tmp_path / "enforced", vt=vt, config=config, base=auditor)
        )
    assert result.statuses() == free.statuses()
    assert result.findings == free.findings
    roleless = org.missing_role_account_id
    assert {a: s for a, s in result.statuses().items() if a != roleless} == {
        a.account_id: "assessed" if a.state == "ACTIVE" else "skipped"
        for a in org.accounts
        if a.account_id != roleless
    }
    assert result.summary.accounts_partial == 0


@pytest.mark.slow  # a whole run again: make test-slow
def test_enforced_authorization_is_real_a_missing_grant_is_named(vt, tmp_path):
    config = Config.model_validate({"aws": {"role_name": ROLE}})
    weaker = policy("audit-role-policy.json")
    weaker["Statement"][0]["Action"].remove("iam:ListAccessKeys")
    with simulated_organization(AS_OF, members=3, users_per_account=3) as org:
        auditor = deploy_audit_setup(org, weaker)
        result = enforced(lambda: run_audit(org, tmp_path, vt=vt, config=config, base=auditor))
        members = [
            a.account_id
            for a in org.accounts
            if not a.is_management
            and a.state == "ACTIVE"
            and a.account_id != org.missing_role_account_id
            and any(u.keys for u in org.users if u.account_id == a.account_id)
        ]
    for account in members:
        assert result.accounts[account].status == "partial"
        assert "AccessDenied on iam:ListAccessKeys" in result.error(account)
        assert "grant iam:ListAccessKeys to the audit role" in result.error(account)


@pytest.mark.slow  # a whole run again: make test-slow
def test_the_audit_role_of_an_account_outside_the_organization_cannot_be_assumed(
    tmp_path, monkeypatch
):
    outsider = "999988887777"
    with simulated_organization(AS_OF, members=3, users_per_account=1) as org:
        auditor = deploy_audit_setup(org, policy("audit-role-policy.json"))
        sts = boto3.Session(region_name="us-east-1").client("sts")
        creds = sts.assume_role(
            RoleArn=f"arn:aws:iam::{outsider}:role/setup", RoleSessionName="setup"
        )["Credentials"]
        boto3.client(  # the same role, trusting the auditing account, outside the organization
            "iam",
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        ).create_role(
            RoleName=ROLE,
            AssumeRolePolicyDocument=json.dumps(
                rendered_role(org.management_account_id)["AssumeRolePolicyDocument"]
            ),
        )
        inside = organization_of(org)

        def assume(organization_of: Callable[[str], str | None]) -> None:
            resource_org_condition(monkeypatch, organization_of)
            enforced(
                lambda: auditor.client("sts").assume_role(
                    RoleArn=f"arn:aws:iam::{outsider}:role/{ROLE}", RoleSessionName="keyaudit-test"
                )
            )

        assume(lambda account: inside(org.management_account_id))  # were it in the org: allowed
        with pytest.raises(ClientError) as refused:
            assume(inside)  # as it is, outside the organization
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
