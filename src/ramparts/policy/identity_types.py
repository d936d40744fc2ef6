"""Value types and errors of identities, API keys and short-lived tokens.

An :class:`Identity` is a person or a service with roles and teams. It authenticates
with an API key (long-lived, stored as a keyed hash) or with a short-lived token (a
signed JWT), and may add a TOTP second factor. Whatever checks a credential returns the
:class:`~ramparts.core.types.Principal` it proves, or raises :class:`AuthenticationError`
whose ``reason`` says why.

Errors::

    RampartsError
    └── IdentityError             an identity operation cannot be done (unknown name,
        │                         revoked identity, a name taken)
        ├── AuthenticationError   an API key or token is not accepted; ``reason`` is a
        │                         :class:`Rejection`
        └── MfaError              a second factor is not enrolled, or a code is not
                                  accepted (malformed, wrong, already used)
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from ramparts.core.interface import Event, EventSink, Outcome
from ramparts.core.records import field, record
from ramparts.core.types import Principal, PrincipalKind
from ramparts.errors import RampartsError

__all__ = [
    "ALGORITHMS",
    "DEFAULT_KEY_GRACE",
    "DEFAULT_LEEWAY",
    "DEFAULT_TOKEN_LIFETIME",
    "LOCAL_ADMIN_ID",
    "MAX_LEEWAY",
    "MAX_TOKEN_LIFETIME",
    "REVOCATION_HORIZON",
    "SYSTEM_ACTOR",
    "ApiKeyInfo",
    "AuthenticationError",
    "Identity",
    "IdentityError",
    "IssuedKey",
    "IssuedToken",
    "MfaError",
    "Rejection",
    "RevocationKind",
    "Revocations",
    "RevokedIdentity",
    "VerifiedToken",
    "emit",
    "utc",
]

ALGORITHMS = ("EdDSA", "ES256")
"""The only JWS algorithms tokens are signed and verified with (Ed25519, ECDSA P-256)."""

DEFAULT_TOKEN_LIFETIME = timedelta(minutes=15)
MAX_TOKEN_LIFETIME = timedelta(hours=24)
"""No token lives longer, whatever the settings say."""
DEFAULT_LEEWAY = timedelta(seconds=30)
"""Clock skew tolerated on ``exp``, ``nbf`` and ``iat``."""
MAX_LEEWAY = timedelta(minutes=5)
DEFAULT_KEY_GRACE = timedelta(hours=24)
"""How long :meth:`~ramparts.policy.identities.Identities.rotate` keeps old keys valid."""
REVOCATION_HORIZON = MAX_TOKEN_LIFETIME + MAX_LEEWAY
"""How long a revocation is kept: longer than any token it could deny can live."""
SYSTEM_ACTOR = "ramparts"
"""The actor of audit events when the caller names none."""
LOCAL_ADMIN_ID = "local-admin"
"""The principal id of the local administrator (whoever runs the CLI on the state folder).

No identity may be named so, so that the name never means two principals."""

_NAME = re.compile(r"[a-z0-9][a-z0-9._@-]{0,127}")
_ROLE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_TEAM = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


class IdentityError(RampartsError):
    """An identity operation cannot be done: unknown or revoked identity, a name taken."""


class Rejection(enum.Enum):
    """Why a credential was refused: stable codes for logs, metrics and audit events."""

    MALFORMED = "malformed"
    """Not a ramparts API key or a compact JWS of ours (shape, header, claim types)."""
    ALGORITHM = "algorithm"
    """The token's ``alg`` is not allowed, or is not the algorithm of the key it names."""
    UNKNOWN_KEY = "unknown_key"
    """No API key with this id, or no signing key with this ``kid`` (or it was retired)."""
    BAD_SIGNATURE = "bad_signature"
    """The signature (or the API key's secret part) does not match."""
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    WRONG_ISSUER = "wrong_issuer"
    WRONG_AUDIENCE = "wrong_audience"
    MISSING_CLAIM = "missing_claim"
    REVOKED = "revoked"
    """This API key, or this token (by its ``jti``), was revoked."""
    IDENTITY_REVOKED = "identity_revoked"
    UNAVAILABLE = "unavailable"
    """The revocation list cannot be read, so nothing is accepted (fail closed)."""


class AuthenticationError(IdentityError):
    """An API key or a token is not accepted; :attr:`reason` says why, :attr:`detail` how."""

    def __init__(self, reason: Rejection, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"credential rejected ({reason.value}): {detail}")


class MfaError(IdentityError):
    """A second factor is not accepted: none enrolled, or a code malformed, wrong or reused."""


def utc(value: datetime) -> datetime:
    """``value`` as an aware UTC time; a naive one is read as UTC (SQLite returns those)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@record
class Identity:
    """A person or a service that authenticates, with the roles and teams it holds.

    Names are lower case (``a-z 0-9 . _ @ -``, at most 128 characters) so that two
    identities cannot differ only by case; roles and teams are de-duplicated and sorted.
    Team names are lower case (``a-z 0-9 . _ -``, at most 64 characters); no team means
    organisation-wide.
    """

    id: str
    name: str
    kind: PrincipalKind
    roles: tuple[str, ...]
    created_at: datetime
    disabled_at: datetime | None = None
    teams: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise IdentityError(
                f"identity name {self.name!r} is not allowed: use lower-case letters, digits "
                "and . _ @ - (at most 128, starting with a letter or digit)"
            )
        for role in self.roles:
            if not isinstance(role, str) or not _ROLE.fullmatch(role):
                raise IdentityError(
                    f"role name {role!r} is not allowed: letters, digits and . _ : - (at most 64)"
                )
        for team in self.teams:
            if not isinstance(team, str) or not _TEAM.fullmatch(team):
                raise IdentityError(
                    f"team name {team!r} is not allowed: lower-case letters, digits and . _ - "
                    "(at most 64, starting with a letter or digit)"
                )
        object.__setattr__(self, "roles", tuple(sorted(set(self.roles))))
        object.__setattr__(self, "teams", tuple(sorted(set(self.teams))))
        object.__setattr__(self, "created_at", utc(self.created_at))
        if self.disabled_at is not None:
            object.__setattr__(self, "disabled_at", utc(self.disabled_at))

    @property
    def revoked(self) -> bool:
        """Whether the identity was revoked (it can then never authenticate again)."""
        return self.disabled_at is not None

    def principal(self) -> Principal:
        """Who this identity acts as, for policy decisions."""
        return Principal(
            id=self.id, name=self.name, kind=self.kind, roles=self.roles, teams=self.teams
        )


@record
class IssuedKey:
    """An API key just issued. Its text exists only here: the store keeps a keyed hash."""

    identity: Identity
    key_id: str
    api_key: str = field(repr=False)
    previous_valid_until: datetime | None = None
    """After a rotation: when the identity's previous keys stop working."""


@record
class ApiKeyInfo:
    """What the store knows of one API key (never the key itself)."""

    key_id: str
    identity_id: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None


@record
class RevokedIdentity:
    """The outcome of revoking an identity."""

    identity: Identity
    keys_revoked: int
    """How many API keys this revocation disabled (0 when it was already revoked)."""


@record
class IssuedToken:
    """A signed token and what it says."""

    token: str = field(repr=False)
    jti: str
    kid: str
    subject: str
    issued_at: datetime
    expires_at: datetime
    mfa: bool = False
    """Whether the token says a second factor was verified (``amr`` holds ``otp``)."""


@record
class VerifiedToken:
    """A token that passed every check, and the principal it proves.

    The principal's ``name`` is the identity id: tokens carry no names, since anyone
    holding a token can read its claims.
    """

    principal: Principal
    jti: str
    kid: str
    issued_at: datetime
    expires_at: datetime
    mfa: bool = False
    """Whether a second factor was verified when the token was issued: true only when its
    ``amr`` claim (RFC 8176) holds ``otp``."""


class RevocationKind(enum.Enum):
    """What a revocation names: one token (by ``jti``) or every token of an identity."""

    TOKEN = "jti"  # noqa: S105 - a claim name, not a credential
    IDENTITY = "sub"


class Revocations(Protocol):
    """The revocation list that token verification consults.

    :class:`~ramparts.policy.revocations.SqlRevocations` keeps it in the database,
    :class:`~ramparts.policy.revocations.RedisRevocations` shares it between replicas.
    """

    def revoke(self, kind: RevocationKind, value: str, until: datetime) -> None:
        """Deny ``value`` until ``until``; raise ``StoreError`` if it cannot be recorded."""
        ...

    def check(self, jti: str, subject: str) -> None:
        """Raise :class:`AuthenticationError` if the token or its subject is revoked.

        Raises ``StoreError`` when the list cannot be read; callers deny on it.
        """
        ...


def emit(
    sink: EventSink | None,
    *,
    actor: str,
    action: str,
    resource: str,
    time: datetime,
    details: Mapping[str, Any],
) -> None:
    """Send a successful identity event to ``sink``, if there is one (``AuditError`` propagates)."""
    if sink is None:
        return
    sink.emit(
        Event(
            actor=actor,
            action=action,
            resource=resource,
            outcome=Outcome.SUCCESS,
            time=time,
            details=details,
        )
    )
