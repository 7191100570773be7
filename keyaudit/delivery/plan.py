"""What a delivery sends: the run folder's files and the data of the e-mails, per owner."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keyaudit.config.delivery import Retention
from keyaudit.delivery.owners import Owner
from keyaudit.report.digest import RunDigest
from keyaudit.report.file_names import FILE_NAMES, file_names
from keyaudit.report.pdf_archive import EVIDENCE_MANIFEST
from keyaudit.report.remediation import PLAN_FILES
from keyaudit.safefile import TMP_SUFFIX

OWNERS_DIR = "owners"  # <report>/owners/<slug>/: each owner's report
EVIDENCE_SIGNATURE = "evidence-manifest.sig.json"  # the run manifest's signature, when signed


@dataclass(frozen=True)
class OwnerSlice:
    """One owner's report, written under <report>/owners/<slug>/, and its open findings."""

    owner: Owner
    digest: RunDigest
    folder: Path
    findings: tuple[dict[str, Any], ...]
    findings_total: int
    fix_first: tuple[dict[str, Any], ...] = ()  # keyaudit.report.fix_first: the keys to fix first
    # sql/report/waivers_to_review.sql: waivers of the owner's accounts that expire soon
    waivers_to_review: tuple[dict[str, Any], ...] = ()
    # keyaudit.report.remediation: the owner's keys the run's plan deactivates, and when
    deactivations: tuple[dict[str, Any], ...] = ()
    # the owner's open findings by severity (all of them, not only those the e-mail lists)
    open_by_severity: dict[str, int] = field(default_factory=dict)

    @property
    def pdf(self) -> Path | None:
        """The report of the accounts they own; None for an owner of keys only."""
        path = self.folder / FILE_NAMES["pdf"]
        return path if self.owner.account_ids else None

    @property
    def attachment(self) -> Path:
        """What their e-mail attaches: the PDF report, else their findings as CSV."""
        return self.pdf or self.folder / FILE_NAMES["csv"]


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
    views: tuple[str, ...] = ()  # views asked for by name (keyaudit deliver --view)

    @property
    def pdf(self) -> Path:
        return self.report_dir / FILE_NAMES["pdf"]

    def files(self) -> list[Path]:
        """The run's own files (report, exports, evidence manifest, the owners' reports) and
        those of the views asked for: a view rendered into the folder is never sent otherwise."""
        sent = {*FILE_NAMES.values(), EVIDENCE_MANIFEST, EVIDENCE_SIGNATURE, *PLAN_FILES}
        sent.update(name for view in self.views for name in file_names(view).values())
        owners = self.report_dir / OWNERS_DIR
        return sorted(
            p
            for p in self.report_dir.rglob("*")
            if p.is_file()
            and not p.name.endswith(TMP_SUFFIX)
            and (p.name in sent if p.parent == self.report_dir else p.is_relative_to(owners))
        )
