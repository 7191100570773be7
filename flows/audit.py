"""The monthly audit as a Prefect flow: keyaudit's one pipeline, each step a Prefect task.

discover → SCPs (once per run) → collect (one task per account, on threads or on Dask workers) →
load and evaluate (one writer) → report → prepare delivery → deliver. The order lives in
`keyaudit.pipeline`; this module only says how each step runs under Prefect: names, retries,
artifacts, a Failed state.

Prefect retries (`only_throttling_or_5xx`) sit on the tasks that call AWS and fire only for
throttling, 5xx and dropped connections, after botocore's own retries. Collecting an account never
raises — a throttled account ends as a not-assessed outcome within its deadline — so in practice
that is discovery. Delivery retries inside keyaudit.delivery, per file and per message, so a retry
never re-sends what went out.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.states import Failed, State
from prefect.task_runners import ThreadPoolTaskRunner

from keyaudit import pipeline
from keyaudit.flows import artifacts
from keyaudit.flows.logs import keyaudit_logs_to_prefect
from keyaudit.flows.scale import AWS_TASK, collect_on_dask
from keyaudit.model import Account, AccountOutcome, utc_instant
from keyaudit.outcome import AuditResult, IncompleteRun
from keyaudit.safefile import owner_only_umask

T = TypeVar("T")

LOCAL: dict[str, Any] = {"cache_policy": NO_CACHE}


def _task(fn: Callable[..., Any], options: dict[str, Any]) -> Any:
    return task(name=pipeline.step_name(fn), **options)(fn)


# One task per pipeline step, keyed by the step's function (pipeline.STEPS): a step without a task
# here is refused, never run bare. Planning and collection's mapping run in the flow itself.
TASKS: dict[Callable[..., Any], Any] = {
    pipeline.read_files: _task(pipeline.read_files, LOCAL),
    pipeline.discover_accounts: _task(pipeline.discover_accounts, AWS_TASK),
    pipeline.collect_scps: _task(pipeline.collect_scps, AWS_TASK),
    pipeline.load_and_evaluate: _task(pipeline.load_and_evaluate, LOCAL),
    pipeline.write_report: _task(pipeline.write_report, LOCAL),
    pipeline.prepare_delivery: _task(pipeline.prepare_delivery, LOCAL),
    pipeline.deliver: _task(pipeline.deliver, LOCAL),
}


@task(name="collect", task_run_name="collect {account.account_id}", **AWS_TASK)
def collect_task(job: pipeline.CollectJob, account: Account) -> AccountOutcome:
    """Collect one account's credentials into the evidence store."""
    return job.collect(account)


class PrefectSteps:
    """The pipeline's steps as Prefect tasks; accounts on a pool of collection.concurrency
    threads built for each run from its configuration (a task_runner on the @flow decorator would
    be sized once, at import), or on the Dask cluster (run.task_runner = "dask")."""

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        step = TASKS.get(fn)
        if step is None:
            raise pipeline.UnknownStepError(
                f"pipeline step {pipeline.step_name(fn)} has no Prefect task — add it to "
                "flows/audit.py TASKS"
            )
        result: T = step(*args)
        return result

    def collect(
        self, job: pipeline.CollectJob, accounts: Sequence[Account]
    ) -> list[AccountOutcome]:
        if job.run.task_runner == "dask":
            return collect_on_dask(job, accounts)
        with ThreadPoolTaskRunner(max_workers=job.concurrency) as runner:  # type: ignore[var-annotated]
            futures = [
                runner.submit(collect_task, parameters={"job": job, "account": a}) for a in accounts
            ]
            return [future.result() for future in futures]


@flow(name="keyaudit-audit", validate_parameters=True)
def audit_flow(
    source: Literal["aws", "demo", "files"] = "aws",
    config_file: str | None = None,
    as_of: datetime | None = None,
    db: str | None = None,
    out: str | None = None,
    run_id: str | None = None,
    files_dir: str | None = None,
    resume: str | None = None,
) -> AuditResult | State[Any]:
    """Audit every account in scope, write the warehouse run and the report, and deliver it.

    source "files" audits the credential reports in `files_dir` instead of calling AWS.
    `resume=RUN_ID` finishes an interrupted run from its evidence (see keyaudit.integrity.resume):
    it keeps the run's recorded source, as_of and rule settings and collects only unfinished
    accounts. An `as_of` without a time zone is UTC, as on the command line (utc_instant)."""
    owner_only_umask()  # a deployment's run starts here, not in the CLI
    request = pipeline.AuditRequest(
        source=source,
        config_file=Path(config_file) if config_file else None,
        as_of=utc_instant(as_of) if as_of is not None else None,
        db=Path(db) if db else None,
        out=Path(out) if out else None,
        run_id=run_id,
        files_dir=Path(files_dir) if files_dir else None,
        resume=resume,
    )
    with keyaudit_logs_to_prefect():  # not only where the CLI set up keyaudit's logging
        finished = pipeline.run_audit(request, steps=PrefectSteps())
    artifacts.publish(finished.digest, finished.result)
    if finished.result.problems:  # a Failed state, not a raise: the run's end is no traceback
        error = IncompleteRun(finished.result)
        return Failed(message=str(error), data=error)
    return finished.result


# `flow.serve` runs pickle the flow function by value, and its copy of the module's globals
# keeps only names the code uses: pydantic could no longer resolve annotation-only names such as
# Literal when it validates the parameters. Resolved annotations travel with the function.
audit_flow.fn.__annotations__ = typing.get_type_hints(audit_flow.fn)
