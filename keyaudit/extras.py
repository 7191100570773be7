"""Optional extras: moto for `keyaudit demo` (`keyaudit[demo]`), Dask for scale-out
(`keyaudit[dask]`). A run that needs a missing one stops with one line naming the pip command,
before anything imports it."""

from __future__ import annotations

from importlib.util import find_spec

from keyaudit.model import KeyauditError

# extra -> (what needs it, {import name: distribution})
EXTRAS: dict[str, tuple[str, dict[str, str]]] = {
    "demo": ("keyaudit demo (the simulated organization)", {"moto": "moto"}),
    "dask": (
        'run.task_runner = "dask"',
        {"prefect_dask": "prefect-dask", "distributed": "dask[distributed]"},
    ),
}


class MissingExtraError(KeyauditError):
    """An optional extra that this run needs is not installed."""


def _installed(module: str) -> bool:
    try:
        return find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing(extra: str) -> list[str]:
    """The distributions of `extra` that cannot be imported here."""
    _, modules = EXTRAS[extra]
    return [dist for module, dist in modules.items() if not _installed(module)]


def require_extra(extra: str) -> None:
    """Raise MissingExtraError, naming the fix, unless every package of `extra` is installed."""
    absent = missing(extra)
    if absent:
        needs, _ = EXTRAS[extra]
        raise MissingExtraError(
            f"{needs} needs {', '.join(absent)}, which {'is' if len(absent) == 1 else 'are'} "
            f"not installed — pip install 'keyaudit[{extra}]' (in a checkout: make setup)"
        )
