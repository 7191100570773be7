"""Who owns an account, for delivery: its owner tag, else the OU map, else the compliance list.

An owner tag whose value is not an e-mail address (e.g. `team = platform`) does not count: the
account falls through to the OU map, and the reason is kept so the delivery report can say so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from keyaudit.delivery.config import check_address
from keyaudit.report.digest import AccountLine

# Accounts with these statuses are reported to their owner; skipped (not ACTIVE) ones are not.
DELIVERED_STATUSES = ("assessed", "partial", "not_assessed")


@dataclass(frozen=True)
class Owner:
    """The recipients of one per-owner report and the accounts it covers."""

    recipients: tuple[str, ...]
    account_ids: tuple[str, ...]
    via: str  # "owner" (tag or OU map) or "compliance" (accounts nobody owns)

    @property
    def slug(self) -> str:
        """A folder name for this owner's files: payments-team_at_example.com."""
        name = "+".join(self.recipients) if self.via != "compliance" else "unowned-accounts"
        return re.sub(r"[^a-z0-9._+-]", "-", name.lower().replace("@", "_at_"))[:120]


def _is_address(value: str) -> bool:
    try:
        check_address(value)
    except ValueError:
        return False
    return True


def owner_address(
    account: AccountLine, *, tag: str, ou_owners: Mapping[str, str]
) -> tuple[str | None, str | None]:
    """(address, note) for one account; address None means the compliance list."""
    note = None
    for key, value in account.tags.items():
        if key.lower() == tag.lower():
            if _is_address(value.strip()):
                return value.strip(), None
            note = f"account {account.account_id}: tag {key} = {value!r} is not an e-mail address"
    path = account.ou_path
    matches = [ou for ou in ou_owners if path == ou or path.startswith(ou + "/")]
    if matches:  # the deepest OU wins
        return ou_owners[max(matches, key=len)], note
    return None, note


def assign_owners(
    accounts: Iterable[AccountLine],
    *,
    tag: str,
    ou_owners: Mapping[str, str],
    compliance: Sequence[str],
) -> tuple[list[Owner], list[str]]:
    """Group the delivered accounts by owner; also return notes on tags that were not usable."""
    groups: dict[tuple[tuple[str, ...], str], list[str]] = {}
    notes: list[str] = []
    for account in accounts:
        if account.status not in DELIVERED_STATUSES:
            continue
        address, note = owner_address(account, tag=tag, ou_owners=ou_owners)
        if note:
            notes.append(note)
        key = ((address,), "owner") if address else (tuple(compliance), "compliance")
        groups.setdefault(key, []).append(account.account_id)
    owners = [
        Owner(
            recipients=recipients,
            account_ids=tuple(sorted(ids)),
            via=kind,
        )
        for (recipients, kind), ids in sorted(groups.items())
    ]
    return owners, notes
