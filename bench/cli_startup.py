"""What an ad-hoc command costs, measured through the real CLI in fresh processes (issue 12.3).

In one run, on this machine:
- an empty Prefect flow on Prefect's temporary API server (the floor of any flow run without
  PREFECT_API_URL): the yardstick the in-process audit is compared with;
- `keyaudit demo` in-process (default: no PREFECT_API_URL) and, for comparison, `--prefect`;
- `keyaudit query "select 1"` against the demo's warehouse, and `keyaudit --help`;
- the import time of what `keyaudit query` loads.

Each figure is the median of --repeat warm runs (the first run of each is discarded as warm-up).

    .venv/bin/python bench/cli_startup.py [--repeat 3] [--no-prefect]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _support import emit

ROOT = Path(__file__).resolve().parents[1]
KEYAUDIT = ROOT / ".venv" / "bin" / "keyaudit"
QUIET_PREFECT = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_UI_ENABLED": "false",
}
EMPTY_FLOW = "from prefect import flow\n@flow\ndef empty():\n    return 1\nempty()\n"
AS_OF = "2026-12-01T06:00:00Z"


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode not in (0, 3):  # 3: the demo's coverage gate, when configured
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr[-600:]}")
    return wall


def median_of(repeat: int, argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    timed(argv, cwd, env)  # warm-up: file caches, .pyc
    return statistics.median(timed(argv, cwd, env) for _ in range(repeat))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-prefect", action="store_true", help="skip the Prefect figures")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(QUIET_PREFECT)
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="keyaudit-cli-") as tmp:
        work = Path(tmp)
        demo = [str(KEYAUDIT), "demo", "--as-of", AS_OF]
        figures["demo_in_process_s"] = median_of(args.repeat, demo, work, env)
        db = str(work / "data" / "keyaudit.duckdb")
        query = [str(KEYAUDIT), "query", "select 1", "--db", db]
        figures["query_select_1_s"] = median_of(args.repeat, query, work, env)
        figures["help_s"] = median_of(args.repeat, [str(KEYAUDIT), "--help"], work, env)
        imports = [sys.executable, "-c", "import keyaudit.cli.query, duckdb"]
        figures["query_imports_s"] = median_of(args.repeat, imports, work, env)
        if not args.no_prefect:
            empty = [sys.executable, "-c", EMPTY_FLOW]
            figures["empty_prefect_flow_s"] = median_of(args.repeat, empty, work, env)
            figures["demo_prefect_temporary_server_s"] = median_of(
                1, [*demo, "--prefect"], work, env
            )
    lines = [
        f"keyaudit demo, in-process (warm, median of {args.repeat}): "
        f"{figures['demo_in_process_s']:.1f} s",
    ]
    if "empty_prefect_flow_s" in figures:
        ratio = figures["demo_in_process_s"] / figures["empty_prefect_flow_s"]
        figures["demo_over_empty_flow"] = ratio
        lines += [
            f"empty Prefect flow, temporary server:            "
            f"{figures['empty_prefect_flow_s']:.1f} s",
            f"demo / empty flow:                               {ratio:.2f} (target < 0.50)",
            f"keyaudit demo --prefect (temporary server):      "
            f"{figures['demo_prefect_temporary_server_s']:.1f} s",
        ]
    lines += [
        f'keyaudit query "select 1":                       '
        f"{figures['query_select_1_s']:.2f} s (target <= 1.5 s)",
        f"keyaudit --help:                                 {figures['help_s']:.2f} s",
        f"python -c 'import keyaudit.cli.query, duckdb':   {figures['query_imports_s']:.2f} s",
    ]
    print("\n".join(lines))
    emit("cli", figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
