"""Who receives which findings, for delivery: each owner their own, the compliance list the rest.

The owners themselves are decided in the warehouse, once (views account_owners, key_owners and
finding_owners: a key's user tag, then its description, then the account's tag, then the OU
map); this only groups them. A key's owner gets that key's findings in every account; an account's
owner gets the account (its report) and its findings that no one else owns; what nobody owns goes
to the compliance list in one message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

# Accounts with these statuses are reported to their owner; skipped (not ACTIVE) ones are not.
DELIVERED_STATUSES = ("assessed", "partial", "not_assessed")


@dataclass(frozen=True)
class Owner:
    """The recipients of one per-owner delivery: the accounts they own, and the findings (theirs
    by a key or by an account) it covers."""

    recipients: tuple[str, ...]
    account_ids: tuple[str, ...]  # accounts they own: their report covers these
    via: str  # "owner" (an owner found in the warehouse) or "compliance" (what nobody owns)
    # other accounts where they own keys (by user tag or key description)
    key_account_ids: tuple[str, ...] = ()
    finding_ids: frozenset[str] = frozenset()

    @property
    def slug(self) -> str:
        """A folder name for this owner's files: payments-team_at_example.com."""
        name = "+".join(self.recipients) if self.via != "compliance" else "unowned-accounts"
        return re.sub(r"[^a-z0-9._+-]", "-", name.lower().replace("@", "_at_"))[:120]

    @property
    def all_account_ids(self) -> tuple[str, ...]:
        """Every account this delivery speaks of: owned ones, then those of owned keys."""
        return tuple(sorted({*self.account_ids, *self.key_account_ids}))


def assign_owners(
    accounts: Iterable[Mapping[str, str | None]],
    findings: Iterable[Mapping[str, str | None]],
    *,
    compliance: Sequence[str],
) -> list[Owner]:
    """Group the delivered accounts (rows of sql/report/owner_accounts.sql: account_id, status,
    owner) and the findings (owner_findings.sql: finding_id, account_id, owner) by owner; an owner
    None is the compliance list."""
    delivered = {a["account_id"]: a["owner"] for a in accounts if a["status"] in DELIVERED_STATUSES}
    owned: dict[str | None, set[str]] = {}
    for account_id, owner in delivered.items():
        owned.setdefault(owner, set()).add(str(account_id))
    theirs: dict[str | None, list[Mapping[str, str | None]]] = {}
    for finding in findings:
        if finding["account_id"] in delivered:
            theirs.setdefault(finding["owner"], []).append(finding)
    result = []
    for owner in sorted(set(owned) | set(theirs), key=lambda o: (o is None, o or "")):
        found = theirs.get(owner, [])
        accounts_of = owned.get(owner, set())
        result.append(
            Owner(
                recipients=(owner,) if owner is not None else tuple(compliance),
                account_ids=tuple(sorted(accounts_of)),
                via="owner" if owner is not None else "compliance",
                key_account_ids=tuple(sorted({str(f["account_id"]) for f in found} - accounts_of)),
                finding_ids=frozenset(str(f["finding_id"]) for f in found),
            )
        )
    return result
