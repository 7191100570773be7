"""End to end through two files runs of one folder: the access-keys file handed in the first
month and not the second. The unchanged keys are neither resolved nor new."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from keyaudit.pipeline import AuditRequest
from tests.auditor.given import A, access_keys, report
from tests.runs import RecordingSteps, run_until, write_config

DEC = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
JAN = datetime(2027, 1, 1, 6, 0, tzinfo=UTC)


def audit_folder(tmp_path: Path, name: str, as_of: datetime, *, with_keys_file: bool) -> None:
    folder = tmp_path / name
    folder.mkdir()
    (folder / f"{A}.csv").write_text(report(A), encoding="utf-8")
    if with_keys_file:
        (folder / f"{A}.access_keys.json").write_text(json.dumps(access_keys()), encoding="utf-8")
    request = AuditRequest(
        source="files",
        config_file=write_config(tmp_path / "keyaudit.toml", data_dir=tmp_path),
        files_dir=folder,
        as_of=as_of,
        db=tmp_path / "w.duckdb",
        run_id=name,
    )
    run_until(request, RecordingSteps(stop_after="load"), now=lambda: as_of)


def test_keys_file_present_then_absent_resolves_nothing_and_repeats_nothing_as_new(tmp_path: Path):
    import duckdb

    audit_folder(tmp_path, "dec", DEC, with_keys_file=True)
    audit_folder(tmp_path, "jan", JAN, with_keys_file=False)
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    key_findings = con.execute(
        "select run_id, count(*) filter (where access_key_id is not null) from findings "
        "where key_slot is not null group by 1 order by 1"
    ).fetchall()
    assert key_findings[0][1] > 0 and key_findings[1][1] == 0  # ids in dec, slots only in jan
    assert con.execute(
        "select previous_run_id from previous_runs where run_id = 'jan'"
    ).fetchall() == [("dec",)]
    # alice's key turned 91 days old in January: new for a good reason; ci-deploy's is not new
    assert con.execute(
        "select rule_id, user_name from findings_new where run_id = 'jan'"
    ).fetchall() == [("ACCESS_KEY_NOT_ROTATED", "alice")]
    assert con.execute(
        "select count(*) from findings_resolved where run_id = 'jan'"
    ).fetchall() == [(0,)]
    assert con.execute("select count(*) from mttr_by_severity").fetchall() == [(0,)]
