"""IAM of one simulated account, reached the way the audit reaches it: as the account's
OrganizationAccountAccessRole, and the permissions the personas are given in it. Shared by the
organization's builder and its later changes."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import boto3
from moto.iam.models import AWSManagedPolicy, iam_backends

ROLE_NAME = "OrganizationAccountAccessRole"
REGION = "us-east-1"


def iam_client(base: boto3.Session, sts: Any, account_id: str, management: str) -> Any:
    """IAM of one account, as its OrganizationAccountAccessRole (one session: models load once)."""
    if account_id == management:
        return base.client("iam")
    creds = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/{ROLE_NAME}", RoleSessionName="keyaudit-demo"
    )["Credentials"]
    return base.client(
        "iam",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


# How the demo's personas get their permissions (Persona.grants): an AWS-managed policy attached
# to the user ("aws:<name>"), membership of a group ("group:<name>"), an inline policy
# ("inline:<name>") or a customer-managed policy ("customer:<name>").
_ALLOW = "Allow"
DOCUMENTS: dict[str, dict[str, Any]] = {
    "allow-everything": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": _ALLOW, "Action": "*", "Resource": "*"}],
    },
    "iam-full-access": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": _ALLOW, "Action": "iam:*", "Resource": "*"}],
    },
}
DOCUMENTS.update(
    {
        "iam-on-iam-arns": {  # moto's validator refuses arn:aws:iam::*:*, which AWS accepts
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": _ALLOW,
                    "Action": "iam:*",
                    "Resource": ["arn:aws:s3:::reports", "arn:aws:iam::*:*"],
                }
            ],
        },
        "everything-but-one-bucket": {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": _ALLOW, "Action": "*", "NotResource": "arn:aws:s3:::audit-logs"}
            ],
        },
        "iam-with-mfa": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": _ALLOW,
                    "Action": "iam:*",
                    "Resource": "*",
                    "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
                }
            ],
        },
        "attach-to-self": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": _ALLOW,
                    "Action": "iam:AttachUserPolicy",
                    "Resource": "arn:aws:iam::*:user/${aws:username}",
                }
            ],
        },
        "pass-ec2-admin": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": _ALLOW,
                    "Action": "iam:PassRole",
                    "Resource": "arn:aws:iam::*:role/ec2-admin",
                },
                {"Effect": _ALLOW, "Action": "ec2:RunInstances", "Resource": "*"},
            ],
        },
        "join-admins": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": _ALLOW,
                    "Action": "iam:AddUserToGroup",
                    "Resource": "arn:aws:iam::*:group/admins",
                }
            ],
        },
    }
)
# Documents moto's validator refuses though AWS accepts them: written into moto's user model.
MOTO_REFUSES = frozenset({"iam-on-iam-arns"})
GROUPS: dict[str, tuple[str, ...]] = {"admins": ("aws:AdministratorAccess",)}
# Roles a persona needs in its account: trusted service, AWS-managed policy, instance profile.
ROLES: dict[str, tuple[str, str]] = {"ec2-admin": ("ec2.amazonaws.com", "AdministratorAccess")}
AWS_MANAGED = (
    "AdministratorAccess",
    "ReadOnlyAccess",
    "AWSDenyAll",
    "AdministratorAccess-Amplify",
    "AWSCompromisedKeyQuarantineV2",
)


def aws_managed_arn(name: str) -> str:
    return f"arn:aws:iam::aws:policy/{name}"


@lru_cache(maxsize=1)
def _moto_aws_policies() -> dict[str, Any]:
    """The few AWS-managed policies the demo attaches, from moto's copy of AWS's (parsed once)."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    everything = json.loads(aws_managed_policies_data)
    return {name: everything[name] for name in AWS_MANAGED}


def install_aws_managed_policies(account_id: str) -> None:
    """moto loads no AWS-managed policy unless told to load all 1,500 in every account (slow):
    put the demo's few in this account's IAM, as AWS has them."""
    backend = iam_backends[account_id]["global"]
    for name, data in _moto_aws_policies().items():
        if aws_managed_arn(name) not in backend.managed_policies:
            policy = AWSManagedPolicy.from_data(name, account_id, REGION, data)
            backend.aws_managed_policies.append(policy)
            backend.managed_policies[policy.arn] = policy


def grant(iam: Any, account_id: str, user_name: str, grants: tuple[str, ...]) -> None:
    """Give a user its persona's permissions, creating groups and policies on first use."""
    for spec in grants:
        kind, name = spec.split(":", 1)
        if kind == "aws":
            install_aws_managed_policies(account_id)
            iam.attach_user_policy(UserName=user_name, PolicyArn=aws_managed_arn(name))
        elif kind == "inline" and name in MOTO_REFUSES:
            user = iam_backends[account_id]["global"].users[user_name]
            user.policies[name] = json.dumps(DOCUMENTS[name])
        elif kind == "inline":
            iam.put_user_policy(
                UserName=user_name, PolicyName=name, PolicyDocument=json.dumps(DOCUMENTS[name])
            )
        elif kind == "role":
            _ensure_role(iam, account_id, name)
        elif kind == "makegroup":
            _ensure_group(iam, account_id, name)
        elif kind == "customer":
            arn = f"arn:aws:iam::{account_id}:policy/{name}"
            if arn not in iam_backends[account_id]["global"].managed_policies:
                iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(DOCUMENTS[name]))
            iam.attach_user_policy(UserName=user_name, PolicyArn=arn)
        elif kind == "group":
            _ensure_group(iam, account_id, name)
            iam.add_user_to_group(GroupName=name, UserName=user_name)
        else:
            raise ValueError(
                f"unknown grant {spec!r}: use aws:, group:, inline:, customer:, role: or makegroup:"
            )


def _ensure_group(iam: Any, account_id: str, name: str) -> None:
    if name not in iam_backends[account_id]["global"].groups:
        iam.create_group(GroupName=name)
        for held in GROUPS[name]:
            install_aws_managed_policies(account_id)
            iam.attach_group_policy(
                GroupName=name, PolicyArn=aws_managed_arn(held.split(":", 1)[1])
            )


def _ensure_role(iam: Any, account_id: str, name: str) -> None:
    if name in {r.name for r in iam_backends[account_id]["global"].roles.values()}:
        return
    service, policy = ROLES[name]
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": _ALLOW, "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    install_aws_managed_policies(account_id)
    iam.attach_role_policy(RoleName=name, PolicyArn=aws_managed_arn(policy))
    iam.create_instance_profile(InstanceProfileName=name)
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
