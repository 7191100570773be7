"""The report PDF as an archival record: PDF/A-3b, tagged, its metadata set, and the run's
evidence listing embedded as associated files (SHA256SUMS, and the run's evidence manifest).

Audit evidence is kept for years: PDF/A makes the PDF self-contained (fonts embedded, sRGB output
intent, XMP metadata) and lets it carry the files that tie its figures to the raw evidence. Every
value here comes from the run, never the clock, so a run re-rendered gives the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keyaudit.evidence.store import MANIFEST
from keyaudit.evidence.sums import SHA256SUMS, evidence_sums_text
from keyaudit.report.sections import ReportContext

if TYPE_CHECKING:  # WeasyPrint is imported where a PDF is laid out (render_pdf)
    from weasyprint import Attachment
    from weasyprint.document import Document

log = logging.getLogger("keyaudit.report")

PDF_VARIANT = "pdf/a-3b"
AUTHOR = "keyaudit"
EVIDENCE_MANIFEST = "evidence-manifest.json"  # as delivery copies it next to the report
# The report prints its time to the minute, in this form; the PDF's dates say the same.
_PRINTED_TIME = "%Y-%m-%d %H:%M UTC"


@dataclass(frozen=True)
class EmbeddedFile:
    """A file the PDF carries, and how it relates to the report (PDF/A-3 AFRelationship)."""

    name: str
    data: bytes
    mime_type: str
    relationship: str  # "Data": the report shows it; "Source": the report was made from it
    description: str


@dataclass(frozen=True)
class PdfArchive:
    """What the PDF records besides its pages: when, about what, and its associated files."""

    created: datetime
    subject: str
    files: tuple[EmbeddedFile, ...] = ()


def pdf_archive(context: ReportContext, *, evidence_dir: Path | None = None) -> PdfArchive:
    """The archive record of a report: SHA256SUMS from the warehouse's evidence rows (the same
    text the run's evidence folder holds), and, for a whole-run report, the run manifest from
    `evidence_dir` when its SHA-256 is the one the warehouse recorded."""
    evidence = context.evidence
    summary = context.summary
    run = summary.run
    sums = evidence_sums_text(evidence["files"], evidence["manifest_sha256"])
    files = [
        EmbeddedFile(
            SHA256SUMS,
            sums.encode("utf-8"),
            "text/plain",
            "Data",
            "The evidence appendix as `sha256sum -c SHA256SUMS` checks it in the run's "
            "evidence folder",
        )
    ]
    if summary.slice is None and evidence_dir is not None:
        manifest = _run_manifest(evidence_dir, evidence["manifest_sha256"], run["run_id"])
        if manifest is not None:
            files.append(
                EmbeddedFile(
                    EVIDENCE_MANIFEST,
                    manifest,
                    "application/json",
                    "Source",
                    f"The run's evidence manifest ({MANIFEST}): every raw file with its SHA-256",
                )
            )
    where = summary.organization_name or run.get("organization_id") or "AWS accounts"
    generated_at = summary.generated_at or ""
    return PdfArchive(
        created=datetime.strptime(generated_at, _PRINTED_TIME).replace(tzinfo=UTC),
        subject=f"AWS access key audit of {where} as of {run['as_of']}, run {run['run_id']}",
        files=tuple(files),
    )


def _run_manifest(evidence_dir: Path, recorded: str | None, run_id: str) -> bytes | None:
    """The run manifest's bytes, or None (logged) when absent or not what the warehouse loaded:
    an archived PDF must never carry a manifest that `keyaudit verify` would reject."""
    path = evidence_dir / MANIFEST
    try:
        data = path.read_bytes()
    except OSError:
        log.info("run %s: %s not found; report.pdf embeds SHA256SUMS only", run_id, path)
        return None
    if recorded is None or hashlib.sha256(data).hexdigest() != recorded:
        log.warning(
            "run %s: %s is not the manifest the warehouse recorded — not embedded in report.pdf; "
            "check the evidence with `keyaudit verify %s`",
            run_id,
            path,
            run_id,
        )
        return None
    return data


def archival_pdf(document: Document, archive: PdfArchive | None) -> bytes:
    """`document` as PDF/A-3b bytes, tagged, with the archive's metadata and associated files."""
    if archive is not None:
        stamp = archive.created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        document.metadata.authors = [AUTHOR]
        document.metadata.description = archive.subject
        document.metadata.created = document.metadata.modified = stamp
    attachments = [_attachment(f, archive.created) for f in archive.files] if archive else []
    return document.write_pdf(
        pdf_variant=PDF_VARIANT, pdf_tags=True, attachments=attachments, finisher=_list_af_once
    )


def _attachment(file: EmbeddedFile, when: datetime) -> Attachment:
    from weasyprint import Attachment

    # A data: URL carries the MIME type (WeasyPrint would guess it from the name, and SHA256SUMS
    # has no suffix). The dates are written with a "Z": give UTC, naive, never local time.
    naive_utc = when.astimezone(UTC).replace(tzinfo=None)
    return Attachment(
        url=f"data:{file.mime_type};base64,{base64.b64encode(file.data).decode('ascii')}",
        name=file.name,
        description=file.description,
        created=naive_utc,
        modified=naive_utc,
        relationship=file.relationship,
    )


def _list_af_once(document: Document, pdf: Any) -> None:
    """WeasyPrint 70 lists each associated file twice in the catalog's /AF (once from the
    embedded-files name tree, once from the file specifications): keep the first of each."""
    af = pdf.catalog.get("AF")
    if af:
        unique = list(dict.fromkeys(af))
        del af[:]
        af.extend(unique)
