"""Short-lived tokens: JWTs signed with Ed25519 (EdDSA) or ECDSA P-256 (ES256).

The profile follows RFC 9068 (JWT access tokens) and RFC 8725 (JWT best practices):

- header: ``alg`` (EdDSA or ES256), ``kid`` (the signing key's JWK thumbprint),
  ``typ: at+jwt``, and nothing else;
- claims: ``iss``, ``aud``, ``sub`` (the identity id), ``roles``, ``teams``, ``kind``
  (human or service), ``iat``, ``nbf``, ``exp`` (15 minutes later by default), ``jti``
  (a UUID), and ``amr: ["otp"]`` (RFC 8176) when a TOTP code was verified at issue.

Verification trusts nothing in the token before its signature checks, and even then
only what it expects: the algorithm must be in the allowlist *and* be the algorithm of
the key its ``kid`` names (so ``none``, HS* signed with a public key as the secret, and
RS* are refused before any key is used); issuer and audience must be exactly ours;
every claim must be present and of its type (a token without ``teams`` is malformed,
never organisation-wide); times are checked against the injected clock with a small
leeway; finally the revocation list is read, and a list that cannot be read denies.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypeGuard

import jwt

from ramparts.core.ids import new_id
from ramparts.core.interface import Clock, EventSink
from ramparts.core.types import Principal, PrincipalKind
from ramparts.errors import ConfigError
from ramparts.policy.identity_types import (
    ALGORITHMS,
    DEFAULT_LEEWAY,
    DEFAULT_TOKEN_LIFETIME,
    MAX_LEEWAY,
    MAX_TOKEN_LIFETIME,
    REVOCATION_HORIZON,
    SYSTEM_ACTOR,
    AuthenticationError,
    Identity,
    IdentityError,
    IssuedToken,
    Rejection,
    RevocationKind,
    Revocations,
    VerifiedToken,
    emit,
)
from ramparts.policy.token_keys import SigningKey, TokenKeys
from ramparts.store.interface import StoreError

__all__ = [
    "TOKEN_TYPE",
    "VERIFIED_CACHE",
    "Tokens",
    "numeric_date",
    "pyjwt_rejection",
    "stamp",
]

VERIFIED_CACHE = 10_000
"""How many verified tokens a :class:`Tokens` remembers (least recently used go first)."""

TOKEN_TYPE = "at+jwt"  # noqa: S105 - a media type, not a credential
"""The ``typ`` header of our tokens (RFC 9068), so no other JWT passes for one."""

_MAX_CHARS = 8192
# The signature may be empty so that an unsigned token is refused for its algorithm (none).
_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_HEADER = frozenset({"alg", "kid", "typ"})
_REQUIRED = ("iss", "aud", "sub", "roles", "kind", "iat", "nbf", "exp", "jti")
_KINDS = frozenset(k.value for k in PrincipalKind)
_OTP = "otp"
"""The RFC 8176 ``amr`` value of a one-time password (our TOTP second factor)."""


def stamp(seconds: float) -> str:
    """A NumericDate as ISO 8601 UTC, for messages."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def numeric_date(claims: Mapping[str, Any], name: str) -> float:
    """Claim ``name`` as a NumericDate (RFC 7519), or :class:`AuthenticationError`."""
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise AuthenticationError(Rejection.MALFORMED, f"claim {name!r} is not a NumericDate")
    # Far outside any real time: refuse rather than overflow datetime later.
    if not 0 <= value < 2**33:
        raise AuthenticationError(Rejection.MALFORMED, f"claim {name!r} is out of range")
    return float(value)


def pyjwt_rejection(exc: jwt.InvalidTokenError) -> AuthenticationError:
    """PyJWT's refusal as ours (the most specific class first)."""
    if isinstance(exc, jwt.InvalidSignatureError):
        return AuthenticationError(Rejection.BAD_SIGNATURE, "the signature does not verify")
    if isinstance(exc, jwt.InvalidAudienceError):
        return AuthenticationError(Rejection.WRONG_AUDIENCE, "the token is for another audience")
    if isinstance(exc, jwt.InvalidIssuerError):
        return AuthenticationError(Rejection.WRONG_ISSUER, "the token is from another issuer")
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return AuthenticationError(Rejection.MISSING_CLAIM, f"the token has no {exc.claim!r} claim")
    if isinstance(exc, jwt.InvalidAlgorithmError):
        return AuthenticationError(Rejection.ALGORITHM, "the algorithm is not allowed")
    return AuthenticationError(Rejection.MALFORMED, f"the token cannot be read: {exc}")


def _names(value: object) -> TypeGuard[list[str]]:
    """Whether ``value`` is a list of non-empty strings."""
    return isinstance(value, list) and all(isinstance(v, str) and v for v in value)


def _principal(claims: dict[str, Any]) -> Principal:
    """Step (6): the principal the claims describe, each claim of its type."""
    subject, roles, kind, jti = claims["sub"], claims["roles"], claims["kind"], claims["jti"]
    # Checked here, not left to PyJWT: before 2.10 it did not check their types.
    if not (isinstance(subject, str) and subject and isinstance(jti, str) and jti):
        raise AuthenticationError(
            Rejection.MALFORMED, "claims 'sub' and 'jti' must be non-empty strings"
        )
    if not _names(roles):
        raise AuthenticationError(Rejection.MALFORMED, "claim 'roles' is not a list of role names")
    # Not in _REQUIRED on purpose: no teams means organisation-wide, so a token without
    # the claim (older, or forged by a key holder) must not pass for one that has none.
    teams = claims.get("teams")
    if not _names(teams):
        raise AuthenticationError(Rejection.MALFORMED, "claim 'teams' is not a list of team names")
    if not isinstance(kind, str) or kind not in _KINDS:
        raise AuthenticationError(Rejection.MALFORMED, "claim 'kind' is not human or service")
    return Principal(
        id=subject, name=subject, kind=PrincipalKind(kind), roles=tuple(roles), teams=tuple(teams)
    )


def _mfa(claims: dict[str, Any]) -> bool:
    """Whether the optional ``amr`` claim says a one-time password was verified."""
    if "amr" not in claims:
        return False
    amr = claims["amr"]
    if not _names(amr):
        raise AuthenticationError(Rejection.MALFORMED, "claim 'amr' is not a list of methods")
    return _OTP in amr


class Tokens:
    """Issues, verifies and revokes short-lived tokens."""

    def __init__(
        self,
        keys: TokenKeys,
        revocations: Revocations,
        *,
        clock: Clock,
        issuer: str,
        audience: str,
        lifetime: timedelta = DEFAULT_TOKEN_LIFETIME,
        leeway: timedelta = DEFAULT_LEEWAY,
        sink: EventSink | None = None,
    ) -> None:
        if not issuer or not audience:
            raise ConfigError("tokens need an issuer and an audience")
        if not timedelta(0) < lifetime <= MAX_TOKEN_LIFETIME:
            raise ConfigError(f"token lifetime must be over 0 and at most {MAX_TOKEN_LIFETIME}")
        if not timedelta(0) <= leeway <= MAX_LEEWAY:
            raise ConfigError(f"token leeway must be 0 to {MAX_LEEWAY}")
        if keys.retain < lifetime + leeway:
            raise ConfigError(
                f"retired signing keys are kept {keys.retain}, less than a token lives "
                f"({lifetime} + {leeway} leeway): tokens would fail before they expire"
            )
        self._keys = keys
        self._revocations = revocations
        self._clock = clock
        self._verified: OrderedDict[bytes, tuple[dict[str, Any], str]] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._issuer = issuer
        self._audience = audience
        self._lifetime = int(lifetime.total_seconds())
        self._leeway = leeway.total_seconds()
        self._sink = sink

    def issue(
        self, identity: Identity, *, actor: str = SYSTEM_ACTOR, mfa: bool = False
    ) -> IssuedToken:
        """A token for ``identity``; a revoked identity gets none.

        ``mfa`` adds ``amr: ["otp"]``: pass it only after
        :meth:`~ramparts.policy.mfa.SecondFactors.verify` accepted a code of this
        identity. The event is recorded before the token is returned: a token whose
        issue cannot be audited is never handed out.
        """
        if identity.revoked:
            raise IdentityError(f"identity {identity.name!r} is revoked: no token is issued")
        key = self._keys.current()
        now = self._clock.now().astimezone(UTC)
        iat = int(now.timestamp())
        jti = new_id()
        claims: dict[str, Any] = {
            "iss": self._issuer, "aud": self._audience, "sub": identity.id,
            "roles": list(identity.roles), "teams": list(identity.teams),
            "kind": identity.kind.value, "iat": iat, "nbf": iat,
            "exp": iat + self._lifetime, "jti": jti}  # fmt: skip
        if mfa:
            claims["amr"] = [_OTP]
        token = jwt.encode(
            claims,
            key.private_key,
            algorithm=key.algorithm,
            headers={"kid": key.kid, "typ": TOKEN_TYPE},
        )
        issued_at = datetime.fromtimestamp(iat, UTC)
        expires_at = issued_at + timedelta(seconds=self._lifetime)
        emit(self._sink, actor=actor, action="identity.token.issue",
             resource=f"identity:{identity.name}", time=now,
             details={"identity_id": identity.id, "jti": jti, "kid": key.kid, "mfa": mfa,
                      "expires_at": expires_at.isoformat()})  # fmt: skip
        return IssuedToken(token, jti, key.kid, identity.id, issued_at, expires_at, mfa=mfa)

    def verify(self, token: str) -> VerifiedToken:
        """The verified token; :class:`AuthenticationError` with the reason otherwise.

        A token whose signature and claims verified once is remembered (by its SHA-256,
        at most :data:`VERIFIED_CACHE` of them) so that a service checking the same
        token on every request does not pay for the signature and parsing again; its
        times and the revocation list are checked on every call all the same.
        """
        digest = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        with self._cache_lock:
            cached = self._verified.get(digest)
            if cached is not None:
                self._verified.move_to_end(digest)
        if cached is None:
            key = self._key_for(token)
            claims = self._claims(token, key)
            kid = key.kid
        else:
            claims, kid = cached
            # A key retired since (or removed) no longer vouches for what it signed.
            if self._keys.find(kid) is None:
                raise AuthenticationError(
                    Rejection.UNKNOWN_KEY, f"no signing key {kid!r} verifies now"
                )
        exp, iat = self._check_times(claims)
        principal = _principal(claims)
        mfa = _mfa(claims)
        jti: str = claims["jti"]
        # (7) Revocations: a list that cannot be read denies.
        try:
            self._revocations.check(jti, principal.id)
        except StoreError as exc:
            raise AuthenticationError(
                Rejection.UNAVAILABLE,
                f"the revocation list cannot be read, so no token is accepted: {exc}",
            ) from exc
        if cached is None:
            with self._cache_lock:
                self._verified[digest] = (claims, kid)
                if len(self._verified) > VERIFIED_CACHE:
                    self._verified.popitem(last=False)
        issued_at, expires_at = datetime.fromtimestamp(iat, UTC), datetime.fromtimestamp(exp, UTC)
        return VerifiedToken(principal, jti, kid, issued_at, expires_at, mfa=mfa)

    def _key_for(self, token: str) -> SigningKey:
        """Steps (1) to (3): the key to verify ``token`` with, read from what it claims."""
        # (1) Shape: a compact JWS of bounded size, before any decoding.
        if not isinstance(token, str) or len(token) > _MAX_CHARS or not _SHAPE.fullmatch(token):
            raise AuthenticationError(
                Rejection.MALFORMED, "not a compact JWS (three base64url parts)"
            )
        # (2) Header: only what we write; the algorithm from the allowlist.
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise AuthenticationError(
                Rejection.MALFORMED, f"the header cannot be read: {exc}"
            ) from exc
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise AuthenticationError(
                Rejection.ALGORITHM,
                f"algorithm {alg!r} is not accepted (only {', '.join(ALGORITHMS)})",
            )
        unexpected = sorted(set(header) - _HEADER)
        if unexpected:
            raise AuthenticationError(
                Rejection.MALFORMED, f"unexpected header(s) {', '.join(unexpected)}"
            )
        if header.get("typ") != TOKEN_TYPE:
            raise AuthenticationError(Rejection.MALFORMED, f"the token type is not {TOKEN_TYPE}")
        # (3) Key: the kid names a key that verifies now, and alg is that key's.
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise AuthenticationError(Rejection.MALFORMED, "the header names no key (kid)")
        key = self._keys.find(kid)
        if key is None:
            raise AuthenticationError(Rejection.UNKNOWN_KEY, f"no signing key {kid!r} verifies now")
        if key.algorithm != alg:
            raise AuthenticationError(
                Rejection.ALGORITHM, f"key {kid} signs with {key.algorithm}, the token says {alg}"
            )
        return key

    def _claims(self, token: str, key: SigningKey) -> dict[str, Any]:
        """Step (4): the signature with the pinned algorithm, then issuer, audience, claims."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.public_key,
                algorithms=[key.algorithm],
                audience=self._audience,
                issuer=self._issuer,
                options={
                    "require": list(_REQUIRED),
                    "strict_aud": True,
                    "verify_exp": False,  # checked against our clock in (5)
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.InvalidTokenError as exc:
            raise pyjwt_rejection(exc) from exc
        return claims

    def _check_times(self, claims: dict[str, Any]) -> tuple[float, float]:
        """Step (5): ``exp``, ``nbf`` and ``iat`` against the clock, with the leeway."""
        now = self._clock.now().timestamp()
        exp, nbf, iat = (numeric_date(claims, n) for n in ("exp", "nbf", "iat"))
        if now >= exp + self._leeway:
            raise AuthenticationError(Rejection.EXPIRED, f"the token expired at {stamp(exp)}")
        if nbf > now + self._leeway:
            raise AuthenticationError(
                Rejection.NOT_YET_VALID, f"the token is not valid before {stamp(nbf)}"
            )
        if iat > now + self._leeway:
            raise AuthenticationError(
                Rejection.NOT_YET_VALID, f"the token was issued in the future ({stamp(iat)})"
            )
        return exp, iat

    def revoke(self, jti: str, *, actor: str = SYSTEM_ACTOR) -> None:
        """Deny the token ``jti`` from now on (kept until any such token has expired)."""
        if not jti:
            raise IdentityError("a token id (jti) is needed to revoke a token")
        now = self._clock.now()
        self._revocations.revoke(RevocationKind.TOKEN, jti, now + REVOCATION_HORIZON)
        emit(self._sink, actor=actor, action="identity.token.revoke", resource=f"token:{jti}",
             time=now, details={"jti": jti})  # fmt: skip

    def jwks(self) -> dict[str, Any]:
        """The public keys that verify tokens now, as a JWK Set (RFC 7517)."""
        return self._keys.jwks()
