"""The run's story in the Prefect UI: a markdown artifact and a table of the accounts.

The builders are plain functions of the run's digest and result (tested without Prefect);
`publish` hands them to Prefect inside the flow run.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from keyaudit.model import HEADLINE_SEVERITIES
from keyaudit.outcome import AuditResult
from keyaudit.report.digest import RunDigest
from keyaudit.textsafe import visible
from keyaudit.words import counted, plural

RUN_ARTIFACT = "keyaudit-run"
ACCOUNTS_ARTIFACT = "keyaudit-accounts"
_MARKDOWN = re.compile(r"([\\`*_{}\[\]<>()#+!|])")


def _md(value: object) -> str:
    """Data shown as text, never as markdown (account names and errors come from AWS): on one
    line, its control characters and bidi marks visible (keyaudit.textsafe)."""
    return _MARKDOWN.sub(r"\\\1", visible(" ".join(str(value).split())))


def _link(label: str, path: str | None) -> str:
    if not path:
        return f"- {label}: not written"
    return f"- {label}: [{_md(Path(path).name)}]({Path(path).resolve().as_uri()})"


def run_markdown(digest: RunDigest, result: AuditResult) -> str:
    """Coverage, findings by severity with new and resolved, the files, delivery and problems."""
    state = "COMPLETE" if digest.is_complete else "INCOMPLETE"
    lines = [
        f"# {_md(digest.title)} — {digest.period}",
        "",
        f"Run `{digest.run_id}` · as of {digest.as_of} · **{state}**",
        "",
        "## Coverage",
        "",
        "| in scope | assessed | partially | not assessed | skipped | coverage | minimum |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {digest.in_scope} | {digest.assessed} | {digest.partial} | {digest.not_assessed} "
        f"| {digest.skipped} | {digest.coverage:.1%} | {result.min_coverage:.0%} |",
        "",
        "## Open findings by severity",
        "",
    ]
    if digest.new is None:
        lines += ["| severity | open |", "| --- | ---: |"]
        lines += [f"| {s} | {digest.open_by_severity[s]} |" for s in HEADLINE_SEVERITIES]
        lines += [f"| **total** | **{digest.open_total}** |", ""]
        lines += ["No earlier run over the same scope: nothing is new or resolved yet."]
    else:
        lines += ["| severity | open | new | resolved |", "| --- | ---: | ---: | ---: |"]
        lines += [
            f"| {s} | {digest.open_by_severity[s]} | {digest.new_by_severity.get(s, 0)} "
            f"| {digest.resolved_by_severity.get(s, 0)} |"
            for s in HEADLINE_SEVERITIES
        ]
        lines += [
            f"| **total** | **{digest.open_total}** | **{digest.new}** | **{digest.resolved}** |",
            "",
            f"New and resolved since run `{digest.previous_run_id}`.",
        ]
    if digest.waived_total:
        waived = digest.waived_total
        lines.append(
            f"{counted(waived, 'waived finding')} {plural('is', waived)} not counted as open."
        )
    lines += ["", "## Files", ""]
    lines += [_link("HTML report", result.html), _link("PDF report", result.pdf)]
    lines += [
        _link(f"{fmt.upper()} export", path)
        for fmt, path in result.outputs.items()
        if fmt not in ("html", "pdf")
    ]
    lines += [f"- evidence: `{result.evidence}`", f"- warehouse: `{result.warehouse}`"]
    if result.delivery:
        lines += ["", "## Delivery", ""]
        lines += [f"- {_md(line)}" for line in delivery_lines(result.delivery)]
    if result.problems:
        lines += ["", "## Problems", ""] + [f"- {_md(p)}" for p in result.problems]
    return "\n".join(lines) + "\n"


def delivery_lines(delivery: dict[str, Any]) -> list[str]:
    """Where the run went, from DeliveryReport.to_dict()."""
    results = delivery["results"]
    out = []
    for target, label in (("folder", "folder"), ("s3", "S3 objects"), ("email", "e-mails")):
        mine = [r for r in results if r["target"] == target]
        if mine:
            ok = sum(r["ok"] for r in mine)
            if target == "folder":
                out.append(f"{label}: {mine[0]['detail']}")
            else:
                where = ""
                if target == "s3" and delivery.get("s3_location"):
                    where = f" to {delivery['s3_location']}"
                if target == "s3" and delivery.get("s3_retention"):
                    where += f", locked {delivery['s3_retention']}"  # S3 Object Lock
                out.append(f"{label}: {ok} of {len(mine)} delivered{where}")
    out += [f"FAILED {r['target']} {r['name']}: {r['detail']}" for r in results if not r["ok"]]
    out += [f"note: {n}" for n in delivery["notes"]]
    return out


def account_rows(digest: RunDigest) -> list[dict[str, Any]]:
    """One row per account: who, where, status and what is open."""
    return [
        {
            "account": a.account_id,
            "name": a.name,
            "ou": a.ou_path,
            "status": a.status,
            "open": a.open_findings,
            **{s: a.open_by_severity[s] for s in HEADLINE_SEVERITIES},
            "error": a.error or "",
        }
        for a in digest.accounts
    ]


def publish(digest: RunDigest, result: AuditResult) -> None:
    """Both artifacts, on the current flow run."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    create_markdown_artifact(
        key=RUN_ARTIFACT,
        markdown=run_markdown(digest, result),
        description=f"keyaudit run {digest.run_id}: coverage, findings, files, delivery",
    )
    create_table_artifact(
        key=ACCOUNTS_ARTIFACT,
        table=account_rows(digest),
        description=f"keyaudit run {digest.run_id}: accounts in the audit",
    )
