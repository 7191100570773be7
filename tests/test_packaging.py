"""The installed package finds its shipped files, and a missing optional extra is one clear error.

The wheel itself is built, installed and run by `make wheel-check` (scripts/check_wheel.sh)."""

from __future__ import annotations

import os
import subprocess
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

import keyaudit.extras
import keyaudit.paths
from keyaudit.config import load_config
from keyaudit.extras import MissingExtraError, require_extra
from keyaudit.sources.provider import open_source

REPO = Path(__file__).resolve().parents[1]


def test_a_checkout_uses_the_repository_folders() -> None:
    assert keyaudit.paths.SQL_DIR == REPO / "sql"
    assert keyaudit.paths.TEMPLATES_DIR == REPO / "reports" / "templates"
    assert keyaudit.paths.PREFECT_YAML.is_file()
    assert keyaudit.paths.EXAMPLE_CONFIG.is_file()


def test_an_installed_package_uses_its_packaged_data(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "_data" / "sql").mkdir(parents=True)
    monkeypatch.setattr(keyaudit.paths, "files", lambda package: tmp_path)
    assert keyaudit.paths.data_root() == (tmp_path / "_data").resolve()


def test_the_wheel_ships_every_file_that_paths_names() -> None:
    """Each folder or file keyaudit.paths points into is force-included at the same place."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    shipped = project["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    for path in (
        keyaudit.paths.SQL_DIR,
        keyaudit.paths.TEMPLATES_DIR,
        keyaudit.paths.PREFECT_YAML,
        keyaudit.paths.EXAMPLE_CONFIG,
    ):
        inside = path.relative_to(keyaudit.paths.DATA_ROOT).as_posix()
        assert shipped.get(inside) == f"keyaudit/_data/{inside}"


def _without(monkeypatch: pytest.MonkeyPatch, *absent: str) -> None:
    real = keyaudit.extras.find_spec
    monkeypatch.setattr(
        keyaudit.extras, "find_spec", lambda name: None if name in absent else real(name)
    )


def test_a_missing_extra_names_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    _without(monkeypatch, "moto")
    with pytest.raises(MissingExtraError) as raised:
        require_extra("demo")
    message = str(raised.value)
    assert "pip install 'keyaudit[demo]'" in message and "\n" not in message
    _without(monkeypatch, "prefect_dask")
    with pytest.raises(MissingExtraError, match=r"keyaudit\[dask\]"):
        require_extra("dask")


def test_installed_extras_pass() -> None:
    require_extra("demo")
    require_extra("dask")


def test_the_demo_source_refuses_to_open_without_moto(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _without(monkeypatch, "moto")
    config = load_config(None)
    as_of = datetime(2026, 12, 1, 6, tzinfo=UTC)
    with (
        pytest.raises(MissingExtraError, match=r"keyaudit\[demo\]"),
        open_source("demo", config, run_id="r", as_of=as_of),
    ):
        pass
    with open_source("files", config, run_id="r", as_of=as_of) as source:  # needs no extra
        assert source.name == "files"


# --------------------------------------------------------------------------- setting up


def make_plan(target: str) -> list[str]:
    """The commands `make TARGET` would run from a fresh checkout (make -n: nothing runs)."""
    result = subprocess.run(
        ["make", "--no-print-directory", "--always-make", "--dry-run", target],
        cwd=REPO,
        # under CI's own make (MAKELEVEL, MAKEFLAGS) make would announce the directory it enters
        env={k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.splitlines()


def test_setting_up_to_run_installs_only_what_running_needs() -> None:
    for target in ("setup", "demo"):
        plan = make_plan(target)
        assert "scripts/system-deps.sh" in plan  # WeasyPrint's libraries and fonts
        assert not [line for line in plan if "system-deps.sh test" in line]  # no chromium


def test_the_tests_bring_their_own_system_packages() -> None:
    for target in ("test", "test-slow"):
        plan = make_plan(target)
        assert plan.index("scripts/system-deps.sh") < plan.index("scripts/system-deps.sh test")
        assert "pytest" in plan[-1]  # installed before the tests run


def test_the_runtime_packages_are_weasyprints_and_never_chromium(tmp_path: Path) -> None:
    """scripts/system-deps.sh on a machine that has none of them (ldconfig and fc-list find
    nothing), with apt-get recording what it is asked for."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool, body in {
        "ldconfig": "",
        "fc-list": "",
        "sudo": 'exec "$@"',
        "apt-get": f'echo "$@" >> {tmp_path / "apt.log"}',
    }.items():
        (bin_dir / tool).write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
        (bin_dir / tool).chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)}
    subprocess.run(
        [REPO / "scripts" / "system-deps.sh"], env=env, check=True, capture_output=True, timeout=60
    )
    installed = (tmp_path / "apt.log").read_text(encoding="utf-8").split()
    assert {"libpango-1.0-0", "libpangoft2-1.0-0", "fonts-dejavu-core"} <= set(installed)
    assert "chromium" not in installed


# --------------------------------------------------------------------------- keyaudit.flows


def test_flows_is_keyaudit_flows_in_the_checkout_and_in_the_wheel() -> None:
    """The repository's flows/ is the package keyaudit.flows: through the link keyaudit/flows
    here, at keyaudit/flows in the wheel, which installs no top-level `flows`."""
    import keyaudit.flows.audit

    assert (REPO / "keyaudit" / "flows").resolve() == REPO / "flows"
    assert Path(keyaudit.flows.audit.__file__).resolve() == REPO / "flows" / "audit.py"
    wheel = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["hatch"]
    wheel = wheel["build"]["targets"]["wheel"]
    assert wheel["packages"] == ["keyaudit"]
    assert wheel["force-include"]["flows"] == "keyaudit/flows"
