"""The rule catalogue described for people and programs: rows for `keyaudit rules`, a JSON-ready
dict per rule, and the Markdown of docs/rules.md. Only formats; the catalogue is keyaudit.rules.catalogue."""

from __future__ import annotations

from typing import Any

from keyaudit.rules.catalogue import INTERNAL_CONTROLS, Rule

REGENERATE = "keyaudit rules --defaults --format markdown > docs/rules.md"


def describe(rule: Rule) -> dict[str, Any]:
    """Everything about a rule with the values in force and the catalogue's defaults."""
    return {
        "id": rule.rule_id,
        "title": rule.title,
        "severity": rule.severity,
        "default_severity": rule.default_severity,
        "enabled": rule.enabled,
        "scope": rule.scope,
        "controls": rule.controls.model_dump(exclude_defaults=True),
        "control_labels": rule.controls.labels(),
        "parameters": {
            name: {
                "value": rule.parameters[name],
                "default": spec.default,
                "minimum": spec.minimum,
                "maximum": spec.maximum,
                "description": spec.description,
            }
            for name, spec in rule.parameter_specs.items()
        },
        "rationale": rule.rationale,
        "remediation": rule.remediation,
        "command": rule.command,
    }


def short_controls(rule: Rule) -> str:
    """CIS numbers for v1.4–v4.0 / v5.0 / v6.0, then Security Hub: "CIS 1.14/1.13/2.13, IAM.3"."""
    controls = rule.controls
    parts = []
    cis = [controls.cis_v1_4_to_v4_0, controls.cis_v5_0, controls.cis_v6_0]
    if any(cis):
        parts.append("CIS " + "/".join(c or "—" for c in cis))
    parts.extend(controls.security_hub)
    if controls.keyaudit:
        parts.append(controls.keyaudit)
    return ", ".join(parts) or "—"


def short_parameters(rule: Rule) -> str:
    """Parameters with values, defaults only when overridden: "max_key_age_days=60 (default 90)"."""
    out = []
    for name, spec in rule.parameter_specs.items():
        value = rule.parameters[name]
        out.append(
            f"{name}={value}" + (f" (default {spec.default})" if value != spec.default else "")
        )
    return ", ".join(out) or "—"


def short_severity(rule: Rule) -> str:
    if not rule.enabled:
        return f"disabled ({rule.severity})"
    if rule.severity != rule.default_severity:
        return f"{rule.severity} (default {rule.default_severity})"
    return rule.severity


def table_rows(rules: list[Rule]) -> tuple[list[str], list[list[str]]]:
    columns = ["rule", "severity", "scope", "controls", "parameters"]
    rows = [
        [r.rule_id, short_severity(r), r.scope, short_controls(r), short_parameters(r)]
        for r in rules
    ]
    return columns, rows


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def markdown(rules: list[Rule]) -> str:
    """docs/rules.md: a summary table, then each rule with its rationale, remediation, command."""
    lines = [
        "# Rules",
        "",
        f"<!-- Generated from sql/rules/*.yml by `{REGENERATE}`; do not edit by hand. -->",
        "",
        "Each rule is `sql/rules/<RULE_ID>.sql` (one row per offending resource, with a reason",
        "giving threshold and observed value) plus `<RULE_ID>.yml` (what this page shows).",
        "Thresholds and severities can be changed in `keyaudit.toml` (`[rules.<RULE_ID>]`) or",
        "with `KEYAUDIT_RULES__<RULE_ID>__<PARAMETER>`; `keyaudit rules` lists the values in force.",
        "",
        "Ages are intervals from a timestamp to the run's `as_of`: a key is over a limit of N days",
        "when `as_of − created` is strictly greater than N days (exactly N days is within the",
        "limit). Root user rows are judged only by the `ROOT_*` rules, IAM users by the others;",
        "key rules give one finding per key (slot 1 or 2, key id when the API listed it), user",
        "rules one per user, account rules one per account.",
        "",
        "| rule | severity | scope | CIS v1.4–v4.0 / v5.0 / v6.0 | Security Hub | keyaudit "
        "| parameters |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for rule in rules:
        c = rule.controls
        cis = " / ".join(x or "—" for x in (c.cis_v1_4_to_v4_0, c.cis_v5_0, c.cis_v6_0))
        lines.append(
            f"| [{rule.rule_id}](#{rule.rule_id.lower()}) | {short_severity(rule)} | {rule.scope} "
            f"| {cis if any((c.cis_v1_4_to_v4_0, c.cis_v5_0, c.cis_v6_0)) else '—'} "
            f"| {', '.join(c.security_hub) or '—'} | {c.keyaudit or '—'} "
            f"| {_cell(short_parameters(rule))} |"
        )
    for rule in rules:
        lines += ["", f"## {rule.rule_id}", "", f"**{rule.title}** — severity {short_severity(rule)}, "
                  f"one finding per {rule.scope}.", ""]  # fmt: skip
        lines += ["Controls: " + "; ".join(rule.controls.labels()) + ".", ""]
        if rule.parameter_specs:
            lines += ["| parameter | value | allowed | meaning |", "| --- | --- | --- | --- |"]
            for name, spec in rule.parameter_specs.items():
                lines.append(
                    f"| `{name}` | {rule.parameters[name]} | {spec.minimum}–{spec.maximum} "
                    f"| {_cell(spec.description)} |"
                )
            lines.append("")
        lines += [f"Why: {_cell(rule.rationale)}", "", f"Fix: {_cell(rule.remediation)}", ""]
        lines += ["```console", f"$ {rule.command}", "```"]
    lines += ["", "## keyaudit's own controls", "",
              "Rules that no external benchmark covers map to one of these, so that every finding",
              "names the control it fails.", "", "| control | requirement |", "| --- | --- |"]  # fmt: skip
    lines += [f"| {cid} | {_cell(text)} |" for cid, text in INTERNAL_CONTROLS.items()]
    return "\n".join(lines) + "\n"
