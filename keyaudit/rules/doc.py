"""The rule catalogue described for people and programs: rows for `keyaudit rules`, a JSON-ready
dict per rule, and the Markdown of docs/rules.md and docs/controls.md. Only formats; the catalogue
is keyaudit.rules.catalogue, the frameworks keyaudit.frameworks."""

from __future__ import annotations

from typing import Any

from keyaudit.frameworks import BASIS, FRAMEWORKS, RULE_CHECKS, control_title
from keyaudit.rules.catalogue import INTERNAL_CONTROLS, Rule

REGENERATE = "keyaudit rules --defaults --format markdown > docs/rules.md"
REGENERATE_CONTROLS = "keyaudit rules --defaults --format controls > docs/controls.md"


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


def controls_markdown(rules: list[Rule]) -> str:
    """docs/controls.md: per framework, each control with the rules that evidence it and where
    the mapping comes from."""
    lines = [
        "# Controls",
        "",
        f"<!-- Generated from sql/rules/*.yml and keyaudit/frameworks.py by "
        f"`{REGENERATE_CONTROLS}`; do not edit by hand. -->",
        "",
        "Each rule's `controls:` (in `sql/rules/<RULE_ID>.yml`) names the controls its findings",
        "evidence, framework by framework. A mapping says the rule's check is evidence for the",
        "control, not that the control is met by it alone: the other parts of a control (policy,",
        "process, other resources) are outside what keyaudit reads. The warehouse view",
        "`control_results` has a row per control and rule, its `framework` column naming the",
        "framework as below, and `control_populations` a row per control and kind of resource",
        "(keys, users, root users, accounts); the report's Controls table shows the frameworks of",
        "`[report] frameworks` and `keyaudit report --framework NAME` one framework's view.",
        "Each control's title is keyaudit's own short wording of what it is about: the number is",
        "the citation, and the standards' texts are not copied here.",
        "",
        "| framework | in `control_results` as | controls | mappings from |",
        "| --- | --- | --- | --- |",
    ]
    by_framework: dict[str, dict[str, list[str]]] = {f.key: {} for f in FRAMEWORKS}
    for rule in rules:
        for key, control_id in rule.controls.pairs():
            by_framework[key].setdefault(control_id, []).append(rule.rule_id)
    for f in FRAMEWORKS:
        lines.append(
            f"| [{f.name}](#{_anchor(f.name)}) | `{f.short}` | {len(by_framework[f.key])} "
            f"| {_cell(f.origin)} |"
        )
    for f in FRAMEWORKS:
        controls = by_framework[f.key]
        basis = BASIS.get(f.key)
        lines += ["", f"## {f.name}", "", f"Mappings from: {_cell(f.source)}.", ""]
        if not controls:
            lines.append("No rule maps to this framework.")
            continue
        if basis is None:
            lines += ["| control | title | rules |", "| --- | --- | --- |"]
        else:
            lines += ["| control | title | rules | basis |", "| --- | --- | --- | --- |"]
        for control_id in sorted(controls, key=_control_sort):
            rule_links = ", ".join(
                f"[{r}](rules.md#{r.lower()})" for r in sorted(controls[control_id])
            )
            title = _cell(control_title(f.key, control_id) or "—")
            row = f"| {_cell(control_id)} | {title} | {rule_links} |"
            if basis is not None:
                row += f" {_cell(basis.get(control_id, '—'))} |"
            lines.append(row)
        unmapped = [
            r.rule_id
            for r in rules
            if not getattr(r.controls, f.key) and r.rule_id in RULE_CHECKS and basis is not None
        ]
        if unmapped:
            lines += [
                "",
                "Not mapped here, as neither the crosswalk nor the framework's text speaks of "
                f"what they check: {', '.join(unmapped)}.",
            ]
    lines += [
        "",
        "## Prowler checks matched to keyaudit rules",
        "",
        "The crosswalks above list Prowler checks; each keyaudit rule takes the mappings of the",
        "check that tests the same thing. Rules mapped only to keyaudit's own controls (KA-n) have",
        "no Prowler counterpart.",
        "",
        "| rule | Prowler checks |",
        "| --- | --- |",
    ]
    lines += [
        f"| [{rule_id}](rules.md#{rule_id.lower()}) | {', '.join(f'`{c}`' for c in checks)} |"
        for rule_id, checks in RULE_CHECKS.items()
    ]
    return "\n".join(lines) + "\n"


def _anchor(title: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens."""
    return "".join(c for c in title.lower() if c.isalnum() or c in " -_").replace(" ", "-")


def _control_sort(control_id: str) -> tuple[Any, ...]:
    parts = control_id.translate(str.maketrans(".-()", "    ")).split()
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)
