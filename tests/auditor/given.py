"""Hand-written credential reports in the real AWS format, and a files-source audit run by the
pipeline up to load (evidence → warehouse; no report), for fast tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from keyaudit.evidence.store import EvidenceStore
from keyaudit.pipeline import AuditRequest
from keyaudit.sources.credential_report import COLUMNS
from keyaudit.sources.files import FilesCollection
from keyaudit.warehouse.db import connect
from tests.runs import RecordingSteps, run_until, write_config

AS_OF = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
RUN_ID = "20261201T060000Z-f11e5a"
A = "111122223333"
B = "444455556666"
HEADER = ",".join(COLUMNS)


def root(account: str) -> str:
    return (
        f"<root_account>,arn:aws:iam::{account}:root,2019-03-04T17:10:44+00:00,not_supported,"
        "2026-11-20T08:01:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,"
        "false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
    )


def alice(account: str) -> str:
    """Console user with MFA and a young key used yesterday: clean."""
    return (
        f"alice,arn:aws:iam::{account}:user/alice,2021-06-01T09:00:00+00:00,true,"
        "2026-11-30T12:35:00+00:00,2026-10-02T10:00:00+00:00,N/A,true,true,"
        "2026-10-01T08:30:12+00:00,2026-11-30T12:30:00+00:00,eu-west-1,s3,false,N/A,N/A,N/A,"
        "N/A,false,N/A,false,N/A"
    )


def bob(account: str) -> str:
    """Console user without MFA who never signed in; no key."""
    return (
        f"bob,arn:aws:iam::{account}:user/bob,2026-01-10T11:00:00+00:00,true,no_information,"
        "2026-01-10T11:00:00+00:00,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,"
        "false,N/A,false,N/A"
    )


def ci_deploy(account: str) -> str:
    """Service user, no console: key 1 active since 2025-06-01 (too old), used on 2026-11-29."""
    return (
        f"ci-deploy,arn:aws:iam::{account}:user/service/ci-deploy,2025-06-01T14:22:05+00:00,"
        "false,N/A,N/A,N/A,false,true,2025-06-01T14:22:05+00:00,2026-11-29T23:45:00+00:00,"
        "ap-south-1,sts,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
    )


def report(account: str, *, end: str = "\n", newline: str = "\n") -> str:
    rows = [HEADER, root(account), alice(account), bob(account), ci_deploy(account)]
    return newline.join(rows) + (end.replace("\n", newline) if end else "")


def with_cell(row: str, column: str, value: str) -> str:
    cells = row.split(",")
    cells[COLUMNS.index(column)] = value
    return ",".join(cells)


CI_DEPLOY_KEY = "AKIAIOSFODNN7EXAMPLE"
ALICE_KEY = "AKIAI44QH8DHBEXAMPLE"


def access_keys(*, last_used_name: str = "LastUsed") -> list[dict[str, Any]]:
    """ListAccessKeys entries with their GetAccessKeyLastUsed result, as an owner exports them."""
    return [
        {
            "UserName": "alice",
            "AccessKeyId": ALICE_KEY,
            "Status": "Active",
            "CreateDate": "2026-10-01T08:30:12+00:00",
            last_used_name: {
                "LastUsedDate": "2026-11-30T12:30:00+00:00",
                "ServiceName": "s3",
                "Region": "eu-west-1",
            },
        },
        {
            "UserName": "ci-deploy",
            "AccessKeyId": CI_DEPLOY_KEY,
            "Status": "Active",
            "CreateDate": "2025-06-01T14:22:05Z",
            last_used_name: {
                "LastUsedDate": "2026-11-29T23:45:00Z",
                "ServiceName": "sts",
                "Region": "ap-south-1",
            },
        },
    ]


def folder_of(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    folder = tmp_path / "handed-in"
    folder.mkdir()
    for name, content in files.items():
        data = content.encode() if isinstance(content, str) else content
        (folder / name).write_bytes(data)
    return folder


@dataclass
class FilesRun:
    con: duckdb.DuckDBPyConnection
    run_id: str
    collection: FilesCollection
    store: EvidenceStore
    warehouse: Path
    evidence_root: Path

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, list(params)).fetchall()

    def account(self, account_id: str) -> tuple[str, str | None]:
        return self.rows(
            "select status, error from accounts where run_id = ? and account_id = ?",
            self.run_id,
            account_id,
        )[0]

    def notes(self, kind: str) -> list[tuple[str | None, str]]:
        return self.rows(
            "select account_id, message from run_notes where run_id = ? and kind = ? order by message",
            self.run_id,
            kind,
        )

    def run_meta(self) -> dict[str, Any]:
        return json.loads((self.store.run_dir / "run.json").read_text())


def audit_files(
    folder: Path, tmp_path: Path, run_id: str = RUN_ID, settings: dict[str, Any] | None = None
) -> FilesRun:
    """`keyaudit run --source files --files FOLDER` as the pipeline runs it, ended after load
    (read → record → load and evaluate); the warehouse and evidence in `tmp_path`, with the
    configuration `settings` (e.g. a [signing] key)."""
    warehouse = tmp_path / "w.duckdb"
    steps = RecordingSteps(stop_after="load")
    request = AuditRequest(
        source="files",
        config_file=write_config(tmp_path / "keyaudit.toml", settings, data_dir=tmp_path),
        files_dir=folder,
        as_of=AS_OF,
        db=warehouse,
        run_id=run_id,
    )
    run_until(request, steps, now=lambda: AS_OF)
    assert steps.called == ["read-files", "load"]
    store = EvidenceStore(tmp_path / "evidence", run_id)
    collection = steps.results["read-files"]
    return FilesRun(connect(warehouse), run_id, collection, store, warehouse, tmp_path / "evidence")
