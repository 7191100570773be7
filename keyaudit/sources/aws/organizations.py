"""Which accounts to audit: the whole AWS Organization, a static list, or the caller's own.

ListAccounts is paginated to the end; `State` is read with a fallback to the retired `Status`;
each account gets its OU path and tags. Non-ACTIVE accounts are kept, marked skipped.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from keyaudit.config import DiscoveryConfig
from keyaudit.model import Account, Discovery
from keyaudit.sources.aws.errors import CollectionError, describe, error_code
from keyaudit.sources.aws.session import AccountSessions

_NO_ORG_ACCESS = {
    "AWSOrganizationsNotInUseException",
    "AccessDeniedException",
    "AccessDenied",
}


def account_state(raw: dict[str, Any]) -> str:
    """`State` is current; `Status` was retired in 2026-09 and is only a fallback."""
    return str(raw.get("State") or raw.get("Status") or "UNKNOWN")


class _OuPaths:
    """Resolves and caches the OU path ("Root/Workloads/Prod") of accounts."""

    def __init__(self, org: Any) -> None:
        self._org = org
        self._names: dict[str, str] = {}
        self._parent: dict[str, tuple[str, str] | None] = {}

    def _parent_of(self, child_id: str) -> tuple[str, str] | None:
        if child_id in self._parent:  # an OU's parent, asked once for all its accounts
            return self._parent[child_id]
        parents = self._org.list_parents(ChildId=child_id)["Parents"]
        found = (parents[0]["Id"], parents[0]["Type"]) if parents else None
        if child_id.startswith("ou-"):
            self._parent[child_id] = found
        return found

    def _name(self, ou_id: str, kind: str) -> str:
        if ou_id not in self._names:
            if kind == "ROOT":
                self._names[ou_id] = "Root"
            else:
                unit = self._org.describe_organizational_unit(OrganizationalUnitId=ou_id)
                self._names[ou_id] = unit["OrganizationalUnit"]["Name"]
        return self._names[ou_id]

    def path(self, account_id: str) -> tuple[str, list[str]]:
        """The path by names and the ids of every OU above the account, nearest first, the
        root's id last."""
        names: list[str] = []
        ids: list[str] = []
        child = account_id
        for _ in range(10):  # Organizations nests at most 5 OUs below the root
            found = self._parent_of(child)
            if found is None:
                break
            parent_id, kind = found
            names.append(self._name(parent_id, kind))
            ids.append(parent_id)
            if kind == "ROOT":
                break
            child = parent_id
        return "/".join(reversed(names)), ids


def _tags(org: Any, account_id: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for page in org.get_paginator("list_tags_for_resource").paginate(ResourceId=account_id):
        tags.update({t["Key"]: t["Value"] for t in page["Tags"]})
    return tags


def _ou_matches(selectors: list[str], path: str, ou_ids: list[str]) -> bool:
    for selector in selectors:
        if selector in ou_ids:
            return True
        wanted = selector.strip("/")
        if path == wanted or path.startswith(wanted + "/"):
            return True
    return False


def _selected(config: DiscoveryConfig, account_id: str) -> bool:
    if config.include_accounts and account_id not in config.include_accounts:
        return False
    return account_id not in config.exclude_accounts


def discover(sessions: AccountSessions, config: DiscoveryConfig) -> Discovery:
    """Find the accounts to audit; the result says which scope was used and why.

    Filters that leave no account at all stop the run: an audit of nothing would read as clean.
    """
    found = _discover(sessions, config)
    if not (found.in_scope or found.skipped or found.unknown):
        raise CollectionError(
            f"discovery ({found.scope}) found no account to audit: the [discovery] filters "
            "(include_accounts, exclude_accounts, include_ous, exclude_ous) leave none — "
            "check them in keyaudit.toml"
        )
    return found


def _discover(sessions: AccountSessions, config: DiscoveryConfig) -> Discovery:
    caller = sessions.caller_identity()
    if config.mode == "caller":
        return _caller_only(caller, note="discovery.mode = caller")
    if config.mode == "accounts":
        return _static_list(caller, config)
    org = sessions.base_client("organizations")
    try:
        described = org.describe_organization()["Organization"]
        raw_accounts: list[dict[str, Any]] = []
        for page in org.get_paginator("list_accounts").paginate(
            PaginationConfig={"PageSize": 20}  # ListAccounts accepts MaxResults ≤ 20
        ):
            raw_accounts.extend(page["Accounts"])
    except (ClientError, BotoCoreError) as exc:
        if config.mode == "auto" and error_code(exc) in _NO_ORG_ACCESS:
            return _caller_only(
                caller,
                note=f"organization not readable ({error_code(exc)}); audited the caller's own account",
            )
        raise CollectionError(
            "cannot list the organization's accounts: "
            + describe(
                exc, action="organizations:ListAccounts", permission="organizations:ListAccounts"
            )
            + " — run from the management or a delegated administrator account, or set discovery.mode"
        ) from exc
    return _from_organization(org, described, raw_accounts, caller, config)


def _from_organization(
    org: Any,
    described: dict[str, Any],
    raw_accounts: list[dict[str, Any]],
    caller: dict[str, Any],
    config: DiscoveryConfig,
) -> Discovery:
    found = Discovery(
        scope="organization",
        caller_account_id=caller["account_id"],
        caller_arn=caller["arn"],
        organization_id=described.get("Id"),
        management_account_id=described.get("MasterAccountId"),
        listed=len(raw_accounts),
    )
    known = {raw["Id"] for raw in raw_accounts}
    found.unknown = sorted(set(config.include_accounts) - known)
    ou_paths = _OuPaths(org)
    for raw in sorted(raw_accounts, key=lambda r: r["Id"]):
        if not _selected(config, raw["Id"]):
            found.filtered_out.append(raw["Id"])
            continue
        path, ou_ids = ou_paths.path(raw["Id"])
        if (config.include_ous and not _ou_matches(config.include_ous, path, ou_ids)) or (
            config.exclude_ous and _ou_matches(config.exclude_ous, path, ou_ids)
        ):
            found.filtered_out.append(raw["Id"])
            continue
        account = Account(
            account_id=raw["Id"],
            name=raw.get("Name", ""),
            email=raw.get("Email", ""),
            state=account_state(raw),
            ou_path=path,
            tags=_tags(org, raw["Id"]),
            is_management=raw["Id"] == found.management_account_id,
            ou_ids=tuple(reversed(ou_ids)),  # root first: the SCP chain (sources.aws.scps)
        )
        (found.in_scope if account.state == "ACTIVE" else found.skipped).append(account)
    return found


def _caller_only(caller: dict[str, Any], *, note: str) -> Discovery:
    return Discovery(
        scope="caller",
        caller_account_id=caller["account_id"],
        caller_arn=caller["arn"],
        in_scope=[Account(account_id=caller["account_id"], name="caller account")],
        note=note,
    )


def _static_list(caller: dict[str, Any], config: DiscoveryConfig) -> Discovery:
    if not config.accounts:
        raise CollectionError(
            "discovery.mode = accounts but discovery.accounts is empty — list the account ids"
        )
    ids = [a for a in dict.fromkeys(config.accounts) if _selected(config, a)]
    return Discovery(
        scope="accounts",
        caller_account_id=caller["account_id"],
        caller_arn=caller["arn"],
        in_scope=[Account(account_id=a) for a in ids],
        note="static account list from discovery.accounts",
    )
