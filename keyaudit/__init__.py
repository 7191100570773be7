"""keyaudit: organization-wide audit of AWS long-term credentials."""

from typing import Any


def __getattr__(name: str) -> Any:
    """`keyaudit.__version__`, read from the installed metadata when first asked for: the
    metadata machinery costs ~80 ms, which every `keyaudit` command would otherwise pay."""
    if name != "__version__":
        raise AttributeError(f"module 'keyaudit' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("keyaudit")
    except PackageNotFoundError:  # running from a source tree without install
        found = "0.0.0+local"
    globals()["__version__"] = found
    return found
