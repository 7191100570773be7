"""The SQL lint (`sqlfluff lint sql/`, run by `make lint`) through the project's own configuration
([tool.sqlfluff] in pyproject.toml): the house style passes, and a query that breaks a rule kept
on fails, so a configuration that lets everything through cannot go unnoticed."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

HOUSE_STYLE = """\
-- One CTE per upstream, named logic CTEs, `select * from final` last; bound `$name` parameters.
with keys as (
    select * from keys where run_id = $run_id
),

accounts as (
    select run_id, account_id, name from accounts
),

final as (
    select
        keys.account_id,
        accounts.name as account_name,
        count(*) as count_keys
    from keys
    left join accounts using (run_id, account_id)
    group by all
)

select * from final
order by count_keys desc, account_id
"""


@pytest.fixture(scope="module")
def lint():
    from sqlfluff.core import FluffConfig, Linter

    linter = Linter(config=FluffConfig.from_path(str(REPO)))

    def codes(sql: str) -> list[str]:
        return sorted({v.rule_code() for v in linter.lint_string(sql, fname="q.sql").violations})

    return codes


def test_the_house_style_passes_the_sql_lint(lint):
    assert lint(HOUSE_STYLE) == []


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        ("select * from final\n", "SELECT * from final\n", "CP01"),  # upper-case keyword
        (
            "accounts as (",
            "unused as (\n    select 1 as x\n),\n\naccounts as (",
            "ST03",
        ),  # unused CTE
        ("count(*) as count_keys", "count(*) count_keys", "AL02"),  # implicit alias
        ("where run_id = $run_id", "where run_id = $run_id and", "PRS"),  # does not parse
    ],
    ids=["upper-case keyword", "unused CTE", "alias without as", "unparsable"],
)
def test_a_query_breaking_a_rule_fails_the_sql_lint(lint, old, new, code):
    assert old in HOUSE_STYLE
    assert code in lint(HOUSE_STYLE.replace(old, new))
