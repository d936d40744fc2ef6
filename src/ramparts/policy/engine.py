"""The decision: deny by default, an explicit deny wins, every decision explained.

For a request, every rule of every role the principal holds that covers the action and
resource type is considered. A deny rule whose conditions hold denies, whatever allows.
Otherwise an allow rule whose conditions all hold allows. Otherwise the request is
denied, and the trace says which rules were close and which condition failed. An unknown
role on a principal is an error, not an empty role: a typo must not quietly remove or
grant rights. Decisions are sent to an :class:`~ramparts.core.interface.EventSink` when
one is given, and a sink that fails denies.
"""

from __future__ import annotations

from collections.abc import Mapping

from ramparts.core.interface import Event, EventSink, Outcome
from ramparts.errors import AuditError
from ramparts.policy.interface import Decision, Effect, PolicyError, Request
from ramparts.policy.roles import Role

__all__ = ["PolicyEngine"]


class PolicyEngine:
    """Decides requests against a set of roles."""

    def __init__(self, roles: Mapping[str, Role], *, sink: EventSink | None = None) -> None:
        self._roles = dict(roles)
        self._sink = sink

    def decide(self, request: Request) -> Decision:
        """Allow or deny ``request``, with the reason and the trace."""
        decision = self._evaluate(request)
        if self._sink is not None:
            event = Event(
                actor=request.principal.id,
                action=f"policy.decide:{request.action}",
                resource=f"{request.resource.type}:{request.resource.id}",
                outcome=Outcome.SUCCESS if decision.allowed else Outcome.DENIED,
                time=request.context.time,
                reason=decision.reason,
                details={"rule": decision.rule, "roles": list(request.principal.roles)},
            )
            try:
                self._sink.emit(event)
            except AuditError as exc:
                return Decision(False, f"denied: the decision could not be audited ({exc})")
        return decision

    def _evaluate(self, request: Request) -> Decision:
        trace: list[str] = []
        allow: str | None = None
        for name in request.principal.roles:
            role = self._roles.get(name)
            if role is None:
                raise PolicyError(
                    f"principal {request.principal.name!r} holds unknown role {name!r}"
                )
            for rule in role.rules:
                if not rule.covers(request):
                    continue
                failed = rule.failed(request)
                label = f"{name}: {rule}"
                if failed:
                    trace.append(
                        f"{label}: not applied ({', '.join(str(c) for c in failed)} not met)"
                    )
                    continue
                trace.append(f"{label}: applies")
                if rule.effect is Effect.DENY:
                    return Decision(False, f"denied by {label}", label, tuple(trace))
                allow = allow or label
        if allow is not None:
            return Decision(True, f"allowed by {allow}", allow, tuple(trace))
        if not trace:
            reason = "denied: no role grants this action on this resource type"
        else:
            reason = "denied: the conditions of every rule that could allow it are not met"
        return Decision(False, reason, None, tuple(trace))
