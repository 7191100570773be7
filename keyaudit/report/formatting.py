"""Small shared pieces of the report: severities, timestamps, clipped text."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Collection
from datetime import UTC, date, datetime
from typing import Any

import duckdb
from markupsafe import Markup, escape

from keyaudit.model import SEVERITIES, is_account_id
from keyaudit.report.queries import execute, rows
from keyaudit.textsafe import shortened

# Where a key's owner came from (sql/views/key_owners.sql owner_source), in words.
OWNER_SOURCES = {
    "user_tag": "user tag",
    "key_description": "key description",
    "account_tag": "account tag",
    "ou_map": "OU map",
    "compliance": "compliance list",
}


def owner_label(owner: str | None, source: str | None) -> str | None:
    """Who owns a key or finding and why, as the report and the e-mails print it:
    "dev@example.com (user tag)"; "no owner (compliance list)"; None when not known."""
    if source is None:
        return None
    if owner is None:
        return f"no owner ({OWNER_SOURCES.get(source, source)})"
    return f"{owner} ({OWNER_SOURCES.get(source, source)})"


def ts(value: datetime | None) -> str | None:
    """A timestamp as the report prints it: UTC, to the minute."""
    if value is None:
        return None
    if value.tzinfo is None:  # the schema stores timestamptz; a naive value is already UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def day(value: datetime | date | None) -> str | None:
    """A date as the report prints it."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC).date()
    return value.isoformat()


def severity_sort_key(severity: str) -> tuple[int, str]:
    """Critical first, info last, unexpected severities after info."""
    return (SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES), severity)


def severity_class(severity: str | None) -> str:
    """A CSS class from a fixed list, never from warehouse text."""
    return severity if severity in SEVERITIES else "unknown"


def json_object(value: Any) -> dict[str, Any]:
    """A JSON column (text or already decoded) as a dict; anything else is an empty dict."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def account_filter(account_ids: Collection[str] | None) -> list[str] | None:
    """The bound value of `$account_ids`: None for every account, else a sorted list."""
    if account_ids is None:
        return None
    ids = sorted(set(account_ids))
    for account_id in ids:
        if not is_account_id(account_id):
            raise ValueError(
                f"account_ids: {account_id!r} is not a 12-digit account id (pass it as a string)"
            )
    return ids


def release_memory(con: duckdb.DuckDBPyConnection) -> None:
    """Hand back the memory DuckDB keeps cached after large queries (hundreds of MB on a big
    run), so the PDF layout that follows does not add to it: briefly lower, then restore, the
    memory limit. A connection whose configuration is locked is left as it is."""

    def current() -> Any:
        found = rows(con, "memory_limit")
        return found[0]["memory_limit"] if found else None

    with contextlib.suppress(duckdb.Error):
        limit = current()
        execute(con, "release_memory")
        if current() != limit:  # it had been set: put it back
            execute(con, "set_memory_limit", {"limit": limit})


# The longest value a report cell shows. A name or tag is user-controlled: one of 120,000
# characters kept WeasyPrint laying out a single cell for minutes.
CLIP_CHARS = 200
# A reason (why an account was not assessed, a finding's reason, a run note) is shown in full up
# to this length: it ends with what to do, so it wraps rather than being cut at CLIP_CHARS.
REASON_CHARS = 600


def clip(value: Any, limit: int = CLIP_CHARS) -> Any:
    """A displayed value in at most `limit` characters: a longer one keeps its start and its end
    and says how many characters were left out between them (keyaudit.textsafe.shortened);
    None stays None."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return value if len(text) <= limit else shortened(text, limit)


def reason(value: Any) -> Any:
    """A reason as the report shows it: in full up to REASON_CHARS, else cut in the middle so
    that its start (what failed) and its end (the fix) both stay."""
    return clip(value, REASON_CHARS)


def break_at_underscores(value: Any) -> Markup:
    """A rule id (or other snake-case name) that a narrow cell may wrap after an underscore only:
    `ACCESS_KEY_NOT_ROTATED` never becomes `ACCESS_KEY_NOT_RO` / `TATED`."""
    text = escape(clip(value) if value is not None else "")
    return Markup(str(text).replace("_", "_<wbr>"))  # noqa: S704 — escaped above
