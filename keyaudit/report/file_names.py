"""The names of a report's files: the run's own (report.pdf, findings.xlsx, …), and a view's.

A view (one framework's requirements, some accounts' slice, or both) is a different document from
the run's report, so it never takes the run's names: `keyaudit deliver` sends the run's files, and
rendering a view next to them must not replace them. A view's files carry its name
(report-pci-dss-v4.0.1.pdf, findings-account-111122223333.xlsx), a slug that holds no path
separator and stays short however many accounts it names.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection

FILE_NAMES = {
    "html": "report.html",
    "pdf": "report.pdf",
    "csv": "findings.csv",
    "json": "findings.json",
    "ocsf": "findings.ocsf.jsonl",
    "xlsx": "findings.xlsx",
    "tickets": "findings.tickets.csv",
}
FRAMEWORK_SLUG_LIMIT = 40
ACCOUNTS_SLUG_LIMIT = 60  # four account ids by name; more are counted and hashed


def slug(text: str, limit: int = FRAMEWORK_SLUG_LIMIT) -> str:
    """Lowercase letters, digits, dots between them and single hyphens: "PCI DSS v4.0.1" →
    "pci-dss-v4.0.1", "ISO/IEC 27001:2022" → "iso-iec-27001-2022"; at most `limit` characters."""
    text = re.sub(r"[^a-z0-9.]+", "-", text.casefold())
    text = re.sub(r"-?\.{2,}-?|-\.|\.-", "-", text)  # a dot only between a letter or digit each
    return re.sub(r"-{2,}", "-", text)[:limit].strip("-.")


def view_name(framework: str | None, account_ids: Collection[str] | None) -> str | None:
    """The name a view's files carry, or None for the run's own report (no framework, every
    account): "pci-dss-v4.0.1", "account-111122223333", "pci-dss-v4.0.1-account-111122223333"."""
    parts = [slug(framework) or f"framework-{_digest([framework])}"] if framework else []
    if account_ids:
        ids = sorted(set(account_ids))
        named = ("account-" if len(ids) == 1 else "accounts-") + "-".join(slug(i) for i in ids)
        if len(named) > ACCOUNTS_SLUG_LIMIT:
            named = f"{len(ids)}-accounts-{_digest(ids)}"
        parts.append(named)
    return "-".join(p for p in parts if p) or None


def _digest(values: Collection[str]) -> str:
    return hashlib.sha256(",".join(values).encode()).hexdigest()[:12]


def file_names(view: str | None) -> dict[str, str]:
    """Format → file name: the run's own names, or the view's (report-<view>.pdf,
    findings-<view>.ocsf.jsonl)."""
    if view is None:
        return dict(FILE_NAMES)
    out = {}
    for fmt, name in FILE_NAMES.items():
        stem, suffix = name.split(".", 1)
        out[fmt] = f"{stem}-{view}.{suffix}"
    return out
