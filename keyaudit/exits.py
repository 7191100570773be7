"""The exit statuses of `keyaudit run`, `demo` and `deliver`: one definition, from which the
commands' help is written. It imports nothing, so the command's help stays quick."""

from __future__ import annotations

OK = 0
UNEXPECTED = 1  # an error keyaudit did not expect: Python prints its traceback
BAD_INPUT = 2  # one line on stderr naming the thing and the fix (keyaudit.cli.common.fail)
COVERAGE_BELOW_MINIMUM = 3
DELIVERY_FAILED = 4
INTERRUPTED = 130  # Ctrl-C (SIGINT), as shells report it


def is_interruption(failure: BaseException) -> bool:
    """Ctrl-C (or a SystemExit): KeyboardInterrupt, or DuckDB's form of it. A query under way
    when SIGINT arrives ends in RuntimeError("Query interrupted"): DuckDB's Python client takes
    the KeyboardInterrupt and raises that instead."""
    if not isinstance(failure, Exception):
        return True
    return type(failure) is RuntimeError and str(failure) == "Query interrupted"


# What each status means after an audit run (`keyaudit run`, `keyaudit demo`).
RUN_EXIT_CODES: tuple[tuple[int, str], ...] = (
    (
        OK,
        "the run finished with at least run.min_coverage of the accounts assessed and every "
        "delivery sent; findings do not change it",
    ),
    (UNEXPECTED, "an unexpected error, printed with its traceback; please report it"),
    (
        BAD_INPUT,
        "wrong input, or the run could not start or finish: one line on stderr says what to fix",
    ),
    (
        COVERAGE_BELOW_MINIMUM,
        "fewer accounts assessed than run.min_coverage; the report is "
        "written, marked INCOMPLETE (takes precedence over 4)",
    ),
    (
        DELIVERY_FAILED,
        "an S3 upload or an e-mail failed after its retries; the report is written "
        "(`keyaudit deliver --run RUN_ID` sends it again)",
    ),
    (INTERRUPTED, "interrupted (Ctrl-C); `keyaudit run --resume RUN_ID` finishes the run"),
)

# `keyaudit deliver`: a resend of a finished run.
DELIVER_EXIT_CODES: tuple[tuple[int, str], ...] = (
    (OK, "everything configured was sent"),
    (UNEXPECTED, RUN_EXIT_CODES[1][1]),
    (
        BAD_INPUT,
        "wrong input, or the run's files cannot be read: one line on stderr says what to fix",
    ),
    (DELIVERY_FAILED, "an S3 upload or an e-mail still failed after its retries"),
    (INTERRUPTED, "interrupted (Ctrl-C)"),
)


def exit_codes_help(codes: tuple[tuple[int, str], ...]) -> str:
    """The codes as a markdown list for a command's help (its epilog)."""
    return "Exit status:\n\n" + "\n".join(f"* {code}: {text}" for code, text in codes)


# `keyaudit remediate`: acting on an approved deactivation plan.
KEY_NOT_DEACTIVATED = 4
REMEDIATE_EXIT_CODES: tuple[tuple[int, str], ...] = (
    (OK, "every due key was deactivated (or, in a dry run, could be) or skipped with its reason"),
    (UNEXPECTED, RUN_EXIT_CODES[1][1]),
    (
        BAD_INPUT,
        "wrong input (the run, the approved plan file, the configuration): one line on stderr "
        "says what to fix; nothing was changed",
    ),
    (
        KEY_NOT_DEACTIVATED,
        "a due key could not be re-read or deactivated (the line says why); the others were "
        "done, and running again skips them as already inactive",
    ),
    (INTERRUPTED, "interrupted (Ctrl-C)"),
)
