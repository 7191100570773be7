"""Scale-out: collection on the workers of a Dask cluster (run.task_runner = "dask").

Only collection leaves the flow's machine. Each account is one Prefect task on a Dask worker;
it receives the account, a WorkerSessions recipe (no credentials), the evidence folder's path and
the collection settings, writes the evidence into that folder (shared storage) and returns the
small AccountOutcome. Discovery, the single DuckDB writer, the report and the delivery stay here.
Process workers report their task runs to the Prefect API themselves, so a real API server
reachable from the workers is required (PREFECT_API_URL); the temporary one a plain flow run
starts cannot serve them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import TaskRun
from prefect.settings import get_current_settings
from prefect.states import State
from prefect.task_runners import TaskRunner

from keyaudit.config import ConfigError, RunConfig
from keyaudit.model import Account, AccountOutcome
from keyaudit.pipeline import CollectJob
from keyaudit.sources.aws.collect import CollectSettings
from keyaudit.sources.aws.errors import is_retryable
from keyaudit.sources.remote import WorkerSessions, collect_on_worker, missing_evidence

log = logging.getLogger("keyaudit.flow")

# Prefect-level retries of tasks that call AWS: only when an error AWS may stop sending
# (throttling, 5xx, a dropped connection) escapes the task, after botocore's own retries.
AWS_RETRIES = 2
AWS_RETRY_DELAYS = [30.0, 120.0]
AWS_RETRY_JITTER = 0.5  # each delay varies by ±50 %, so retries do not march in step


class ScaleOutError(ConfigError):
    """The Dask setup cannot work as configured; the message names the fix."""


def only_throttling_or_5xx(task: object, task_run: TaskRun, state: State) -> bool:
    """retry_condition_fn: retry when the failure, or what caused it, is worth another try."""
    error = state.result(raise_on_failure=False)
    seen: set[int] = set()
    while isinstance(error, BaseException) and id(error) not in seen:
        if is_retryable(error):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


# Options of every task that calls AWS: retried only for what AWS may stop answering.
AWS_TASK: dict[str, Any] = {
    "cache_policy": NO_CACHE,
    "retries": AWS_RETRIES,
    "retry_delay_seconds": AWS_RETRY_DELAYS,
    "retry_jitter_factor": AWS_RETRY_JITTER,
    "retry_condition_fn": only_throttling_or_5xx,
}


@task(name="collect", task_run_name="collect {account.account_id}", **AWS_TASK)
def collect_remote_task(
    account: Account,
    recipe: WorkerSessions,
    evidence_root: str,
    is_caller_account: bool,
    settings: CollectSettings,
) -> AccountOutcome:
    """Collect one account on a Dask worker into the shared evidence folder."""
    return collect_on_worker(account, recipe, evidence_root, is_caller_account, settings)


def require_api_server() -> None:
    """Dask worker processes report to the Prefect API: a temporary in-process one cannot do."""
    if not get_current_settings().api.url:
        raise ScaleOutError(
            'run.task_runner = "dask" needs a Prefect API server that the Dask workers can '
            "reach: start one with `prefect server start` and set "
            "PREFECT_API_URL=http://<this host>:4200/api (README, 'Scale-out on Dask')"
        )


def dask_runner(run: RunConfig) -> TaskRunner:
    """The DaskTaskRunner of the configured cluster, or of a temporary local one."""
    require_api_server()
    from prefect_dask import DaskTaskRunner

    if run.dask_address:
        return DaskTaskRunner(address=run.dask_address)
    return DaskTaskRunner(cluster_kwargs={"processes": True, "dashboard_address": None})


def collect_on_dask(job: CollectJob, accounts: Sequence[Account]) -> list[AccountOutcome]:
    """Collect `accounts` on the cluster; accounts whose task failed are left to the loader,
    which records them as not assessed ("collection did not finish")."""
    recipe, store = job.source.remote, job.store
    if recipe is None:
        raise ScaleOutError(
            "this run's source cannot be collected on Dask workers — "
            'use run.task_runner = "threads"'
        )
    evidence_root = str(Path(store.root).resolve())
    outcomes: list[AccountOutcome] = []
    with dask_runner(job.run) as runner:
        futures = [
            runner.submit(
                collect_remote_task,
                parameters={
                    "account": account,
                    "recipe": recipe,
                    "evidence_root": evidence_root,
                    "is_caller_account": account.account_id == job.caller_account_id,
                    "settings": job.settings,
                },
            )
            for account in accounts
        ]
        for account, future in zip(accounts, futures, strict=True):
            future.wait()
            if future.state.is_completed():
                outcome = future.result()
                outcomes.append(outcome)
                log.info(
                    "collected %s on a Dask worker: %s%s",
                    outcome.account_id,
                    outcome.status,
                    f" — {outcome.error}" if outcome.error else "",
                )
            else:
                log.warning(
                    "account %s: collection on a Dask worker failed: %s",
                    account.account_id,
                    future.state.message,
                )
    missing = missing_evidence(Path(evidence_root), store.run_id, outcomes)
    if missing:
        raise ScaleOutError(
            f"evidence the Dask workers wrote is not visible here: "
            f"{store.run_dir / missing[0] / 'collection.json'} is missing"
            + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
            + f' — with run.task_runner = "dask", paths.evidence_dir ({evidence_root}) must be '
            "storage the workers and this machine share, at the same path"
        )
    return outcomes
