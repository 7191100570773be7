"""The `monthly-audit` deployment as prefect.yaml declares it, for `keyaudit serve` and tests.

prefect.yaml is the one place the schedule, the parameters and the description are written:
`prefect deploy` reads it for a work pool, and `keyaudit serve` reads it here to serve the very
same deployment with `flow.serve` on machines without a work pool.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from prefect import Flow
from prefect.client.schemas.schedules import CronSchedule
from prefect.deployments.runner import RunnerDeployment

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

    def schedule(self) -> CronSchedule:
        return CronSchedule(cron=self.cron, timezone=self.timezone)

    def with_timezone(self, timezone: str | None) -> DeploymentSpec:
        return self if timezone is None else replace(self, timezone=check_timezone(timezone))

    def options(self) -> dict[str, Any]:
        """The keyword arguments of `Flow.serve` / `Flow.to_deployment` for this deployment."""
        return {
            "name": self.name,
            "schedules": [self.schedule()],
            "paused": not self.active,
            "parameters": dict(self.parameters),
            "description": self.description,
            "tags": list(self.tags),
            "enforce_parameter_schema": self.enforce_parameter_schema,
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
    )
