"""`keyaudit sample`: draw a re-performable sample of a run's keys, findings or users."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from keyaudit.cli.common import ConfigOpt, Db, app, fail
from keyaudit.words import counted


@app.command()
def sample(
    of: Annotated[
        str, typer.Option("--of", metavar="KIND", help="What to sample: keys, findings or users.")
    ],
    seed: Annotated[
        str,
        typer.Option(
            "--seed", metavar="TEXT", help="The auditor's seed: the same seed draws the same items."
        ),
    ],
    size: Annotated[int, typer.Option("--size", metavar="N", help="How many items to draw.")] = 25,
    run: Annotated[
        str | None,
        typer.Option("--run", metavar="RUN_ID", help="The run to sample (default: the latest)."),
    ] = None,
    db: Db = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", metavar="DIR", help="Folder for the files (default data/samples/RUN_ID)."
        ),
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Draw a sample an auditor can re-perform: the run's keys, findings or users ordered by
    SHA-256 of the seed followed by each id, the first N. Writes sample-KIND-SEED.xlsx and .csv
    and records the draw (seed, size, population, ids, file hashes) in the warehouse.

    Example: keyaudit sample --of keys --size 25 --seed "FY2026 Q4 ITGC"
    """
    from keyaudit.config import ConfigError, load_config
    from keyaudit.evidence.store import sha256_file
    from keyaudit.report.sample_files import write_sample
    from keyaudit.safefile import make_private_dirs
    from keyaudit.warehouse.db import WarehouseError, connect
    from keyaudit.warehouse.samples import SampleError, check_request, draw, record

    try:
        check_request(of, seed, size)
        paths = load_config(config).paths
        con = connect(db or paths.warehouse)
    except (SampleError, ConfigError, WarehouseError) as exc:
        raise fail(str(exc)) from None
    try:
        try:
            drawn = draw(con, of, seed, size, run)
        except SampleError as exc:
            raise fail(str(exc)) from None
        # beside the reports, not in the run's folder: a run's own files never change
        folder = out or paths.reports_dir.parent / "samples" / drawn.run_id
        try:
            make_private_dirs(folder)
            written = write_sample(drawn, folder)
        except OSError as exc:
            raise fail(f"--out {folder}: cannot write the sample ({exc.strerror or exc})") from None
        record(
            con,
            drawn,
            datetime.now(UTC),
            {name: sha256_file(p) for name, p in written.items()},
        )
    finally:
        con.close()
    typer.echo(
        f"drew {counted(len(drawn.rows), drawn.of.removesuffix('s'))} of {drawn.population:,} "
        f"from run {drawn.run_id} (seed {drawn.seed!r})"
    )
    for p in written.values():
        typer.echo(f"  {p}")
