"""`keyaudit verify RUN_ID`: recompute the run's evidence hashes against its manifests and the
warehouse, and check a signed run's signature with the configured public key; exit 1 on any
difference, naming each file."""

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
    require_signature: Annotated[
        bool,
        typer.Option(
            "--require-signature",
            help="Fail (exit 1) when the run is not signed: a run whose signature and "
            "warehouse record were both deleted looks unsigned.",
        ),
    ] = False,
) -> None:
    """Check that a run's evidence files are exactly those loaded: SHA-256 of every file against
    the run manifest, the account manifests and the warehouse, and the manifest against the hash
    stored with the run. A signed run's manifest signature is checked with [signing]
    public_key_file, or the KMS key's public key ([signing] kms_key_id); an unsigned run says
    "not signed". Exit 0 when everything matches, 1 on any difference.

    Example: keyaudit verify 20261201T060000Z-3f9a1c --require-signature
    """
    from keyaudit.cli.query import open_read_only
    from keyaudit.config import ConfigError, load_config
    from keyaudit.evidence.signing import SigningError
    from keyaudit.integrity.verify import VerifyError, verify_run
    from keyaudit.sources.aws.kms import trusted_key
    from keyaudit.sources.provider import session_settings

    try:
        cfg = load_config(config)
        trusted = trusted_key(cfg, session_settings(cfg, "verify"))
    except (ConfigError, SigningError) as exc:
        raise fail(str(exc)) from None
    con = open_read_only(db or cfg.paths.warehouse)
    try:
        result = verify_run(con, evidence or cfg.paths.evidence_dir, run_id, trusted)
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
        typer.echo(f"run {run_id}: {result.signature}")
        if require_signature and not result.signed:
            typer.echo(
                f"run {run_id}: not signed, and --require-signature was given — the evidence "
                "cannot be proven against an insider who can rewrite it and the warehouse",
                err=True,
            )
            raise typer.Exit(1)
        return
    typer.echo(
        f"run {run_id}: {counted(len(result.differences), 'difference')} in the evidence at "
        f"{result.run_dir} — the evidence is not what was loaded",
        err=True,
    )
    raise typer.Exit(1)
