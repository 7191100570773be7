"""The flow hands keyaudit's loggers to Prefect's API without printing a line twice. (That the
lines arrive in a run's log, in a run started the way a deployment starts it:
tests/flows/test_on_prefect.py.)"""

from __future__ import annotations

import logging

import pytest
from prefect.logging.handlers import APILogHandler
from prefect.settings import PREFECT_LOGGING_TO_API_ENABLED, temporary_settings

from keyaudit.cli.common import show_progress
from keyaudit.flows.logs import keyaudit_logs_to_prefect


@pytest.fixture
def keyaudit_logger(monkeypatch: pytest.MonkeyPatch) -> logging.Logger:
    """keyaudit's logger as a deployment's flow process has it: nothing set up."""
    logger = logging.getLogger("keyaudit")
    monkeypatch.setattr(logger, "handlers", [])
    monkeypatch.setattr(logger, "level", logging.NOTSET)
    monkeypatch.setattr(logger, "propagate", True)
    return logger


def test_in_a_deployment_keyaudits_info_lines_go_to_the_api_during_the_run(keyaudit_logger):
    assert not keyaudit_logger.isEnabledFor(logging.INFO)  # the root's WARNING
    with keyaudit_logs_to_prefect():
        assert [type(h) for h in keyaudit_logger.handlers] == [APILogHandler]
        assert logging.getLogger("keyaudit.run").isEnabledFor(logging.INFO)
    assert keyaudit_logger.handlers == [] and keyaudit_logger.level == logging.NOTSET


def test_an_api_handler_from_prefect_logging_extra_loggers_is_not_doubled(keyaudit_logger):
    extra = APILogHandler()  # what PREFECT_LOGGING_EXTRA_LOGGERS=keyaudit attaches at import
    keyaudit_logger.addHandler(extra)
    with keyaudit_logs_to_prefect():
        assert keyaudit_logger.handlers == [extra]
    assert keyaudit_logger.handlers == [extra]


def test_the_cli_still_prints_each_progress_line_once_as_a_prefect_flow(keyaudit_logger, capfd):
    show_progress()  # what `keyaudit run --prefect` sets up before it calls the flow
    with temporary_settings({PREFECT_LOGGING_TO_API_ENABLED: False}), keyaudit_logs_to_prefect():
        assert keyaudit_logger.propagate is False
        logging.getLogger("keyaudit.run").info("run R: collecting 9 with concurrency 3")
    assert capfd.readouterr().err.count("collecting 9 with concurrency 3") == 1
    assert keyaudit_logger.level == logging.INFO
