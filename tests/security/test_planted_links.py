"""Issue 20, item 1: another local user who can write in an output folder plants links at the
names keyaudit writes (the old fixed `X.tmp` names, the final names, the write probe, the
locks). A run as root never writes through them: it writes its own files, or refuses in one line,
and every link's target keeps its content and its mode.

The links are planted as user nobody (uid 65534, `setpriv`) in folders nobody owns, as the
attack would be; the tests need root to do that."""

from __future__ import annotations

import dataclasses
import os
import shutil
import stat
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from keyaudit import pipeline
from keyaudit.cli import app
from keyaudit.evidence.runlock import exclusive_run
from keyaudit.evidence.store import EvidenceStore
from keyaudit.report import FILE_NAMES
from keyaudit.safefile import UnsafeFileError
from keyaudit.warehouse.db import WarehouseError
from tests.auditor.given import A, folder_of, report
from tests.runs import write_config

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="planting links as another user needs root and setpriv",
)

NOBODY = 65534
AS_OF = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
RUN_ID = "20261201T060000Z-11a4ed"
PRECIOUS = b"root:x:0:0:root:/root:/bin/bash\n"
# what the run writes into --out, besides the report's own files
OTHER_OUTPUTS = ("evidence-manifest.json", "remediation-plan.csv", "remediation-plan.json")


def nobodys_folder(path: Path) -> Path:
    """A folder user nobody owns and can write in, as a shared output folder would be."""
    path.mkdir(parents=True)
    os.chown(path, NOBODY, NOBODY)
    os.chmod(path, 0o755)
    return path


def plant(folder: Path, name: str, target: Path) -> None:
    """`folder/name` -> `target`, made by user nobody (the link is nobody's, as in the attack)."""
    as_nobody = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    subprocess.run(
        [*as_nobody, "ln", "-s", str(target), name],
        cwd=folder,
        check=True,
    )
    assert os.lstat(folder / name).st_uid == NOBODY


def victim(path: Path) -> Path:
    path.write_bytes(PRECIOUS)
    os.chmod(path, 0o644)
    return path


def untouched(path: Path) -> bool:
    return path.read_bytes() == PRECIOUS and stat.S_IMODE(path.stat().st_mode) == 0o644


def files_request(tmp_path: Path, out: Path, evidence: Path) -> pipeline.AuditRequest:
    config = write_config(
        tmp_path / "keyaudit.toml",
        {"paths": {"evidence_dir": str(evidence), "reports_dir": str(tmp_path / "reports")}},
    )
    return pipeline.AuditRequest(
        source="files",
        config_file=config,
        files_dir=folder_of(tmp_path, {f"{A}.csv": report(A)}),
        as_of=AS_OF,
        db=tmp_path / "db" / "keyaudit.duckdb",
        out=out,
        run_id=RUN_ID,
    )


@pytest.mark.slow  # a whole run again: make test-slow
def test_a_run_writes_its_own_files_past_links_planted_at_every_name(tmp_path: Path):
    out = nobodys_folder(tmp_path / "shared" / "out")
    evidence = nobodys_folder(tmp_path / "shared" / "evidence")
    targets = victim(tmp_path / "target-of-tmp"), victim(tmp_path / "target-of-final")
    for name in (*FILE_NAMES.values(), *OTHER_OUTPUTS):
        plant(out, f"{name}.tmp", targets[0])  # the fixed temporary names of before
        plant(out, name, targets[1])
    for folder in (out, evidence):
        plant(folder, ".keyaudit-write-test", targets[0])

    finished = pipeline.run_audit(files_request(tmp_path, out, evidence), now=lambda: AS_OF)

    assert finished.result.summary.accounts_assessed == 1
    assert all(untouched(target) for target in targets)
    for name in (*FILE_NAMES.values(), *OTHER_OUTPUTS):
        written = out / name
        facts = os.lstat(written)
        assert stat.S_ISREG(facts.st_mode) and facts.st_uid == 0, name
        assert stat.S_IMODE(facts.st_mode) == 0o600 and facts.st_size > 0, name
        assert (out / f"{name}.tmp").is_symlink(), f"{name}.tmp: nobody's link is left alone"
    for folder in (out, evidence):  # folders keyaudit did not make keep their owner and mode
        assert (folder.stat().st_uid, stat.S_IMODE(folder.stat().st_mode)) == (NOBODY, 0o755)


def test_a_link_at_the_runs_evidence_lock_refuses_the_run_in_one_line(tmp_path: Path):
    evidence = nobodys_folder(tmp_path / "shared" / "evidence")
    target = victim(tmp_path / "target")
    plant(evidence, f".{RUN_ID}.lock", target)
    out = tmp_path / "out"
    with pytest.raises(UnsafeFileError) as refused:
        pipeline.run_audit(files_request(tmp_path, out, evidence), now=lambda: AS_OF)
    assert str(refused.value) == (
        f"lock file {evidence / f'.{RUN_ID}.lock'} is a symbolic link; keyaudit never writes "
        f"through a link — remove it, and check who else can write in {evidence}"
    )
    assert untouched(target)
    assert not out.exists(), "the refused run left the --out folder it made"


def test_a_link_at_the_warehouse_lock_is_refused_and_its_target_untouched(tmp_path: Path):
    shared = nobodys_folder(tmp_path / "shared")
    target = victim(tmp_path / "target")
    plant(shared, ".keyaudit.duckdb.run-lock", target)
    store = EvidenceStore(tmp_path / "evidence", RUN_ID)
    with (
        pytest.raises(UnsafeFileError, match=r"run-lock is a symbolic link; keyaudit never"),
        exclusive_run(shared / "keyaudit.duckdb", store, AS_OF),
    ):
        pass
    assert untouched(target)


def test_a_warehouse_where_another_user_can_plant_its_wal_is_refused_in_one_line(tmp_path: Path):
    shared = nobodys_folder(tmp_path / "shared")
    target = victim(tmp_path / "target")
    plant(shared, "keyaudit.duckdb.wal", target)  # DuckDB opens its .wal by name
    files = folder_of(tmp_path, {f"{A}.csv": report(A)})
    db = shared / "keyaudit.duckdb"
    result = CliRunner().invoke(
        app, ["run", "--source", "files", "--files", str(files), "--db", str(db), "--out", "out"]
    )
    assert result.exit_code == 2
    assert result.stderr == (
        f"keyaudit: error: warehouse {shared / 'keyaudit.duckdb'} is in folder {shared}, where "
        "another user could plant a link for DuckDB to write through: it belongs to another user "
        f"(nobody, uid {NOBODY}) — keep the warehouse in a folder only you can write (e.g. chmod "
        "go-w), or use another --db\n"
    )
    assert untouched(target)


def test_a_flow_run_refuses_such_a_warehouse_before_it_reads_anything(tmp_path: Path):
    shared = nobodys_folder(tmp_path / "shared")
    request = files_request(tmp_path, tmp_path / "out", tmp_path / "evidence")
    request = dataclasses.replace(request, db=shared / "keyaudit.duckdb")
    with pytest.raises(WarehouseError, match=r"where another user could plant a link"):
        pipeline.run_audit(request, now=lambda: AS_OF)  # as the Prefect flow calls it
    assert not (tmp_path / "evidence").exists() and not (tmp_path / "out").exists()
    assert list(shared.iterdir()) == []
