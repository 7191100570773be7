"""The rule catalogue (sql/rules/<ID>.sql + <ID>.yml), validated on load, and its evaluation.

Validation happens before any AWS call, so a typo in a rule or in a threshold override stops the
run at once with the file and the allowed values named. Evaluation binds every parameter
(`$run_id`, `$as_of` and the rule's own) and never reads the clock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import duckdb
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from keyaudit.config import RuleOverride
from keyaudit.paths import SQL_DIR

SEVERITIES = ("critical", "high", "medium", "low", "info")
BUILTIN_PARAMETERS = frozenset({"run_id", "as_of"})
_PARAMETER = re.compile(r"\$([a-z_][a-z0-9_]*)")
_LINE_COMMENT = re.compile(r"--[^\n]*")


class CatalogueError(ValueError):
    """A rule file or a rule override is wrong; the message names the file or key."""


class ParameterSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    default: int
    minimum: int = 0
    maximum: int = 3650
    description: str


class Controls(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cis_v1_4_to_v4_0: str | None = None
    cis_v5_0: str | None = None
    cis_v6_0: str | None = None
    security_hub: list[str] = Field(default_factory=list)
    aws_config: list[str] = Field(default_factory=list)

    def labels(self) -> list[str]:
        """Short labels for reports: "CIS 1.14 (v1.4–v4.0)", "Security Hub IAM.3"."""
        out = []
        if self.cis_v1_4_to_v4_0:
            out.append(f"CIS {self.cis_v1_4_to_v4_0} (v1.4–v4.0)")
        if self.cis_v5_0:
            out.append(f"CIS {self.cis_v5_0} (v5.0)")
        if self.cis_v6_0:
            out.append(f"CIS {self.cis_v6_0} (v6.0)")
        out.extend(f"Security Hub {c}" for c in self.security_hub)
        return out


class RuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[A-Z][A-Z0-9_]+$")
    title: str = Field(min_length=5)
    severity: Literal["critical", "high", "medium", "low", "info"]
    scope: Literal["key", "user", "account"]
    rationale: str = Field(min_length=20)
    remediation: str = Field(min_length=20)
    command: str = Field(min_length=5)
    controls: Controls = Field(default_factory=Controls)
    parameters: dict[str, ParameterSpec] = Field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    """A loaded rule with the severity and parameter values in force for this run."""

    rule_id: str
    title: str
    severity: str
    scope: str
    rationale: str
    remediation: str
    command: str
    controls: Controls
    parameter_specs: dict[str, ParameterSpec]
    parameters: dict[str, int]
    sql: str
    sql_path: Path
    enabled: bool = True
    default_severity: str = ""
    used_parameters: frozenset[str] = field(default_factory=frozenset)


def _parameters_in(sql: str) -> set[str]:
    return set(_PARAMETER.findall(_LINE_COMMENT.sub("", sql)))


def _load_one(yml_path: Path) -> Rule:
    try:
        raw = yaml.safe_load(yml_path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueError(f"{yml_path}: cannot read rule metadata: {exc}") from exc
    try:
        spec = RuleSpec.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        allowed = ""
        if first["type"] == "literal_error":
            allowed = f"; allowed: {first.get('ctx', {}).get('expected', '')}"
        raise CatalogueError(
            f"{yml_path.name}: {where} = {first.get('input')!r}: {first['msg']}{allowed}"
        ) from None
    if spec.id != yml_path.stem:
        raise CatalogueError(
            f"{yml_path.name}: id {spec.id!r} must equal the file name {yml_path.stem!r}"
        )
    sql_path = yml_path.with_suffix(".sql")
    if not sql_path.exists():
        raise CatalogueError(
            f"{yml_path.name}: no {sql_path.name} beside it — every rule needs SQL"
        )
    sql = sql_path.read_text(encoding="utf-8")
    used = _parameters_in(sql) - BUILTIN_PARAMETERS
    declared = set(spec.parameters)
    if used - declared:
        raise CatalogueError(
            f"{sql_path.name}: uses ${', $'.join(sorted(used - declared))} not declared under "
            f"parameters in {yml_path.name}"
        )
    if declared - used:
        raise CatalogueError(
            f"{yml_path.name}: declares {', '.join(sorted(declared - used))} but {sql_path.name} never uses it"
        )
    return Rule(
        rule_id=spec.id,
        title=spec.title,
        severity=spec.severity,
        scope=spec.scope,
        rationale=spec.rationale.strip(),
        remediation=spec.remediation.strip(),
        command=spec.command.strip(),
        controls=spec.controls,
        parameter_specs=spec.parameters,
        parameters={name: p.default for name, p in spec.parameters.items()},
        sql=sql,
        sql_path=sql_path,
        default_severity=spec.severity,
        used_parameters=frozenset(_parameters_in(sql)),
    )


def load_catalogue(
    overrides: Mapping[str, RuleOverride] | None = None, *, folder: Path | None = None
) -> list[Rule]:
    """Every rule of the folder, validated, with config overrides applied."""
    folder = folder or SQL_DIR / "rules"
    rules = [_load_one(path) for path in sorted(folder.glob("*.yml"))]
    for sql_path in sorted(folder.glob("*.sql")):
        if not sql_path.with_suffix(".yml").exists():
            raise CatalogueError(
                f"{sql_path.name}: no {sql_path.stem}.yml beside it — every rule needs metadata"
            )
    overrides = overrides or {}
    known = {rule.rule_id for rule in rules}
    for rule_id in overrides:
        if rule_id not in known:
            raise CatalogueError(
                f"rules.{rule_id}: no such rule — known rules: {', '.join(sorted(known))}"
            )
    return [_override(rule, overrides.get(rule.rule_id)) for rule in rules]


def _override(rule: Rule, override: RuleOverride | None) -> Rule:
    if override is None:
        return rule
    values = dict(rule.parameters)
    for name, value in (override.model_extra or {}).items():
        spec = rule.parameter_specs.get(name)
        if spec is None:
            known = ", ".join(sorted(rule.parameter_specs)) or "none"
            raise CatalogueError(
                f"rules.{rule.rule_id}.{name}: unknown parameter; this rule takes: {known}"
            )
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise CatalogueError(
                f"rules.{rule.rule_id}.{name} = {value!r} is not a whole number of days"
            ) from None
        if not spec.minimum <= number <= spec.maximum:
            raise CatalogueError(
                f"rules.{rule.rule_id}.{name} = {number} is out of range; allowed {spec.minimum}..{spec.maximum}"
            )
        values[name] = number
    return Rule(
        **{
            **rule.__dict__,
            "parameters": values,
            "severity": override.severity or rule.severity,
            "enabled": override.enabled,
        }
    )


_INSERT = """
insert into findings (run_id, finding_id, rule_id, severity, account_id, user_name,
                      access_key_id, key_slot, reason, waived, waiver_id)
select
    $run_id,
    substr(sha256(concat_ws('|', $rule_id, account_id, coalesce(user_name, ''),
        coalesce(access_key_id, 'slot-' || cast(key_slot as varchar), ''))), 1, 16),
    $rule_id,
    $severity,
    account_id,
    user_name,
    access_key_id,
    cast(key_slot as integer),
    reason,
    false,
    null
from (
{sql}
) as rule_rows
"""


def evaluate(
    con: duckdb.DuckDBPyConnection, run_id: str, as_of: datetime, rules: list[Rule]
) -> dict[str, int]:
    """Write the findings of every enabled rule for the run; returns counts per rule."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware (UTC)")
    counts: dict[str, int] = {}
    for rule in rules:
        if not rule.enabled:
            continue
        params: dict[str, Any] = {
            "run_id": run_id,
            "rule_id": rule.rule_id,
            "severity": rule.severity,
        }
        if "as_of" in rule.used_parameters:
            params["as_of"] = as_of
        params.update(rule.parameters)
        before = con.execute("select count(*) from findings where run_id = ?", [run_id]).fetchone()[
            0
        ]
        try:
            con.execute(_INSERT.format(sql=rule.sql.rstrip().rstrip(";")), params)
        except duckdb.Error as exc:
            raise CatalogueError(f"{rule.sql_path.name}: {str(exc).splitlines()[0]}") from exc
        after = con.execute("select count(*) from findings where run_id = ?", [run_id]).fetchone()[
            0
        ]
        counts[rule.rule_id] = after - before
    return counts


def parameters_in_force(rules: list[Rule]) -> dict[str, dict[str, Any]]:
    """What the run used, stored with it and shown in the report."""
    return {
        rule.rule_id: {"severity": rule.severity, "enabled": rule.enabled, **rule.parameters}
        for rule in rules
    }
