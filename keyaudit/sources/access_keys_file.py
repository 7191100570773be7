"""Read an `<account id>.access_keys.json` handed in beside a credential report.

The file lists the account's IAM-user access keys: ListAccessKeys entries, each with its
GetAccessKeyLastUsed result under `LastUsed` (keyaudit's evidence shape) or `AccessKeyLastUsed`
(the API's own name). It is checked strictly and returned in the shape `keyaudit.sources.aws.collect`
writes, so loading does not care where keys came from. Last-use data is required: a key without
it would look never used and raise false findings.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from keyaudit.model import KeyauditError
from keyaudit.sources.credential_report import MAX_ANY_CELL_CHARS, MAX_CELL_CHARS, instant_problem
from keyaudit.textsafe import excerpt

STATUSES = ("Active", "Inactive", "Expired")
# Bounds for a file handed in by someone else. IAM allows 5,000 users per account and 2 keys per
# user; one key is about 300 bytes of JSON, so 10,000 keys fit in 3 MB. The file's shape needs 3
# levels (array, key, LastUsed); deeper data crashed the run (json recursion) and is refused.
MAX_KEYS = 10_000
MAX_BYTES = 8 * 1024 * 1024
MAX_NESTING = 8
_KEY_ID = re.compile(r"[A-Z0-9]{16,128}")
_FIX = "fix the file, or leave it out to audit from the credential report alone"
_EXAMPLE = (
    '[{"UserName": "alice", "AccessKeyId": "AKIA…", "Status": "Active", '
    '"CreateDate": "2024-01-15T08:30:12+00:00", "LastUsed": {"LastUsedDate": '
    '"2024-05-01T12:30:00+00:00", "ServiceName": "s3", "Region": "us-east-1"}}]'
)


class AccessKeysFileError(KeyauditError, ValueError):
    """The keys file cannot be trusted; the message names the key and the field."""


def read_access_keys(content: bytes, *, source: str) -> list[dict[str, Any]]:
    """Validate the keys file and return one dict per key in keyaudit's evidence shape."""
    if len(content) > MAX_BYTES:
        raise AccessKeysFileError(
            f"{source}: {len(content):,} bytes, more than the {MAX_BYTES:,} a keys file of "
            f"{MAX_KEYS:,} keys (IAM's most per account) needs — {_FIX}"
        )
    try:
        data = json.loads(content.decode("utf-8-sig"))
    except RecursionError:
        raise AccessKeysFileError(
            f"{source}: JSON nested deeper than {MAX_NESTING} levels (a keys file needs 3) — {_FIX}"
        ) from None
    except UnicodeDecodeError as exc:
        raise AccessKeysFileError(
            f"{source}: not UTF-8 text (invalid byte at offset {exc.start}) — {_FIX}"
        ) from None
    except json.JSONDecodeError as exc:
        raise AccessKeysFileError(
            f"{source}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}) — {_FIX}"
        ) from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise AccessKeysFileError(
            f"{source}: not valid JSON ({excerpt(str(exc), 80)}) — {_FIX}"
        ) from None
    if not isinstance(data, list):
        raise AccessKeysFileError(
            f"{source}: expected a JSON array of keys like {_EXAMPLE} — {_FIX}"
        )
    if len(data) > MAX_KEYS:
        raise AccessKeysFileError(
            f"{source}: {len(data):,} entries, more than the {MAX_KEYS:,} keys IAM allows in one "
            f"account (5,000 users, 2 keys each) — {_FIX}"
        )
    _check_nesting(data, source)
    keys = [_key(item, n, source) for n, item in enumerate(data, start=1)]
    _check_unique(keys, source)
    return keys


def _check_nesting(data: list[Any], source: str) -> None:
    """Refuse arrays and objects deeper than MAX_NESTING, without recursion."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_NESTING:
            raise AccessKeysFileError(
                f"{source}: JSON nested deeper than {MAX_NESTING} levels (a keys file needs 3)"
                f" — {_FIX}"
            )
        children = value.values() if isinstance(value, dict) else value
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))


def _key(item: Any, n: int, source: str) -> dict[str, Any]:
    where = f"{source}, key {n}"
    if not isinstance(item, dict):
        raise AccessKeysFileError(f"{where}: is not a JSON object — expected like {_EXAMPLE}")
    key_id = item.get("AccessKeyId")
    if not (isinstance(key_id, str) and _KEY_ID.fullmatch(key_id)):
        raise AccessKeysFileError(
            f"{where}: AccessKeyId {excerpt(key_id)} is not an access key id (16+ upper-case letters"
            f" and digits) — {_FIX}"
        )
    where = f"{where} ({key_id})"
    user = item.get("UserName")
    if not (isinstance(user, str) and user):
        raise AccessKeysFileError(f"{where}: UserName is missing or empty — {_FIX}")
    _check_length(user, "UserName", MAX_CELL_CHARS["user"], where)
    status = item.get("Status")
    if status not in STATUSES:
        raise AccessKeysFileError(
            f"{where}: Status {excerpt(status)} is not one of {', '.join(STATUSES)} — {_FIX}"
        )
    used = item.get("LastUsed", item.get("AccessKeyLastUsed"))
    if not isinstance(used, dict):
        raise AccessKeysFileError(
            f"{where}: no last-use data (LastUsed or AccessKeyLastUsed from "
            f"GetAccessKeyLastUsed) — add it; {_FIX}"
        )
    last_used_date = used.get("LastUsedDate")
    return {
        "UserName": user,
        "AccessKeyId": key_id,
        "Status": status,
        "CreateDate": _timestamp(item.get("CreateDate"), "CreateDate", where),
        "LastUsed": {
            "LastUsedDate": None
            if last_used_date is None
            else _timestamp(last_used_date, "LastUsedDate", where),
            "ServiceName": _text(used.get("ServiceName"), "ServiceName", where),
            "Region": _text(used.get("Region"), "Region", where),
        },
    }


def _timestamp(value: Any, field: str, where: str) -> str:
    """An ISO 8601 instant with its zone (Z allowed), stored as isoformat in UTC terms."""
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if not isinstance(value, str) or parsed is None or parsed.utcoffset() is None:
        raise AccessKeysFileError(
            f"{where}: {field} {excerpt(value)} is not a timestamp with a time zone "
            f"(e.g. 2024-01-15T08:30:12+00:00) — {_FIX}"
        )
    problem = instant_problem(parsed)
    if problem:
        raise AccessKeysFileError(f"{where}: {field} {excerpt(value)} {problem} — {_FIX}")
    return parsed.isoformat()


def _text(value: Any, field: str, where: str) -> str:
    if value is None:
        return "N/A"  # what GetAccessKeyLastUsed says for a key never used
    if not isinstance(value, str):
        raise AccessKeysFileError(f"{where}: {field} {excerpt(value)} is not text — {_FIX}")
    _check_length(value, field, MAX_ANY_CELL_CHARS, where)
    return value


def _check_length(value: str, field: str, limit: int, where: str) -> None:
    if len(value) > limit:
        raise AccessKeysFileError(
            f"{where}: {field} {excerpt(value)} is {len(value):,} characters long; IAM's limit is "
            f"{limit:,} — {_FIX}"
        )


def _check_unique(keys: list[dict[str, Any]], source: str) -> None:
    seen: set[str] = set()
    per_user: dict[str, int] = {}
    for key in keys:
        if key["AccessKeyId"] in seen:
            raise AccessKeysFileError(
                f"{source}: key {key['AccessKeyId']} is listed twice — keep one entry per key"
            )
        seen.add(key["AccessKeyId"])
        per_user[key["UserName"]] = per_user.get(key["UserName"], 0) + 1
    crowded = sorted(u for u, n in per_user.items() if n > 2)
    if crowded:
        raise AccessKeysFileError(
            f"{source}: user {excerpt(crowded[0])} has {per_user[crowded[0]]} keys but IAM allows 2 — "
            "the file mixes accounts or repeats keys; " + _FIX
        )
