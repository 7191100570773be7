"""Benchmark 1: every AWS call of a run against the simulated organization, per account,
against the minimum, in both last-use modes.

The minimum for an account with U users, of whom K have keys, holding A access keys:
1 GenerateCredentialReport (+ polls) + 1 GetCredentialReport + ceil(U / 100) ListUsers pages
+ K ListAccessKeys + A GetAccessKeyLastUsed (none with last_used = "report")
+ 1 GetAccountSummary (+ 1 AssumeRole for a member account)
+ ceil((U + G + P) / 100) GetAccountAuthorizationDetails pages (G groups, P customer-managed
  policies; moto answers in one page) + 2 x M for the M distinct AWS-managed policies users hold,
  directly or through a group (GetPolicy + GetPolicyVersion each), with [collection] privilege on
+ U ListSSHPublicKeys (nothing shows who holds an SSH key) + ceil(S / 100) (at least 1)
  ListServiceSpecificCredentials pages with AllUsers for S credentials of every user and service
  + C ListSigningCertificates for the C users the credential report shows with a certificate,
  with [collection] other_credentials on.
Once per run, from the caller's account, the organization's service control policies: 1 ListRoots
+ (when SCPs are enabled) ceil(P / 20) ListPolicies pages + P DescribePolicy + the
ListTargetsForPolicy pages, ceil(T / 20) for a policy attached to T targets (moto answers in one
page), for the P SCPs of the organization.
Target: every account and the SCPs at their minimum, no call repeated, and the same findings in
both modes.

With --compare-privilege 100,10000 it also measures, in one account of that many users, the two
ways to collect user permissions: GetAccountAuthorizationDetails against listing user by user.

    .venv/bin/python bench/api_calls.py [--members 8] [--users 14] [--compare-privilege 100,10000]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import CallLog, Stopwatch, emit, quiet_logs, run_meta, table, write_run

from keyaudit.config import DiscoveryConfig
from keyaudit.evidence.scps import read_scps
from keyaudit.evidence.store import EvidenceStore
from keyaudit.model import VirtualClock
from keyaudit.rules.catalogue import load_catalogue
from keyaudit.sources.aws.collect import CollectSettings, collect_account
from keyaudit.sources.aws.organizations import discover
from keyaudit.sources.aws.scps import collect_scps
from keyaudit.sources.aws.session import AccountSessions, SessionSettings
from keyaudit.sources.demo import SimulatedOrganization, simulated_organization
from keyaudit.sources.demo.iam import GROUPS
from keyaudit.warehouse.db import connect
from keyaudit.warehouse.load import load_run

AS_OF = datetime(2026, 1, 31, 6, 0, tzinfo=UTC)
LIST_USERS_PAGE = 100  # ListUsers' default MaxItems
OPERATIONS = (
    "AssumeRole",
    "GenerateCredentialReport",
    "GetCredentialReport",
    "ListUsers",
    "ListAccessKeys",
    "GetAccessKeyLastUsed",
    "GetAccountSummary",
    "GetAccountAuthorizationDetails",
    "GetPolicy",
    "GetPolicyVersion",
    "ListSSHPublicKeys",
    "ListServiceSpecificCredentials",
    "ListSigningCertificates",
)
CREDENTIALS_PAGE = 100  # MaxItems keyaudit asks of ListServiceSpecificCredentials
DETAILS_PAGE = 100  # GetAccountAuthorizationDetails' default MaxItems
SCP_PAGE = 20  # ListPolicies' and ListTargetsForPolicy's largest MaxResults
SCP_OPERATIONS = ("ListRoots", "ListPolicies", "DescribePolicy", "ListTargetsForPolicy")


def minimum(org: SimulatedOrganization, account_id: str, *, with_last_used: bool) -> int:
    users = [u for u in org.users if u.account_id == account_id]
    with_keys = sum(1 for u in users if u.keys)
    keys = sum(len(u.keys) for u in users)
    is_member = account_id != org.management_account_id
    return (
        int(is_member)
        + 2
        + max(1, math.ceil(len(users) / LIST_USERS_PAGE))
        + with_keys
        + (keys if with_last_used else 0)
        + 1
        + privilege_minimum(users)
        + credentials_minimum(users)
    )


def credentials_minimum(users: list[Any]) -> int:
    """ListSSHPublicKeys per user, the ListServiceSpecificCredentials pages (AllUsers: at least
    one), ListSigningCertificates per user holding a certificate."""
    service = sum(
        1 for u in users for c in u.credentials if c.kind == "service_specific_credential"
    )
    holders = sum(1 for u in users if any(c.kind == "signing_certificate" for c in u.credentials))
    return len(users) + max(1, math.ceil(service / CREDENTIALS_PAGE)) + holders


def privilege_minimum(users: list[Any]) -> int:
    """One GetAccountAuthorizationDetails page (moto never pages) + GetPolicy and
    GetPolicyVersion per distinct AWS-managed policy held directly or through a group."""
    held = set()
    for user in users:
        for spec in user.grants:
            kind, name = spec.split(":", 1)
            if kind == "aws":
                held.add(name)
            elif kind == "group":
                held |= {g.split(":", 1)[1] for g in GROUPS[name] if g.startswith("aws:")}
    return 1 + 2 * len(held)


def scp_minimum(scps: dict[str, Any]) -> int:
    """1 ListRoots; when SCPs are enabled, the ListPolicies pages, and per policy one
    DescribePolicy and the pages of ListTargetsForPolicy (at least one, even with no target)."""
    if not scps["enabled"]:
        return 1
    policies = scps["policies"]
    targets = Counter(p for ids in scps["attachments"].values() for p in ids)
    pages = sum(max(1, math.ceil(targets[p] / SCP_PAGE)) for p in policies)
    return 1 + max(1, math.ceil(len(policies) / SCP_PAGE)) + len(policies) + pages


def run_mode(org: SimulatedOrganization, mode: str, workdir: Path) -> dict[str, Any]:
    """Collect every account in one last-use mode, count the calls, load, return findings."""
    log = CallLog()
    sessions = AccountSessions(
        settings=SessionSettings(session_name=f"keyaudit-bench-{mode}"),
        customizers=[log.customize, org.customize],
    )
    found = discover(sessions, DiscoveryConfig())
    discovery = Counter(op for owner, op, _ in log.calls if owner == "discovery")
    log.clear()
    store = EvidenceStore(workdir / "evidence", f"bench-{mode}")
    store.prepare()
    scp_outcome = collect_scps(
        lambda: sessions.base_client("organizations"), found, store, enabled=True
    )
    scp_calls = Counter(op for owner, op, _ in log.calls if owner == "discovery")
    scp_repeated = log.repeated()
    scps = read_scps(store.run_dir)
    assert scps is not None
    log.clear()
    settings = CollectSettings(with_last_used=mode == "api")
    clock = VirtualClock().as_clock()
    outcomes = {}
    with Stopwatch() as watch:
        for account in found.in_scope:
            outcomes[account.account_id] = collect_account(
                account,
                sessions=sessions,
                store=store,
                is_caller_account=account.account_id == found.caller_account_id,
                settings=settings,
                clock=clock,
            )
    per_account = log.by_account()
    rows, over = [], []
    for account in found.in_scope:
        aid = account.account_id
        outcome = outcomes[aid]
        counts = per_account.get(aid, Counter())
        total = sum(counts.values())
        if outcome.status == "not_assessed":
            least = int(aid != org.management_account_id)  # the AssumeRole that was refused
        else:
            least = minimum(org, aid, with_last_used=mode == "api")
        if total != least:
            over.append(aid)
        rows.append(
            [
                aid,
                outcome.status,
                *(counts.get(op, 0) for op in OPERATIONS),
                total,
                least,
                f"{total - least:+d}",
            ]
        )
    meta = run_meta(
        store.run_id,
        as_of=AS_OF,
        accounts=found.in_scope,
        rules=RULES,
        caller_arn=found.caller_arn,
        organization_id=found.organization_id,
        skipped=found.skipped,
    )
    sha = write_run(store, meta)
    con = connect(workdir / f"{mode}.duckdb")
    try:
        load_run(con, store, rules=RULES, finished_at=AS_OF, manifest_sha256=sha)
        findings = set(
            con.execute(
                "select rule_id, account_id, user_name, access_key_id, key_slot from findings"
            ).fetchall()
        )
    finally:
        con.close()
    return {
        "rows": rows,
        "over_minimum": over,
        "repeated": log.repeated() + scp_repeated,
        "scp_status": scp_outcome.status,
        "scp_calls": dict(scp_calls),
        "scp_total": sum(scp_calls.values()),
        "scp_minimum": scp_minimum(scps),
        "scp_policies": len(scps["policies"]),
        "total_calls": sum(r[-3] for r in rows),
        "minimum_calls": sum(r[-2] for r in rows),
        "collect_seconds": watch.wall,
        "discovery_calls": dict(discovery),
        "findings": findings,
    }


RULES = load_catalogue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=8)
    parser.add_argument("--users", type=int, default=14, help="users per account")
    parser.add_argument(
        "--compare-privilege",
        default="",
        help="user counts, e.g. 100,10000: compare the ways to collect user permissions",
    )
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with (
        quiet_logs(),
        tempfile.TemporaryDirectory() as tmp,
        simulated_organization(AS_OF, members=args.members, users_per_account=args.users) as org,
    ):
        for mode in ("api", "report"):
            results[mode] = run_mode(org, mode, Path(tmp))
    header = ["account", "status", "Assume", "Gen", "Get", "ListU", "ListK", "LastU", "Summ"]
    header += ["AuthD", "GetPol", "GetVer", "ListSSH", "ListSvc", "ListCert"]
    figures: dict[str, Any] = {"members": args.members, "users_per_account": args.users}
    for mode, result in results.items():
        print(f"\nlast_used = {mode!r}: AWS calls per account (minimum: see the module docstring)")
        print(table(result["rows"], [*header, "calls", "minimum", "over"]))
        print(
            f"total {result['total_calls']} calls, minimum {result['minimum_calls']}; "
            f"accounts above minimum: {len(result['over_minimum'])}; "
            f"repeated calls: {len(result['repeated'])}; "
            f"{len(result['findings'])} findings; collection {result['collect_seconds']:.2f} s"
        )
        for call, n in result["repeated"]:
            print(f"  repeated {n}x: {call}")
        print(f"discovery (caller's account): {result['discovery_calls']}")
        print(
            f"service control policies (once per run, caller's account; {result['scp_status']}, "
            f"{result['scp_policies']} SCPs): {result['scp_calls']} — {result['scp_total']} calls, "
            f"minimum {result['scp_minimum']}"
        )
        figures[mode] = {
            "total_calls": result["total_calls"],
            "minimum_calls": result["minimum_calls"],
            "accounts_above_minimum": result["over_minimum"],
            "repeated_calls": len(result["repeated"]),
            "findings": len(result["findings"]),
            "discovery_calls": result["discovery_calls"],
            "scp_calls": result["scp_calls"],
            "scp_total": result["scp_total"],
            "scp_minimum": result["scp_minimum"],
            "per_account": [
                dict(zip([*header, "calls", "minimum", "over"], r, strict=True))
                for r in result["rows"]
            ],
        }
    print(
        "\nper-account minimum: (1 AssumeRole for a member) + 2 credential report + ceil(U/100) "
        "ListUsers + K ListAccessKeys + A GetAccessKeyLastUsed (api mode) + 1 GetAccountSummary "
        "+ user permissions: ceil((U+G+P)/100) GetAccountAuthorizationDetails + 2 per distinct "
        "AWS-managed policy users hold (GetPolicy, GetPolicyVersion) + other credentials: "
        "U ListSSHPublicKeys + ceil(S/100) (at least 1) ListServiceSpecificCredentials (AllUsers) "
        "+ C ListSigningCertificates (users the report shows with a certificate); per run, the SCPs: "
        "1 ListRoots + ceil(P/20) ListPolicies + P DescribePolicy + ceil(T/20) "
        "ListTargetsForPolicy per policy"
    )
    same = results["api"]["findings"] == results["report"]["findings"]
    saved = results["api"]["total_calls"] - results["report"]["total_calls"]
    print(
        f"\nlast_used = 'report' saves {saved} of {results['api']['total_calls']} calls "
        f"({saved / results['api']['total_calls']:.0%}); findings identical in both modes: {same}"
    )
    if not same:
        only_api = results["api"]["findings"] - results["report"]["findings"]
        only_report = results["report"]["findings"] - results["api"]["findings"]
        print(f"  only in api mode: {sorted(only_api)[:10]}")
        print(f"  only in report mode: {sorted(only_report)[:10]}")
    ok = same and all(
        not r["over_minimum"]
        and not r["repeated"]
        and r["scp_status"] == "collected"
        and r["scp_total"] == r["scp_minimum"]
        for r in results.values()
    )
    figures.update(findings_identical=same, report_mode_saves_calls=saved, target_met=ok)
    if args.compare_privilege:
        from _privilege_methods import compare

        figures["privilege_methods"] = compare([int(n) for n in args.compare_privilege.split(",")])
    emit("api_calls", figures)
    print(
        "target (every account at its minimum, nothing repeated, same findings): "
        f"{'met' if ok else 'NOT met'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
