"""How a message quotes what an input file holds: a short, escaped excerpt, never a whole line.

Reasons travel into the report, the e-mail, the warehouse and the Prefect UI; a file handed in
may be anything (a link to a secrets file, a huge value), so no more than a few escaped
characters of it ever reach them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

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
