"""Value types and errors of the gateway.

Errors::

    RampartsError
    └── GatewayError                 the gateway cannot serve a request or is misconfigured
        ├── LimiterUnavailableError  the shared rate-limit or kill-switch store cannot answer
        └── RefusedRequestError      a request answered with an error (status, stable code)

A refused request is answered in OpenAI's error shape with a stable ``code``:
:data:`CODES` lists them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

from ramparts.core.interface import Event
from ramparts.core.records import record
from ramparts.core.types import Principal
from ramparts.errors import RampartsError

__all__ = [
    "CODES",
    "AuditSink",
    "Authenticated",
    "Authenticator",
    "GatewayError",
    "LimiterUnavailableError",
    "RefusedRequestError",
    "StreamFilter",
    "TextGuards",
]

CODES = (
    "invalid_api_key",
    "permission_denied",
    "rate_limited",
    "kill_switch",
    "limiter_unavailable",
    "request_too_large",
    "invalid_request",
    "model_not_found",
    "upstream_error",
    "upstream_unavailable",
    "audit_unavailable",
    "guard_failed",
)
"""Stable codes of refusals made by the gateway itself; guards add their own
(``prompt_injection``, ``secret_in_prompt``...)."""


class GatewayError(RampartsError):
    """The gateway cannot serve a request, or its configuration is invalid."""


class LimiterUnavailableError(GatewayError):
    """The shared store of rate limits or the kill switch did not answer."""


class RefusedRequestError(GatewayError):
    """A request the gateway answers with an error: HTTP status, stable code, message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        verdicts: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.headers = dict(headers or {})
        self.verdicts = list(verdicts)


@record
class Authenticated:
    """Who a request's credentials prove, and whether a second factor backs them."""

    principal: Principal
    mfa: bool = False


Authenticator = Callable[[str], Authenticated]
"""Checks a bearer credential (token or API key); raises :class:`RefusedRequestError`
(401) when it does not authenticate."""


class StreamFilter(Protocol):
    """Output guards over a stream: text in, text safe to emit out (a hold-back buffer)."""

    def feed(self, chunk: str) -> str:
        """Take the next piece of the output; return what may be sent now."""
        ...

    def finish(self) -> str:
        """The output ended: return what was held back (checked)."""
        ...


class TextGuards(Protocol):
    """Input and output guards as the gateway uses them.

    ``inspect_*`` return the text to forward (redacted when a guard redacts) and the
    verdicts as JSON-ready records, or raise :class:`RefusedRequestError` when a guard blocks or a
    fail-closed guard fails.
    """

    def inspect_input(self, text: str, role: str) -> tuple[str, list[dict[str, Any]]]:
        """Check one input message (``role``: system, user, assistant, tool)."""
        ...

    def inspect_output(self, text: str) -> tuple[str, list[dict[str, Any]]]:
        """Check one whole output."""
        ...

    def output_stream(self) -> StreamFilter:
        """A filter for one streamed output."""
        ...


AuditSink = Callable[[Event], Awaitable[None]]
"""Records an event durably before returning, or raises :class:`~ramparts.errors.AuditError`."""
