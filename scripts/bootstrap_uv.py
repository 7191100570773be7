#!/usr/bin/env python3
"""Install uv into ~/.local/bin with nothing but the system Python's standard library.

Stock Debian 12 and Ubuntu 24.04 refuse `pip install` into the system Python (PEP 668,
"externally-managed-environment"), and their `python3 -m venv` needs the python3-venv package,
which a fresh machine may lack. uv is published on PyPI as a wheel that holds one static binary:
this script fetches the wheel of a pinned release for this machine, checks it against the
SHA-256 pinned below, and copies the binary out. Nothing else on the machine is touched.

Usage: python3 scripts/bootstrap_uv.py [DEST]     (default: ~/.local/bin/uv)
The index is PyPI's simple API; set UV_BOOTSTRAP_INDEX to use a mirror that serves PEP 691 JSON.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import sys
import urllib.request
import zipfile
from pathlib import Path

VERSION = "0.13.9"
# The wheel per machine (`platform.machine()`), and its SHA-256 as PyPI lists it.
WHEELS = {
    "x86_64": (
        f"uv-{VERSION}-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "d7f459fe4fd247d830351c75686d3996ace3c6f3f728eb0e85a30b7ada0cef19",
    ),
    "aarch64": (
        f"uv-{VERSION}-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.musllinux_1_1_aarch64.whl",
        "5435c5ce14a56431208ca0996416d310f1598e8c2c8ba707688985a16bb82dbe",
    ),
}
WHEELS["arm64"] = WHEELS["aarch64"]
INDEX = os.environ.get("UV_BOOTSTRAP_INDEX", "https://pypi.org/simple").rstrip("/")
TIMEOUT = 60


def fail(message: str) -> None:
    print(f"keyaudit: {message}", file=sys.stderr)
    raise SystemExit(1)


def https(url: str) -> str:
    """Only https: urlopen would also open file: and ftp: addresses."""
    if not url.startswith("https://"):
        fail(f"{url} is not an https address — set UV_BOOTSTRAP_INDEX to an https mirror")
    return url


def wheel_url(filename: str) -> str:
    request = urllib.request.Request(  # noqa: S310 (https only, checked in main)
        f"{INDEX}/uv/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:  # noqa: S310
        files = json.load(answer)["files"]
    for entry in files:
        if entry["filename"] == filename:
            return https(str(entry["url"]))
    fail(f"{INDEX}/uv/ does not list {filename} — set UV_BOOTSTRAP_INDEX to a full PyPI mirror")
    raise AssertionError  # unreachable


def main() -> None:
    dest = Path(sys.argv[1] if len(sys.argv) > 1 else Path.home() / ".local" / "bin" / "uv")
    machine = platform.machine()
    if sys.platform != "linux" or machine not in WHEELS:
        fail(
            f"no pinned uv wheel for {sys.platform}/{machine} — install uv yourself "
            "(https://docs.astral.sh/uv/getting-started/installation/) and run make again"
        )
    filename, sha256 = WHEELS[machine]
    https(INDEX)
    try:
        url = wheel_url(filename)
        with urllib.request.urlopen(url, timeout=TIMEOUT) as answer:  # noqa: S310 (https only)
            data = answer.read()
    except OSError as exc:
        fail(f"cannot download uv {VERSION} from {INDEX} ({exc}) — check the network or proxy")
    found = hashlib.sha256(data).hexdigest()
    if found != sha256:
        fail(f"{filename}: SHA-256 {found} is not the pinned {sha256} — refusing to install it")
    with zipfile.ZipFile(io.BytesIO(data)) as wheel:
        binary = wheel.read(f"uv-{VERSION}.data/scripts/uv")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    tmp.write_bytes(binary)
    tmp.chmod(0o755)
    tmp.replace(dest)
    print(f"keyaudit: installed uv {VERSION} at {dest}", file=sys.stderr)


if __name__ == "__main__":
    main()
