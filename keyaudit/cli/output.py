"""The formats of `keyaudit query` and `keyaudit runs` (table, CSV, JSON, markdown), written batch
by batch as the rows arrive, so a result of any size goes out in bounded memory.

Warehouse text is chosen by whoever names an IAM user or tags an account, so what reaches a
terminal has its control characters and bidi marks shown as escapes (`keyaudit.textsafe`): the
table and markdown formats always, CSV when it is written to a terminal (to a file or a pipe it
stays the data, byte for byte, with formulas neutralised), JSON always by its own escaping.
"""

from __future__ import annotations

import base64
import csv
import json
import math
import shutil
import textwrap
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol, TextIO
from uuid import UUID

from keyaudit.textsafe import safe_cell, visible
from keyaudit.words import counted

BATCH_ROWS = 10_000  # rows fetched and written at a time
TABLE_WIDTH_ROWS = 1_000  # the table's column widths come from its first rows

Row = Sequence[Any]


class QueryFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    markdown = "markdown"


class Cursor(Protocol):
    def fetchmany(self, size: int = ...) -> list[Any]: ...


def batches(cursor: Cursor, size: int | None = None) -> Iterator[list[Any]]:
    """The rows of an executed query, `size` (BATCH_ROWS) at a time, fetched when asked for."""
    while rows := cursor.fetchmany(size or BATCH_ROWS):
        yield rows


def write_result(
    columns: Sequence[str],
    row_batches: Iterable[Sequence[Row]],
    fmt: QueryFormat,
    out: TextIO,
    *,
    terminal: bool | None = None,
) -> int:
    """Write the rows to `out` in `fmt` as each batch arrives; the number of rows written.
    `terminal` (default: whether `out` is one) decides whether CSV text is escaped."""
    if terminal is None:
        terminal = _is_terminal(out)
    if fmt is QueryFormat.json:
        return _json(columns, row_batches, out)
    if fmt is QueryFormat.csv:
        return _csv(columns, row_batches, out, visible if terminal else _same)
    if fmt is QueryFormat.markdown:
        return _markdown(columns, row_batches, out)
    return _table(columns, row_batches, out)


def _is_terminal(out: TextIO) -> bool:
    try:
        return out.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def _same(text: str) -> str:
    return text


def _plain(value: Any) -> Any:
    """A value as CSV and the table show it: times in ISO 8601, the rest as Python gives it."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


def _text(value: Any) -> str:
    return "" if value is None else visible(str(_plain(value)))


# --- table --------------------------------------------------------------------------------------


def _table(columns: Sequence[str], row_batches: Iterable[Sequence[Row]], out: TextIO) -> int:
    """Aligned columns whose widths come from the first TABLE_WIDTH_ROWS rows (a longer cell
    further down pushes its line out rather than holding the whole result to measure it)."""
    head = [visible(c) for c in columns]
    first: list[list[str]] = []
    widths: list[int] | None = None
    count = 0

    def line(cells: Sequence[str], widths: Sequence[int]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(cells, widths, strict=True))

    def start(widths: list[int]) -> None:
        out.write(line(head, widths) + "\n" + "  ".join("-" * w for w in widths) + "\n")
        out.writelines(line(cells, widths) + "\n" for cells in first)
        first.clear()

    for batch in row_batches:
        lines: list[str] = []
        for row in batch:
            cells = [_text(v) for v in row]
            count += 1
            if widths is not None:
                lines.append(line(cells, widths) + "\n")
                continue
            first.append(cells)
            if len(first) == TABLE_WIDTH_ROWS:
                widths = _widths(head, first)
                start(widths)
        out.writelines(lines)
    if widths is None:
        start(_widths(head, first))
    out.write(f"({counted(count, 'row')})\n")
    return count


def _widths(head: Sequence[str], rows: Sequence[Sequence[str]]) -> list[int]:
    return [max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(head)]


# --- a small table that fits the terminal -------------------------------------------------------


def terminal_width() -> int:
    """COLUMNS, else the terminal's width, else 100 (a pipe or a file)."""
    return shutil.get_terminal_size((100, 24)).columns


def fitted_table(
    columns: Sequence[str], rows: Sequence[Row], out: TextIO, width: int | None = None
) -> int:
    """A small result (all rows at hand) as aligned columns no wider than `width` (default: the
    terminal's): the widest columns are narrowed in turn, their cells wrapped onto more lines,
    words kept whole where they fit. Nothing is cut off."""
    width = width or terminal_width()
    head = [visible(c) for c in columns]
    cells = [[_text(v) for v in row] for row in rows]
    widths = _widths(head, cells)
    spare = width - (sum(widths) + 2 * (len(widths) - 1))
    floor = [max(len(h), 8) for h in head]  # no column narrower than its name (or 8)
    while spare < 0:
        i = max(range(len(widths)), key=lambda n: widths[n] - floor[n])
        if widths[i] <= floor[i]:
            break  # as narrow as it goes: the lines stay longer than `width`
        widths[i] -= 1
        spare += 1
    wrapped = any(len(c) > w for row in cells for c, w in zip(row, widths, strict=True))

    def lines(row: Sequence[str]) -> list[str]:
        parts = [
            textwrap.wrap(c, w, break_on_hyphens=False) or [""]
            for c, w in zip(row, widths, strict=True)
        ]
        return [
            "  ".join(
                (p[n] if n < len(p) else "").ljust(w) for p, w in zip(parts, widths, strict=True)
            ).rstrip()
            for n in range(max(map(len, parts)))
        ]

    out.write("\n".join(lines(head)) + "\n" + "  ".join("-" * w for w in widths) + "\n")
    for number, row in enumerate(cells):
        if wrapped and number:
            out.write("\n")  # rows of several lines apart, so each reads as one
        out.writelines(line + "\n" for line in lines(row))
    out.write(f"({counted(len(cells), 'row')})\n")
    return len(cells)


# --- CSV ----------------------------------------------------------------------------------------


def _csv(
    columns: Sequence[str], row_batches: Iterable[Sequence[Row]], out: TextIO, shown: Any
) -> int:
    """RFC 4180 CSV, every text cell spreadsheet-safe; `shown` escapes it for a terminal."""

    def cell(value: Any) -> Any:
        value = safe_cell(_plain(value))
        return shown(value) if isinstance(value, str) else value

    writer = csv.writer(out)
    writer.writerow([shown(c) for c in columns])
    count = 0
    for batch in row_batches:
        writer.writerows([[cell(v) for v in row] for row in batch])
        count += len(batch)
    return count


# --- JSON ---------------------------------------------------------------------------------------


def _json(columns: Sequence[str], row_batches: Iterable[Sequence[Row]], out: TextIO) -> int:
    """One JSON array of row objects, an object a line, written as the rows arrive. Strict JSON:
    NaN and infinities are null, and non-ASCII text is \\u-escaped (so it is terminal-safe)."""
    names = list(columns)
    count = 0
    out.write("[")
    for batch in row_batches:
        objects = [
            json.dumps(dict(zip(names, map(json_value, row), strict=True)), allow_nan=False)
            for row in batch
        ]
        if objects:
            out.write(("\n" if count == 0 else ",\n") + ",\n".join(objects))
            count += len(objects)
    out.write("\n]\n" if count else "]\n")
    return count


def json_value(value: Any) -> Any:
    """A DuckDB value as plain JSON: NaN and infinities null, decimals numbers (text when a
    float would lose digits), times ISO 8601, intervals ISO 8601 durations, blobs base64."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return _decimal(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return iso_duration(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    return str(value)


def _decimal(value: Decimal) -> int | float | str | None:
    if not value.is_finite():
        return None
    if value == value.to_integral_value():
        return int(value)
    as_float = float(value)
    return as_float if Decimal(repr(as_float)) == value else str(value)


def iso_duration(delta: timedelta) -> str:
    """`P1DT2H30M`, `-PT1.5S`: an interval as ISO 8601 (DuckDB's months arrive as 30 days)."""
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    sign = "-" if micros < 0 else ""
    days, rest = divmod(abs(micros), 86_400 * 1_000_000)
    hours, rest = divmod(rest, 3_600 * 1_000_000)
    minutes, rest = divmod(rest, 60 * 1_000_000)
    seconds, fraction = divmod(rest, 1_000_000)
    clock = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if seconds or fraction:
        clock += (f"{seconds}.{fraction:06d}".rstrip("0") if fraction else str(seconds)) + "S"
    if not days and not clock:
        return "PT0S"
    return sign + "P" + (f"{days}D" if days else "") + (f"T{clock}" if clock else "")


# --- markdown -----------------------------------------------------------------------------------


def _markdown(columns: Sequence[str], row_batches: Iterable[Sequence[Row]], out: TextIO) -> int:
    """A GitHub-flavoured table; pipes and line breaks inside cells cannot break its layout."""

    def cell(value: Any) -> str:
        text = "" if value is None else str(_plain(value))
        text = text.replace("\\", "\\\\").replace("|", "\\|")
        return visible(text.replace("\r", " ").replace("\n", " "))

    out.write("| " + " | ".join(cell(c) for c in columns) + " |\n")
    out.write("| " + " | ".join("---" for _ in columns) + " |\n")
    count = 0
    for batch in row_batches:
        out.writelines("| " + " | ".join(cell(v) for v in row) + " |\n" for row in batch)
        count += len(batch)
    return count
