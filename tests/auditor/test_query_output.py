"""`keyaudit query` output: terminal-safe text, strict JSON, rows written batch by batch."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from keyaudit.cli import app, output
from keyaudit.cli.output import QueryFormat, batches, iso_duration, json_value, write_result
from keyaudit.textsafe import visible
from keyaudit.warehouse.db import connect

runner = CliRunner()

# An OSC 52 sequence (sets the clipboard), a bidi override, DEL, a C1 CSI and a bell.
HOSTILE_SQL = (
    "chr(27) || ']52;c;Y3VybCBldmls' || chr(7) || 'bob' || chr(8238) || chr(127) || chr(155)"
)
SHOWN = "\\x1b]52;c;Y3VybCBldmls\\x07bob\\u202e\\x7f\\x9b"
RAW = "\x1b]52;c;Y3VybCBldmls\x07bob\u202e\x7f\x9b"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One warehouse for the module: `keyaudit query` only reads it."""
    path = tmp_path_factory.mktemp("query-output") / "w.duckdb"
    con = connect(path)
    con.execute(
        "insert into findings (run_id, finding_id, rule_id, severity, account_id, user_name, reason) "
        f"values ('r1', 'f1', 'ACCESS_KEY_UNUSED', 'medium', '011122223333', {HOSTILE_SQL}, 'x')"
    )
    con.close()
    return path


def query(db: Path, *args: str):
    return runner.invoke(app, ["query", "--db", str(db), *args])


def strict_json(text: str):
    def refuse(constant: str):
        raise AssertionError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def has_controls(text: str) -> bool:
    return any(visible(ch) != ch for ch in text if ch != "\n")


# --- terminal control characters ----------------------------------------------------------------


def test_table_shows_a_hostile_user_name_as_escapes_not_terminal_commands(db: Path):
    result = query(db, "select user_name, 1 as n from findings")
    assert result.exit_code == 0
    assert not has_controls(result.stdout)
    assert result.stdout.splitlines()[2] == SHOWN + "  1"


def test_markdown_shows_control_characters_as_escapes(db: Path):
    result = query(db, "--format", "markdown", "select user_name from findings")
    assert result.stdout.splitlines()[2] == f"| {SHOWN} |"


def test_csv_on_a_terminal_shows_control_characters_as_escapes(
    db: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(output, "_is_terminal", lambda out: True)
    result = query(db, "--format", "csv", "select user_name, '=1+1' f from findings")
    assert not has_controls(result.stdout.replace("\r\n", "\n"))
    assert result.stdout.splitlines() == ["user_name,f", f"{SHOWN},'=1+1"]


def test_csv_to_a_file_keeps_the_text_byte_for_byte_and_still_neutralises_formulas(db: Path):
    result = query(
        db, "--format", "csv", "select user_name, '=1+1' f, '@x' a, chr(0) || '=1' z from findings"
    )
    assert result.stdout.splitlines() == ["user_name,f,a,z", f"{RAW},'=1+1,'@x,'\x00=1"]


def test_json_escapes_control_characters_and_keeps_the_text(db: Path):
    result = query(db, "--format", "json", "select user_name from findings")
    assert "\\u001b]52" in result.stdout and not has_controls(result.stdout)
    assert strict_json(result.stdout) == [{"user_name": RAW}]


def test_query_error_quoting_a_hostile_value_shows_it_escaped(db: Path):
    result = query(db, "select user_name::int from findings")
    assert result.exit_code == 2
    assert not has_controls(result.stderr)
    assert result.stderr.strip() == (
        f"keyaudit: error: query failed: Conversion Error: Could not convert string '{SHOWN}' "
        "to INT32 when casting from source column user_name"
    )


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain ünïcode 名前", "plain ünïcode 名前"),
        ("a\tb\nc\rd", "a\\tb\\nc\\rd"),
        ("\x00\x1b[2J\x7f", "\\x00\\x1b[2J\\x7f"),
        ("\x85\x9b\x9d", "\\x85\\x9b\\x9d"),
        (
            "\u202aL\u202bR\u202dO\u202eX\u2066\u2067\u2068\u2069\u200e\u200f\u061c",
            "\\u202aL\\u202bR\\u202dO\\u202eX\\u2066\\u2067\\u2068\\u2069\\u200e\\u200f\\u061c",
        ),
        ("\u2028\u2029", "\\u2028\\u2029"),
    ],
)
def test_visible_escapes_every_control_and_bidi_mark(text: str, shown: str):
    assert visible(text) == shown
    assert not has_controls(visible(text))
    assert visible(text).isprintable()


# --- strict JSON --------------------------------------------------------------------------------


def test_json_turns_nan_and_infinity_into_null(db: Path):
    result = query(
        db,
        "--format",
        "json",
        "select 'nan'::double a, 'inf'::double b, '-inf'::double c, 'nan'::float d, "
        "[1.5, 'nan'::double] e, {'x': 'inf'::double} f, 2.5::double g",
    )
    assert strict_json(result.stdout) == [
        {"a": None, "b": None, "c": None, "d": None, "e": [1.5, None], "f": {"x": None}, "g": 2.5}
    ]


def test_json_serialises_dates_decimals_blobs_intervals_lists_and_structs(db: Path):
    result = query(
        db,
        "--format",
        "json",
        "select date '2026-01-02' d, timestamptz '2026-01-02 03:04:05+00' ts, "
        "timestamp '2026-01-02 03:04:05.5' t, time '01:02:03' tm, 1.50::decimal(10,2) dec, "
        "12345678901234567890.123456789::decimal(38,9) big, 3.00::decimal(5,2) whole, "
        "'\\xAA\\x00'::blob b, interval 2 day + interval 3 hour i, interval (-90) minute neg, "
        "[1, 2] l, {'k': date '2026-01-02', 'n': null} s, map {'a': 1} m, "
        "'11111111-2222-3333-4444-555555555555'::uuid u, true yes, "
        "170141183460469231731687303715884105727::hugeint h",
    )
    assert strict_json(result.stdout) == [
        {
            "d": "2026-01-02",
            "ts": "2026-01-02T03:04:05+00:00",
            "t": "2026-01-02T03:04:05.500000",
            "tm": "01:02:03",
            "dec": 1.5,
            "big": "12345678901234567890.123456789",
            "whole": 3,
            "b": "qgA=",
            "i": "P2DT3H",
            "neg": "-PT1H30M",
            "l": [1, 2],
            "s": {"k": "2026-01-02", "n": None},
            "m": {"a": 1},
            "u": "11111111-2222-3333-4444-555555555555",
            "yes": True,
            "h": 170141183460469231731687303715884105727,
        }
    ]


def test_json_of_no_rows_is_an_empty_array(db: Path):
    assert query(db, "--format", "json", "select 1 a where false").stdout == "[]\n"


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0, "PT0S"), (1.5, "PT1.5S"), (-1.5, "-PT1.5S"), (86_400 * 32 + 60, "P32DT1M")],
)
def test_intervals_are_iso_8601_durations(seconds: float, expected: str):
    from datetime import timedelta

    assert iso_duration(timedelta(seconds=seconds)) == expected


def test_json_value_of_an_unknown_type_is_its_text():
    class Odd:
        def __str__(self) -> str:
            return "odd"

    assert json_value(Odd()) == "odd"


# --- streaming ----------------------------------------------------------------------------------


class SpyCursor:
    """Hands out rows `size` at a time and notes how much output was written at each fetch."""

    def __init__(self, rows: list[tuple], out: io.StringIO) -> None:
        self.rows, self.out = rows, out
        self.calls: list[tuple[int, int]] = []

    def fetchmany(self, size: int = 1) -> list[tuple]:
        self.calls.append((size, len(self.out.getvalue())))
        taken, self.rows = self.rows[:size], self.rows[size:]
        return taken


@pytest.mark.parametrize("fmt", list(QueryFormat))
def test_rows_are_fetched_and_written_batch_by_batch(fmt: QueryFormat, monkeypatch):
    monkeypatch.setattr(output, "BATCH_ROWS", 2)
    monkeypatch.setattr(output, "TABLE_WIDTH_ROWS", 2)
    out = io.StringIO()
    cursor = SpyCursor([(n, f"user{n}") for n in range(7)], out)
    assert write_result(["n", "user"], batches(cursor), fmt, out) == 7
    sizes = [size for size, _ in cursor.calls]
    written = [length for _, length in cursor.calls]
    assert sizes == [2, 2, 2, 2, 2]  # 2+2+2+1 rows, then the empty fetch that ends it
    assert written[1] < written[2] < written[3] < written[4]  # output grew between fetches


def test_json_written_in_batches_is_one_valid_array(db: Path, monkeypatch):
    monkeypatch.setattr(output, "BATCH_ROWS", 2)
    result = query(db, "--format", "json", "select range n from range(5)")
    assert strict_json(result.stdout) == [{"n": n} for n in range(5)]


def test_table_takes_widths_from_its_first_rows_and_counts_every_row(db: Path, monkeypatch):
    monkeypatch.setattr(output, "BATCH_ROWS", 2)
    monkeypatch.setattr(output, "TABLE_WIDTH_ROWS", 2)
    result = query(db, "select repeat('x', range::int) s, range n from range(1, 5)")
    assert result.stdout.splitlines() == [
        "s   n",
        "--  -",
        "x   1",
        "xx  2",
        "xxx  3",
        "xxxx  4",
        "(4 rows)",
    ]


def test_reader_that_stops_early_ends_the_output_quietly(db: Path, monkeypatch):
    def closed(*_args, **_kwargs):
        raise BrokenPipeError

    monkeypatch.setattr("keyaudit.cli.query.write_result", closed)
    result = query(db, "--format", "csv", "select 1")
    assert (result.exit_code, result.stderr) == (0, "")


def test_csv_output_loads_neither_pandas_nor_the_report_renderer(db: Path):
    code = (
        "import sys\n"
        "from keyaudit.cli import app\n"
        f"try: app(['query', '--db', {str(db)!r}, '--format', 'csv', 'select 1 n'])\n"
        "except SystemExit: pass\n"
        "heavy = [m for m in ('pandas', 'weasyprint', 'keyaudit.report') if m in sys.modules]\n"
        "print('heavy:', heavy, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.splitlines() == ["n", "1"]
    assert "heavy: []" in done.stderr
