"""What a finished audit run returns: its summary, files, delivery, and whether it is acceptable.

A run is acceptable when at least `run.min_coverage` of the accounts in scope were assessed and
every delivery went out. Findings never make a run unacceptable: they are what it is for. An
unacceptable run still has its report written (marked INCOMPLETE when accounts are missing) and
delivered; it ends with `IncompleteRun`, whose message is one line per problem.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from keyaudit.exits import COVERAGE_BELOW_MINIMUM, DELIVERY_FAILED  # `keyaudit run` / `demo`
from keyaudit.model import KeyauditError
from keyaudit.warehouse.load import RunSummary


class AuditResult(BaseModel):
    """The flow's return value: small, JSON-serializable, printable by the command."""

    model_config = ConfigDict(frozen=True)

    summary: RunSummary
    min_coverage: float
    html: str | None = None
    pdf: str | None = None
    pdf_pages: int | None = None
    outputs: dict[str, str] = Field(default_factory=dict)
    report_dir: str
    warehouse: str
    evidence: str
    delivery: dict[str, Any] | None = None  # keyaudit.delivery.dispatch.DeliveryReport.to_dict()
    coverage_problem: str | None = None
    delivery_problem: str | None = None

    @property
    def run_id(self) -> str:
        return self.summary.run_id

    @property
    def coverage(self) -> float:
        return self.summary.coverage

    @property
    def problems(self) -> list[str]:
        return [p for p in (self.coverage_problem, self.delivery_problem) if p]

    @property
    def exit_code(self) -> int:
        if self.coverage_problem:
            return COVERAGE_BELOW_MINIMUM
        return DELIVERY_FAILED if self.delivery_problem else 0


def coverage_problem(summary: RunSummary, min_coverage: float, report: str | None) -> str | None:
    """One line when fewer than `min_coverage` of the accounts in scope were assessed."""
    if summary.coverage >= min_coverage:
        return None
    return (
        f"run {summary.run_id}: coverage {summary.coverage:.1%} ({summary.accounts_assessed} of "
        f"{summary.accounts_in_scope} accounts in scope assessed) is below run.min_coverage "
        f"{min_coverage:.0%} — the report, marked INCOMPLETE, is {report}; fix the accounts it "
        "lists as not assessed, then rerun"
    )


class IncompleteRun(KeyauditError):
    """The run finished and its report exists, but it is not acceptable (see AuditResult)."""

    def __init__(self, result: AuditResult) -> None:
        super().__init__("; ".join(result.problems))
        self.result = result

    def __reduce__(self) -> tuple[Any, ...]:  # picklable for Prefect's result handling
        return (type(self), (self.result,))
