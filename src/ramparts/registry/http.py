"""The control plane's HTTP API (FastAPI) over :class:`~ramparts.registry.service.Registry`.

Every route authenticates first (``Authorization: Bearer`` with an API key or a token
of ``ramparts identity``; ``X-Ramparts-TOTP`` adds a checked second factor), then calls
the same service method the CLI calls in local mode. Errors are JSON
``{"error": {"type", "message", "gates"?}}`` with the status of the error class:
400 bad input, 401 not authenticated, 403 refused, 404 not found (also for what the
caller may not see), 409 conflict or failed gate, 503 when the database or the audit
log cannot record (the request is refused, never half done).

The OpenAPI document is served at ``/openapi.json``.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from ramparts._version import __version__
from ramparts.core.records import record
from ramparts.errors import AuditError, RampartsError
from ramparts.registry.interface import (
    KINDS,
    STAGES,
    AuthError,
    Caller,
    GateError,
    NotFoundError,
    RegistryError,
    Version,
)
from ramparts.registry.service import Registry
from ramparts.registry.upload import read_upload
from ramparts.store.interface import StoreError

__all__ = ["Authenticator", "create_app"]

DEFAULT_MAX_UPLOAD = 16 << 30
_CHUNK = 1 << 20


Authenticator = Callable[[Request], Caller]
"""Turns a request's credentials into a caller, or raises :class:`AuthError`."""


def _status(exc: RampartsError) -> int:
    if isinstance(exc, RegistryError):
        return exc.status
    if isinstance(exc, StoreError | AuditError):
        return 503
    return 400  # InputError and every other refusal of what was sent


def _error(exc: RampartsError) -> JSONResponse:
    body: dict[str, Any] = {"type": type(exc).__name__, "message": str(exc)}
    if isinstance(exc, GateError):
        body["gates"] = [g.to_json() for g in exc.gates]
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, AuthError) else None
    return JSONResponse({"error": body}, status_code=_status(exc), headers=headers)


@record
class _State:
    registry: Registry
    authenticate: Authenticator
    max_upload_bytes: int
    scratch: Path | None
    jwks: Callable[[], Mapping[str, Any]] | None = None


def _state(request: Request) -> _State:
    state: _State = request.app.state.ramparts
    return state


def _caller(request: Request) -> _Who:
    state = _state(request)
    return _Who(state.authenticate(request), state)


@record
class _Who:
    caller: Caller
    state: _State


def _registry(who: _Who) -> Registry:
    return who.state.registry


router = APIRouter()
Who = Annotated["_Who", Depends(_caller)]
Kind = Annotated[str, Query(pattern="^(" + "|".join(KINDS) + ")$")]
Stage = Annotated[str, Body(embed=True, pattern="^(" + "|".join(STAGES) + ")$")]


@router.get("/healthz", tags=["service"])
def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok", "version": __version__}


@router.get("/.well-known/jwks.json", tags=["service"])
def jwks(request: Request) -> JSONResponse:
    """The public keys that verify ramparts access tokens (RFC 7517 JWK Set).

    Public by design, like every issuer's JWKS: relying services (the gateway, a
    partner's API) fetch it to verify tokens without a shared secret. Retired keys stay
    listed while tokens they signed can still be valid.
    """
    source = _state(request).jwks
    if source is None:
        raise NotFoundError("this control plane publishes no token keys")
    return JSONResponse(
        dict(source()),
        headers={"Cache-Control": "public, max-age=300"},
        media_type="application/jwk-set+json",
    )


@router.get("/v1/assets", tags=["registry"])
def list_assets(who: Who, kind: Kind | None = None) -> list[dict[str, Any]]:
    """The assets the caller may see."""
    return [a.to_json() for a in _registry(who).assets(who.caller, kind)]


@router.get("/v1/assets/{kind}/{name}/versions", tags=["registry"])
def list_versions(who: Who, kind: str, name: str) -> list[dict[str, Any]]:
    """The versions of one asset, newest first."""
    return [v.to_json() for v in _registry(who).versions(who.caller, name, kind)]


@router.get("/v1/models/{name}/history", tags=["registry"])
def history(who: Who, name: str) -> list[dict[str, Any]]:
    """Every move of the model's stages."""
    return _registry(who).stage_history(who.caller, name)


@router.get("/v1/versions/{ref}", tags=["registry"])
def show(who: Who, ref: str, kind: Kind = "model") -> dict[str, Any]:
    """One version by id or ``NAME@VERSION``."""
    return _registry(who).show(who.caller, ref, kind).to_json()


@router.post("/v1/versions", status_code=201, tags=["registry"])
async def push(who: Who, request: Request) -> dict[str, Any]:
    """Push a version: the body is the upload archive ``ramparts registry push`` writes."""
    with tempfile.TemporaryDirectory(dir=who.state.scratch, prefix="ramparts-push-") as tmp:
        upload = Path(tmp) / "upload.tar"
        size = 0
        with upload.open("wb") as fh:
            async for chunk in request.stream():
                size += len(chunk)
                if size > who.state.max_upload_bytes:
                    raise RegistryError(
                        f"the upload is larger than {who.state.max_upload_bytes} bytes"
                    )
                fh.write(chunk)
        source, push_request = await run_in_threadpool(read_upload, upload, Path(tmp) / "unpacked")
        version: Version = await run_in_threadpool(
            _registry(who).push, who.caller, source, push_request
        )
    return version.to_json()


@router.post("/v1/versions/{ref}/approve", tags=["lifecycle"])
def approve(who: Who, ref: str, comment: Annotated[str, Body(embed=True)] = "") -> Any:
    """Approve a version (not its author; the approver role asks for MFA)."""
    return _registry(who).approve(who.caller, ref, comment).to_json()


@router.post("/v1/versions/{ref}/reject", tags=["lifecycle"])
def reject(who: Who, ref: str, comment: Annotated[str, Body(embed=True)] = "") -> Any:
    """Reject a version."""
    return _registry(who).reject(who.caller, ref, comment).to_json()


@router.get("/v1/versions/{ref}/gates", tags=["lifecycle"])
def gates(who: Who, ref: str, stage: Annotated[str, Query()] = "prod") -> Any:
    """What each gate of ``stage`` says about the version now."""
    return [g.to_json() for g in _registry(who).gates(who.caller, ref, stage)]


@router.post("/v1/versions/{ref}/promote", tags=["lifecycle"])
def promote(
    who: Who,
    ref: str,
    stage: Stage,
    break_glass: Annotated[str | None, Body(embed=True)] = None,
) -> dict[str, Any]:
    """Move a stage to this version if its gates pass (or break glass, audited)."""
    return _registry(who).promote(who.caller, ref, stage, break_glass=break_glass)


@router.post("/v1/models/{name}/rollback", tags=["lifecycle"])
def rollback(who: Who, name: str, stage: Stage) -> dict[str, Any]:
    """Move a stage back to its previous good version."""
    return _registry(who).rollback(who.caller, name, stage)


@router.post("/v1/versions/{ref}/quarantine", tags=["lifecycle"])
def quarantine(who: Who, ref: str, reason: Annotated[str, Body(embed=True)] = "") -> Any:
    """Block a version from every stage."""
    return _registry(who).quarantine(who.caller, ref, reason).to_json()


@router.delete("/v1/versions/{ref}", tags=["lifecycle"])
def delete(who: Who, ref: str) -> dict[str, Any]:
    """Delete a version's files; needs ``X-Ramparts-TOTP``; never a version in prod."""
    return _registry(who).delete(who.caller, ref).to_json()


@router.post("/v1/endpoints/{name}/deploy", tags=["lifecycle"])
def deploy(
    who: Who,
    name: str,
    model: Annotated[str, Body(embed=True)],
    team: Annotated[str | None, Body(embed=True)] = None,
) -> dict[str, Any]:
    """Point an endpoint at the prod version of a model."""
    return _registry(who).deploy(who.caller, name, model, team=team)


@router.get("/v1/exceptions", tags=["hygiene"])
def exceptions(who: Who) -> list[dict[str, Any]]:
    """Break-glass promotions."""
    return _registry(who).exceptions(who.caller)


@router.post("/v1/keys/rewrap", tags=["keys"])
def rewrap(who: Who, kek: Annotated[str, Body(embed=True)]) -> dict[str, Any]:
    """Wrap every artifact's data key under another key-encryption key (no re-encryption)."""
    return {"kek": kek, "artifacts": _registry(who).rewrap(who.caller, kek)}


@router.get("/v1/orphans", tags=["hygiene"])
def orphans(who: Who) -> dict[str, Any]:
    """Orphaned deployments, unowned assets and idle versions."""
    return _registry(who).orphans(who.caller)


@router.post("/v1/cleanup", tags=["hygiene"])
def cleanup(who: Who, dry_run: Annotated[bool, Body(embed=True)] = True) -> Any:
    """Delete (or, with dry_run, list) unapproved intermediate versions."""
    return [v.to_json() for v in _registry(who).cleanup(who.caller, dry_run=dry_run)]


@router.get("/v1/lineage/affected", tags=["lineage"])
def affected(who: Who, dataset: str | None = None, environment: str | None = None) -> Any:
    """Everything downstream of a dataset or an environment."""
    return _registry(who).affected(who.caller, dataset=dataset, environment=environment)


@router.get("/v1/lineage/upstream", tags=["lineage"])
def upstream(who: Who, ref: str) -> Any:
    """Everything a version was built from."""
    return _registry(who).upstream(who.caller, ref)


@router.get("/v1/lineage/export", tags=["lineage"], response_model=None)
def export(
    who: Who,
    fmt: Annotated[str, Query(alias="format", pattern="^(openlineage|dot)$")] = "openlineage",
) -> Any:
    """The lineage graph as OpenLineage-style run events or GraphViz DOT."""
    graph = _registry(who).lineage_graph(who.caller)
    if fmt == "dot":
        return PlainTextResponse(graph.to_dot(), media_type="text/vnd.graphviz")
    return graph.to_openlineage()


def create_app(
    registry: Registry,
    authenticate: Authenticator,
    *,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD,
    scratch: Path | None = None,
    on_close: Callable[[], None] | None = None,
    jwks: Callable[[], Mapping[str, Any]] | None = None,
) -> FastAPI:
    """The control plane application; ``on_close`` runs when the server shuts down;
    ``jwks`` gives the JWK Set served at ``/.well-known/jwks.json``."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if on_close is not None:
                on_close()

    app = FastAPI(
        lifespan=lifespan,
        title="ramparts control plane",
        version=__version__,
        description="Model and dataset registry with enforced governance: versions, "
        "approvals, gated promotion, rollback, lineage.",
    )
    app.state.ramparts = _State(registry, authenticate, max_upload_bytes, scratch, jwks)

    @app.exception_handler(RampartsError)
    async def _ramparts_error(_: Request, exc: RampartsError) -> JSONResponse:
        return _error(exc)

    app.include_router(router)
    return app
