"""Scale-out: the demo flow with collection on a Dask LocalCluster of 2 worker processes finds
exactly what the threads run finds. The workers reach the simulated organization through its
loopback front (keyaudit.sources.demo.served) and report to the harness's Prefect API server."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from flow_helpers import AS_OF, clean_aws_environment

from keyaudit.outcome import AuditResult


def findings(result: AuditResult) -> set[tuple]:
    con = duckdb.connect(result.warehouse, read_only=True)
    try:
        return set(
            con.execute(
                "select rule_id, severity, account_id, user_name, key_slot, access_key_id, reason "
                "from findings where run_id = ?",
                [result.run_id],
            ).fetchall()
        )
    finally:
        con.close()


def statuses(result: AuditResult) -> dict[str, tuple]:
    con = duckdb.connect(result.warehouse, read_only=True)
    try:
        rows = con.execute(
            "select account_id, status, error from accounts where run_id = ?", [result.run_id]
        ).fetchall()
    finally:
        con.close()
    return {r[0]: (r[1], r[2]) for r in rows}


def report_hashes(result: AuditResult) -> dict[str, str]:
    """Credential report hashes by account, from the run's evidence manifest."""
    manifest = json.loads((Path(result.evidence) / "manifest.json").read_text())
    return {
        f["path"].split("/")[0]: f["sha256"]
        for f in manifest["files"]
        if f["path"].endswith("/credential_report.csv")
    }


@pytest.fixture(scope="module")
def dask_run(prefect_harness, tmp_path_factory):
    from distributed import Client, LocalCluster

    from flows.audit import audit_flow

    folder = tmp_path_factory.mktemp("dask")
    monkey = pytest.MonkeyPatch()
    clean_aws_environment(monkey, folder)
    monkey.chdir(folder)
    try:
        with LocalCluster(
            n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None
        ) as cluster:
            (folder / "keyaudit.toml").write_text(
                f'[run]\ntask_runner = "dask"\ndask_address = "{cluster.scheduler_address}"\n'
            )
            result = audit_flow(
                source="demo",
                config_file="keyaudit.toml",
                as_of=AS_OF,
                db=str(folder / "w.duckdb"),
                out=str(folder / "out"),
            )
            with Client(cluster) as client:  # which worker processes made sessions for the run
                runs_by_worker = client.run(
                    lambda: list(__import__("keyaudit.sources.remote").sources.remote._by_run)
                )
    finally:
        monkey.undo()
    return result, runs_by_worker


def test_dask_run_finds_exactly_what_the_threads_run_finds(dask_run, threads_demo_run):
    result, _ = dask_run
    assert findings(result) == findings(threads_demo_run)
    assert len(findings(result)) == sum(threads_demo_run.summary.findings_by_rule.values())


def test_dask_run_assesses_the_same_accounts_with_the_same_errors(dask_run, threads_demo_run):
    result, _ = dask_run
    dask, threads = statuses(result), statuses(threads_demo_run)
    assert {a: s for a, (s, _) in dask.items()} == {a: s for a, (s, _) in threads.items()}
    # the error names the run's own role session, otherwise it is the same
    assert {a for a, (_, e) in dask.items() if e} == {a for a, (_, e) in threads.items() if e}


def test_workers_collect_byte_identical_credential_reports(dask_run, threads_demo_run):
    result, _ = dask_run
    assert report_hashes(result) == report_hashes(threads_demo_run)


def test_collection_ran_in_the_worker_processes(dask_run):
    result, runs_by_worker = dask_run
    assert len(runs_by_worker) == 2
    assert any(result.run_id in runs for runs in runs_by_worker.values())


def test_dask_without_a_prefect_api_server_is_refused_with_the_fix(monkeypatch):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.scale import ScaleOutError, dask_runner
    from keyaudit.config import RunConfig

    with (
        temporary_settings(restore_defaults={PREFECT_API_URL}),
        pytest.raises(ScaleOutError) as caught,
    ):
        dask_runner(RunConfig(task_runner="dask"))
    assert str(caught.value) == (
        'run.task_runner = "dask" needs a Prefect API server that the Dask workers can reach: '
        "start one with `prefect server start` and set "
        "PREFECT_API_URL=http://<this host>:4200/api (README, 'Scale-out on Dask')"
    )
