"""The deploy/ policies are enough: the audit succeeds against moto with IAM authorization
enforced and nothing but those policies attached (and a grant taken away shows up, named)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
from moto.core import set_initial_no_auth_action_count

from keyaudit.config import Config
from keyaudit.sources.demo import ROLE_NAME, simulated_organization
from tests.faults.fault_harness import run_audit
from tests.security.deploy_files import ROLE, policy, rendered_role

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
    iam = session.client("iam")
    iam.create_user(UserName="keyaudit-auditor")
    iam.put_user_policy(
        UserName="keyaudit-auditor",
        PolicyName="keyaudit-management",
        PolicyDocument=json.dumps(policy("management-policy.json")),
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


def test_audit_succeeds_under_enforced_iam_authorization_with_only_the_deploy_policies(
    vt, tmp_path
):
    config = Config.model_validate({"aws": {"role_name": ROLE}})
    with simulated_organization(AS_OF, members=3, users_per_account=3) as org:
        auditor = deploy_audit_setup(org, policy("audit-role-policy.json"))
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
