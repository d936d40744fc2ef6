"""The gateway's guard chains keep the outcome of messages they have passed (system
prompts and chat history come back with every turn), and only those."""

from __future__ import annotations

import pytest

from ramparts.gateway import guards as layer
from ramparts.gateway.guards import LayerGuards, guard_chains
from ramparts.gateway.interface import RefusedRequestError
from ramparts.guard.interface import Action, BaseGuard, FailMode, GuardContext, Hit, Span


class CountingGuard(BaseGuard):
    """Redacts "cat", blocks "wolf", raises on "boom"; counts the texts it is shown."""

    name = "counting"
    default_action = Action.REDACT

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.seen: list[str] = []

    def check(self, text: str, ctx: GuardContext) -> Hit | None:
        self.seen.append(text)
        if "boom" in text:
            raise RuntimeError("detector crashed")
        if "wolf" in text:
            return Hit("wolf", "a wolf", 1.0, ())
        pos = text.find("cat")
        return Hit("cat", "a cat", 1.0, (Span(pos, pos + 3, "***"),)) if pos >= 0 else None


class BlockingWolf(CountingGuard):
    name = "wolf"
    default_action = Action.BLOCK

    def check(self, text: str, ctx: GuardContext) -> Hit | None:
        self.seen.append(text)
        return Hit("wolf", "a wolf", 1.0, ()) if "wolf" in text else None


def test_a_message_seen_before_is_not_guarded_again() -> None:
    guard = CountingGuard()
    guards = LayerGuards([guard], [])
    first = guards.inspect_input("a cat on the mat", "user")
    again = guards.inspect_input("a cat on the mat", "user")
    assert first == again == ("a *** on the mat", [first[1][0]])
    assert first[1][0]["code"] == "cat"
    assert guard.seen == ["a cat on the mat"]
    # The records handed out are copies: a caller that changes one changes nothing kept.
    again[1][0]["code"] = "changed"
    assert guards.inspect_input("a cat on the mat", "user")[1][0]["code"] == "cat"
    # The same words from another role are another message.
    guards.inspect_input("a cat on the mat", "system")
    assert len(guard.seen) == 2


def test_refused_messages_are_guarded_every_time() -> None:
    guard = BlockingWolf()
    guards = LayerGuards([guard], [])
    for _ in range(2):
        with pytest.raises(RefusedRequestError):
            guards.inspect_input("a wolf at the door", "user")
    assert len(guard.seen) == 2


def test_a_guard_that_failed_open_is_asked_again() -> None:
    guard = CountingGuard(fail_mode=FailMode.OPEN)
    guards = LayerGuards([guard], [])
    for _ in range(2):
        _, records = guards.inspect_input("boom", "user")
        assert records[0]["code"] == "guard_failed"
    assert len(guard.seen) == 2


def test_what_is_kept_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layer, "_KEPT_TEXT", 10)
    monkeypatch.setattr(layer, "_KEPT", 3)
    guard = CountingGuard()
    guards = LayerGuards([guard], [])
    guards.inspect_input("a" * 11, "user")
    guards.inspect_input("a" * 11, "user")  # too long to keep
    assert len(guard.seen) == 2
    for word in ("one", "two", "three", "four"):
        guards.inspect_input(word, "user")  # four outcomes, three kept: "one" goes
    guards.inspect_input("four", "user")
    guards.inspect_input("one", "user")
    assert guard.seen[-1] == "one"
    assert guard.seen.count("four") == 1


def test_redacted_text_kept_is_bounded_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layer, "_KEPT_CHARS", 20)
    guard = CountingGuard()
    guards = LayerGuards([guard], [])
    first, second = "one cat here", "two cats here"  # 25 redacted characters together
    assert guards.inspect_input(first, "user")[0] == "one *** here"
    guards.inspect_input(second, "user")
    guards.inspect_input(second, "user")
    guards.inspect_input(first, "user")
    assert guard.seen == [first, second, first]


def test_an_unredacted_message_is_not_kept_itself() -> None:
    guards = LayerGuards([CountingGuard()], [])
    guards.inspect_input("nothing to see", "user")
    assert guards.inspect_input("nothing to see", "user") == ("nothing to see", [])
    assert "nothing to see" not in repr(guards._kept)


def test_the_default_chains_give_the_same_outcome_from_memory() -> None:
    inputs, outputs = guard_chains({})
    guards = LayerGuards(inputs, outputs)
    text = "Call me on +44 20 7946 0958 about the delivery."
    first = guards.inspect_input(text, "user")
    assert first[0] == "Call me on [REDACTED:phone-number] about the delivery."
    assert guards.inspect_input(text, "user") == first
