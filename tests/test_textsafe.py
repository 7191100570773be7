"""A long text is shortened in the middle: its start says what failed, its end says what to do."""

from __future__ import annotations

import pytest

from keyaudit.textsafe import shortened

REASON = (
    "account 111122223333: AccessDenied assuming arn:aws:iam::111122223333:role/KeyAuditRole "
    + "(the role's trust policy names another principal) " * 80
    + "— grant sts:AssumeRole on the role to the audit principal"
)


def test_a_text_within_the_limit_is_kept_whole():
    assert shortened("short", 5) == "short"
    assert shortened(REASON[:600], 600) == REASON[:600]


@pytest.mark.parametrize("limit", [200, 600, 2000])
def test_a_longer_text_keeps_its_start_and_its_end_and_says_how_much_was_left_out(limit: int):
    cut = shortened(REASON, limit)
    head, rest = cut.split(" … (")
    count, tail = rest.split(" characters left out) … ")
    assert len(cut) <= limit
    assert REASON.startswith(head) and REASON.endswith(tail)
    assert tail.endswith("— grant sts:AssumeRole on the role to the audit principal")
    assert int(count.replace(",", "")) == len(REASON) - len(head) - len(tail)


def test_the_cut_falls_between_words_when_a_space_is_near():
    cut = shortened("alpha " * 100 + "omega", 100)
    head, _, tail = cut.partition(" … (")
    assert head.endswith("alpha") and tail.split(" … ")[1].startswith("alpha")


def test_a_limit_too_small_for_the_mark_cuts_the_end():
    assert shortened("abcdef", 4) == "abc…"
