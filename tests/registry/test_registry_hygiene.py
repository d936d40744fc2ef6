"""Hygiene: orphaned deployments, unowned assets, idle versions, and clean-up of
unapproved intermediate versions (library level, with a clock the test moves)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ramparts.core.clock import FrozenClock
from ramparts.core.events import MemorySink
from ramparts.core.types import Principal
from ramparts.policy.engine import PolicyEngine
from ramparts.policy.roles import BUILTIN_ROLES
from ramparts.privacy.keystore import LocalKeyStore
from ramparts.registry.artifacts import LocalArtifactStore
from ramparts.registry.gates import GatePolicy
from ramparts.registry.interface import Caller, ConflictError, RefusedError
from ramparts.registry.service import PushRequest, Registry
from ramparts.store import create_engine, upgrade

ADMIN = Caller(Principal("root", "root", roles=("admin",)), mfa=True)
ADMIN_TOTP = Caller(ADMIN.principal, mfa=True, fresh_totp=True)
AUTHOR = Caller(Principal("a", "alice", roles=("model-author",), teams=("ml",)))
APPROVER = Caller(Principal("b", "bob", roles=("model-approver",), teams=("ml",)), mfa=True)
PUBLISHER = Caller(Principal("c", "carol", roles=("model-publisher",), teams=("ml",)), mfa=True)


@pytest.fixture
def world(sqlite_url: str, tmp_path: Path) -> Iterator[tuple[Registry, FrozenClock, Path]]:
    engine = create_engine(sqlite_url)
    upgrade(engine)
    clock = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
    artifacts = tmp_path / "artifacts"
    registry = Registry(
        engine,
        LocalArtifactStore(artifacts, LocalKeyStore(tmp_path / "keys"), "registry"),
        PolicyEngine(BUILTIN_ROLES),
        clock=clock,
        sink=MemorySink(),
        stage_gates=lambda stage: ("approval",) if stage == "prod" else (),
        gate_policy=GatePolicy(),
        idle_days=30,
    )
    yield registry, clock, artifacts
    engine.dispose()


def _push(
    registry: Registry, tmp_path: Path, byte: int, who: Caller = AUTHOR, name: str = "clf"
) -> str:
    path = tmp_path / f"w{byte}.bin"
    path.write_bytes(bytes([byte]) * 64)
    return registry.push(who, path, PushRequest(name=name)).ref


def test_orphans_and_cleanup(world: tuple[Registry, FrozenClock, Path], tmp_path: Path) -> None:
    registry, clock, artifacts = world
    refs = [_push(registry, tmp_path, b) for b in range(1, 6)]  # clf@1 .. clf@5
    for ref in ("clf@1", "clf@2"):
        registry.approve(APPROVER, ref)
        registry.promote(PUBLISHER, ref, "prod")
    registry.deploy(PUBLISHER, "scoring", "clf@2")
    with pytest.raises(ConflictError, match="not in prod"):
        registry.deploy(PUBLISHER, "other", "clf@1")
    assert registry.orphans(ADMIN)["endpoints"] == []
    # After a rollback the endpoint serves a version that is no longer in prod.
    registry.rollback(PUBLISHER, "clf", "prod")
    assert registry.orphans(ADMIN)["endpoints"] == [
        {"endpoint": "scoring", "serves": "clf@2", "problems": ["not in prod"]}]  # fmt: skip
    registry.quarantine(ADMIN, "clf@2", "bad")
    problems = registry.orphans(ADMIN)["endpoints"][0]["problems"]
    assert problems == ["not in prod", "quarantined"]
    # An asset pushed by someone without a team has no owner.
    _push(registry, tmp_path, 9, ADMIN, name="stray")
    assert registry.orphans(ADMIN)["unowned"] == [{"kind": "model", "name": "stray"}]

    clock.advance(timedelta(days=31))
    idle = {v["version"] for v in registry.orphans(ADMIN)["idle"]}
    assert idle == {"clf@3", "clf@4", "clf@5", "stray@1"}  # clf@1 is in prod, clf@2 is deployed

    # Clean-up: unapproved, held by no stage or endpoint, not the newest.
    assert [v.ref for v in registry.cleanup(ADMIN, dry_run=True)] == ["clf@3", "clf@4"]
    with pytest.raises(RefusedError, match="TOTP"):
        registry.cleanup(ADMIN, dry_run=False)
    with pytest.raises(RefusedError):
        registry.cleanup(Caller(PUBLISHER.principal, mfa=True, fresh_totp=True), dry_run=False)
    assert len(list(artifacts.glob("*.rmpa"))) == 6
    deleted = registry.cleanup(ADMIN_TOTP, dry_run=False)
    assert [(v.ref, v.state) for v in deleted] == [("clf@3", "deleted"), ("clf@4", "deleted")]
    assert len(list(artifacts.glob("*.rmpa"))) == 4
    assert registry.cleanup(ADMIN, dry_run=True) == []
    assert refs == ["clf@1", "clf@2", "clf@3", "clf@4", "clf@5"]


def test_delete_and_fetch(world: tuple[Registry, FrozenClock, Path], tmp_path: Path) -> None:
    registry, _, artifacts = world
    _push(registry, tmp_path, 1)
    out = tmp_path / "out"
    registry.fetch(AUTHOR, "clf@1", out)
    assert (out / "w1.bin").read_bytes() == b"\x01" * 64
    registry.delete(ADMIN_TOTP, "clf@1")
    assert not list(artifacts.glob("*.rmpa"))
    with pytest.raises(ConflictError, match="files are gone"):
        registry.fetch(AUTHOR, "clf@1", tmp_path / "again")
    assert registry.show(AUTHOR, "clf@1").state == "deleted"
    with pytest.raises(ConflictError, match="deleted already"):
        registry.delete(ADMIN_TOTP, "clf@1")


def test_a_change_that_cannot_be_audited_is_undone(
    world: tuple[Registry, FrozenClock, Path], tmp_path: Path
) -> None:
    from ramparts.errors import AuditError  # noqa: PLC0415

    registry, _, artifacts = world
    _push(registry, tmp_path, 1)
    registry.approve(APPROVER, "clf@1")

    class Broken(MemorySink):
        def emit(self, event: object) -> None:
            raise AuditError("the audit log is down")

    registry._sink = Broken()  # type: ignore[assignment]
    with pytest.raises(AuditError):
        registry.promote(PUBLISHER, "clf@1", "prod")
    with pytest.raises(AuditError):
        _push(registry, tmp_path, 2)
    registry._sink = MemorySink()
    assert registry.show(AUTHOR, "clf@1").stages == ()
    assert [v.ref for v in registry.versions(AUTHOR, "clf")] == ["clf@1"]
    assert len(list(artifacts.glob("*.rmpa"))) == 1
    assert registry.stage_history(AUTHOR, "clf") == []


def test_stored_artifacts_are_ciphertext_tamper_evident_and_rewrapped(
    world: tuple[Registry, FrozenClock, Path], tmp_path: Path
) -> None:
    from ramparts.registry.interface import RegistryError  # noqa: PLC0415

    registry, _, artifacts = world
    path = tmp_path / "weights.bin"
    path.write_bytes(b"SECRET-WEIGHTS" * 1000)
    registry.push(AUTHOR, path, PushRequest(name="clf"))
    (blob,) = artifacts.glob("*.rmpa")
    assert b"SECRET-WEIGHTS" not in blob.read_bytes()
    before = blob.read_bytes()
    # Key rotation: only the wrapped data key changes, never the data.
    with pytest.raises(RefusedError):
        registry.rewrap(AUTHOR, "registry-2027")
    assert registry.rewrap(ADMIN, "registry-2027") == 1
    after = blob.read_bytes()
    assert after[4096:] == before[4096:]
    assert after != before
    registry.fetch(AUTHOR, "clf@1", tmp_path / "ok")
    # A flipped byte of the stored file: nothing is unpacked.
    tampered = bytearray(after)
    tampered[-100] ^= 1
    blob.write_bytes(bytes(tampered))
    with pytest.raises(RegistryError, match="failed decryption"):
        registry.fetch(AUTHOR, "clf@1", tmp_path / "bad")
    assert not (tmp_path / "bad").exists()
