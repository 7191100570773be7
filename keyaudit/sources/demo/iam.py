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
GROUPS: dict[str, tuple[str, ...]] = {"admins": ("aws:AdministratorAccess",)}
AWS_MANAGED = ("AdministratorAccess", "ReadOnlyAccess")


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
        elif kind == "inline":
            iam.put_user_policy(
                UserName=user_name, PolicyName=name, PolicyDocument=json.dumps(DOCUMENTS[name])
            )
        elif kind == "customer":
            arn = f"arn:aws:iam::{account_id}:policy/{name}"
            if arn not in iam_backends[account_id]["global"].managed_policies:
                iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(DOCUMENTS[name]))
            iam.attach_user_policy(UserName=user_name, PolicyArn=arn)
        elif kind == "group":
            if name not in iam_backends[account_id]["global"].groups:
                iam.create_group(GroupName=name)
                for held in GROUPS[name]:
                    install_aws_managed_policies(account_id)
                    iam.attach_group_policy(
                        GroupName=name, PolicyArn=aws_managed_arn(held.split(":", 1)[1])
                    )
            iam.add_user_to_group(GroupName=name, UserName=user_name)
        else:
            raise ValueError(f"unknown grant {spec!r}: use aws:, group:, inline: or customer:")
