"""Fault matrix rows of whole runs: a process killed after collection and resumed with
`keyaudit run --resume RUN_ID`; a second run while one writes; unwritable or full output disks.

The demo is audited twice by the pipeline for the whole module (an uninterrupted run, and one
killed between collection and load); each test resumes a private copy of that evidence. No PDF is
laid out: the report's PDF is not under test here (tests.runs.stub_pdf)."""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import botocore.client
import duckdb
import pytest
from typer.testing import CliRunner

from keyaudit import pipeline, safefile
from keyaudit.cli import app
from keyaudit.config import Config
from keyaudit.evidence.runlock import RunLockedError, exclusive_run
from keyaudit.evidence.scps import SCP_FILE
from keyaudit.evidence.store import EvidenceStore
from tests.runs import RecordingSteps, isolated, run_until, stub_pdf

AS_OF = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
runner = CliRunner()


def demo(**request: Any) -> pipeline.AuditRequest:
    return pipeline.AuditRequest(source="demo", as_of=AS_OF, **request)


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with data/: run `uninterrupted` finished, run `killed` collected but not loaded
    (its pipeline ended just before the load step, as a process killed there)."""
    folder = tmp_path_factory.mktemp("interrupted")
    with isolated(folder) as patch, stub_pdf():
        patch.chdir(folder)
        pipeline.run_audit(demo(run_id="uninterrupted"))
        killed = run_until(demo(run_id="killed"), RecordingSteps(stop_before="load"))
    assert killed.called == ["discover", "scps", "collect"]
    return folder


@pytest.fixture(autouse=True)
def no_pdf() -> Iterator[None]:
    with stub_pdf():
        yield


@pytest.fixture
def copy_of(interrupted: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the interrupted runs' data/, and the test's cwd on it."""
    shutil.copytree(interrupted / "data", tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def api_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every AWS API call made through botocore from here on (moto's included)."""
    calls: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def counting(self: Any, operation: str, params: dict[str, Any]) -> Any:
        calls.append(operation)
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counting)
    return calls


def findings(db: Path, run_id: str) -> set[tuple[Any, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "select finding_id, rule_id, severity, account_id, user_name, access_key_id, key_slot,"
            " reason, waived from findings where run_id = ?",
            [run_id],
        ).fetchall()
        return set(rows)
    finally:
        con.close()


def accounts(db: Path, run_id: str) -> set[tuple[Any, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return set(
            con.execute(
                "select account_id, status, state, error from accounts where run_id = ?", [run_id]
            ).fetchall()
        )
    finally:
        con.close()


def test_killed_run_has_all_its_evidence_and_nothing_in_the_warehouse(interrupted: Path):
    run_dir = interrupted / "data" / "evidence" / "killed"
    outcomes = sorted(run_dir.glob("*/collection.json"))
    assert len(outcomes) == len(list((interrupted / "data/evidence/uninterrupted").glob("*/")))
    con = duckdb.connect(str(interrupted / "data" / "keyaudit.duckdb"), read_only=True)
    assert con.execute("select run_id from runs").fetchall() == [("uninterrupted",)]
    con.close()


def test_resume_after_a_kill_before_load_makes_no_aws_call_and_matches_an_uninterrupted_run(
    copy_of: Path, api_calls: list[str]
):
    result = runner.invoke(app, ["run", "--resume", "killed"])
    assert result.exit_code == 0, result.output
    assert api_calls == []
    assert "keyaudit: resuming run killed (demo) from its evidence in this process" in (
        result.stderr
    )
    assert "Run killed  (as of 2026-12-01T06:00:00+00:00)" in result.stdout
    db = copy_of / "data" / "keyaudit.duckdb"
    assert findings(db, "killed") == findings(db, "uninterrupted")
    assert accounts(db, "killed") == accounts(db, "uninterrupted")
    assert (copy_of / "data" / "reports" / "killed" / "report.html").is_file()


def test_resume_collects_only_the_accounts_that_never_finished(
    copy_of: Path, monkeypatch: pytest.MonkeyPatch
):
    import keyaudit.sources.aws.collect

    run_dir = copy_of / "data" / "evidence" / "killed"
    unfinished = sorted(p.parent.name for p in run_dir.glob("*/collection.json"))[:2]
    for account in unfinished:  # died while collecting these two: no outcome written
        (run_dir / account / "collection.json").unlink()
    untouched = {p: p.read_bytes() for p in run_dir.glob("*/*") if p.parent.name not in unfinished}
    collected: list[str] = []
    original = keyaudit.sources.aws.collect.collect_account

    def recording(account: Any, **kwargs: Any) -> Any:
        collected.append(account.account_id)
        return original(account, **kwargs)

    monkeypatch.setattr(keyaudit.sources.aws.collect, "collect_account", recording)
    steps = RecordingSteps()
    pipeline.run_audit(pipeline.AuditRequest(resume="killed"), steps=steps)
    assert "scps" not in steps.called  # the interrupted run had read them
    assert sorted(steps.collected) == unfinished
    assert sorted(collected) == unfinished
    assert {p: p.read_bytes() for p in untouched} == untouched
    db = copy_of / "data" / "keyaudit.duckdb"
    assert findings(db, "killed") == findings(db, "uninterrupted")
    assert accounts(db, "killed") == accounts(db, "uninterrupted")


def test_resume_reads_the_scps_when_the_interrupted_run_died_before_it_had(copy_of: Path):
    run_dir = copy_of / "data" / "evidence" / "killed"
    recorded = (run_dir / SCP_FILE).read_bytes()
    (run_dir / SCP_FILE).unlink()  # died right after recording its scope: nothing collected
    for outcome in run_dir.glob("*/collection.json"):
        outcome.unlink()
    steps = RecordingSteps(stop_before="load")
    run_until(pipeline.AuditRequest(resume="killed"), steps)
    assert steps.called == ["scps", "collect"]
    assert (run_dir / SCP_FILE).read_bytes() == recorded  # the same organization, read again


def test_resume_of_an_unknown_run_names_the_run_and_the_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["run", "--resume", "20261201T060000Z-000000"])
    assert result.exit_code == 2
    assert result.stderr == (
        "keyaudit: error: run 20261201T060000Z-000000: no evidence folder "
        "data/evidence/20261201T060000Z-000000 — check the run id and paths.evidence_dir "
        "(--config)\n"
    )


def test_resume_that_never_started_collecting_says_to_start_a_new_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data" / "evidence" / "early").mkdir(parents=True)
    result = runner.invoke(app, ["run", "--resume", "early"])
    assert result.exit_code == 2
    assert result.stderr == (
        "keyaudit: error: run early: data/evidence/early/run.json is missing — the run stopped "
        "before it started collecting; start a new run\n"
    )


def test_resume_keeps_the_recorded_instant(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["run", "--resume", "x", "--as-of", "2026-12-02T00:00:00Z"])
    assert result.exit_code == 2
    assert "--resume keeps the run's recorded source and --as-of" in result.stderr


def test_second_run_while_one_is_writing_is_refused_before_any_aws_call(
    tmp_path, monkeypatch, api_calls
):
    monkeypatch.chdir(tmp_path)
    running = EvidenceStore(Path("data/evidence"), "20261201T050000Z-aaaaaa")
    with (
        exclusive_run(Path("data/keyaudit.duckdb"), running, AS_OF),
        pytest.raises(RunLockedError) as refused,
    ):
        pipeline.run_audit(demo())
    assert str(refused.value).startswith(
        "warehouse data/keyaudit.duckdb is being written by another keyaudit run "
        "(run 20261201T050000Z-aaaaaa, pid "
    )
    assert api_calls == []


@pytest.mark.parametrize("out_existed", [False, True])
def test_a_run_refused_after_the_output_check_removes_only_empty_folders_it_made(
    tmp_path, monkeypatch, out_existed
):
    monkeypatch.chdir(tmp_path)
    out = Path("reports/2026-12")
    if out_existed:
        out.mkdir(parents=True)
    running = EvidenceStore(Path("data/evidence"), "20261201T050000Z-aaaaaa")
    with (
        exclusive_run(Path("data/keyaudit.duckdb"), running, AS_OF),
        pytest.raises(RunLockedError),
    ):
        pipeline.run_audit(demo(out=out))
    assert out.is_dir() == out_existed
    assert Path("reports").is_dir() == out_existed  # the parent it made for --out too


def test_new_run_never_writes_into_another_runs_evidence(copy_of, monkeypatch, api_calls):
    with pytest.raises(RunLockedError) as refused:
        pipeline.run_audit(demo(run_id="killed"))
    assert str(refused.value) == (
        "run killed already has evidence in data/evidence/killed — resume it with "
        "`keyaudit run --resume killed`, or start a new run"
    )
    assert api_calls == []


def test_unwritable_output_folder_stops_the_run_before_any_aws_call(
    tmp_path, monkeypatch, api_calls
):
    monkeypatch.chdir(tmp_path)
    Path("blocker").write_text("a file where a folder should be", encoding="utf-8")
    config = Path("keyaudit.toml")
    config.write_text('[paths]\nevidence_dir = "blocker/evidence"\n', encoding="utf-8")
    with pytest.raises(OSError) as refused:
        pipeline.run_audit(demo(config_file=config))
    assert str(refused.value) == (
        "output folder blocker/evidence is not writable (Not a directory) — fix permissions "
        "or choose another path"
    )
    assert api_calls == []


def test_full_disk_stops_the_run_before_any_aws_call(tmp_path, monkeypatch, api_calls):
    monkeypatch.chdir(tmp_path)
    full = shutil.disk_usage(tmp_path)._replace(free=3 * 2**20)
    monkeypatch.setattr(pipeline.shutil, "disk_usage", lambda _: full)
    with pytest.raises(OSError) as refused:
        pipeline.run_audit(demo())
    assert str(refused.value) == (
        "output folder data/evidence has only 3.0 MiB free; a run needs at least 50 MiB — "
        "free some space or choose another path"
    )
    assert api_calls == []


def test_disk_full_on_the_write_probe_is_a_clear_error(tmp_path, monkeypatch):
    def no_space(path: Path) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(safefile, "create_new", no_space)  # the probe's file cannot be made
    config = Config.model_validate({"paths": {"evidence_dir": str(tmp_path / "ev")}})
    with pytest.raises(OSError) as refused:
        pipeline.prepare_outputs(config, tmp_path / "out")
    assert str(refused.value) == (
        f"output folder {tmp_path / 'ev'} is not writable (No space left on device) — fix "
        "permissions or choose another path"
    )
