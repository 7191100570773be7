"""The pipeline names each step by its function (`pipeline.STEPS`): every function `run_audit`
hands to its `Steps` is one of them, and anything else is refused by name, in this process as
under Prefect (tests/flows/test_steps.py), never run without its task."""

from __future__ import annotations

import ast
import inspect

import pytest

from keyaudit import pipeline


def _functions_run_as_steps() -> set[str]:
    """The names of the functions passed to `steps.run(...)` anywhere in keyaudit.pipeline."""
    tree = ast.parse(inspect.getsource(pipeline))
    return {
        node.args[0].id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "run"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "steps"
        and node.args
        and isinstance(node.args[0], ast.Name)
    }


def test_every_function_the_pipeline_runs_as_a_step_is_a_named_step():
    run = _functions_run_as_steps()
    assert run, "found no steps.run(...) call in keyaudit/pipeline.py"
    assert run == {fn.__name__ for fn in pipeline.STEPS}


def test_step_names_are_unique():
    assert len(set(pipeline.STEPS.values())) == len(pipeline.STEPS)


def test_a_step_is_named_by_its_function():
    assert pipeline.step_name(pipeline.load_and_evaluate) == "load"
    assert pipeline.step_name(pipeline.collect_scps) == "scps"


def test_local_steps_refuse_a_function_that_is_not_a_step():
    called = []

    def not_a_step() -> None:
        called.append(True)

    with pytest.raises(pipeline.UnknownStepError) as refused:
        pipeline.LocalSteps().run(not_a_step)
    assert called == []
    assert str(refused.value) == (
        "test_local_steps_refuse_a_function_that_is_not_a_step.<locals>.not_a_step is not a step "
        "of keyaudit.pipeline — add it to pipeline.STEPS, and give it a task in flows/audit.py"
    )


def test_local_steps_call_a_step_with_its_arguments(monkeypatch: pytest.MonkeyPatch):
    def report(*args: object) -> tuple[object, ...]:
        return args

    monkeypatch.setitem(pipeline.STEPS, report, "report-stand-in")
    assert pipeline.LocalSteps().run(report, 1, "two") == (1, "two")
