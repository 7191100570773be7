"""`keyaudit review export|import` and `keyaudit sign-off`: the access review of a run, and the
reviewer's sign-off of its report."""

from __future__ import annotations

import getpass
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from keyaudit.cli.common import ConfigOpt, Db, _App, _Group, app, fail
from keyaudit.words import counted

if TYPE_CHECKING:
    import duckdb

    from keyaudit.config import Config

review_app = _App(
    name="review",
    help="The access review of a run: export the keys to decide on, import the decisions.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
    cls=_Group,
)
app.add_typer(review_app, name="review")

Run = Annotated[str, typer.Option("--run", metavar="RUN_ID", help="The run (`keyaudit runs`).")]
Evidence = Annotated[
    Path | None,
    typer.Option(
        "--evidence",
        metavar="DIR",
        help="Evidence folder (default data/evidence, or the config's).",
    ),
]


def operating_system_user() -> str:
    """Who ran the command, as the review records it."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def _open(config: Path | None, db: Path | None) -> tuple[Config, duckdb.DuckDBPyConnection]:
    from keyaudit.config import ConfigError, load_config
    from keyaudit.warehouse.db import WarehouseError, connect

    try:
        cfg = load_config(config, overrides={"paths": {"warehouse": str(db)}} if db else None)
        if not cfg.paths.warehouse.exists():
            raise fail(f"warehouse {cfg.paths.warehouse} does not exist — run `keyaudit run` first")
        return cfg, connect(cfg.paths.warehouse, storage_version=cfg.warehouse.storage_version)
    except (ConfigError, WarehouseError) as exc:
        raise fail(str(exc)) from None


@review_app.command("export")
def export(
    run: Run,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", metavar="DIR", help="Folder for the files (default data/reviews/RUN_ID)."
        ),
    ] = None,
    config: ConfigOpt = None,
    db: Db = None,
) -> None:
    """Write review.xlsx and review.csv: one row per active access key of the run with an open
    finding or an admin or escalation privilege, with empty columns for the reviewer's decision
    (keep, rotate, deactivate or defer), justification, ticket, reviewer, defer owner and date.
    The workbook has a sheet per owner where owners are configured.

    Example: keyaudit review export --run 20261201T060000Z-3f9a1c
    """
    from keyaudit.review.sheet import population, write_review
    from keyaudit.safefile import make_private_dirs
    from keyaudit.warehouse.reviews import ReviewError, run_as_of

    cfg, con = _open(config, db)
    try:
        run_as_of(con, run)
        keys = population(con, run)
    except ReviewError as exc:
        raise fail(str(exc)) from None
    finally:
        con.close()
    # beside the reports, not in the run's folder: a run's own files never change
    folder = out or cfg.paths.reports_dir.parent / "reviews" / run
    try:
        make_private_dirs(folder)
        written = write_review(keys, folder)
    except OSError as exc:
        raise fail(f"--out {folder}: cannot write the review ({exc.strerror or exc})") from None
    typer.echo(f"wrote the review of run {run}: {counted(len(keys), 'key')} to decide on")
    for path in written.values():
        typer.echo(f"  {path}")


@review_app.command("import")
def import_(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="The filled review.xlsx or review.csv.")
    ],
    config: ConfigOpt = None,
    db: Db = None,
    evidence: Evidence = None,
) -> None:
    """Check a filled review file and record its decisions: every row must name a key of the
    run's review, an allowed decision (keep, rotate, deactivate, defer), a justification for
    keep, a ticket for rotate and deactivate, an owner and a date within 30 days of the run for
    defer, and a reviewer (`Name <address>`). One bad row refuses the whole file (one line per
    bad row, nothing recorded). A row without a decision leaves its key undecided. The file is
    kept in the run's evidence (review/), with who imported it, when and its SHA-256.

    Example: keyaudit review import data/reviews/20261201T060000Z-3f9a1c/review.xlsx
    """
    from keyaudit.evidence.after_run import AfterRunError
    from keyaudit.evidence.store import EvidenceWriteError
    from keyaudit.review.records import ReviewRefused, import_review
    from keyaudit.sources.review_file import ReviewFileError
    from keyaudit.warehouse.reviews import ReviewError

    cfg, con = _open(config, db)
    try:
        done = import_review(
            con,
            file,
            evidence or cfg.paths.evidence_dir,
            now=datetime.now(UTC),
            user=operating_system_user(),
        )
    except ReviewRefused as exc:
        for line in exc.problems:
            typer.echo(f"keyaudit: error: {line}", err=True)
        raise fail(str(exc)) from None
    except (ReviewFileError, ReviewError, AfterRunError, EvidenceWriteError) as exc:
        raise fail(str(exc)) from None
    finally:
        con.close()
    checked = done.checked
    typer.echo(
        f"recorded the review of run {checked.run_id}: "
        f"{counted(len(checked.decisions), 'decision')}, {checked.undecided:,} undecided; "
        f"the file is in the run's evidence as {done.evidence_path}"
    )


@app.command("sign-off")
def sign_off(
    run: Run,
    reviewer: Annotated[
        str,
        typer.Option("--reviewer", metavar="TEXT", help="Who signs off: `Name <address>`."),
    ],
    statement: Annotated[
        str,
        typer.Option("--statement", metavar="TEXT", help="What the reviewer attests."),
    ],
    report_file: Annotated[
        Path | None,
        typer.Option(
            "--report",
            metavar="FILE",
            help="The report signed off (default the run's report.pdf in data/reports/RUN_ID).",
        ),
    ] = None,
    config: ConfigOpt = None,
    db: Db = None,
    evidence: Evidence = None,
) -> None:
    """Record a reviewer's sign-off of a run: the SHA-256 of the run's report, the time, the
    reviewer and the statement, in the warehouse and in the run's evidence (review/). Append-only:
    a second sign-off adds to the first. Reports rendered afterwards (`keyaudit report --run`,
    the next run's report) show it; the run's own report, hashed before anyone signed, never
    changes.

    Example: keyaudit sign-off --run 20261201T060000Z-3f9a1c --reviewer "Dana Reviewer `<dana@example.com>`" --statement "I reviewed every key of this run"
    """
    from keyaudit.evidence.after_run import AfterRunError
    from keyaudit.evidence.store import EvidenceWriteError
    from keyaudit.report.file_names import FILE_NAMES
    from keyaudit.review.records import sign_off_run
    from keyaudit.sources.review_file import ReviewFileError
    from keyaudit.warehouse.reviews import ReviewError

    cfg, con = _open(config, db)
    report = report_file or cfg.paths.reports_dir / run / FILE_NAMES["pdf"]
    try:
        made, path = sign_off_run(
            con,
            run,
            reviewer=reviewer,
            statement=statement,
            report=report,
            evidence_root=evidence or cfg.paths.evidence_dir,
            now=datetime.now(UTC),
            user=operating_system_user(),
        )
    except ReviewFileError as exc:
        raise fail(
            f"{exc} — render it with `keyaudit report --run {run}`, or name the report signed "
            "off with --report FILE"
        ) from None
    except (ReviewError, AfterRunError, EvidenceWriteError) as exc:
        raise fail(str(exc)) from None
    finally:
        con.close()
    typer.echo(
        f"run {run} signed off by {made.reviewer}: {made.report_file} SHA-256 "
        f"{made.report_sha256[:16]}…; recorded in the run's evidence as {path}"
    )
