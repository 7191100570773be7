"""Helpers of the delivery tests: the configuration that mails through the loopback server, and
private copies of the shared demo run."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from demo_run import DemoRun

from keyaudit.config import Config

COMPLIANCE = "grc@example.com"
SENDER = "keyaudit@example.com"


def email_config(port: int = 25, **email: Any) -> Config:
    """A configuration that mails the compliance list and the owners through 127.0.0.1:port."""
    delivery = email.pop("delivery", {})
    return Config.model_validate(
        {
            "delivery": {
                "backoff_seconds": 2,
                **delivery,
                "email": {
                    "smtp_host": "127.0.0.1",
                    "smtp_port": port,
                    "sender": SENDER,
                    "compliance": [COMPLIANCE],
                    **email,
                },
            }
        }
    )


def copy_run(run: DemoRun, folder: Path) -> DemoRun:
    """A private copy of the run's files: delivery writes into the report folder."""
    shutil.copytree(run.warehouse.parent, folder, dirs_exist_ok=True)
    return DemoRun(
        run.run_id,
        folder / run.warehouse.name,
        folder / run.evidence_run_dir.relative_to(run.warehouse.parent),
        folder / run.report_dir.relative_to(run.warehouse.parent),
        run.org,
    )
