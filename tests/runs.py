"""Running keyaudit's one pipeline (`keyaudit.pipeline.run_audit`) in tests.

Nothing here re-implements a step of the audit. A test chooses only what a caller of the pipeline
may choose:

- the configuration, written as the keyaudit.toml a user would write (`write_config`);
- how the steps are called (`RecordingSteps`, a `keyaudit.pipeline.Steps`): it records the steps
  that ran and what they returned, may collect one account after the other (so that virtual time
  per account is exact) and may end the run before or after a named step — the fault matrix ends
  after load (the report of a fault run is the report suite's business), the resume tests end
  before load (a process killed between collection and load);
- where the run's AWS sessions come from (`simulated_source`): a simulated organization the test
  built, with extra session customizers (fault injection, call recording), the caller's session
  and a clock — handed to `run_audit` through its one seam, `open_source`;
- whether the PDF is laid out (`stub_pdf`): WeasyPrint takes most of a demo run's time, so tests
  that do not look at the PDF replace the layout by a one-page stub.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import boto3
import pytest

from keyaudit import pipeline
from keyaudit.config import Config, load_config
from keyaudit.model import Account, AccountOutcome, Clock, VirtualClock
from keyaudit.outcome import AuditResult

T = TypeVar("T")
AS_OF = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
DEMO_RUN_ID = "20261201T060000Z-de1ive"


# --------------------------------------------------------------------------- environment


def clean_aws_environment(monkey: pytest.MonkeyPatch, home: Path) -> None:
    """No AWS profile or KEYAUDIT_* setting of the machine; fake credentials, no metadata
    endpoint; no PREFECT_API_URL, so the CLI runs the pipeline in-process unless a test passes
    --prefect. The autouse `isolated_aws` fixture does this for every test; fixtures wider than
    one test call it themselves (`isolated`)."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "KEYAUDIT_")) or name == "PREFECT_API_URL":
            monkey.delenv(name, raising=False)
    monkey.setenv("AWS_CONFIG_FILE", str(home / "config"))
    monkey.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "credentials"))
    monkey.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkey.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkey.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkey.setenv("AWS_EC2_METADATA_DISABLED", "true")


@contextmanager
def isolated(home: Path) -> Iterator[pytest.MonkeyPatch]:
    """`clean_aws_environment` for a block (module- or session-scoped fixtures)."""
    with pytest.MonkeyPatch.context() as monkey:
        clean_aws_environment(monkey, home)
        yield monkey


@contextmanager
def process_state() -> Iterator[None]:
    """Undo what a CLI command does to its process: Prefect's defaults set in os.environ
    (keyaudit.cli.common.quiet_prefect), the progress handler on the `keyaudit` logger and the
    owner-only umask (keyaudit.safefile.owner_only_umask)."""
    environ = dict(os.environ)
    logger = logging.getLogger("keyaudit")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    umask = os.umask(0o022)
    os.umask(umask)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(environ)
        logger.handlers[:], logger.level, logger.propagate = saved
        os.umask(umask)


# --------------------------------------------------------------------------- configuration


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON's escapes are TOML's
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        items = (f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items() if v is not None)
        return "{ " + ", ".join(items) + " }"
    raise TypeError(f"no TOML for {value!r}")


def write_config(
    path: Path, settings: Config | Mapping[str, Any] | None = None, *, data_dir: Path | None = None
) -> Path:
    """Write `settings` (a Config or its dict form) as keyaudit.toml at `path`; `data_dir` puts
    the warehouse, evidence and reports under that folder (as data/ is under the working folder),
    whatever `settings` said. Reading the file back must give the same configuration."""
    if isinstance(settings, Config):
        data = settings.model_dump(mode="json", exclude_defaults=True)
    else:
        data = Config.model_validate(dict(settings or {})).model_dump(
            mode="json", exclude_defaults=True
        )
    if data_dir is not None:
        data["paths"] = {
            "warehouse": str(data_dir / "keyaudit.duckdb"),
            "evidence_dir": str(data_dir / "evidence"),
            "reports_dir": str(data_dir / "reports"),
        }
    text = "".join(f"{_toml_key(k)} = {_toml_value(v)}\n" for k, v in data.items() if v is not None)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    assert load_config(path, environ={}) == Config.model_validate(data), "config lost in TOML"
    return path


# --------------------------------------------------------------------------- steps


class Stopped(Exception):
    """The run ended where the test asked (`RecordingSteps` stop_before / stop_after)."""

    def __init__(self, step: str) -> None:
        super().__init__(f"run stopped at step {step!r}")
        self.step = step


class RecordingSteps(pipeline.LocalSteps):
    """The pipeline's steps called in this process, recorded; optionally one account after the
    other, and ended before or after a step (by raising `Stopped` from inside the pipeline, so its
    run lock and source close as when any step fails)."""

    def __init__(
        self,
        *,
        stop_before: str | None = None,
        stop_after: str | None = None,
        one_by_one: bool = False,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        known = {*pipeline.STEPS.values(), "collect", None}
        assert {stop_before, stop_after} <= known, f"no such step; the steps are {known - {None}}"
        self.stop_before, self.stop_after = stop_before, stop_after
        self.one_by_one = one_by_one
        self.monotonic = monotonic
        self.called: list[str] = []
        self.results: dict[str, Any] = {}
        self.collected: list[str] = []  # account ids the pipeline asked to collect
        self.outcomes: dict[str, AccountOutcome] = {}
        self.elapsed: dict[str, float] = {}  # per account, by `monotonic` (one_by_one only)

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        name = pipeline.step_name(fn)
        if name == self.stop_before:
            raise Stopped(name)
        self.called.append(name)
        result = fn(*args)
        self.results[name] = result
        if name == self.stop_after:
            raise Stopped(name)
        return result

    def collect(
        self, job: pipeline.CollectJob, accounts: Sequence[Account]
    ) -> list[AccountOutcome]:
        if self.stop_before == "collect":
            raise Stopped("collect")
        self.called.append("collect")
        self.collected += [a.account_id for a in accounts]
        if not self.one_by_one:
            outcomes = super().collect(job, accounts)
        else:
            outcomes = []
            for account in accounts:
                started = self.monotonic() if self.monotonic else 0.0
                outcomes.append(job.collect(account))
                if self.monotonic:
                    self.elapsed[account.account_id] = self.monotonic() - started
        self.outcomes.update((o.account_id, o) for o in outcomes)
        return outcomes


def run_until(
    request: pipeline.AuditRequest, steps: RecordingSteps, **options: Any
) -> RecordingSteps:
    """`run_audit` through `steps`, which are expected to stop it; returns them."""
    with pytest.raises(Stopped):
        pipeline.run_audit(request, steps=steps, **options)
    return steps


# --------------------------------------------------------------------------- sources


def simulated_source(
    org: Any,
    *customizers: Callable[[str, boto3.Session], None],
    base: boto3.Session | None = None,
    clock: Clock | None = None,
) -> pipeline.SourceOpener:
    """`open_source` for `run_audit`: sessions into `org` (a SimulatedOrganization the test
    opened) with `customizers` after the organization's own, `base` as the caller's session
    (default: the environment's credentials) and `clock` (default: the demo's virtual clock)."""
    from keyaudit.sources.aws.session import AccountSessions
    from keyaudit.sources.provider import Source, session_settings

    @contextmanager
    def opener(plan: pipeline.RunPlan) -> Iterator[Source]:
        sessions = AccountSessions(
            base,
            settings=session_settings(plan.config, plan.run_id),
            customizers=[org.customize, *customizers],
        )
        yield Source("demo", lambda: sessions, clock or VirtualClock().as_clock())

    return opener


# --------------------------------------------------------------------------- the PDF


def _one_page_pdf(html: str, path: Path, base_url: Path, archive: object = None) -> int:
    from keyaudit.evidence.store import write_private

    write_private(path, b"%PDF-1.7 stub\n")
    return 1


@contextmanager
def stub_pdf() -> Iterator[None]:
    """Report PDFs become one-page stubs inside the block (HTML and exports are real)."""
    import keyaudit.report.render

    with pytest.MonkeyPatch.context() as monkey:
        monkey.setattr(keyaudit.report.render, "render_pdf", _one_page_pdf)
        yield


# --------------------------------------------------------------------------- a finished demo run


@dataclass(frozen=True)
class DemoRun:
    """A finished demo run's files, the organization it audited (its ground truth) and result."""

    run_id: str
    warehouse: Path
    evidence_run_dir: Path
    report_dir: Path
    org: Any  # keyaudit.sources.demo.SimulatedOrganization
    result: AuditResult | None = field(default=None, compare=False)


def make_demo_run(
    folder: Path,
    *,
    run_id: str = DEMO_RUN_ID,
    config: Config | None = None,
    steps: pipeline.Steps | None = None,
) -> DemoRun:
    """The simulated organization audited by the pipeline at AS_OF, everything under `folder`
    (keyaudit.toml, keyaudit.duckdb, evidence/, reports/<run id>/), with `config` (default: the
    defaults) and a PDF detail limit of 50 unless `config` sets one."""
    from keyaudit.sources.demo import simulated_organization

    settings = (config or Config()).model_dump(mode="json", exclude_defaults=True)
    settings.setdefault("report", {}).setdefault("pdf_detail_limit", 50)
    config = Config.model_validate(settings)
    folder.mkdir(parents=True, exist_ok=True)
    config_file = write_config(folder / "keyaudit.toml", config, data_dir=folder)
    request = pipeline.AuditRequest(
        source="demo",
        config_file=config_file,
        as_of=AS_OF,
        db=folder / "keyaudit.duckdb",
        out=folder / "reports" / run_id,
        run_id=run_id,
    )
    with simulated_organization(AS_OF) as org:
        finished = pipeline.run_audit(
            request, steps=steps, now=lambda: AS_OF, open_source=simulated_source(org)
        )
    return DemoRun(
        run_id,
        folder / "keyaudit.duckdb",
        folder / "evidence" / run_id,
        folder / "reports" / run_id,
        org,
        finished.result,
    )


def copy_run(run: DemoRun, folder: Path) -> DemoRun:
    """A private copy of the run's files, to change (delivery writes into the report folder);
    its keyaudit.toml points into the copy."""
    shutil.copytree(run.warehouse.parent, folder, dirs_exist_ok=True)
    config = folder / "keyaudit.toml"
    write_config(config, load_config(config, environ={}), data_dir=folder)
    return DemoRun(
        run.run_id,
        folder / run.warehouse.name,
        folder / run.evidence_run_dir.relative_to(run.warehouse.parent),
        folder / run.report_dir.relative_to(run.warehouse.parent),
        run.org,
        run.result,
    )
