"""A finished demo run without Prefect: discover → collect → load → report, as flows.audit does.

Delivery tests need a real run (owners in tags, findings with commands, a PDF) but not the flow;
importing Prefect and starting its API would cost them seconds each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from keyaudit.config import Config
from keyaudit.evidence.run_record import run_record
from keyaudit.evidence.store import EvidenceStore
from keyaudit.model import VirtualClock
from keyaudit.report import write_report
from keyaudit.rules.catalogue import load_catalogue
from keyaudit.sources.aws.collect import collect_account, collect_settings
from keyaudit.sources.aws.organizations import discover
from keyaudit.sources.aws.session import AccountSessions
from keyaudit.sources.demo import SimulatedOrganization, simulated_organization
from keyaudit.sources.provider import session_settings
from keyaudit.warehouse.db import connect
from keyaudit.warehouse.load import load_run, write_run_file

AS_OF = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
RUN_ID = "20261201T060000Z-de1ive"


@dataclass(frozen=True)
class DemoRun:
    run_id: str
    warehouse: Path
    evidence_run_dir: Path
    report_dir: Path
    org: SimulatedOrganization


def make_demo_run(folder: Path, *, run_id: str = RUN_ID, config: Config | None = None) -> DemoRun:
    config = config or Config()
    rules = load_catalogue(config.rules)
    store = EvidenceStore(folder / "evidence", run_id)
    store.prepare()
    with simulated_organization(AS_OF) as org:
        sessions = AccountSessions(
            settings=session_settings(config, run_id), customizers=[org.customize]
        )
        found = discover(sessions, config.discovery)
        write_run_file(
            store,
            run_record(
                run_id,
                source="demo",
                started_at=AS_OF,
                as_of=AS_OF,
                config=config,
                rules=rules,
                found=found,
            ),
        )
        for account in found.in_scope:
            collect_account(
                account,
                sessions=sessions,
                store=store,
                is_caller_account=account.account_id == found.caller_account_id,
                settings=collect_settings(config.collection),
                clock=VirtualClock().as_clock(),
            )
    manifest_sha, _ = store.write_run_manifest()
    warehouse = folder / "keyaudit.duckdb"
    report_dir = folder / "reports" / run_id
    con = connect(warehouse)
    try:
        load_run(con, store, rules=rules, finished_at=AS_OF, manifest_sha256=manifest_sha)
        write_report(con, run_id, report_dir, rules=rules, pdf_detail_limit=50)
    finally:
        con.close()
    return DemoRun(run_id, warehouse, store.run_dir, report_dir, org)
