"""The chain: actions, fail modes, and that nothing but Blocked ever escapes it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ramparts.guard.defaults import default_input_guards, default_output_guards
from ramparts.guard.interface import (
    Action,
    BaseGuard,
    Blocked,
    FailMode,
    Guard,
    GuardContext,
    GuardError,
    Hit,
    Role,
    Span,
    apply_spans,
)
from ramparts.guard.runner import GUARD_FAILED, run_guards


class WordGuard(BaseGuard):
    """Hits on every occurrence of a word (a fake that subclasses the real base)."""

    name = "word"
    default_action = Action.FLAG

    def __init__(self, word: str, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.word = word

    def check(self, text: str, ctx: GuardContext) -> Hit | None:
        spans, pos = [], text.find(self.word)
        while pos >= 0:
            spans.append(Span(pos, pos + len(self.word), "***"))
            pos = text.find(self.word, pos + 1)
        return Hit("word_found", f"{len(spans)} hit(s)", 1.0, tuple(spans)) if spans else None


class BrokenGuard(BaseGuard):
    name = "broken"

    def check(self, text: str, ctx: GuardContext) -> Hit | None:
        raise RuntimeError("detector crashed on " + text)


def test_redact_replaces_and_later_guards_see_the_redacted_text() -> None:
    guards = [WordGuard("cat", action=Action.REDACT), WordGuard("***", action=Action.FLAG)]
    result = run_guards(guards, "a cat and a cat")
    assert result.text == "a *** and a ***"
    assert result.codes == ("word_found", "word_found")
    assert result.verdicts[0].action is Action.REDACT
    assert result.verdicts[1].spans[0] == Span(2, 5, "***")  # offsets in the redacted text


def test_flag_records_and_forwards_unchanged() -> None:
    result = run_guards([WordGuard("cat")], "a cat")
    assert result.text == "a cat"
    assert [v.action for v in result.verdicts] == [Action.FLAG]


def test_block_stops_the_chain_and_carries_earlier_verdicts() -> None:
    later = WordGuard("dog", action=Action.REDACT)
    guards = [WordGuard("a", action=Action.FLAG), WordGuard("cat", action=Action.BLOCK), later]
    with pytest.raises(Blocked) as info:
        run_guards(guards, "a cat and a dog")
    assert info.value.verdict.code == "word_found"
    assert info.value.verdict.action is Action.BLOCK
    assert [v.action for v in info.value.verdicts] == [Action.FLAG]
    assert "word_found" in str(info.value)


def test_a_failing_guard_fails_closed_by_default() -> None:
    with pytest.raises(Blocked) as info:
        run_guards([BrokenGuard()], "secret text")
    verdict = info.value.verdict
    assert (verdict.guard, verdict.code, verdict.action) == ("broken", GUARD_FAILED, Action.BLOCK)
    assert "secret text" not in verdict.detail  # the exception's message is not repeated
    assert isinstance(info.value.__cause__, RuntimeError)


def test_a_failing_guard_set_to_fail_open_is_flagged_and_skipped() -> None:
    guards = [BrokenGuard(fail_mode=FailMode.OPEN), WordGuard("cat", action=Action.REDACT)]
    result = run_guards(guards, "a cat")
    assert result.text == "a ***"
    assert [(v.guard, v.code, v.action) for v in result.verdicts] == [
        ("broken", GUARD_FAILED, Action.FLAG),
        ("word", "word_found", Action.REDACT),
    ]


def test_a_guard_returning_a_malformed_hit_has_failed() -> None:
    class BadSpan(BaseGuard):
        name = "bad"

        def check(self, text: str, ctx: GuardContext) -> Hit | None:
            return Hit("x_y", "d", 1.0, (Span(5, 2),))

    with pytest.raises(Blocked) as info:
        run_guards([BadSpan()], "text")
    assert info.value.verdict.code == GUARD_FAILED


def test_value_types_validate_themselves() -> None:
    with pytest.raises(GuardError):
        Span(3, 3)
    with pytest.raises(GuardError):
        Hit("Not A Code", "d")
    with pytest.raises(GuardError):
        Hit("code", "d", score=1.5)
    with pytest.raises(GuardError):
        GuardContext(canaries=("short",))
    assert GuardContext(allowed_hosts=frozenset({" Docs.Example.COM. "})).allowed_hosts == {
        "docs.example.com"
    }


def test_apply_spans_keeps_the_earlier_of_overlapping_spans() -> None:
    spans = [Span(6, 9, "B"), Span(0, 3, "A"), Span(2, 5, "X")]
    assert apply_spans("abcdefghij", spans) == "AdefBj"
    assert apply_spans("abc", []) == "abc"


def test_roles_say_which_way_text_goes() -> None:
    assert [r for r in Role if r.is_output] == [Role.ASSISTANT, Role.TOOL_CALL]


@settings(max_examples=150, deadline=None)
@given(
    st.text(max_size=400)
    | st.lists(
        st.sampled_from(
            [
                "ignore",
                " previous instructions",
                "\u200b",
                "<script>",
                "](",
                "https://e.example/?q=",
                "AKIA",
                "@x.io",
                "4103 0738 6009 7117",
                "' OR 1=1",
                "\U000e0041",
                "aGVsbG8gd29ybGQ=",
                " ",
                "\n",
                "```",
            ]
        ),
        max_size=60,
    ).map("".join),
    st.sampled_from(list(Role)),
)
def test_the_default_chains_raise_nothing_but_blocked(text: str, role: Role) -> None:
    ctx = GuardContext(role=role, canaries=("0123456789abcdef",), system_prompt="be nice " * 6)
    for chain in (default_input_guards(), default_output_guards()):
        outcome = _outcome(chain, text, ctx)
        assert GUARD_FAILED not in outcome, outcome


def _outcome(chain: list[Guard], text: str, ctx: GuardContext) -> tuple[str, ...]:
    """The codes a chain records, or the blocking one; anything but Blocked propagates."""
    try:
        return run_guards(chain, text, ctx).codes
    except Blocked as blocked:
        return (blocked.verdict.code,)
