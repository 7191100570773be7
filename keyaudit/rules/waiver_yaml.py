"""The waiver file's YAML, checked line by line: every problem comes back as
`<file>:<line>: problem — fix`, found from the nodes' marks (keyaudit.rules.waivers builds on this)."""

from __future__ import annotations

import difflib
import re
from datetime import date
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from keyaudit.model import ACCOUNT_ID_PATTERN, ROOT_USER
from keyaudit.textsafe import excerpt

FIELDS = (
    "id",
    "rule",
    "account",
    "user",
    "key",
    "reason",
    "approved_by",
    "ticket",
    "granted",
    "expires_on",
)
_NULL_TAG = "tag:yaml.org,2002:null"
_SCOPE_NOUN = {"key": "access keys", "user": "users", "account": "whole accounts"}
# A waiver file is a list of mappings of single values: 3 levels. Deeper nesting crashed the
# composer (recursion) and anchors/aliases allow "billion laughs" bombs; neither has a use here.
MAX_NESTING = 8
MAX_PROBLEMS = 50  # listed in full; the rest are counted
MAX_TEXT = {"rule": 128, "reason": 2048, "approved_by": 256, "ticket": 256}
EARLIEST_EXPIRY = date(2000, 1, 1)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# PyYAML's scanner looks up to 1,024 characters ahead for each open bracket before the composer
# can refuse the depth (≈ 0.7 s for "[[[[…"); brackets opened back to back are refused first.
_DEEP_FLOW = re.compile(rf"[\[{{](?:[ \t\r\n]*[\[{{]){{{MAX_NESTING}}}")

# What each field holds, for the "fix" half of a message.
_FIELD_HELP = {
    "id": "id: a unique name such as W-2026-001",
    "rule": "rule: the rule id, e.g. ACCESS_KEY_NOT_ROTATED",
    "account": 'account: the 12-digit account id, e.g. "111122223333"',
    "user": f"user: an IAM user name, {ROOT_USER}, or a glob pattern such as svc-*",
    "key": "key: the access key id, e.g. AKIAIOSFODNN7EXAMPLE",
    "reason": "reason: why the risk is accepted",
    "approved_by": "approved_by: who accepted the risk",
    "ticket": "ticket: the risk or change ticket, e.g. RISK-1234",
    "granted": "granted: the day the risk was accepted, as YYYY-MM-DD (optional)",
    "expires_on": "expires_on: the last day the waiver applies, as YYYY-MM-DD; every waiver must expire",
}
_INVALID = {
    "id": (
        "id {raw!r} is not a usable waiver id",
        "use letters, digits and . _ : / - (at most 64 characters), e.g. W-2026-001",
    ),
    "account": (
        "account {raw!r} is not a 12-digit account id",
        'write all 12 digits, leading zeros included, e.g. account: "012345678901"',
    ),
    "user": (
        "user {raw!r} is not an IAM user name or glob pattern",
        f"use the user name (letters, digits and + = , . @ _ -), {ROOT_USER}, or a pattern "
        "with * (any text), ? (one character) or [abc] (one of), e.g. svc-*",
    ),
    "key": (
        "key {raw!r} is not an access key id",
        "use the id IAM shows for the key (16 to 128 capital letters and digits), "
        "e.g. AKIAIOSFODNN7EXAMPLE",
    ),
    "granted": (
        "granted {raw!r} is not a date",
        "write the day the risk was accepted as YYYY-MM-DD, e.g. granted: 2026-09-30",
    ),
    "expires_on": (
        "expires_on {raw!r} is not a date",
        "write the last day the waiver applies as YYYY-MM-DD, e.g. expires_on: 2027-03-31",
    ),
}


class WaiverSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$")
    rule: str = Field(min_length=1, max_length=MAX_TEXT["rule"])
    account: str = Field(pattern=rf"^{ACCOUNT_ID_PATTERN}$")
    user: str | None = Field(
        None, pattern=rf"^({re.escape(ROOT_USER)}|[A-Za-z0-9_+=,.@*?\[\]!-]{{1,64}})$"
    )
    key: str | None = Field(None, pattern=r"^[A-Z0-9]{16,128}$")
    reason: str = Field(min_length=1, max_length=MAX_TEXT["reason"])
    approved_by: str = Field(min_length=1, max_length=MAX_TEXT["approved_by"])
    ticket: str = Field(min_length=1, max_length=MAX_TEXT["ticket"])
    # Optional: a waiver without a key reopens for keys created after this day (none without it).
    granted: date | None = None
    expires_on: date

    @field_validator("granted", "expires_on", mode="before")
    @classmethod
    def _plain_date(cls, value: object) -> object:
        """Only YYYY-MM-DD: pydantic would also take 1700000000 (a Unix time) or a datetime."""
        if isinstance(value, str) and not _ISO_DATE.fullmatch(value.strip()):
            raise ValueError("not YYYY-MM-DD")
        return value

    @field_validator("granted", "expires_on")
    @classmethod
    def _plausible(cls, value: date | None) -> date | None:
        if value is not None and value < EARLIEST_EXPIRY:
            raise ValueError(f"before {EARLIEST_EXPIRY}")
        return value


def check_waiver_yaml(
    text: str, name: str, scopes: dict[str, str]
) -> tuple[list[tuple[WaiverSpec, int]], list[str]]:
    """Valid entries (with their line) and every problem of the file, in line order."""
    try:
        root = _compose(text, name)
    except _Refused as refused:
        return [], [refused.message]
    if root is None:
        return [], []
    if not isinstance(root, SequenceNode):
        return [], [
            f"{name}:{_line(root)}: expected a list of waivers, found {_kind(root)} — "
            "write one entry per waiver, each starting with '- id: ...'"
        ]
    problems: list[tuple[int, str]] = []
    valid: list[tuple[WaiverSpec, int]] = []
    seen_ids: dict[str, int] = {}
    for number, entry in enumerate(root.value, start=1):
        checked = _entry(entry, number, name, scopes, seen_ids, problems)
        if checked is not None:
            valid.append(checked)
    problems.sort(key=lambda item: item[0])
    listed = [message for _, message in problems]
    if len(listed) > MAX_PROBLEMS:
        more = len(listed) - MAX_PROBLEMS
        listed = [
            *listed[:MAX_PROBLEMS],
            f"{name}: {more:,} more problem(s) not listed — fix the ones above and validate again",
        ]
    return valid, listed


class _Refused(Exception):
    def __init__(self, message: str) -> None:
        self.message = message


class _Bounded(yaml.SafeLoader):
    """SafeLoader that refuses anchors, aliases and deep nesting while composing, before any
    of it is expanded or recursed into."""

    def __init__(self, stream: str, name: str) -> None:
        super().__init__(stream)
        self._name = name
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:  # type: ignore[override]
        event = self.peek_event()
        line = event.start_mark.line + 1 if event.start_mark else 1
        if isinstance(event, AliasEvent) or getattr(event, "anchor", None):
            raise _Refused(
                f"{self._name}:{line}: YAML anchors and aliases (&name, *name) are not allowed in "
                "the waiver file — write each waiver's values out in full"
            )
        if self._depth >= MAX_NESTING:
            raise _Refused(_too_deep(self._name, line))
        self._depth += 1
        try:
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self._depth -= 1


def _too_deep(name: str, line: int) -> str:
    return (
        f"{name}:{line}: nested deeper than {MAX_NESTING} levels (a waiver file is a list of "
        "waivers, each a mapping of single values) — write one entry per waiver, each starting "
        "with '- id: ...'"
    )


def _compose(text: str, name: str) -> Node | None:
    deep = _DEEP_FLOW.search(text)
    if deep:
        raise _Refused(_too_deep(name, text.count("\n", 0, deep.start()) + 1))
    loader = _Bounded(text, name)
    try:
        return loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = exc.problem or exc.context or "syntax error"
        raise _Refused(
            f"{name}:{line}: not valid YAML: {problem} — fix the YAML syntax on this line"
        ) from None
    except yaml.YAMLError as exc:
        raise _Refused(
            f"{name}:1: not valid YAML: {exc} — write the file as one YAML list of waivers"
        ) from None
    finally:
        loader.dispose()


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return f"the text {excerpt(node.value)}"


def _entry(
    entry: Node,
    number: int,
    name: str,
    scopes: dict[str, str],
    seen_ids: dict[str, int],
    problems: list[tuple[int, str]],
) -> tuple[WaiverSpec, int] | None:
    """Validate one list entry; problems are appended with their line."""

    def refuse(line: int, problem: str, fix: str) -> None:
        problems.append((line, f"{name}:{line}: {problem} — {fix}"))

    if not isinstance(entry, MappingNode):
        refuse(
            _line(entry),
            f"waiver #{number} is {_kind(entry)}, not a mapping of fields",
            "write each waiver as '- id: ...' followed by rule, account, reason, approved_by, "
            "ticket and expires_on on their own lines",
        )
        return None
    data: dict[str, Any] = {}
    lines: dict[str, int] = {}
    values: dict[str, Node] = {}
    for key_node, value_node in entry.value:
        key = str(key_node.value) if isinstance(key_node, ScalarNode) else f"<{_kind(key_node)}>"
        if key in lines:
            refuse(
                _line(key_node),
                f"waiver #{number}: {key if key in FIELDS else excerpt(key)} is given twice (lines {lines[key]} and {_line(key_node)})",
                "keep one",
            )
            continue
        lines[key] = _line(key_node)
        values[key] = value_node
        data[key] = _scalar(value_node)
    raw_id = data.get("id")
    label = raw_id if isinstance(raw_id, str) and raw_id.strip() else f"#{number}"
    if isinstance(raw_id, str) and raw_id.strip():
        first = seen_ids.setdefault(raw_id.strip(), lines["id"])
        if first != lines["id"]:
            refuse(
                lines["id"],
                f"waiver id {raw_id.strip()} is used twice (first at line {first})",
                "give every waiver its own id",
            )
    errors: list[Any] = []
    spec: WaiverSpec | None = None
    try:
        spec = WaiverSpec.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
    if any(e["loc"] and e["loc"][0] == "id" for e in errors):
        label = f"#{number}"
    for error in errors:
        field = str(error["loc"][0]) if error["loc"] else ""
        refuse(lines.get(field, _line(entry)), *_explain(error, field, label, values.get(field)))
    fits = _fits_catalogue(data, label, lines, scopes, refuse)
    if spec is None or not fits:
        return None
    return spec, lines["id"]


def _scalar(node: Node) -> Any:
    """The text exactly as written (so account 012345678901 keeps its zero); None for null."""
    if isinstance(node, ScalarNode):
        if node.tag == _NULL_TAG and node.style is None:
            return None
        return node.value
    return [] if isinstance(node, SequenceNode) else {}


def _explain(error: Any, field: str, label: str, node: Node | None) -> tuple[str, str]:
    """(problem, fix) for one pydantic error on one field."""
    kind = error["type"]
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(field, FIELDS, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        return (
            f"waiver {label}: unknown key {excerpt(field)}",
            f"{hint}allowed keys: {', '.join(FIELDS)}",
        )
    if kind == "missing":
        return f"waiver {label} has no {field}", f"add {_FIELD_HELP[field]}"
    if node is not None and not isinstance(node, ScalarNode):
        return (
            f"waiver {label}: {field} is {_kind(node)}, not a single value",
            f"write {_FIELD_HELP[field]}",
        )
    raw = error.get("input")
    if kind == "string_too_short" or (isinstance(raw, str) and not raw.strip()):
        return f"waiver {label}: {field} is empty", f"write {_FIELD_HELP[field]}"
    if kind == "string_too_long":
        return (
            f"waiver {label}: {field} {excerpt(raw)} is {len(str(raw)):,} characters long; at most "
            f"{error['ctx']['max_length']:,}",
            f"shorten it (a ticket or a link can carry the detail), {_FIELD_HELP[field]}",
        )
    if (
        field in ("granted", "expires_on")
        and kind == "value_error"
        and "before" in str(error.get("ctx"))
    ):
        return (
            f"waiver {label}: {field} {excerpt(raw)} is before {EARLIEST_EXPIRY}, "
            "earlier than any audit keyaudit runs",
            _INVALID[field][1],
        )
    problem, fix = _INVALID.get(
        field, (f"{field} {{raw!r}} is invalid", f"write {_FIELD_HELP.get(field, field)}")
    )
    return f"waiver {label}: {problem.format(raw=_Shown(raw))}", fix


class _Shown:
    """A value whose repr is its short excerpt, for the {raw!r} of the messages above."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return excerpt(self.value)


def _fits_catalogue(
    data: dict[str, Any],
    label: str,
    lines: dict[str, int],
    scopes: dict[str, str],
    refuse: Any,
) -> bool:
    """The rule exists and the scope fits what it judges (checked even when other fields fail)."""
    rule = data.get("rule")
    if not isinstance(rule, str) or not rule.strip():
        return False  # missing or empty: already refused
    rule = rule.strip()
    scope = scopes.get(rule)
    if scope is None:
        known = sorted(scopes)
        close = difflib.get_close_matches(rule, known, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        refuse(
            lines["rule"],
            f"waiver {label}: unknown rule {excerpt(rule)}",
            f"{hint}known rules: {', '.join(known)}",
        )
        return False
    fits = True
    if data.get("user") is not None and scope == "account":
        fits = False
        refuse(
            lines["user"],
            f"waiver {label}: user is set but rule {rule} judges whole accounts",
            "remove user, or waive a rule about users or keys",
        )
    if data.get("key") is not None and scope != "key":
        fits = False
        refuse(
            lines["key"],
            f"waiver {label}: key is set but rule {rule} judges {_SCOPE_NOUN[scope]}, "
            "not access keys",
            "remove key, or waive a rule about access keys",
        )
    return fits
