"""run.json, the one module that names, reads and writes it: what a run records about itself
(who ran it, on what, with which settings) and the AWS calls it made for itself.

The pipeline writes it before collecting (`write_run_file`) and adds `api_calls` after
(`with_api_calls`); loading (`keyaudit.warehouse.load`), resuming (`keyaudit.integrity.resume`)
and the CLI's summary of a files run read it back through `read_run_file`; tests and benchmarks
that drive the pipeline without Prefect write exactly the same record through these functions.
The evidence stage: it imports the configuration and the rule catalogue below it, never a
source or the warehouse.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keyaudit
from keyaudit.model import Calls, Discovery, add_calls

if TYPE_CHECKING:
    from keyaudit.config import Config
    from keyaudit.evidence.store import EvidenceStore
    from keyaudit.rules.catalogue import Rule

RUN_FILE = "run.json"


def read_run_file(store: EvidenceStore) -> dict[str, Any]:
    """The run's run.json; FileNotFoundError naming it when the run never started collecting."""
    path = store.run_dir / RUN_FILE
    if not path.exists():
        raise FileNotFoundError(
            f"run {store.run_id}: {path} is missing — the run never started collecting"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def write_run_file(store: EvidenceStore, meta: dict[str, Any]) -> Path:
    """run.json into the run's evidence folder, written whole (keyaudit.safefile)."""
    store.write_json(None, RUN_FILE, meta, "run")
    return store.run_dir / RUN_FILE


def run_file_of(evidence_dir: Path) -> dict[str, Any]:
    """run.json of the run whose evidence folder is `evidence_dir`; empty when there is none."""
    path = evidence_dir / RUN_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def kept_files(meta: dict[str, Any]) -> dict[str, str]:
    """The evidence files run.json lists with their hashes (a files run's input files)."""
    return {
        f["evidence_path"]: f["sha256"]
        for f in meta.get("files", [])
        if f.get("evidence_path") and f.get("sha256")
    }


def run_record(
    run_id: str,
    *,
    source: str,
    started_at: datetime,
    as_of: datetime,
    config: Config,
    rules: Sequence[Rule],
    found: Discovery,
) -> dict[str, Any]:
    """run.json for a run over the accounts `found`, evaluated with `rules` under `config`."""
    from keyaudit.rules.catalogue import parameters_in_force  # DuckDB and YAML: only when needed

    return {
        "run_id": run_id,
        "source": source,
        "started_at": started_at.isoformat(),
        "as_of": as_of.isoformat(),
        "scope": found.scope,
        "scope_note": found.note,
        "organization_id": found.organization_id,
        "management_account_id": found.management_account_id,
        "caller_arn": found.caller_arn,
        "caller_account_id": found.caller_account_id,
        "tool_version": keyaudit.__version__,
        "config_digest": config.digest(),
        "config": config.model_dump(mode="json"),
        "parameters": parameters_in_force(list(rules)),
        "accounts": [a.to_dict() for a in found.in_scope],
        "skipped": [a.to_dict() for a in found.skipped],
        "unknown": found.unknown,
        "accounts_listed": found.listed,
        "filtered_out": found.filtered_out,
    }


def with_api_calls(meta: dict[str, Any], calls: Calls) -> dict[str, Any]:
    """run.json with `api_calls`: the calls the run made for itself from the caller's session
    (who am I, Organizations, SCPs), service:Operation -> count, added to those already recorded
    (a resumed run adds its own). Each account's calls, its AssumeRole included, are in that
    account's collection.json; the warehouse table api_calls holds both."""
    return {**meta, "api_calls": add_calls(meta.get("api_calls") or {}, calls)}
