"""Running an ASGI application under uvicorn, the same way for every service command."""

from __future__ import annotations

import ipaddress
import sys
from pathlib import Path
from typing import Any

from ramparts.errors import InputError

__all__ = ["check_tls", "run_asgi"]


def check_tls(cert: Path | None, key: Path | None) -> None:
    """``--tls-cert`` and ``--tls-key`` come together or not at all."""
    if (cert is None) != (key is None):
        raise InputError("--tls-cert and --tls-key go together")


def run_asgi(
    app: Any, *, host: str, port: int, cert: Path | None, key: Path | None, clear: str
) -> None:
    """Serve ``app`` until interrupted; warn when plain HTTP leaves the loopback.

    ``clear`` says what would cross the network in clear ("tokens", "prompts"...).
    """
    check_tls(cert, key)
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback and cert is None:
        sys.stderr.write(
            f"ramparts: warning: serving plain HTTP on {host}; {clear} cross the network "
            "in clear (give --tls-cert/--tls-key or put TLS in front)\n"
        )
    import uvicorn  # noqa: PLC0415 - only the service commands need it

    uvicorn.run(
        app,
        host=host,
        port=port,
        ssl_certfile=str(cert) if cert else None,
        ssl_keyfile=str(key) if key else None,
        log_level="warning",
        server_header=False,
        lifespan="on",
    )
