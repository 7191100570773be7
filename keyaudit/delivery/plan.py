"""What a delivery sends: the run folder's files and the data of the e-mails, per owner."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keyaudit.delivery.config import Retention
from keyaudit.delivery.owners import Owner
from keyaudit.report.digest import RunDigest
from keyaudit.safefile import TMP_SUFFIX


@dataclass(frozen=True)
class OwnerSlice:
    """One owner's report, written under <report>/owners/<slug>/, and its open findings."""

    owner: Owner
    digest: RunDigest
    folder: Path
    findings: tuple[dict[str, Any], ...]
    findings_total: int
    fix_first: tuple[dict[str, Any], ...] = ()  # keyaudit.report.fix_first: the keys to fix first

    @property
    def pdf(self) -> Path:
        return self.folder / "report.pdf"


@dataclass(frozen=True)
class DeliveryPlan:
    """What `send_delivery` sends: the files of the run folder and the e-mails' data."""

    run_id: str
    report_dir: Path
    digest: RunDigest
    slices: tuple[OwnerSlice, ...] = ()
    notes: tuple[str, ...] = ()
    # the Object Lock the run was configured with, which its report states (None: none)
    retention: Retention | None = None

    @property
    def pdf(self) -> Path:
        return self.report_dir / "report.pdf"

    def files(self) -> list[Path]:
        return sorted(
            p for p in self.report_dir.rglob("*") if p.is_file() and not p.name.endswith(TMP_SUFFIX)
        )
