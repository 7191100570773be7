"""Scale-out needs a Prefect API server the Dask workers can reach; without one the run is
refused with the fix. (The demo collected on a Dask cluster: tests/flows/test_on_prefect.py.)"""

from __future__ import annotations

import pytest


def test_dask_without_a_prefect_api_server_is_refused_with_the_fix(monkeypatch):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from keyaudit.config import RunConfig
    from keyaudit.flows.scale import ScaleOutError, dask_runner

    with (
        temporary_settings(restore_defaults={PREFECT_API_URL}),
        pytest.raises(ScaleOutError) as caught,
    ):
        dask_runner(RunConfig(task_runner="dask"))
    assert str(caught.value) == (
        'run.task_runner = "dask" needs a Prefect API server that the Dask workers can reach: '
        "start one with `prefect server start` and set "
        "PREFECT_API_URL=http://<this host>:4200/api (README, 'Scale-out on Dask')"
    )
