"""Access-key inventory: ListUsers, ListAccessKeys, GetAccessKeyLastUsed, GetAccountSummary.

Every function takes an IAM client and returns plain JSON-ready data; pagination is complete,
and a failure is never turned into an empty list.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from keyaudit.sources.aws.errors import checked_call


def list_users(iam: Any) -> list[dict[str, Any]]:
    """Every IAM user of the account (all pages)."""

    def pages() -> list[dict[str, Any]]:
        users: list[dict[str, Any]] = []
        for page in iam.get_paginator("list_users").paginate():
            users.extend(page["Users"])
        return users

    return [
        {
            "UserName": u["UserName"],
            "UserId": u.get("UserId"),
            "Arn": u.get("Arn"),
            "CreateDate": u.get("CreateDate"),
            "PasswordLastUsed": u.get("PasswordLastUsed"),
        }
        for u in checked_call("iam:ListUsers", pages)
    ]


def list_access_keys(iam: Any, user_name: str) -> list[dict[str, Any]]:
    """The keys of one user (at most two, but paginate anyway)."""

    def pages() -> list[dict[str, Any]]:
        keys: list[dict[str, Any]] = []
        for page in iam.get_paginator("list_access_keys").paginate(UserName=user_name):
            keys.extend(page["AccessKeyMetadata"])
        return keys

    return [
        {
            "UserName": k["UserName"],
            "AccessKeyId": k["AccessKeyId"],
            "Status": k["Status"],
            "CreateDate": k["CreateDate"],
        }
        for k in checked_call("iam:ListAccessKeys", pages)
    ]


def access_key_last_used(iam: Any, access_key_id: str) -> dict[str, Any]:
    """LastUsedDate is absent when the key was never used; service and region are then 'N/A'."""
    found = checked_call(
        "iam:GetAccessKeyLastUsed", iam.get_access_key_last_used, AccessKeyId=access_key_id
    )
    used = found.get("AccessKeyLastUsed", {})
    return {
        "LastUsedDate": used.get("LastUsedDate"),
        "ServiceName": used.get("ServiceName"),
        "Region": used.get("Region"),
    }


def account_summary(iam: Any) -> dict[str, int]:
    """Live root-credential facts: AccountAccessKeysPresent and AccountMFAEnabled."""
    summary = checked_call("iam:GetAccountSummary", iam.get_account_summary)["SummaryMap"]
    return {
        "AccountAccessKeysPresent": int(summary.get("AccountAccessKeysPresent", 0)),
        "AccountMFAEnabled": int(summary.get("AccountMFAEnabled", 0)),
    }


def collect_key_inventory(
    iam: Any, user_names: Iterable[str], *, with_last_used: bool
) -> list[dict[str, Any]]:
    """ListAccessKeys for the given users and, unless told not to, GetAccessKeyLastUsed per key."""
    inventory: list[dict[str, Any]] = []
    for user_name in user_names:
        for key in list_access_keys(iam, user_name):
            if with_last_used:
                key["LastUsed"] = access_key_last_used(iam, key["AccessKeyId"])
            inventory.append(key)
    return inventory
