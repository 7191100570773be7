"""The `monthly-audit` deployment as prefect.yaml declares it, for `keyaudit serve` and tests.

prefect.yaml is the one place the schedule, the parameters, the description and the
concurrency limit are written: `prefect deploy` reads it for a work pool, and `keyaudit serve`
reads it here to serve the very same deployment (`prefect.serve` of the RunnerDeployment
`to_deployment` builds) on machines without a work pool.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from prefect import Flow
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.client.schemas.schedules import CronSchedule
from prefect.deployments.runner import RunnerDeployment
from prefect.types.entrypoint import EntrypointType

from keyaudit.paths import PROJECT_ROOT

PREFECT_YAML = PROJECT_ROOT / "prefect.yaml"
DEPLOYMENT = "monthly-audit"


class DeploymentFileError(ValueError):
    """prefect.yaml is missing, unreadable or lacks the deployment; the message names the fix."""


@dataclass(frozen=True)
class DeploymentSpec:
    """One deployment of prefect.yaml with a single cron schedule."""

    name: str
    entrypoint: str
    cron: str
    timezone: str
    parameters: dict[str, Any] = field(default_factory=dict)
    description: str | None = None
    tags: tuple[str, ...] = ()
    enforce_parameter_schema: bool = True
    active: bool = True
    # Runs of the deployment at once; the Prefect server holds the others (ENQUEUE) or cancels
    # them (CANCEL_NEW). keyaudit's warehouse lock refuses a second run that starts anyway.
    concurrency_limit: int | None = None
    collision_strategy: str = ConcurrencyLimitStrategy.ENQUEUE.value

    def concurrency(self) -> ConcurrencyLimitConfig | None:
        if self.concurrency_limit is None:
            return None
        return ConcurrencyLimitConfig(
            limit=self.concurrency_limit,
            collision_strategy=ConcurrencyLimitStrategy(self.collision_strategy),
        )

    def schedule(self) -> CronSchedule:
        return CronSchedule(cron=self.cron, timezone=self.timezone)

    def with_timezone(self, timezone: str | None) -> DeploymentSpec:
        return self if timezone is None else replace(self, timezone=check_timezone(timezone))

    def options(self) -> dict[str, Any]:
        """The keyword arguments of `Flow.to_deployment` for this deployment."""
        return {
            "name": self.name,
            "schedules": [self.schedule()],
            "paused": not self.active,
            "parameters": dict(self.parameters),
            "description": self.description,
            "tags": list(self.tags),
            "enforce_parameter_schema": self.enforce_parameter_schema,
            "concurrency_limit": self.concurrency(),
            # keyaudit.flows.audit.audit_flow, as prefect.yaml names it: not a path relative to
            # the working folder, which an installed keyaudit does not have
            "entrypoint_type": EntrypointType.MODULE_PATH,
        }

    def to_deployment(self, flow: Flow[..., Any]) -> RunnerDeployment:
        # Called from synchronous code, Prefect's sync-compatible method returns the deployment.
        return cast(RunnerDeployment, flow.to_deployment(**self.options()))


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise DeploymentFileError(
            f"timezone {name!r} is not known — use an IANA name such as 'UTC' or 'Europe/Berlin'"
        ) from None
    return name


def read_concurrency(path: Path, name: str, value: Any) -> tuple[int | None, str]:
    """prefect.yaml's `concurrency_limit`: absent, a number, or {limit, collision_strategy}."""
    strategies = [s.value for s in ConcurrencyLimitStrategy]
    if value is None:
        return None, strategies[0]
    limit, strategy = (
        (value.get("limit"), value.get("collision_strategy") or strategies[0])
        if isinstance(value, dict)
        else (value, strategies[0])
    )
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise DeploymentFileError(
            f"{path}: deployment {name!r}: concurrency_limit {limit!r} is not a whole number "
            "of runs — write e.g. `concurrency_limit: {limit: 1, collision_strategy: ENQUEUE}`"
        )
    if strategy not in strategies:
        raise DeploymentFileError(
            f"{path}: deployment {name!r}: collision_strategy {strategy!r} is not known — use "
            + " or ".join(strategies)
        )
    return limit, str(strategy)


def load_spec(path: Path = PREFECT_YAML, name: str = DEPLOYMENT) -> DeploymentSpec:
    """The deployment `name` of a prefect.yaml, checked enough to serve it."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise DeploymentFileError(
            f"cannot read {path} ({exc.strerror}) — run from the keyaudit checkout or pass "
            "--prefect-yaml"
        ) from None
    except yaml.YAMLError as exc:
        raise DeploymentFileError(f"{path} is not valid YAML: {exc}") from None
    found = [d for d in data.get("deployments") or [] if d.get("name") == name]
    if not found:
        raise DeploymentFileError(f"{path} declares no deployment named {name!r}")
    spec = found[0]
    crons = [s for s in spec.get("schedules") or [] if s.get("cron")]
    if len(crons) != 1:
        raise DeploymentFileError(
            f"{path}: deployment {name!r} needs exactly one cron schedule, found {len(crons)}"
        )
    limit, strategy = read_concurrency(path, name, spec.get("concurrency_limit"))
    return DeploymentSpec(
        name=name,
        entrypoint=str(spec.get("entrypoint") or ""),
        cron=str(crons[0]["cron"]),
        timezone=check_timezone(str(crons[0].get("timezone") or "UTC")),
        parameters=dict(spec.get("parameters") or {}),
        description=spec.get("description"),
        tags=tuple(spec.get("tags") or ()),
        enforce_parameter_schema=bool(spec.get("enforce_parameter_schema", True)),
        active=bool(crons[0].get("active", True)),
        concurrency_limit=limit,
        collision_strategy=strategy,
    )
