"""Value types and errors of the gateway.

Errors::

    RampartsError
    └── GatewayError            the gateway cannot serve a request or is misconfigured
        └── LimiterUnavailableError  the shared rate-limit or kill-switch store cannot answer

A refused request is answered in OpenAI's error shape with a stable ``code``:
:data:`CODES` lists them.
"""

from __future__ import annotations

from ramparts.errors import RampartsError

__all__ = ["CODES", "GatewayError", "LimiterUnavailableError"]

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
