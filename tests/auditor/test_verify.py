"""`keyaudit verify`: the evidence of a run is exactly what was loaded, or the difference is named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from keyaudit.cli import app
from keyaudit.evidence.store import sha256_file
from tests.auditor.given import A, B, FilesRun, access_keys, audit_files, folder_of, report

# slow end to end: `make test-slow` runs it, `make test` leaves it out, CI runs both
pytestmark = pytest.mark.slow

runner = CliRunner()


@pytest.fixture
def run(tmp_path: Path) -> FilesRun:
    folder = folder_of(
        tmp_path,
        {
            f"{A}.csv": report(A),
            f"{A}.access_keys.json": json.dumps(access_keys()),
            f"{B}.csv": report(B),
        },
    )
    audited = audit_files(folder, tmp_path)
    audited.con.close()  # verify opens the warehouse read-only, as an auditor would
    return audited


def verify(run: FilesRun, *extra: str):
    return runner.invoke(
        app,
        [
            "verify",
            run.run_id,
            "--db",
            str(run.warehouse),
            "--evidence",
            str(run.evidence_root),
            *extra,
        ],
    )


def test_untouched_run_passes(run: FilesRun):
    result = verify(run)
    assert result.exit_code == 0, result.output
    files = len([p for p in run.store.run_dir.rglob("*") if p.is_file()])
    assert result.stdout.splitlines() == [
        f"run {run.run_id}: evidence verified — {files} files in {run.store.run_dir} match the "
        "run manifest, the account manifests and the warehouse; the manifest matches the hash "
        "stored with the run",
        f"run {run.run_id}: not signed — the hashes show the files are those the warehouse "
        "recorded, but no signature means no protection against an insider who can rewrite the "
        "evidence and the warehouse together ([signing] in keyaudit.toml signs each run)",
    ]


def test_altered_file_fails_naming_it(run: FilesRun):
    path = run.store.run_dir / A / "credential_report.csv"
    before = sha256_file(path)
    path.write_text(path.read_text().replace("ci-deploy", "ci-deplox"))
    result = verify(run)

    assert result.exit_code == 1
    after = sha256_file(path)
    assert result.stdout.splitlines() == [
        f"ALTERED  {A}/credential_report.csv: SHA-256 is {after[:12]}…; run manifest "
        f"{before[:12]}…, warehouse {before[:12]}…, {A}/manifest.json {before[:12]}…"
    ]
    assert result.stderr.strip() == (
        f"run {run.run_id}: 1 difference in the evidence at {run.store.run_dir} — the "
        "evidence is not what was loaded"
    )


def test_deleted_file_fails_naming_it(run: FilesRun):
    (run.store.run_dir / B / "collection.json").unlink()
    result = verify(run)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"MISSING  {B}/collection.json: listed by the run manifest, warehouse and "
        f"{B}/manifest.json but not on disk"
    ]


def test_added_file_fails_naming_it(run: FilesRun):
    extra = run.store.run_dir / A / "notes.txt"
    extra.write_text("planted")
    result = verify(run)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"EXTRA    {A}/notes.txt: on disk (SHA-256 {sha256_file(extra)[:12]}…) but in neither "
        "the run manifest nor the warehouse"
    ]


def test_editing_a_file_and_every_manifest_is_still_caught(run: FilesRun):
    """An insider who also rewrites both manifests: the run record's manifest hash and the
    warehouse's evidence rows still disagree."""
    run_dir = run.store.run_dir
    path = run_dir / A / "credential_report.csv"
    path.write_text(path.read_text().replace("ci-deploy", "ci-deplox"))
    new_sha = sha256_file(path)
    for manifest in (run_dir / A / "manifest.json", run_dir / "manifest.json"):
        listing = json.loads(manifest.read_text())
        for entry in listing["files"]:
            if entry["path"] == f"{A}/credential_report.csv":
                entry["sha256"] = new_sha
        manifest.write_text(json.dumps(listing))
    run_manifest = run_dir / "manifest.json"  # ... and the run manifest's entry for the account's
    listing = json.loads(run_manifest.read_text())
    for entry in listing["files"]:
        if entry["path"] == f"{A}/manifest.json":
            entry["sha256"] = sha256_file(run_dir / A / "manifest.json")
    run_manifest.write_text(json.dumps(listing))

    result = verify(run)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ALTERED  manifest.json: SHA-256 is ")
    assert lines[0].endswith("— the manifest was changed after the run was loaded")
    assert any(
        line.startswith(f"ALTERED  {A}/credential_report.csv:") and "warehouse" in line
        for line in lines
    )


def test_unknown_run_is_one_line_error(run: FilesRun):
    result = runner.invoke(app, ["verify", "nope", "--db", str(run.warehouse)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "keyaudit: error: run nope is not in the warehouse — `keyaudit runs` lists the runs"
    )


def test_missing_evidence_folder_says_how_to_point_at_it(run: FilesRun, tmp_path: Path):
    result = runner.invoke(
        app,
        [
            "verify",
            run.run_id,
            "--db",
            str(run.warehouse),
            "--evidence",
            str(tmp_path / "elsewhere"),
        ],
    )
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"keyaudit: error: run {run.run_id}: no evidence folder {tmp_path / 'elsewhere' / run.run_id}"
        " — pass --evidence DIR, the folder that holds the run's evidence (data/evidence by default)"
    )


def test_run_loaded_without_a_manifest_hash_cannot_pass(run: FilesRun):
    from keyaudit.warehouse.db import connect

    con = connect(run.warehouse)
    con.execute("update runs set manifest_sha256 = null")
    con.close()
    result = verify(run)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "MANIFEST manifest.json: the warehouse holds no manifest hash for this run, so the "
        "manifest itself cannot be proven unchanged — reload the run with the audit flow"
    ]
