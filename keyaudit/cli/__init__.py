"""The `keyaudit` command. Each command group lives in its own module and registers itself on
the shared Typer app when imported here."""

from keyaudit.cli import audit, query  # noqa: F401  (commands register on import)
from keyaudit.cli.common import app

__all__ = ["app"]
