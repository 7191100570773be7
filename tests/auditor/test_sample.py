"""`keyaudit sample`: a sample an auditor can re-draw on any machine from the seed alone, written
as a workbook and CSV, and recorded with the run."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from keyaudit.cli import app
from keyaudit.evidence.store import sha256_file
from keyaudit.warehouse.db import connect
from keyaudit.warehouse.samples import draw
from tests.runs import DemoRun, copy_run

runner = CliRunner()
SEED = "FY2026 Q4 ITGC"


@pytest.fixture
def demo(demo_run: DemoRun, tmp_path: Path) -> DemoRun:
    return copy_run(demo_run, tmp_path / "copy")


@pytest.fixture
def con(demo: DemoRun):
    connection = connect(demo.warehouse)
    yield connection
    connection.close()


def population_ids(con: duckdb.DuckDBPyConnection, run_id: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "select coalesce(access_key_id, account_id || '/' || user_name || '/key_' || key_slot) "
            "from keys where run_id = ?",
            [run_id],
        ).fetchall()
    ]


def redrawn(ids: list[str], seed: str, size: int) -> list[str]:
    """The method as docs/querying.md states it, in plain Python: SHA-256 of seed + id."""
    return sorted(ids, key=lambda i: (hashlib.sha256((seed + i).encode()).hexdigest(), i))[:size]


def test_the_draw_is_the_first_n_by_sha256_of_seed_and_id(con, demo: DemoRun):
    sample = draw(con, "keys", SEED, 10, demo.run_id)
    ids = population_ids(con, demo.run_id)
    assert sample.ids == redrawn(ids, SEED, 10)
    assert sample.population == len(ids) > 10


# the id each saved query draws by, as docs/querying.md states it
IDS = {
    "keys": "select coalesce(access_key_id, account_id || '/' || user_name || '/key_' || key_slot) "
    "from keys where run_id = ?",
    "findings": "select finding_id from findings where run_id = ?",
    "users": "select arn from users where run_id = ?",
}


@pytest.mark.parametrize("of", sorted(IDS))
def test_every_kind_is_drawn_by_the_one_documented_rule(con, demo: DemoRun, of):
    # three saved queries, one rule: each must agree with the rule written in plain Python
    ids = [r[0] for r in con.execute(IDS[of], [demo.run_id]).fetchall()]
    sample = draw(con, of, SEED, 7, demo.run_id)
    assert sample.ids == redrawn(ids, SEED, 7)
    assert sample.population == len(ids)


def test_the_same_seed_draws_the_same_items_and_another_seed_others(con, demo: DemoRun):
    first = draw(con, "findings", SEED, 8, demo.run_id)
    assert draw(con, "findings", SEED, 8, demo.run_id).ids == first.ids
    assert draw(con, "findings", SEED + "!", 8, demo.run_id).ids != first.ids
    # a bigger sample of the same seed starts with the smaller one
    assert draw(con, "findings", SEED, 12, demo.run_id).ids[:8] == first.ids


def test_a_size_above_the_population_draws_each_item_once(con, demo: DemoRun):
    sample = draw(con, "users", SEED, 10_000, demo.run_id)
    assert len(sample.ids) == len(set(sample.ids)) == sample.population
    roots = con.execute(
        "select count(*) from users where run_id = ? and is_root", [demo.run_id]
    ).fetchone()[0]
    assert sum(1 for r in sample.records() if r["is_root"]) == roots > 0


def test_without_a_run_the_latest_run_is_sampled(con, demo: DemoRun):
    assert draw(con, "keys", SEED, 3).run_id == demo.run_id


def sample(demo: DemoRun, *args: str):
    return runner.invoke(
        app,
        [
            "sample",
            "--db",
            str(demo.warehouse),
            "--config",
            str(demo.warehouse.parent / "keyaudit.toml"),
            *args,
        ],
    )


def test_sample_command_writes_the_workbook_and_csv_and_records_the_draw(demo: DemoRun):
    out = demo.warehouse.parent / "papers"
    result = sample(demo, "--of", "keys", "--size", "5", "--seed", SEED, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "drew 5 keys of" in result.output
    (workbook,) = out.glob("sample-keys-fy2026-q4-itgc-*.xlsx")
    (table,) = out.glob("sample-keys-fy2026-q4-itgc-*.csv")
    rows = list(csv.DictReader(table.open(encoding="utf-8")))
    book = load_workbook(workbook, read_only=True)
    sheet = list(book["Sample"].iter_rows(values_only=True))
    assert [r["sample_id"] for r in rows] == [r[sheet[0].index("sample_id")] for r in sheet[1:]]
    assert all(str(r["account_id"]).isdigit() and len(r["account_id"]) == 12 for r in rows)
    account_cells = [r[sheet[0].index("account_id")] for r in sheet[1:]]
    assert all(isinstance(v, str) and len(v) == 12 for v in account_cells)  # text, zeros kept
    how = dict(book["Draw"].iter_rows(min_row=2, values_only=True))
    assert how["seed"] == SEED and how["population"] == "keys"
    assert how["draw it again"].startswith("keyaudit query sample_keys --param seed=")
    with duckdb.connect(str(demo.warehouse), read_only=True) as db:
        (kept,) = db.execute(
            "select run_id, population_kind, seed, size, drawn, sample_ids, files_sha256 "
            "from sample_draws"
        ).fetchall()
    assert kept[:5] == (demo.run_id, "keys", SEED, 5, 5)
    assert kept[5] == [r["sample_id"] for r in rows]
    assert f"{table.name} {sha256_file(table)}" in kept[6]
    assert f"{workbook.name} {sha256_file(workbook)}" in kept[6]


def test_the_saved_query_redraws_what_the_command_drew(demo: DemoRun):
    out = demo.warehouse.parent / "papers"
    assert (
        sample(demo, "--of", "findings", "--size", "4", "--seed", SEED, "--out", str(out)).exit_code
        == 0
    )
    (table,) = out.glob("sample-findings-*.csv")
    again = runner.invoke(
        app,
        ["query", "--db", str(demo.warehouse), "--file", "sample_findings", "--format", "csv",
         "--param", f"seed={SEED}", "--param", "size=4", "--param", f"run_id={demo.run_id}"],
    )  # fmt: skip
    assert again.exit_code == 0, again.output
    redone = [r["sample_id"] for r in csv.DictReader(again.output.splitlines())]
    assert redone == [r["sample_id"] for r in csv.DictReader(table.open(encoding="utf-8"))]


@pytest.mark.parametrize(
    "args, named",
    [
        (["--of", "accounts", "--seed", SEED], "--of accounts"),
        (["--of", "keys", "--seed", "  "], "--seed is empty"),
        (["--of", "keys", "--seed", "a\nb"], "--seed"),
        (["--of", "keys", "--seed", SEED, "--size", "0"], "--size 0"),
        (["--of", "keys", "--seed", SEED, "--run", "no-such-run"], "--run no-such-run"),
    ],
)
def test_a_bad_request_is_one_line_and_nothing_is_drawn(demo: DemoRun, args, named):
    out = demo.warehouse.parent / "papers"
    result = sample(demo, *args, "--out", str(out))
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert named in line and "Traceback" not in result.output
    assert not out.exists()
    with duckdb.connect(str(demo.warehouse), read_only=True) as db:
        assert db.execute("select count(*) from sample_draws").fetchone()[0] == 0
