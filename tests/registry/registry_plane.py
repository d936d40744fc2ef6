"""The control plane under test and the people who use it (see conftest.py).

A control plane over a fresh state folder, reached through its HTTP API.

``plane`` builds the same application ``ramparts serve`` runs (on SQLite and on
PostgreSQL through ``db_url``), with identities of every duty in team ``fraud`` and an
approver of team ``vision``. Models are generated here: clean weights, a pickle that
calls ``os.system`` (never loaded, only scanned), signatures and provenance made with
the CLI's own ``sign`` and ``attest``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ramparts.registry.client import RemoteRegistry

BUILDER = "https://ci.example/runner"
REPOSITORY = "https://git.example/acme/fraud"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
# GLOBAL os.system, a string argument, REDUCE: what a hostile pickle does (never loaded).
HOSTILE_PICKLE = b"cos\nsystem\n(S'echo owned'\ntR."

CliRun = Callable[[list[str]], tuple[int, str, str]]


@dataclass
class Plane:
    """The running application and the people who use it."""

    http: httpx.Client
    db_url: str
    root: Path
    private_key: Path
    cli: CliRun
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    factors: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str, **extra: str) -> dict[str, str]:
        """Authorization for ``who``."""
        return {"Authorization": f"Bearer {self.tokens[who]}", **extra}

    def call(self, who: str, method: str, path: str, **kwargs: Any) -> Any:
        """One request as ``who``."""
        headers = self.headers(who, **kwargs.pop("headers", {}))
        return self.http.request(method, path, headers=headers, **kwargs)

    def client(self, who: str, totp: str | None = None) -> RemoteRegistry:
        """The CLI's HTTP client, acting as ``who``."""
        return RemoteRegistry(str(self.http.base_url), self.tokens[who], totp=totp, http=self.http)

    def model(self, name: str, *, weights: bytes = b"\x00" * 4096, hostile: bool = False) -> Path:
        """A model folder with fresh weights (and a hostile pickle when asked)."""
        folder = self.root / "models" / name
        folder.mkdir(parents=True)
        (folder / "weights.bin").write_bytes(weights)
        (folder / "config.json").write_text('{"layers": 2}', encoding="utf-8")
        if hostile:
            (folder / "extra.pkl").write_bytes(HOSTILE_PICKLE)
        return folder

    def sign(self, folder: Path, *, provenance: bool = True) -> None:
        """Sign ``folder`` (model.sig inside) and attest its provenance beside it."""
        code, out, err = self.cli(["sign", str(folder), "--key", str(self.private_key)])
        assert code == 0, out + err
        if provenance:
            code, out, err = self.cli(["attest", str(folder), "--key", str(self.private_key),
                                       "--builder-id", BUILDER, "--repository", REPOSITORY,
                                       "--commit", COMMIT])  # fmt: skip
            assert code == 0, out + err

    def push(self, who: str, folder: Path, name: str, **fields: Any) -> dict[str, Any]:
        """Push ``folder`` over HTTP the way ``ramparts registry push`` does."""
        signature = folder / "model.sig"
        provenance = folder.with_name(folder.name + ".intoto.jsonl")
        body: dict[str, Any] = {"name": name, **fields}
        if signature.is_file():
            body["signature_path"] = "model.sig"
        result: dict[str, Any] = self.client(who).push(
            folder,
            body,
            signature=signature.read_bytes() if signature.is_file() else None,
            provenance=provenance.read_bytes() if provenance.is_file() else None,
        )
        return result


PEOPLE = {
    "alice": (["model-author"], ["fraud"]),
    "bob": (["model-approver"], ["fraud"]),
    "carol": (["model-publisher"], ["fraud"]),
    "dave": (["data-scientist", "model-approver"], ["fraud"]),
    "root": (["admin"], []),
    "eve": (["model-approver", "model-publisher", "model-author"], ["vision"]),
    "auditor": (["model-auditor"], []),
}
