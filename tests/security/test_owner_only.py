"""Issue 20, item 2: every file and folder keyaudit creates is owner-only, DuckDB's `.wal`
included, whatever the umask it was started with; folders it did not create keep their mode.

The CLI and the Prefect flow set an owner-only umask where a run starts
(keyaudit.safefile.owner_only_umask). The runs here are real `keyaudit` processes started with
umask 022: one killed while its warehouse is open (the `.wal` a crash leaves behind), one that
finishes into an --out folder the user made."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from keyaudit.cli import app
from tests.auditor.given import A, folder_of, report

# slow end to end: `make test-slow` runs it, `make test` leaves it out, CI runs both
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
AS_OF = "2026-12-01T06:00:00Z"


def current_umask() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def keyaudit(args: list[str], *, before: str = "") -> subprocess.CompletedProcess[str]:
    """`keyaudit ARGS` in a new process started with umask 022; `before` runs first in it."""
    script = textwrap.dedent(before) + f"\nfrom keyaudit.cli import app\napp({args!r})\n"
    return subprocess.run(
        ["sh", "-c", 'umask 022 && exec "$0" -c "$1"', sys.executable, script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def modes(folder: Path) -> dict[Path, int]:
    """Each file and folder under `folder` (not `folder` itself) and its permission bits."""
    return {path: stat.S_IMODE(os.lstat(path).st_mode) for path in folder.rglob("*")}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """data/ after a files run killed during its load (warehouse open, .wal written), then a
    run that finished into `user-out`, a folder the user made 0755 beforehand."""
    folder = tmp_path_factory.mktemp("umask")
    files = folder_of(folder, {f"{A}.csv": report(A)})
    (folder / "user-out").mkdir()
    os.chmod(folder / "user-out", 0o755)
    run = ["run", "--source", "files", "--files", str(files), "--as-of", AS_OF]
    run += ["--db", str(folder / "data" / "keyaudit.duckdb")]
    config = folder / "keyaudit.toml"
    config.write_text(
        f'[paths]\nevidence_dir = "{folder / "data" / "evidence"}"\n'
        f'reports_dir = "{folder / "data" / "reports"}"\n',
        encoding="utf-8",
    )
    run += ["--config", str(config)]
    killed = keyaudit(
        [*run, "--out", str(folder / "data" / "killed-out")],
        before="""
        import os
        import keyaudit.warehouse.load

        def killed(*args, **kwargs):  # the process dies with the warehouse open
            os._exit(9)

        keyaudit.warehouse.load.load_run = killed
        """,
    )
    assert killed.returncode == 9, killed.stderr
    (folder / "crashed").mkdir()
    wal = folder / "data" / "keyaudit.duckdb.wal"
    assert wal.exists(), "the killed run left no .wal: nothing to check"
    (folder / "crashed" / "wal-mode").write_text(str(stat.S_IMODE(wal.stat().st_mode)))
    finished = keyaudit([*run, "--out", str(folder / "user-out")])
    assert finished.returncode in (0, 1), finished.stderr  # 1: findings at or above fail-on
    return folder


def test_a_crashed_runs_wal_is_owner_only(runs: Path):
    assert int((runs / "crashed" / "wal-mode").read_text()) == 0o600


def test_every_file_of_the_run_is_0600_and_every_folder_0700(runs: Path):
    data = runs / "data"
    made = {data: stat.S_IMODE(data.stat().st_mode), **modes(data), **modes(runs / "user-out")}
    assert {runs / "data" / "keyaudit.duckdb", runs / "user-out" / "report.pdf"} <= set(made)
    assert len(made) > 20
    wrong = {
        f"{path} is {mode:04o}"
        for path, mode in made.items()
        if mode != (0o700 if path.is_dir() else 0o600)
    }
    assert not wrong


def test_the_users_own_out_folder_keeps_its_mode(runs: Path):
    assert stat.S_IMODE((runs / "user-out").stat().st_mode) == 0o755


def test_every_command_starts_with_an_owner_only_umask(tmp_path: Path):
    os.umask(0o022)  # the autouse process_state fixture puts the test process's back
    CliRunner().invoke(app, ["runs", "--db", str(tmp_path / "none.duckdb")])
    assert current_umask() == 0o077


def test_the_flow_starts_with_an_owner_only_umask(monkeypatch: pytest.MonkeyPatch):
    import keyaudit.flows.audit

    seen: list[int] = []

    class Stop(Exception):
        pass

    def run_audit(*args: object, **kwargs: object) -> None:
        seen.append(current_umask())
        raise Stop

    monkeypatch.setattr(keyaudit.flows.audit.pipeline, "run_audit", run_audit)
    os.umask(0o022)
    with pytest.raises(Stop):
        keyaudit.flows.audit.audit_flow.fn(source="files", files_dir="x")
    assert seen == [0o077]
