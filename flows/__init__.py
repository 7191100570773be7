"""keyaudit.flows: the Prefect flow and its tasks over keyaudit.pipeline, and nothing else.

The folder is at the top of the repository, and it is imported only as `keyaudit.flows`: in the
checkout through the link keyaudit/flows -> ../flows (which Python, mypy and import-linter follow),
in the wheel as the package keyaudit/flows (pyproject.toml force-includes it there). A top-level
package named `flows` would clash with any other project's. It may import the library, never the
CLI (import-linter's contracts in pyproject.toml).
"""
