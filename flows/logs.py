"""keyaudit's own log lines (logger "keyaudit" and its children) in the Prefect run's log.

Prefect sends only its run loggers to the API. `PREFECT_LOGGING_EXTRA_LOGGERS=keyaudit`
(prefect.yaml's job variables, the CLI's defaults) attaches Prefect's API handler to keyaudit's
logger when Prefect is imported, but in Prefect 3.9 it leaves the logger's level alone, so its
INFO lines fall to the root's WARNING and never arrive. The flow therefore makes sure of both
itself, whatever the process that runs it set up: `keyaudit serve`, a work-pool worker, or the CLI.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from prefect.logging.handlers import APILogHandler

KEYAUDIT = "keyaudit"


@contextmanager
def keyaudit_logs_to_prefect() -> Iterator[None]:
    """Inside the block, keyaudit's INFO lines and above go to the Prefect API too.

    Only an API handler is added (none when one is there already), never a console handler, and
    propagation is left as it was: the CLI keeps printing each progress line once, a served or
    deployed run prints them once through Prefect's console handler on the root logger."""
    logger = logging.getLogger(KEYAUDIT)
    added: APILogHandler | None = None
    if not any(isinstance(h, APILogHandler) for h in logger.handlers):
        added = APILogHandler()
        logger.addHandler(added)
    level = logger.level
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        if added is not None:
            logger.removeHandler(added)
        logger.setLevel(level)
