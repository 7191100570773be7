"""Wildcard matching as IAM does it, for actions and for resource ARNs.

IAM User Guide, "IAM JSON policy elements: Action": action names compare case-insensitively and
`*` / `?` match any run of characters / one character, anywhere in the name (`iam:?*`, `i*:*`).

"IAM JSON policy elements: Resource", "Using wildcards in resource ARNs": `*` and `?` work within
the segments of an ARN (the parts between colons); a `*` that is the last character of a segment
extends across colon boundaries; a lone `*` is every resource. ARNs compare case-sensitively (the
guide: "the IAM user name is case sensitive" in Resource). So here `?` is one character other than
a colon, a `*` followed by another character of its segment is a run without colons, and a `*`
that ends its segment is any run.

Beyond matching one ARN, the evaluator asks about a family of resources given as a template
(`arn:aws:iam::111122223333:user/` then a name the account chooses, without colons):
`covers` - every ARN of the family matches the pattern (so a grant counts for all of them);
`meets`  - some ARN of the family matches it (so a Deny may remove part of them).
Both are exact for these templates: a chosen name can be absorbed only by a `*`.
"""

from __future__ import annotations

import re
from functools import lru_cache

# ARN pattern tokens: a literal character, or one of these.
ONE = "?"
RUN = "*seg"  # any run without a colon
ANY = "*any"  # any run
COLON = ":"  # the segment separator, which a chosen name never holds


@lru_cache(maxsize=65536)
def action_regex(pattern: str) -> re.Pattern[str]:
    """An Action/NotAction value as a case-insensitive regular expression."""
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def action_matches(pattern: str, action: str) -> bool:
    return action_regex(pattern).fullmatch(action) is not None


@lru_cache(maxsize=65536)
def arn_tokens(pattern: str) -> tuple[str, ...]:
    """An ARN pattern as tokens: characters, ONE, RUN and ANY (see the module's rules)."""
    tokens: list[str] = []
    for i, c in enumerate(pattern):
        if c == "*":
            last_of_segment = i + 1 == len(pattern) or pattern[i + 1] == ":"
            tokens.append(ANY if last_of_segment else RUN)
        elif c == "?":
            tokens.append(ONE)
        else:
            tokens.append(c)
    return tuple(tokens)


@lru_cache(maxsize=65536)
def arn_regex(pattern: str) -> re.Pattern[str]:
    table = {ANY: ".*", RUN: "[^:]*", ONE: "[^:]"}
    return re.compile("".join(table.get(t, re.escape(t)) for t in arn_tokens(pattern)), re.DOTALL)


def arn_matches(pattern: str, arn: str) -> bool:
    """A Resource/NotResource value against one concrete ARN (a value without wildcards is
    the ARN itself, case-sensitively: compared as text, no expression compiled)."""
    if "*" not in pattern and "?" not in pattern:
        return pattern == arn
    return arn_regex(pattern).fullmatch(arn) is not None


def _star(token: str) -> bool:
    return token in (RUN, ANY)


def covers(pattern: str, template: tuple[str | None, ...]) -> bool:
    """Every ARN of the template (None = a chosen name without colons) matches the pattern."""
    tokens = arn_tokens(pattern)
    states = _closure({0}, tokens)
    for piece in template:
        following: set[int] = set()
        for i in states:
            if i == len(tokens):
                continue
            token = tokens[i]
            if piece is None:
                if _star(token):  # only a star absorbs every possible name
                    following.add(i)
            elif _star(token):
                if token == ANY or piece != ":":
                    following.add(i)
            elif token == ONE:
                if piece != ":":
                    following.add(i + 1)
            elif token == piece:
                following.add(i + 1)
        states = _closure(following, tokens)
        if not states:
            return False
    return len(tokens) in states


def meets(pattern: str, template: tuple[str | None, ...]) -> bool:
    """Some ARN of the template matches the pattern (the two languages intersect)."""
    tokens = arn_tokens(pattern)
    seen: set[tuple[int, int]] = set()
    todo = [(0, 0)]
    while todo:
        i, j = todo.pop()
        if (i, j) in seen:
            continue
        seen.add((i, j))
        if i == len(tokens) and j == len(template):
            return True
        token = tokens[i] if i < len(tokens) else None
        piece = template[j] if j < len(template) else ""
        if token is not None and _star(token):
            todo.append((i + 1, j))  # the star matches nothing more
        if j == len(template):
            continue
        if piece is None:
            todo.append((i, j + 1))  # the chosen name ends here
            if token is None:
                continue
            if not _star(token) and token != COLON:
                todo.append((i + 1, j))  # the chosen name supplies this character
            continue
        if token is None:
            continue
        if _star(token):
            if token == ANY or piece != ":":
                todo.append((i, j + 1))
        elif token == ONE:
            if piece != ":":
                todo.append((i + 1, j + 1))
        elif token == piece:
            todo.append((i + 1, j + 1))
    return False


def _closure(states: set[int], tokens: tuple[str, ...]) -> set[int]:
    """States reachable by letting stars match nothing."""
    out = set(states)
    todo = list(states)
    while todo:
        i = todo.pop()
        if i < len(tokens) and _star(tokens[i]) and i + 1 not in out:
            out.add(i + 1)
            todo.append(i + 1)
    return out
