"""`keyaudit report`: re-render a past run's report and exports from the warehouse."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from keyaudit.cli.common import ConfigOpt, Db, app, fail
from keyaudit.words import counted

ALL_FORMATS = "html,pdf,csv,json,ocsf,xlsx,tickets"
_LABELS = {
    "html": "HTML report",
    "pdf": "PDF report ",
    "csv": "CSV export ",
    "json": "JSON export",
    "ocsf": "OCSF export",
    "xlsx": "XLSX export",
    "tickets": "Tickets CSV",
}


@app.command()
def report(
    run: Annotated[
        str | None,
        typer.Option(
            "--run",
            metavar="RUN_ID",
            help="The run to render (`keyaudit runs` lists them; default: the latest).",
        ),
    ] = None,
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
    findings.json, findings.ocsf.jsonl, findings.xlsx and findings.tickets.csv (Jira's CSV
    import). The same run always renders to the same content.

    A file of the run's report that is already there is kept as it is: the run's report never
    changes after the run. A view (--framework, --account) gets files of its own, named after it
    (report-pci-dss-v4.0.1.pdf, findings-account-111122223333.xlsx), next to the run's.

    Example: keyaudit report --run 20261201T060000Z-3f9a1c --format html,csv --out /tmp/audit

    Example: keyaudit report --framework "PCI DSS v4.0.1" --format pdf
    """
    from keyaudit.config import ConfigError, load_config
    from keyaudit.report import FILE_NAMES, parse_formats, write_report
    from keyaudit.report.history import latest_run
    from keyaudit.rules.catalogue import CatalogueError, load_catalogue
    from keyaudit.warehouse.db import WarehouseError, connect

    try:
        formats = parse_formats(fmt)
    except ValueError as exc:
        raise fail(f"--format: {exc}") from None
    if framework is not None:
        from keyaudit.frameworks import UnknownFramework, lookup

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
    latest = run is None
    if run is None:
        run = latest_run(con)
        if run is None:
            con.close()
            raise fail(
                f"warehouse {db or cfg.paths.warehouse} holds no run yet — run `keyaudit demo` "
                "or `keyaudit run` first"
            )
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
            keep_run_files=True,  # a view has names of its own; the run's files are kept
        )
    except ValueError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot write the report into {out_dir}: {exc.strerror or exc}") from None
    finally:
        con.close()
    if latest:
        typer.echo(f"  run          {run} (the latest in the warehouse)")
    if files.view:
        typer.echo(f"  view         {files.view} (its own files; the run's report is unchanged)")
    for name, path in files.paths().items():
        extra = f"  ({counted(files.pdf_pages or 0, 'page')})" if name == "pdf" else ""
        typer.echo(f"  {_LABELS[name]}  {path.resolve()}{extra}")
    for name in files.kept:
        typer.echo(
            f"  {_LABELS[name]}  {(out_dir / FILE_NAMES[name]).resolve()}  (kept: already there; "
            "to render it again, choose another --out)"
        )
