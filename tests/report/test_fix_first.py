"""The Fix first list on the report's summary: the first keys of the fix_first view, in its
order, for the run or for a slice of its accounts."""

from __future__ import annotations

from html import escape

import duckdb
from report_rows import RULES, RUN_ID

from keyaudit.report import ReportContext, build_report_context
from keyaudit.report.fix_first import FIX_FIRST_LIMIT
from keyaudit.warehouse.saved_queries import bind, find_query


def view(con: duckdb.DuckDBPyConnection, accounts: list[str] | None = None) -> list[tuple]:
    return [
        tuple(r)
        for r in con.execute(
            "select fix_rank, account_id, user_name from fix_first where run_id = ? "
            "and (? is null or list_contains(?, account_id)) order by fix_rank",
            [RUN_ID, accounts, accounts],
        ).fetchall()
    ]


def shown(context: ReportContext) -> list[tuple]:
    return [(k["fix_rank"], k["account_id"], k["user_name"]) for k in context.fix_first]


def test_summary_lists_the_first_keys_of_the_view_in_its_order(shared_db, shared_context):
    expected = view(shared_db)
    assert len(expected) >= FIX_FIRST_LIMIT
    assert shown(shared_context) == expected[:FIX_FIRST_LIMIT]


def test_summary_shows_the_fix_first_table_with_account_user_key_and_why(
    shared_context, shared_html
):
    table = shared_html[shared_html.index('id="fix-first-table"') :]
    table = table[: table.index("</table>")]
    for key in shared_context.fix_first:
        assert escape(key["user_name"]) in table and escape(key["key"]) in table
    assert table.count("<tr>") == 1 + FIX_FIRST_LIMIT  # the header and the keys
    assert shared_html.index('id="fix-first"') < shared_html.index('id="controls"')


def test_the_limit_is_a_parameter(shared_db):
    context = build_report_context(shared_db, RUN_ID, rules=RULES, fix_first_limit=2)
    assert shown(context) == view(shared_db)[:2]


def test_a_slice_lists_its_own_keys_with_their_rank_in_the_run(shared_db):
    account = view(shared_db)[-1][1]
    context = build_report_context(shared_db, RUN_ID, rules=RULES, account_ids=[account])
    assert shown(context) == view(shared_db, [account])[:FIX_FIRST_LIMIT]
    assert {k["account_id"] for k in context.fix_first} == {account}


def test_the_saved_query_lists_the_same_keys_in_the_same_order_for_a_run_or_an_account(
    shared_db,
):
    """One question, one definition: `keyaudit query --file fix_first` and the report both read
    fix_first_for, so an auditor's list and the report's never disagree."""
    query = find_query("fix_first")
    account = view(shared_db)[-1][1]
    for given, accounts in (({}, None), ({"account_id": account}, [account])):
        rows = shared_db.execute(query.sql, bind(query, {"run_id": RUN_ID, **given})).fetchall()
        assert [tuple(r[:3]) for r in rows] == view(shared_db, accounts)
