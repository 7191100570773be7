"""`keyaudit rules`: the rule catalogue with the severities and thresholds in force."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated

import typer

from keyaudit.cli.common import ConfigOpt, app, fail


class RulesFormat(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"
    controls = "controls"


@app.command("rules")
def rules_command(
    config: ConfigOpt = None,
    fmt: Annotated[
        RulesFormat,
        typer.Option(
            "--format",
            metavar="FORMAT",
            help="table, json, markdown (docs/rules.md) or controls (docs/controls.md).",
        ),
    ] = RulesFormat.table,
    defaults: Annotated[
        bool,
        typer.Option(
            "--defaults",
            help="Ignore keyaudit.toml and KEYAUDIT_* overrides: the catalogue as shipped.",
        ),
    ] = False,
) -> None:
    """List the rules: id, severity, scope, control mappings and parameters with current values.

    Values come from the catalogue (sql/rules/*.yml), overridden by keyaudit.toml and
    `KEYAUDIT_RULES__<RULE_ID>__<PARAMETER>`; an overridden value shows its default beside it.

    Example: keyaudit rules --format json
    """
    from keyaudit.config import ConfigError, load_config
    from keyaudit.rules import doc as rules_doc
    from keyaudit.rules.catalogue import CatalogueError, load_catalogue

    try:
        overrides = None if defaults else load_config(config).rules
        rules = load_catalogue(overrides)
    except (ConfigError, CatalogueError) as exc:
        raise fail(str(exc)) from None
    if fmt is RulesFormat.json:
        sys.stdout.write(json.dumps([rules_doc.describe(r) for r in rules], indent=2) + "\n")
    elif fmt is RulesFormat.markdown:
        sys.stdout.write(rules_doc.markdown(rules))
    elif fmt is RulesFormat.controls:
        sys.stdout.write(rules_doc.controls_markdown(rules))
    else:
        columns, rows = rules_doc.table_rows(rules)
        widths = [max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(columns)]
        typer.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
        typer.echo("  ".join("-" * w for w in widths))
        for row in rows:
            typer.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
