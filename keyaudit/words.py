"""Counted words for what people read: "1 account", "2 accounts", never "1 accounts" or
"account(s)". One definition, used by the command's output, the report, the e-mails and the
Prefect artifact; it imports nothing, so the command stays quick to start."""

from __future__ import annotations

# Words whose plural is not the word plus "s".
_IRREGULAR = {"is": "are", "was": "were", "has": "have", "belongs": "belong", "this": "these"}


def plural(word: str, count: int, many: str | None = None) -> str:
    """`word` for a count of one, else its plural (`many`, a known irregular form, or word+s)."""
    if count == 1:
        return word
    return many or _IRREGULAR.get(word) or f"{word}s"


def counted(count: int, word: str, many: str | None = None) -> str:
    """ "1 account", "2 accounts", "1,204 findings": the count, with thousands separators, and
    the word in the form the count needs."""
    return f"{count:,} {plural(word, count, many)}"
