"""``ramparts serve``: the control plane (registry, approvals, lineage) over HTTP."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ramparts.cli.parsing import Parser
from ramparts.cli.policy_cmd import add_policy_option
from ramparts.cli.state import AppState

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

    def jwks() -> dict[str, Any]:
        keys = plane.identity.token_keys
        keys.current()  # the first use makes the first key
        published: dict[str, Any] = keys.jwks()
        return published

    return create_app(plane.registry, authenticate, on_close=plane.close, jwks=jwks)


def run_serve(state: AppState, args: argparse.Namespace) -> int:
    """Run the control plane under uvicorn until interrupted."""
    from ramparts.cli.serving import check_tls, run_asgi  # noqa: PLC0415

    check_tls(args.tls_cert, args.tls_key)
    app = build_app(state, args.policy)
    run_asgi(app, host=args.host, port=args.port, cert=args.tls_cert, key=args.tls_key,
             clear="tokens")  # fmt: skip
    return 0
