"""prefect.yaml's monthly-audit deployment loads against the flow's real parameters, carries no
secret, runs one at a time, and `keyaudit serve` serves exactly it. (Registering it with a
Prefect server: tests/flows/test_on_prefect.py.)"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from keyaudit.cli import app
from keyaudit.flows.deployment import PREFECT_YAML, DeploymentFileError, load_spec

runner = CliRunner()


def raw_deployment() -> dict[str, Any]:
    data = yaml.safe_load(PREFECT_YAML.read_text())
    (found,) = [d for d in data["deployments"] if d["name"] == "monthly-audit"]
    return found


def test_prefect_yaml_passes_prefects_own_validation():
    from prefect.cli.deploy._models import PrefectYamlModel
    from prefect.cli.deploy._schedules import _schedule_config_to_deployment_schedule

    model = PrefectYamlModel.model_validate(yaml.safe_load(PREFECT_YAML.read_text()))
    (deployment,) = [d for d in model.deployments if d.name == "monthly-audit"]
    assert deployment.enforce_parameter_schema is True
    raw = raw_deployment()
    (schedule,) = [_schedule_config_to_deployment_schedule(s) for s in raw["schedules"]]
    assert schedule["schedule"].cron == "0 6 1 * *"
    assert schedule["schedule"].timezone == "UTC"
    assert schedule["active"] is True
    assert deployment.concurrency_limit.limit == 1
    assert deployment.concurrency_limit.collision_strategy == "ENQUEUE"


def test_entrypoint_loads_the_audit_flow_and_the_parameters_fit_its_schema():
    from prefect.flows import load_flow_from_entrypoint
    from prefect.utilities.callables import parameter_schema
    from prefect.utilities.schema_tools import validate

    from keyaudit.flows.audit import audit_flow

    raw = raw_deployment()
    flow = load_flow_from_entrypoint(raw["entrypoint"])
    assert flow.name == audit_flow.name
    schema = parameter_schema(flow).model_dump_for_openapi()
    validate(raw["parameters"], schema, raise_on_error=True, ignore_required=False)
    assert set(raw["parameters"]) <= set(schema["properties"])
    assert schema["properties"]["source"]["enum"] == ["aws", "demo", "files"]


def test_a_wrong_parameter_is_refused_by_the_schema_the_deployment_enforces():
    from prefect.exceptions import ParameterTypeError
    from prefect.utilities.callables import parameter_schema
    from prefect.utilities.schema_tools import ValidationError, validate

    from keyaudit.flows.audit import audit_flow

    schema = parameter_schema(audit_flow).model_dump_for_openapi()
    with pytest.raises((ValidationError, ParameterTypeError)):
        validate({"source": "everything"}, schema, raise_on_error=True)


def _strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in (str(k), *_strings(v))]
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    return [str(node)]


def test_prefect_yaml_holds_no_secret():
    words = " ".join(_strings(yaml.safe_load(PREFECT_YAML.read_text()))).lower()
    for word in ("password", "secret", "token", "access_key", "akia", "smtp_user"):
        assert word not in words, word


def test_spec_refuses_an_unknown_timezone_with_one_line():
    with pytest.raises(DeploymentFileError) as caught:
        load_spec().with_timezone("Mars/Olympus")
    assert str(caught.value) == (
        "timezone 'Mars/Olympus' is not known — use an IANA name such as 'UTC' or 'Europe/Berlin'"
    )


def test_one_run_at_a_time_reaches_the_deployment_and_later_runs_wait():
    from prefect.client.schemas.objects import ConcurrencyLimitStrategy

    from keyaudit.flows.audit import audit_flow

    spec = load_spec()
    assert (spec.concurrency_limit, spec.collision_strategy) == (1, "ENQUEUE")
    deployment = spec.to_deployment(audit_flow)
    assert deployment.concurrency_limit == 1
    assert deployment.concurrency_options is not None
    assert deployment.concurrency_options.collision_strategy == ConcurrencyLimitStrategy.ENQUEUE


def _deployment_file(tmp_path, concurrency: str) -> Any:
    text = PREFECT_YAML.read_text().replace(
        "    concurrency_limit:\n      limit: 1\n      collision_strategy: ENQUEUE\n",
        concurrency,
    )
    path = tmp_path / "prefect.yaml"
    path.write_text(text)
    return path


def test_a_plain_number_limit_enqueues_and_no_limit_is_none(tmp_path):
    assert PREFECT_YAML.read_text().count("collision_strategy: ENQUEUE") == 1
    spec = load_spec(_deployment_file(tmp_path, "    concurrency_limit: 2\n"))
    assert (spec.concurrency_limit, spec.collision_strategy) == (2, "ENQUEUE")
    spec = load_spec(_deployment_file(tmp_path, ""))
    assert spec.concurrency_limit is None and spec.options()["concurrency_limit"] is None


def test_an_unknown_collision_strategy_is_refused_with_one_line(tmp_path):
    path = _deployment_file(
        tmp_path, "    concurrency_limit: {limit: 1, collision_strategy: QUEUE}\n"
    )
    with pytest.raises(DeploymentFileError) as caught:
        load_spec(path)
    assert str(caught.value) == (
        f"{path}: deployment 'monthly-audit': collision_strategy 'QUEUE' is not known — use "
        "ENQUEUE or CANCEL_NEW"
    )


@pytest.fixture
def served(monkeypatch, tmp_path) -> list[Any]:
    """prefect.serve replaced by a recorder of the deployments it is given; a valid
    keyaudit.toml in the working folder."""
    import prefect
    from prefect.settings import PREFECT_API_URL, temporary_settings

    calls: list[Any] = []
    monkeypatch.setattr(prefect, "serve", lambda *deployments, **kwargs: calls.extend(deployments))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "keyaudit.toml").write_text("[run]\nmin_coverage = 0.95\n")
    with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:4200/api"}):
        yield calls


def test_serve_serves_the_deployment_of_prefect_yaml_in_the_timezone_asked(served):
    result = runner.invoke(app, ["serve", "--timezone", "Europe/Berlin"])
    assert result.exit_code == 0, result.output
    (deployment,) = served
    raw = raw_deployment()
    assert deployment.name == "monthly-audit" and deployment.flow_name == "keyaudit-audit"
    assert deployment.entrypoint == raw["entrypoint"] == "keyaudit.flows.audit.audit_flow"
    (schedule,) = deployment.schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 6 1 * *", "Europe/Berlin")
    assert schedule.active is True and not deployment.paused
    assert deployment.parameters == raw["parameters"]
    assert deployment.description == raw["description"]
    assert set(deployment.tags) == set(raw["tags"])
    assert deployment.enforce_parameter_schema is True
    assert deployment.concurrency_limit == 1
    assert deployment.concurrency_options.collision_strategy == "ENQUEUE"
    assert result.stderr.startswith(
        "keyaudit: serving keyaudit-audit/monthly-audit: cron '0 6 1 * *' in Europe/Berlin, "
        "parameters {'source': 'aws', 'config_file': 'keyaudit.toml'}, concurrency limit 1 "
        "(ENQUEUE). Stop with Ctrl-C.\n"
    )


def test_serve_without_a_prefect_server_says_how_to_start_one(served):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        result = runner.invoke(app, ["serve"])
    assert result.exit_code == 2
    assert served == []
    assert result.stderr == (
        "keyaudit: error: keyaudit serve needs a Prefect API server that keeps the schedule: "
        "start one with `prefect server start` and set "
        "PREFECT_API_URL=http://127.0.0.1:4200/api (or `prefect cloud login`)\n"
    )


def test_serve_refuses_a_broken_configuration_before_serving(served, tmp_path):
    (tmp_path / "keyaudit.toml").write_text('[run]\ntask_runner = "cluster"\n')
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 2 and served == []
    assert result.stderr.startswith(
        "keyaudit: error: keyaudit.toml: run.task_runner = 'cluster' is not allowed; use one of "
        "'threads' or 'dask' (the deployment's config_file, read from "
    )


def test_the_flow_survives_the_by_value_pickling_of_served_runs():
    """flow.serve runs the flow in a subprocess from a cloudpickle of it, by value."""
    import pickle

    import cloudpickle

    from keyaudit.flows.audit import audit_flow

    copy = pickle.loads(cloudpickle.dumps(audit_flow))
    assert copy.validate_parameters({"source": "demo"})["source"] == "demo"
