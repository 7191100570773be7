"""`SimulatedOrganization`: the simulated organization as the demo built it, and the ground truth
keyaudit must find in it (`expected`).

Its own module so that building the organization (organization.py) and changing it month by
month (changes.py) both use it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import boto3

from keyaudit.model import Account
from keyaudit.sources.demo.aws_like import register_account_hooks, register_assume_role_check
from keyaudit.sources.demo.personas import ExpectedFinding, RootTruth, UserTruth


@dataclass
class SimulatedOrganization:
    """The simulated organization and what keyaudit must find in it."""

    as_of: datetime
    management_account_id: str
    accounts: list[Account]
    missing_role_account_id: str
    expected: frozenset[ExpectedFinding]
    users: tuple[UserTruth, ...] = ()
    roots: dict[str, RootTruth] = field(default_factory=dict)
    report_times: dict[str, datetime] = field(default_factory=dict)
    # ACTIVE accounts below DENY_IAM_SCP_OU: an SCP denies every IAM action to their principals
    iam_denied_by_scp: frozenset[str] = frozenset()

    @property
    def caller_arn(self) -> str:
        return f"arn:aws:iam::{self.management_account_id}:user/moto"

    def customize(self, account_id: str, session: boto3.Session) -> None:
        """SessionCustomizer: make moto answer like AWS on this session."""
        if account_id == "base":
            register_assume_role_check(session, self.caller_arn)
            account_id = self.management_account_id  # the base session is the caller's account
        root = self.roots.get(account_id) or RootTruth(account_id, self.as_of - timedelta(1000))
        generated = self.report_times.get(account_id, self.as_of - timedelta(minutes=60))
        register_account_hooks(session, root, generated)
