"""The demo's second month shows the whole review loop: `keyaudit demo` run a month after the
first reviews the first run (export, decisions filled as a reviewer would, import), signs it off,
then audits; the second report shows the previous run's review, its sign-off and whether each
"deactivate" decision was carried out."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from keyaudit.cli import app
from keyaudit.warehouse.db import connect
from tests.runs import stub_pdf, write_config

# slow end to end: `make test-slow` runs it, `make test` leaves it out, CI runs both
pytestmark = pytest.mark.slow

runner = CliRunner()


def test_the_demos_second_month_reviews_and_signs_off_the_first(tmp_path: Path):
    config = write_config(tmp_path / "keyaudit.toml", data_dir=tmp_path)

    def demo(as_of: str) -> str:
        with stub_pdf():
            result = runner.invoke(app, ["demo", "--config", str(config), "--as-of", as_of])
        assert result.exit_code == 0, result.output
        return result.stderr

    assert "reviewed run" not in demo("2026-11-01T06:00:00Z")  # nothing to review yet
    said = demo("2026-12-01T06:00:00Z")

    assert "keyaudit: demo: reviewed run " in said and "and signed it off" in said
    con = connect(tmp_path / "keyaudit.duckdb", read_only=True)
    first, second = (r[0] for r in con.execute("select run_id from runs order by as_of").fetchall())
    assert con.execute("select distinct run_id from review_decisions").fetchall() == [(first,)]
    assert con.execute("select run_id from sign_offs").fetchall() == [(first,)]
    con.close()
    html = (tmp_path / "reports" / second / "report.html").read_text(encoding="utf-8")
    section = html[html.index('id="review"') :]
    assert "This run is not signed off." in section  # its own report: nobody could sign it yet
    assert f"Run {first}: reviewed " in section
    assert 'id="review-previous-sign-offs"' in section and "Dana Reviewer" in section
    assert f"Deactivations decided in run {first}" in section
    assert "<td>gone</td>" in section  # the demo's month deleted a key it decided to deactivate
    assert "<td>still active</td>" in section  # and left others: the report says so
    # and the first run's evidence still verifies, with the review files beside it
    verified = runner.invoke(app, ["verify", first, "--config", str(config)])
    assert verified.exit_code == 0, verified.output
