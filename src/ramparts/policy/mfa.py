"""TOTP second factors (RFC 6238): enrolment, verification without replay, removal.

A principal (an identity's id, or :data:`~ramparts.policy.identity_types.LOCAL_ADMIN_ID`)
holds at most one factor: a 160-bit shared secret that an authenticator app turns into
a six-digit code every 30 seconds. The secret is stored sealed with AES-256-GCM under a
32-byte key the composition root gives (policy never reads a key store itself): a
random 12-byte nonce, then the ciphertext and its tag, with the principal id as
associated data, so a sealed secret copied to another principal's row does not open.

A code is accepted for the current time step or one step either side (clock drift), and
never twice: the step it matched is recorded in the same transaction that checks it is
later than the last one accepted, so two requests racing with one code cannot both pass.

Enrolment and removal are sent to the event sink once committed; if the event cannot be
recorded, the change is undone before the ``AuditError`` propagates.
"""

from __future__ import annotations

import hmac
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime

import pyotp
import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ramparts.core.interface import Clock, EventSink
from ramparts.core.records import field, record
from ramparts.errors import ConfigError
from ramparts.policy.identity_types import MfaError, emit
from ramparts.store.engine import begin_write, recorded_or_undone, store_error
from ramparts.store.schema import identity_mfa

__all__ = ["DIGITS", "INTERVAL", "SEALING_KEY_BYTES", "Enrollment", "MfaError", "SecondFactors"]

DIGITS = 6
"""Digits of a code."""
INTERVAL = 30
"""Seconds of one time step."""
SEALING_KEY_BYTES = 32
"""The size of the sealing key (AES-256)."""

_WINDOW = 1
"""Steps accepted either side of the current one."""
_NONCE_BYTES = 12
_TAG_BYTES = 16
_SECRET_CHARS = 32  # base32: 160 bits, the HMAC-SHA1 block RFC 4226 recommends
_CODE = re.compile(r"[0-9]{6}")

_Undo = Callable[[sa.Connection], None]


@record
class Enrollment:
    """A second factor just enrolled. Its secret exists only here: the store keeps it sealed."""

    principal_id: str
    secret: str = field(repr=False)
    """The shared secret, base32, for authenticator apps that take it typed in."""
    uri: str = field(repr=False)
    """The ``otpauth://totp/...`` provisioning URI (what a QR code holds)."""


def _check_principal(principal_id: str) -> None:
    if not isinstance(principal_id, str) or not principal_id:
        raise MfaError("a second factor needs a principal id")


class SecondFactors:
    """Enrols, verifies and removes the TOTP second factors of principals.

    The schema must be migrated (:func:`ramparts.store.upgrade`) before use.
    ``sealing_key`` is the 32-byte AES key the secrets are sealed with; losing it makes
    every enrolled factor unusable (enrol again).
    """

    def __init__(
        self,
        engine: sa.Engine,
        sealing_key: bytes,
        *,
        clock: Clock,
        sink: EventSink | None = None,
    ) -> None:
        if len(sealing_key) != SEALING_KEY_BYTES:
            raise ConfigError(
                f"the second-factor sealing key must be {SEALING_KEY_BYTES} bytes, "
                f"got {len(sealing_key)}"
            )
        self._engine = engine
        self._aead = AESGCM(sealing_key)
        self._clock = clock
        self._sink = sink

    def _now(self) -> datetime:
        return self._clock.now().astimezone(UTC)

    # -- sealing ------------------------------------------------------------------

    def _seal(self, principal_id: str, secret: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, secret.encode("ascii"), principal_id.encode())

    def _unseal(self, principal_id: str, sealed: bytes) -> str:
        sealed = bytes(sealed)  # PostgreSQL drivers may return a memoryview
        if len(sealed) < _NONCE_BYTES + _TAG_BYTES:
            raise MfaError(f"the second factor of {principal_id!r} is damaged: enrol it again")
        nonce, ciphertext = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
        try:
            plain = self._aead.decrypt(nonce, ciphertext, principal_id.encode())
        except InvalidTag:
            raise MfaError(
                f"the second factor of {principal_id!r} cannot be unsealed (another sealing "
                "key, or a record not made for this principal): enrol it again"
            ) from None
        return plain.decode("ascii")

    def all_enrolled(self) -> frozenset[str]:
        """The principal ids that have a second factor (for posture and reviews)."""
        try:
            with self._engine.connect() as conn:
                rows = conn.execute(sa.select(identity_mfa.c.principal_id)).all()
        except sa.exc.SQLAlchemyError as exc:
            raise store_error(self._engine, "listing second factors", exc) from exc
        return frozenset(row.principal_id for row in rows)

    # -- enrolling and removing ---------------------------------------------------

    def enroll(
        self, principal_id: str, *, actor: str, issuer: str = "ramparts", label: str | None = None
    ) -> Enrollment:
        """A new secret for ``principal_id``, replacing any earlier one.

        ``label`` is the account name authenticator apps show (the principal id by
        default); ``issuer`` names the service there. The secret is returned once.
        """
        _check_principal(principal_id)
        secret = pyotp.random_base32(_SECRET_CHARS)
        uri = pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).provisioning_uri(
            name=label or principal_id, issuer_name=issuer
        )
        now = self._now()
        sealed = self._seal(principal_id, secret)
        where = identity_mfa.c.principal_id == principal_id
        try:
            with begin_write(self._engine) as conn:
                previous = conn.execute(sa.select(identity_mfa).where(where)).mappings().first()
                conn.execute(identity_mfa.delete().where(where))
                conn.execute(
                    identity_mfa.insert().values(
                        principal_id=principal_id, secret_sealed=sealed, created_at=now
                    )
                )
        except sa.exc.SQLAlchemyError as exc:
            raise store_error(
                self._engine, f"enrolling a second factor for {principal_id!r}", exc
            ) from exc
        details = {"principal_id": principal_id, "replaced": previous is not None}
        self._audited(actor, "identity.mfa.enroll", principal_id, now, details,
                      self._restore(principal_id, previous))  # fmt: skip
        return Enrollment(principal_id, secret, uri)

    def remove(self, principal_id: str, *, actor: str) -> None:
        """Remove the factor of ``principal_id``; :class:`MfaError` if it has none."""
        _check_principal(principal_id)
        now = self._now()
        where = identity_mfa.c.principal_id == principal_id
        try:
            with begin_write(self._engine) as conn:
                previous = conn.execute(sa.select(identity_mfa).where(where)).mappings().first()
                if previous is None:
                    raise MfaError(f"no second factor is enrolled for {principal_id!r}")
                conn.execute(identity_mfa.delete().where(where))
        except sa.exc.SQLAlchemyError as exc:
            raise store_error(
                self._engine, f"removing the second factor of {principal_id!r}", exc
            ) from exc
        self._audited(actor, "identity.mfa.remove", principal_id, now,
                      {"principal_id": principal_id},
                      self._restore(principal_id, previous))  # fmt: skip

    def _restore(self, principal_id: str, previous: sa.RowMapping | None) -> _Undo:
        """How to put the row of ``principal_id`` back as it was (or absent)."""
        where = identity_mfa.c.principal_id == principal_id

        def undo(conn: sa.Connection) -> None:
            conn.execute(identity_mfa.delete().where(where))
            if previous is not None:
                conn.execute(identity_mfa.insert().values(dict(previous)))

        return undo

    def _audited(
        self,
        actor: str,
        action: str,
        principal_id: str,
        now: datetime,
        details: dict[str, object],
        undo: _Undo,
    ) -> None:
        """Record a committed change; if the event cannot be recorded, undo the change."""
        recorded_or_undone(
            self._engine,
            lambda: emit(self._sink, actor=actor, action=action,
                         resource=f"principal:{principal_id}", time=now, details=details),
            undo,
            action,
        )  # fmt: skip

    # -- reading and verifying ----------------------------------------------------

    def enrolled(self, principal_id: str) -> bool:
        """Whether ``principal_id`` has a second factor (for display, not for access checks)."""
        query = sa.select(identity_mfa.c.principal_id).where(
            identity_mfa.c.principal_id == principal_id
        )
        try:
            with self._engine.connect() as conn:
                return conn.execute(query).first() is not None
        except sa.exc.SQLAlchemyError as exc:
            raise store_error(
                self._engine, f"reading the second factor of {principal_id!r}", exc
            ) from exc

    def verify(self, principal_id: str, code: str) -> None:
        """Return if ``code`` is a fresh code of ``principal_id``; raise :class:`MfaError` if not.

        A code is refused when no factor is enrolled, when it is not six digits, when it
        matches none of the current step and the steps either side, or when its step is
        not later than the last one accepted (a replay). An accepted step is recorded
        before this returns.
        """
        _check_principal(principal_id)
        if not isinstance(code, str) or not _CODE.fullmatch(code):
            raise MfaError(f"the one-time code is not {DIGITS} digits")
        current = int(self._now().timestamp()) // INTERVAL
        row = identity_mfa.c
        try:
            with begin_write(self._engine) as conn:
                found = (
                    conn.execute(
                        sa.select(row.secret_sealed, row.last_step)
                        .where(row.principal_id == principal_id)
                        .with_for_update()
                    )
                    .mappings()
                    .first()
                )
                if found is None:
                    raise MfaError(f"no second factor is enrolled for {principal_id!r}")
                totp = pyotp.TOTP(
                    self._unseal(principal_id, found["secret_sealed"]),
                    digits=DIGITS,
                    interval=INTERVAL,
                )
                matched = [
                    step
                    for step in range(current - _WINDOW, current + _WINDOW + 1)
                    if step >= 0 and hmac.compare_digest(totp.generate_otp(step), code)
                ]
                if not matched:
                    raise MfaError("the one-time code is wrong")
                step = max(matched)
                replayed = MfaError("the one-time code was already used: wait for the next one")
                if found["last_step"] is not None and step <= found["last_step"]:
                    raise replayed
                # The UPDATE checks the step again: of two transactions racing with one
                # code, the second matches no row (PostgreSQL re-reads the row the first
                # locked; SQLite has serialised them at BEGIN IMMEDIATE).
                fresh = row.last_step.is_(None) | (row.last_step < step)
                updated = conn.execute(
                    identity_mfa.update()
                    .where((row.principal_id == principal_id) & fresh)
                    .values(last_step=step)
                )
                if updated.rowcount != 1:
                    raise replayed
        except sa.exc.SQLAlchemyError as exc:
            raise store_error(
                self._engine, f"checking the second factor of {principal_id!r}", exc
            ) from exc
