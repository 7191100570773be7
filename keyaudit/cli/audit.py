"""`keyaudit demo` and `keyaudit run`: the audit flow from the command line."""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from keyaudit.exits import RUN_EXIT_CODES, exit_codes_help
from keyaudit.model import HEADLINE_SEVERITIES
from keyaudit.words import counted, plural

if TYPE_CHECKING:  # the CLI imports its heavy parts only when a command runs
    from keyaudit.config import Config
    from keyaudit.model import SourceName
    from keyaudit.outcome import AuditResult
    from keyaudit.warehouse.load import RunSummary

from keyaudit.cli.common import (
    AsOf,
    ConfigOpt,
    Db,
    Out,
    PrefectOpt,
    app,
    fail,
    parse_as_of,
    quiet_prefect,
    show_progress,
)


def _run_audit(
    source: SourceName,
    config: Path | None,
    db: Path | None,
    out: Path | None,
    as_of: str | None,
    *,
    files_dir: Path | None = None,
    resume: str | None = None,
    prefect: bool = False,
) -> None:
    """Run the pipeline in this process, or as the Prefect flow when a Prefect API is set.

    The configuration is read once, here, and handed to everything that needs it before the
    run and to the in-process run itself (a Prefect flow reads it in the flow, as a deployment
    does)."""
    from keyaudit import pipeline
    from keyaudit.model import KeyauditError

    request = pipeline.AuditRequest(
        source=source,
        config_file=config,
        as_of=parse_as_of(as_of),
        db=db,
        out=out,
        files_dir=files_dir,
        resume=resume,
    )
    try:  # configuration, catalogue, waivers, files and resume: checked before anything runs
        settings = pipeline.load_settings(request)
        if source == "demo":
            _demo_review(settings.config, as_of)
        doing = pipeline.check_request(request, settings)
    except KeyauditError as exc:
        raise fail(str(exc)) from None
    show_progress()
    dask = settings.config.run.task_runner == "dask"  # collection needs Prefect there
    if prefect or dask or os.environ.get("PREFECT_API_URL"):
        result = _on_prefect(request, doing, dask=dask)
    else:
        typer.echo(
            f"keyaudit: {doing} in this process (set PREFECT_API_URL or pass --prefect to run "
            "it as a Prefect flow) …",
            err=True,
        )
        try:
            result = pipeline.run_audit(request, settings=settings).result
        except (KeyauditError, OSError) as exc:
            raise fail(str(exc)) from None
    _print_summary(result)
    for problem in result.problems:  # finished, report written and delivered, not acceptable
        typer.echo(f"keyaudit: error: {problem}", err=True)
    if result.exit_code:
        raise typer.Exit(result.exit_code)


def _on_prefect(request: Any, doing: str, *, dask: bool) -> AuditResult:
    """The same pipeline as the `keyaudit-audit` flow, on the configured Prefect API."""
    quiet_prefect()
    from keyaudit.flows.audit import audit_flow
    from keyaudit.flows.scale import require_api_server
    from keyaudit.model import KeyauditError
    from keyaudit.outcome import IncompleteRun

    try:
        if dask:
            require_api_server()  # say so now, not after Prefect has started
    except KeyauditError as exc:
        raise fail(str(exc)) from None
    api = os.environ.get("PREFECT_API_URL") or "a temporary local Prefect server"
    typer.echo(f"keyaudit: {doing} as a Prefect flow on {api} …", err=True)
    from keyaudit.flows.temporary_server import start_temporary_server

    start_temporary_server()  # if it is ours: it ends with this process, even on kill -9
    try:
        result = audit_flow(
            source=request.source,
            config_file=str(request.config_file) if request.config_file else None,
            as_of=request.as_of,
            db=str(request.db) if request.db else None,
            out=str(request.out) if request.out else None,
            files_dir=str(request.files_dir) if request.files_dir else None,
            resume=request.resume,
        )
    except IncompleteRun as exc:  # the flow ended Failed: its result says why
        return exc.result
    except (KeyauditError, OSError) as exc:
        raise fail(str(exc)) from None
    return cast("AuditResult", result)  # a Failed state would have raised above


def _file_lines(result: AuditResult) -> list[str]:
    """Where the run's files are, one per line, the paths in one column whatever the labels."""
    files = [
        ("HTML report", str(result.html)),
        ("PDF report", f"{result.pdf}  ({counted(result.pdf_pages or 0, 'page')})"),
        *(
            (f"{fmt.upper()} export", str(path))
            for fmt, path in result.outputs.items()
            if fmt not in ("html", "pdf")
        ),
        ("warehouse", str(result.warehouse)),
        ("evidence", str(result.evidence)),
    ]
    width = max(len(label) for label, _ in files)
    return [f"  {label:<{width}}  {where}" for label, where in files]


def _print_summary(result: AuditResult) -> None:
    s = result.summary
    width = max((len(rule) for rule in s.findings_by_rule), default=0)
    lines = [
        "",
        f"Run {s.run_id}  (as of {s.as_of})",
        f"  accounts in scope     {s.accounts_in_scope}",
        f"  assessed              {s.accounts_assessed}"
        + (f"  ({s.accounts_partial} partially)" if s.accounts_partial else ""),
        f"  not assessed          {s.accounts_not_assessed}",
        f"  skipped (not ACTIVE)  {s.accounts_skipped}",
        "  findings by severity  "
        + ", ".join(f"{sev} {s.findings_by_severity.get(sev, 0)}" for sev in HEADLINE_SEVERITIES),
        _changes_line(s),  # new and resolved since the previous run
        "  findings by rule",
        *(f"    {rule:<{width}} {n}" for rule, n in sorted(s.findings_by_rule.items())),
        "",
        *_file_lines(result),
        *_delivery_lines(result),
    ]
    if s.accounts_not_assessed:
        lines.insert(
            2,
            f"  INCOMPLETE: {counted(s.accounts_not_assessed, 'account')} could not be assessed",
        )
    _add_files_summary(result, lines)
    typer.echo("\n".join(lines))


def _changes_line(s: RunSummary) -> str:
    """New and resolved since the previous run of the same scope, as the report counts them."""
    if s.previous_run_id is None:
        return "  since previous run    no previous run of this scope"
    return (
        f"  since previous run    {s.findings_new} new, {s.findings_resolved} resolved "
        f"(run {s.previous_run_id})"
    )


def _delivery_lines(result: AuditResult) -> list[str]:
    """Where the run was delivered (S3, e-mail), when anything beyond the folder was set up."""
    delivery = result.delivery
    if not delivery or all(r["target"] == "folder" for r in delivery["results"]):
        return []
    from keyaudit.flows.artifacts import delivery_lines

    return ["", "  delivery", *(f"    {line}" for line in delivery_lines(delivery))]


def _add_files_summary(result: AuditResult, lines: list[str]) -> None:
    """A files run also says what became of each file, and warns of files no account owns."""
    from keyaudit.evidence.run_record import run_file_of
    from keyaudit.sources.files import summary_line

    meta = run_file_of(Path(result.evidence))
    line = summary_line(meta)
    if line:
        lines.append(f"  input files  {line}")
    unattributed = sum(f["status"] == "unattributed" for f in meta.get("files", []))
    if unattributed:
        lines.insert(
            2,
            f"  INCOMPLETE: {counted(unattributed, 'report file')} "
            f"{plural('belongs', unattributed)} to no known account (see the run notes)",
        )


@app.command(epilog=exit_codes_help(RUN_EXIT_CODES))
def demo(
    db: Db = None,
    out: Out = None,
    as_of: AsOf = None,
    config: ConfigOpt = None,
    prefect: PrefectOpt = False,
) -> None:
    """Audit a simulated organization (moto, in-process) end to end.

    In its second month (a warehouse holding one earlier demo run), the demo first reviews that
    run and signs it off, as a reviewer would (docs/evidence.md), so its report shows the loop.

    Example: keyaudit demo --as-of 2026-12-01T06:00:00Z
    """
    _run_audit("demo", config, db, out, as_of, prefect=prefect)  # reviews first (_demo_review)


def _demo_review(cfg: Config, as_of: str | None) -> None:
    """The demo's review and sign-off of its first month (keyaudit.review.demo), with the
    run's configuration (--db applied)."""
    from datetime import UTC, datetime

    from keyaudit.model import KeyauditError
    from keyaudit.warehouse.db import connect

    now = datetime.now(UTC)
    try:
        if not cfg.paths.warehouse.is_file():
            return
        # imports moto: without the demo extra this is the one-line MissingExtraError
        from keyaudit.review.demo import review_first_month

        con = connect(cfg.paths.warehouse, storage_version=cfg.warehouse.storage_version)
        try:
            done = review_first_month(con, cfg, parse_as_of(as_of) or now, now)
        finally:
            con.close()
    except KeyauditError as exc:
        raise fail(str(exc)) from None
    if done is not None:
        typer.echo(
            f"keyaudit: demo: reviewed run {done.run_id} as a reviewer would "
            f"({counted(done.decided, 'decision')}, {done.undecided:,} undecided; "
            f"{done.review_file}) and signed it off ({done.signed_off})",
            err=True,
        )


class RunSource(StrEnum):
    aws = "aws"
    files = "files"


@app.command(epilog=exit_codes_help(RUN_EXIT_CODES))
def run(
    config: ConfigOpt = None,
    db: Db = None,
    out: Out = None,
    as_of: AsOf = None,
    source: Annotated[
        RunSource,
        typer.Option(
            "--source",
            metavar="SOURCE",
            help="aws: call AWS; files: audit the credential reports in --files DIR.",
        ),
    ] = RunSource.aws,
    files: Annotated[
        Path | None,
        typer.Option(
            "--files",
            metavar="DIR",
            help="Folder of credential reports, one ACCOUNT_ID.csv per account "
            "(optional ACCOUNT_ID.access_keys.json beside it); with --source files.",
        ),
    ] = None,
    resume: Annotated[
        str | None,
        typer.Option(
            "--resume",
            metavar="RUN_ID",
            help="Finish an interrupted run from its evidence: load and report it, collecting "
            "only accounts it had not finished (no AWS call when there are none).",
        ),
    ] = None,
    prefect: PrefectOpt = False,
) -> None:
    """Audit real AWS accounts with the standard AWS configuration (profile, AWS_REGION, …),
    or a folder of credential reports handed in by account owners (--source files).

    Example: AWS_PROFILE=org-audit keyaudit run --config keyaudit.toml

    Example: keyaudit run --source files --files reports/2026-12 --as-of 2026-12-01T06:00:00Z

    Example: keyaudit run --resume 20261201T060000Z-3f9a1c
    """
    if resume and (as_of or files is not None or source is not RunSource.aws):
        raise fail(
            "--resume keeps the run's recorded source and --as-of — drop --as-of, --source and --files"
        )
    if source is RunSource.files and files is None:
        raise fail("--source files needs --files DIR, the folder of credential reports")
    if source is RunSource.aws and files is not None:
        raise fail("--files is read only with --source files — add --source files")
    _run_audit(
        cast("SourceName", source.value),
        config,
        db,
        out,
        as_of,
        files_dir=files,
        resume=resume,
        prefect=prefect,
    )
