"""The manual's examples run as written in a new shell after `make`: through `.venv/bin/…`,
which always exists, never `uv run …`, which needs uv on the PATH (make installs it into
~/.local/bin, which a new shell may not have)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGES = sorted((REPO / "docs").glob("*.md"))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_console_examples_use_the_venv_not_uv_run(page: Path):
    text = page.read_text(encoding="utf-8")
    blocks = re.findall(r"```console\n(.*?)```", text, re.S)
    commands = [line for block in blocks for line in block.splitlines() if line.startswith("$ ")]
    assert not [c for c in commands if "uv run " in c], f"{page.name}: use .venv/bin/… instead"
