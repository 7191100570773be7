"""The approved plan file is hostile input: only the run's own plan, with an approval, in strict
shape, is taken; everything else is refused in one line naming the file and the fix, before any
AWS call (keyaudit.remediation.approval; docs/remediation.md)."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from keyaudit.cli import app
from keyaudit.remediation.approval import ApprovalError, read_approved
from keyaudit.report.remediation import plan_document
from keyaudit.warehouse.remediation_plan import build_plan
from tests.lifecycle.lifecycle_given import A, History, finding
from tests.remediation.plan_given import KEY, OTHER, given_keys

AS_OF = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
TODAY = date(2026, 12, 20)
APPROVAL = {"approved_by": "Jane Doe <jane@example.com>", "approved_on": "2026-12-02"}


@pytest.fixture(scope="module")
def planned(migrated_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse whose run r1 plans KEY (alice) and whose run r2 plans OTHER (bob)."""
    path = tmp_path_factory.mktemp("planned") / "keyaudit.duckdb"
    shutil.copyfile(migrated_template, path)
    con = duckdb.connect(str(path))
    history = History(con)
    history.run("r1", AS_OF, [finding("ACCESS_KEY_NOT_ROTATED", A, "alice", KEY)])
    given_keys(con, "r1", ("alice", KEY, True))
    history.run("r2", AS_OF, [finding("ACCESS_KEY_NOT_ROTATED", A, "bob", OTHER)])
    given_keys(con, "r2", ("bob", OTHER, True))
    build_plan(con, "r1")
    build_plan(con, "r2")
    con.close()
    return path


@pytest.fixture
def con(planned: Path) -> Any:
    con = duckdb.connect(str(planned), read_only=True)
    yield con
    con.close()


def _approved(con: Any, folder: Path, run_id: str = "r1", **changes: Any) -> Path:
    document = {**plan_document(con, run_id), "approval": APPROVAL, **changes}
    path = folder / "approved.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _refusal(con: Any, path: Path) -> str:
    with pytest.raises(ApprovalError) as caught:
        read_approved(path, con, "r1", TODAY)
    message = str(caught.value)
    assert "\n" not in message
    return message.removeprefix(f"{path}: ")


def test_the_runs_plan_with_an_approval_is_taken(con, tmp_path):
    approved = read_approved(_approved(con, tmp_path), con, "r1", TODAY)
    assert [k.access_key_id for k in approved.plan.keys] == [KEY]
    assert approved.plan.approval.approved_by == "Jane Doe <jane@example.com>"
    assert len(approved.sha256) == 64


def test_a_plan_of_another_run_is_refused(con, tmp_path):
    assert _refusal(con, _approved(con, tmp_path, "r2")) == (
        "the plan is plan-r2 of run r2, not of run r1 — give --run the run the plan came from, "
        "or that run's plan"
    )


def test_a_key_not_in_the_runs_plan_is_refused(con, tmp_path):
    extra = {**plan_document(con, "r2")["keys"][0]}
    path = _approved(con, tmp_path, keys=[*plan_document(con, "r1")["keys"], extra])
    assert _refusal(con, path) == (
        f"key {OTHER} ({A} bob) is not in the plan of run r1 — approve only keys of that run's "
        "remediation-plan.json"
    )


def test_a_key_moved_to_another_user_is_refused(con, tmp_path):
    key = {**plan_document(con, "r1")["keys"][0], "user_name": "mallory"}
    assert "is not in the plan of run r1" in _refusal(con, _approved(con, tmp_path, keys=[key]))


def test_a_key_listed_twice_is_refused(con, tmp_path):
    key = plan_document(con, "r1")["keys"][0]
    path = _approved(con, tmp_path, keys=[key, key])
    assert _refusal(con, path) == f"key {KEY} is listed twice — list it once"


def test_an_earlier_deactivation_day_is_refused(con, tmp_path):
    key = {**plan_document(con, "r1")["keys"][0], "deactivate_on": "2026-12-02"}
    assert "an approval may postpone a day, never advance it" in _refusal(
        con, _approved(con, tmp_path, keys=[key])
    )


def test_a_plan_without_approval_is_refused(con, tmp_path):
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan_document(con, "r1")), encoding="utf-8")
    assert _refusal(con, path).startswith("approval is missing — ")


def test_an_unknown_field_is_refused_not_ignored(con, tmp_path):
    path = _approved(con, tmp_path, delete_keys=True)
    assert _refusal(con, path).startswith("unknown field delete_keys — ")


def test_an_approval_dated_in_the_future_is_refused(con, tmp_path):
    path = _approved(con, tmp_path, approval={**APPROVAL, "approved_on": "2026-12-21"})
    assert "is in the future (today is 2026-12-20)" in _refusal(con, path)


@pytest.mark.parametrize(
    "content",
    [b"", b"{not json", b"[]", b'{"format": 1}', "\ufeff{}".encode()],
    ids=["empty", "broken", "a list", "wrong types", "bom"],
)
def test_malformed_files_are_refused(con, tmp_path, content):
    path = tmp_path / "approved.json"
    path.write_bytes(content)
    assert 'give the run\'s remediation-plan.json with an "approval" added' in _refusal(con, path)


def test_a_link_a_fifo_and_an_oversized_file_are_refused(con, tmp_path):
    real = _approved(con, tmp_path)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    assert _refusal(con, link).startswith("a symbolic link, not a regular file — ")
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    assert _refusal(con, fifo).startswith("a FIFO, not a regular file — ")
    big = tmp_path / "big.json"
    with big.open("wb") as out:
        out.truncate(16 * 1024 * 1024 + 1)
    assert _refusal(con, big).startswith("larger than 16,777,216 bytes — ")


def test_the_command_refuses_a_bad_plan_file_in_one_line_and_changes_nothing(planned, tmp_path):
    db = tmp_path / "keyaudit.duckdb"
    shutil.copyfile(planned, db)
    bad = tmp_path / "approved.json"
    bad.write_text("{not json", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["remediate", "--run", "r1", "--approved", str(bad), "--db", str(db), "--apply"]
    )
    assert result.exit_code == 2
    assert result.stderr.startswith(f"keyaudit: error: {bad}: not JSON")
    assert len(result.stderr.strip().splitlines()) == 1
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("select count(*) from remediation_actions").fetchone() == (0,)
    con.close()


def test_the_command_names_an_unknown_run(planned, tmp_path):
    db = tmp_path / "keyaudit.duckdb"
    shutil.copyfile(planned, db)
    result = CliRunner().invoke(
        app, ["remediate", "--run", "nope", "--approved", str(tmp_path), "--db", str(db)]
    )
    assert result.exit_code == 2
    assert result.stderr == (
        f"keyaudit: error: --run nope: no such run in {db} — `keyaudit runs` lists them\n"
    )
