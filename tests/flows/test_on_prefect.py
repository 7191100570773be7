"""The few tests whose subject is Prefect, all on one temporary Prefect API (`prefect_harness`).

`keyaudit demo --prefect` runs the flow (flows/audit.py) and `keyaudit demo` the pipeline in this
process, on the same organization with the same keyaudit.toml: a coverage minimum the demo misses
(8 of 9 accounts) and e-mail delivery to a loopback SMTP server. Both must give the same findings,
warehouse rows, report content and exit. Prefect must see a Failed run with both artifacts and
hold no assumed-role secret; discovery is retried by Prefect only when AWS throttles; collection
on Dask workers finds what collection on threads finds; the flow called as a deployment calls it
collects on collection.concurrency threads and its keyaudit log lines reach the run's log;
prefect.yaml's deployment registers, one run at a time.
The report's PDF layout is not under test here (tests.runs.stub_pdf).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import pytest
from botocore.exceptions import ClientError
from click.testing import Result
from typer.testing import CliRunner

from keyaudit.cli import app
from keyaudit.config import Config
from keyaudit.sources.aws.errors import CollectionError
from tests.delivery.smtp_server import PASSWORD, USER, make_certificate, smtp_server
from tests.runs import AS_OF, isolated, process_state, stub_pdf
from tests.security.watch import SecretWatch

pytestmark = pytest.mark.filterwarnings("ignore:Session.login_data is deprecated")
# slow end to end: `make test-slow` runs it, `make test` leaves it out, CI runs both
pytestmark = [pytestmark, pytest.mark.slow]
runner = CliRunner()
COMPLIANCE = "grc@example.com"


@dataclass
class Demo:
    """`keyaudit demo` run in `folder` (its data/ there), and what the SMTP server received."""

    folder: Path
    cli: Result
    messages: list[Any]
    watch: SecretWatch

    @property
    def run_id(self) -> str:
        (run_dir,) = (self.folder / "data" / "reports").iterdir()
        return run_dir.name

    @property
    def warehouse(self) -> Path:
        return self.folder / "data" / "keyaudit.duckdb"

    @property
    def evidence(self) -> Path:
        return self.folder / "data" / "evidence" / self.run_id

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """`sql` on this run (`?` is its run id), run ids in the values written as RUN."""
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            rows = con.execute(sql, [self.run_id]).fetchall()
        finally:
            con.close()
        found = json.loads(json.dumps(rows, default=str).replace(self.run_id, "RUN"))
        return sorted(found, key=json.dumps)  # rows may hold nulls (run-level API calls)

    def report_file(self, name: str) -> str:
        text = (self.folder / "data" / "reports" / self.run_id / name).read_text(encoding="utf-8")
        return text.replace(self.run_id, "RUN")


def demo(folder: Path, *args: str) -> Demo:
    """`keyaudit demo --as-of AS_OF [args]` with the strict configuration, in `folder`."""
    cert = make_certificate(folder)
    watch = SecretWatch()
    with (
        isolated(folder) as monkey,
        process_state(),
        stub_pdf(),
        smtp_server(cert) as server,
        watch.on(monkey),
    ):
        monkey.chdir(folder)
        monkey.setenv("SMTP_USERNAME", USER)
        monkey.setenv("SMTP_PASSWORD", PASSWORD)
        (folder / "keyaudit.toml").write_text(
            "[run]\nmin_coverage = 0.95\n"
            "[delivery]\nbackoff_seconds = 0\n"
            "[delivery.email]\n"
            f'smtp_host = "127.0.0.1"\nsmtp_port = {server.port}\nca_file = "{cert[0]}"\n'
            f'sender = "keyaudit@example.com"\ncompliance = ["{COMPLIANCE}"]\n',
            encoding="utf-8",
        )
        result = runner.invoke(app, ["demo", "--as-of", AS_OF.isoformat(), *args])
    return Demo(folder, result, server.recorder.messages, watch)


@pytest.fixture(scope="module")
def in_process(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return demo(tmp_path_factory.mktemp("in-process"))


@pytest.fixture(scope="module")
def on_prefect(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return demo(tmp_path_factory.mktemp("on-prefect"), "--prefect")


@pytest.fixture(params=["in_process", "on_prefect"])
def either(request: pytest.FixtureRequest) -> Demo:
    return request.getfixturevalue(request.param)


# --------------------------------------------------------------------------- the same run


def test_flow_and_pipeline_give_the_same_findings_accounts_and_keys(in_process, on_prefect):
    for table in ("findings", "accounts", "access_keys", "credential_report", "api_calls"):
        sql = f"select * exclude (run_id) from {table} where run_id = ?"
        assert on_prefect.rows(sql) == in_process.rows(sql), table
    # the same evidence files; the credential reports byte for byte (other answers carry
    # request ids, run.json the start time)
    files = "select path, kind, if(kind = 'credential_report', sha256, '') from evidence where run_id = ?"
    assert on_prefect.rows(files) == in_process.rows(files)
    assert len(in_process.rows("select * from findings where run_id = ?")) > 100
    runs = (
        "select source, scope, as_of, status, accounts_in_scope, accounts_assessed, "
        "accounts_not_assessed, accounts_skipped, caller_arn, organization_id "
        "from runs where run_id = ?"
    )
    assert on_prefect.rows(runs) == in_process.rows(runs)


def test_flow_and_pipeline_write_the_same_report_content(in_process, on_prefect):
    for name in ("findings.json", "findings.csv", "findings.ocsf.jsonl"):
        flow_text, local_text = on_prefect.report_file(name), in_process.report_file(name)
        if name.endswith(".jsonl"):  # each event carries the time it was written
            flow_text, local_text = (_without_times(t) for t in (flow_text, local_text))
        assert flow_text == local_text, name
    assert json.loads(in_process.report_file("findings.json"))["run"]["findings"] > 100


def _without_times(jsonl: str) -> list[Any]:
    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k not in ("time", "time_dt")}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return [strip(json.loads(line)) for line in jsonl.splitlines() if line.strip()]


def test_the_first_progress_line_says_where_the_audit_runs(in_process, on_prefect):
    assert in_process.cli.stderr.startswith(
        "keyaudit: auditing (demo) in this process (set PREFECT_API_URL or pass --prefect to "
        "run it as a Prefect flow) …\n"
    )
    assert on_prefect.cli.stderr.startswith(
        "keyaudit: auditing (demo) as a Prefect flow on a temporary local Prefect server …\n"
    )


# --------------------------------------------------------------------------- how the run ends


def test_run_below_minimum_coverage_exits_3_with_one_line_after_the_summary(either):
    result = either.cli
    assert result.exit_code == 3, result.output
    error_lines = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(error_lines) == 1
    assert error_lines[0].startswith(f"keyaudit: error: run {either.run_id}: coverage 88.9%")
    assert (
        ": coverage 88.9% (8 of 9 accounts in scope assessed) is below run.min_coverage 95% — "
        "the report, marked INCOMPLETE, is "
    ) in error_lines[0]
    assert error_lines[0].endswith(
        "/report.html; fix the accounts it lists as not assessed, then rerun"
    )
    assert "INCOMPLETE: 1 account could not be assessed" in result.stdout
    assert "e-mails: 10 of 10 delivered" in result.stdout


def test_report_of_an_incomplete_run_is_still_written_and_delivered(either):
    run_dir = either.folder / "data" / "reports" / either.run_id
    assert (run_dir / "report.pdf").is_file() and (run_dir / "evidence-manifest.json").is_file()
    subjects = {m.rcpt_tos[0]: m.message["Subject"] for m in either.messages}
    assert subjects[COMPLIANCE].endswith("8 of 9 accounts assessed — INCOMPLETE")
    # the compliance list, the demo's four account owners and each person who owns keys by a
    # user tag or a key description (issue 22.2) without owning an account
    key_owners = {
        owner
        for (owner,) in either.rows(
            "select distinct owner from key_owners where run_id = ? and owner_source in "
            "('user_tag', 'key_description')"
        )
    }
    assert len(key_owners - set(subjects)) == 0 and len(key_owners) == 5
    assert len(subjects) == 1 + 4 + 5


def _flow_run(run_id: str) -> Any:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        flow_runs = client.read_flow_runs(limit=50)
    (flow_run,) = [r for r in flow_runs if r.state and run_id in (r.state.message or "")]
    return flow_run


def test_prefect_sees_a_failed_run_with_the_message_and_both_artifacts(on_prefect):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    run_id = on_prefect.run_id
    flow_run = _flow_run(run_id)
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["keyaudit-run"]))
        )
        tables = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["keyaudit-accounts"]))
        )
    assert flow_run.state.is_failed()
    assert flow_run.state.message.startswith(f"run {run_id}: coverage 88.9%")
    markdown = next(a.data for a in artifacts if run_id in a.data)
    assert "**INCOMPLETE**" in markdown and "| 9 | 8 | 0 | 1 | 1 | 88.9% | 95% |" in markdown
    assert "## Problems" in markdown and "e-mails: 10 of 10 delivered" in markdown
    table = next(a for a in tables if run_id in (a.description or ""))
    rows = json.loads(table.data)  # the API keeps a table as JSON text
    assert len(rows) == 10 and {"account", "status", "open", "critical"} <= set(rows[0])


def test_no_prefect_record_of_the_run_holds_an_assumed_role_secret(on_prefect):
    """Logs, artifacts, parameters, task runs and persisted results (tests/security checks the
    run's own files and log lines)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterId,
        LogFilter,
        LogFilterFlowRunId,
    )
    from prefect.settings import PREFECT_LOCAL_STORAGE_PATH

    watch = on_prefect.watch
    assert len(watch.secrets) >= 2 * 7  # a secret key and a session token per reachable member
    flow_run_id = _flow_run(on_prefect.run_id).id
    runs = FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
    with get_client(sync_client=True) as client:
        logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
        artifacts = client.read_artifacts(flow_run_filter=runs)
        flow_run = client.read_flow_run(flow_run_id)
        task_runs = client.read_task_runs(flow_run_filter=runs)
    records = [
        *(log.message for log in logs),
        *(a.model_dump_json() for a in artifacts),
        flow_run.model_dump_json(),
        *(t.model_dump_json() for t in task_runs),
    ]
    assert artifacts and len(task_runs) >= 10  # discover, a collect per account, load, …
    assert not watch.leaked("\n".join(records)), "assumed-role secrets in Prefect's records"
    storage = Path(PREFECT_LOCAL_STORAGE_PATH.value()).expanduser()
    if storage.is_dir():  # results persisted by Prefect, if any
        for path in (p for p in storage.rglob("*") if p.is_file()):
            assert not watch.leaked(path.read_bytes()), f"assumed-role secrets in {path}"


# --------------------------------------------------------------------------- retries


class Sessions:
    """Just enough of AccountSessions for discovery.mode = caller: fails with `errors` first."""

    def __init__(self, errors: list[Exception]) -> None:
        self.errors, self.calls = errors, 0

    def caller_identity(self) -> dict[str, str]:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return {"account_id": "111122223333", "arn": "arn:aws:iam::111122223333:user/audit"}


def collection_error(code: str) -> CollectionError:
    error = ClientError({"Error": {"Code": code, "Message": "no"}}, "ListAccounts")
    try:
        raise CollectionError(f"{code} on organizations:ListAccounts") from error
    except CollectionError as exc:
        return exc


def discover_with(sessions: Sessions) -> Any:
    """The flow's discover task (its retry options, without the waits) in a flow of its own."""
    from prefect import flow

    from keyaudit.flows.audit import TASKS
    from keyaudit.pipeline import discover_accounts

    plan = SimpleNamespace(config=Config.model_validate({"discovery": {"mode": "caller"}}))
    source = SimpleNamespace(sessions=sessions)

    @flow
    def just_discover() -> Any:
        quick = TASKS[discover_accounts].with_options(
            retry_delay_seconds=0, retry_jitter_factor=None
        )
        return quick(plan, source)

    return just_discover(return_state=True)


def test_discovery_is_retried_when_aws_throttles(prefect_harness):
    sessions = Sessions([collection_error("TooManyRequestsException")] * 2)
    state = discover_with(sessions)
    assert state.is_completed() and sessions.calls == 3
    assert state.result().caller_account_id == "111122223333"


def test_discovery_is_not_retried_when_access_is_denied(prefect_harness):
    sessions = Sessions([collection_error("AccessDenied")])
    state = discover_with(sessions)
    assert state.is_failed() and sessions.calls == 1


# --------------------------------------------------------------------------- Dask


@pytest.fixture(scope="module")
def dask_run(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The demo flow with collection on a Dask LocalCluster of 2 worker processes: they reach the
    simulated organization through its loopback front (keyaudit.sources.demo.served) and report
    to the harness's Prefect API server."""
    from distributed import Client, LocalCluster

    from keyaudit.flows.audit import audit_flow

    folder = tmp_path_factory.mktemp("dask")
    with isolated(folder) as monkey, process_state(), stub_pdf():
        monkey.chdir(folder)
        with LocalCluster(
            n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None
        ) as cluster:
            (folder / "keyaudit.toml").write_text(
                f'[run]\ntask_runner = "dask"\ndask_address = "{cluster.scheduler_address}"\n'
            )
            result = audit_flow(source="demo", config_file="keyaudit.toml", as_of=AS_OF)
            with Client(cluster) as client:  # which worker processes made sessions for the run
                runs_by_worker = client.run(
                    lambda: list(__import__("keyaudit.sources.remote").sources.remote._by_run)
                )
    yield SimpleNamespace(result=result, runs_by_worker=runs_by_worker, folder=folder)


def _dask_demo(dask_run: Any) -> Demo:
    return Demo(dask_run.folder, None, [], SecretWatch())  # type: ignore[arg-type]


def test_dask_run_finds_exactly_what_the_threads_run_finds(dask_run, in_process):
    sql = (
        "select rule_id, severity, account_id, user_name, key_slot, access_key_id, reason "
        "from findings where run_id = ?"
    )
    dask = _dask_demo(dask_run)
    assert dask.rows(sql) == in_process.rows(sql)
    assert len(dask.rows(sql)) == sum(dask_run.result.summary.findings_by_rule.values())


def test_dask_run_assesses_the_same_accounts_with_the_same_errors(dask_run, in_process):
    sql = "select account_id, status, error is not null from accounts where run_id = ?"
    assert _dask_demo(dask_run).rows(sql) == in_process.rows(sql)


def test_workers_collect_byte_identical_credential_reports(dask_run, in_process):
    sql = "select path, sha256 from evidence where run_id = ? and kind = 'credential_report'"
    assert _dask_demo(dask_run).rows(sql) == in_process.rows(sql)
    assert len(in_process.rows(sql)) == 8


def test_collection_ran_in_the_worker_processes(dask_run):
    assert len(dask_run.runs_by_worker) == 2
    assert any(dask_run.result.run_id in runs for runs in dask_run.runs_by_worker.values())


# --------------------------------------------------------------------------- as a deployment runs it

CONCURRENCY = 3  # not the default (8), the size an import-time pool used to keep


class CollectGate:
    """Around CollectJob.collect: counts the collections in flight and their threads, and holds
    each until `size` are in flight at once (or `timeout` passes), so a pool of `size` threads
    must run them side by side and a larger one shows more than `size` in flight."""

    def __init__(self, size: int, timeout: float = 60.0) -> None:
        self.size, self.timeout = size, timeout
        self.lock = threading.Lock()
        self.full = threading.Event()
        self.in_flight = self.peak = 0
        self.threads: set[int] = set()

    def around(self, collect: Any) -> Any:
        def gated(job: Any, account: Any) -> Any:
            with self.lock:
                self.in_flight += 1
                self.peak = max(self.peak, self.in_flight)
                self.threads.add(threading.get_ident())
                if self.in_flight >= self.size:
                    self.full.set()
            try:
                self.full.wait(self.timeout)
                return collect(job, account)
            finally:
                with self.lock:
                    self.in_flight -= 1

        return gated


@pytest.fixture(scope="module")
def deployed_run(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The flow function called with parameters, as a deployment's run calls it: no CLI, so
    no progress handler, no level on keyaudit's logger and no Prefect defaults set by keyaudit;
    collection.concurrency = CONCURRENCY in the run's keyaudit.toml."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.logging.handlers import APILogHandler

    from keyaudit.flows.audit import audit_flow
    from keyaudit.pipeline import CollectJob

    folder = tmp_path_factory.mktemp("deployed")
    gate = CollectGate(CONCURRENCY)
    logger = logging.getLogger("keyaudit")
    with isolated(folder) as monkey, process_state(), stub_pdf():
        monkey.chdir(folder)
        monkey.setattr(logger, "handlers", [])
        monkey.setattr(logger, "level", logging.NOTSET)
        monkey.setattr(logger, "propagate", True)
        monkey.delenv("PREFECT_LOGGING_EXTRA_LOGGERS", raising=False)
        monkey.setattr(CollectJob, "collect", gate.around(CollectJob.collect))
        (folder / "keyaudit.toml").write_text(f"[collection]\nconcurrency = {CONCURRENCY}\n")
        state = audit_flow(
            source="demo", config_file="keyaudit.toml", as_of=AS_OF, return_state=True
        )
    APILogHandler().flush()  # the run's log lines are sent in batches
    flow_run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
    return SimpleNamespace(state=state, gate=gate, logs=logs)


def test_collection_runs_on_a_pool_of_collection_concurrency_threads_in_a_deployment(
    deployed_run,
):
    assert deployed_run.state.is_completed(), deployed_run.state.message
    assert deployed_run.gate.peak == CONCURRENCY
    assert len(deployed_run.gate.threads) == CONCURRENCY


def test_keyaudits_log_lines_reach_the_prefect_run_log_once_in_a_deployment(deployed_run):
    lines = [
        (log.name, log.message) for log in deployed_run.logs if log.name.startswith("keyaudit")
    ]
    (scope,) = [m for name, m in lines if name == "keyaudit.run" and "collecting" in m]
    assert scope.endswith(f"collecting 9 with concurrency {CONCURRENCY}")
    assert len(lines) == len(set(lines))


# --------------------------------------------------------------------------- the deployment


def test_the_deployment_registers_with_a_prefect_server(prefect_harness):
    from prefect.client.orchestration import get_client

    from keyaudit.flows.audit import audit_flow
    from keyaudit.flows.deployment import load_spec

    deployment_id = load_spec().to_deployment(audit_flow).apply()
    with get_client(sync_client=True) as client:
        stored = client.read_deployment(deployment_id)
    assert stored.name == "monthly-audit"
    assert stored.parameters == {"source": "aws", "config_file": "keyaudit.toml"}
    assert stored.enforce_parameter_schema is True
    assert stored.parameter_openapi_schema["properties"]["config_file"]
    (schedule,) = stored.schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 6 1 * *", "UTC")
    assert stored.global_concurrency_limit.limit == 1  # one run at a time; the next waits
    assert stored.concurrency_options.collision_strategy == "ENQUEUE"
