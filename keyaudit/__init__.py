"""keyaudit: organization-wide audit of AWS long-term credentials."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("keyaudit")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+local"
