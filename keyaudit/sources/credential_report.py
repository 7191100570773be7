"""Parse an IAM credential report (CSV) into verbatim rows, strictly.

Rows are kept as AWS wrote them (only booleans are lower-cased) so that the sentinels
`N/A`, `no_information` and `not_supported` keep their distinct meanings for staging.
Anything that would silently change an audit — a truncated file, a shifted header, a cell
that is not a timestamp, two accounts in one file — raises an error naming the line and
column; harmless oddities (BOM, CRLF, upper-case booleans, a repeated user, a user name whose
commas were not quoted) become notes. A row whose user name or ARN IAM could not have written
(keyaudit.sources.iam_names) is refused on its own: never stored, named in `refused`, so its
account is partial; a file whose every row is refused is an error.
"""

from __future__ import annotations

import csv
import gc
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from keyaudit.model import ROOT_USER, KeyauditError
from keyaudit.sources.iam_names import (
    IAM_ARN,
    IAM_ARN_RULE,
    USER_ARN_HEAD,
    USER_NAME,
    USER_NAME_RULE,
)
from keyaudit.sources.unquoted_commas import rejoined
from keyaudit.textsafe import excerpt, excerpts, few

COLUMNS: tuple[str, ...] = (
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
)
SENTINELS = frozenset({"N/A", "no_information", "not_supported"})
TIMESTAMP_COLUMNS: tuple[str, ...] = (
    "user_creation_time",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "cert_1_last_rotated",
    "cert_2_last_rotated",
)
BOOLEAN_COLUMNS: tuple[str, ...] = (
    "password_enabled",
    "mfa_active",
    "access_key_1_active",
    "access_key_2_active",
    "cert_1_active",
    "cert_2_active",
)

# The root row has no password metadata: AWS writes not_supported there, and newer member
# accounts (centrally managed root credentials) write true/false instead.
_ROOT_FLEXIBLE_TIMESTAMPS = ("password_last_changed", "password_next_rotation")
_BOOLEAN_SENTINELS = {"password_enabled": frozenset({"not_supported"})}
_BOOLEANS = ["true", "false"]

# RE2 (pyarrow) and Python agree on this pattern; day-of-month is checked per distinct date.
_UTC_TIMESTAMP = (
    r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\+00:00"
)
_EXAMPLE_TIMESTAMP = "2024-01-31T09:15:00+00:00"

# The instants a report (or a keys file) may hold, in UTC. The floor is looser than IAM's 2010
# launch because the root row's user_creation_time is the account's own creation; it exists to
# catch corruption (epoch zero, year 1). The ceiling is the last instant a datetime holds: a cell
# like 9999-12-31T23:00:00-05:00 is year 10000 in UTC and broke every export.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
# No credential report column holds more: IAM user names are at most 64 characters, ARNs at most
# 2,048 (IAM User Guide, IAM quotas). A longer cell is not AWS's and stalled the PDF for minutes.
MAX_CELL_CHARS: dict[str, int] = {"user": 64}
MAX_ANY_CELL_CHARS = 2048
_REFETCH = "fetch the report again or fix the file"
_NOT_ASSESSED = "the row is not stored and its user is not assessed"
_STR = pd.api.types.pandas_dtype("str")
_BOOLEAN_SET = pa.array(_BOOLEANS, pa.string())
_SENTINEL_SET = pa.array(sorted(SENTINELS), pa.string())


class CredentialReportError(KeyauditError, ValueError):
    """The file is not a credential report keyaudit can trust; the message names where and why."""


@dataclass(frozen=True)
class ParsedReport:
    """Report rows (line_number + COLUMNS, all str), the account they belong to, notes, and
    why each refused row was refused (those rows are not in `rows`)."""

    rows: pd.DataFrame
    account_id: str | None
    notes: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Check:
    """Cells of one column that failed one rule; `complaint` words the first of them."""

    column: str
    bad: np.ndarray
    complaint: Callable[[str], str]


def parse_credential_report(content: bytes | str, *, source: str) -> ParsedReport:
    """Parse and validate one credential report; `source` names it in every error message."""
    text = _decode(content, source)
    with _gc_paused():
        records, starts = _read_records(text, source)
        _check_header(records[0], source)
        body, lines, notes = _drop_blank_lines(records[1:], starts[1:])
        body, split = _fit_field_counts(body, lines, source)
        table = _table(body, lines)
    _raise_first_problem(table, _validate(table), source)
    table, refused = _refuse_rows(table, _row_checks(table), source)
    table = _lower_booleans(table)
    account_id = _account_id(table, source)
    frame, repeated = _drop_repeated_users(_to_frame(table))
    return ParsedReport(
        rows=frame, account_id=account_id, notes=notes + split + repeated, refused=refused
    )


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Each CSV record is a list the cyclic GC tracks; 100,000 of them trigger repeated
    collections that cost about as much as the parsing itself. Nothing here makes cycles."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _decode(content: bytes | str, source: str) -> str:
    if isinstance(content, bytes):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CredentialReportError(
                f"{source}: not UTF-8 text (invalid byte at offset {exc.start}) — {_REFETCH}"
            ) from exc
    else:
        text = content.removeprefix("\ufeff")
    if not text.strip():
        raise CredentialReportError(
            f"{source}: the file is empty — expected a CSV starting with the header "
            f"'user,arn,user_creation_time,...'; {_REFETCH}"
        )
    return text


def _read_records(text: str, source: str) -> tuple[list[list[str]], list[int]]:
    """Every CSV record (blank lines are empty records) and the file line each starts on."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        records = list(reader)
    except csv.Error as exc:
        raise CredentialReportError(
            f"{source}, line {reader.line_num}: malformed CSV ({exc}) — {_REFETCH}"
        ) from exc
    if reader.line_num == len(records):  # one record per physical line: the usual case
        return records, list(range(1, len(records) + 1))
    return records, _record_start_lines(text)  # a quoted field spans lines


def _drop_blank_lines(
    body: list[list[str]], lines: list[int]
) -> tuple[list[list[str]], list[int], list[str]]:
    """Blank lines carry no data; one inside the file (not trailing) is worth a note."""
    if [] not in body:
        return body, lines, []
    kept = [(n, r) for n, r in zip(lines, body, strict=True) if r]
    last = kept[-1][0] if kept else 0
    interior = [str(n) for n, r in zip(lines, body, strict=True) if not r and n < last]
    notes = [f"blank line(s) {_and_list(interior)} skipped"] if interior else []
    return [r for _, r in kept], [n for n, _ in kept], notes


def _record_start_lines(text: str) -> list[int]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    starts, previous = [], 0
    for _ in reader:
        starts.append(previous + 1)
        previous = reader.line_num
    return starts


def _check_header(header: list[str], source: str) -> None:
    if tuple(header) == COLUMNS:
        return
    expected = (
        f"expected the {len(COLUMNS)} credential report columns in AWS order "
        f"({COLUMNS[0]}, {COLUMNS[1]}, ..., {COLUMNS[-1]}); use the file as IAM returns it"
    )
    if not set(header) & set(COLUMNS):
        raise CredentialReportError(
            f"{source}, line 1: not a credential report header "
            f"(found {excerpt(','.join(header))}) — {expected}"
        )
    missing = [c for c in COLUMNS if c not in header]
    unknown = [h for h in header if h not in COLUMNS]
    repeated = sorted({h for h in header if header.count(h) > 1}, key=header.index)
    parts = []
    if missing:
        parts.append(f"missing column(s) {', '.join(missing)}")
    if unknown:
        parts.append(f"unknown column(s) {excerpts(unknown)}")
    if repeated:
        parts.append(f"repeated column(s) {', '.join(repeated)}")
    if not parts:
        at = next(i for i, (h, c) in enumerate(zip(header, COLUMNS, strict=True)) if h != c)
        parts.append(
            f"columns out of order (column {at + 1} is {header[at]}, expected {COLUMNS[at]})"
        )
    raise CredentialReportError(f"{source}, line 1: header has {'; '.join(parts)} — {expected}")


def _fit_field_counts(
    body: list[list[str]], lines: list[int], source: str
) -> tuple[list[list[str]], list[str]]:
    """Every record as the header's 22 fields, and a note per record read back together: a
    longer record is read by its ARN when a user name written without quotes explains it
    (keyaudit.sources.unquoted_commas); any other count is an error naming the line."""
    width = len(COLUMNS)
    if all(len(record) == width for record in body):
        return body, []
    fitted, notes = [], []
    for record, line in zip(body, lines, strict=True):
        if len(record) == width:
            fitted.append(record)
            continue
        reading = rejoined(record, width) if len(record) > width else None
        if reading is None:
            raise _field_count_error(record, line, source)
        notes.append(
            f"line {line}: user {excerpt(reading[0])} was written without quotes, so its "
            "commas split the row; read back together by its ARN"
        )
        fitted.append(reading)
    return fitted, notes


def _field_count_error(record: list[str], line: int, source: str) -> CredentialReportError:
    width, count = len(COLUMNS), len(record)
    where = (
        f"it ends after column {COLUMNS[count - 1]}"
        if count < width
        else f"{count - width} extra after column {COLUMNS[-1]}"
    )
    return CredentialReportError(
        f"{source}, line {line}: {count} fields, expected {width} ({where})"
        f" — the file looks truncated or edited; {_REFETCH}"
    )


def _table(body: list[list[str]], lines: list[int]) -> pa.Table:
    """Column-wise into Arrow: several times faster than DataFrame(list_of_rows), and every
    check below is one Arrow compute call per column (pandas string methods on a small report
    cost ≈ 30 ms of fixed overhead in all; Arrow ≈ 3 ms — bench/concurrency.py)."""
    columns = list(zip(*body, strict=True)) if body else [() for _ in COLUMNS]
    arrays = {"line_number": pa.array(lines, type=pa.int64())}
    for name, values in zip(COLUMNS, columns, strict=True):
        arrays[name] = pa.array(values, type=pa.string())
    return pa.table(arrays)


def _to_frame(table: pa.Table) -> pd.DataFrame:
    """line_number (int64) and the report columns (pandas str)."""
    return table.to_pandas(types_mapper=lambda t: _STR if pa.types.is_string(t) else None)


def _mask(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.asarray(values, dtype=bool)


def _fullmatch(values: pa.ChunkedArray, pattern: str) -> pa.ChunkedArray:
    """Whole-cell regex match with RE2, as pandas' str.fullmatch does for Arrow strings."""
    return pc.match_substring_regex(values, f"^(?:{pattern})$")


def instant_problem(instant: datetime) -> str | None:
    """Why an aware instant cannot be one IAM reported, or None when it can."""
    try:
        utc = instant.astimezone(UTC)
    except OverflowError:  # beyond year 9999 or before year 1 once in UTC
        utc = None
    if utc is not None and EARLIEST <= utc <= LATEST:
        return None
    if (utc or instant).year < LATEST.year // 2:
        side = f"before {EARLIEST:%Y-%m-%d}, earlier than any AWS account"
    else:
        side = "after 9999-12-31T23:59:59Z, the latest time keyaudit can store"
    return f"is out of range: in UTC it falls {side}"


def _validate(table: pa.Table) -> list[_Check]:
    # length first: of two problems in one cell, _raise_first_problem words the first listed
    checks = [c for c in (_length_check(table[n], n) for n in COLUMNS) if c is not None]
    is_root = _mask(pc.equal(table["user"], ROOT_USER))
    checks += [_boolean_check(table[c], c) for c in BOOLEAN_COLUMNS]
    checks += [_timestamp_check(table[c], c, is_root) for c in TIMESTAMP_COLUMNS]
    return [c for c in checks if c.bad.any()]


def _length_check(values: pa.ChunkedArray, column: str) -> _Check | None:
    """Cells longer than the column can hold; bytes bound characters, so most columns cost one
    max() over their byte lengths."""
    limit = MAX_CELL_CHARS.get(column, MAX_ANY_CELL_CHARS)
    longest = pc.max(pc.binary_length(values)).as_py()
    if longest is None or longest <= limit:
        return None
    bad = _mask(pc.greater(pc.utf8_length(values), limit))
    if not bad.any():
        return None
    return _Check(
        column,
        bad,
        lambda v: (
            f"is {len(v):,} characters long; a credential report holds at most {limit:,} "
            f"there (IAM's limit)"
        ),
    )


def _boolean_check(values: pa.ChunkedArray, column: str) -> _Check:
    sentinels = sorted(_BOOLEAN_SENTINELS.get(column, ()))
    ok = _mask(pc.is_in(pc.utf8_lower(values), value_set=_BOOLEAN_SET))
    if sentinels:
        ok |= _mask(pc.is_in(values, value_set=pa.array(sentinels, pa.string())))
    bad = ~ok
    words = ["true", "false", *sentinels]
    expected = f"{', '.join(words[:-1])} or {words[-1]}"
    return _Check(column, bad, lambda v: f"is not {expected}")


def _timestamp_check(values: pa.ChunkedArray, column: str, is_root: np.ndarray) -> _Check:
    """Fast path: one regex over the column and a date check per distinct day; the rare
    other cells (Z suffix, other offsets) go through datetime.fromisoformat one by one."""
    strict = _mask(_fullmatch(values, _UTC_TIMESTAMP))
    ok = strict | _mask(pc.is_in(values, value_set=_SENTINEL_SET))
    if column in _ROOT_FLEXIBLE_TIMESTAMPS:
        ok |= is_root & _mask(pc.is_in(pc.utf8_lower(values), value_set=_BOOLEAN_SET))
    day = pc.utf8_slice_codeunits(values, 0, 10)
    days = pc.unique(pc.filter(day, pa.array(strict))).to_pylist()
    floor = f"{EARLIEST:%Y-%m-%d}"
    impossible = [d for d in days if not _is_date(d) or d < floor]
    bad = ~ok
    if impossible:
        bad |= strict & _mask(pc.is_in(day, value_set=pa.array(impossible, pa.string())))
    if bad.any():
        unusual = pc.unique(pc.filter(values, pa.array(~ok))).to_pylist()
        others = [v for v in unusual if _aware_timestamp(v) and _in_range(v)]
        if others:
            bad &= ~_mask(pc.is_in(values, value_set=pa.array(others, pa.string())))
    return _Check(column, bad, _timestamp_complaint)


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _aware_timestamp(text: str) -> bool:
    try:
        return datetime.fromisoformat(text).utcoffset() is not None
    except ValueError:
        return False


def _in_range(text: str) -> bool:
    return instant_problem(datetime.fromisoformat(text)) is None


def _timestamp_complaint(value: str) -> str:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        sentinels = ", ".join(sorted(SENTINELS))
        return f"is neither a timestamp like {_EXAMPLE_TIMESTAMP} nor one of {sentinels}"
    if parsed.utcoffset() is None:
        return f"is a timestamp without a time zone (expected like {_EXAMPLE_TIMESTAMP})"
    return instant_problem(parsed) or "is not a valid timestamp"


def _row_checks(table: pa.Table) -> list[_Check]:
    """Rows IAM could not have written: a user name outside IAM's rule, an ARN that is not an
    IAM user or root ARN, or one that is not the row's own user's (keyaudit.sources.iam_names).
    Each row fails at most one: the first in column order, as the file's errors are chosen."""
    users, arns = table["user"], table["arn"]
    is_root = _mask(pc.equal(users, ROOT_USER))
    bad_name = ~is_root & ~_mask(_fullmatch(users, USER_NAME))
    iam_arn = _mask(_fullmatch(arns, IAM_ARN))
    root_arn = _mask(pc.ends_with(arns, ":root"))
    name_in_arn = pc.replace_substring_regex(
        arns, pattern=f"^{USER_ARN_HEAD}", replacement="", max_replacements=1
    )
    other_user = ~is_root & ~root_arn & ~_mask(pc.equal(name_in_arn, users))
    name_ok = ~bad_name
    return [
        _Check("user", bad_name, _user_complaint),
        _Check(
            "arn", name_ok & ~iam_arn, lambda v: f"is not an IAM user or root ARN ({IAM_ARN_RULE})"
        ),
        _Check(
            "arn",
            name_ok & iam_arn & (is_root != root_arn),
            lambda v: f"does not match the user: the {ROOT_USER} row and only it has a :root ARN",
        ),
        _Check(
            "arn",
            name_ok & iam_arn & other_user,
            lambda v: "is not the row's user's ARN (…:user/<path><the user's name>)",
        ),
    ]


def _user_complaint(value: str) -> str:
    if not value:
        return "is empty: every row names its user"
    return f"is not an IAM user name ({USER_NAME_RULE})"


def _refuse_rows(table: pa.Table, checks: list[_Check], source: str) -> tuple[pa.Table, list[str]]:
    """`table` without the rows a check refuses, and a note naming each of them, in line
    order; when no row is left, the first problem is the file's error."""
    checks = [c for c in checks if c.bad.any()]
    if not checks:
        return table, []
    refused = np.zeros(table.num_rows, dtype=bool)
    for check in checks:
        refused |= check.bad
    if refused.all():
        _raise_first_problem(table, checks, source)
    notes = [_refusal(table, int(at), c) for c in checks for at in np.flatnonzero(c.bad)]
    return table.filter(pa.array(~refused)), [note for _, note in sorted(notes)]


def _refusal(table: pa.Table, at: int, check: _Check) -> tuple[int, str]:
    line = int(table["line_number"][at].as_py())
    value = str(table[check.column][at].as_py())
    whose = "" if check.column == "user" else f" (user {excerpt(table['user'][at].as_py())})"
    return line, (
        f"line {line}: row refused — {check.column} {excerpt(value)} {check.complaint(value)}"
        f"{whose}; {_NOT_ASSESSED}"
    )


def _raise_first_problem(table: pa.Table, checks: list[_Check], source: str) -> None:
    """Report the problem nearest the top of the file (then leftmost) and how many more exist."""
    if not checks:
        return
    firsts = [(int(np.argmax(c.bad)), COLUMNS.index(c.column), c) for c in checks]
    row, _, check = min(firsts, key=lambda f: (f[0], f[1]))
    value = str(table[check.column][row].as_py())
    per_column: dict[str, np.ndarray] = {}
    for c in checks:  # a cell failing two checks (too long, not a timestamp) counts once
        per_column[c.column] = per_column.get(c.column, False) | c.bad
    others = sum(int(bad.sum()) for bad in per_column.values()) - 1
    more = f"; {others} more invalid cell(s) in the file" if others else ""
    raise CredentialReportError(
        f"{source}, line {table['line_number'][row].as_py()}, column {check.column}: "
        f"{excerpt(value)} {check.complaint(value)}{more} — {_REFETCH}"
    )


def _lower_booleans(table: pa.Table) -> pa.Table:
    """true/false in any case become lower-case (the warehouse contract); sentinels stay."""
    for column in (*BOOLEAN_COLUMNS, *_ROOT_FLEXIBLE_TIMESTAMPS):
        values = table[column]
        lower = pc.utf8_lower(values)
        fixed = pc.if_else(pc.is_in(lower, value_set=_BOOLEAN_SET), lower, values)
        table = table.set_column(table.schema.get_field_index(column), column, fixed)
    return table


def _account_ids(table: pa.Table) -> pa.ChunkedArray:
    """The 12 digits of each (valid) ARN."""
    return pc.replace_substring_regex(table["arn"], pattern=IAM_ARN, replacement=r"\1")


def _account_id(table: pa.Table, source: str) -> str | None:
    if table.num_rows == 0:
        return None
    accounts = _account_ids(table)
    first = accounts[0].as_py()
    other = _mask(pc.not_equal(accounts, first))
    if other.any():
        at = int(np.argmax(other))
        lines = table["line_number"]
        raise CredentialReportError(
            f"{source}, line {lines[at].as_py()}, column arn: account "
            f"{accounts[at].as_py()} differs from account {first} on line "
            f"{lines[0].as_py()} — a credential report covers one account; "
            "split the file per account"
        )
    return str(first)


def _drop_repeated_users(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Hand-edited files can repeat a user; keep the first row so each user counts once."""
    repeated = frame.duplicated("user", keep=False)
    if not repeated.any():
        return frame, []
    notes = []
    for user, lines in frame[repeated].groupby("user", sort=False)["line_number"]:
        times = "twice" if len(lines) == 2 else f"{len(lines)} times"
        notes.append(
            f"user {excerpt(user)} appears {times} (lines {_and_list(map(str, lines))}); kept the first"
        )
    kept = frame[~frame.duplicated("user", keep="first")].reset_index(drop=True)
    return kept, notes


# A note names at most this many line numbers, then how many more (a file may hold 100,000
# blank lines or repeat one user on every line).
_MOST_LINES = 10


def _and_list(items: Iterable[str]) -> str:
    words: Sequence[str] = list(items)
    if len(words) > _MOST_LINES:
        return few(words, _MOST_LINES)
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"
