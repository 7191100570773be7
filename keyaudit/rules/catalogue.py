"""The rule catalogue (sql/rules/<ID>.sql + <ID>.yml), validated on load.

Validation happens before any AWS call, so a typo in a rule or in a threshold override stops the
run at once with the file and the allowed values named. Evaluation, which writes the findings
tables, is the warehouse's (keyaudit.warehouse.findings): it binds every parameter (`$run_id`,
`$as_of` and the rule's own) and never reads the clock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from keyaudit.config import RuleOverride
from keyaudit.frameworks import BY_KEY, FRAMEWORKS
from keyaudit.model import KeyauditError, Severity
from keyaudit.paths import SQL_DIR
from keyaudit.rules.commands import PLACEHOLDERS, placeholders_in

# frameworks whose control ids are checked against the registry's pattern
VALIDATED = ("nist_800_53_r5", "pci_dss_v4_0_1", "soc2", "iso_27001_2022", "cis_controls_v8_1")

BUILTIN_PARAMETERS = frozenset({"run_id", "as_of"})
# keyaudit's own controls, for rules no external benchmark covers; a rule maps to at least one
# control, so that the control view and the report can always say what a finding is about.
INTERNAL_CONTROLS = {
    "KA-1": "Every account in scope is assessed; an unreadable account is never counted as clean",
    "KA-2": "No active access key stays unused past a short grace period after its creation",
    "KA-3": "Deactivated access keys are deleted instead of kept",
}
_PARAMETER = re.compile(r"\$([a-z_][a-z0-9_]*)")
_LINE_COMMENT = re.compile(r"--[^\n]*")


class CatalogueError(KeyauditError, ValueError):
    """A rule file or a rule override is wrong; the message names the file or key."""


class ParameterSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    default: int
    minimum: int = 0
    maximum: int = 3650
    description: str = Field(min_length=5)

    @model_validator(mode="after")
    def _default_in_range(self) -> ParameterSpec:
        if not self.minimum <= self.default <= self.maximum:
            raise ValueError(
                f"default {self.default} is outside minimum..maximum ({self.minimum}..{self.maximum})"
            )
        return self


_ControlId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def _ids(framework: str) -> Any:
    """A list of control ids of one framework of the registry, each checked against its pattern."""
    spec = BY_KEY[framework]
    return Field(
        default_factory=list,
        description=f"{spec.name} controls, e.g. {spec.example}",
        json_schema_extra={"pattern": spec.pattern},
    )


class Controls(BaseModel):
    """A rule's mappings, one field per framework of keyaudit.frameworks (the registry)."""

    model_config = ConfigDict(extra="forbid")
    cis_v1_4_to_v4_0: str | None = Field(None, pattern=r"^[0-9]+(\.[0-9]+)+$")
    cis_v5_0: str | None = Field(None, pattern=r"^[0-9]+(\.[0-9]+)+$")
    cis_v6_0: str | None = Field(None, pattern=r"^[0-9]+(\.[0-9]+)+$")
    security_hub: list[str] = Field(default_factory=list)
    aws_config: list[str] = Field(default_factory=list)
    nist_800_53_r5: list[_ControlId] = _ids("nist_800_53_r5")
    pci_dss_v4_0_1: list[_ControlId] = _ids("pci_dss_v4_0_1")
    soc2: list[_ControlId] = _ids("soc2")
    iso_27001_2022: list[_ControlId] = _ids("iso_27001_2022")
    cis_controls_v8_1: list[_ControlId] = _ids("cis_controls_v8_1")
    keyaudit: Literal["KA-1", "KA-2", "KA-3"] | None = None  # see INTERNAL_CONTROLS

    @field_validator(*VALIDATED, mode="after")
    @classmethod
    def _spelt_as_the_framework_spells_them(cls, ids: list[str], info: ValidationInfo) -> list[str]:
        spec = BY_KEY[str(info.field_name)]
        for control_id in ids:
            if not re.fullmatch(spec.pattern, control_id):
                raise ValueError(
                    f"{control_id!r} is not a {spec.name} control id; write it like {spec.example}"
                )
        if len(set(ids)) != len(ids):
            raise ValueError(f"lists a {spec.name} control twice")
        return ids

    def pairs(self) -> list[tuple[str, str]]:
        """(framework key, control id) of every mapping, in the registry's order."""
        out: list[tuple[str, str]] = []
        for framework in FRAMEWORKS:
            value = getattr(self, framework.key)
            values = value if isinstance(value, list) else [value]
            out.extend((framework.key, str(v)) for v in values if v)
        return out

    def labels(self) -> list[str]:
        """Short labels for reports: "CIS 1.14 (v1.4–v4.0)", "Security Hub IAM.3",
        "NIST SP 800-53 Rev. 5 AC-2(1)", "keyaudit KA-1"."""
        return [BY_KEY[key].prefix(control_id) for key, control_id in self.pairs()]

    def is_empty(self) -> bool:
        return not self.pairs()


class RuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[A-Z][A-Z0-9_]+$")
    title: str = Field(min_length=5)
    severity: Severity
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


_MAPPING_FIELDS = tuple(f.key for f in FRAMEWORKS if f.key != "keyaudit")


def _explain(exc: ValidationError, name: str) -> CatalogueError:
    """One line for the first problem: the file, the key, the value and what is allowed."""
    first = exc.errors()[0]
    loc = [str(part) for part in first["loc"]]
    where = ".".join(loc)
    value = first.get("input")
    kind = first["type"]
    if kind == "literal_error":
        expected = first.get("ctx", {}).get("expected", "")
        return CatalogueError(f"{name}: {where} = {value!r} is not allowed; use one of {expected}")
    if kind == "extra_forbidden":
        model: type[BaseModel] = RuleSpec
        if loc[0] == "controls":
            model = Controls
        elif loc[0] == "parameters" and len(loc) > 2:
            model = ParameterSpec
        allowed = ", ".join(model.model_fields)
        return CatalogueError(f"{name}: unknown key {where!r}; allowed keys: {allowed}")
    if kind == "missing":
        required = ", ".join(f for f, i in RuleSpec.model_fields.items() if i.is_required())
        return CatalogueError(f"{name}: {where} is missing; every rule needs {required}")
    if kind == "value_error" and loc[:1] == ["controls"]:
        return CatalogueError(f"{name}: {where}: {first.get('ctx', {}).get('error', first['msg'])}")
    if kind == "model_type" and not loc:
        return CatalogueError(
            f"{name}: expected a YAML mapping of rule metadata (id, title, severity, ...), "
            f"found {type(value).__name__}"
        )
    return CatalogueError(f"{name}: {where} = {value!r} is invalid: {first['msg']}")


def _load_one(yml_path: Path) -> Rule:
    name = yml_path.name
    try:
        raw = yaml.safe_load(yml_path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueError(f"{yml_path}: cannot read rule metadata: {exc}") from exc
    try:
        spec = RuleSpec.model_validate(raw)
    except ValidationError as exc:
        raise _explain(exc, name) from None
    if spec.id != yml_path.stem:
        raise CatalogueError(
            f"{name}: id {spec.id!r} must equal the file name {yml_path.stem!r} — "
            f"rename the file to {spec.id}.yml (and its SQL) or set id: {yml_path.stem}"
        )
    if spec.controls.is_empty():
        internal = ", ".join(INTERNAL_CONTROLS)
        raise CatalogueError(
            f"{name}: controls maps the rule to nothing; give at least one of "
            f"{', '.join(_MAPPING_FIELDS)}, or keyaudit's own control (keyaudit: one of {internal})"
        )
    unknown = [p for p in placeholders_in(spec.command) if p not in PLACEHOLDERS]
    if unknown:
        raise CatalogueError(
            f"{name}: command uses <{unknown[0]}>, which keyaudit cannot fill in; use "
            f"{', '.join(f'<{p}>' for p in PLACEHOLDERS)} or a literal value"
        )
    reserved = BUILTIN_PARAMETERS & set(spec.parameters)
    if reserved:
        raise CatalogueError(
            f"{name}: parameters.{sorted(reserved)[0]} is reserved; keyaudit binds "
            f"${', $'.join(sorted(BUILTIN_PARAMETERS))} itself — choose another name"
        )
    sql_path = yml_path.with_suffix(".sql")
    if not sql_path.exists():
        raise CatalogueError(f"{name}: no {sql_path.name} beside it — every rule needs SQL")
    sql = sql_path.read_text(encoding="utf-8")
    used = _parameters_in(sql) - BUILTIN_PARAMETERS
    declared = set(spec.parameters)
    if used - declared:
        allowed = sorted({f"${p}" for p in declared | BUILTIN_PARAMETERS})
        raise CatalogueError(
            f"{sql_path.name}: uses ${', $'.join(sorted(used - declared))}, not declared under "
            f"parameters in {name}; declare it there or use one of {', '.join(allowed)}"
        )
    if declared - used:
        unused = sorted(declared - used)
        raise CatalogueError(
            f"{name}: declares parameter {', '.join(unused)} but {sql_path.name} never uses "
            f"${', $'.join(unused)} — use it in the SQL or remove it from parameters"
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


def _load_folder(folder: Path) -> list[Rule]:
    if not folder.is_dir():
        raise CatalogueError(f"rule folder {folder} does not exist — check the path")
    misnamed = sorted(folder.glob("*.yaml"))
    if misnamed:
        raise CatalogueError(
            f"{misnamed[0].name}: rule metadata files end in .yml — rename it to "
            f"{misnamed[0].stem}.yml"
        )
    for sql_path in sorted(folder.glob("*.sql")):
        if not sql_path.with_suffix(".yml").exists():
            raise CatalogueError(
                f"{sql_path.name}: no {sql_path.stem}.yml beside it — every rule needs metadata"
            )
    return [_load_one(path) for path in sorted(folder.glob("*.yml"))]


def load_catalogue(
    overrides: Mapping[str, RuleOverride] | None = None,
    *,
    folder: Path | Sequence[Path] | None = None,
) -> list[Rule]:
    """Every rule of the folder(s), validated, with config overrides applied.

    Several folders (e.g. the built-in rules and a site's own) form one catalogue; a rule id
    may appear only once across them.
    """
    folders = [SQL_DIR / "rules"] if folder is None else folder
    folders = [folders] if isinstance(folders, Path) else list(folders)
    rules: list[Rule] = []
    seen: dict[str, Path] = {}
    for path in folders:
        for rule in _load_folder(Path(path)):
            yml = rule.sql_path.with_suffix(".yml")
            if rule.rule_id in seen:
                raise CatalogueError(
                    f"duplicate rule id {rule.rule_id}: {seen[rule.rule_id]} and {yml} — "
                    "a rule id must be unique across the catalogue; rename one (id and files)"
                )
            seen[rule.rule_id] = yml
            rules.append(rule)
    overrides = overrides or {}
    known = {rule.rule_id for rule in rules}
    for rule_id in overrides:
        if rule_id not in known:
            raise CatalogueError(
                f"rules.{rule_id}: no such rule — known rules: {', '.join(sorted(known))}"
            )
    return [_override(rule, overrides.get(rule.rule_id)) for rule in rules]


@cache
def default_parameter(rule_id: str, name: str) -> int:
    """A built-in rule's parameter default as its YAML file states it, without loading the whole
    catalogue: for what must agree with the rules' defaults (the demo's simulated ages)."""
    path = SQL_DIR / "rules" / f"{rule_id}.yml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return ParameterSpec.model_validate(raw["parameters"][name]).default


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


def parameters_in_force(rules: list[Rule]) -> dict[str, dict[str, Any]]:
    """What the run used, stored with it and shown in the report."""
    return {
        rule.rule_id: {"severity": rule.severity, "enabled": rule.enabled, **rule.parameters}
        for rule in rules
    }
