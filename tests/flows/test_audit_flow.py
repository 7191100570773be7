"""The whole pipeline on the simulated organization: the audit finds exactly its ground truth."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from pypdf import PdfReader

from keyaudit.rules.catalogue import load_catalogue
from keyaudit.sources.demo import simulated_organization

AS_OF = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
FIRST_RULES = {rule.rule_id for rule in load_catalogue()}  # the full catalogue


@pytest.fixture(scope="module")
def demo_run(threads_demo_run):
    return threads_demo_run


@pytest.fixture(scope="module")
def truth() -> frozenset:
    with simulated_organization(AS_OF) as org:
        return org.expected


def _found(result: dict) -> set[tuple]:
    con = duckdb.connect(result["warehouse"], read_only=True)
    rows = con.execute(
        "select rule_id, account_id, user_name, key_slot, access_key_id from findings where run_id = ?",
        [result["summary"]["run_id"]],
    ).fetchall()
    con.close()
    return {tuple(r) for r in rows}


def test_audit_finds_exactly_the_ground_truth(demo_run, truth):
    expected = {(f.rule_id, f.account_id, f.user_name, f.key_slot, f.access_key_id) for f in truth}
    found = {f for f in _found(demo_run) if f[0] in FIRST_RULES}
    assert found - expected == set(), "findings the simulation did not plant"
    assert expected - found == set(), "planted findings the audit missed"


def test_every_first_rule_fires_in_the_demo(demo_run):
    assert set(demo_run["summary"]["findings_by_rule"]) >= FIRST_RULES


def test_missing_role_account_is_not_assessed_with_the_error(demo_run):
    con = duckdb.connect(demo_run["warehouse"], read_only=True)
    rows = con.execute(
        "select account_id, error from accounts where status = 'not_assessed'"
    ).fetchall()
    con.close()
    assert len(rows) == 1
    assert "AccessDenied on sts:AssumeRole" in rows[0][1]
    assert "OrganizationAccountAccessRole" in rows[0][1]


def test_suspended_account_is_skipped_not_assessed(demo_run):
    summary = demo_run["summary"]
    assert summary["accounts_skipped"] == 1
    assert summary["accounts_assessed"] == summary["accounts_in_scope"] - 1


def test_report_files_are_written_and_the_pdf_reads_back(demo_run):
    pdf = PdfReader(demo_run["pdf"])
    text = "\n".join(page.extract_text() for page in pdf.pages)
    assert len(pdf.pages) >= 2
    assert demo_run["summary"]["run_id"] in text
    assert Path(demo_run["html"]).read_text().startswith("<!DOCTYPE html>")


def test_evidence_manifest_matches_the_warehouse(demo_run):
    manifest = json.loads((Path(demo_run["evidence"]) / "manifest.json").read_text())
    con = duckdb.connect(demo_run["warehouse"], read_only=True)
    stored = dict(con.execute("select path, sha256 from evidence").fetchall())
    con.close()
    assert stored == {f["path"]: f["sha256"] for f in manifest["files"]}
    assert any(p.endswith("credential_report.csv") for p in stored)


def test_reloading_a_run_replaces_it_without_duplicates(demo_run):
    from keyaudit.evidence.store import EvidenceStore
    from keyaudit.rules.catalogue import load_catalogue
    from keyaudit.warehouse.db import connect
    from keyaudit.warehouse.load import load_run

    run_id = demo_run["summary"]["run_id"]
    con = connect(demo_run["warehouse"])
    before = con.execute("select count(*) from findings").fetchone()[0]
    store = EvidenceStore(Path(demo_run.evidence).parent, run_id)
    summary = load_run(con, store, rules=load_catalogue(), finished_at=AS_OF, manifest_sha256=None)
    counts = {
        t: con.execute(f"select count(*) from {t}").fetchone()[0]
        for t in ("runs", "accounts", "findings")
    }
    con.close()
    assert counts["findings"] == before
    assert counts["runs"] == 1
    assert summary.findings_by_rule == demo_run["summary"]["findings_by_rule"]


def test_flow_returns_a_summary_object_that_serializes(demo_run):
    from keyaudit.outcome import AuditResult

    assert isinstance(demo_run, AuditResult)
    data = json.loads(demo_run.model_dump_json())
    assert data["summary"]["run_id"] == demo_run.run_id
    assert data["delivery"]["ok"] is True
    assert demo_run.problems == [] and demo_run.exit_code == 0
    assert AuditResult.model_validate_json(demo_run.model_dump_json()) == demo_run
