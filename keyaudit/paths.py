"""Where keyaudit's SQL, templates and shipped files are, in a checkout or an installed package.

`sql/`, `reports/templates/`, `prefect.yaml` and `keyaudit.example.toml` are top-level in the
repository. A wheel carries them as package data in the same layout under `keyaudit/_data`
(pyproject.toml, `[tool.hatch.build.targets.wheel.force-include]`), found here through
`importlib.resources`; from a checkout or an editable install the repository's own files are used.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]


def data_root() -> Path:
    """`keyaudit/_data` of an installed wheel, else the checkout the package runs from.

    A wheel installs as plain files, so the resource is a real directory: `Path(str(...))`."""
    packaged = files("keyaudit") / "_data"
    if packaged.is_dir():
        return Path(str(packaged)).resolve()
    return CHECKOUT


DATA_ROOT = data_root()
# The folder that holds the layout below; kept under its old name (the checkout in a checkout).
PROJECT_ROOT = DATA_ROOT
SQL_DIR = DATA_ROOT / "sql"
TEMPLATES_DIR = DATA_ROOT / "reports" / "templates"
PREFECT_YAML = DATA_ROOT / "prefect.yaml"  # the deployment `keyaudit serve` serves by default
EXAMPLE_CONFIG = DATA_ROOT / "keyaudit.example.toml"  # every configuration key, documented
