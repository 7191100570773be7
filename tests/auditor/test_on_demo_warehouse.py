"""On a real warehouse built by the pipeline: the shared demo run (tests/conftest.py), a run
from files, and the demo evidence re-evaluated a month later (loaded directly: no second report).
Every saved query runs, `keyaudit runs` lists the runs, an untouched run verifies, and the files
source goes through the same pipeline, rules and report as an API run."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from keyaudit.cli import app
from keyaudit.pipeline import AuditRequest, run_audit
from keyaudit.warehouse.load import RunSummary
from keyaudit.warehouse.saved_queries import list_saved
from tests.auditor.given import AS_OF, HEADER, A, B, access_keys, folder_of, report, root
from tests.runs import DemoRun, copy_run, isolated, stub_pdf

# slow end to end: `make test-slow` runs it, `make test` leaves it out, CI runs both
pytestmark = pytest.mark.slow

runner = CliRunner()

# Values for the parameters a saved query requires; optional ones keep their defaults.
SAMPLE_VALUES = {"region": "us-east-1", "service": "sts", "user": "svc-ingest", "seed": "FY2026"}


@pytest.fixture(scope="module")
def warehouse(demo_run: DemoRun, tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("demo-warehouse")
    demo = copy_run(demo_run, folder)
    db, evidence = demo.warehouse, demo.evidence_run_dir.parent  # its keyaudit.toml: the copy's
    handed_in = folder_of(
        folder,
        {
            f"{A}.csv": report(A),
            f"{A}.access_keys.json": json.dumps(access_keys()),
            f"{B}.csv": "\n".join([HEADER, root(B)[:40]]),
            "notes.txt": "from the account owners",
        },
    )
    runs: dict[str, Any] = {"earlier": demo_run.result}
    runs["later"] = _a_month_later(demo_run.result.run_id, evidence, db)
    with isolated(folder) as monkey, stub_pdf():
        monkey.chdir(folder)
        monkey.setenv("AWS_PROFILE", "no-such-profile")  # a files run never needs AWS
        # One of the two handed-in reports is malformed on purpose: accept 50% coverage so the
        # run returns its result instead of failing the coverage gate (tested in tests/flows).
        monkey.setenv("KEYAUDIT_RUN__MIN_COVERAGE", "0")
        runs["files"] = run_audit(
            AuditRequest(
                source="files",
                config_file=folder / "keyaudit.toml",
                files_dir=handed_in,
                as_of=AS_OF,
                db=db,
                out=folder / "o3",
            )
        ).result
    return {"db": db, "evidence": evidence, "runs": runs, "folder": folder}


def _a_month_later(earlier: str, evidence: Path, db: Path) -> RunSummary:
    """The same evidence audited 30 days later: nothing fixed, so keys age past thresholds."""
    from keyaudit.evidence.run_record import read_run_file, write_run_file
    from keyaudit.evidence.store import MANIFEST, EvidenceStore
    from keyaudit.rules.catalogue import load_catalogue
    from keyaudit.warehouse.db import connect
    from keyaudit.warehouse.load import load_run

    later = f"{earlier}-next"
    shutil.copytree(evidence / earlier, evidence / later)
    store = EvidenceStore(evidence, later)
    meta = read_run_file(store)
    meta.update(run_id=later, as_of=(AS_OF + timedelta(days=30)).isoformat())
    write_run_file(store, meta)
    (store.run_dir / MANIFEST).unlink()
    manifest_sha, _ = store.write_run_manifest()
    con = connect(db)
    try:
        return load_run(
            con,
            store,
            rules=load_catalogue(),
            finished_at=AS_OF + timedelta(days=30),
            manifest_sha256=manifest_sha,
        )
    finally:
        con.close()


def cli(warehouse: dict, *args: str):
    return runner.invoke(app, [args[0], "--db", str(warehouse["db"]), *args[1:]])


def run_id(warehouse: dict, name: str) -> str:
    return warehouse["runs"][name].run_id  # an AuditResult, or the later run's RunSummary


@pytest.mark.parametrize("saved", [q.name for q in list_saved()])
def test_every_saved_query_runs_on_the_demo_warehouse(warehouse: dict, saved: str):
    query = next(q for q in list_saved() if q.name == saved)
    params = [
        arg
        for p in query.params
        if p.required
        for arg in ("--param", f"{p.name}={SAMPLE_VALUES[p.name]}")
    ]
    if any(p.name == "run_id" for p in query.params):
        params += ["--param", f"run_id={run_id(warehouse, 'later')}"]
    result = cli(warehouse, "query", "--format", "json", "--file", saved, *params)
    assert result.exit_code == 0, result.output
    assert isinstance(json.loads(result.stdout), list)


@pytest.mark.parametrize(
    "saved",
    [
        "old_keys_by_account",
        "long_term_keys_by_account",
        "never_used_keys",
        "console_users_with_keys",
        "privileged_users",
        "accounts_not_assessed",
        "run_accounts",
        "open_findings_by_account",
        "evidence_files",
        "api_calls",
        "keys_used_in_region",
        "keys_used_by_service",
        "user_key_history",
        "runs",
    ],
)
def test_saved_queries_find_the_demo_organizations_problems(warehouse: dict, saved: str):
    query = next(q for q in list_saved() if q.name == saved)
    params = [
        arg
        for p in query.params
        if p.required
        for arg in ("--param", f"{p.name}={SAMPLE_VALUES[p.name]}")
    ]
    if any(p.name == "run_id" for p in query.params):
        params += ["--param", f"run_id={run_id(warehouse, 'later')}"]
    result = cli(warehouse, "query", "--format", "json", "--file", saved, *params)
    assert json.loads(result.stdout), f"{saved} found nothing in the demo organization"


def test_changes_between_runs_compares_the_latest_demo_run_with_the_one_before(warehouse: dict):
    result = cli(
        warehouse,
        "query",
        "--format",
        "json",
        "--file",
        "changes_between_runs",
        "--param",
        f"from_run={run_id(warehouse, 'earlier')}",
        "--param",
        f"to_run={run_id(warehouse, 'later')}",
    )
    assert result.exit_code == 0, result.output
    changes = json.loads(result.stdout)
    assert changes, "a month later, keys have aged past their limits"
    kinds = {row["change"] for row in changes}
    # recent-use findings (root used within a day) go away by themselves; keys only get older
    assert "new" in kinds and kinds <= {"new", "resolved"}


def test_runs_lists_every_run_with_source_coverage_and_severities(warehouse: dict):
    result = cli(warehouse, "runs", "--format", "json")
    assert result.exit_code == 0, result.output
    listed = {r["run_id"]: r for r in json.loads(result.stdout)}
    assert set(listed) == {run_id(warehouse, n) for n in ("earlier", "later", "files")}
    later = listed[run_id(warehouse, "earlier")]
    summary = warehouse["runs"]["earlier"].summary
    assert later["source"] == "demo"
    assert later["accounts_in_scope"] == summary.accounts_in_scope
    assert later["critical"] == summary.findings_by_severity.get("critical", 0)
    assert later["high"] == summary.findings_by_severity.get("high", 0)
    files = listed[run_id(warehouse, "files")]
    assert (files["source"], files["scope"], files["coverage_pct"]) == ("files", "files", 50.0)


def test_runs_table_is_readable(warehouse: dict):
    result = cli(warehouse, "runs")
    assert result.exit_code == 0
    header = result.stdout.splitlines()[0].split()  # 100 columns: the rest with --format json
    assert header == [
        "run_id",
        "as_of",
        "source",
        "status",
        "assessed",
        "crit",
        "high",
        "med",
        "low",
    ]


def test_untouched_demo_run_verifies(warehouse: dict):
    result = cli(
        warehouse, "verify", run_id(warehouse, "earlier"), "--evidence", str(warehouse["evidence"])
    )
    assert result.exit_code == 0, result.output
    assert "evidence verified" in result.stdout


def test_files_run_goes_through_the_same_flow_rules_and_report(warehouse: dict):
    result = warehouse["runs"]["files"]
    summary = result.summary
    assert (summary.accounts_in_scope, summary.accounts_fully_assessed) == (2, 1)
    assert summary.findings_by_rule["ACCESS_KEY_NOT_ROTATED"] >= 1
    assert summary.findings_by_rule["ACCOUNT_NOT_ASSESSED"] == 1
    assert Path(result.html).exists() and Path(result.pdf).exists()
    meta = json.loads((Path(result.evidence) / "run.json").read_text())
    assert (meta["source"], meta["scope"]) == ("files", "files")
    assert {f["name"]: f["status"] for f in meta["files"]} == {
        f"{A}.csv": "assessed",
        f"{A}.access_keys.json": "used",
        f"{B}.csv": "not_assessed",
        "notes.txt": "ignored",
    }


def test_files_run_verifies_and_lists_its_input_files(warehouse: dict):
    files_run = run_id(warehouse, "files")
    result = cli(warehouse, "verify", files_run, "--evidence", str(warehouse["evidence"]))
    assert result.exit_code == 0, result.output
    listed = cli(
        warehouse,
        "query",
        "--format",
        "json",
        "--file",
        "input_files",
        "--param",
        f"run_id={files_run}",
    )
    assert [r["file_name"] for r in json.loads(listed.stdout)] == [
        f"{A}.access_keys.json",
        f"{A}.csv",
        f"{B}.csv",
        "notes.txt",
    ]


def test_long_term_keys_by_account_ranks_assessed_accounts_and_never_hides_the_others(
    warehouse: dict,
):
    later = run_id(warehouse, "later")
    result = cli(warehouse, "query", "--format", "json", "--file",
                 "long_term_keys_by_account", "--param", f"run_id={later}",
                 "--param", "limit=2")  # fmt: skip
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    ranked = [r for r in found if r["rank"] is not None]
    assert [r["rank"] for r in ranked] == [1, 2]
    assert ranked[0]["count_active_keys"] >= ranked[1]["count_active_keys"] > 0
    unranked = [r for r in found if r["rank"] is None]
    assert unranked, "the demo organization has an account the audit cannot assess"
    assert all(r["account_status"] == "not_assessed" for r in unranked)
    assert all(r["count_active_keys"] is None and not r["has_no_active_user_keys"]
               for r in unranked)  # fmt: skip
