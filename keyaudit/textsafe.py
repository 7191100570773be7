"""Text from the warehouse made safe for where it is shown: spreadsheets and terminals.

Warehouse text comes from AWS (user names, tags, account names), so anyone who can name an IAM
user chooses it. A spreadsheet runs a cell that starts with = + - @ (or tab, CR, NUL) as a
formula, so every CSV cell goes through `safe_cell`; a terminal obeys control sequences (ESC,
OSC 52 writes the clipboard, C1 controls, DEL) and bidi overrides reorder what it shows, so text
shown on a terminal goes through `visible`. In plain text a CR, LF or line separator inside a
value starts a line the reader takes for keyaudit's own (a fake `command:` under the real one),
so every value a text template prints goes through `template_value`, as HTML autoescapes it.
Text too long for where it goes (a reason in the warehouse, a report cell) goes through
`shortened`, which keeps its start and its end: a reason ends with what to do about it.

How a message quotes what an input file holds is here too: a short, escaped excerpt
(`excerpt`, `excerpts`, `few`, `shown_name`), never a whole line. Reasons travel into the
report, the e-mail, the warehouse and the Prefect UI; a file handed in may be anything (a link
to a secrets file, a huge value), so no more than a few escaped characters of it ever reach
them. One module for all of this, on the ground floor: every stage quotes or shows text.
Imports nothing heavy: `keyaudit query` uses it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\0")

# C0 controls, DEL and C1 controls (category Cc), the bidi embedding/override/isolate marks,
# and the line and paragraph separators: each would change what a terminal shows or does.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def safe_cell(value: Any) -> Any:
    """Prefix a quote to text a spreadsheet would evaluate; numbers pass through unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _escape(found: re.Match[str]) -> str:
    char = found.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """`text` with every control character and bidi mark written as a visible escape (`\\x1b`,
    `\\u202e`, `\\n`), so printing it cannot move the cursor, set the clipboard or reorder text."""
    return _UNSAFE.sub(_escape, text)


# Where `shortened` may move a cut to a space, so that no word is split: at most this far.
_WORD_SLACK = 20


def shortened(text: str, limit: int) -> str:
    """`text` as it is when it has at most `limit` characters; else its start and its end with the
    middle left out, and a mark saying how many characters were left out, in at most `limit`
    characters. The end is kept because a reason ends with its fix ("— grant sts:AssumeRole …");
    a cut falls between words when a space is near."""
    if len(text) <= limit:
        return text
    room = limit - len(_mark(len(text)))  # the mark is never longer than with every character
    if room < 2:
        return text[: max(limit - 1, 0)] + "…"
    head, tail = text[: (room + 1) // 2], text[len(text) - room // 2 :]
    if " " in head[-_WORD_SLACK:]:
        head = head[: head.rindex(" ")]
    if " " in tail[:_WORD_SLACK]:
        tail = tail[tail.index(" ") + 1 :]
    return head + _mark(len(text) - len(head) - len(tail)) + tail


def _mark(left_out: int) -> str:
    return f" … ({left_out:,} characters left out) … "


def template_value(value: Any) -> Any:
    """A Jinja `finalize`: every text value a template prints made `visible`, so one value can
    never start a line of its own. Markup (HTML a template built, which may hold line breaks of
    its own) and non-text values pass through unchanged."""
    if isinstance(value, str) and not hasattr(value, "__html__"):
        return visible(value)
    if value is None:  # a missing value prints as nothing, never as Python's "None"
        return ""
    return value


EXCERPT_CHARS = 40

T = TypeVar("T")


def excerpt(value: object, limit: int = EXCERPT_CHARS) -> str:
    """repr of the first `limit` characters (control and invisible characters escaped), with
    '…' when the value was longer; a non-text value is shown as its repr, cut the same way."""
    if isinstance(value, str):
        return repr(value[:limit]) + ("…" if len(value) > limit else "")
    shown = repr(value)
    return shown if len(shown) <= limit else shown[:limit] + "…"


def few(items: Sequence[T], most: int = 3, show: Callable[[T], str] = str) -> str:
    """Up to `most` items, each as `show` gives it, joined by commas, then how many more there
    are ("a.csv, b.csv, c.csv and 396 more"): a message listing files, columns or lines stays
    short however many there are."""
    shown = ", ".join(show(item) for item in items[:most])
    return shown + (f" and {len(items) - most:,} more" if len(items) > most else "")


def excerpts(values: list[str], most: int = 3) -> str:
    """Up to `most` excerpts joined by commas, then how many more there are."""
    return few(values, most, excerpt)


def shown_name(name: str) -> str:
    """A file name as a message shows it: as is when it is plain printable text, else escaped
    (a name may hold a newline or a right-to-left mark)."""
    return name if name.isprintable() else repr(name)
