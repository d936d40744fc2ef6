"""The guard layer as the gateway uses it: chains by configuration, verdicts as records.

A blocking verdict, or a guard that fails closed, becomes a 400 refusal whose ``code`` is
the verdict's (``prompt_injection``, ``guard_failed``...); redactions change what is
forwarded; flags are only recorded. Every verdict goes into the call's audit event
(guard, action, code, detail, score: never the matched text).

Chat clients send the system prompt and the whole conversation again with every turn,
so :class:`LayerGuards` keeps the outcome of the input messages it has passed and does
not guard them again: the verdicts, and the redacted text where a guard redacted, under
a digest of the role and the message (a message itself is never kept). Refused
messages, and outcomes where a guard failed open, are not kept: they are guarded afresh
every time.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from ramparts.gateway.interface import GatewayError, RefusedRequestError, StreamFilter
from ramparts.guard.defaults import (
    BUILTIN,
    default_input_guards,
    default_output_guards,
    guards_from_config,
)
from ramparts.guard.injection import InjectionGuard, RuleDetector
from ramparts.guard.interface import Blocked, Guard, GuardContext, Role, Verdict
from ramparts.guard.runner import GUARD_FAILED, run_guards
from ramparts.guard.stream import StreamGuard

__all__ = ["LayerGuards", "guard_chains"]

_ROLES = {"developer": Role.SYSTEM, "function": Role.TOOL}
_KEPT = 4096
"""Outcomes kept at most (the oldest are dropped)."""
_KEPT_CHARS = 4_000_000
"""Characters of redacted text the kept outcomes may hold together."""
_KEPT_TEXT = 65_536
"""Longer messages are guarded every time: keeping them would crowd out the rest."""


def _record(verdict: Verdict) -> dict[str, Any]:
    return {"guard": verdict.guard, "action": verdict.action.value, "code": verdict.code,
            "detail": verdict.detail, "score": round(verdict.score, 3)}  # fmt: skip


def _refusal(blocked: Blocked) -> RefusedRequestError:
    verdict = blocked.verdict
    return RefusedRequestError(
        400,
        verdict.code,
        f"refused by guard {verdict.guard}: {verdict.detail}",
        verdicts=[*map(_record, blocked.verdicts), _record(verdict)],
    )


def guard_chains(
    config: Mapping[str, str], *, injection_classifier: bool = False
) -> tuple[list[Guard], list[Guard]]:
    """Input and output chains: the defaults, with ``config`` (guard name -> ``block``,
    ``redact``, ``flag`` or ``off``) changing a guard's action or leaving it out.

    ``injection_classifier`` adds the trained classifier (tier 2) to the injection
    guard's rules, with the guard's configured action and failure mode.
    """
    unknown = set(config) - set(BUILTIN)
    if unknown:
        raise GatewayError(
            f"[guards]: unknown guard(s) {', '.join(sorted(unknown))} "
            f"(one of {', '.join(sorted(BUILTIN))})"
        )
    chains = []
    for defaults in (default_input_guards(), default_output_guards()):
        settings: dict[str, object] = {}
        for guard in defaults:
            value = config.get(guard.name)
            settings[guard.name] = {"enabled": False} if value == "off" else value
        chains.append(guards_from_config(settings) if any(
            v != {"enabled": False} for v in settings.values()) else [])  # fmt: skip
    inputs, outputs = chains
    if injection_classifier:
        inputs = [_two_tiers(g) if isinstance(g, InjectionGuard) else g for g in inputs]
    return inputs, outputs


def _two_tiers(guard: InjectionGuard) -> InjectionGuard:
    from ramparts.guard.classifier import default_classifier  # noqa: PLC0415 - 230 KB model

    return InjectionGuard(
        detectors=[RuleDetector(), default_classifier()],
        action=guard.action,
        fail_mode=guard.fail_mode,
    )


class _Stream:
    def __init__(self, guard: StreamGuard) -> None:
        self._guard = guard

    def feed(self, chunk: str) -> str:
        try:
            return self._guard.feed(chunk)
        except Blocked as blocked:
            raise _refusal(blocked) from blocked

    def finish(self) -> str:
        try:
            return self._guard.finish()
        except Blocked as blocked:
            raise _refusal(blocked) from blocked


class LayerGuards:
    """:class:`~ramparts.gateway.interface.TextGuards` over chains of the guard layer."""

    def __init__(
        self,
        input_guards: Sequence[Guard],
        output_guards: Sequence[Guard],
        *,
        allowed_hosts: Sequence[str] = (),
    ) -> None:
        self._input = list(input_guards)
        self._output = list(output_guards)
        self._output_ctx = GuardContext(role=Role.ASSISTANT, allowed_hosts=frozenset(allowed_hosts))
        self._contexts = {role: GuardContext(role=role) for role in Role}
        self._kept: OrderedDict[bytes, tuple[str | None, tuple[dict[str, Any], ...]]] = (
            OrderedDict()
        )
        self._kept_chars = 0

    def inspect_input(self, text: str, role: str) -> tuple[str, list[dict[str, Any]]]:
        """Run the input chain on one message (or recall its outcome: see the module)."""
        kind = _ROLES.get(role) or (Role(role) if role in Role._value2member_map_ else Role.USER)
        key = None
        if len(text) <= _KEPT_TEXT:
            digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=20)
            key = kind.value.encode() + b"\0" + digest.digest()
            kept = self._kept.get(key)
            if kept is not None:
                self._kept.move_to_end(key)
                redacted, verdicts = kept
                return text if redacted is None else redacted, [dict(v) for v in verdicts]
        try:
            result = run_guards(self._input, text, self._contexts[kind])
        except Blocked as blocked:
            raise _refusal(blocked) from blocked
        records = [_record(v) for v in result.verdicts]
        if key is not None and all(v.code != GUARD_FAILED for v in result.verdicts):
            self._keep(key, None if result.text == text else result.text, records)
        return result.text, records

    def _keep(self, key: bytes, redacted: str | None, records: list[dict[str, Any]]) -> None:
        self._drop(key)
        self._kept[key] = (redacted, tuple(dict(record) for record in records))
        self._kept_chars += len(redacted or "")
        while len(self._kept) > _KEPT or self._kept_chars > _KEPT_CHARS:
            self._drop(next(iter(self._kept)))

    def _drop(self, key: bytes) -> None:
        kept = self._kept.pop(key, None)
        if kept is not None:
            self._kept_chars -= len(kept[0] or "")

    def inspect_output(self, text: str) -> tuple[str, list[dict[str, Any]]]:
        """Run the output chain on a whole answer."""
        try:
            result = run_guards(self._output, text, self._output_ctx)
        except Blocked as blocked:
            raise _refusal(blocked) from blocked
        return result.text, [_record(v) for v in result.verdicts]

    def output_stream(self) -> StreamFilter:
        """A hold-back filter for one streamed answer."""
        return _Stream(StreamGuard(self._output, self._output_ctx))
