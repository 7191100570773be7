"""Records that cross module boundaries: accounts in scope and the outcome of collecting one."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

# Where a run's credential data comes from: AWS APIs, the simulated organization, or files.
SourceName = Literal["aws", "demo", "files"]

AccountStatus = Literal["assessed", "partial", "not_assessed", "skipped"]


@dataclass(frozen=True)
class Account:
    """An AWS account in (or out of) the audit's scope, as discovered."""

    account_id: str
    name: str = ""
    email: str = ""
    state: str = "ACTIVE"
    ou_path: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    is_management: bool = False

    def __post_init__(self) -> None:
        if not (len(self.account_id) == 12 and self.account_id.isdigit()):
            raise ValueError(
                f"account id {self.account_id!r} is not 12 digits — "
                'write account ids as quoted strings, e.g. "012345678901"'
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Account:
        return cls(**data)


@dataclass
class AccountOutcome:
    """What collecting one account produced: small enough to travel between tasks."""

    account_id: str
    status: AccountStatus
    error: str | None = None
    report_generated_at: datetime | None = None
    users: int = 0
    access_keys: int = 0
    api_calls: int = 0
    evidence_dir: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.report_generated_at is not None:
            data["report_generated_at"] = self.report_generated_at.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AccountOutcome:
        data = dict(data)
        if data.get("report_generated_at"):
            data["report_generated_at"] = datetime.fromisoformat(data["report_generated_at"])
        return cls(**data)
