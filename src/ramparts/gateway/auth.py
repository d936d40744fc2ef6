"""Who calls the gateway: bearer credentials, client certificates, and a token endpoint.

Bearer credentials (``Authorization: Bearer ...``) are checked by *verifiers*, each of
which says which credentials it takes (:class:`Handles`): :class:`ApiKeys` takes
ramparts API keys (``rmp_...``), :class:`RampartsTokens` takes JWTs whose ``iss`` is
ramparts' own, each :class:`OidcVerifier` takes JWTs of one external identity provider.
:func:`chain` joins them into one :data:`~ramparts.gateway.interface.Authenticator` that
hands a credential to the single verifier its shape names, and to no other: the
routing reads only what the caller sent (a prefix, or the unverified ``iss``), so
which verifiers exist, and how each fails, is never probed by trying one after another.

:class:`ClientCertificates` maps an mTLS client certificate (from the ASGI TLS
extension, or from a header that a TLS-terminating proxy at a trusted address sets) to
a ramparts identity. :class:`ClientCredentialsEndpoint` is an OAuth 2.0
client-credentials token endpoint (RFC 6749 section 4.4) that gives service identities
short-lived ramparts tokens for their API keys; :func:`with_token_endpoint` serves it
beside the gateway.

Every refusal of a credential is :class:`~ramparts.gateway.interface.RefusedRequestError`
(401, ``invalid_api_key``) whose message is one line,
``not authenticated: credential rejected (REASON): DETAIL``, with ``REASON`` a
:class:`~ramparts.policy.identity_types.Rejection` value.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import ipaddress
import json
import re
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, unquote_plus, urlsplit

import httpx
import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from ramparts.core.ids import new_id
from ramparts.core.interface import Clock, Event, Outcome
from ramparts.core.records import record
from ramparts.core.types import Principal, PrincipalKind
from ramparts.errors import AuditError, ConfigError
from ramparts.gateway.asgi import read_body
from ramparts.gateway.interface import (
    AuditSink,
    Authenticated,
    Authenticator,
    GatewayError,
    RefusedRequestError,
)
from ramparts.policy.apikeys import KEY_PREFIX
from ramparts.policy.identities import Identities
from ramparts.policy.identity_types import (
    MAX_LEEWAY,
    AuthenticationError,
    IdentityError,
    Rejection,
)
from ramparts.policy.tokens import Tokens, numeric_date, pyjwt_rejection, stamp
from ramparts.store.interface import StoreError

__all__ = [
    "OIDC_ALGORITHMS",
    "TOKEN_PATH",
    "ApiKeys",
    "BearerVerifier",
    "ClientCertificates",
    "ClientCredentialsEndpoint",
    "Handles",
    "OidcVerifier",
    "RampartsTokens",
    "chain",
    "refusal",
    "with_token_endpoint",
]

# What the handlers here accept: broad enough for the gateway's own shapes (app.py
# uses dicts) and for httpx's ASGI transport (mutable mappings) alike.
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[
    [
        dict[str, Any],
        Callable[[], Awaitable[dict[str, Any]]],
        Callable[[dict[str, Any]], Awaitable[None]],
    ],
    Awaitable[None],
]
"""An ASGI application as :class:`~ramparts.gateway.app.Gateway` is typed."""

TOKEN_PATH = "/oauth/token"  # noqa: S105 - a URL path, not a credential
"""Where :func:`with_token_endpoint` serves the client-credentials endpoint."""

OIDC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
"""Every algorithm an :class:`OidcVerifier` can be allowed; never ``none`` nor HS*."""

_MAX_CREDENTIAL = 16_384
"""Longest bearer credential read at all (IdP tokens with group claims can pass 8 KiB)."""
_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_ROLE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_TEAM = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_URI_KEY = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_MFA_METHODS = frozenset({"mfa", "otp", "hwk"})
"""RFC 8176 ``amr`` values that mean more than one factor (or a hardware-bound key)."""


def _one_line(text: str, limit: int = 300) -> str:
    """``text`` on one line, at most ``limit`` characters (third-party messages vary)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def refusal(error: AuthenticationError) -> RefusedRequestError:
    """The gateway's 401 for a credential that ``error`` refused."""
    return RefusedRequestError(401, "invalid_api_key", _one_line(f"not authenticated: {error}"))


def _refuse(reason: Rejection, detail: str) -> RefusedRequestError:
    return refusal(AuthenticationError(reason, detail))


# -- bearer verifiers and the chain --------------------------------------------------


@record
class Handles:
    """Which bearer credentials a verifier takes: those starting with ``prefix`` (API
    keys), or JWTs whose unverified ``iss`` is exactly ``issuer``. Exactly one is set."""

    prefix: str | None = None
    issuer: str | None = None

    def __post_init__(self) -> None:
        if (self.prefix is None) == (self.issuer is None):
            raise ConfigError("a verifier handles either a key prefix or a token issuer")
        if self.prefix == "" or self.issuer == "":
            raise ConfigError("a verifier's prefix or issuer must not be empty")


class BearerVerifier(Protocol):
    """Checks one kind of bearer credential (an :data:`Authenticator` that says which)."""

    @property
    def handles(self) -> Handles:
        """The credentials this verifier takes."""
        ...

    def __call__(self, credential: str) -> Authenticated:
        """Who ``credential`` proves; :class:`RefusedRequestError` (401) otherwise."""
        ...


class ApiKeys:
    """Ramparts API keys (``rmp_ID_SECRET``), checked against their keyed hash.

    A key that verified is remembered for ``ttl`` seconds (one by default), by the
    SHA-256 of the key, so that a client calling many times a second costs one database
    lookup a second; a revocation or expiry takes effect within that time, the same
    bound as the kill switch. Refusals are never remembered.
    """

    def __init__(
        self,
        identities: Identities,
        *,
        ttl: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
        max_cached: int = 10_000,
    ) -> None:
        self._identities = identities
        self.handles = Handles(prefix=KEY_PREFIX)
        self._ttl = ttl
        self._monotonic = monotonic
        self._max = max_cached
        self._verified: dict[bytes, tuple[float, Authenticated]] = {}

    def __call__(self, credential: str) -> Authenticated:
        """The principal the key proves; 401 if it does not (or the store cannot say)."""
        digest = hashlib.sha256(credential.encode("utf-8", "surrogatepass")).digest()
        now = self._monotonic()
        hit = self._verified.get(digest)
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        try:
            principal = self._identities.authenticate(credential)
        except AuthenticationError as exc:
            self._verified.pop(digest, None)
            raise refusal(exc) from exc
        except StoreError as exc:
            # Fail closed; the store's own message (a database address) stays server-side.
            raise _refuse(Rejection.UNAVAILABLE, "the identity store cannot be read") from exc
        if len(self._verified) >= self._max:
            self._verified.clear()
        found = Authenticated(principal)
        self._verified[digest] = (now, found)
        return found


class RampartsTokens:
    """Short-lived ramparts tokens (:class:`~ramparts.policy.tokens.Tokens`).

    ``issuer`` must be the issuer ``tokens`` was built with (``identity.issuer`` in
    the settings): :func:`chain` sends it the JWTs that claim that issuer.
    """

    def __init__(self, tokens: Tokens, *, issuer: str) -> None:
        self._tokens = tokens
        self.handles = Handles(issuer=issuer)

    def __call__(self, credential: str) -> Authenticated:
        """The principal the token proves, and whether a second factor backed it."""
        try:
            verified = self._tokens.verify(credential)
        except AuthenticationError as exc:
            raise refusal(exc) from exc
        return Authenticated(verified.principal, verified.mfa)


def _unverified_issuer(token: str) -> str:
    """The ``iss`` a compact JWS claims, read without trusting it (routing only)."""
    payload = token.split(".")[1]
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        claims = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise _refuse(Rejection.MALFORMED, "the token's claims cannot be read") from exc
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    if not isinstance(issuer, str) or not issuer:
        raise _refuse(Rejection.MISSING_CLAIM, "the token names no issuer ('iss')")
    return issuer


class _Chain:
    """One authenticator over verifiers that each take one shape of credential."""

    def __init__(self, verifiers: Iterable[BearerVerifier]) -> None:
        self._prefixes: list[tuple[str, BearerVerifier]] = []
        self._issuers: dict[str, BearerVerifier] = {}
        for verifier in verifiers:
            handles = verifier.handles
            if handles.prefix is not None:
                prefix = handles.prefix
                clash = [
                    p for p, _ in self._prefixes if p.startswith(prefix) or prefix.startswith(p)
                ]
                if clash:
                    raise ConfigError(f"key prefixes {handles.prefix!r} and {clash[0]!r} overlap")
                self._prefixes.append((handles.prefix, verifier))
            elif handles.issuer is not None:
                if handles.issuer in self._issuers:
                    raise ConfigError(f"two verifiers handle tokens of issuer {handles.issuer!r}")
                self._issuers[handles.issuer] = verifier
        if not self._prefixes and not self._issuers:
            raise ConfigError("an authentication chain needs at least one verifier")

    def route(self, credential: str) -> BearerVerifier:
        """The one verifier that takes ``credential``; 401 when none does."""
        if not isinstance(credential, str) or len(credential) > _MAX_CREDENTIAL:
            raise _refuse(Rejection.MALFORMED, "the credential is not text of a bounded size")
        for prefix, verifier in self._prefixes:
            if credential.startswith(prefix):
                return verifier
        if not _JWS.fullmatch(credential):
            raise _refuse(Rejection.MALFORMED, "not an API key or a token of an accepted kind")
        by_issuer = self._issuers.get(_unverified_issuer(credential))
        if by_issuer is None:
            raise _refuse(Rejection.WRONG_ISSUER, "tokens of this issuer are not accepted here")
        return by_issuer

    def __call__(self, credential: str) -> Authenticated:
        return self.route(credential)(credential)


def chain(*verifiers: BearerVerifier) -> Authenticator:
    """One authenticator that hands each credential to the single verifier it names.

    An API key goes to the verifier of its prefix; a JWT to the verifier of the issuer
    it claims (the claim is only a routing hint: that verifier checks it again, with
    the signature). Nothing else is tried, so a refusal is the applying verifier's
    one-line reason, and no verifier sees another's credentials. Overlapping prefixes,
    two verifiers of one issuer, or no verifier at all are configuration errors.
    """
    return _Chain(verifiers)


# -- OpenID Connect --------------------------------------------------------------------

_KEY_TYPES: dict[str, tuple[str, frozenset[str]]] = {
    **{a: ("RSA", frozenset()) for a in ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")},
    "ES256": ("EC", frozenset({"P-256"})),
    "ES384": ("EC", frozenset({"P-384"})),
    "ES512": ("EC", frozenset({"P-521"})),
    "EdDSA": ("OKP", frozenset({"Ed25519", "Ed448"})),
}
"""The JWK ``kty`` and ``crv`` each algorithm's signatures must be verified with."""

_MIN_RSA_BITS = 2048
_MAX_DOCUMENT = 512 * 1024
"""Largest discovery document or JWK Set read (real ones are a few KiB)."""
_FETCH_SECONDS = 10.0
"""Longest a discovery document or JWK Set may take to arrive, whole."""
_OIDC_REQUIRED = ("iss", "sub", "aud", "exp", "iat")

PublicKey = (
    rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | ed448.Ed448PublicKey
)


@record
class _Jwk:
    """One verification key of an identity provider."""

    kid: str
    kty: str
    crv: str | None
    alg: str | None
    key: PublicKey


class _FetchError(GatewayError):
    """The identity provider's discovery document or keys could not be fetched."""


def _check_url(url: str, what: str) -> str:
    """``url`` if it is HTTPS (or HTTP on a loopback host) without query or fragment."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    loopback = host == "localhost"
    with contextlib.suppress(ValueError):
        loopback = loopback or ipaddress.ip_address(host).is_loopback
    if not host or parts.query or parts.fragment:
        raise ConfigError(f"{what} {url!r} must be an absolute URL without query or fragment")
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise ConfigError(f"{what} {url!r} must use https (http only on a loopback host)")
    return url


def _load_jwk(item: Mapping[str, Any]) -> _Jwk | None:
    """A verification key from one JWK, or None for one that is unusable here.

    Symmetric (``oct``) keys are never loaded, nor keys carrying private members, nor
    keys not meant for signatures, nor RSA keys under 2048 bits.
    """
    kid, kty, crv, alg = item.get("kid"), item.get("kty"), item.get("crv"), item.get("alg")
    ops = item.get("key_ops")
    unusable = (
        not isinstance(kid, str)
        or not kid
        or kty not in ("RSA", "EC", "OKP")
        or "d" in item
        or item.get("use", "sig") != "sig"
        or (ops is not None and (not isinstance(ops, list) or "verify" not in ops))
        or (alg is not None and not isinstance(alg, str))
        or (crv is not None and not isinstance(crv, str))
    )
    if unusable:
        return None
    text = json.dumps(dict(item))
    try:
        if kty == "RSA":
            key: object = RSAAlgorithm.from_jwk(text)
        elif kty == "EC":
            key = ECAlgorithm.from_jwk(text)
        else:
            key = OKPAlgorithm.from_jwk(text)
    except (jwt.InvalidKeyError, ValueError, TypeError, KeyError):
        return None
    public = (rsa.RSAPublicKey, ec.EllipticCurvePublicKey, ed25519.Ed25519PublicKey,
              ed448.Ed448PublicKey)  # fmt: skip
    if not isinstance(key, public):
        return None
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < _MIN_RSA_BITS:
        return None
    return _Jwk(str(kid), str(kty), crv, alg, key)


def _parse_jwks(document: Mapping[str, Any]) -> dict[str, _Jwk]:
    """The usable keys of a JWK Set by ``kid``; a ``kid`` used twice names none."""
    items = document.get("keys")
    if not isinstance(items, list):
        raise _FetchError("the JWK Set has no 'keys' list")
    keys: dict[str, _Jwk] = {}
    twice: set[str] = set()
    for item in items:
        jwk = _load_jwk(item) if isinstance(item, dict) else None
        if jwk is None:
            continue
        if jwk.kid in keys:
            twice.add(jwk.kid)
        keys[jwk.kid] = jwk
    for kid in twice:
        del keys[kid]
    return keys


def _claim(claims: Mapping[str, Any], name: str) -> object:
    """A claim by name; ``a.b`` also reads a nested claim (Keycloak ``realm_access.roles``).

    A top-level claim of the full name wins, so namespaced claim names that contain
    dots (``https://example.com/roles``) read as they are.
    """
    if name in claims:
        return claims[name]
    value: object = claims
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _names(claims: Mapping[str, Any], name: str) -> list[str]:
    """A claim that lists names: a JSON list of strings, or one space-separated string."""
    value = _claim(claims, name)
    if value is None:
        return []
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise AuthenticationError(Rejection.MALFORMED, f"claim {name!r} is not a list of names")


class OidcVerifier:
    """Verifies JWTs of one external OpenID Connect provider against its JWK Set.

    Keycloak, Entra ID, Okta, GitHub Actions and any provider that publishes
    ``{issuer}/.well-known/openid-configuration`` (or give ``jwks_url``). Checks, in
    order: shape and size; the header (``alg`` in ``algorithms``, never ``none`` or
    HS*; a ``kid``; no ``crit``); the key the ``kid`` names, whose ``kty``/``crv`` (and
    ``alg``, when the JWK has one) must be those of the token's ``alg``; the signature
    with that one algorithm; ``iss`` exactly ``issuer``; ``aud`` holding ``audience``;
    ``exp``, ``nbf`` and ``iat`` against ``clock`` with ``leeway`` seconds.

    Keys are fetched on first use (or :meth:`refresh`) with ``http`` (by default a
    client with short timeouts that follows no redirects and reads no proxy settings
    from the environment), kept ``cache_seconds``, and fetched again early when a token
    names an unknown ``kid``, at most once per ``refetch_seconds`` however many such
    tokens arrive. A provider that cannot be reached means no token is accepted (there
    is no fallback to stale keys); the failure is remembered for ``refetch_seconds``.
    Fetching is synchronous: the gateway waits at most the client's timeouts, at most
    once per ``refetch_seconds``.

    The principal: id ``oidc:{iss}#{sub}`` (also its name), of ``kind``. Its roles are
    the values of ``role_claim`` (a list, or a space-separated string; ``a.b`` reads a
    nested claim) that ``role_map`` maps to ramparts roles: a provider role not in the
    map is dropped, and without a map no role is granted, so a provider never grants
    a ramparts role that was not configured. Its teams are the values of
    ``team_claim``, through ``team_map`` when one is given (unmapped teams dropped),
    else as they are (names that are not team names dropped); a token with no team
    left is refused, never taken as organisation-wide. Without ``team_claim`` the
    principal has no teams, which ramparts reads as organisation-wide. ``mfa`` is true
    when ``amr`` holds ``mfa``, ``otp`` or ``hwk``.
    """

    def __init__(
        self,
        issuer: str,
        audience: str,
        *,
        clock: Clock,
        jwks_url: str | None = None,
        algorithms: Iterable[str] = ("RS256", "ES256", "EdDSA"),
        leeway: float = 30,
        role_claim: str = "roles",
        team_claim: str | None = None,
        role_map: Mapping[str, str] | None = None,
        team_map: Mapping[str, str] | None = None,
        kind: PrincipalKind = PrincipalKind.HUMAN,
        http: httpx.Client | None = None,
        cache_seconds: float = 300,
        refetch_seconds: float = 30,
    ) -> None:
        self._issuer = _check_url(issuer, "the OIDC issuer")
        if not audience:
            raise ConfigError("an OIDC verifier needs the audience its tokens are for")
        self._audience = audience
        self._jwks_url = _check_url(jwks_url, "the JWKS URL") if jwks_url else None
        if isinstance(algorithms, str):
            raise ConfigError("algorithms must be a list of names, not one string")
        self._algorithms = frozenset(algorithms)
        refused = sorted(a for a in self._algorithms if a.lower() == "none" or a.startswith("HS"))
        if refused:
            raise ConfigError(f"algorithm(s) {', '.join(refused)} are never accepted for OIDC")
        unknown = sorted(self._algorithms - OIDC_ALGORITHMS)
        if unknown or not self._algorithms:
            allowed = ", ".join(sorted(OIDC_ALGORITHMS))
            raise ConfigError(f"OIDC algorithms must be some of {allowed}")
        if not 0 <= leeway <= MAX_LEEWAY.total_seconds():
            raise ConfigError(f"the OIDC leeway must be 0 to {MAX_LEEWAY.total_seconds():g} s")
        if not 0 < refetch_seconds <= cache_seconds:
            raise ConfigError("refetch_seconds must be over 0 and at most cache_seconds")
        if not role_claim or team_claim == "":
            raise ConfigError("role_claim and team_claim must not be empty")
        for what, table, pattern in (("role", role_map, _ROLE), ("team", team_map, _TEAM)):
            for theirs, ours in (table or {}).items():
                if not isinstance(theirs, str) or not isinstance(ours, str) or not theirs:
                    raise ConfigError(f"the OIDC {what} map must map names to names")
                if not pattern.fullmatch(ours):
                    raise ConfigError(f"{ours!r} is not a ramparts {what} name")
        self._leeway = float(leeway)
        self._role_claim, self._team_claim = role_claim, team_claim
        self._role_map = dict(role_map or {})
        self._team_map = dict(team_map) if team_map is not None else None
        self._kind = kind
        self._clock = clock
        self._http = http or httpx.Client(
            timeout=httpx.Timeout(5.0, connect=3.0), follow_redirects=False, trust_env=False
        )
        self._cache_seconds = cache_seconds
        self._refetch_seconds = refetch_seconds
        self._lock = threading.Lock()
        self._keys: dict[str, _Jwk] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._error = ""
        self.handles = Handles(issuer=issuer)

    @property
    def issuer(self) -> str:
        """The issuer whose tokens this verifier takes."""
        return self._issuer

    # -- keys ----------------------------------------------------------------------

    def _get_json(self, url: str) -> dict[str, Any]:
        """A JSON object from ``url``, bounded in size; :class:`_FetchError` otherwise."""
        body = bytearray()
        # httpx times each read; this bounds the whole answer (a server could trickle).
        deadline = time.monotonic() + _FETCH_SECONDS
        try:
            with self._http.stream("GET", url, headers={"accept": "application/json"}) as reply:
                if reply.status_code != 200:
                    raise _FetchError(f"{url} answered HTTP {reply.status_code}")
                for chunk in reply.iter_bytes():
                    body += chunk
                    if len(body) > _MAX_DOCUMENT:
                        raise _FetchError(f"{url} sent more than {_MAX_DOCUMENT} bytes")
                    if time.monotonic() > deadline:
                        raise _FetchError(f"{url} took more than {_FETCH_SECONDS:g} s to answer")
        except httpx.HTTPError as exc:
            reason = str(exc) or type(exc).__name__
            raise _FetchError(f"{url} cannot be reached: {reason}") from exc
        try:
            document = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise _FetchError(f"{url} did not send JSON") from exc
        if not isinstance(document, dict):
            raise _FetchError(f"{url} did not send a JSON object")
        return document

    def _discover(self) -> str:
        """The JWKS URL: given, or from the discovery document (whose issuer must match)."""
        if self._jwks_url is not None:
            return self._jwks_url
        document = self._get_json(self._issuer.rstrip("/") + "/.well-known/openid-configuration")
        if document.get("issuer") != self._issuer:
            raise _FetchError("the discovery document names another issuer")
        url = document.get("jwks_uri")
        if not isinstance(url, str):
            raise _FetchError("the discovery document has no jwks_uri")
        try:
            self._jwks_url = _check_url(url, "jwks_uri")
        except ConfigError as exc:
            raise _FetchError(str(exc)) from exc
        return self._jwks_url

    def _fetch(self, now: float) -> None:
        """Fetch the keys now (the caller holds the lock)."""
        self._attempted_at = now
        try:
            self._keys = _parse_jwks(self._get_json(self._discover()))
        except _FetchError as exc:
            self._error = _one_line(str(exc))
            raise
        self._fetched_at, self._error = now, ""

    def refresh(self) -> None:
        """Fetch the provider's keys now (say at startup); :class:`GatewayError` if it fails."""
        with self._lock:
            try:
                self._fetch(self._clock.now().timestamp())
            except _FetchError as exc:
                raise GatewayError(f"the keys of {self._issuer} cannot be fetched: {exc}") from exc

    def _key(self, kid: str) -> _Jwk:
        """The key ``kid`` names, fetching the keys when stale or when ``kid`` is new."""
        with self._lock:
            now = self._clock.now().timestamp()
            fresh = self._fetched_at is not None and now - self._fetched_at < self._cache_seconds
            if fresh and kid in self._keys:
                return self._keys[kid]
            if self._attempted_at is None or now - self._attempted_at >= self._refetch_seconds:
                # A failure is remembered in self._error and told below.
                with contextlib.suppress(_FetchError):
                    self._fetch(now)
            if self._fetched_at is None or now - self._fetched_at >= self._cache_seconds:
                raise AuthenticationError(
                    Rejection.UNAVAILABLE,
                    f"the keys of {self._issuer} cannot be fetched: {self._error or 'not yet'}",
                )
            key = self._keys.get(kid)
        if key is None:
            raise AuthenticationError(
                Rejection.UNKNOWN_KEY, f"{self._issuer} publishes no usable key {kid!r}"
            )
        return key

    # -- tokens --------------------------------------------------------------------

    def _header(self, token: str) -> tuple[str, str]:
        """Steps (1) and (2): shape, then the algorithm and key id from the header."""
        if not isinstance(token, str) or len(token) > _MAX_CREDENTIAL or not _JWS.fullmatch(token):
            raise AuthenticationError(Rejection.MALFORMED, "not a compact JWS of bounded size")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise AuthenticationError(
                Rejection.MALFORMED, f"the header cannot be read: {exc}"
            ) from exc
        alg = header.get("alg")
        if isinstance(alg, str) and (alg.lower() == "none" or alg.upper().startswith("HS")):
            raise AuthenticationError(
                Rejection.ALGORITHM, f"algorithm {alg!r} is never accepted (unsigned or symmetric)"
            )
        if alg not in self._algorithms:
            raise AuthenticationError(
                Rejection.ALGORITHM,
                f"algorithm {alg!r} is not accepted (only {', '.join(sorted(self._algorithms))})",
            )
        if "crit" in header:
            raise AuthenticationError(Rejection.MALFORMED, "critical extensions are not supported")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthenticationError(Rejection.MALFORMED, "the header names no key (kid)")
        return str(alg), kid

    def _claims(self, token: str, alg: str, key: _Jwk) -> dict[str, Any]:
        """Steps (3) and (4): the key fits the algorithm; signature, issuer, audience."""
        kty, curves = _KEY_TYPES[alg]
        if key.kty != kty or (curves and key.crv not in curves) or key.alg not in (None, alg):
            raise AuthenticationError(
                Rejection.ALGORITHM,
                f"key {key.kid} is {' '.join(filter(None, (key.kty, key.crv)))}"
                f"{f' for {key.alg}' if key.alg else ''}, the token says {alg}",
            )
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                audience=self._audience,
                issuer=self._issuer,
                options={
                    "require": list(_OIDC_REQUIRED),
                    "verify_exp": False,  # checked against our clock in (5)
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.InvalidTokenError as exc:
            raise pyjwt_rejection(exc) from exc
        # Checked again here, not left to the library: some PyJWT releases compared
        # ``iss`` as a substring (CVE-2024-53861).
        audience = claims["aud"]
        if claims["iss"] != self._issuer:
            raise AuthenticationError(Rejection.WRONG_ISSUER, "the token is from another issuer")
        if audience != self._audience and not (
            isinstance(audience, list) and self._audience in audience
        ):
            raise AuthenticationError(Rejection.WRONG_AUDIENCE, "the token is for another audience")
        return claims

    def _check_times(self, claims: Mapping[str, Any]) -> None:
        """Step (5): ``exp``, ``nbf`` (when present) and ``iat`` with the leeway."""
        now = self._clock.now().timestamp()
        exp, iat = numeric_date(claims, "exp"), numeric_date(claims, "iat")
        if now >= exp + self._leeway:
            raise AuthenticationError(Rejection.EXPIRED, f"the token expired at {stamp(exp)}")
        if "nbf" in claims and (nbf := numeric_date(claims, "nbf")) > now + self._leeway:
            raise AuthenticationError(
                Rejection.NOT_YET_VALID, f"the token is not valid before {stamp(nbf)}"
            )
        if iat > now + self._leeway:
            raise AuthenticationError(
                Rejection.NOT_YET_VALID, f"the token was issued in the future ({stamp(iat)})"
            )

    def _teams(self, claims: Mapping[str, Any]) -> tuple[str, ...]:
        if self._team_claim is None:
            return ()
        theirs = _names(claims, self._team_claim)
        if self._team_map is not None:
            teams = {self._team_map[t] for t in theirs if t in self._team_map}
        else:
            teams = {t for t in theirs if _TEAM.fullmatch(t)}
        if not teams:
            raise AuthenticationError(
                Rejection.MISSING_CLAIM,
                f"the token names no accepted team in {self._team_claim!r}",
            )
        return tuple(sorted(teams))

    def _principal(self, claims: Mapping[str, Any]) -> Authenticated:
        """Step (6): the principal and second factor the claims describe."""
        subject = claims["sub"]
        if not isinstance(subject, str) or not subject:
            raise AuthenticationError(Rejection.MALFORMED, "claim 'sub' is not a non-empty string")
        roles = {self._role_map[r] for r in _names(claims, self._role_claim) if r in self._role_map}
        amr = set(_names(claims, "amr"))
        identity = f"oidc:{self._issuer}#{subject}"
        principal = Principal(
            id=identity,
            name=identity,
            kind=self._kind,
            roles=tuple(sorted(roles)),
            teams=self._teams(claims),
        )
        return Authenticated(principal, mfa=bool(amr & _MFA_METHODS))

    def verify(self, token: str) -> Authenticated:
        """Who ``token`` proves; :class:`AuthenticationError` with the reason otherwise."""
        alg, kid = self._header(token)
        claims = self._claims(token, alg, self._key(kid))
        self._check_times(claims)
        return self._principal(claims)

    def __call__(self, credential: str) -> Authenticated:
        """:meth:`verify` as an authenticator: 401 with the one-line reason."""
        try:
            return self.verify(credential)
        except AuthenticationError as exc:
            raise refusal(exc) from exc

    def close(self) -> None:
        """Close the HTTP client (also one that was passed in)."""
        self._http.close()


# -- client certificates ----------------------------------------------------------

_MAX_CERT_HEADER = 16_384


def _peer(scope: Scope) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    client = scope.get("client")
    if not client:
        return None
    try:
        return ipaddress.ip_address(client[0])
    except (ValueError, TypeError, IndexError):
        return None


def _certificate_names(cert: x509.Certificate) -> tuple[list[str], x509.Name]:
    """The certificate's URI SANs (SPIFFE ids and the like) and its subject."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    except x509.ExtensionNotFound:
        uris = []
    except ValueError as exc:  # a malformed or duplicated extension
        raise _refuse(Rejection.MALFORMED, "the client certificate's extensions are bad") from exc
    return uris, cert.subject


class ClientCertificates:
    """Identities proven by mTLS client certificates, mapped to ramparts identities.

    ``mapping`` maps a certificate to an identity name: by a URI SAN
    (``spiffe://example.org/ns/prod/sa/batch``, compared exactly) or by the subject
    distinguished name in RFC 4514 form as ``openssl x509 -noout -subject -nameopt
    RFC2253`` prints it (``CN=batch,O=Example``: upper-case attribute names, no space
    after commas), parsed when the mapping is built and compared as a parsed name. A
    certificate whose names map to no identity, or to two, is refused; so is an
    expired one, or one of a revoked identity.

    Where the certificate comes from, first match wins:

    1. the ASGI TLS extension (``scope["extensions"]["tls"]["client_cert_chain"][0]``),
       from a server that verified the client certificate itself. uvicorn does not
       implement this extension (0.54 has none in its HTTP scopes), so under uvicorn
       only the next source applies;
    2. ``header`` (for example ``x-client-cert``) set by a TLS-terminating proxy in
       front that verified the certificate, holding it as URL-encoded PEM (nginx
       ``$ssl_client_escaped_cert``, Envoy ``%DOWNSTREAM_PEER_CERT%``). The header is
       believed only from the addresses in ``trusted_proxies``; from any other
       address it is refused, never ignored. The proxy must verify the chain against
       your CA and overwrite the header on every request, since whoever can send it
       from a trusted address can claim any certificate.

    :meth:`identify` returns None when no certificate was presented.
    """

    def __init__(
        self,
        mapping: Mapping[str, str],
        *,
        identities: Identities,
        clock: Clock,
        header: str | None = None,
        trusted_proxies: Iterable[str] = (),
    ) -> None:
        if not mapping:
            raise ConfigError("a client-certificate mapping that is empty identifies no one")
        self._uris: dict[str, str] = {}
        self._subjects: list[tuple[x509.Name, str]] = []
        for name, identity in mapping.items():
            if not isinstance(identity, str) or not identity:
                raise ConfigError(f"certificate {name!r} must map to an identity name")
            if _URI_KEY.match(name):
                self._uris[name] = identity
                continue
            try:
                self._subjects.append((x509.Name.from_rfc4514_string(name), identity))
            except ValueError as exc:
                raise ConfigError(
                    f"{name!r} is neither a URI nor an RFC 4514 distinguished name"
                ) from exc
        if isinstance(trusted_proxies, str):
            raise ConfigError("trusted_proxies must be a list of addresses, not one string")
        try:
            self._proxies = [ipaddress.ip_network(p, strict=False) for p in trusted_proxies]
        except ValueError as exc:
            raise ConfigError(f"a trusted proxy is not an address or network: {exc}") from exc
        if (header is None) != (not self._proxies):
            raise ConfigError("a client-certificate header and trusted proxies go together")
        self._header = header.lower().encode("latin-1") if header else None
        self._identities = identities
        self._clock = clock

    def _from_header(self, scope: Scope) -> str | None:
        values = [v for k, v in scope.get("headers", ()) if k.lower() == self._header]
        if not values:
            return None
        peer = _peer(scope)
        if peer is None or not any(peer in network for network in self._proxies):
            raise _refuse(
                Rejection.MALFORMED,
                f"a client-certificate header came from {peer or 'an unknown address'}, "
                "which is not a trusted proxy",
            )
        if len(values) > 1:
            raise _refuse(Rejection.MALFORMED, "more than one client-certificate header")
        value = values[0].decode("latin-1").strip()
        if len(value) > _MAX_CERT_HEADER:
            raise _refuse(Rejection.MALFORMED, "the client-certificate header is too large")
        # A proxy sends the header empty when the client presented no certificate.
        return unquote(value) if value else None

    def _presented(self, scope: Scope) -> str | None:
        """The PEM of the client certificate, if one was presented."""
        extensions = scope.get("extensions") or {}
        tls = extensions.get("tls") if isinstance(extensions, dict) else None
        if isinstance(tls, dict):
            if tls.get("client_cert_error"):
                raise _refuse(Rejection.BAD_SIGNATURE, "the client certificate did not verify")
            chain = list(tls.get("client_cert_chain") or ())
            if chain:
                return str(chain[0])
        return self._from_header(scope) if self._header is not None else None

    def _identity_name(self, cert: x509.Certificate) -> str:
        uris, subject = _certificate_names(cert)
        names = {self._uris[u] for u in uris if u in self._uris}
        names |= {identity for name, identity in self._subjects if name == subject}
        if not names:
            raise _refuse(
                Rejection.UNKNOWN_KEY,
                f"client certificate {_one_line(subject.rfc4514_string(), 120)} "
                "is not mapped to an identity",
            )
        if len(names) > 1:
            raise _refuse(Rejection.MALFORMED, "the client certificate maps to several identities")
        return names.pop()

    def identify(self, scope: Scope) -> Authenticated | None:
        """The identity the request's client certificate proves; None if none was presented.

        Raises :class:`RefusedRequestError` (401) for a certificate that was presented
        but is not accepted, or a certificate header from an untrusted address.
        """
        pem = self._presented(scope)
        if pem is None:
            return None
        try:
            cert = x509.load_pem_x509_certificate(pem.encode("latin-1"))
        except (ValueError, UnicodeEncodeError) as exc:
            raise _refuse(Rejection.MALFORMED, "the client certificate cannot be read") from exc
        now = self._clock.now()
        if now >= cert.not_valid_after_utc:
            raise _refuse(Rejection.EXPIRED, "the client certificate has expired")
        if now < cert.not_valid_before_utc:
            raise _refuse(Rejection.NOT_YET_VALID, "the client certificate is not valid yet")
        name = self._identity_name(cert)
        try:
            identity = self._identities.get(name)
        except IdentityError as exc:
            raise _refuse(Rejection.UNKNOWN_KEY, f"no identity {name!r}") from exc
        except StoreError as exc:
            raise _refuse(Rejection.UNAVAILABLE, "the identity store cannot be read") from exc
        if identity.revoked:
            raise _refuse(Rejection.IDENTITY_REVOKED, f"identity {name!r} is revoked")
        # A certificate is one factor (something held), not a second one.
        return Authenticated(identity.principal())


# -- the OAuth 2.0 client-credentials endpoint ------------------------------------

_FORM = "application/x-www-form-urlencoded"
_MAX_FORM = 8192
_MAX_FIELDS = 16
_NO_STORE = [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]


class _OAuthError(GatewayError):
    """A refused token request (RFC 6749 section 5.2); ``reason`` is for the audit log."""

    def __init__(
        self,
        status: int,
        error: str,
        description: str,
        *,
        reason: str = "",
        client_id: str = "",
        actor: str = "anonymous",
    ) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description
        self.reason = reason or description
        self.client_id = client_id
        self.actor = actor


def _invalid_client(reason: str, client_id: str = "") -> _OAuthError:
    # One description for every way client authentication fails; the audit log says which.
    return _OAuthError(401, "invalid_client", "client authentication failed",
                       reason=reason, client_id=client_id)  # fmt: skip


@record
class _Grant:
    """A token request that passed every check up to issuing."""

    client_id: str
    secret: str
    method: str


async def _read_form(receive: Receive) -> dict[str, str]:
    try:
        body = await read_body(receive, _MAX_FORM)
    except RefusedRequestError as exc:  # in RFC 6749's words: every such error is this one
        raise _OAuthError(exc.status, "invalid_request", str(exc)) from exc
    try:
        pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True,
                          max_num_fields=_MAX_FIELDS, errors="strict")  # fmt: skip
    except (UnicodeDecodeError, ValueError) as exc:
        raise _OAuthError(400, "invalid_request", "the body is not a valid form") from exc
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise _OAuthError(400, "invalid_request", "a parameter is repeated")
        # RFC 6749 section 3.2: a parameter without a value is treated as omitted.
        if value:
            form[name] = value
    return form


def _basic(authorization: str) -> tuple[str, str]:
    """client_id and secret from HTTP Basic, each form-decoded (RFC 6749 section 2.3.1)."""
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        raise _invalid_client("the Authorization header is not HTTP Basic")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError) as exc:
        raise _invalid_client("the Basic credentials cannot be decoded") from exc
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise _invalid_client("the Basic credentials have no secret")
    return unquote_plus(client_id), unquote_plus(secret)


class ClientCredentialsEndpoint:
    """An OAuth 2.0 client-credentials token endpoint (RFC 6749 section 4.4), pure ASGI.

    ``POST`` a form with ``grant_type=client_credentials``; the client authenticates
    with HTTP Basic or with ``client_id`` and ``client_secret`` form fields (one of
    the two, not both): the client id is the identity's name, the secret one of its
    ramparts API keys. Only service identities get tokens. The answer is
    ``{"access_token", "token_type": "Bearer", "expires_in"}``, a ramparts token from
    :meth:`~ramparts.policy.tokens.Tokens.issue`; errors follow RFC 6749 section 5.2
    (``invalid_request``, ``invalid_client`` with 401 and ``WWW-Authenticate``,
    ``unauthorized_client``, ``unsupported_grant_type``, ``invalid_scope``; ``scope``
    is refused because a token carries the identity's roles, no fewer). Every answer
    has ``Cache-Control: no-store``.

    Each issue and each refusal is sent to ``audit`` before the answer; if it cannot
    be recorded, no token is handed out (503 ``temporarily_unavailable``).
    """

    def __init__(
        self, identities: Identities, tokens: Tokens, *, audit: AuditSink, clock: Clock
    ) -> None:
        self._identities = identities
        self._tokens = tokens
        self._audit = audit
        self._clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI scope (``http``; ``lifespan`` is acknowledged)."""
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        request_id = headers.get("x-request-id") or new_id()
        grant: _Grant | None = None
        try:
            grant = await self._grant(scope, receive, headers)
            body = await self._issue(grant, scope, request_id)
        except _OAuthError as error:
            await self._refused(send, error, scope, request_id, grant)
            return
        except (AuditError, StoreError):
            await _oauth_error(send, _unavailable())
            return
        await _send_json(send, 200, body)

    async def _grant(self, scope: Scope, receive: Receive, headers: Mapping[str, str]) -> _Grant:
        """The checks of the request itself, before any credential is looked at."""
        if scope.get("method") != "POST":
            raise _OAuthError(405, "invalid_request", "use POST")
        if "client_secret" in dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"))):
            raise _OAuthError(400, "invalid_request", "credentials never go in the URL")
        media = headers.get("content-type", "").split(";")[0].strip().lower()
        if media != _FORM:
            raise _OAuthError(400, "invalid_request", f"send the parameters as {_FORM}")
        form = await _read_form(receive)
        grant_type = form.get("grant_type")
        if grant_type is None:
            raise _OAuthError(400, "invalid_request", "grant_type is missing")
        if grant_type != "client_credentials":
            raise _OAuthError(400, "unsupported_grant_type", "only client_credentials is supported")
        if "scope" in form:
            raise _OAuthError(
                400, "invalid_scope", "scopes are not supported: a token has the identity's roles"
            )
        in_form = "client_id" in form or "client_secret" in form
        if "authorization" in headers:
            if in_form:
                raise _OAuthError(400, "invalid_request", "use one client authentication method")
            client_id, secret = _basic(headers["authorization"])
            method = "basic"
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
            method = "form"
        if not client_id or not secret:
            raise _invalid_client("no client credentials", client_id)
        return _Grant(client_id, secret, method)

    async def _issue(self, grant: _Grant, scope: Scope, request_id: str) -> dict[str, Any]:
        """Authenticate the client, issue its token, record it; the answer's body."""
        try:
            principal = self._identities.authenticate(grant.secret)
        except AuthenticationError as exc:
            raise _invalid_client(str(exc), grant.client_id) from exc
        if not hmac.compare_digest(principal.name.encode(), grant.client_id.encode()):
            raise _invalid_client("the API key belongs to another identity", grant.client_id)
        if principal.kind is not PrincipalKind.SERVICE:
            raise _OAuthError(400, "unauthorized_client",
                              "only service identities may use the client-credentials grant",
                              client_id=grant.client_id, actor=principal.id)  # fmt: skip
        try:
            identity = self._identities.get(grant.client_id)
        except IdentityError as exc:
            raise _invalid_client(str(exc), grant.client_id) from exc
        if identity.id != principal.id:
            raise _invalid_client("the identity changed while its key was checked", grant.client_id)
        try:
            issued = self._tokens.issue(identity, actor=identity.id)
        except IdentityError as exc:
            raise _invalid_client(str(exc), grant.client_id) from exc
        await self._audit(
            Event(
                actor=identity.id,
                action="gateway.oauth.token",
                resource=f"identity:{identity.name}",
                outcome=Outcome.SUCCESS,
                time=self._clock.now(),
                request_id=request_id,
                details={
                    "grant_type": "client_credentials",
                    "client_id": identity.name,
                    "auth_method": grant.method,
                    "jti": issued.jti,
                    "expires_at": issued.expires_at.isoformat(),
                    "client": _client_address(scope),
                },
            )
        )
        lifetime = int((issued.expires_at - issued.issued_at).total_seconds())
        return {"access_token": issued.token, "token_type": "Bearer", "expires_in": lifetime}

    async def _refused(
        self, send: Send, error: _OAuthError, scope: Scope, request_id: str, grant: _Grant | None
    ) -> None:
        """Record a refusal, then answer it (503 instead if it cannot be recorded)."""
        client_id = _one_line(error.client_id or (grant.client_id if grant else ""), 128)
        event = Event(actor=error.actor, action="gateway.oauth.token", resource="oauth:token",
                      outcome=Outcome.DENIED, time=self._clock.now(),
                      reason=f"{error.error}: {_one_line(error.reason)}", request_id=request_id,
                      details={"client_id": client_id, "error": error.error,
                               "client": _client_address(scope)})  # fmt: skip
        try:
            await self._audit(event)
        except AuditError:
            error = _unavailable()
        await _oauth_error(send, error)


def _unavailable() -> _OAuthError:
    return _OAuthError(503, "temporarily_unavailable", "the token service is unavailable")


def _client_address(scope: Scope) -> str | None:
    peer = _peer(scope)
    return str(peer) if peer is not None else None


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _send_json(
    send: Send, status: int, document: Mapping[str, Any], extra: Iterable[tuple[bytes, bytes]] = ()
) -> None:
    payload = json.dumps(document).encode()
    headers = [(b"content-type", b"application/json"),
               (b"content-length", str(len(payload)).encode()), *_NO_STORE, *extra]  # fmt: skip
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def _oauth_error(send: Send, error: _OAuthError) -> None:
    extra: list[tuple[bytes, bytes]] = []
    if error.status == 401:
        extra.append((b"www-authenticate", b'Basic realm="ramparts", charset="UTF-8"'))
    elif error.status == 405:
        extra.append((b"allow", b"POST"))
    body = {"error": error.error, "error_description": error.description}
    await _send_json(send, error.status, body, extra)


def with_token_endpoint(app: ASGIApp, endpoint: ASGIApp, *, path: str = TOKEN_PATH) -> ASGIApp:
    """``app`` with ``endpoint`` answering HTTP requests to exactly ``path``.

    Everything else, the lifespan included, goes to ``app``.
    """

    async def dispatch(
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        if scope["type"] == "http" and scope.get("path") == path:
            await endpoint(scope, receive, send)
        else:
            await app(scope, receive, send)

    return dispatch
