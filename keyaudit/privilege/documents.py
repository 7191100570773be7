"""Policy documents parsed into statements, each with where it came from.

A document comes as boto3 gives it (a dict), as JSON text, or URL-encoded JSON text (the IAM API's
wire form). Statement may be one object or a list; Action, NotAction, Resource and NotResource a
string or a list (IAM User Guide, "IAM JSON policy element reference"). A document that does not
parse, or a statement without Effect Allow/Deny, without an action or without a resource, makes
the whole policy undecidable: the evaluator then calls its holder `unknown`, never `other`.

Policy variables (IAM User Guide, "IAM policy elements: Variables and tags") are replaced only in
documents of Version 2012-10-17, where they exist: `${aws:username}`, `${aws:userid}` and
`${aws:PrincipalAccount}` by the principal's own values, `${*}`, `${?}` and `${$}` by the literal
characters. Any other variable cannot be known from the policy: it becomes a wildcard and the
statement counts as conditional.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from keyaudit.privilege.catalogue import OTHER_ACTIONS, iam_catalogue
from keyaudit.privilege.patterns import action_regex

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}
PRINCIPAL_VARIABLES = ("aws:username", "aws:userid", "aws:principalaccount")


class PolicyError(ValueError):
    """A document or statement IAM would not accept, or that cannot be read."""


@dataclass(frozen=True)
class Statement:
    ref: str  # "statement 'Sid'" or "statement 2" (position, from 1)
    allow: bool
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...]
    not_resource: bool
    conditional: bool
    iam_mask: int  # the catalogue's IAM actions the Action/NotAction element matches
    other_mask: int = 0  # which of catalogue.OTHER_ACTIONS (sts, ec2, ...) it matches
    has_variables: bool = False  # a Resource held a policy variable

    @property
    def matters(self) -> bool:
        """Whether the statement can change a privilege decision (it names an IAM action or
        one of the other actions an escalation path uses)."""
        return bool(self.iam_mask or self.other_mask)

    def matches_action(self, action: str) -> bool:
        """`action` lowercase; a catalogue IAM action is a bit test of iam_mask."""
        bit = iam_catalogue().bit_of(action)
        if bit is not None:
            return bool(self.iam_mask & bit)
        found = any(action_regex(p).fullmatch(action) for p in self.actions)
        return found != self.not_action

    def describe(self) -> str:
        """The statement in words: 'allows iam:* on arn:aws:iam::*:*'."""
        verb = "allows" if self.allow else "denies"
        actions = ", ".join(self.actions[:3]) + (" …" if len(self.actions) > 3 else "")
        if self.not_action:
            actions = f"every action but {actions}"
        resources = ", ".join(self.resources[:2]) + (" …" if len(self.resources) > 2 else "")
        if self.not_resource:
            resources = f"every resource but {resources}"
        when = " (conditional)" if self.conditional else ""
        return f"{verb} {actions} on {resources}{when}"


@dataclass(frozen=True)
class Policy:
    """A policy's statements, or the reason it cannot be evaluated."""

    name: str
    arn: str | None
    statements: tuple[Statement, ...] = ()
    error: str | None = None
    has_principal_variables: bool = False
    raw: Any = None  # the parsed document, kept to re-read with a principal's variables


def _strings(value: Any, element: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise PolicyError(f"{element} is neither a string nor a list of strings")


def _resolve(value: str, variables: dict[str, str]) -> tuple[str, bool]:
    """A Resource value with its variables replaced; True when one could not be known."""
    unknown = False

    def replace(found: re.Match[str]) -> str:
        nonlocal unknown
        name = found.group(1)
        if name in _ESCAPES:
            return _ESCAPES[name]
        known = variables.get(name.lower())
        if known is not None:
            return known
        unknown = True
        return "*"

    return _VARIABLE.sub(replace, value), unknown


def _other_service(pattern: str, services: frozenset[str]) -> bool:
    """Whether an Action value can match no action of `services`: its service prefix (the text
    up to its first ":") has no wildcard, and a value matches only actions that begin with that
    very prefix. AWS managed policies such as ReadOnlyAccess list thousands of other services'
    actions; matching each against every action of the catalogue took most of a second a demo
    run (regular expressions compiled and tried for nothing)."""
    service, colon, _ = pattern.partition(":")
    return (
        bool(colon)
        and "*" not in service
        and "?" not in service
        and (service.lower() not in services)
    )


@lru_cache(maxsize=65536)
def action_mask(pattern: str) -> int:
    """The catalogue's IAM actions one Action value matches, as a mask (every catalogue action
    is "iam:<name>")."""
    if _other_service(pattern, _IAM):
        return 0
    return _scanned_action_mask(pattern)


_IAM = frozenset({"iam"})
_OTHER_SERVICES = frozenset(a.split(":", 1)[0] for a in OTHER_ACTIONS)


def _scanned_action_mask(pattern: str) -> int:
    regex = action_regex(pattern)
    mask = 0
    for i, action in enumerate(iam_catalogue().actions):
        if regex.fullmatch(action):
            mask |= 1 << i
    return mask


@lru_cache(maxsize=65536)
def other_mask(pattern: str) -> int:
    """Which of OTHER_ACTIONS one Action value matches, as a mask."""
    if _other_service(pattern, _OTHER_SERVICES):
        return 0
    regex = action_regex(pattern)
    return sum(1 << i for i, a in enumerate(OTHER_ACTIONS) if regex.fullmatch(a))


def _statement(raw: Any, position: int, variables: dict[str, str] | None) -> Statement:
    if not isinstance(raw, dict):
        raise PolicyError(f"statement {position} is not an object")
    sid = raw.get("Sid")
    ref = f"statement '{sid}'" if isinstance(sid, str) and sid else f"statement {position}"
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(f"{ref}: Effect is {effect!r}, not Allow or Deny")
    if ("Action" in raw) == ("NotAction" in raw):
        raise PolicyError(f"{ref}: needs exactly one of Action and NotAction")
    if ("Resource" in raw) == ("NotResource" in raw):
        raise PolicyError(f"{ref}: needs exactly one of Resource and NotResource")
    not_action = "NotAction" in raw
    actions = tuple(
        a.lower() for a in _strings(raw.get("NotAction" if not_action else "Action"), ref)
    )
    not_resource = "NotResource" in raw
    resources = _strings(raw.get("NotResource" if not_resource else "Resource"), ref)
    unknown = False
    has_variables = variables is not None and any("${" in r for r in resources)
    if variables is not None:
        resolved = [_resolve(r, variables) for r in resources]
        resources = tuple(r for r, _ in resolved)
        unknown = any(u for _, u in resolved)
    mask = other = 0
    for pattern in actions:
        mask |= action_mask(pattern)
        other |= other_mask(pattern)
    if not_action:
        mask = iam_catalogue().all_actions & ~mask
        other = (1 << len(OTHER_ACTIONS)) - 1 & ~other
    condition = raw.get("Condition")
    return Statement(
        ref=ref,
        allow=effect == "Allow",
        actions=actions,
        not_action=not_action,
        resources=resources,
        not_resource=not_resource,
        conditional=bool(condition) or unknown,
        iam_mask=mask,
        other_mask=other,
        has_variables=has_variables,
    )


def _decode(document: Any) -> Any:
    """boto3 gives documents decoded; the wire form is URL-encoded JSON (both are read)."""
    if not isinstance(document, str):
        return document
    for text in (document, unquote(document)):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            error = exc
    raise PolicyError(f"document is not JSON ({error.msg} at {error.pos})")


def parse_policy(
    name: str, arn: str | None, document: Any, variables: dict[str, str] | None = None
) -> Policy:
    """A policy ready to evaluate; Policy.error says why it is not (missing or malformed)."""
    if document is None:
        return Policy(name, arn, error="document not fetched")
    try:
        raw = _decode(document)
        if not isinstance(raw, dict):
            raise PolicyError("document is not a JSON object")
        body = raw.get("Statement")
        listed = body if isinstance(body, list) else [body] if isinstance(body, dict) else None
        if listed is None:
            raise PolicyError("Statement is neither an object nor a list")
        with_variables = raw.get("Version") == "2012-10-17"
        resolved = (variables or {}) if with_variables else None
        statements = tuple(_statement(s, i, resolved) for i, s in enumerate(listed, start=1))
    except PolicyError as exc:
        return Policy(name, arn, error=str(exc))
    text = json.dumps(raw) if with_variables else ""
    uses = any(f"${{{v}}}" in text.lower() for v in PRINCIPAL_VARIABLES)
    return Policy(name, arn, statements, has_principal_variables=uses, raw=raw)


def for_principal(policy: Policy, variables: dict[str, str]) -> Policy:
    """The policy as it applies to one principal (its ${aws:username} and the like filled in)."""
    if not policy.has_principal_variables:
        return policy
    return parse_policy(policy.name, policy.arn, policy.raw, variables)


ALLOW_EVERYTHING = parse_policy(
    "any policy it chooses",
    None,
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
)
