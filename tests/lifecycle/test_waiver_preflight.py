"""A bad waiver file stops `keyaudit demo` / `keyaudit run` before Prefect starts or AWS is
called, with the file, the line and the fix."""

from __future__ import annotations

import sys
from pathlib import Path

from typer.testing import CliRunner

from keyaudit.cli import app

runner = CliRunner()
BAD = """\
- id: W-1
  rule: ACCESS_KEY_NOT_ROTATED
  account: "111122223333"
  reason: vendor appliance
  approved_by: jane.doe@example.com
  ticket: RISK-1
"""


def test_a_bad_waiver_file_stops_the_run_before_prefect_starts(tmp_path: Path, monkeypatch):
    waivers = tmp_path / "waivers.yml"
    waivers.write_text(BAD, encoding="utf-8")
    config = tmp_path / "keyaudit.toml"
    config.write_text(f'waivers_file = "{waivers}"\n', encoding="utf-8")
    monkeypatch.delitem(sys.modules, "keyaudit.flows.audit", raising=False)
    result = runner.invoke(app, ["run", "--config", str(config), "--db", str(tmp_path / "w.db")])
    assert result.exit_code == 2
    assert result.output == (
        f"keyaudit: error: {waivers}:1: waiver W-1 has no expires_on — add expires_on: the last "
        "day the waiver applies, as YYYY-MM-DD; every waiver must expire\n"
    )
    assert "keyaudit.flows.audit" not in sys.modules  # the flow (and Prefect) never started


def test_a_missing_waiver_file_stops_the_run_with_the_os_error(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("KEYAUDIT_WAIVERS_FILE", str(tmp_path / "missing.yml"))
    result = runner.invoke(app, ["demo", "--db", str(tmp_path / "w.db")])
    assert result.exit_code == 2
    assert result.output == (
        f"keyaudit: error: {tmp_path / 'missing.yml'}: cannot read the waiver file: No such file "
        "or directory — check waivers_file in the configuration and the file's permissions\n"
    )
