"""The access review: `keyaudit review export` writes the keys to decide on, a reviewer fills the
workbook, `keyaudit review import` refuses a file with any bad row (one line per row, nothing
recorded) or records it with a copy in the run's evidence, and the report shows the review.
`keyaudit sign-off` appends a reviewer's sign-off of the run's report."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from keyaudit.cli import app
from keyaudit.report.context import build_report_context
from keyaudit.report.render import render_html
from keyaudit.rules.catalogue import load_catalogue
from keyaudit.warehouse.db import connect
from tests.runs import DemoRun, copy_run

runner = CliRunner()
REVIEWER = "Dana Reviewer <dana@example.com>"
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
NOT_ACCESS_KEY_RULES = (
    "SSH_PUBLIC_KEY_NOT_ROTATED",
    "SERVICE_CREDENTIAL_NOT_ROTATED",
    "BEDROCK_API_KEY_WITHOUT_EXPIRY",
    "SIGNING_CERTIFICATE_NOT_ROTATED",
)
DECISION_COLUMNS = ("decision", "justification", "ticket", "reviewer", "defer_owner", "defer_until")


@pytest.fixture(scope="module")
def shared(demo_run: DemoRun, tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """A copy of the demo run for the tests that record nothing (refusals, the export)."""
    return copy_run(demo_run, tmp_path_factory.mktemp("review-shared"))


@pytest.fixture
def demo(demo_run: DemoRun, tmp_path: Path) -> DemoRun:
    return copy_run(demo_run, tmp_path / "copy")


def invoke(run: DemoRun, *args: str) -> Any:
    config = run.warehouse.parent / "keyaudit.toml"
    return runner.invoke(app, [*args, "--config", str(config)])


@pytest.fixture(scope="module")
def exported(shared: DemoRun, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("review-export")
    result = invoke(shared, "review", "export", "--run", shared.run_id, "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


def csv_rows(path: Path) -> list[dict[str, str]]:
    import csv

    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    import csv

    with path.open("w", encoding="utf-8", newline="") as handle:
        table = csv.DictWriter(handle, fieldnames=list(rows[0]))
        table.writeheader()
        table.writerows(rows)
    return path


def decided(row: dict[str, str], **cells: str) -> dict[str, str]:
    """A row with a complete, valid decision, changed by `cells`."""
    filled = {**row, "decision": "keep", "justification": "needed", "reviewer": REVIEWER}
    return {**filled, **cells}


@pytest.fixture
def con(shared: DemoRun):
    connection = connect(shared.warehouse, read_only=True)
    yield connection
    connection.close()


def problems_of(con, run: DemoRun, path: Path) -> tuple[str, ...]:
    """The lines a refused import prints (library call: the CLI's own output is tested once)."""
    from keyaudit.review.records import ReviewRefused, import_review

    with pytest.raises(ReviewRefused) as refused:
        import_review(con, path, run.evidence_run_dir.parent, now=NOW, user="tester")
    return refused.value.problems


def refusal_of(con, run: DemoRun, path: Path) -> str:
    """The one line a file refused as a whole gets."""
    from keyaudit.model import KeyauditError
    from keyaudit.review.records import import_review

    with pytest.raises(KeyauditError) as refused:
        import_review(con, path, run.evidence_run_dir.parent, now=NOW, user="tester")
    return str(refused.value)


def review_of(con, run_id: str, previous_run_id: str | None = None) -> dict[str, Any]:
    """The report's review section of the run, as build_report_context makes it."""
    from keyaudit.report.review import review_section

    return review_section(con, run_id, previous_run_id, None)


def recorded(run: DemoRun) -> int:
    con = connect(run.warehouse, read_only=True)
    try:
        return con.execute("select count(*) from review_imports").fetchone()[0]
    finally:
        con.close()


# --------------------------------------------------------------------------- export


def test_export_lists_each_active_key_with_an_open_finding_or_admin_privilege(
    shared: DemoRun, exported: Path
):
    con = connect(shared.warehouse, read_only=True)
    expected = {
        r[0]
        for r in con.execute(
            "select coalesce(k.access_key_id, k.account_id || '/' || k.user_name || '/key_' "
            "|| k.key_slot) from keys k where k.run_id = ? and k.is_active and ("
            "k.privilege in ('admin', 'escalation') or exists (select 1 from findings f "
            "join finding_credentials c using (run_id, finding_id) "
            "where f.run_id = k.run_id and not f.waived and f.account_id = k.account_id "
            "and f.user_name = k.user_name and c.credential_kind = 'access_key' "
            "and (f.access_key_id = k.access_key_id "
            "or (f.access_key_id is null and f.key_slot = k.key_slot))))",
            [shared.run_id],
        ).fetchall()
    }
    others = {
        r[0]
        for r in con.execute(
            "select rule_id from findings where run_id = ? and not waived and rule_id in ?",
            [shared.run_id, list(NOT_ACCESS_KEY_RULES)],
        ).fetchall()
    }
    con.close()
    rows = csv_rows(exported / "review.csv")
    assert {r["access_key_id"] for r in rows} == expected
    # an SSH key, service-specific credential or signing certificate (even one in a slot, like
    # an access key) is not an access key to review
    assert others, "the demo has open findings of the other credentials"
    assert not [r for r in rows if set(r["findings"].split(", ")) & others]
    assert len(rows) == len(expected) > 10
    assert {r["run_id"] for r in rows} == {shared.run_id}  # import knows the run from the file
    assert all(not r[c] for r in rows for c in DECISION_COLUMNS if c != "ticket")
    assert all(r["findings"] or r["privilege"] in ("admin", "escalation") for r in rows)
    # each key's owner, and where it came from, as key_owners decides it (issue 22.2)
    assert {r["owner_source"] for r in rows} >= {"user_tag", "key_description", "account_tag"}


def test_export_workbook_keeps_ids_as_text_with_a_sheet_per_owner(exported: Path):
    book = load_workbook(exported / "review.xlsx", read_only=True)
    rows = csv_rows(exported / "review.csv")
    owners = {r["owner"] for r in rows}
    assert len(book.sheetnames) == len(owners) > 1
    seen = 0
    for sheet in book.worksheets:
        header, *body = list(sheet.iter_rows())
        at = [c.value for c in header].index("account_id")
        for cells in body:
            assert cells[at].data_type == "s" and len(cells[at].value) == 12
            seen += 1
    assert seen == len(rows)


def test_the_exported_workbook_reads_back_as_written(exported: Path):
    from keyaudit.sources.review_file import read_review_file
    from keyaudit.warehouse.reviews import REQUIRED_COLUMNS

    read = read_review_file(exported / "review.xlsx", REQUIRED_COLUMNS)
    rows = csv_rows(exported / "review.csv")
    assert sorted(r.cells["access_key_id"] for r in read.rows) == sorted(
        r["access_key_id"] for r in rows
    )
    assert {r.cells["account_id"] for r in read.rows} == {r["account_id"] for r in rows}
    assert all(r.sheet and r.number >= 2 for r in read.rows)  # where each row is, per sheet


# --------------------------------------------------------------------------- round trip


def fill_workbook(source: Path, target: Path, as_of_date: str) -> dict[str, str]:
    """Fill the exported workbook as a reviewer would (openpyxl, as Excel saves it); the first
    key of every sheet is left undecided. Returns key -> decision."""
    book = load_workbook(source)
    decisions: dict[str, str] = {}
    choices = ["keep", "rotate", "deactivate", "defer"]
    for sheet in book.worksheets:
        header = [c.value for c in sheet[1]]
        col = {name: header.index(name) + 1 for name in header}
        for number in range(3, sheet.max_row + 1):
            key = sheet.cell(number, col["access_key_id"]).value
            choice = choices[number % 4]
            cells = {"decision": choice, "reviewer": REVIEWER}
            if choice == "keep":
                cells["justification"] = "=the deploy pipeline needs it"  # formula-like text
            elif choice in ("rotate", "deactivate"):
                cells["ticket"] = f"SEC-{number}"
            else:
                cells["defer_owner"] = "owner@example.com"
            for name, value in cells.items():
                cell = sheet.cell(number, col[name])
                cell.value = value
                cell.data_type = "s"  # as typed into a text cell: never a formula
            if choice == "defer":  # a date cell, as Excel keeps a typed date: a day number
                sheet.cell(number, col["defer_until"]).value = date.fromisoformat(as_of_date)
            decisions[key] = choice
    book.save(target)
    return decisions


def test_review_round_trip_records_every_decision_keeps_the_file_and_reports_it(
    demo: DemoRun, tmp_path: Path
):
    out = tmp_path / "review"
    assert invoke(demo, "review", "export", "--run", demo.run_id, "--out", str(out)).exit_code == 0
    population = len(csv_rows(out / "review.csv"))
    as_of = demo.org.as_of
    filled = tmp_path / "filled.xlsx"
    decisions = fill_workbook(
        out / "review.xlsx", filled, (as_of + timedelta(days=30)).date().isoformat()
    )

    result = invoke(demo, "review", "import", str(filled))

    assert result.exit_code == 0, result.output
    assert (
        f"{len(decisions):,} decisions, {population - len(decisions):,} undecided" in result.stdout
    )
    con = connect(demo.warehouse)
    stored = dict(con.execute("select key_ref, decision from review_decisions").fetchall())
    assert stored == decisions
    (imported_by, sha, path) = con.execute(
        "select imported_by, file_sha256, evidence_path from review_imports"
    ).fetchone()
    assert sha == hashlib.sha256(filled.read_bytes()).hexdigest()
    assert (demo.evidence_run_dir / path).read_bytes() == filled.read_bytes()
    assert path.startswith("review/") and imported_by
    justification = con.execute(
        "select justification from review_decisions where decision = 'keep' limit 1"
    ).fetchone()[0]
    assert justification == "=the deploy pipeline needs it"  # text kept as text
    deferred = con.execute("select distinct defer_until from review_decisions").fetchall()
    assert set(deferred) == {(None,), ((as_of + timedelta(days=30)).date(),)}  # a date cell
    review = review_of(con, demo.run_id)
    con.close()
    assert review["reviewed"] == len(decisions)
    assert sum(review["by_decision"].values()) == review["reviewed"]
    assert review["undecided_count"] == population - len(decisions) > 0
    assert {k["key_ref"] for k in review["undecided"]}.isdisjoint(decisions)
    assert review["sign_offs"] == []
    # the run's own files are unchanged, and the copy checks against the warehouse
    verified = invoke(demo, "verify", demo.run_id)
    assert verified.exit_code == 0, verified.output


def test_a_later_import_adds_and_its_decision_counts(demo: DemoRun, tmp_path: Path):
    rows = csv_rows(_export(demo, tmp_path))
    first = write_csv(tmp_path / "first.csv", [decided(rows[0])])
    assert invoke(demo, "review", "import", str(first)).exit_code == 0
    second = write_csv(
        tmp_path / "second.csv", [decided(rows[0], decision="rotate", ticket="SEC-9")]
    )
    assert invoke(demo, "review", "import", str(second)).exit_code == 0
    con = connect(demo.warehouse, read_only=True)
    assert con.execute("select count(*) from review_decisions").fetchone()[0] == 2
    latest = review_of(con, demo.run_id)
    con.close()
    assert latest["by_decision"]["rotate"] == 1
    assert latest["reviewed"] == 1


def _export(run: DemoRun, folder: Path) -> Path:
    out = folder / "export"
    assert invoke(run, "review", "export", "--run", run.run_id, "--out", str(out)).exit_code == 0
    return out / "review.csv"


# --------------------------------------------------------------------------- refusals


def as_of_plus(run: DemoRun, days: int) -> str:
    return (run.org.as_of + timedelta(days=days)).date().isoformat()


# (what the row says, column named, what the line says)
BAD_ROWS = {
    "unknown decision": ({"decision": "remove"}, "decision", "'remove' is not a decision"),
    "keep without justification": ({"justification": ""}, "justification", "empty for keep"),
    "rotate without ticket": (
        {"decision": "rotate", "ticket": ""},
        "ticket",
        "empty for rotate",
    ),
    "deactivate without ticket": (
        {"decision": "deactivate", "ticket": ""},
        "ticket",
        "empty for deactivate",
    ),
    "defer without owner": (
        {"decision": "defer", "defer_until": "+1"},
        "defer_owner",
        "empty for defer",
    ),
    "defer without date": (
        {"decision": "defer", "defer_owner": "a@example.com"},
        "defer_until",
        "empty for defer",
    ),
    "defer past 30 days": (
        {"decision": "defer", "defer_owner": "a@example.com", "defer_until": "+31"},
        "defer_until",
        "is not within 30 days of the run",
    ),
    "defer before the run": (
        {"decision": "defer", "defer_owner": "a@example.com", "defer_until": "-1"},
        "defer_until",
        "is not within 30 days of the run",
    ),
    "defer on no date": (
        {"decision": "defer", "defer_owner": "a@example.com", "defer_until": "next week"},
        "defer_until",
        "'next week' is not a date",
    ),
    "no reviewer": ({"reviewer": ""}, "reviewer", "empty"),
    "reviewer without address": ({"reviewer": "Dana"}, "reviewer", "is not a name and an address"),
    "reviewer with a bad address": (
        {"reviewer": "Dana <not an address>"},
        "reviewer",
        "is not an e-mail address",
    ),
    "another run": ({"run_id": "20200101T000000Z-000000"}, "run_id", "is not run"),
    "unknown key": (
        {"access_key_id": "AKIAUNKNOWNUNKNOWN00"},
        "access_key_id",
        "is not a key of run",
    ),
    "key of another user": ({"user_name": "someone-else"}, "account_id", "the row says"),
    "control character": (
        {"justification": "needed\x1b[31m"},
        "justification",
        "holds a line break or a control character",
    ),
    "reviewer without decision": ({"decision": ""}, "decision", "empty, but"),
}


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_a_bad_row_refuses_the_whole_file_naming_row_column_and_fix(
    case: str, con, shared: DemoRun, exported: Path, tmp_path: Path
):
    change, column, said = BAD_ROWS[case]
    rows = csv_rows(exported / "review.csv")
    if "defer_until" in change and change["defer_until"][:1] in "+-":
        change = {**change, "defer_until": as_of_plus(shared, int(change["defer_until"]))}
    good, bad = decided(rows[0]), decided(rows[1], **change)
    path = write_csv(tmp_path / "review.csv", [good, bad, decided(rows[2])])

    (line,) = problems_of(con, shared, path)  # one line per bad row

    assert line.startswith(f"review file review.csv row 3: column {column}: ")
    assert said in line and " — " in line  # what is wrong, then the fix
    assert not (shared.evidence_run_dir / "review").exists()


def test_every_bad_row_gets_its_line(shared: DemoRun, exported: Path, tmp_path: Path):
    rows = csv_rows(exported / "review.csv")
    path = write_csv(
        tmp_path / "review.csv",
        [decided(rows[0], decision="nope"), decided(rows[1]), decided(rows[0], reviewer="")],
    )
    result = invoke(shared, "review", "import", str(path))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert [line.split(":")[2].strip() for line in lines[:-1]] == [
        "review file review.csv row 2",
        "review file review.csv row 4",
    ]
    assert "decided in row 2 too" in lines[1] and "column reviewer: empty" in lines[1]
    assert lines[-1] == (
        "keyaudit: error: review file review.csv refused: 2 rows to fix; nothing was recorded"
    )
    assert recorded(shared) == 0
    assert not (shared.evidence_run_dir / "review").exists()


def test_a_file_for_a_run_the_warehouse_does_not_hold_is_refused(
    con, shared: DemoRun, exported: Path, tmp_path: Path
):
    rows = [
        decided(r, run_id="20200101T000000Z-000000") for r in csv_rows(exported / "review.csv")[:2]
    ]
    assert refusal_of(con, shared, write_csv(tmp_path / "r.csv", rows)) == (
        "review file r.csv: run '20200101T000000Z-000000' is not in the warehouse — "
        "`keyaudit runs` lists the runs"
    )


def test_a_file_without_any_decision_is_refused(
    con, shared: DemoRun, exported: Path, tmp_path: Path
):
    rows = csv_rows(exported / "review.csv")[:2]
    assert refusal_of(con, shared, write_csv(tmp_path / "r.csv", rows)).startswith(
        "review file r.csv: no row has a decision — fill the decision column"
    )


# --------------------------------------------------------------------------- hostile files


@pytest.fixture
def refused(con, shared: DemoRun):
    return lambda path: refusal_of(con, shared, path)


def test_a_symlink_is_not_followed(refused, exported: Path, tmp_path: Path):
    link = tmp_path / "review.csv"
    link.symlink_to(exported / "review.csv")
    assert "is a symbolic link, not a regular file: not opened" in refused(link)


def test_a_fifo_is_not_opened_and_the_command_says_so_in_one_line(shared: DemoRun, tmp_path: Path):
    fifo = tmp_path / "review.csv"
    os.mkfifo(fifo)
    result = invoke(shared, "review", "import", str(fifo))
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line == (
        f"keyaudit: error: review file {fifo} is a FIFO, not a regular file: not opened — "
        "give the path of the file itself"
    )
    assert recorded(shared) == 0


def test_an_oversized_file_is_not_read(refused, tmp_path: Path, monkeypatch):
    import keyaudit.sources.review_file as review_file

    monkeypatch.setattr(review_file, "MAX_FILE_BYTES", 1024)
    big = tmp_path / "review.csv"
    big.write_bytes(b"run_id\n" + b"x" * 2048)
    assert "is larger than 0 MB: not read" in refused(big)


def test_a_workbook_that_unzips_too_large_is_not_read(refused, tmp_path: Path):
    bomb = tmp_path / "review.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("xl/worksheets/sheet1.xml", b"\0" * (65 * 1024 * 1024))
    assert "unzips to more than 64 MB" in refused(bomb)


def test_too_many_rows_are_refused(refused, exported: Path, tmp_path: Path, monkeypatch):
    import keyaudit.sources.review_file as review_file

    monkeypatch.setattr(review_file, "MAX_ROWS", 3)
    rows = csv_rows(exported / "review.csv")[:5]
    assert "more than 3 rows" in refused(write_csv(tmp_path / "r.csv", rows))


def test_a_file_that_is_not_a_workbook_is_refused(refused, tmp_path: Path):
    fake = tmp_path / "review.xlsx"
    fake.write_text("run_id,decision\n")
    assert refused(fake).endswith(
        "not an .xlsx workbook — save it as Excel Workbook (.xlsx) or CSV"
    )


def test_a_file_without_the_review_columns_is_refused(refused, tmp_path: Path):
    other = write_csv(tmp_path / "r.csv", [{"run_id": "x", "decision": "keep"}])
    assert "no column account_id, user_name, access_key_id" in refused(other)


# --------------------------------------------------------------------------- sign-off


def test_sign_off_appends_and_the_report_shows_every_one(demo: DemoRun):
    statement = "I reviewed every key of this run"
    for reviewer in (REVIEWER, "Sam Second <sam@example.com>"):
        result = invoke(
            demo, "sign-off", "--run", demo.run_id, "--reviewer", reviewer, "--statement", statement
        )
        assert result.exit_code == 0, result.output
    report_sha = hashlib.sha256((demo.report_dir / "report.pdf").read_bytes()).hexdigest()
    con = connect(demo.warehouse, read_only=True)
    stored = con.execute(
        "select reviewer, report_sha256, evidence_path from sign_offs order by signed_at, reviewer"
    ).fetchall()
    context = build_report_context(con, demo.run_id, rules=load_catalogue(), with_explorer=False)
    con.close()
    shown = render_html(context)
    assert {r[0] for r in stored} == {REVIEWER, "Sam Second <sam@example.com>"}
    assert {r[1] for r in stored} == {report_sha}
    for _, _, path in stored:
        record = json.loads((demo.evidence_run_dir / path).read_text())
        assert record["report_sha256"] == report_sha and record["statement"] == statement
    assert len(context.review["sign_offs"]) == 2
    block = shown[shown.index('id="review-sign-offs"') :]
    assert block.count(report_sha) == 2 and "Sam Second &lt;sam@example.com&gt;" in block
    assert 'id="review-not-reviewed"' in shown  # signed off, though nobody imported a review
    assert invoke(demo, "verify", demo.run_id).exit_code == 0


def test_a_run_nobody_signed_off_says_so(con, shared: DemoRun):
    context = build_report_context(con, shared.run_id, rules=load_catalogue(), with_explorer=False)
    assert "This run is not signed off." in render_html(context)


def test_a_changed_sign_off_record_fails_verify(demo: DemoRun):
    assert (
        invoke(
            demo, "sign-off", "--run", demo.run_id, "--reviewer", REVIEWER, "--statement", "ok"
        ).exit_code
        == 0
    )
    (record,) = (demo.evidence_run_dir / "review").iterdir()
    record.write_text(record.read_text().replace("ok", "OK"))
    result = invoke(demo, "verify", demo.run_id)
    assert result.exit_code != 0
    assert f"ALTERED  review/{record.name}: SHA-256 is" in result.output


@pytest.mark.parametrize(
    ("reviewer", "said"),
    [
        ("Dana", "--reviewer 'Dana' is not a name and an address"),
        ("<dana@example.com>", "is not a name and an address"),
        ("Dana <dana>", "is not an e-mail address"),
        ("Dana\nEvil <dana@example.com>", "is not a name and an address"),
    ],
)
def test_sign_off_refuses_a_reviewer_not_written_name_and_address(
    shared: DemoRun, reviewer: str, said: str
):
    result = invoke(
        shared, "sign-off", "--run", shared.run_id, "--reviewer", reviewer, "--statement", "ok"
    )
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert said in line and 'write the reviewer as "Name <address>"' in line


def test_sign_off_without_the_report_says_how_to_render_it(shared: DemoRun, tmp_path: Path):
    result = invoke(
        shared,
        "sign-off",
        "--run",
        shared.run_id,
        "--reviewer",
        REVIEWER,
        "--statement",
        "ok",
        "--report",
        str(tmp_path / "missing.pdf"),
    )
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert f"keyaudit report --run {shared.run_id}" in line and "--report FILE" in line


# --------------------------------------------------------------------------- the next run


def test_next_run_shows_whether_each_deactivation_was_carried_out(demo: DemoRun, tmp_path: Path):
    from keyaudit.warehouse.db import RUN_TABLES

    rows = csv_rows(_export(demo, tmp_path))
    keys = [r for r in rows if r["access_key_id"].startswith("AKIA")][:3]
    file = write_csv(
        tmp_path / "r.csv",
        [decided(r, decision="deactivate", ticket=f"SEC-{i}") for i, r in enumerate(keys)],
    )
    assert invoke(demo, "review", "import", str(file)).exit_code == 0
    later = "0-next-run"
    con = connect(demo.warehouse)
    for table in RUN_TABLES:
        con.execute(
            f"insert into {table} select * replace (? as run_id) from {table} where run_id = ?",
            [later, demo.run_id],
        )
    con.execute("update runs set as_of = as_of + interval 30 day where run_id = ?", [later])
    gone, inactive, active = (k["access_key_id"] for k in keys)
    con.execute("delete from keys where run_id = ? and access_key_id = ?", [later, gone])
    con.execute(
        "update keys set is_active = false where run_id = ? and access_key_id = ?",
        [later, inactive],
    )
    follow_up = review_of(con, later, demo.run_id)["follow_up"]
    con.close()
    outcome = {r["key_ref"]: r["outcome"] for r in follow_up["rows"]}
    assert outcome == {gone: "gone", inactive: "inactive", active: "still active"}
    assert follow_up["carried_out"] == 2 and follow_up["run_id"] == demo.run_id


def test_the_demo_reviews_and_signs_off_its_first_month(demo: DemoRun):
    from datetime import UTC, datetime

    from keyaudit.config import load_config
    from keyaudit.review.demo import REVIEWER as DEMO_REVIEWER
    from keyaudit.review.demo import review_first_month

    config = load_config(demo.warehouse.parent / "keyaudit.toml")
    con = connect(demo.warehouse)
    later = demo.org.as_of + timedelta(days=30)
    done = review_first_month(con, config, later, datetime.now(UTC))
    assert done is not None and done.run_id == demo.run_id
    assert done.undecided == 1 and done.decided > 10
    decisions = {r[0] for r in con.execute("select decision from review_decisions").fetchall()}
    assert decisions == {"keep", "rotate", "deactivate", "defer"}
    assert con.execute("select reviewer from sign_offs").fetchall() == [(DEMO_REVIEWER,)]
    assert review_first_month(con, config, later, datetime.now(UTC)) is None  # once
    con.close()
