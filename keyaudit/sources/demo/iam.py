"""IAM of one simulated account, reached the way the audit reaches it: as the account's
OrganizationAccountAccessRole. Shared by the organization's builder and its later changes."""

from __future__ import annotations

from typing import Any

import boto3

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
