"""The `keyaudit` command. Each command group lives in its own module and registers itself on
the shared Typer app when imported here.

The top stage: it may import every stage of the library and flows; nothing imports it but
`keyaudit.__main__` (docs/architecture.md, "Layers")."""

from keyaudit.cli import (  # noqa: F401  (each module registers its commands on import)
    audit,
    deliver,
    query,
    remediate,
    report,
    review,
    rules,
    runs,
    sample,
    serve,
    track,
    verify,
)
from keyaudit.cli.common import app

__all__ = ["app"]
