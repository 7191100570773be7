# keyaudit — everything a fresh machine needs is installed from here.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy
# trust the machine's certificate store (a company proxy's CA lives there, not in uv's own roots)
export UV_SYSTEM_CERTS := 1
# .pyc at install: every command starts ~1 s sooner (pandas, prefect are compiled once)
export UV_COMPILE_BYTECODE := 1
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
RUN := $(UV) run --frozen --no-sync
# uv for this HOME: a checkout set up under another HOME (or by CI) still finds or installs its own
ENSURE_UV := command -v uv >/dev/null 2>&1 || test -x $(HOME)/.local/bin/uv || python3 scripts/bootstrap_uv.py

.PHONY: help setup demo test test-quick test-slow lint format bench bench-quick audit-deps wheel-check test-deps

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 14

setup: .venv/.keyaudit-synced  ## install what running needs: uv, the locked Python environment, WeasyPrint's system libraries and fonts
	@$(ENSURE_UV)
	@scripts/system-deps.sh

test-deps: setup  ## setup, and what only the tests need: chromium for the browser test (skipped, with a message, where it cannot be installed; CI requires it)
	@scripts/system-deps.sh test

.venv/.keyaudit-synced: pyproject.toml uv.lock
	@$(ENSURE_UV)
	@$(UV) sync --frozen --quiet --all-extras   # the demo and dask extras: make demo and the tests use them
	@touch $@

demo: setup  ## audit a simulated organization end to end and print where the report is
	@$(RUN) keyaudit demo

test: test-deps  ## run the test suite, but for the slow end-to-end files (≤ 5 min on 2 cores)
	@$(RUN) pytest -q -n 2 --dist loadfile -m "not slow"

test-quick: setup  ## while you work: make test without the Prefect tests and without the shared demo run
	@$(RUN) pytest -q -n 2 --dist loadfile -m "not slow and not prefect and not demo"

test-slow: test-deps  ## the slow end-to-end files: Prefect flows, repeated demo runs, fault injection (CI runs them after make test)
	@$(RUN) pytest -q -n 2 --dist loadfile -m slow

lint: setup  ## ruff lint and format check, mypy, the import contracts of the layout (lint-imports), sqlfluff on sql/
	@$(RUN) ruff check .
	@$(RUN) ruff format --check .
	@$(RUN) mypy keyaudit   # flows/ too, as keyaudit.flows (through the link keyaudit/flows)
	@$(RUN) lint-imports --no-cache
	@$(RUN) sqlfluff lint sql/   # rules and their exceptions: pyproject.toml, [tool.sqlfluff]

wheel-check: setup  ## build the wheel, pip-install it into clean venvs and run keyaudit demo from an empty folder (≈ 2.5 min)
	@scripts/check_wheel.sh

bench: setup  ## run every benchmark (≈ 15 min) and write bench/results.md
	@$(RUN) python bench/run_all.py

bench-quick: setup  ## every benchmark at a small size (a smoke test of the benchmarks)
	@$(RUN) python bench/run_all.py --quick

audit-deps: .venv/.keyaudit-synced  ## check every package in uv.lock for known vulnerabilities (pip-audit; needs pypi.org)
	@$(RUN) python scripts/audit_deps.py --uv "$(UV)"

format: setup  ## apply ruff fixes and formatting
	@$(RUN) ruff check --fix .
	@$(RUN) ruff format .
