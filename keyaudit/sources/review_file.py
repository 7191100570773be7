"""A filled review file (review.xlsx or review.csv) read as what it is: a file from someone else.

It may be a link, a FIFO, huge, a zip bomb, or a workbook with a million rows. It is opened once,
never through a symbolic link and never blocking (keyaudit.sources.files reads credential reports
the same way), read up to a size bound, and its rows and cells are counted as they are read. A
workbook is read with the standard library (zipfile, ElementTree: no entity is fetched, and
expat refuses entity expansion bombs), only the parts a sheet needs, each within a bound on
its unzipped size. What comes back is text: every cell as the reviewer left it, by column name.
"""

from __future__ import annotations

import csv
import hashlib
import io
import posixpath
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import IO
from xml.etree import ElementTree

from keyaudit import safefile
from keyaudit.model import KeyauditError
from keyaudit.safefile import FileTooLarge, NotRegularFile
from keyaudit.textsafe import shown_name

MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_UNZIPPED_BYTES = 64 * 1024 * 1024  # a workbook's parts together, as their headers say
MAX_PARTS = 500
MAX_ROWS = 100_000
MAX_COLUMNS = 64
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_DOC_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_EXCEL_EPOCH = date(1899, 12, 30)  # day 0 of Excel's 1900 date system, as every reader takes it


class ReviewFileError(KeyauditError, ValueError):
    """The file cannot be read as a review file; the message names it and the fix."""


@dataclass(frozen=True)
class Row:
    """One row of a review file: where it is (sheet, 1-based row number as a spreadsheet shows
    it, the header being row 1) and its cells by column name."""

    sheet: str | None
    number: int
    cells: dict[str, str]

    @property
    def where(self) -> str:
        return f"sheet {self.sheet!r} row {self.number}" if self.sheet else f"row {self.number}"


@dataclass(frozen=True)
class ReviewFile:
    name: str
    data: bytes
    sha256: str
    suffix: str  # ".xlsx" | ".csv"
    rows: tuple[Row, ...]


def read_review_file(path: Path, required: tuple[str, ...]) -> ReviewFile:
    """Read `path` (a regular file, .xlsx or .csv) whose header names every `required` column."""
    name = shown_name(path.name)
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise ReviewFileError(
            f"review file {name}: not a .xlsx or .csv file — import the review.xlsx or review.csv "
            "that `keyaudit review export` wrote, filled in"
        )
    data = read_regular(path, MAX_FILE_BYTES)
    tables = _xlsx_tables(name, data) if suffix == ".xlsx" else [(None, _csv_table(name, data))]
    rows: list[Row] = []
    for sheet, table in tables:
        rows.extend(_rows(name, sheet, table, required, MAX_ROWS - len(rows)))
    return ReviewFile(path.name, data, hashlib.sha256(data).hexdigest(), suffix, tuple(rows))


def read_regular(path: Path, max_bytes: int, what: str = "review file") -> bytes:
    """The bytes of a regular file (keyaudit.safefile.read_regular: never through a link, never
    blocking on a FIFO, never more than `max_bytes`); `what` names the file in messages."""
    name = f"{what} {shown_name(str(path))}"
    try:
        data, _ = safefile.read_regular(path, max_bytes)
    except NotRegularFile as exc:
        raise ReviewFileError(
            f"{name} is {exc.kind}, not a regular file: not opened — give the path of the file "
            "itself"
        ) from None
    except FileTooLarge:
        raise ReviewFileError(
            f"{name} is larger than {max_bytes // (1024 * 1024)} MB: not read — give the file "
            "keyaudit wrote (a review file lists one run's keys)"
        ) from None
    except OSError as exc:
        raise ReviewFileError(
            f"{name} cannot be read ({exc.strerror}) — check the path and its permissions"
        ) from None
    return data


def _rows(
    name: str, sheet: str | None, table: list[list[str]], required: tuple[str, ...], room: int
) -> Iterator[Row]:
    where = f"review file {name}" + (f" sheet {sheet!r}" if sheet else "")
    if not table:
        return
    header = [c.strip() for c in table[0]]
    missing = [c for c in required if c not in header]
    if missing:
        raise ReviewFileError(
            f"{where}: no column {', '.join(missing)} in its first row — keep the header row "
            "`keyaudit review export` wrote"
        )
    if len(table) - 1 > room:
        raise ReviewFileError(
            f"{where}: more than {MAX_ROWS:,} rows — a review file lists one run's keys; import "
            "the file `keyaudit review export` wrote"
        )
    at = {column: header.index(column) for column in required}
    for number, cells in enumerate(table[1:], start=2):
        if not any(c.strip() for c in cells):
            continue  # a blank line, as spreadsheets leave them
        yield Row(
            sheet, number, {c: cells[i].strip() if i < len(cells) else "" for c, i in at.items()}
        )


def _csv_table(name: str, data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReviewFileError(
            f"review file {name}: not UTF-8 text (byte {exc.start}) — save it as CSV UTF-8"
        ) from None
    table: list[list[str]] = []
    try:
        for cells in csv.reader(io.StringIO(text, newline="")):
            if len(table) > MAX_ROWS + 1:
                break  # the header and one row too many: _rows refuses it
            if len(cells) > MAX_COLUMNS:
                raise ReviewFileError(
                    f"review file {name} row {len(table) + 1}: more than {MAX_COLUMNS} columns — "
                    "keep the columns `keyaudit review export` wrote"
                )
            table.append(cells)
    except csv.Error as exc:
        raise ReviewFileError(f"review file {name}: not readable as CSV ({exc})") from None
    return table


# --------------------------------------------------------------------------- workbooks


def _xlsx_tables(name: str, data: bytes) -> list[tuple[str, list[list[str]]]]:
    """Each sheet of the workbook as rows of text cells, in the workbook's order."""
    not_a_workbook = ReviewFileError(
        f"review file {name}: not an .xlsx workbook — save it as Excel Workbook (.xlsx) or CSV"
    )
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
        parts = book.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise not_a_workbook from None
    if len(parts) > MAX_PARTS or sum(p.file_size for p in parts) > MAX_UNZIPPED_BYTES:
        raise ReviewFileError(
            f"review file {name}: unzips to more than {MAX_UNZIPPED_BYTES // (1024 * 1024)} MB "
            f"or {MAX_PARTS} parts: not read — import the file `keyaudit review export` wrote"
        )
    names = {p.filename for p in parts}
    try:
        workbook = _parse(book, "xl/workbook.xml")
        targets = {
            r.get("Id"): _part_name(r.get("Target") or "")
            for r in _parse(book, "xl/_rels/workbook.xml.rels").iter(f"{_PKG_REL}Relationship")
        }
        shared = _shared_strings(book, name) if "xl/sharedStrings.xml" in names else []
        tables = []
        for sheet in workbook.iter(f"{_MAIN}sheet"):
            target = targets.get(sheet.get(f"{_DOC_REL}id"))
            if target is None or target not in names:
                raise not_a_workbook
            with book.open(target) as part:
                tables.append((sheet.get("name") or "?", _sheet_rows(part, shared, name)))
    except (
        KeyError,
        IndexError,
        ElementTree.ParseError,
        zipfile.BadZipFile,
        OSError,
        ValueError,
    ) as exc:
        if isinstance(exc, ReviewFileError):
            raise
        raise not_a_workbook from None
    return tables


def _part_name(target: str) -> str:
    """A relationship's target as a part name: absolute (/xl/…, as openpyxl writes) or
    relative to xl/ (as Excel and XlsxWriter write)."""
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join("xl", target))


def _parse(book: zipfile.ZipFile, part: str) -> ElementTree.Element:
    with book.open(part) as handle:
        return ElementTree.parse(handle).getroot()  # noqa: S314 (bounded; expat refuses bombs)


def _shared_strings(book: zipfile.ZipFile, name: str) -> list[str]:
    strings: list[str] = []
    with book.open("xl/sharedStrings.xml") as handle:
        for _, item in ElementTree.iterparse(handle):  # noqa: S314
            if item.tag == f"{_MAIN}si":
                strings.append("".join(t.text or "" for t in item.iter(f"{_MAIN}t")))
                item.clear()
                if len(strings) > MAX_ROWS * MAX_COLUMNS:
                    raise ReviewFileError(
                        f"review file {name}: too many cells — import the file `keyaudit review "
                        "export` wrote"
                    )
    return strings


def _sheet_rows(part: IO[bytes], shared: list[str], name: str) -> list[list[str]]:
    """A sheet's rows, cells placed by their reference (B7 is row 7's second cell)."""
    table: list[list[str]] = []
    for _, element in ElementTree.iterparse(part):  # noqa: S314
        if element.tag != f"{_MAIN}row":
            continue
        number = int(element.get("r") or len(table) + 1)
        if number > MAX_ROWS + 1:
            raise ReviewFileError(
                f"review file {name}: more than {MAX_ROWS:,} rows — a review file lists one "
                "run's keys; import the file `keyaudit review export` wrote"
            )
        cells: list[str] = []
        for cell in element.iter(f"{_MAIN}c"):
            column = _column(cell.get("r"), len(cells))
            if column >= MAX_COLUMNS:
                raise ReviewFileError(
                    f"review file {name} row {number}: more than {MAX_COLUMNS} columns — keep "
                    "the columns `keyaudit review export` wrote"
                )
            cells.extend([""] * (column + 1 - len(cells)))
            cells[column] = _value(cell, shared)
        element.clear()
        table.extend([[]] * (number - 1 - len(table)))
        table.append(cells)
    return table


def _column(reference: str | None, default: int) -> int:
    if not reference:
        return default
    index = 0
    for char in reference:
        if not char.isalpha():
            break
        index = index * 26 + ord(char.upper()) - ord("A") + 1
        if index > MAX_COLUMNS:
            break
    return index - 1


def _value(cell: ElementTree.Element, shared: list[str]) -> str:
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        return "".join(t.text or "" for t in cell.iter(f"{_MAIN}t"))
    value = cell.find(f"{_MAIN}v")
    text = value.text or "" if value is not None else ""
    if kind == "s":
        return shared[int(text)]
    if kind == "b":
        return "true" if text == "1" else "false"
    return text  # a number (a date as its day number: excel_date) or a formula's text


def excel_date(text: str) -> date | None:
    """A date a spreadsheet stored as its day number (Excel's 1900 system), else None."""
    try:
        serial = float(text)
    except ValueError:
        return None
    if not 1 <= serial < 2_958_466:  # 9999-12-31
        return None
    return _EXCEL_EPOCH + timedelta(days=int(serial))
