"""``ramparts serve``: the control plane (registry, approvals, lineage) over HTTP."""

from __future__ import annotations

import argparse
import ipaddress
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ramparts.cli.parsing import Parser
from ramparts.cli.policy_cmd import add_policy_option
from ramparts.cli.state import AppState
from ramparts.errors import InputError

if TYPE_CHECKING:
    from fastapi import FastAPI, Request

    from ramparts.registry.interface import Caller

__all__ = ["add_parser", "build_app"]

DESCRIPTION = """\
Serve the control plane: the registry, approvals, gated promotion, rollback and lineage
over HTTP, with the OpenAPI document at /openapi.json. Every request authenticates with
"Authorization: Bearer TOKEN" (a token or API key of `ramparts identity`); a TOTP code
in "X-Ramparts-TOTP" is checked against the caller's second factor. Every endpoint asks
the policy engine, and every change is in the audit log.

  ramparts serve                                  # http://127.0.0.1:8787
  ramparts serve --host 0.0.0.0 --tls-cert cert.pem --tls-key key.pem
"""


def add_parser(commands: Any) -> None:
    """Add ``serve``."""
    serve: Parser = commands.add_parser(
        "serve", help="run the control plane (HTTP API)", description=DESCRIPTION
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback)")
    serve.add_argument("--port", type=int, default=8787, help="port (default: 8787)")
    serve.add_argument("--tls-cert", type=Path, metavar="PEM", help="serve HTTPS with this cert")
    serve.add_argument("--tls-key", type=Path, metavar="PEM", help="the certificate's key")
    add_policy_option(serve)
    serve.set_defaults(handler=run_serve)


def _token(request: Request) -> str:
    from ramparts.registry.interface import AuthError  # noqa: PLC0415

    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("not authenticated: send 'Authorization: Bearer TOKEN'")
    return token.strip()


def build_app(state: AppState, policies: list[Path]) -> FastAPI:
    """The control plane application over the state this process is configured with."""
    from ramparts.cli.control import ControlPlane  # noqa: PLC0415
    from ramparts.registry.http import create_app  # noqa: PLC0415

    plane = ControlPlane(state, policies)

    def authenticate(request: Request) -> Caller:
        return plane.authenticate(
            _token(request),
            totp=request.headers.get("x-ramparts-totp"),
            source_ip=request.client.host if request.client else None,
            request_id=request.headers.get("x-request-id", ""),
        )

    return create_app(plane.registry, authenticate, on_close=plane.close)


def run_serve(state: AppState, args: argparse.Namespace) -> int:
    """Run the control plane under uvicorn until interrupted."""
    import uvicorn  # noqa: PLC0415

    if (args.tls_cert is None) != (args.tls_key is None):
        raise InputError("--tls-cert and --tls-key go together")
    try:
        loopback = ipaddress.ip_address(args.host).is_loopback
    except ValueError:
        loopback = args.host == "localhost"
    if not loopback and args.tls_cert is None:
        sys.stderr.write(
            f"ramparts: warning: serving plain HTTP on {args.host}; tokens cross the network "
            "in clear (give --tls-cert/--tls-key or put TLS in front)\n"
        )
    app = build_app(state, args.policy)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        ssl_certfile=str(args.tls_cert) if args.tls_cert else None,
        ssl_keyfile=str(args.tls_key) if args.tls_key else None,
        log_level="warning",
        server_header=False,
    )
    return 0
