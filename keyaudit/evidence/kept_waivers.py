"""The waiver file as it was at the run, kept verbatim with the run's evidence (`waivers.yml`),
so that a reload or a resume applies the same waivers whatever the file says today.

The file's format and validation are the rules' (keyaudit.rules.waivers); applying the waivers
is the warehouse's (keyaudit.warehouse.waivers).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from keyaudit.evidence.store import EvidenceStore
from keyaudit.rules.catalogue import Rule
from keyaudit.rules.waivers import WaiverFile, parse_waivers, read_waiver_bytes

WAIVER_EVIDENCE = "waivers.yml"  # the file as it was at the run, kept with the run's evidence


def write_waiver_evidence(store: EvidenceStore, waivers: WaiverFile) -> None:
    """Keep the waiver file verbatim with the run, so a reload applies the same waivers."""
    store.write(None, WAIVER_EVIDENCE, waivers.content, "waivers")


def read_waiver_evidence(
    store: EvidenceStore, rules: Iterable[Rule] | Mapping[str, str]
) -> WaiverFile | None:
    """The waiver file kept with the run, validated; None when the run had none."""
    path = store.run_dir / WAIVER_EVIDENCE
    if not path.exists():
        return None
    name = f"{store.run_id}/{WAIVER_EVIDENCE}"
    return parse_waivers(read_waiver_bytes(path, name), name, rules)
