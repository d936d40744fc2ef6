"""Two clients with one interface: the control plane over HTTP, and the registry in process.

The CLI uses :class:`RemoteRegistry` when ``RAMPARTS_API_URL`` and ``RAMPARTS_TOKEN``
are set and :class:`LocalRegistry` otherwise; both return the same JSON-ready data and
raise the same errors (the remote one rebuilds them from the service's error body), so
a command behaves alike in both modes.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ramparts.registry.interface import (
    AuthError,
    Caller,
    ConflictError,
    GateError,
    GateResult,
    NotFoundError,
    RefusedError,
    RegistryError,
)
from ramparts.registry.service import PushRequest, Registry
from ramparts.registry.upload import write_upload

if TYPE_CHECKING:
    import httpx

__all__ = ["LocalRegistry", "RegistryClient", "RemoteRegistry"]

_ERRORS: dict[str, type[RegistryError]] = {
    "NotFoundError": NotFoundError,
    "ConflictError": ConflictError,
    "RefusedError": RefusedError,
}


class RegistryClient(Protocol):
    """What the CLI asks of the registry, local or remote."""

    def call(self, operation: str, **params: Any) -> Any:
        """Run ``operation`` (a :class:`LocalRegistry` method name) and return JSON data."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


class LocalRegistry:
    """The registry in this process, acting as ``caller``."""

    def __init__(
        self, registry: Registry, caller: Caller, *, on_close: Callable[[], None] | None = None
    ) -> None:
        self._registry = registry
        self._caller = caller
        self._on_close = on_close

    def close(self) -> None:
        """Release what the registry holds (database connections), if told how."""
        if self._on_close is not None:
            self._on_close()

    def call(self, operation: str, **params: Any) -> Any:
        """Dispatch to the method of the same name."""
        method = getattr(self, operation, None)
        if method is None or operation.startswith("_") or operation in ("call", "close"):
            raise RegistryError(f"unknown registry operation {operation!r}")
        return method(**params)

    def assets(self, kind: str | None = None) -> Any:
        """The assets the caller may see."""
        return [a.to_json() for a in self._registry.assets(self._caller, kind)]

    def versions(self, name: str, kind: str = "model") -> Any:
        """The versions of ``name``, newest first."""
        return [v.to_json() for v in self._registry.versions(self._caller, name, kind)]

    def show(self, ref: str, kind: str = "model") -> Any:
        """One version."""
        return self._registry.show(self._caller, ref, kind).to_json()

    def history(self, name: str) -> Any:
        """Every move of a model's stages."""
        return self._registry.stage_history(self._caller, name)

    def push(
        self,
        source: Path,
        fields: dict[str, Any],
        signature: bytes | None = None,
        provenance: bytes | None = None,
        bom: bytes | None = None,
        signature_file: Path | None = None,
    ) -> Any:
        """Push ``source`` as a new version."""
        fields = {k: v for k, v in fields.items() if k != "signature_path"}
        request = PushRequest(
            **fields,
            signature=signature,
            signature_file=signature_file,
            provenance=provenance,
            bom=bom,
        )
        return self._registry.push(self._caller, source, request).to_json()

    def pull(self, ref: str, target: Path, kind: str = "model") -> Any:
        """Decrypt a version's files into the new folder ``target``."""
        return self._registry.fetch(self._caller, ref, target, kind).to_json()

    def approve(self, ref: str, comment: str = "") -> Any:
        """Approve a version."""
        return self._registry.approve(self._caller, ref, comment).to_json()

    def reject(self, ref: str, comment: str = "") -> Any:
        """Reject a version."""
        return self._registry.reject(self._caller, ref, comment).to_json()

    def gates(self, ref: str, stage: str) -> Any:
        """What the gates of ``stage`` say now."""
        return [g.to_json() for g in self._registry.gates(self._caller, ref, stage)]

    def promote(self, ref: str, stage: str, break_glass: str | None = None) -> Any:
        """Promote a version."""
        return self._registry.promote(self._caller, ref, stage, break_glass=break_glass)

    def rollback(self, name: str, stage: str) -> Any:
        """Roll a stage back."""
        return self._registry.rollback(self._caller, name, stage)

    def quarantine(self, ref: str, reason: str = "") -> Any:
        """Quarantine a version."""
        return self._registry.quarantine(self._caller, ref, reason).to_json()

    def delete(self, ref: str) -> Any:
        """Delete a version's files."""
        return self._registry.delete(self._caller, ref).to_json()

    def deploy(self, endpoint: str, model: str, team: str | None = None) -> Any:
        """Point an endpoint at a prod version."""
        return self._registry.deploy(self._caller, endpoint, model, team=team)

    def exceptions(self) -> Any:
        """Break-glass promotions."""
        return self._registry.exceptions(self._caller)

    def rewrap(self, kek: str) -> Any:
        """Wrap every artifact's data key under ``kek``."""
        return {"kek": kek, "artifacts": self._registry.rewrap(self._caller, kek)}

    def orphans(self) -> Any:
        """Orphaned deployments, unowned assets, idle versions."""
        return self._registry.orphans(self._caller)

    def cleanup(self, dry_run: bool = True) -> Any:
        """Unapproved intermediate versions, deleted unless ``dry_run``."""
        return [v.to_json() for v in self._registry.cleanup(self._caller, dry_run=dry_run)]

    def affected(self, dataset: str | None = None, environment: str | None = None) -> Any:
        """Everything downstream of a dataset or an environment."""
        return self._registry.affected(self._caller, dataset=dataset, environment=environment)

    def upstream(self, ref: str) -> Any:
        """Everything a version was built from."""
        return self._registry.upstream(self._caller, ref)

    def export(self, fmt: str = "openlineage") -> Any:
        """The lineage graph as OpenLineage-style events or DOT text."""
        graph = self._registry.lineage_graph(self._caller)
        return graph.to_dot() if fmt == "dot" else graph.to_openlineage()


class RemoteRegistry:
    """The control plane at ``base_url``, authenticated with ``token``."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        totp: str | None = None,
        timeout: float = 300.0,
        http: httpx.Client | None = None,
    ) -> None:
        import httpx  # noqa: PLC0415 - local commands never need an HTTP client

        self._headers = {"Authorization": f"Bearer {token}"}
        if totp:
            self._headers["X-Ramparts-TOTP"] = totp
        self._http = http or httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        import httpx  # noqa: PLC0415

        try:
            headers = {**self._headers, **kwargs.pop("headers", {})}
            response = self._http.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise RegistryError(
                f"cannot reach the control plane at {self._http.base_url}: {exc}"
            ) from exc
        if response.status_code >= 400:
            raise _rebuild(response)
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._send(method, path, **kwargs).json()

    def push(
        self,
        source: Path,
        fields: dict[str, Any],
        signature: bytes | None = None,
        provenance: bytes | None = None,
        bom: bytes | None = None,
        signature_file: Path | None = None,
    ) -> Any:
        """Upload ``source`` and what comes with it as one archive."""
        del signature_file  # carried as fields["signature_path"]
        with tempfile.TemporaryDirectory(prefix="ramparts-upload-") as tmp:
            upload = Path(tmp) / "upload.tar"
            with upload.open("wb") as out:
                write_upload(out, source, fields, signature=signature, provenance=provenance,
                             bom=bom, scratch=Path(tmp))  # fmt: skip
            with upload.open("rb") as body:
                return self._json(
                    "POST",
                    "/v1/versions",
                    content=body,
                    headers={"Content-Type": "application/x-tar"},
                )

    def call(self, operation: str, **params: Any) -> Any:
        """Run ``operation`` against the HTTP API."""
        method = getattr(self, operation, None)
        if method is None or operation.startswith("_") or operation in ("call", "close"):
            raise RegistryError(f"unknown registry operation {operation!r}")
        return method(**params)

    def assets(self, kind: str | None = None) -> Any:
        """The assets the caller may see."""
        return self._json("GET", "/v1/assets", params={"kind": kind} if kind else {})

    def versions(self, name: str, kind: str = "model") -> Any:
        """The versions of ``name``, newest first."""
        return self._json("GET", f"/v1/assets/{kind}/{name}/versions")

    def show(self, ref: str, kind: str = "model") -> Any:
        """One version."""
        return self._json("GET", f"/v1/versions/{ref}", params={"kind": kind})

    def history(self, name: str) -> Any:
        """Every move of a model's stages."""
        return self._json("GET", f"/v1/models/{name}/history")

    def approve(self, ref: str, comment: str = "") -> Any:
        """Approve a version."""
        return self._json("POST", f"/v1/versions/{ref}/approve", json={"comment": comment})

    def reject(self, ref: str, comment: str = "") -> Any:
        """Reject a version."""
        return self._json("POST", f"/v1/versions/{ref}/reject", json={"comment": comment})

    def gates(self, ref: str, stage: str) -> Any:
        """What the gates of ``stage`` say now."""
        return self._json("GET", f"/v1/versions/{ref}/gates", params={"stage": stage})

    def promote(self, ref: str, stage: str, break_glass: str | None = None) -> Any:
        """Promote a version."""
        body = {"stage": stage, "break_glass": break_glass}
        return self._json("POST", f"/v1/versions/{ref}/promote", json=body)

    def rollback(self, name: str, stage: str) -> Any:
        """Roll a stage back."""
        return self._json("POST", f"/v1/models/{name}/rollback", json={"stage": stage})

    def quarantine(self, ref: str, reason: str = "") -> Any:
        """Quarantine a version."""
        return self._json("POST", f"/v1/versions/{ref}/quarantine", json={"reason": reason})

    def delete(self, ref: str) -> Any:
        """Delete a version's files (the client must carry a TOTP code)."""
        return self._json("DELETE", f"/v1/versions/{ref}")

    def deploy(self, endpoint: str, model: str, team: str | None = None) -> Any:
        """Point an endpoint at a prod version."""
        body = {"model": model, "team": team}
        return self._json("POST", f"/v1/endpoints/{endpoint}/deploy", json=body)

    def exceptions(self) -> Any:
        """Break-glass promotions."""
        return self._json("GET", "/v1/exceptions")

    def rewrap(self, kek: str) -> Any:
        """Wrap every artifact's data key under ``kek``."""
        return self._json("POST", "/v1/keys/rewrap", json={"kek": kek})

    def orphans(self) -> Any:
        """Orphaned deployments, unowned assets, idle versions."""
        return self._json("GET", "/v1/orphans")

    def cleanup(self, dry_run: bool = True) -> Any:
        """Unapproved intermediate versions, deleted unless ``dry_run``."""
        return self._json("POST", "/v1/cleanup", json={"dry_run": dry_run})

    def affected(self, dataset: str | None = None, environment: str | None = None) -> Any:
        """Everything downstream of a dataset or an environment."""
        params = {"dataset": dataset, "environment": environment}
        return self._json(
            "GET", "/v1/lineage/affected", params={k: v for k, v in params.items() if v}
        )

    def upstream(self, ref: str) -> Any:
        """Everything a version was built from."""
        return self._json("GET", "/v1/lineage/upstream", params={"ref": ref})

    def export(self, fmt: str = "openlineage") -> Any:
        """The lineage graph as OpenLineage-style events or DOT text."""
        response = self._send("GET", "/v1/lineage/export", params={"format": fmt})
        return response.text if fmt == "dot" else response.json()


def _rebuild(response: httpx.Response) -> Exception:
    """The error the service raised, from its JSON body."""
    try:
        body = response.json()["error"]
        kind, message = str(body["type"]), str(body["message"])
    except (ValueError, KeyError, TypeError):
        return RegistryError(f"the control plane answered HTTP {response.status_code}")
    if response.status_code == 401:
        return AuthError(message)
    if kind == "GateError":
        gates = tuple(
            GateResult(g["gate"], g["passed"], g["detail"]) for g in body.get("gates", [])
        )
        return GateError(message, gates)
    if response.status_code >= 500:
        return RegistryError(f"the control plane could not do it: {message}")
    return _ERRORS.get(kind, RegistryError)(message)
