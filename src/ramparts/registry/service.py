"""The registry's service layer: every read and change, asked of policy and audited.

The CLI (local mode), the HTTP API and library users all call :class:`Registry`. Each
method takes the :class:`~ramparts.registry.interface.Caller` and:

1. finds the asset or version; one the caller's teams or roles do not cover is
   reported as not found (:class:`NotFoundError`), exactly like one that does not
   exist, so ids cannot be probed (broken object level authorisation);
2. asks the policy engine for the action (deny by default); a refusal is audited and
   raised as :class:`RefusedError` naming the rule;
3. checks what the action itself demands (separation of duties, gates, a second
   factor, the state of the version);
4. commits the change, then records the audit event. If the event cannot be made
   durable the change is undone and the error raised: nothing happens unrecorded.

Reads that are allowed are not audited (they would double the cost of every list);
reads that are refused are.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

import sqlalchemy as sa

from ramparts.core.ids import new_id
from ramparts.core.interface import Clock, Event, EventSink, Outcome
from ramparts.core.records import record
from ramparts.core.settings import ScanSettings
from ramparts.errors import InputError
from ramparts.policy.engine import PolicyEngine
from ramparts.policy.interface import CLASSIFICATIONS, Context, Request, Resource
from ramparts.registry import lineage
from ramparts.registry.artifacts import ArtifactStore
from ramparts.registry.evidence import bom_for, check_signature, scan_summary
from ramparts.registry.gates import GateInput, GatePolicy, evaluate
from ramparts.registry.interface import (
    KINDS,
    STAGES,
    Asset,
    Caller,
    ConflictError,
    GateError,
    GateResult,
    NotFoundError,
    RefusedError,
    RegistryError,
    Version,
    check_name,
    parse_ref,
)
from ramparts.sign.manifest import artifact_digest
from ramparts.store.engine import begin_write, recorded_or_undone
from ramparts.store.interface import StoreError
from ramparts.store.schema import (
    identities,
    registry_approvals,
    registry_assets,
    registry_deployments,
    registry_exceptions,
    registry_stage_history,
    registry_stages,
    registry_versions,
)

__all__ = ["PushRequest", "Registry"]

_MIN_JUSTIFICATION = 20
_A = registry_assets.c
_V = registry_versions.c
_S = registry_stages.c
_H = registry_stage_history.c


def _aware(value: datetime) -> datetime:
    # SQLite gives back naive datetimes; everything stored is UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _version_row(
    row: Any,
    asset: Asset,
    stages: tuple[str, ...] = (),
    names: Mapping[str, str] | None = None,
) -> Version:
    return Version(
        id=row.id, asset=asset, version=row.version, digest=row.digest, size=row.size,
        author=row.author, created_at=_aware(row.created_at), state=row.state, stages=stages,
        signed=row.has_signature, provenance=row.has_provenance, bom=row.has_bom,
        scan=json.loads(row.scan) if row.scan else None, metrics=json.loads(row.metrics),
        approved_by=row.approved_by,
        approved_at=_aware(row.approved_at) if row.approved_at else None,
        names=names or {},
    )  # fmt: skip


_FLAGS = (
    _V.signature.is_not(None).label("has_signature"),
    _V.provenance.is_not(None).label("has_provenance"),
    _V.bom.is_not(None).label("has_bom"),
)
_FULL = sa.select(registry_versions, *_FLAGS)
"""A version with its bundles (the gates read them)."""
_LIGHT = sa.select(
    *(c for c in registry_versions.c if c.name not in ("signature", "provenance", "bom")), *_FLAGS
)
"""A version without its bundles, for listings."""


def _asset(row: Any) -> Asset:
    return Asset(
        id=row.id,
        kind=row.kind,
        name=row.name,
        team=row.team,
        created_by=row.created_by,
        purpose=row.purpose,
        classification=row.classification,
        tags=json.loads(row.tags),
        created_at=_aware(row.created_at),
    )


@record
class PushRequest:
    """What a push records besides the files."""

    name: str
    kind: str = "model"
    version: str | None = None
    team: str | None = None
    purpose: str = ""
    classification: str = "internal"
    tags: Mapping[str, str] | None = None
    signature: bytes | None = None
    signature_file: Path | None = None
    provenance: bytes | None = None
    bom: bytes | None = None
    metrics: Mapping[str, Any] | None = None
    datasets: Sequence[str] = ()
    code_commit: str | None = None
    environment: str | None = None
    builder: str | None = None

    def __post_init__(self) -> None:
        check_name(self.name, "name")
        if self.version is not None:
            check_name(self.version, "version")
        if self.kind not in KINDS[:2]:
            raise RegistryError(f"push takes a model or a dataset, not {self.kind!r}")
        if self.classification not in CLASSIFICATIONS:
            raise RegistryError(
                f"unknown classification {self.classification!r} "
                f"(one of {', '.join(CLASSIFICATIONS)})"
            )


class Registry:
    """Models, datasets and endpoints with versions, stages, approvals and lineage."""

    def __init__(
        self,
        engine: sa.Engine,
        artifacts: ArtifactStore,
        policy: PolicyEngine,
        *,
        clock: Clock,
        sink: EventSink,
        stage_gates: Callable[[str], Sequence[str]],
        gate_policy: GatePolicy,
        scan_settings: ScanSettings | None = None,
        idle_days: int = 90,
    ) -> None:
        self._engine = engine
        self._artifacts = artifacts
        self._policy = policy
        self._clock = clock
        self._sink = sink
        self._stage_gates = stage_gates
        self._gate_policy = gate_policy
        self._scan_settings = scan_settings or ScanSettings()
        self._idle = timedelta(days=idle_days)

    # -- plumbing ------------------------------------------------------------------

    def _now(self) -> datetime:
        return self._clock.now().astimezone(UTC)

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        try:
            with self._engine.connect() as conn:
                yield conn
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"the registry database failed: {exc.__class__.__name__}") from exc

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        try:
            with begin_write(self._engine) as conn:
                yield conn
        except sa.exc.IntegrityError as exc:
            raise ConflictError("the change conflicts with another one; try again") from exc
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"the registry database failed: {exc.__class__.__name__}") from exc

    def _event(
        self,
        caller: Caller,
        action: str,
        resource: str,
        outcome: Outcome,
        *,
        reason: str = "",
        details: Mapping[str, Any] | None = None,
    ) -> Event:
        return Event(
            actor=caller.principal.id,
            action=action,
            resource=resource,
            outcome=outcome,
            time=self._now(),
            reason=reason,
            request_id=caller.request_id,
            details={"actor_name": caller.principal.name, **(details or {})},
        )

    def _record(self, event: Event, undo: Callable[[sa.Connection], None] | None = None) -> None:
        """Make ``event`` durable; if it cannot be, undo the change it describes and raise."""
        recorded_or_undone(self._engine, lambda: self._sink.emit(event), undo, event.action)

    def _refuse(self, caller: Caller, action: str, resource: str, error: RegistryError) -> NoReturn:
        """Record a refusal (a failure to record it is raised instead) and raise ``error``."""
        self._sink.emit(self._event(caller, action, resource, Outcome.DENIED, reason=str(error)))
        raise error

    def _decide(
        self,
        caller: Caller,
        action: str,
        kind: str,
        asset: Asset | None,
        *,
        environment: str | None = None,
    ) -> str:
        """The rule that allows ``action``, or a recorded refusal."""
        resource = Resource(
            kind,
            asset.id if asset else "*",
            classification=asset.classification if asset else None,
            environment=environment,
            owner=asset.created_by if asset else None,
        )
        context = Context(time=self._now(), mfa=caller.mfa, source_ip=_ip(caller.source_ip))
        decision = self._policy.decide(Request(caller.principal, action, resource, context))
        if not decision.allowed:
            close = [t for t in decision.trace if "not applied" in t]
            reason = decision.reason + (f" ({'; '.join(close)})" if close else "")
            self._refuse(
                caller, f"registry.{action}", f"{kind}:{resource.id}", RefusedError(reason)
            )
        return decision.rule or ""

    def _visible(self, caller: Caller, asset: Asset) -> bool:
        teams = caller.principal.teams
        if teams and asset.team not in teams:
            return False
        resource = Resource(
            asset.kind, asset.id, classification=asset.classification, owner=asset.created_by
        )
        context = Context(time=self._now(), mfa=caller.mfa, source_ip=_ip(caller.source_ip))
        return self._policy.decide(Request(caller.principal, "read", resource, context)).allowed

    def _not_found(self, caller: Caller, what: str, resource: str) -> NotFoundError:
        error = NotFoundError(f"no {what}")
        self._sink.emit(
            self._event(caller, "registry.read", resource, Outcome.DENIED, reason=str(error))
        )
        return error

    # -- lookups -------------------------------------------------------------------

    def _find_asset(self, conn: sa.Connection, caller: Caller, kind: str, key: str) -> Asset:
        column = _A.id if _is_id(key) else _A.name
        row = conn.execute(
            sa.select(registry_assets).where((_A.kind == kind) & (column == key))
        ).first()
        if row is None or not self._visible(caller, asset := _asset(row)):
            raise self._not_found(caller, f"{kind} {key!r}", f"{kind}:{key}")
        return asset

    def _stages_of(self, conn: sa.Connection, version_id: str) -> tuple[str, ...]:
        rows = conn.execute(sa.select(_S.stage).where(_S.version_id == version_id))
        return tuple(sorted((r.stage for r in rows), key=STAGES.index))

    def _version(self, conn: sa.Connection, row: Any, asset: Asset) -> Version:
        ids = [row.author, row.approved_by] if row.approved_by else [row.author]
        return _version_row(row, asset, self._stages_of(conn, row.id), _names(conn, ids))

    def _find_version(
        self, conn: sa.Connection, caller: Caller, ref: str, kind: str = "model"
    ) -> tuple[Version, Any]:
        """The version ``ref`` names (``NAME@V``, ``NAME`` for the latest, or a version id)."""
        if _is_id(ref):
            row = conn.execute(_FULL.where(_V.id == ref)).first()
            if row is not None:
                arow = conn.execute(sa.select(registry_assets).where(_A.id == row.asset_id)).first()
                asset = _asset(arow)
                if self._visible(caller, asset):
                    return self._version(conn, row, asset), row
            raise self._not_found(caller, f"version {ref!r}", f"version:{ref}")
        name, label = parse_ref(ref)
        asset = self._find_asset(conn, caller, kind, name)
        query = _FULL.where(_V.asset_id == asset.id)
        if label is None:
            query = query.where(_V.state != "deleted").order_by(_V.seq.desc()).limit(1)
        else:
            query = query.where(_V.version == label)
        row = conn.execute(query).first()
        if row is None:
            raise self._not_found(caller, f"version {ref!r}", f"{kind}:{asset.id}")
        return self._version(conn, row, asset), row

    # -- reads ---------------------------------------------------------------------

    def assets(self, caller: Caller, kind: str | None = None) -> builtins.list[Asset]:
        """The assets the caller may see, by kind and name."""
        query = sa.select(registry_assets).order_by(_A.kind, _A.name)
        if kind is not None:
            query = query.where(_A.kind == kind)
        teams = caller.principal.teams
        if teams:
            query = query.where(_A.team.in_(teams))
        with self._read() as conn:
            rows = conn.execute(query).all()
        # One decision per distinct set of attributes the rules can read, not per asset.
        decided: dict[tuple[str, str, str, str], bool] = {}
        visible = []
        for asset in map(_asset, rows):
            key = (asset.kind, asset.classification, asset.created_by, asset.team or "")
            if key not in decided:
                decided[key] = self._visible(caller, asset)
            if decided[key]:
                visible.append(asset)
        return visible

    def versions(self, caller: Caller, name: str, kind: str = "model") -> builtins.list[Version]:
        """The versions of ``name``, newest first."""
        with self._read() as conn:
            asset = self._find_asset(conn, caller, kind, name)
            rows = conn.execute(_LIGHT.where(_V.asset_id == asset.id).order_by(_V.seq.desc())).all()
            stages: dict[str, list[str]] = {}
            for srow in conn.execute(
                sa.select(_S.stage, _S.version_id).where(_S.asset_id == asset.id)
            ):
                stages.setdefault(srow.version_id, []).append(srow.stage)
            ids = {r.author for r in rows} | {r.approved_by for r in rows if r.approved_by}
            names = _names(conn, ids)
            return [
                _version_row(
                    row, asset, tuple(sorted(stages.get(row.id, ()), key=STAGES.index)), names
                )
                for row in rows
            ]

    def show(self, caller: Caller, ref: str, kind: str = "model") -> Version:
        """One version (``NAME`` alone: the newest)."""
        with self._read() as conn:
            return self._find_version(conn, caller, ref, kind)[0]

    def stage_history(self, caller: Caller, name: str) -> builtins.list[dict[str, Any]]:
        """Every move of every stage of model ``name``, oldest first."""
        with self._read() as conn:
            asset = self._find_asset(conn, caller, "model", name)
            rows = conn.execute(
                sa.select(_H.stage, _H.action, _H.actor, _H.at, _V.version)
                .select_from(registry_stage_history.outerjoin(registry_versions))
                .where(_H.asset_id == asset.id)
                .order_by(_H.id)
            ).all()
        return [
            {
                "stage": r.stage,
                "action": r.action,
                "version": r.version,
                "actor": r.actor,
                "at": _aware(r.at).isoformat(),
            }
            for r in rows
        ]

    def fetch(self, caller: Caller, ref: str, target: Path, kind: str = "model") -> Version:
        """Decrypt and unpack the version's files into ``target``."""
        with self._read() as conn:
            version, row = self._find_version(conn, caller, ref, kind)
        self._decide(caller, "read", kind, version.asset)
        if row.blob is None:
            raise ConflictError(f"{version.ref} is {version.state}: its files are gone")
        self._artifacts.fetch(row.blob, target)
        return version

    # -- push ----------------------------------------------------------------------

    def push(self, caller: Caller, source: Path, request: PushRequest) -> Version:
        """Record ``source`` (a file or folder) as a new version of ``request.name``."""
        if not source.exists():
            raise InputError(f"{source} does not exist")
        kind = request.kind
        team = self._team_for(caller, request.team)
        with self._read() as conn:
            row = conn.execute(
                sa.select(registry_assets).where((_A.kind == kind) & (_A.name == request.name))
            ).first()
            existing = _asset(row) if row is not None else None
            if existing is not None and not self._visible(caller, existing):
                # Another team's name: say it is taken without saying whose it is.
                raise ConflictError(f"the {kind} name {request.name!r} is taken")
            if existing is not None and request.version is not None:
                taken = conn.execute(
                    sa.select(_V.id).where(
                        (_V.asset_id == existing.id) & (_V.version == request.version)
                    )
                ).first()
                if taken:
                    raise ConflictError(f"{request.name}@{request.version} exists already")
            inputs = [
                self._find_version(conn, caller, ref, "dataset")[0] for ref in request.datasets
            ]
        self._decide(caller, "create", kind, existing)
        evidence = self._evidence(source, request, team)
        version_id = new_id()
        size = self._artifacts.put(version_id, source)
        try:
            with self._write() as conn:
                stored = self._insert(conn, caller, request, existing, team, inputs,
                                      version_id, size, evidence)  # fmt: skip
        except BaseException:
            self._artifacts.delete(version_id)
            raise

        def undo(conn: sa.Connection) -> None:
            lineage.forget(conn, version_id, stored.transform)
            conn.execute(registry_versions.delete().where(_V.id == version_id))
            if existing is None:
                conn.execute(registry_assets.delete().where(_A.id == stored.asset_id))
            self._artifacts.delete(version_id)

        signature = evidence.signature
        details = {
            "version_id": version_id,
            "name": request.name,
            "version": stored.label,
            "digest": f"sha256:{evidence.digest}",
            "signed": signature is not None,
            "signature_matches": bool(signature and signature["matches"]),
            "scan_counts": evidence.scan["counts"],
            "datasets": [v.ref for v in inputs],
        }
        self._record(
            self._event(
                caller, "registry.push", f"{kind}:{stored.asset_id}", Outcome.SUCCESS,
                details=details,
            ),
            undo,
        )  # fmt: skip
        return self.show(caller, version_id, kind)

    def _evidence(self, source: Path, request: PushRequest, team: str | None) -> _Evidence:
        """Digest, signature check, scan and ML-BOM of what is pushed."""
        signature = None
        if request.signature is not None:
            signature = check_signature(source, request.signature, request.signature_file)
        bom = request.bom.decode() if request.bom is not None else None
        if bom is None:
            bom = bom_for(source, request.name, team, self._scan_settings)
        return _Evidence(
            artifact_digest(source), signature, scan_summary(source, self._scan_settings), bom
        )

    def _insert(
        self,
        conn: sa.Connection,
        caller: Caller,
        request: PushRequest,
        existing: Asset | None,
        team: str | None,
        inputs: Sequence[Version],
        version_id: str,
        size: int,
        evidence: _Evidence,
    ) -> _Stored:
        now = self._now()
        asset_id = existing.id if existing else new_id()
        if existing is None:
            conn.execute(
                registry_assets.insert().values(
                    id=asset_id,
                    kind=request.kind,
                    name=request.name,
                    team=team,
                    created_by=caller.principal.id,
                    purpose=request.purpose,
                    classification=request.classification,
                    tags=json.dumps(dict(request.tags or {}), sort_keys=True),
                    created_at=now,
                )
            )
        last = conn.execute(sa.select(sa.func.max(_V.seq)).where(_V.asset_id == asset_id))
        seq = (last.scalar() or 0) + 1
        label = request.version or str(seq)
        taken = conn.execute(
            sa.select(_V.id).where((_V.asset_id == asset_id) & (_V.version == label))
        ).first()
        if taken:
            raise ConflictError(f"{request.name}@{label} exists already")
        signature = evidence.signature
        conn.execute(
            registry_versions.insert().values(
                id=version_id,
                asset_id=asset_id,
                version=label,
                seq=seq,
                digest=evidence.digest,
                size=size,
                author=caller.principal.id,
                created_at=now,
                state="registered",
                blob=version_id,
                signature=json.dumps(signature, sort_keys=True) if signature else None,
                provenance=request.provenance.decode() if request.provenance else None,
                scan=json.dumps(evidence.scan, sort_keys=True),
                bom=evidence.bom,
                metrics=json.dumps(dict(request.metrics or {}), sort_keys=True),
                updated_at=now,
            )
        )
        transform = lineage.record_build(
            conn,
            version_id,
            [v.id for v in inputs],
            code_commit=request.code_commit,
            environment=request.environment,
            builder=request.builder,
            now=now,
        )
        return _Stored(asset_id, label, transform)

    def _team_for(self, caller: Caller, team: str | None) -> str | None:
        teams = caller.principal.teams
        if team is None:
            return teams[0] if len(teams) == 1 else None
        check_name(team, "team")
        if teams and team not in teams:
            raise RefusedError(f"you are not in team {team!r}")
        return team

    # -- approvals -----------------------------------------------------------------

    def approve(self, caller: Caller, ref: str, comment: str = "") -> Version:
        """Approve a version; its author cannot (separation of duties)."""
        return self._review(caller, ref, "approve", comment)

    def reject(self, caller: Caller, ref: str, comment: str = "") -> Version:
        """Reject a version; a rejected version is never promoted."""
        return self._review(caller, ref, "reject", comment)

    def _review(self, caller: Caller, ref: str, action: str, comment: str) -> Version:
        with self._read() as conn:
            version, row = self._find_version(conn, caller, ref)
        rule = self._decide(caller, action, version.asset.kind, version.asset)
        target = f"version:{version.id}"
        if version.author == caller.principal.id:
            self._refuse(
                caller,
                f"registry.{action}",
                target,
                RefusedError(
                    f"separation of duties: {caller.principal.name} authored {version.ref} "
                    f"and cannot {action} it"
                ),
            )
        if version.state in ("quarantined", "deleted"):
            raise ConflictError(f"{version.ref} is {version.state}")
        now = self._now()
        state = "approved" if action == "approve" else "rejected"
        approval_id = new_id()
        with self._write() as conn:
            conn.execute(
                registry_approvals.insert().values(
                    id=approval_id,
                    version_id=version.id,
                    principal=caller.principal.id,
                    decision=action,
                    comment=comment,
                    at=now,
                )
            )
            conn.execute(
                registry_versions.update()
                .where(_V.id == version.id)
                .values(
                    state=state,
                    updated_at=now,
                    approved_by=caller.principal.id if state == "approved" else None,
                    approved_at=now if state == "approved" else None,
                )
            )

        def undo(conn: sa.Connection) -> None:
            conn.execute(registry_approvals.delete().where(registry_approvals.c.id == approval_id))
            conn.execute(
                registry_versions.update()
                .where(_V.id == version.id)
                .values(
                    state=row.state,
                    approved_by=row.approved_by,
                    approved_at=row.approved_at,
                    updated_at=row.updated_at,
                )
            )

        event = self._event(
            caller,
            f"registry.{action}",
            target,
            Outcome.SUCCESS,
            details={"ref": version.ref, "rule": rule, "comment": comment},
        )
        self._record(event, undo)
        return self.show(caller, version.id)

    # -- stages --------------------------------------------------------------------

    def gates(self, caller: Caller, ref: str, stage: str) -> tuple[GateResult, ...]:
        """What the gates of ``stage`` say about a version now (nothing changes)."""
        _check_stage(stage)
        with self._read() as conn:
            version, row = self._find_version(conn, caller, ref)
        return self._evaluate(version, row, stage)

    def _evaluate(self, version: Version, row: Any, stage: str) -> tuple[GateResult, ...]:
        facts = GateInput(
            digest=version.digest,
            author=version.author,
            state=version.state,
            approved_by=version.approved_by,
            approver_name=version.names.get(version.approved_by or ""),
            signature=json.loads(row.signature) if row.signature else None,
            provenance=row.provenance.encode() if row.provenance else None,
            scan=version.scan,
            bom=version.bom,
            policy=self._gate_policy,
        )
        return evaluate(self._stage_gates(stage), facts)

    def promote(
        self, caller: Caller, ref: str, stage: str, *, break_glass: str | None = None
    ) -> dict[str, Any]:
        """Move ``stage`` of the version's model to the version, if every gate passes.

        ``break_glass`` (a written justification) lets a principal allowed the
        ``break-glass`` action bypass failing gates; it is recorded as an exception and
        raises an alert event.
        """
        _check_stage(stage)
        with self._read() as conn:
            version, row = self._find_version(conn, caller, ref)
        asset = version.asset
        target = f"version:{version.id}"
        rule = self._decide(caller, "promote", asset.kind, asset, environment=stage)
        if version.state in ("quarantined", "deleted", "rejected"):
            self._refuse(
                caller,
                "registry.promote",
                target,
                ConflictError(f"{version.ref} is {version.state}"),
            )
        results = self._evaluate(version, row, stage)
        failed = [r for r in results if not r.passed]
        bypassed: list[str] = []
        if failed:
            if break_glass is None:
                names = ", ".join(f"{r.gate} ({r.detail})" for r in failed)
                error = GateError(f"{version.ref} cannot enter {stage}: gate(s) {names}", results)
                self._sink.emit(
                    self._event(
                        caller,
                        "registry.promote",
                        target,
                        Outcome.DENIED,
                        reason=str(error),
                        details={"stage": stage, "gates": [r.to_json() for r in results]},
                    )
                )
                raise error
            if len(break_glass.strip()) < _MIN_JUSTIFICATION:
                raise RegistryError(
                    f"a break-glass justification must be at least {_MIN_JUSTIFICATION} characters"
                )
            self._decide(caller, "break-glass", asset.kind, asset, environment=stage)
            bypassed = [r.gate for r in failed]
        move = self._move(caller, asset, stage, version.id, "promote")
        exception_id = None
        if bypassed:
            exception_id = new_id()
            with self._write() as conn:
                conn.execute(
                    registry_exceptions.insert().values(
                        id=exception_id,
                        version_id=version.id,
                        stage=stage,
                        gates=json.dumps(bypassed),
                        actor=caller.principal.id,
                        justification=break_glass,
                        at=self._now(),
                    )
                )

        def undo(conn: sa.Connection) -> None:
            if exception_id is not None:
                conn.execute(
                    registry_exceptions.delete().where(registry_exceptions.c.id == exception_id)
                )
            move.undo(conn)

        details: dict[str, Any] = {
            "ref": version.ref,
            "stage": stage,
            "previous": move.previous_ref,
            "gates": [r.to_json() for r in results],
            "rule": rule,
        }
        if bypassed:
            details |= {"break_glass": True, "bypassed": bypassed, "justification": break_glass}
        self._record(
            self._event(caller, "registry.promote", target, Outcome.SUCCESS, details=details),
            undo,
        )
        if bypassed:
            self._record(
                self._event(
                    caller,
                    "alert.break_glass",
                    target,
                    Outcome.SUCCESS,
                    reason=f"gates bypassed: {', '.join(bypassed)}",
                    details=details,
                )
            )
        return {
            "version": version.ref,
            "stage": stage,
            "previous": move.previous_ref,
            "gates": [r.to_json() for r in results],
            "break_glass": bool(bypassed),
            "bypassed": bypassed,
        }

    def rollback(self, caller: Caller, name: str, stage: str) -> dict[str, Any]:
        """Move ``stage`` back to the version it held before, skipping bad versions."""
        _check_stage(stage)
        with self._read() as conn:
            asset = self._find_asset(conn, caller, "model", name)
            current = conn.execute(
                sa.select(_S.version_id).where((_S.asset_id == asset.id) & (_S.stage == stage))
            ).scalar()
            history = conn.execute(
                sa.select(_H.version_id, _V.state, _V.version)
                .select_from(registry_stage_history.join(registry_versions))
                .where((_H.asset_id == asset.id) & (_H.stage == stage))
                .order_by(_H.id.desc())
            ).all()
        rule = self._decide(caller, "rollback", "model", asset, environment=stage)
        target = next(
            (
                h
                for h in history
                if h.version_id != current and h.state in ("registered", "approved")
            ),
            None,
        )
        if target is None:
            self._refuse(
                caller,
                "registry.rollback",
                f"model:{asset.id}",
                ConflictError(f"{stage} of {name} has no earlier good version to roll back to"),
            )
        move = self._move(caller, asset, stage, target.version_id, "rollback")
        details = {
            "stage": stage,
            "from": move.previous_ref,
            "to": f"{name}@{target.version}",
            "rule": rule,
        }
        self._record(
            self._event(
                caller, "registry.rollback", f"model:{asset.id}", Outcome.SUCCESS, details=details
            ),
            move.undo,
        )
        return {
            "model": name,
            "stage": stage,
            "from": move.previous_ref,
            "to": f"{name}@{target.version}",
        }

    def _move(
        self, caller: Caller, asset: Asset, stage: str, version_id: str | None, action: str
    ) -> _Move:
        now = self._now()
        with self._write() as conn:
            before = conn.execute(
                sa.select(registry_stages).where((_S.asset_id == asset.id) & (_S.stage == stage))
            ).first()
            previous_ref = None
            if before is not None and before.version_id is not None:
                label = conn.execute(
                    sa.select(_V.version).where(_V.id == before.version_id)
                ).scalar()
                previous_ref = f"{asset.name}@{label}"
            if before is None:
                conn.execute(
                    registry_stages.insert().values(
                        asset_id=asset.id, stage=stage, version_id=version_id, updated_at=now
                    )
                )
            else:
                conn.execute(
                    registry_stages.update()
                    .where((_S.asset_id == asset.id) & (_S.stage == stage))
                    .values(version_id=version_id, updated_at=now)
                )
            key = conn.execute(
                registry_stage_history.insert().values(
                    asset_id=asset.id,
                    stage=stage,
                    version_id=version_id,
                    action=action,
                    actor=caller.principal.id,
                    at=now,
                )
            ).inserted_primary_key
            history_id = int(key[0]) if key else 0
        return _Move(asset.id, stage, before, history_id, previous_ref)

    def quarantine(self, caller: Caller, ref: str, reason: str = "") -> Version:
        """Block a version from every stage, and take it out of the stages that hold it."""
        with self._read() as conn:
            version, row = self._find_version(conn, caller, ref)
        rule = self._decide(caller, "quarantine", version.asset.kind, version.asset)
        if version.state in ("quarantined", "deleted"):
            raise ConflictError(f"{version.ref} is {version.state} already")
        moves = [self._move(caller, version.asset, s, None, "quarantine") for s in version.stages]
        now = self._now()
        with self._write() as conn:
            conn.execute(
                registry_versions.update()
                .where(_V.id == version.id)
                .values(state="quarantined", updated_at=now)
            )

        def undo(conn: sa.Connection) -> None:
            conn.execute(
                registry_versions.update()
                .where(_V.id == version.id)
                .values(state=row.state, updated_at=row.updated_at)
            )
            for move in reversed(moves):
                move.undo(conn)

        details = {"ref": version.ref, "removed_from": list(version.stages), "rule": rule}
        self._record(
            self._event(
                caller,
                "registry.quarantine",
                f"version:{version.id}",
                Outcome.SUCCESS,
                reason=reason,
                details=details,
            ),
            undo,
        )
        return self.show(caller, version.id)

    # -- deletion and hygiene ------------------------------------------------------

    def _check_factor(self, caller: Caller, action: str, target: str) -> None:
        if not caller.fresh_totp:
            self._refuse(
                caller,
                action,
                target,
                RefusedError("a TOTP code from this request is required (--totp)"),
            )

    def delete(self, caller: Caller, ref: str) -> Version:
        """Delete a version's files (its record stays); the caller must have given a TOTP
        code with this request; never a version in prod."""
        with self._read() as conn:
            version, row = self._find_version(conn, caller, ref)
        target = f"version:{version.id}"
        rule = self._decide(caller, "delete", version.asset.kind, version.asset)
        if "prod" in version.stages:
            self._refuse(
                caller,
                "registry.delete",
                target,
                ConflictError(
                    f"{version.ref} is in prod: roll back or promote another version first"
                ),
            )
        if version.state == "deleted":
            raise ConflictError(f"{version.ref} is deleted already")
        self._check_factor(caller, "registry.delete", target)
        return self._delete(caller, version, row, {"rule": rule})

    def _delete(
        self, caller: Caller, version: Version, row: Any, details: dict[str, Any]
    ) -> Version:
        moves = [self._move(caller, version.asset, s, None, "delete") for s in version.stages]
        now = self._now()
        with self._write() as conn:
            conn.execute(
                registry_versions.update()
                .where(_V.id == version.id)
                .values(state="deleted", blob=None, updated_at=now)
            )

        def undo(conn: sa.Connection) -> None:
            conn.execute(
                registry_versions.update()
                .where(_V.id == version.id)
                .values(state=row.state, blob=row.blob, updated_at=row.updated_at)
            )
            for move in reversed(moves):
                move.undo(conn)

        self._record(
            self._event(
                caller,
                "registry.delete",
                f"version:{version.id}",
                Outcome.SUCCESS,
                details={"ref": version.ref, **details},
            ),
            undo,
        )
        if row.blob is not None:
            self._artifacts.delete(row.blob)
        return self.show(caller, version.id)

    def cleanup(self, caller: Caller, *, dry_run: bool) -> builtins.list[Version]:
        """Unapproved versions that no stage or endpoint holds and that are not their
        asset's newest; deleted unless ``dry_run``."""
        candidates = []
        with self._read() as conn:
            held = {r.version_id for r in conn.execute(sa.select(_S.version_id))}
            held |= {
                r.version_id for r in conn.execute(sa.select(registry_deployments.c.version_id))
            }
            newest = {
                r.asset_id: r.seq
                for r in conn.execute(
                    sa.select(_V.asset_id, sa.func.max(_V.seq).label("seq")).group_by(_V.asset_id)
                )
            }
            rows = conn.execute(
                _FULL.add_columns(registry_assets.c.kind.label("asset_kind"))
                .join(registry_assets)
                .where(_V.state.in_(("registered", "rejected")))
                .order_by(_V.created_at)
            ).all()
            assets: dict[str, Asset] = {}
            for row in rows:
                if row.id in held or row.seq == newest[row.asset_id]:
                    continue
                if row.asset_id not in assets:
                    arow = conn.execute(
                        sa.select(registry_assets).where(_A.id == row.asset_id)
                    ).one()
                    assets[row.asset_id] = _asset(arow)
                asset = assets[row.asset_id]
                if self._visible(caller, asset):
                    candidates.append((self._version(conn, row, asset), row))
        if dry_run:
            return [v for v, _ in candidates]
        self._check_factor(caller, "registry.cleanup", "registry:*")
        done = []
        for version, row in candidates:
            self._decide(caller, "delete", version.asset.kind, version.asset)
            done.append(self._delete(caller, version, row, {"cleanup": True}))
        return done

    def exceptions(self, caller: Caller) -> builtins.list[dict[str, Any]]:
        """Every break-glass promotion the caller may see, newest first."""
        out = []
        with self._read() as conn:
            rows = conn.execute(
                sa.select(registry_exceptions, _V.version, _V.asset_id)
                .join(registry_versions)
                .order_by(registry_exceptions.c.at.desc())
            ).all()
            for row in rows:
                arow = conn.execute(sa.select(registry_assets).where(_A.id == row.asset_id)).one()
                asset = _asset(arow)
                if not self._visible(caller, asset):
                    continue
                out.append(
                    {
                        "id": row.id,
                        "version": f"{asset.name}@{row.version}",
                        "stage": row.stage,
                        "gates": json.loads(row.gates),
                        "actor": row.actor,
                        "justification": row.justification,
                        "at": _aware(row.at).isoformat(),
                    }
                )
        return out

    def orphans(self, caller: Caller) -> dict[str, builtins.list[dict[str, Any]]]:
        """Endpoints serving versions not in prod, unapproved or quarantined; assets
        without an owning team; versions no stage has held for ``idle_days``."""
        now = self._now()
        result: dict[str, builtins.list[dict[str, Any]]] = {
            "endpoints": [],
            "unowned": [],
            "idle": [],
        }
        visible = {a.id: a for a in self.assets(caller)}
        with self._read() as conn:
            prod = {
                r.asset_id: r.version_id
                for r in conn.execute(
                    sa.select(_S.asset_id, _S.version_id).where(_S.stage == "prod")
                )
            }
            held = {r.version_id for r in conn.execute(sa.select(_S.version_id))}
            for dep in conn.execute(
                sa.select(registry_deployments, _V.asset_id, _V.version, _V.state).join(
                    registry_versions
                )
            ):
                endpoint = visible.get(dep.endpoint_id)
                if endpoint is None:
                    continue
                problems = []
                if prod.get(dep.asset_id) != dep.version_id:
                    problems.append("not in prod")
                if dep.state != "approved":
                    problems.append(dep.state if dep.state != "registered" else "unapproved")
                if problems:
                    model = visible.get(dep.asset_id)
                    result["endpoints"].append(
                        {
                            "endpoint": endpoint.name,
                            "serves": f"{model.name if model else dep.asset_id}@{dep.version}",
                            "problems": problems,
                        }
                    )
            result["unowned"] = [
                {"kind": a.kind, "name": a.name} for a in visible.values() if a.team is None
            ]
            deployed = {
                r.version_id for r in conn.execute(sa.select(registry_deployments.c.version_id))
            }
            for row in conn.execute(
                sa.select(_V.id, _V.asset_id, _V.version, _V.updated_at, _V.state).where(
                    _V.state != "deleted"
                )
            ):
                asset = visible.get(row.asset_id)
                if asset is None or row.id in held or row.id in deployed:
                    continue
                if now - _aware(row.updated_at) >= self._idle:
                    result["idle"].append(
                        {
                            "version": f"{asset.name}@{row.version}",
                            "state": row.state,
                            "since": _aware(row.updated_at).isoformat(),
                        }
                    )
        return result

    def rewrap(self, caller: Caller, kek_name: str) -> int:
        """Wrap every stored artifact's data key under ``kek_name`` (key rotation without
        re-encrypting data); the number of artifacts rewrapped."""
        self._decide(caller, "rotate", "key", None)
        with self._read() as conn:
            blobs = [r.blob for r in conn.execute(sa.select(_V.blob).where(_V.blob.is_not(None)))]
        for blob in blobs:
            self._artifacts.rewrap(blob, kek_name)
        self._record(self._event(caller, "registry.rewrap", f"key:{kek_name}", Outcome.SUCCESS,
                                 details={"artifacts": len(blobs), "kek": kek_name}))  # fmt: skip
        return len(blobs)

    # -- endpoints -----------------------------------------------------------------

    def deploy(
        self, caller: Caller, endpoint: str, ref: str, *, team: str | None = None
    ) -> dict[str, Any]:
        """Point ``endpoint`` (created on first use) at a version that is in prod."""
        check_name(endpoint, "endpoint name")
        with self._read() as conn:
            version, _ = self._find_version(conn, caller, ref)
            row = conn.execute(
                sa.select(registry_assets).where((_A.kind == "endpoint") & (_A.name == endpoint))
            ).first()
            existing = _asset(row) if row is not None else None
            if existing is not None and not self._visible(caller, existing):
                raise ConflictError(f"the endpoint name {endpoint!r} is taken")
        rule = self._decide(caller, "publish", "endpoint", existing, environment="prod")
        if "prod" not in version.stages:
            self._refuse(
                caller,
                "registry.deploy",
                f"version:{version.id}",
                ConflictError(
                    f"{version.ref} is not in prod: only the prod version may be deployed"
                ),
            )
        now = self._now()
        endpoint_id = existing.id if existing else new_id()
        with self._write() as conn:
            if existing is None:
                conn.execute(
                    registry_assets.insert().values(
                        id=endpoint_id,
                        kind="endpoint",
                        name=endpoint,
                        team=self._team_for(caller, team or version.asset.team),
                        created_by=caller.principal.id,
                        purpose=f"serves {version.asset.name}",
                        classification=version.asset.classification,
                        tags="{}",
                        created_at=now,
                    )
                )
            before = conn.execute(
                sa.select(registry_deployments).where(
                    registry_deployments.c.endpoint_id == endpoint_id
                )
            ).first()
            conn.execute(
                registry_deployments.delete().where(
                    registry_deployments.c.endpoint_id == endpoint_id
                )
            )
            conn.execute(
                registry_deployments.insert().values(
                    endpoint_id=endpoint_id,
                    version_id=version.id,
                    actor=caller.principal.id,
                    deployed_at=now,
                )
            )
            lineage.record_deployment(conn, endpoint_id, version.id, now=now)

        def undo(conn: sa.Connection) -> None:
            conn.execute(
                registry_deployments.delete().where(
                    registry_deployments.c.endpoint_id == endpoint_id
                )
            )
            lineage.record_deployment(
                conn, endpoint_id, before.version_id if before else None, now=now
            )
            if before is not None:
                conn.execute(registry_deployments.insert().values(**before._mapping))
            if existing is None:
                conn.execute(registry_assets.delete().where(_A.id == endpoint_id))

        self._record(
            self._event(
                caller,
                "registry.deploy",
                f"endpoint:{endpoint_id}",
                Outcome.SUCCESS,
                details={"endpoint": endpoint, "serves": version.ref, "rule": rule},
            ),
            undo,
        )
        return {"endpoint": endpoint, "id": endpoint_id, "serves": version.ref}

    # -- lineage -------------------------------------------------------------------

    def _label(self, caller: Caller) -> Callable[[str], dict[str, Any] | None]:
        """Describe a lineage node for ``caller``; ``None`` for one it may not see."""
        with self._read() as conn:
            graph_assets = {a.id: a for a in self.assets(caller)}
            versions = {
                r.id: r for r in conn.execute(sa.select(_V.id, _V.asset_id, _V.version, _V.state))
            }
            transforms = lineage.transforms(conn)

        def label(node: str) -> dict[str, Any] | None:
            kind, _, ident = node.partition(":")
            if kind == "version":
                row = versions.get(ident)
                asset = graph_assets.get(row.asset_id) if row else None
                if row is None or asset is None:
                    return None
                return {
                    "node": node,
                    "kind": asset.kind,
                    "ref": f"{asset.name}@{row.version}",
                    "state": row.state,
                }
            if kind == "endpoint":
                asset = graph_assets.get(ident)
                return (
                    None if asset is None else {"node": node, "kind": "endpoint", "ref": asset.name}
                )
            info = transforms.get(ident)
            return None if info is None else {"node": node, "kind": "transform", **info}

        return label

    def affected(
        self, caller: Caller, *, dataset: str | None = None, environment: str | None = None
    ) -> dict[str, builtins.list[dict[str, Any]]]:
        """Every model version, derived dataset and endpoint downstream of a dataset
        (``NAME`` for all its versions, or ``NAME@V``) or of an environment or builder."""
        if (dataset is None) == (environment is None):
            raise RegistryError("give exactly one of a dataset or an environment")
        with self._read() as conn:
            if dataset is not None:
                name, label = parse_ref(dataset)
                if label is None:
                    asset = self._find_asset(conn, caller, "dataset", name)
                    starts = [
                        f"version:{r.id}"
                        for r in conn.execute(sa.select(_V.id).where(_V.asset_id == asset.id))
                    ]
                else:
                    found = self._find_version(conn, caller, dataset, "dataset")[0]
                    starts = [f"version:{found.id}"]
            else:
                starts = lineage.transforms_in(conn, environment or "")
            graph = lineage.load(conn)
        reached = lineage.downstream(graph, starts)
        return _group(reached, self._label(caller), exclude=set(starts))

    def upstream(self, caller: Caller, ref: str) -> dict[str, builtins.list[dict[str, Any]]]:
        """Every dataset, transformation and model a version was built from."""
        with self._read() as conn:
            version, _ = self._find_version(conn, caller, ref)
            graph = lineage.load(conn)
        start = f"version:{version.id}"
        reached = lineage.upstream(graph, [start])
        return _group(reached, self._label(caller), exclude={start})

    def lineage_graph(self, caller: Caller) -> lineage.Graph:
        """The lineage graph restricted to nodes the caller may see, with their labels."""
        with self._read() as conn:
            graph = lineage.load(conn)
        label = self._label(caller)
        nodes: dict[str, dict[str, Any]] = {}
        for node in graph.nodes():
            info = label(node)
            if info is not None:
                nodes[node] = info
        edges = [(s, t) for s, t in graph.edges() if s in nodes and t in nodes]
        return lineage.Graph.of(edges, nodes)


@record
class _Evidence:
    """What a push learned about the files before storing them."""

    digest: str
    signature: dict[str, Any] | None
    scan: dict[str, Any]
    bom: str | None


@record
class _Stored:
    """Where a push put its rows."""

    asset_id: str
    label: str
    transform: str | None


@record
class _Move:
    """A stage move, and how to undo it."""

    asset_id: str
    stage: str
    before: Any
    history_id: int
    previous_ref: str | None

    def undo(self, conn: sa.Connection) -> None:
        """Put the stage back as it was and drop the history row."""
        conn.execute(registry_stage_history.delete().where(_H.id == self.history_id))
        where = (_S.asset_id == self.asset_id) & (_S.stage == self.stage)
        if self.before is None:
            conn.execute(registry_stages.delete().where(where))
        else:
            conn.execute(
                registry_stages.update()
                .where(where)
                .values(version_id=self.before.version_id, updated_at=self.before.updated_at)
            )


def _names(conn: sa.Connection, ids: Iterable[str]) -> dict[str, str]:
    """Display names of the identities ``ids`` (those found)."""
    rows = conn.execute(
        sa.select(identities.c.id, identities.c.name).where(identities.c.id.in_(ids))
    )
    return {row.id: row.name for row in rows}


def _group(
    nodes: set[str], label: Callable[[str], dict[str, Any] | None], *, exclude: set[str]
) -> dict[str, builtins.list[dict[str, Any]]]:
    out: dict[str, builtins.list[dict[str, Any]]] = {
        "models": [],
        "datasets": [],
        "transforms": [],
        "endpoints": [],
    }
    for node in sorted(nodes - exclude):
        info = label(node)
        if info is not None:
            out[f"{info['kind']}s"].append(info)
    for items in out.values():
        items.sort(key=lambda i: str(i.get("ref", i["node"])))
    return out


def _check_stage(stage: str) -> None:
    if stage not in STAGES:
        raise RegistryError(f"unknown stage {stage!r} (one of {', '.join(STAGES)})")


def _is_id(text: str) -> bool:
    return len(text) == 36 and text.count("-") == 4


def _ip(text: str | None) -> Any:
    if not text:
        return None
    import ipaddress  # noqa: PLC0415 - only requests from the network carry an address

    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
