"""deploy/remediation-role.yaml can deactivate access keys and nothing else: its policy, read by
keyaudit's own IAM policy evaluator (keyaudit.privilege), allows iam:UpdateAccessKey on users of
the organization and denies every other IAM action, even beside a policy that allows everything;
only the one remediator principal of the organization may assume it."""

from __future__ import annotations

import pytest

from keyaudit.privilege.catalogue import OTHER_ACTIONS, iam_catalogue
from keyaudit.privilege.documents import parse_policy
from keyaudit.privilege.evaluator import (
    CONDITIONAL,
    NOT_ALLOWED,
    AccountContext,
    Attached,
    Principal,
)
from tests.security.deploy_files import policy, render, template

ACCOUNT = "111122223333"
USER = f"arn:aws:iam::{ACCOUNT}:user/alice"
RESOURCES = (USER, f"arn:aws:iam::{ACCOUNT}:role/admin", f"arn:aws:iam::{ACCOUNT}:policy/p", "*")
REMEDIATOR = "arn:aws:iam::999988887777:role/keyaudit-remediator"
EVERYTHING = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def _role(*extra: dict) -> Principal:
    attached = [
        Attached(
            "inline policy keyaudit-deactivate-access-keys",
            parse_policy("remediation", None, policy("remediation-role-policy.json")),
        )
    ]
    attached += [
        Attached(f"policy {i}", parse_policy(f"extra-{i}", None, doc))
        for i, doc in enumerate(extra)
    ]
    return Principal(
        kind="role",
        name="keyaudit-remediation",
        arn=f"arn:aws:iam::{ACCOUNT}:role/keyaudit-remediation",
        identity=tuple(attached),
    )


@pytest.fixture(scope="module")
def context() -> AccountContext:
    return AccountContext("aws", ACCOUNT)


def test_the_role_may_update_access_keys_of_users_under_the_organization_condition(context):
    level, grant = context.level(_role(), "iam:updateaccesskey", USER)
    assert level == CONDITIONAL  # aws:ResourceOrgID: only users of the caller's organization
    assert (
        grant
        == "inline policy keyaudit-deactivate-access-keys, statement 'KeyauditDeactivateAccessKeys'"
    )


@pytest.mark.parametrize("extra", [(), (EVERYTHING,)], ids=["alone", "beside-allow-everything"])
def test_every_other_iam_action_is_denied_on_every_resource(context, extra):
    role = _role(*extra)
    actions = iam_catalogue().actions
    assert len(actions) > 150
    allowed = [
        (action, resource)
        for action in actions
        for resource in RESOURCES
        if context.level(role, action, resource)[0] != NOT_ALLOWED
    ]
    assert {action for action, _ in allowed} == {"iam:updateaccesskey"}
    if not extra:  # alone, on users only
        assert allowed == [("iam:updateaccesskey", USER)]


@pytest.mark.parametrize(
    "action", [a for a in OTHER_ACTIONS] + ["iam:deleteaccesskey", "s3:getobject"]
)
def test_no_action_of_another_service_is_allowed(context, action):
    assert context.level(_role(EVERYTHING), action, "*")[0] == NOT_ALLOWED


def test_the_template_grants_exactly_the_policy_file_and_trusts_only_the_remediator():
    body = template("remediation-role.yaml")
    role = body["Resources"]["RemediationRole"]
    params = {
        "RemediatorArn": REMEDIATOR,
        "OrganizationId": "o-a1b2c3d4e5",
        "RoleName": "keyaudit-remediation",
        "ExternalId": "",
    }
    rendered = render(role["Properties"], params, {"HasExternalId": False})
    (inline,) = rendered["Policies"]
    assert inline["PolicyDocument"] == policy("remediation-role-policy.json")
    (trust,) = rendered["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"AWS": REMEDIATOR}
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}
    with_id = render(
        role["Properties"], {**params, "ExternalId": "x-1234"}, {"HasExternalId": True}
    )
    (trust,) = with_id["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Condition"]["StringEquals"] == {
        "aws:PrincipalOrgID": "o-a1b2c3d4e5",
        "sts:ExternalId": "x-1234",
    }
    assert body["Parameters"]["RoleName"]["Default"] == "keyaudit-remediation"


def test_the_default_role_name_is_the_configs():
    from keyaudit.config import RemediationConfig

    default = template("remediation-role.yaml")["Parameters"]["RoleName"]["Default"]
    assert RemediationConfig().role_name == default
