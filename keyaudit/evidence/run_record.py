"""What a run records about itself in run.json: who ran it, on what, with which settings, and
the AWS calls it made for itself.

The flow writes it before collecting, `keyaudit.warehouse.load` reads it back, and tests and benchmarks
that drive the pipeline without Prefect write exactly the same record through this function. After
collecting, the run adds `api_calls` (`with_api_calls`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import keyaudit
from keyaudit.config import Config
from keyaudit.rules.catalogue import Rule, parameters_in_force
from keyaudit.sources.aws.calls import Calls, add_calls
from keyaudit.sources.aws.organizations import Discovery


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
