"""The shared finished demo run lives in tests/runs.py (the `demo_run` fixture of
tests/conftest.py); this name stays for tests/report/test_last_used_modes.py, which imports
`demo_run` from this folder."""

from tests.runs import DemoRun, make_demo_run

__all__ = ["DemoRun", "make_demo_run"]
