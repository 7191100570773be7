"""`keyaudit report`: re-render a past run's report and exports from the warehouse."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from keyaudit.cli.common import ConfigOpt, Db, app, fail
from keyaudit.words import counted

ALL_FORMATS = "html,pdf,csv,json,ocsf,xlsx"
_LABELS = {
    "html": "HTML report",
    "pdf": "PDF report ",
    "csv": "CSV export ",
    "json": "JSON export",
    "ocsf": "OCSF export",
    "xlsx": "XLSX export",
}


@app.command()
def report(
    run: Annotated[
        str,
        typer.Option(
            "--run", metavar="RUN_ID", help="The run to render (`keyaudit runs` lists them)."
        ),
    ],
    db: Db = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", metavar="DIR", help="Folder for the files (default data/reports/RUN_ID)."
        ),
    ] = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            metavar="FORMATS",
            help=f"Comma-separated outputs: {ALL_FORMATS} (default: all of them).",
        ),
    ] = ALL_FORMATS,
    account: Annotated[
        list[str] | None,
        typer.Option(
            "--account",
            metavar="ACCOUNT_ID",
            help="Only this account (repeatable): a report for one owner's accounts.",
        ),
    ] = None,
    framework: Annotated[
        str | None,
        typer.Option(
            "--framework",
            metavar="NAME",
            help='One framework\'s view, e.g. "PCI DSS v4.0.1": each requirement with its '
            "result, evidence and findings (docs/controls.md lists the frameworks).",
        ),
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Render a past run again from the warehouse: report.html, report.pdf, findings.csv,
    findings.json, findings.ocsf.jsonl and findings.xlsx. The same run always renders to the same content.

    Example: keyaudit report --run 20261201T060000Z-3f9a1c --format html,csv --out /tmp/audit
    """
    from keyaudit.config import ConfigError, load_config
    from keyaudit.report import parse_formats, write_report
    from keyaudit.rules.catalogue import CatalogueError, load_catalogue
    from keyaudit.warehouse.db import WarehouseError, connect

    try:
        formats = parse_formats(fmt)
    except ValueError as exc:
        raise fail(f"--format: {exc}") from None
    if framework is not None:
        from keyaudit.rules.frameworks import UnknownFramework, lookup

        try:
            framework = lookup(framework).name
        except UnknownFramework as exc:
            raise fail(f"--framework: {exc}") from None
    try:
        cfg = load_config(config)
        rules = load_catalogue(cfg.rules)
        con = connect(db or cfg.paths.warehouse, read_only=True)
    except (ConfigError, CatalogueError, WarehouseError) as exc:
        raise fail(str(exc)) from None
    out_dir = out or cfg.paths.reports_dir / run
    try:
        files = write_report(
            con,
            run,
            out_dir,
            rules=rules,
            account_ids=account or None,
            formats=formats,
            pdf_detail_limit=cfg.report.pdf_detail_limit,
            pdf_rows_per_account=cfg.report.pdf_rows_per_account,
            paper=cfg.report.paper,
            framework=framework,
            evidence_dir=cfg.paths.evidence_dir / run,  # its manifest goes into report.pdf
        )
    except ValueError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot write the report into {out_dir}: {exc.strerror or exc}") from None
    finally:
        con.close()
    for name, path in files.paths().items():
        extra = f"  ({counted(files.pdf_pages or 0, 'page')})" if name == "pdf" else ""
        typer.echo(f"  {_LABELS[name]}  {path.resolve()}{extra}")
