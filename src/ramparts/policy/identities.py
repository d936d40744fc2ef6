"""Identities and their API keys in the state database.

An identity (a person or a service) holds roles, teams (whose registry assets it may
see; none means organisation-wide) and one or more API keys. ``create``
issues its first key, ``add_key`` another one, ``rotate`` a new key while the previous
ones stay valid for a grace period, and ``revoke`` disables the identity, all its keys
and, through the revocation list, all its tokens at once. Names are never reused: a
revoked identity keeps its row so that audit events naming it stay meaningful.

Each change is sent to the event sink, if one is given, once it is committed. A grant
(a new identity or key) whose event cannot be recorded is undone before the
``AuditError`` propagates, so no credential exists that the log does not know of. A
revocation stands even when its event cannot be recorded: the error is raised, but
nothing is left valid.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from ramparts.core.ids import new_id
from ramparts.core.interface import Clock, EventSink
from ramparts.core.records import replace
from ramparts.core.types import Principal, PrincipalKind
from ramparts.errors import InputError
from ramparts.policy.apikeys import KeyHasher, key_id_of, new_api_key, new_key_id
from ramparts.policy.identity_types import (
    DEFAULT_KEY_GRACE,
    LOCAL_ADMIN_ID,
    REVOCATION_HORIZON,
    SYSTEM_ACTOR,
    ApiKeyInfo,
    AuthenticationError,
    Identity,
    IdentityError,
    IssuedKey,
    Rejection,
    RevocationKind,
    Revocations,
    RevokedIdentity,
    emit,
    utc,
)
from ramparts.store.engine import (
    begin_write,
    recorded_or_undone,
    store_error,
)
from ramparts.store.interface import StoreError
from ramparts.store.schema import identities, identity_api_keys

__all__ = ["Identities"]

_Undo = Callable[[sa.Connection], None]


def _identity(row: sa.RowMapping) -> Identity:
    return Identity(
        id=row["id"],
        name=row["name"],
        kind=PrincipalKind(row["kind"]),
        roles=tuple(json.loads(row["roles"])),
        created_at=row["created_at"],
        disabled_at=row["disabled_at"],
        teams=tuple(json.loads(row["teams"])),
    )


def _key_info(row: sa.RowMapping) -> ApiKeyInfo:
    return ApiKeyInfo(
        key_id=row["key_id"],
        identity_id=row["identity_id"],
        created_at=utc(row["created_at"]),
        expires_at=utc(row["expires_at"]) if row["expires_at"] is not None else None,
        revoked_at=utc(row["revoked_at"]) if row["revoked_at"] is not None else None,
    )


class Identities:
    """Creates, finds, rotates and revokes identities; authenticates API keys.

    The schema must be migrated (:func:`ramparts.store.upgrade`) before use.
    ``revocations`` is the list token verification reads; without it a revoked
    identity's tokens stay valid until they expire.
    """

    def __init__(
        self,
        engine: sa.Engine,
        hasher: KeyHasher,
        *,
        clock: Clock,
        sink: EventSink | None = None,
        revocations: Revocations | None = None,
    ) -> None:
        self._engine = engine
        self._hasher = hasher
        self._clock = clock
        self._sink = sink
        self._revocations = revocations

    def _now(self) -> datetime:
        # UTC on the way in: SQLite keeps wall-clock text without an offset.
        return self._clock.now().astimezone(UTC)

    # -- reading ------------------------------------------------------------------

    def get(self, name: str) -> Identity:
        """The identity called ``name`` (revoked or not); :class:`IdentityError` if none."""
        try:
            with self._engine.connect() as conn:
                return self._find(conn, name)
        except sa.exc.SQLAlchemyError as exc:
            raise store_error(self._engine, f"reading identity {name!r}", exc) from exc

    def list(self) -> builtins.list[Identity]:
        """Every identity, revoked ones included, by name."""
        query = sa.select(identities).order_by(identities.c.name)
        try:
            with self._engine.connect() as conn:
                return [_identity(row) for row in conn.execute(query).mappings()]
        except sa.exc.SQLAlchemyError as exc:
            raise store_error(self._engine, "listing identities", exc) from exc

    def keys(self, name: str) -> builtins.list[ApiKeyInfo]:
        """The API keys of ``name``, oldest first (expired and revoked ones included)."""
        query = (
            sa.select(identity_api_keys)
            .join(identities, identities.c.id == identity_api_keys.c.identity_id)
            .where(identities.c.name == name)
            .order_by(identity_api_keys.c.created_at, identity_api_keys.c.key_id)
        )
        try:
            with self._engine.connect() as conn:
                self._find(conn, name)
                return [_key_info(row) for row in conn.execute(query).mappings()]
        except sa.exc.SQLAlchemyError as exc:
            raise store_error(self._engine, f"reading the keys of {name!r}", exc) from exc

    def _find(self, conn: sa.Connection, name: str) -> Identity:
        row = conn.execute(sa.select(identities).where(identities.c.name == name)).mappings()
        found = row.first()
        if found is None:
            raise IdentityError(f"no identity named {name!r}")
        return _identity(found)

    def _active(self, conn: sa.Connection, name: str) -> Identity:
        identity = self._find(conn, name)
        if identity.revoked:
            raise IdentityError(f"identity {name!r} is revoked")
        return identity

    # -- granting -----------------------------------------------------------------

    def create(
        self,
        name: str,
        roles: Iterable[str] = (),
        *,
        kind: PrincipalKind = PrincipalKind.HUMAN,
        teams: Iterable[str] = (),
        actor: str = SYSTEM_ACTOR,
    ) -> IssuedKey:
        """Create ``name`` with ``roles`` and ``teams`` and issue its first API key.

        The key is shown only here. ``teams`` limits the registry assets the identity
        sees to those its teams own; none means organisation-wide. The name
        :data:`~ramparts.policy.identity_types.LOCAL_ADMIN_ID` is reserved.
        """
        if name == LOCAL_ADMIN_ID:
            raise IdentityError(
                f"the identity name {name!r} is reserved for the local administrator"
            )
        if isinstance(teams, str):
            raise InputError(f"teams must be a list of team names, not one string ({teams!r})")
        now = self._now()
        identity = Identity(new_id(), name, kind, tuple(roles), now, teams=tuple(teams))
        try:
            with begin_write(self._engine) as conn:
                if conn.execute(
                    sa.select(identities.c.id).where(identities.c.name == name)
                ).first():
                    raise IdentityError(f"an identity named {name!r} already exists")
                conn.execute(
                    identities.insert().values(
                        id=identity.id,
                        name=name,
                        kind=kind.value,
                        roles=json.dumps(list(identity.roles)),
                        teams=json.dumps(list(identity.teams)),
                        created_at=now,
                    )
                )
                key_id, api_key = self._insert_key(conn, identity.id, now)
        except sa.exc.SQLAlchemyError as exc:
            raise store_error(self._engine, f"creating identity {name!r}", exc) from exc

        def undo(conn: sa.Connection) -> None:
            conn.execute(identity_api_keys.delete().where(identity_api_keys.c.key_id == key_id))
            conn.execute(identities.delete().where(identities.c.id == identity.id))

        details = {"identity_id": identity.id, "kind": kind.value,
                   "roles": list(identity.roles), "teams": list(identity.teams),
                   "key_id": key_id}  # fmt: skip
        self._granted(actor, "identity.create", identity, now, details, undo)
        return IssuedKey(identity, key_id, api_key)

    def add_key(self, name: str, *, actor: str = SYSTEM_ACTOR) -> IssuedKey:
        """Issue one more API key for ``name``; its other keys stay valid."""
        now = self._now()
        try:
            with begin_write(self._engine) as conn:
                identity = self._active(conn, name)
                key_id, api_key = self._insert_key(conn, identity.id, now)
        except sa.exc.SQLAlchemyError as exc:
            raise store_error(self._engine, f"adding a key to {name!r}", exc) from exc

        def undo(conn: sa.Connection) -> None:
            conn.execute(identity_api_keys.delete().where(identity_api_keys.c.key_id == key_id))

        details = {"identity_id": identity.id, "key_id": key_id}
        self._granted(actor, "identity.key.add", identity, now, details, undo)
        return IssuedKey(identity, key_id, api_key)

    def rotate(
        self, name: str, *, grace: timedelta = DEFAULT_KEY_GRACE, actor: str = SYSTEM_ACTOR
    ) -> IssuedKey:
        """Issue a new key for ``name``; its previous keys stop working after ``grace``.

        A previous key that already expires sooner keeps its earlier end. ``grace`` of
        zero ends the previous keys now.
        """
        if grace < timedelta(0):
            raise InputError(f"the rotation grace period must be >= 0, got {grace}")
        now = self._now()
        until = now + grace
        keys = identity_api_keys.c
        try:
            with begin_write(self._engine) as conn:
                identity = self._active(conn, name)
                longer = (
                    (keys.identity_id == identity.id)
                    & keys.revoked_at.is_(None)
                    & (keys.expires_at.is_(None) | (keys.expires_at > until))
                )
                previous = [
                    (row.key_id, row.expires_at)
                    for row in conn.execute(sa.select(keys.key_id, keys.expires_at).where(longer))
                ]
                conn.execute(identity_api_keys.update().where(longer).values(expires_at=until))
                key_id, api_key = self._insert_key(conn, identity.id, now)
        except sa.exc.SQLAlchemyError as exc:
            raise store_error(self._engine, f"rotating the keys of {name!r}", exc) from exc

        def undo(conn: sa.Connection) -> None:
            conn.execute(identity_api_keys.delete().where(keys.key_id == key_id))
            for old_id, old_end in previous:
                conn.execute(
                    identity_api_keys.update()
                    .where(keys.key_id == old_id)
                    .values(expires_at=old_end)
                )

        details = {"identity_id": identity.id, "key_id": key_id,
                   "previous_keys": [k for k, _ in previous],
                   "previous_valid_until": until.isoformat()}  # fmt: skip
        self._granted(actor, "identity.key.rotate", identity, now, details, undo)
        return IssuedKey(identity, key_id, api_key, previous_valid_until=until)

    def _insert_key(self, conn: sa.Connection, identity_id: str, now: datetime) -> tuple[str, str]:
        taken = sa.select(identity_api_keys.c.key_id).where(
            identity_api_keys.c.key_id == sa.bindparam("k")
        )
        key_id = new_key_id()
        while conn.execute(taken, {"k": key_id}).first() is not None:
            key_id = new_key_id()  # 40 bits: a clash is rare, but must not fail a create
        api_key = new_api_key(key_id)
        conn.execute(
            identity_api_keys.insert().values(
                key_id=key_id,
                identity_id=identity_id,
                key_hash=self._hasher.digest(api_key),
                created_at=now,
            )
        )
        return key_id, api_key

    def _granted(
        self,
        actor: str,
        action: str,
        identity: Identity,
        now: datetime,
        details: Mapping[str, object],
        undo: _Undo,
    ) -> None:
        """Record a committed grant; if the event cannot be recorded, undo the grant."""
        recorded_or_undone(
            self._engine,
            lambda: emit(self._sink, actor=actor, action=action,
                         resource=f"identity:{identity.name}", time=now, details=details),
            undo,
            action,
        )  # fmt: skip

    # -- revoking -----------------------------------------------------------------

    def revoke(self, name: str, *, actor: str = SYSTEM_ACTOR) -> RevokedIdentity:
        """Disable ``name``, all its API keys and all its tokens; repeating it is harmless.

        A repeat publishes the identity's revocation to the revocation list again, which
        mends a revocation whose list write failed.
        """
        now = self._now()
        keys = identity_api_keys.c
        try:
            with begin_write(self._engine) as conn:
                identity = self._find(conn, name)
                conn.execute(
                    identities.update()
                    .where((identities.c.id == identity.id) & identities.c.disabled_at.is_(None))
                    .values(disabled_at=now)
                )
                revoked = conn.execute(
                    identity_api_keys.update()
                    .where((keys.identity_id == identity.id) & keys.revoked_at.is_(None))
                    .values(revoked_at=now)
                ).rowcount
        except sa.exc.SQLAlchemyError as exc:
            raise store_error(self._engine, f"revoking identity {name!r}", exc) from exc
        identity = replace(identity, disabled_at=identity.disabled_at or now)
        if self._revocations is not None:
            try:
                self._revocations.revoke(
                    RevocationKind.IDENTITY, identity.id, now + REVOCATION_HORIZON
                )
            except StoreError as exc:
                raise StoreError(
                    f"identity {name!r} and its API keys are disabled, but its tokens could not "
                    f"be revoked ({exc}): run revoke again"
                ) from exc
        emit(self._sink, actor=actor, action="identity.revoke", resource=f"identity:{name}",
             time=now, details={"identity_id": identity.id, "keys_revoked": revoked})  # fmt: skip
        return RevokedIdentity(identity, revoked)

    # -- authenticating -----------------------------------------------------------

    def authenticate(self, api_key: str) -> Principal:
        """The principal ``api_key`` proves; :class:`AuthenticationError` says why not.

        The key is looked up by its public id and its hash compared in constant time
        before anything about the key's state is told.
        """
        key_id = key_id_of(api_key)
        keys = identity_api_keys.c
        query = (
            sa.select(identities, keys.key_hash, keys.expires_at, keys.revoked_at)
            .select_from(identity_api_keys.join(identities))
            .where(keys.key_id == key_id)
        )
        try:
            with self._engine.connect() as conn:
                row = conn.execute(query).mappings().first()
        except sa.exc.SQLAlchemyError as exc:
            raise store_error(self._engine, "looking up an API key", exc) from exc
        if row is None:
            raise AuthenticationError(Rejection.UNKNOWN_KEY, f"no API key with id {key_id}")
        self._hasher.check(api_key, row["key_hash"])
        identity = _identity(row)
        if identity.revoked:
            raise AuthenticationError(
                Rejection.IDENTITY_REVOKED, f"identity {identity.name!r} is revoked"
            )
        if row["revoked_at"] is not None:
            raise AuthenticationError(Rejection.REVOKED, f"API key {key_id} is revoked")
        expires = row["expires_at"]
        if expires is not None and self._now() >= utc(expires):
            raise AuthenticationError(
                Rejection.EXPIRED, f"API key {key_id} expired at {utc(expires):%Y-%m-%dT%H:%M:%SZ}"
            )
        return identity.principal()
