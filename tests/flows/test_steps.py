"""The flow's tasks are keyed by the pipeline's step functions: every step has its task, named as
the step, and a function without one is refused by name instead of running without its task and
its retries."""

from __future__ import annotations

import pytest

from keyaudit import pipeline
from keyaudit.flows.audit import TASKS, PrefectSteps
from keyaudit.flows.scale import AWS_TASK


def test_every_pipeline_step_has_a_prefect_task_and_nothing_else_does():
    assert set(TASKS) == set(pipeline.STEPS)


@pytest.mark.parametrize("fn", list(pipeline.STEPS), ids=list(pipeline.STEPS.values()))
def test_each_task_runs_its_step_under_the_steps_name(fn):
    assert TASKS[fn].fn is fn
    assert TASKS[fn].name == pipeline.STEPS[fn]


def test_the_steps_that_call_aws_are_retried():
    for fn in (pipeline.discover_accounts, pipeline.collect_scps):
        assert TASKS[fn].retries == AWS_TASK["retries"]
    assert TASKS[pipeline.deliver].retries == 0  # delivery retries per file and message itself


def test_a_function_that_is_not_a_step_is_refused():
    def not_a_step() -> None:
        raise AssertionError("ran without a task")

    with pytest.raises(pipeline.UnknownStepError, match=r"not_a_step is not a step of keyaudit"):
        PrefectSteps().run(not_a_step)


def test_a_step_without_a_task_is_refused_by_name(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delitem(TASKS, pipeline.write_report)
    with pytest.raises(pipeline.UnknownStepError) as refused:
        PrefectSteps().run(pipeline.write_report, "plan", "generated_at")
    assert str(refused.value) == (
        "pipeline step report has no Prefect task — add it to flows/audit.py TASKS"
    )
