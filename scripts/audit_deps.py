"""`make audit-deps`: check every package pinned in uv.lock against known vulnerabilities.

uv exports the lock (exact versions with hashes, every extra and dependency group), pip-audit looks each
pinned version up in PyPI's vulnerability data. Passing means every package was checked and
none has a known vulnerability: a package the service could not check fails the target
instead of being skipped silently, and an unreachable service (offline) is one clear line.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

NETWORK_HINT = "this check needs the network (pypi.org); rerun when it is reachable"


def fail(message: str, code: int = 2) -> int:
    print(f"make audit-deps: {message}", file=sys.stderr)
    return code


def export_lock(uv: str, target: Path) -> None:
    subprocess.run(  # noqa: S603 — fixed arguments, no shell
        [
            uv, "export", "--frozen", "--format", "requirements-txt", "--all-groups",
            "--all-extras", "--no-emit-project", "--no-header", "--quiet",
            "--output-file", str(target),
        ],
        check=True,
    )  # fmt: skip


def audit(requirements: Path, report: Path, timeout: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 — fixed arguments, no shell
        [
            sys.executable, "-m", "pip_audit", "--requirement", str(requirements),
            "--require-hashes", "--disable-pip", "--progress-spinner", "off",
            "--timeout", str(timeout), "--format", "json", "--output", str(report),
        ],
        capture_output=True,
        text=True,
    )  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uv", default="uv", help="the uv executable")
    parser.add_argument("--timeout", type=int, default=15, help="socket timeout, seconds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        requirements, report = Path(folder, "requirements.txt"), Path(folder, "audit.json")
        try:
            export_lock(args.uv, requirements)
        except (OSError, subprocess.CalledProcessError) as exc:
            return fail(f"cannot export uv.lock with {args.uv!r} ({exc}) — run `make setup` first")
        done = audit(requirements, report, args.timeout)
        if not report.exists():
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            if any(
                word in done.stderr for word in ("Connection", "resolve", "Timeout", "timed out")
            ):
                return fail(f"cannot reach PyPI's vulnerability data — {NETWORK_HINT} ({last})")
            return fail(f"pip-audit failed: {last}")
        dependencies = json.loads(report.read_text(encoding="utf-8"))["dependencies"]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
            print(f"{dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixed})")
    if skipped:
        example = skipped[0]["skip_reason"]
        return fail(
            f"{len(skipped)} of {len(dependencies)} locked packages could not be checked "
            f"(e.g. {example}) — the vulnerability data is unreachable or incomplete; "
            f"{NETWORK_HINT}"
        )
    if vulnerable:
        return fail(
            f"{len(vulnerable)} of {len(dependencies)} locked packages have known "
            "vulnerabilities (listed above) — upgrade them in pyproject.toml and `uv lock`",
            code=1,
        )
    print(f"audit-deps: {len(dependencies)} locked packages checked, no known vulnerabilities")
    return 0


if __name__ == "__main__":
    sys.exit(main())
