"""Synthetic evidence at scale, written directly (no moto): what a run of a large organization
leaves in the evidence store, in the exact layout and formats `keyaudit.warehouse.load.load_run` reads.

Per account: a real-format credential report (root row first, AWS's sentinels, no trailing
newline), ListUsers and ListAccessKeys + GetAccessKeyLastUsed JSON, the account summary, the
collection outcome and a manifest; per run: run.json and the run manifest. Report slots and
API keys agree to the second (as in AWS), so the keys mart pairs every key.

Reusable by other benchmarks:

    from synth import make_evidence, make_warehouse
    summary = make_warehouse(Path("/tmp/big.duckdb"), accounts=1000, keys_total=250_000,
                             as_of=datetime(2026, 1, 31, tzinfo=UTC))

Alone it writes evidence and prints how long that took:

    .venv/bin/python bench/synth.py /tmp/evidence --accounts 5000 --keys 500000
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import run_meta, write_run

from keyaudit.evidence.store import EvidenceFile, EvidenceStore
from keyaudit.model import ROOT_USER, Account, AccountOutcome
from keyaudit.rules.catalogue import load_catalogue
from keyaudit.sources.credential_report import COLUMNS
from keyaudit.warehouse.db import connect
from keyaudit.warehouse.load import RunSummary, load_run

NA, NO_INFO, NOT_SUPPORTED = "N/A", "no_information", "not_supported"
USAGE = (("s3", "us-east-1"), ("ec2", "eu-west-1"), ("sts", "us-east-1"), ("iam", NA))
OUS = ("Root/Security", "Root/Workloads/Prod", "Root/Workloads/Dev", "Root/Sandbox")
DAY = 86400


def _stamp(moment: datetime | None, missing: str = NA) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+00:00") if moment else missing


@dataclass(frozen=True)
class _Key:
    key_id: str
    created: datetime
    last_used: datetime | None
    service: str
    region: str
    active: bool


def _keys_per_account(accounts: int, keys_total: int) -> list[int]:
    base, extra = divmod(keys_total, accounts)
    return [base + (1 if i < extra else 0) for i in range(accounts)]


def _plan_users(rng: random.Random, n_keys: int) -> list[int]:
    """Keys per user: a fifth of key holders have two keys, and as many users have none."""
    two = n_keys // 5
    one = n_keys - 2 * two
    plan = [2] * two + [1] * one + [0] * max(1, n_keys // 5)
    rng.shuffle(plan)
    return plan


def _key(rng: random.Random, key_id: str, after: datetime, as_of: datetime) -> _Key:
    span = max(1, int((as_of - after).total_seconds()) - DAY)
    if rng.random() < 0.35 and span > 90 * DAY:  # rotated within the last 90 days
        created = as_of - timedelta(seconds=rng.randrange(DAY, 89 * DAY))
    else:
        created = after + timedelta(seconds=rng.randrange(span))
    roll = rng.random()
    if roll < 0.3:
        used = None  # never used
    else:
        recent = roll < 0.75
        idle = (as_of - created).total_seconds()
        ago = rng.uniform(0.3 * DAY, min(idle, 30 * DAY if recent else idle))
        used = (as_of - timedelta(seconds=ago)).replace(second=0)  # minute granularity
        used = max(used, created.replace(second=0) + timedelta(minutes=1))
        used = min(used, as_of - timedelta(hours=1))
    service, region = rng.choice(USAGE) if used else (NA, NA)
    return _Key(key_id, created, used, service, region, active=rng.random() > 0.1)


def _report_row(
    account_id: str,
    name: str,
    created: datetime,
    rng: random.Random,
    keys: list[_Key],
    as_of: datetime,
) -> dict[str, str]:
    console = rng.random() < 0.4
    row = dict.fromkeys(COLUMNS, NA)
    row.update(
        user=name,
        arn=f"arn:aws:iam::{account_id}:user/{name}",
        user_creation_time=_stamp(created),
        password_enabled="true" if console else "false",
        mfa_active="true" if console and rng.random() < 0.6 else "false",
        access_key_1_active="false",
        access_key_2_active="false",
        cert_1_active="false",
        cert_2_active="false",
    )
    if console:
        used = rng.random()
        signed_in = max(as_of - timedelta(days=rng.uniform(0.5, 200)), created + timedelta(hours=2))
        row["password_last_used"] = NO_INFO if used < 0.2 else _stamp(signed_in)
        row["password_last_changed"] = _stamp(created + timedelta(hours=1))
    for slot, key in enumerate(keys, start=1):
        row[f"access_key_{slot}_active"] = "true" if key.active else "false"
        row[f"access_key_{slot}_last_rotated"] = _stamp(key.created)
        row[f"access_key_{slot}_last_used_date"] = _stamp(key.last_used)
        row[f"access_key_{slot}_last_used_region"] = key.region if key.last_used else NA
        row[f"access_key_{slot}_last_used_service"] = key.service if key.last_used else NA
    return row


def _root_row(
    account_id: str, joined: datetime, rng: random.Random, as_of: datetime
) -> dict[str, str]:
    row = dict.fromkeys(COLUMNS, NA)
    has_key = rng.random() < 0.02
    row.update(
        user=ROOT_USER,
        arn=f"arn:aws:iam::{account_id}:root",
        user_creation_time=_stamp(joined),
        password_enabled=NOT_SUPPORTED,
        password_last_used=NO_INFO
        if rng.random() < 0.8
        else _stamp(as_of - timedelta(days=rng.uniform(0.5, 400))),
        password_last_changed=NOT_SUPPORTED,
        password_next_rotation=NOT_SUPPORTED,
        mfa_active="false" if rng.random() < 0.05 else "true",
        access_key_1_active="true" if has_key else "false",
        access_key_1_last_rotated=_stamp(joined + timedelta(days=3)) if has_key else NA,
        access_key_2_active="false",
        cert_1_active="false",
        cert_2_active="false",
    )
    return row


def _csv(rows: list[dict[str, str]]) -> bytes:
    lines = [",".join(COLUMNS), *(",".join(r[c] for c in COLUMNS) for r in rows)]
    return "\n".join(lines).encode()  # real reports end without a newline


def _account(
    store: EvidenceStore, index: int, account: Account, n_keys: int, as_of: datetime, seed: int
) -> None:
    rng = random.Random(f"{seed}/{account.account_id}")
    joined = as_of - timedelta(days=rng.uniform(800, 3000))
    generated = as_of - timedelta(minutes=rng.randint(20, 200))
    rows = [_root_row(account.account_id, joined, rng, as_of)]
    users: list[dict[str, Any]] = []
    api_keys: list[dict[str, Any]] = []
    serial = 0
    for n, count in enumerate(_plan_users(rng, n_keys)):
        name = f"user-{n:05d}"
        created = joined + timedelta(
            seconds=rng.randrange(int((as_of - joined).total_seconds()) - 10 * DAY)
        )
        created = created.replace(microsecond=0)
        keys = []
        for _ in range(count):
            serial += 1
            keys.append(_key(rng, f"AKIA{index:07d}{serial:09X}", created, as_of))
        keys.sort(key=lambda k: k.created)  # slot 1 is the older key
        rows.append(_report_row(account.account_id, name, created, rng, keys, as_of))
        users.append(
            {
                "Arn": f"arn:aws:iam::{account.account_id}:user/{name}",
                "CreateDate": created.isoformat(),
                "PasswordLastUsed": None,
                "UserId": f"AIDA{index:07d}{n:09X}",
                "UserName": name,
            }
        )
        api_keys.extend(
            {
                "AccessKeyId": k.key_id,
                "CreateDate": k.created.isoformat(),
                "LastUsed": {
                    "LastUsedDate": k.last_used.isoformat() if k.last_used else None,
                    "Region": k.region,
                    "ServiceName": k.service,
                },
                "Status": "Active" if k.active else "Inactive",
                "UserName": name,
            }
            for k in keys
        )
    aid = account.account_id
    files: list[EvidenceFile] = [
        store.write(aid, "credential_report.csv", _csv(rows), "credential_report"),
        store.write_json(
            aid,
            "credential_report.json",
            {"GeneratedTime": generated, "GenerateCalls": 1, "GetCalls": 1},
            "credential_report_meta",
        ),
        store.write_json(aid, "users.json", users, "list_users"),
        store.write_json(aid, "access_keys.json", api_keys, "access_keys"),
        store.write_json(
            aid,
            "account_summary.json",
            {
                "AccountAccessKeysPresent": int(rows[0]["access_key_1_active"] == "true"),
                "AccountMFAEnabled": int(rows[0]["mfa_active"] == "true"),
            },
            "account_summary",
        ),
    ]
    with_keys = len({k["UserName"] for k in api_keys})
    outcome = AccountOutcome(
        account_id=aid,
        status="assessed",
        report_generated_at=generated,
        users=len(users),
        access_keys=len(api_keys),
        api_calls=6 + with_keys + len(api_keys),  # the minimum of bench/api_calls.py
        evidence_dir=str(store.run_dir / aid),
    )
    files.append(store.write_json(aid, "collection.json", outcome.to_dict(), "collection_outcome"))
    store.write_account_manifest(aid, files)


def synthetic_accounts(accounts: int, seed: int) -> list[Account]:
    rng = random.Random(seed)
    ids = rng.sample(range(10**11, 10**12), accounts)
    return [
        Account(
            account_id=f"{account_id:012d}",
            name="management" if i == 0 else f"workload-{i:05d}",
            email=f"aws+{i:05d}@example.com",
            ou_path="Root" if i == 0 else OUS[i % len(OUS)],
            tags={
                "owner-email": f"team-{i % 40:02d}@example.com",
                "cost-center": f"CC-{i % 25:04d}",
            },
            is_management=i == 0,
        )
        for i, account_id in enumerate(ids)
    ]


def make_evidence(
    root: Path, run_id: str, accounts: int, keys_total: int, as_of: datetime, seed: int = 7
) -> EvidenceStore:
    """Write the evidence of one run (`accounts` accounts, `keys_total` IAM-user access keys,
    about as many users plus a root row per account) and its run.json and manifests."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware, e.g. datetime(2026, 1, 31, tzinfo=UTC)")
    store = EvidenceStore(Path(root), run_id)
    store.prepare()
    found = synthetic_accounts(accounts, seed)
    for index, (account, n_keys) in enumerate(
        zip(found, _keys_per_account(accounts, keys_total), strict=True)
    ):
        _account(store, index, account, n_keys, as_of, seed)
    meta = run_meta(
        run_id,
        as_of=as_of,
        accounts=found,
        rules=load_catalogue(),
        source="synthetic",
        caller_arn=f"arn:aws:iam::{found[0].account_id}:user/auditor",
        organization_id="o-synthetic0",
    )
    write_run(store, meta)
    return store


def make_warehouse(
    db_path: Path,
    accounts: int,
    keys_total: int,
    as_of: datetime,
    *,
    seed: int = 7,
    evidence_root: Path | None = None,
    run_id: str = "synthetic",
) -> RunSummary:
    """A warehouse holding one synthetic run, loaded and evaluated by `load_run` as a real
    run is; the evidence stays beside the database (or in `evidence_root`)."""
    db_path = Path(db_path)
    root = evidence_root or db_path.parent / f"{db_path.stem}-evidence"
    store = make_evidence(root, run_id, accounts, keys_total, as_of, seed)
    sha = manifest_sha256(store)
    con = connect(db_path)
    try:
        return load_run(con, store, rules=load_catalogue(), finished_at=as_of, manifest_sha256=sha)
    finally:
        con.close()


def manifest_sha256(store: EvidenceStore) -> str:
    """The run manifest's hash, as the audit flow passes it to load_run."""
    return hashlib.sha256((store.run_dir / "manifest.json").read_bytes()).hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description="Write synthetic evidence for one run.")
    parser.add_argument("root", type=Path, help="evidence folder (the run goes in ROOT/RUN_ID)")
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--keys", type=int, default=50_000, help="access keys in total")
    parser.add_argument("--run-id", default="synthetic")
    parser.add_argument("--as-of", default="2026-01-31T06:00:00+00:00")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    started = time.perf_counter()
    store = make_evidence(
        args.root,
        args.run_id,
        args.accounts,
        args.keys,
        datetime.fromisoformat(args.as_of),
        args.seed,
    )
    size = sum(p.stat().st_size for p in store.run_dir.rglob("*") if p.is_file())
    print(
        f"wrote {args.accounts} accounts / {args.keys} keys to {store.run_dir} "
        f"({size / 2**20:.0f} MiB) in {time.perf_counter() - started:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
