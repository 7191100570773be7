"""Fault matrix rows of whole runs: a process killed after collection and resumed with
`keyaudit run --resume RUN_ID`; a second run while one writes; unwritable or full output disks.

The demo is audited twice by the pipeline for the whole module (an uninterrupted run, and one
killed between collection and load); each test resumes a private copy of that evidence. No PDF is
laid out: the report's PDF is not under test here (tests.runs.stub_pdf)."""

from __future__ import annotations

import errno
import json
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
from keyaudit.evidence.store import EvidenceStore, sha256_file
from tests.runs import RecordingSteps, isolated, run_until, stub_pdf

# slow end to end: `make test-slow` runs it, `make test` leaves it out, CI runs both
pytestmark = pytest.mark.slow

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


# --------------------------------------------------------------------------- a resume verifies first
# Run `uninterrupted` was loaded: its run manifest and the warehouse record every file. Run
# `killed` was not: only its account manifests do. A resume checks every saved file against all
# of them before it loads anything, and never rewrites what it did not collect itself.

FIRST = "078716168281"  # an account of the demo, fully assessed


def rehash_in_account_manifest(account_dir: Path, name: str) -> None:
    """Make the account manifest agree with `name` as it is now (what an editor would do)."""
    manifest = account_dir / "manifest.json"
    listing = json.loads(manifest.read_text(encoding="utf-8"))
    for entry in listing["files"]:
        if entry["path"] == f"{account_dir.name}/{name}":
            entry["sha256"] = sha256_file(account_dir / name)
            entry["bytes"] = (account_dir / name).stat().st_size
    manifest.write_text(json.dumps(listing, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def edit_report(account_dir: Path) -> tuple[str, str]:
    """Turn a user's `true` into `false` in the account's credential report; (before, after)."""
    path = account_dir / "credential_report.csv"
    before = sha256_file(path)
    path.write_bytes(path.read_bytes().replace(b"true", b"false", 1))
    return before[:12], sha256_file(path)[:12]


def evidence_rows(db: Path, run_id: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "select path, sha256 from evidence where run_id = ? order by path", [run_id]
        ).fetchall()
    finally:
        con.close()


def refused_resume(folder: Path, run_id: str) -> str:
    """`keyaudit run --resume RUN_ID` refused: nothing loaded, no manifest or hash rewritten."""
    run_dir = folder / "data" / "evidence" / run_id
    manifest = run_dir / "manifest.json"
    before = manifest.read_bytes() if manifest.exists() else None
    rows = evidence_rows(folder / "data" / "keyaudit.duckdb", run_id)
    result = runner.invoke(app, ["run", "--resume", run_id])
    assert result.exit_code == 2, result.output
    assert (manifest.read_bytes() if manifest.exists() else None) == before
    assert evidence_rows(folder / "data" / "keyaudit.duckdb", run_id) == rows
    assert len(result.stderr.splitlines()) == 1
    return result.stderr


NEW_RUN = "a resume loads evidence only as it was collected; start a new run"


def test_resume_refuses_a_file_changed_with_its_account_manifest(copy_of: Path):
    account_dir = copy_of / "data" / "evidence" / "uninterrupted" / FIRST
    before, after = edit_report(account_dir)
    rehash_in_account_manifest(account_dir, "credential_report.csv")

    assert refused_resume(copy_of, "uninterrupted") == (
        f"keyaudit: error: run uninterrupted: {FIRST}/credential_report.csv was changed after "
        f"it was collected (SHA-256 is {after}…; run manifest {before}…, warehouse {before}…) "
        f"and 1 more difference — {NEW_RUN}\n"
    )
    verified = runner.invoke(app, ["verify", "uninterrupted"])
    assert verified.exit_code == 1  # the edit is still there to see, never laundered


def test_resume_refuses_a_file_changed_with_both_manifests_by_the_warehouse(copy_of: Path):
    run_dir = copy_of / "data" / "evidence" / "uninterrupted"
    before, after = edit_report(run_dir / FIRST)
    rehash_in_account_manifest(run_dir / FIRST, "credential_report.csv")
    listing = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    for entry in listing["files"]:
        entry["sha256"] = sha256_file(run_dir / entry["path"])
    (run_dir / "manifest.json").write_text(json.dumps(listing), encoding="utf-8")

    stderr = refused_resume(copy_of, "uninterrupted")
    assert stderr.startswith(
        f"keyaudit: error: run uninterrupted: {FIRST}/credential_report.csv was changed after "
        f"it was collected (SHA-256 is {after}…; warehouse {before}…) and 2 more differences — "
    )


def test_resume_refuses_a_changed_file_of_a_run_never_loaded(copy_of: Path):
    before, after = edit_report(copy_of / "data" / "evidence" / "killed" / FIRST)
    assert refused_resume(copy_of, "killed") == (
        f"keyaudit: error: run killed: {FIRST}/credential_report.csv was changed after it was "
        f"collected (SHA-256 is {after}…; {FIRST}/manifest.json {before}…) — {NEW_RUN}\n"
    )


@pytest.mark.parametrize("run_id", ["uninterrupted", "killed"])
def test_resume_refuses_a_deleted_file(copy_of: Path, run_id: str):
    (copy_of / "data" / "evidence" / run_id / FIRST / "access_keys.json").unlink()
    listed_by = (
        "the run manifest, warehouse and 078716168281/manifest.json"
        if run_id == "uninterrupted"
        else "the 078716168281/manifest.json"
    )
    assert refused_resume(copy_of, run_id) == (
        f"keyaudit: error: run {run_id}: {FIRST}/access_keys.json is gone (listed by "
        f"{listed_by} but not on disk) — {NEW_RUN}\n"
    )


@pytest.mark.parametrize("run_id", ["uninterrupted", "killed"])
@pytest.mark.parametrize("where", [FIRST, "."])
def test_resume_refuses_an_added_file(copy_of: Path, run_id: str, where: str):
    added = copy_of / "data" / "evidence" / run_id / where / "access_keys.extra.json"
    added.write_text("[]\n", encoding="utf-8")
    name = f"{FIRST}/access_keys.extra.json" if where == FIRST else "access_keys.extra.json"
    not_in = (
        "in neither the run manifest nor the warehouse"
        if run_id == "uninterrupted"
        else f"not listed by the {FIRST}/manifest.json"
        if where == FIRST
        else "not a file a run writes before it is loaded, nor listed by its run.json"
    )
    assert refused_resume(copy_of, run_id) == (
        f"keyaudit: error: run {run_id}: {name} was added after the run was collected (on disk "
        f"(SHA-256 {sha256_file(added)[:12]}…) but {not_in}) — {NEW_RUN}\n"
    )


def test_resume_of_a_loaded_run_rewrites_no_manifest_entry(copy_of: Path):
    run_dir = copy_of / "data" / "evidence" / "uninterrupted"
    manifest = (run_dir / "manifest.json").read_bytes()
    rows = evidence_rows(copy_of / "data" / "keyaudit.duckdb", "uninterrupted")
    os.utime(run_dir / FIRST / "users.json", (0, 0))  # touched, not changed: not collected again
    result = runner.invoke(app, ["run", "--resume", "uninterrupted"])
    assert result.exit_code == 0, result.output
    assert (run_dir / "manifest.json").read_bytes() == manifest
    assert evidence_rows(copy_of / "data" / "keyaudit.duckdb", "uninterrupted") == rows
    assert runner.invoke(app, ["verify", "uninterrupted"]).exit_code == 0


def test_resume_still_collects_an_account_that_died_half_way(copy_of: Path):
    """An account without collection.json is collected again: its folder's leftovers are not
    evidence yet, so they are not held against the resume."""
    run_dir = copy_of / "data" / "evidence" / "killed"
    (run_dir / FIRST / "collection.json").unlink()
    (run_dir / FIRST / "manifest.json").unlink()
    edit_report(run_dir / FIRST)
    result = runner.invoke(app, ["run", "--resume", "killed"])
    assert result.exit_code == 0, result.output
    entries = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))["files"]
    assert "SHA256SUMS" not in {f["path"] for f in entries}
    assert runner.invoke(app, ["verify", "killed"]).exit_code == 0


def test_policy_document_that_does_not_parse_makes_its_user_unknown(copy_of: Path):
    """Evidence as collection would have written it (account manifest included): a user's
    inline policy is text that is not JSON. The resume loads it; the user is `unknown`."""
    # the first account with a user of the inline allow-everything policy (persona
    # admin-inline-star), whichever personas the demo drew for its accounts
    for path in sorted(
        (copy_of / "data" / "evidence" / "killed").glob("*/authorization_details.json")
    ):
        pages = json.loads(path.read_text(encoding="utf-8"))
        holders = [
            u
            for p in pages
            for u in p["UserDetailList"]
            if [d["PolicyName"] for d in u.get("UserPolicyList", [])] == ["allow-everything"]
        ]
        if holders:
            break
    account_dir = path.parent
    account, user, name = account_dir.name, holders[0], holders[0]["UserName"]
    user["UserPolicyList"][0]["PolicyDocument"] = '{"Version": "2012-10-17", "Statement": ['
    path.write_text(json.dumps(pages, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    rehash_in_account_manifest(account_dir, "authorization_details.json")

    result = runner.invoke(app, ["run", "--resume", "killed"])
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(copy_of / "data" / "keyaudit.duckdb"), read_only=True)
    try:
        privilege, reason = con.execute(
            "select privilege, privilege_reason from iam_user_privilege where run_id = 'killed' "
            "and account_id = ? and user_name = ?",
            [account, name],
        ).fetchone()
        (document,) = con.execute(
            "select document from iam_user_policies where run_id = 'killed' "
            "and account_id = ? and user_name = ? and policy_name = 'allow-everything'",
            [account, name],
        ).fetchone()
    finally:
        con.close()
    assert privilege == "unknown"
    assert "allow-everything" in reason and "not JSON" in reason, reason
    assert json.loads(document) == '{"Version": "2012-10-17", "Statement": ['  # kept as given
