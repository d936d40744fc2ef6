"""ASGI helpers shared by the gateway's proxy and its token endpoint."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from ramparts.gateway.interface import RefusedRequestError

__all__ = ["read_body"]


async def read_body(receive: Callable[[], Awaitable[Mapping[str, Any]]], limit: int) -> bytes:
    """The request body, refused (413 ``request_too_large``) once it passes ``limit``
    bytes, without reading further: memory stays bounded whatever the client sends.
    A client that disconnects first is refused with 400 ``invalid_request``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise RefusedRequestError(400, "invalid_request", "the client went away")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise RefusedRequestError(
                413, "request_too_large", f"the body is larger than {limit} bytes"
            )
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
