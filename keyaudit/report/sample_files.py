"""A drawn sample as the files an auditor files with the working papers: sample-….xlsx (the items
and, on a second sheet, how they were drawn and how to draw them again) and the same items as
CSV. Text cells stay text and formula-like text is neutralised, as in findings.xlsx."""

from __future__ import annotations

import csv
import hashlib
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

from keyaudit.report.exports import csv_cell
from keyaudit.report.workbook import Workbook
from keyaudit.safefile import atomic_file
from keyaudit.warehouse.samples import Sample

METHOD = (
    "Each item of the population is ordered by the SHA-256 (hex) of the UTF-8 text seed "
    "followed by the item's id, ties by the id; the sample is the first N."
)


def file_stem(sample: Sample) -> str:
    """`sample-keys-2026-q4-1a2b3c4d`: the kind, the seed as far as it is safe in a file name,
    and a digest of the whole seed (two seeds never share a file)."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", sample.seed).strip("-").lower()[:40] or "seed"
    digest = hashlib.sha256(sample.seed.encode()).hexdigest()[:8]
    return f"sample-{sample.of}-{slug}-{digest}"


def redraw_command(sample: Sample) -> str:
    seed = sample.seed.replace("'", "'\\''")
    return (
        f"keyaudit query {sample.query_name} --param seed='{seed}' "
        f"--param size={sample.size} --param run_id={sample.run_id}"
    )


def _draw_rows(sample: Sample) -> list[tuple[str, object]]:
    return [
        ("run_id", sample.run_id),
        ("population", sample.of),
        ("seed", sample.seed),
        ("size asked", sample.size),
        ("population size", sample.population),
        ("drawn", len(sample.rows)),
        ("method", METHOD),
        ("saved query", f"sql/queries/{sample.query_name}.sql"),
        ("draw it again", redraw_command(sample)),
    ]


def _cell(value: Any) -> Any:
    """Times as ISO 8601 text (UTC, as stored), the same in the CSV and the workbook."""
    return value.isoformat() if isinstance(value, datetime | date) else value


def write_sample(sample: Sample, folder: Path) -> dict[str, Path]:
    """Write the CSV and the workbook into `folder` (which exists); returns name -> path."""
    stem = file_stem(sample)
    written = {f"{stem}.csv": folder / f"{stem}.csv", f"{stem}.xlsx": folder / f"{stem}.xlsx"}
    with atomic_file(written[f"{stem}.csv"], text=True, encoding="utf-8", newline="") as handle:
        table = csv.writer(handle)
        table.writerow(sample.columns)
        for row in sample.rows:
            table.writerow([csv_cell(_cell(v)) for v in row])
    with Workbook(written[f"{stem}.xlsx"], title="keyaudit sample") as book:
        items = book.sheet("Sample", sample.columns)
        for record in sample.records():
            items.add({k: _cell(v) for k, v in record.items()})
        items.close()
        draw = book.sheet("Draw", ("item", "value"))
        for item, value in _draw_rows(sample):
            draw.add({"item": item, "value": value})
        draw.close()
    return written
