"""The whole pipeline on the simulated organization: the audit finds exactly its ground truth,
and runs its steps in order, through the `Steps` it is given."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest
from pypdf import PdfReader

from keyaudit.outcome import AuditResult
from keyaudit.rules.catalogue import load_catalogue
from tests.runs import AS_OF, DemoRun, RecordingSteps, copy_run, stub_pdf, write_config

FIRST_RULES = {rule.rule_id for rule in load_catalogue()}  # the full catalogue


@pytest.fixture(scope="module")
def result(demo_run: DemoRun):
    """The shared demo run's result (tests/conftest.py)."""
    return demo_run.result


@pytest.fixture(scope="module")
def truth(demo_run: DemoRun) -> frozenset:
    return demo_run.org.expected


def _found(result: AuditResult) -> set[tuple]:
    con = duckdb.connect(result.warehouse, read_only=True)
    rows = con.execute(
        "select rule_id, account_id, user_name, key_slot, access_key_id from findings where run_id = ?",
        [result.run_id],
    ).fetchall()
    con.close()
    return {tuple(r) for r in rows}


def test_audit_finds_exactly_the_ground_truth(result, truth):
    expected = {(f.rule_id, f.account_id, f.user_name, f.key_slot, f.access_key_id) for f in truth}
    found = {f for f in _found(result) if f[0] in FIRST_RULES}
    assert found - expected == set(), "findings the simulation did not plant"
    assert expected - found == set(), "planted findings the audit missed"


def test_every_first_rule_fires_in_the_demo(result):
    assert set(result.summary.findings_by_rule) >= FIRST_RULES


def test_missing_role_account_is_not_assessed_with_the_error(result):
    con = duckdb.connect(result.warehouse, read_only=True)
    rows = con.execute(
        "select account_id, error from accounts where status = 'not_assessed'"
    ).fetchall()
    con.close()
    assert len(rows) == 1
    assert "AccessDenied on sts:AssumeRole" in rows[0][1]
    assert "OrganizationAccountAccessRole" in rows[0][1]


def test_suspended_account_is_skipped_not_assessed(result):
    summary = result.summary
    assert summary.accounts_skipped == 1
    assert summary.accounts_fully_assessed == summary.accounts_in_scope - 1
    assert summary.accounts_partial == 0


def test_report_files_are_written_and_the_pdf_reads_back(result):
    pdf = PdfReader(result.pdf)
    text = pdf.pages[0].extract_text()  # the cover names the run; every page is read elsewhere
    assert len(pdf.pages) >= 2
    assert result.run_id in text
    assert Path(result.html).read_text().startswith("<!DOCTYPE html>")


def test_evidence_manifest_matches_the_warehouse(result):
    manifest = json.loads((Path(result.evidence) / "manifest.json").read_text())
    con = duckdb.connect(result.warehouse, read_only=True)
    stored = dict(con.execute("select path, sha256 from evidence").fetchall())
    con.close()
    assert stored == {f["path"]: f["sha256"] for f in manifest["files"]}
    assert any(p.endswith("credential_report.csv") for p in stored)


def test_reloading_a_run_replaces_it_without_duplicates(demo_run: DemoRun, tmp_path: Path):
    from keyaudit.evidence.store import EvidenceStore
    from keyaudit.rules.catalogue import load_catalogue
    from keyaudit.warehouse.db import connect
    from keyaudit.warehouse.load import load_run

    run = copy_run(demo_run, tmp_path)
    con = connect(run.warehouse)
    before = con.execute("select count(*) from findings").fetchone()[0]
    store = EvidenceStore(run.evidence_run_dir.parent, run.run_id)
    summary = load_run(con, store, rules=load_catalogue(), finished_at=AS_OF, manifest_sha256=None)
    counts = {
        t: con.execute(f"select count(*) from {t}").fetchone()[0]
        for t in ("runs", "accounts", "findings")
    }
    con.close()
    assert counts["findings"] == before
    assert counts["runs"] == 1
    assert summary.findings_by_rule == demo_run.result.summary.findings_by_rule


def test_the_run_returns_a_result_that_serializes(result):
    from keyaudit.outcome import AuditResult

    assert isinstance(result, AuditResult)
    data = json.loads(result.model_dump_json())
    assert data["summary"]["run_id"] == result.run_id
    assert data["delivery"]["ok"] is True
    assert result.problems == [] and result.exit_code == 0
    assert AuditResult.model_validate_json(result.model_dump_json()) == result


def test_steps_run_in_order_through_the_steps_given(tmp_path: Path):
    from keyaudit.pipeline import AuditRequest, run_audit
    from tests.auditor.given import A, folder_of, report

    steps = RecordingSteps()
    request = AuditRequest(
        source="files",
        config_file=write_config(tmp_path / "keyaudit.toml", data_dir=tmp_path),
        files_dir=folder_of(tmp_path, {f"{A}.csv": report(A)}),
        as_of=AS_OF,
    )
    with stub_pdf():
        finished = run_audit(request, steps=steps)
    assert steps.called == ["read-files", "load", "report", "prepare-delivery", "deliver"]
    assert steps.results["load"].run_id == finished.result.run_id == finished.digest.run_id
    assert finished.result.exit_code == 0
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{6}", finished.result.run_id)  # new_run_id
    assert Path(steps.results["report"].html).is_file()
