"""`keyaudit verify RUN_ID`: recompute the run's evidence hashes against its manifests and the
warehouse; exit 1 on any difference, naming each file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from keyaudit.cli.common import ConfigOpt, Db, app, fail
from keyaudit.words import counted, plural


@app.command()
def verify(
    run_id: Annotated[
        str,
        typer.Argument(metavar="RUN_ID", help="The run to verify (`keyaudit runs` lists them)."),
    ],
    db: Db = None,
    evidence: Annotated[
        Path | None,
        typer.Option(
            "--evidence",
            metavar="DIR",
            help="Evidence folder (default data/evidence, or the config's).",
        ),
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Check that a run's evidence files are exactly those loaded: SHA-256 of every file against
    the run manifest, the account manifests and the warehouse, and the manifest against the hash
    stored with the run. Exit 0 when everything matches, 1 on any difference.

    Example: keyaudit verify 20261201T060000Z-3f9a1c
    """
    from keyaudit.cli.query import open_read_only
    from keyaudit.config import ConfigError, load_config
    from keyaudit.evidence.verify import VerifyError, verify_run

    try:
        cfg = load_config(config)
    except ConfigError as exc:
        raise fail(str(exc)) from None
    con = open_read_only(db or cfg.paths.warehouse)
    try:
        result = verify_run(con, evidence or cfg.paths.evidence_dir, run_id)
    except VerifyError as exc:
        raise fail(str(exc)) from None
    finally:
        con.close()
    for difference in result.differences:
        typer.echo(difference.line())
    if result.ok:
        typer.echo(
            f"run {run_id}: evidence verified — {counted(result.files_checked, 'file')} in "
            f"{result.run_dir} {plural('matches', result.files_checked, 'match')} the run "
            "manifest, the account manifests and the warehouse; the manifest "
            "matches the hash stored with the run"
        )
        return
    typer.echo(
        f"run {run_id}: {counted(len(result.differences), 'difference')} in the evidence at "
        f"{result.run_dir} — the evidence is not what was loaded",
        err=True,
    )
    raise typer.Exit(1)
