"""Gateway authentication: OIDC tokens, the credential chain, client certificates, and
the OAuth 2.0 client-credentials endpoint.

Every key and certificate is generated here. The identity provider is an
``httpx.MockTransport`` that counts what it serves and can go down; identities, API
keys and ramparts tokens are the real ones over SQLite; the token endpoint and the
gateway are exercised over real HTTP (an ASGI transport, and uvicorn).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import jwt
import pytest
import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from ramparts.core.clock import FrozenClock
from ramparts.core.interface import Event, Outcome
from ramparts.core.types import PrincipalKind
from ramparts.errors import AuditError, ConfigError
from ramparts.gateway.app import Gateway
from ramparts.gateway.auth import (
    TOKEN_PATH,
    ApiKeys,
    BearerVerifier,
    ClientCertificates,
    ClientCredentialsEndpoint,
    Handles,
    OidcVerifier,
    RampartsTokens,
    chain,
    with_token_endpoint,
)
from ramparts.gateway.config import GatewayConfig, Route
from ramparts.gateway.guards import LayerGuards
from ramparts.gateway.interface import Authenticated, GatewayError, RefusedRequestError
from ramparts.gateway.killswitch import Kill, KillScope, KillSwitch
from ramparts.gateway.mock import MockUpstream
from ramparts.gateway.ratelimit import MemoryRateLimiter
from ramparts.policy.apikeys import PEPPER_FILE, KeyHasher
from ramparts.policy.engine import PolicyEngine
from ramparts.policy.identities import Identities
from ramparts.policy.identity_types import AuthenticationError, Rejection
from ramparts.policy.revocations import SqlRevocations
from ramparts.policy.roles import load_roles
from ramparts.policy.token_keys import TokenKeys
from ramparts.policy.tokens import Tokens
from ramparts.store import create_engine, upgrade

START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
NOW = int(START.timestamp())
ISSUER = "https://idp.example.test/realms/main"
AUDIENCE = "ramparts-gateway"
RAMPARTS_ISSUER = "https://ramparts.test"
DISCOVERY = "/realms/main/.well-known/openid-configuration"
CERTS = "/realms/main/protocol/openid-connect/certs"
ROLE_MAP = {"gw-user": "model-consumer"}
# RFC 6749 appendix A.7: the characters an error_description may hold.
DESCRIPTION_CHARS = {chr(c) for c in (0x20, 0x21, *range(0x23, 0x5C), *range(0x5D, 0x7F))}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict[str, Any], claims: dict[str, Any], sign: Any = None) -> str:
    """A compact JWS built by hand; ``sign(signing_input) -> bytes`` or an empty signature."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = sign(signing_input.encode()) if sign else b""
    return f"{signing_input}.{b64(signature)}"


def one_line(refused: RefusedRequestError) -> str:
    text = str(refused)
    assert refused.status == 401
    assert refused.code == "invalid_api_key"
    assert "\n" not in text
    assert text.startswith("not authenticated: credential rejected (")
    return text


# -- an identity provider --------------------------------------------------------------


@dataclass
class Provider:
    """An OIDC provider: discovery document and JWKS, with keys made here."""

    keys: dict[str, Any] = field(default_factory=dict)
    published: list[str] = field(default_factory=list)
    extra_jwks: list[dict[str, Any]] = field(default_factory=list)
    hits: Counter[str] = field(default_factory=Counter)
    down: bool = False
    status: int = 200
    discovery_issuer: str = ISSUER
    padding: int = 0

    def add(self, kid: str, key: Any, *, publish: bool = True) -> None:
        self.keys[kid] = key
        if publish:
            self.published.append(kid)

    def jwk(self, kid: str) -> dict[str, Any]:
        public = self.keys[kid].public_key()
        if isinstance(public, rsa.RSAPublicKey):
            members = RSAAlgorithm.to_jwk(public, as_dict=True)
        elif isinstance(public, ec.EllipticCurvePublicKey):
            members = ECAlgorithm.to_jwk(public, as_dict=True)
        else:
            members = OKPAlgorithm.to_jwk(public, as_dict=True)
        return {**members, "kid": kid, "use": "sig"}

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.hits[request.url.path] += 1
        if self.down:
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        if self.status != 200:
            return httpx.Response(self.status, text="upstream trouble")
        if request.url.path == DISCOVERY:
            return httpx.Response(200, json={"issuer": self.discovery_issuer,
                                             "jwks_uri": ISSUER + "/protocol/openid-connect/certs"})  # fmt: skip
        if request.url.path == CERTS:
            keys = [self.jwk(kid) for kid in self.published] + self.extra_jwks
            return httpx.Response(200, json={"keys": keys, "padding": "x" * self.padding})
        return httpx.Response(404)

    def sign(self, kid: str, *, alg: str = "RS256", header: dict[str, Any] | None = None,
             **claims: Any) -> str:  # fmt: skip
        body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "iat": NOW, "exp": NOW + 300,
                "roles": ["gw-user", "realm-admin"], "groups": ["fraud"],
                "amr": ["pwd", "otp"], **claims}  # fmt: skip
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode(
            body, self.keys[kid], algorithm=alg, headers={"kid": kid, **(header or {})}
        )

    @property
    def fetches(self) -> int:
        return self.hits[CERTS]


@pytest.fixture(scope="module")
def idp_keys() -> dict[str, Any]:
    return {
        "rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "ec": ec.generate_private_key(ec.SECP256R1()),
        "ed": ed25519.Ed25519PrivateKey.generate(),
        # Deliberately weak: a JWKS may publish it, the verifier must never use it.
        "rsa-1024": rsa.generate_private_key(public_exponent=65537, key_size=1024),  # noqa: S505
        "rotated": rsa.generate_private_key(public_exponent=65537, key_size=2048),
    }


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def provider(idp_keys: dict[str, Any]) -> Provider:
    idp = Provider()
    for kid in ("rsa", "ec", "ed", "rsa-1024"):
        idp.add(kid, idp_keys[kid])
    idp.add("rotated", idp_keys["rotated"], publish=False)
    return idp


def make_verifier(provider: Provider, clock: FrozenClock, **options: Any) -> OidcVerifier:
    settings: dict[str, Any] = {"role_map": ROLE_MAP, "team_claim": "groups"}
    http = httpx.Client(transport=httpx.MockTransport(provider.handler))
    return OidcVerifier(ISSUER, AUDIENCE, clock=clock, http=http, **{**settings, **options})


@pytest.fixture
def oidc(provider: Provider, clock: FrozenClock) -> Iterator[OidcVerifier]:
    verifier = make_verifier(provider, clock)
    yield verifier
    verifier.close()


def rejection(verifier: OidcVerifier, token: str) -> tuple[Rejection, str]:
    with pytest.raises(RefusedRequestError) as info:
        verifier(token)
    text = one_line(info.value)
    cause = info.value.__cause__
    assert isinstance(cause, AuthenticationError)
    return cause.reason, text


# -- OIDC: tokens that verify ---------------------------------------------------------


@pytest.mark.parametrize(("kid", "alg"), [("rsa", "RS256"), ("ec", "ES256"), ("ed", "EdDSA")])
def test_valid_provider_tokens_authenticate(
    oidc: OidcVerifier, provider: Provider, kid: str, alg: str
) -> None:
    who = oidc(provider.sign(kid, alg=alg))
    assert who.principal.id == f"oidc:{ISSUER}#alice"
    assert who.principal.kind is PrincipalKind.HUMAN
    # realm-admin is not in the role map: the provider cannot grant it.
    assert who.principal.roles == ("model-consumer",)
    assert who.principal.teams == ("fraud",)
    assert who.mfa is True
    # Discovery once, keys once; the next token uses the cache.
    oidc(provider.sign(kid, alg=alg, sub="bob"))
    assert (provider.hits[DISCOVERY], provider.fetches) == (1, 1)


def test_an_explicit_jwks_url_skips_discovery(provider: Provider, clock: FrozenClock) -> None:
    verifier = make_verifier(provider, clock, jwks_url=ISSUER + "/protocol/openid-connect/certs")
    assert verifier(provider.sign("rsa")).principal.roles == ("model-consumer",)
    assert (provider.hits[DISCOVERY], provider.fetches) == (0, 1)


def test_roles_not_in_the_role_map_are_dropped(provider: Provider, clock: FrozenClock) -> None:
    token = provider.sign("rsa", roles=["gw-user", "realm-admin", "admin"])
    # No map, or an empty one: no role at all, whatever the provider says.
    assert make_verifier(provider, clock, role_map=None)(token).principal.roles == ()
    assert make_verifier(provider, clock, role_map={})(token).principal.roles == ()
    mapped = make_verifier(provider, clock, role_map={"gw-user": "model-consumer",
                                                      "realm-admin": "auditor"})  # fmt: skip
    assert mapped(token).principal.roles == ("auditor", "model-consumer")
    # Keycloak keeps realm roles in a nested claim; a space-separated string also reads.
    nested = make_verifier(provider, clock, role_claim="realm_access.roles")
    keycloak = provider.sign("rsa", roles=None, realm_access={"roles": ["gw-user"]})
    assert nested(keycloak).principal.roles == ("model-consumer",)
    assert mapped(provider.sign("rsa", roles="gw-user realm-admin")).principal.roles == (
        "auditor", "model-consumer")  # fmt: skip
    with pytest.raises(ConfigError, match="not a ramparts role name"):
        make_verifier(provider, clock, role_map={"gw-user": "model consumer!"})


def test_teams_come_from_the_team_claim_and_never_default_to_everything(
    oidc: OidcVerifier, provider: Provider, clock: FrozenClock
) -> None:
    assert oidc(provider.sign("rsa", groups=["fraud", "Not A Team"])).principal.teams == ("fraud",)
    for groups in (None, [], ["/Only Paths"]):
        reason, text = rejection(oidc, provider.sign("rsa", groups=groups))
        assert reason is Rejection.MISSING_CLAIM
        assert "no accepted team" in text
    mapped = make_verifier(provider, clock, team_map={"/fraud": "fraud"})
    assert mapped(provider.sign("rsa", groups=["/fraud", "/other"])).principal.teams == ("fraud",)
    service = make_verifier(provider, clock, team_claim=None, kind=PrincipalKind.SERVICE)
    who = service(provider.sign("rsa", groups=None, amr=["pwd"]))
    assert (who.principal.teams, who.principal.kind, who.mfa) == ((), PrincipalKind.SERVICE, False)


@pytest.mark.parametrize("method", ["mfa", "otp", "hwk"])
def test_a_second_factor_is_read_from_amr(
    oidc: OidcVerifier, provider: Provider, method: str
) -> None:
    assert oidc(provider.sign("rsa", amr=["pwd", method])).mfa is True
    assert oidc(provider.sign("rsa", amr=["pwd"])).mfa is False
    assert oidc(provider.sign("rsa", amr=None)).mfa is False


# -- OIDC: tokens that must be refused ------------------------------------------------


def _hs256_with_public_pem(provider: Provider) -> str:
    pem = (
        provider.keys["rsa"]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "mallory", "iat": NOW, "exp": NOW + 300,
              "roles": ["gw-user"], "groups": ["fraud"]}  # fmt: skip
    return forge({"alg": "HS256", "kid": "rsa", "typ": "JWT"}, claims,
                 lambda data: hmac.new(pem, data, hashlib.sha256).digest())  # fmt: skip


def _signed_with_rsa_1024(provider: Provider) -> str:
    # PyJWT warns when signing with a short key: sign by hand.
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "iat": NOW, "exp": NOW + 300}
    key = provider.keys["rsa-1024"]
    return forge({"alg": "RS256", "kid": "rsa-1024"}, claims,
                 lambda data: key.sign(data, padding.PKCS1v15(), hashes.SHA256()))  # fmt: skip


REFUSED: dict[str, tuple[Callable[[Provider], str], Rejection, str]] = {
    "wrong issuer": (lambda p: p.sign("rsa", iss="https://idp.example.test/realms/other"),
                     Rejection.WRONG_ISSUER, "another issuer"),
    "issuer prefix": (lambda p: p.sign("rsa", iss=ISSUER + "x"),
                      Rejection.WRONG_ISSUER, "another issuer"),
    "wrong audience": (lambda p: p.sign("rsa", aud="someone-else"),
                       Rejection.WRONG_AUDIENCE, "another audience"),
    "audience list without ours": (lambda p: p.sign("rsa", aud=["a", "b"]),
                                   Rejection.WRONG_AUDIENCE, "another audience"),
    "expired": (lambda p: p.sign("rsa", iat=NOW - 600, exp=NOW - 31),
                Rejection.EXPIRED, "expired at 2026-12-01T11:59:29Z"),
    "not yet valid": (lambda p: p.sign("rsa", nbf=NOW + 120),
                      Rejection.NOT_YET_VALID, "not valid before"),
    "issued in the future": (lambda p: p.sign("rsa", iat=NOW + 120),
                             Rejection.NOT_YET_VALID, "issued in the future"),
    "alg none": (lambda p: forge({"alg": "none", "kid": "rsa"}, {"iss": ISSUER, "sub": "x"}),
                 Rejection.ALGORITHM, "'none' is never accepted"),
    "HS256 signed with the RSA public key": (_hs256_with_public_pem, Rejection.ALGORITHM,
                                             "'HS256' is never accepted"),
    "algorithm not allowed": (lambda p: p.sign("rsa", alg="PS256"), Rejection.ALGORITHM,
                              "'PS256' is not accepted"),
    "ES256 naming an RSA key": (lambda p: forge({"alg": "ES256", "kid": "rsa"}, {}, lambda d: b"x" * 64),
                                Rejection.ALGORITHM, "key rsa is RSA, the token says ES256"),
    "EdDSA naming a P-256 key": (lambda p: forge({"alg": "EdDSA", "kid": "ec"}, {}, lambda d: b"x" * 64),
                                 Rejection.ALGORITHM, "key ec is EC P-256, the token says EdDSA"),
    "signed by another key": (lambda p: jwt.encode({"iss": ISSUER}, p.keys["rotated"], "RS256",
                                                   headers={"kid": "rsa"}),
                              Rejection.BAD_SIGNATURE, "does not verify"),
    "RSA key under 2048 bits": (_signed_with_rsa_1024, Rejection.UNKNOWN_KEY, "no usable key"),
    "no kid": (lambda p: jwt.encode({"iss": ISSUER}, p.keys["rsa"], "RS256"),
               Rejection.MALFORMED, "names no key"),
    "critical header": (lambda p: p.sign("rsa", header={"crit": ["exp"]}),
                        Rejection.MALFORMED, "critical extension"),
    "no subject": (lambda p: p.sign("rsa", sub=None), Rejection.MISSING_CLAIM, "'sub'"),
    "no expiry": (lambda p: p.sign("rsa", exp=None), Rejection.MISSING_CLAIM, "'exp'"),
    "roles of the wrong type": (lambda p: p.sign("rsa", roles={"gw-user": True}),
                                Rejection.MALFORMED, "'roles' is not a list of names"),
    "not a JWS": (lambda p: "not-a-token", Rejection.MALFORMED, "not a compact JWS"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(REFUSED))
def test_provider_tokens_that_must_be_refused(
    oidc: OidcVerifier, provider: Provider, case: str
) -> None:
    make, expected, words = REFUSED[case]
    reason, text = rejection(oidc, make(provider))
    assert reason is expected
    assert words in text
    # Unsigned and symmetric tokens are refused before any key is looked up.
    if case in ("alg none", "HS256 signed with the RSA public key"):
        assert provider.fetches == 0


def test_the_leeway_covers_small_clock_skew(oidc: OidcVerifier, provider: Provider) -> None:
    assert oidc(provider.sign("rsa", iat=NOW - 600, exp=NOW - 29)).principal.id.endswith("#alice")
    assert oidc(provider.sign("rsa", nbf=NOW + 29, iat=NOW + 29)).principal.id.endswith("#alice")


def test_unsafe_algorithms_and_addresses_are_configuration_errors(
    provider: Provider, clock: FrozenClock
) -> None:
    for algorithms in (["HS256"], ["RS256", "none"], [], ["RS1"]):
        with pytest.raises(ConfigError, match="algorithm"):
            make_verifier(provider, clock, algorithms=algorithms)
    with pytest.raises(ConfigError, match="must use https"):
        OidcVerifier("http://idp.example.test", AUDIENCE, clock=clock)
    with pytest.raises(ConfigError, match="without query or fragment"):
        OidcVerifier(ISSUER + "?tenant=x", AUDIENCE, clock=clock)
    with pytest.raises(ConfigError, match="audience"):
        OidcVerifier(ISSUER, "", clock=clock)
    with pytest.raises(ConfigError, match="refetch_seconds"):
        make_verifier(provider, clock, refetch_seconds=600, cache_seconds=300)
    # A local provider (Keycloak in a container) may speak plain HTTP on loopback.
    OidcVerifier("http://127.0.0.1:8081/realms/dev", AUDIENCE, clock=clock).close()


# -- OIDC: fetching keys -------------------------------------------------------------


def test_an_unknown_kid_refetches_once_then_refuses(
    oidc: OidcVerifier, provider: Provider, clock: FrozenClock
) -> None:
    oidc(provider.sign("rsa"))
    assert provider.fetches == 1
    clock.advance(timedelta(seconds=60))
    reason, text = rejection(oidc, provider.sign("rotated"))
    assert reason is Rejection.UNKNOWN_KEY
    assert "no usable key 'rotated'" in text
    assert provider.fetches == 2
    # A storm of unknown kids does not become a storm of fetches.
    for n in range(50):
        forged = forge({"alg": "RS256", "kid": f"made-up-{n}"}, {"iss": ISSUER}, lambda d: b"x")
        assert rejection(oidc, forged)[0] is Rejection.UNKNOWN_KEY
    assert rejection(oidc, provider.sign("rotated"))[0] is Rejection.UNKNOWN_KEY
    assert provider.fetches == 2
    # The provider rotates its keys: the next refetch, once allowed, finds the new one.
    provider.published.append("rotated")
    clock.advance(timedelta(seconds=30))
    assert oidc(provider.sign("rotated")).principal.roles == ("model-consumer",)
    assert provider.fetches == 3


def test_keys_are_fetched_again_when_the_cache_expires(
    oidc: OidcVerifier, provider: Provider, clock: FrozenClock
) -> None:
    oidc(provider.sign("rsa"))
    clock.advance(timedelta(seconds=299))
    oidc(provider.sign("rsa"))
    assert provider.fetches == 1
    clock.advance(timedelta(seconds=1))
    provider.published.remove("rsa")  # retired by the provider: tokens it signed stop
    assert rejection(oidc, provider.sign("rsa"))[0] is Rejection.UNKNOWN_KEY
    assert provider.fetches == 2


@pytest.mark.parametrize(
    ("trouble", "words"),
    [
        ({"down": True}, "cannot be reached: [Errno 111] Connection refused"),
        ({"status": 503}, "answered HTTP 503"),
        ({"padding": 600_000}, "sent more than 524288 bytes"),
        ({"discovery_issuer": ISSUER + "/"}, "names another issuer"),
    ],
)
def test_an_unreachable_provider_means_no_token_is_accepted(
    oidc: OidcVerifier, provider: Provider, clock: FrozenClock, trouble: dict[str, Any], words: str
) -> None:
    for name, value in trouble.items():
        setattr(provider, name, value)
    reason, text = rejection(oidc, provider.sign("rsa"))
    assert reason is Rejection.UNAVAILABLE
    assert f"the keys of {ISSUER} cannot be fetched: " in text
    assert words in text
    hits = sum(provider.hits.values())
    # The failure is remembered: no fetch on every request while the provider is down.
    assert rejection(oidc, provider.sign("rsa"))[0] is Rejection.UNAVAILABLE
    assert sum(provider.hits.values()) == hits
    with pytest.raises(GatewayError, match="cannot be fetched"):
        oidc.refresh()
    # Back up: the next attempt (after the refetch interval) succeeds.
    for name in trouble:
        setattr(provider, name, getattr(Provider(), name))
    clock.advance(timedelta(seconds=30))
    assert oidc(provider.sign("rsa")).principal.teams == ("fraud",)


def test_symmetric_and_private_jwks_entries_are_never_used(
    provider: Provider, clock: FrozenClock
) -> None:
    secret = b64(b"0123456789abcdef0123456789abcdef")
    provider.extra_jwks = [
        {"kty": "oct", "kid": "shared", "k": secret},
        {**provider.jwk("ec"), "kid": "with-private", "d": "AAAA"},
        {**provider.jwk("ec"), "kid": "for-encryption", "use": "enc"},
        {**provider.jwk("ec"), "kid": "twice"},
        {**provider.jwk("ed"), "kid": "twice", "crv": "Ed25519"},
    ]
    verifier = make_verifier(provider, clock, algorithms=["ES256", "EdDSA"])
    verifier.refresh()
    for kid in ("shared", "with-private", "for-encryption", "twice"):
        forged = forge({"alg": "ES256", "kid": kid}, {"iss": ISSUER}, lambda d: b"x" * 64)
        assert rejection(verifier, forged)[0] is Rejection.UNKNOWN_KEY

    # A JWK that names its algorithm verifies only that algorithm.
    provider.extra_jwks = [{**provider.jwk("rsa"), "kid": "pss-only", "alg": "PS256"}]
    provider.keys["pss-only"] = provider.keys["rsa"]
    both = make_verifier(provider, clock, algorithms=["RS256", "PS256"])
    reason, text = rejection(both, provider.sign("pss-only", alg="RS256"))
    assert (reason, "key pss-only is RSA for PS256, the token says RS256" in text) == (
        Rejection.ALGORITHM, True)  # fmt: skip
    assert both(provider.sign("pss-only", alg="PS256")).principal.roles == ("model-consumer",)


# -- ramparts identities and tokens ----------------------------------------------------


@dataclass
class Directory:
    identities: Identities
    tokens: Tokens
    engine: sa.Engine


@pytest.fixture
def directory(sqlite_url: str, tmp_path: Path, clock: FrozenClock) -> Iterator[Directory]:
    engine = create_engine(sqlite_url)
    upgrade(engine)
    revocations = SqlRevocations(engine, clock=clock)
    hasher = KeyHasher.from_file(tmp_path / "keys" / PEPPER_FILE)
    identities = Identities(engine, hasher, clock=clock, revocations=revocations)
    keys = TokenKeys(tmp_path / "keys" / "token-signing", clock=clock,
                     retain=timedelta(minutes=15, seconds=30))  # fmt: skip
    tokens = Tokens(keys, revocations, clock=clock, issuer=RAMPARTS_ISSUER, audience="gateway")
    yield Directory(identities, tokens, engine)
    engine.dispose()


class Spy(BearerVerifier):
    """A verifier that records what it was handed, then lets the real one decide."""

    def __init__(self, real: BearerVerifier) -> None:
        self.real = real
        self.seen: list[str] = []

    @property
    def handles(self) -> Handles:
        return self.real.handles

    def __call__(self, credential: str) -> Authenticated:
        self.seen.append(credential)
        return self.real(credential)


@dataclass
class Chained:
    keys: Spy
    tokens: Spy
    oidc: Spy
    authenticate: Callable[[str], Authenticated]

    def handed(self) -> tuple[int, int, int]:
        return len(self.keys.seen), len(self.tokens.seen), len(self.oidc.seen)


@pytest.fixture
def chained(directory: Directory, oidc: OidcVerifier) -> Chained:
    keys = Spy(ApiKeys(directory.identities))
    tokens = Spy(RampartsTokens(directory.tokens, issuer=RAMPARTS_ISSUER))
    provider = Spy(oidc)
    return Chained(keys, tokens, provider, chain(keys, tokens, provider))


def test_the_chain_hands_each_credential_to_its_own_verifier(
    chained: Chained, directory: Directory, provider: Provider
) -> None:
    issued = directory.identities.create("batch", ["model-consumer"], kind=PrincipalKind.SERVICE)
    assert chained.authenticate(issued.api_key).principal.id == issued.identity.id
    assert chained.handed() == (1, 0, 0)
    token = directory.tokens.issue(issued.identity).token
    assert chained.authenticate(token).principal.id == issued.identity.id
    assert chained.handed() == (1, 1, 0)
    assert chained.authenticate(provider.sign("ec", alg="ES256")).principal.id.startswith("oidc:")
    assert chained.handed() == (1, 1, 1)


def _ramparts_claims(directory: Directory) -> dict[str, Any]:
    identity = directory.identities.create("app", ["model-consumer"]).identity
    token = directory.tokens.issue(identity).token
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


@pytest.mark.parametrize(
    ("make", "expected", "handed"),
    [
        # Ramparts' own must-show denials, through the chain, by the ramparts verifier only.
        (lambda d, p: forge({"alg": "none", "typ": "at+jwt", "kid": "k"}, _ramparts_claims(d)),
         Rejection.ALGORITHM, (0, 1, 0)),
        (lambda d, p: forge({"alg": "HS256", "typ": "at+jwt", "kid": "k"}, _ramparts_claims(d),
                            lambda data: hmac.new(b"public", data, hashlib.sha256).digest()),
         Rejection.ALGORITHM, (0, 1, 0)),
        # A token the provider signed but that claims ramparts' issuer goes to ramparts.
        (lambda d, p: p.sign("rsa", iss=RAMPARTS_ISSUER), Rejection.ALGORITHM, (0, 1, 0)),
        (lambda d, p: p.sign("rsa", iss="https://evil.example"), Rejection.WRONG_ISSUER, (0, 0, 0)),
        (lambda d, p: forge({"alg": "RS256"}, {"sub": "x"}), Rejection.MISSING_CLAIM, (0, 0, 0)),
        (lambda d, p: "a.b.c", Rejection.MALFORMED, (0, 0, 0)),
        (lambda d, p: "sk-proj-somebody-elses-key", Rejection.MALFORMED, (0, 0, 0)),
        (lambda d, p: "rmp_notakey", Rejection.MALFORMED, (1, 0, 0)),
        (lambda d, p: p.sign("rsa", aud="other"), Rejection.WRONG_AUDIENCE, (0, 0, 1)),
    ],
)  # fmt: skip
def test_the_chain_never_tries_a_second_verifier(
    chained: Chained,
    directory: Directory,
    provider: Provider,
    make: Callable[[Directory, Provider], str],
    expected: Rejection,
    handed: tuple[int, int, int],
) -> None:
    with pytest.raises(RefusedRequestError) as info:
        chained.authenticate(make(directory, provider))
    text = one_line(info.value)
    assert f"credential rejected ({expected.value})" in text
    assert chained.handed() == handed


def test_an_expired_ramparts_token_is_told_by_the_ramparts_verifier(
    chained: Chained, directory: Directory, clock: FrozenClock
) -> None:
    identity = directory.identities.create("app", ["model-consumer"]).identity
    token = directory.tokens.issue(identity).token
    clock.advance(timedelta(minutes=16))
    with pytest.raises(RefusedRequestError, match=r"\(expired\): the token expired at"):
        chained.authenticate(token)
    assert chained.handed() == (0, 1, 0)


def test_chain_configuration_errors(directory: Directory, oidc: OidcVerifier) -> None:
    with pytest.raises(ConfigError, match="at least one verifier"):
        chain()
    with pytest.raises(ConfigError, match="two verifiers handle tokens of issuer"):
        chain(oidc, oidc)
    with pytest.raises(ConfigError, match="overlap"):
        chain(ApiKeys(directory.identities), Spy(ApiKeys(directory.identities)))
    with pytest.raises(ConfigError, match="either a key prefix or a token issuer"):
        Handles()


class Refuses(BearerVerifier):
    def __init__(self, handles: Handles) -> None:
        self._handles = handles

    @property
    def handles(self) -> Handles:
        return self._handles

    def __call__(self, credential: str) -> Authenticated:
        raise RefusedRequestError(401, "invalid_api_key", "not authenticated: no")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.text(max_size=200),
        st.builds(lambda a, b, c: f"{a}.{b}.{c}", *[st.from_regex(r"[A-Za-z0-9_-]{0,40}", fullmatch=True)] * 3),
        st.builds(lambda claims: f"e30.{b64(json.dumps(claims).encode())}.", st.dictionaries(st.text(max_size=5), st.recursive(st.none() | st.integers() | st.text(max_size=8), lambda c: st.lists(c, max_size=3), max_leaves=6), max_size=3)),
    )
)  # fmt: skip
def test_the_chain_refuses_any_text_with_a_401(credential: str) -> None:
    authenticate = chain(Refuses(Handles(prefix="rmp_")), Refuses(Handles(issuer=ISSUER)))
    with pytest.raises(RefusedRequestError) as info:
        authenticate(credential)
    assert info.value.status == 401
    assert "\n" not in str(info.value)


# -- the chain in the gateway ---------------------------------------------------------


class NoKills(KillSwitch):
    """A kill switch that is never engaged (these tests are about who calls)."""

    async def check(self, model: str | None, identity: str | None) -> Kill | None:
        return None

    async def engage(
        self, scope: KillScope | str, value: str | None = None, *, reason: str, actor: str
    ) -> Kill:
        raise NotImplementedError

    async def release(
        self, scope: KillScope | str, value: str | None = None, *, actor: str
    ) -> Kill | None:
        raise NotImplementedError

    async def engaged(self) -> list[Kill]:
        return []


@dataclass
class Recorder:
    """An audit sink that keeps events, or fails when told to."""

    events: list[Event] = field(default_factory=list)
    fail: bool = False

    async def __call__(self, event: Event) -> None:
        if self.fail:
            raise AuditError("the audit log is down")
        self.events.append(event)


def make_gateway(
    upstream: str, authenticate: Callable[[str], Authenticated], clock: FrozenClock
) -> Gateway:
    return Gateway(GatewayConfig(routes=(Route("default", upstream),)), authenticate=authenticate,
                   policy=PolicyEngine(load_roles()), limiter=MemoryRateLimiter(),
                   kill_switch=NoKills(), guards=LayerGuards([], []), audit=Recorder(),
                   clock=clock)  # fmt: skip


def test_the_gateway_serves_oidc_tokens_through_the_chain(
    chained: Chained, provider: Provider, clock: FrozenClock, serve: Callable[[Any], str]
) -> None:
    gateway = serve(make_gateway(serve(MockUpstream()) + "/v1", chained.authenticate, clock))

    def chat(token: str) -> httpx.Response:
        return httpx.post(gateway + "/v1/chat/completions", headers={"Authorization": f"Bearer {token}"},
                          json={"model": "mock", "messages": [{"role": "user", "content": "hi"}]},
                          timeout=30)  # fmt: skip

    assert chat(provider.sign("rsa")).status_code == 200
    # Authenticated, but the provider's role is not mapped to one that may invoke.
    denied = chat(provider.sign("rsa", roles=["realm-admin"]))
    assert (denied.status_code, denied.json()["error"]["code"]) == (403, "permission_denied")
    refused = chat(provider.sign("rsa", iss="https://evil.example"))
    assert refused.status_code == 401
    assert refused.json()["error"]["message"] == (
        "not authenticated: credential rejected (wrong_issuer): "
        "tokens of this issuer are not accepted here")  # fmt: skip


# -- client certificates --------------------------------------------------------------


def make_certificate(
    cn: str,
    *,
    uri: str | None = None,
    organisation: str = "Example",
    not_before: datetime = START - timedelta(days=1),
    not_after: datetime = START + timedelta(days=30),
) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
                         x509.NameAttribute(NameOID.COMMON_NAME, cn)])  # fmt: skip
    builder = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_after)
    )  # fmt: skip
    if uri:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(uri)]), critical=False
        )
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


SPIFFE = "spiffe://example.org/ns/prod/sa/batch"


@pytest.fixture
def services(directory: Directory) -> dict[str, str]:
    made = {}
    for name in ("batch", "reports"):
        made[name] = directory.identities.create(
            name, ["model-consumer"], kind=PrincipalKind.SERVICE
        ).identity.id
    return made


def certificates(directory: Directory, clock: FrozenClock, **options: Any) -> ClientCertificates:
    mapping = {SPIFFE: "batch", "CN=reports,O=Example": "reports", "CN=ghost,O=Example": "ghost"}
    return ClientCertificates(mapping, identities=directory.identities, clock=clock, **options)


def http_scope(
    *headers: tuple[str, str], client: str = "127.0.0.1", tls: Any = None
) -> dict[str, Any]:
    scope: dict[str, Any] = {"type": "http", "path": "/v1/models", "client": (client, 50000),
                             "headers": [(k.encode(), v.encode()) for k, v in headers]}  # fmt: skip
    if tls is not None:
        scope["extensions"] = {"tls": tls}
    return scope


def tls_extension(*chain: str, error: str | None = None) -> dict[str, Any]:
    return {"server_cert": None, "client_cert_chain": list(chain), "client_cert_error": error,
            "client_cert_name": None, "tls_version": 0x0304, "cipher_suite": 0x1301}  # fmt: skip


def test_a_certificate_from_the_asgi_tls_extension_maps_to_its_identity(
    directory: Directory, clock: FrozenClock, services: dict[str, str]
) -> None:
    verifier = certificates(directory, clock)
    by_uri = verifier.identify(http_scope(tls=tls_extension(make_certificate("x", uri=SPIFFE))))
    assert by_uri is not None
    assert (by_uri.principal.id, by_uri.mfa) == (services["batch"], False)
    by_subject = verifier.identify(http_scope(tls=tls_extension(make_certificate("reports"))))
    assert by_subject is not None
    assert by_subject.principal.id == services["reports"]
    # No certificate presented: nothing to say, the bearer credential decides.
    assert verifier.identify(http_scope(tls=tls_extension())) is None
    assert verifier.identify(http_scope()) is None


def test_a_certificate_from_a_trusted_proxy_header_maps_to_its_identity(
    directory: Directory, clock: FrozenClock, services: dict[str, str]
) -> None:
    verifier = certificates(directory, clock, header="X-Client-Cert",
                            trusted_proxies=["127.0.0.1/32", "10.0.0.0/8"])  # fmt: skip
    # nginx $ssl_client_escaped_cert / Envoy %DOWNSTREAM_PEER_CERT%: URL-encoded PEM.
    escaped = quote(make_certificate("x", uri=SPIFFE), safe="")
    who = verifier.identify(http_scope(("x-client-cert", escaped), client="10.2.3.4"))
    assert who is not None
    assert who.principal.id == services["batch"]
    # A proxy sends the header empty when the client had no certificate.
    assert verifier.identify(http_scope(("x-client-cert", ""))) is None


@pytest.mark.parametrize(
    ("scope", "words"),
    [
        (lambda: http_scope(("x-client-cert", quote(make_certificate("x", uri=SPIFFE))), client="203.0.113.7"),
         "came from 203.0.113.7, which is not a trusted proxy"),
        (lambda: http_scope(("x-client-cert", quote(make_certificate("x", uri=SPIFFE))), client="::1"),
         "came from ::1, which is not a trusted proxy"),
        (lambda: http_scope(("x-client-cert", "a"), ("x-client-cert", "b")), "more than one"),
        (lambda: http_scope(("x-client-cert", "garbage")), "cannot be read"),
        (lambda: http_scope(("x-client-cert", "x" * 20_000)), "too large"),
        (lambda: http_scope(tls=tls_extension(make_certificate("stranger"))),
         "client certificate CN=stranger,O=Example is not mapped to an identity"),
        (lambda: http_scope(tls=tls_extension(make_certificate("reports", organisation="Evil"))),
         "is not mapped"),
        (lambda: http_scope(tls=tls_extension(make_certificate("reports", uri=SPIFFE))),
         "maps to several identities"),
        (lambda: http_scope(tls=tls_extension(make_certificate("x", uri=SPIFFE, not_after=START))),
         "(expired): the client certificate has expired"),
        (lambda: http_scope(tls=tls_extension(make_certificate("x", uri=SPIFFE, not_before=START + timedelta(1)))),
         "not valid yet"),
        (lambda: http_scope(tls=tls_extension("x", error="certificate has expired")), "did not verify"),
        (lambda: http_scope(tls=tls_extension(make_certificate("ghost"))), "no identity 'ghost'"),
    ],
)  # fmt: skip
def test_certificates_that_must_be_refused(
    directory: Directory,
    clock: FrozenClock,
    services: dict[str, str],
    scope: Callable[[], dict[str, Any]],
    words: str,
) -> None:
    verifier = certificates(directory, clock, header="x-client-cert", trusted_proxies=["127.0.0.1"])
    with pytest.raises(RefusedRequestError) as info:
        verifier.identify(scope())
    assert words in one_line(info.value)


def test_a_revoked_identity_is_refused_by_certificate(
    directory: Directory, clock: FrozenClock, services: dict[str, str]
) -> None:
    verifier = certificates(directory, clock)
    scope = http_scope(tls=tls_extension(make_certificate("x", uri=SPIFFE)))
    assert verifier.identify(scope) is not None
    directory.identities.revoke("batch")
    with pytest.raises(
        RefusedRequestError, match=r"\(identity_revoked\): identity 'batch' is revoked"
    ):
        verifier.identify(scope)


def test_client_certificate_configuration_errors(directory: Directory, clock: FrozenClock) -> None:
    people = directory.identities
    with pytest.raises(ConfigError, match="identifies no one"):
        ClientCertificates({}, identities=people, clock=clock)
    with pytest.raises(ConfigError, match="neither a URI nor an RFC 4514"):
        ClientCertificates({"batch.example.org": "batch"}, identities=people, clock=clock)
    with pytest.raises(ConfigError, match="go together"):
        ClientCertificates(
            {SPIFFE: "batch"}, identities=people, clock=clock, header="x-client-cert"
        )
    with pytest.raises(ConfigError, match="go together"):
        ClientCertificates(
            {SPIFFE: "batch"}, identities=people, clock=clock, trusted_proxies=["10.0.0.1"]
        )
    with pytest.raises(ConfigError, match="not an address"):
        ClientCertificates({SPIFFE: "batch"}, identities=people, clock=clock, header="x",
                           trusted_proxies=["proxy.internal"])  # fmt: skip


def _pem(item: Any) -> bytes:
    if isinstance(item, x509.Certificate):
        return item.public_bytes(serialization.Encoding.PEM)
    return bytes(item.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))  # fmt: skip


def test_uvicorn_does_not_hand_the_client_certificate_to_the_app(
    tmp_path: Path, directory: Directory, services: dict[str, str]
) -> None:
    """Under uvicorn, mTLS at the server verifies the client but does not name it.

    uvicorn implements no ASGI TLS extension, so the certificate it verified never
    reaches the application: identities by certificate need a TLS-terminating proxy
    that forwards it in a header. If this test fails, uvicorn now provides the
    extension: update docs/gateway-auth.md and this test.
    """
    now = datetime.now(UTC)

    def issue(
        cn: str, key: Any, signer: Any, san: x509.GeneralName | None, ca: bool
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-ca")]))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )  # fmt: skip
        if san is not None:
            builder = builder.add_extension(x509.SubjectAlternativeName([san]), critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key, server_key, client_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    ca = issue("test-ca", ca_key, ca_key, None, True)
    server = issue(
        "server", server_key, ca_key, x509.IPAddress(ipaddress.ip_address("127.0.0.1")), False
    )
    client = issue("client", client_key, ca_key, x509.UniformResourceIdentifier(SPIFFE), False)
    files = {}
    for name, item in (("ca", ca), ("server", server), ("server-key", server_key),
                       ("client", client), ("client-key", client_key)):  # fmt: skip
        files[name] = tmp_path / f"{name}.pem"
        files[name].write_bytes(_pem(item))

    verifier = ClientCertificates({SPIFFE: "batch"}, identities=directory.identities,
                                  clock=FrozenClock(now))  # fmt: skip
    seen: dict[str, Any] = {}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        seen["extensions"] = dict(scope.get("extensions") or {})
        seen["who"] = verifier.identify(scope)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    import uvicorn  # noqa: PLC0415

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", lifespan="off",
                            ssl_certfile=str(files["server"]), ssl_keyfile=str(files["server-key"]),
                            ssl_ca_certs=str(files["ca"]), ssl_cert_reqs=ssl.CERT_REQUIRED)  # fmt: skip
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not running.started:
            assert thread.is_alive(), "uvicorn did not start"
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)
        context = ssl.create_default_context(cafile=str(files["ca"]))
        context.load_cert_chain(str(files["client"]), str(files["client-key"]))
        reply = httpx.get(f"https://127.0.0.1:{sock.getsockname()[1]}/", verify=context, timeout=10)
        assert reply.status_code == 204
        # Without a client certificate the TLS handshake itself fails: uvicorn verifies.
        bare = ssl.create_default_context(cafile=str(files["ca"]))
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"https://127.0.0.1:{sock.getsockname()[1]}/", verify=bare, timeout=10)
    finally:
        running.should_exit = True
        thread.join(10)
        sock.close()
    assert "tls" not in seen["extensions"]
    assert seen["who"] is None


# -- the OAuth 2.0 client-credentials endpoint ---------------------------------------


@dataclass
class TokenService:
    endpoint: ClientCredentialsEndpoint
    audit: Recorder
    directory: Directory
    keys: dict[str, str]

    def post(self, *, data: Any = None, auth: Any = None, method: str = "POST",
             path: str = TOKEN_PATH, headers: dict[str, str] | None = None,
             content: bytes | None = None) -> httpx.Response:  # fmt: skip
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.endpoint)
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
                return await client.request(method, path, data=data, auth=auth, headers=headers,
                                            content=content)  # fmt: skip

        return asyncio.run(go())


@pytest.fixture
def token_service(directory: Directory, clock: FrozenClock) -> TokenService:
    audit = Recorder()
    endpoint = ClientCredentialsEndpoint(
        directory.identities, directory.tokens, audit=audit, clock=clock
    )
    keys = {
        "batch": directory.identities.create(
            "batch", ["model-consumer"], kind=PrincipalKind.SERVICE
        ).api_key,
        "reports": directory.identities.create(
            "reports", ["auditor"], kind=PrincipalKind.SERVICE
        ).api_key,
        "alice": directory.identities.create("alice", ["model-consumer"]).api_key,
    }
    return TokenService(endpoint, audit, directory, keys)


GRANT = {"grant_type": "client_credentials"}


@pytest.mark.parametrize("method", ["basic", "form"])
def test_a_service_identity_gets_a_token(token_service: TokenService, method: str) -> None:
    key = token_service.keys["batch"]
    if method == "basic":
        reply = token_service.post(data=GRANT, auth=("batch", key))
    else:
        reply = token_service.post(data={**GRANT, "client_id": "batch", "client_secret": key})
    assert reply.status_code == 200
    assert reply.headers["cache-control"] == "no-store"
    body = reply.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 900)
    verified = token_service.directory.tokens.verify(body["access_token"])
    assert verified.principal.name == token_service.directory.identities.get("batch").id
    assert verified.principal.kind is PrincipalKind.SERVICE
    [event] = token_service.audit.events
    assert (event.action, event.outcome, event.resource) == ("gateway.oauth.token", Outcome.SUCCESS,
                                                            "identity:batch")  # fmt: skip
    assert (event.details["jti"], event.details["auth_method"]) == (verified.jti, method)
    assert key not in json.dumps(dict(event.details))


def _basic(user: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


TOKEN_REFUSALS: dict[str, tuple[Callable[[dict[str, str]], dict[str, Any]], int, str]] = {
    "GET": (lambda k: {"method": "GET"}, 405, "invalid_request"),
    "JSON body": (lambda k: {"content": json.dumps(GRANT).encode(), "auth": ("batch", k["batch"]),
                             "headers": {"content-type": "application/json"}}, 400, "invalid_request"),
    "no grant type": (lambda k: {"data": {"x": "y"}, "auth": ("batch", k["batch"])}, 400, "invalid_request"),
    "password grant": (lambda k: {"data": {"grant_type": "password"}, "auth": ("batch", k["batch"])},
                       400, "unsupported_grant_type"),
    "repeated parameter": (lambda k: {"content": b"grant_type=client_credentials&grant_type=client_credentials",
                                      "auth": ("batch", k["batch"]),
                                      "headers": {"content-type": "application/x-www-form-urlencoded"}},
                           400, "invalid_request"),
    "scope": (lambda k: {"data": {**GRANT, "scope": "admin"}, "auth": ("batch", k["batch"])},
              400, "invalid_scope"),
    "secret in the URL": (lambda k: {"data": GRANT, "path": f"{TOKEN_PATH}?client_secret={k['batch']}"},
                          400, "invalid_request"),
    "two client authentications": (lambda k: {"data": {**GRANT, "client_id": "batch", "client_secret": k["batch"]},
                                              "auth": ("batch", k["batch"])}, 400, "invalid_request"),
    "body too large": (lambda k: {"data": {**GRANT, "pad": "x" * 9000}, "auth": ("batch", k["batch"])},
                       413, "invalid_request"),
    "no credentials": (lambda k: {"data": GRANT}, 401, "invalid_client"),
    "client id without secret": (lambda k: {"data": {**GRANT, "client_id": "batch"}}, 401, "invalid_client"),
    "wrong key": (lambda k: {"data": GRANT, "auth": ("batch", "rmp_aaaaaaaa_" + "A" * 43)}, 401, "invalid_client"),
    "another identity's key": (lambda k: {"data": GRANT, "auth": ("batch", k["reports"])}, 401, "invalid_client"),
    "bearer instead of basic": (lambda k: {"data": GRANT, "headers": {"Authorization": f"Bearer {k['batch']}"}},
                                401, "invalid_client"),
    "basic without a colon": (lambda k: {"data": GRANT, "headers": {
        "Authorization": "Basic " + base64.b64encode(b"batch").decode()}}, 401, "invalid_client"),
    "basic not base64": (lambda k: {"data": GRANT, "headers": {"Authorization": "Basic !!!"}}, 401, "invalid_client"),
    "a human identity": (lambda k: {"data": GRANT, "headers": _basic("alice", k["alice"])}, 400, "unauthorized_client"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(TOKEN_REFUSALS))
def test_token_requests_that_must_be_refused(token_service: TokenService, case: str) -> None:
    make, status, error = TOKEN_REFUSALS[case]
    reply = token_service.post(**make(token_service.keys))
    assert (reply.status_code, reply.json()["error"]) == (status, error)
    assert "access_token" not in reply.json()
    assert reply.headers["cache-control"] == "no-store"
    assert set(reply.json()["error_description"]) <= DESCRIPTION_CHARS
    assert ("www-authenticate" in reply.headers) == (status == 401)
    if status == 401:
        assert reply.headers["www-authenticate"].startswith('Basic realm="ramparts"')
        # Every way client authentication fails reads the same to the client.
        assert reply.json()["error_description"] == "client authentication failed"
    [event] = token_service.audit.events
    assert (event.outcome, event.details["error"]) == (Outcome.DENIED, error)
    assert event.reason.startswith(f"{error}: ")
    recorded = json.dumps([event.reason, dict(event.details)])
    assert not any(key in recorded for key in token_service.keys.values())


def test_a_revoked_service_gets_no_token(token_service: TokenService) -> None:
    token_service.directory.identities.revoke("batch")
    reply = token_service.post(data=GRANT, auth=("batch", token_service.keys["batch"]))
    assert (reply.status_code, reply.json()["error"]) == (401, "invalid_client")
    assert "identity_revoked" in token_service.audit.events[0].reason


def test_no_token_leaves_when_the_audit_log_is_down(token_service: TokenService) -> None:
    token_service.audit.fail = True
    for auth in (("batch", token_service.keys["batch"]), ("batch", "wrong")):
        reply = token_service.post(data=GRANT, auth=auth)
        assert (reply.status_code, reply.json()["error"]) == (503, "temporarily_unavailable")
        assert "access_token" not in reply.json()


def test_a_token_from_the_endpoint_calls_the_gateway(
    token_service: TokenService,
    directory: Directory,
    clock: FrozenClock,
    serve: Callable[[Any], str],
) -> None:
    authenticate = chain(
        ApiKeys(directory.identities), RampartsTokens(directory.tokens, issuer=RAMPARTS_ISSUER)
    )
    gateway = make_gateway(serve(MockUpstream()) + "/v1", authenticate, clock)
    url = serve(with_token_endpoint(gateway, token_service.endpoint))
    issued = httpx.post(
        url + TOKEN_PATH, data=GRANT, auth=("batch", token_service.keys["batch"]), timeout=30
    )
    assert issued.status_code == 200
    token = issued.json()["access_token"]
    reply = httpx.post(url + "/v1/chat/completions", headers={"Authorization": f"Bearer {token}"},
                       json={"model": "mock", "messages": [{"role": "user", "content": "hi"}]}, timeout=30)  # fmt: skip
    assert reply.status_code == 200
    assert httpx.get(url + "/healthz", timeout=30).json() == {"status": "ok"}


def test_a_verified_api_key_is_remembered_one_second(directory: Directory) -> None:
    now = [50.0]
    keys = ApiKeys(directory.identities, monotonic=lambda: now[0])
    issued = directory.identities.create("batch", ["model-consumer"], kind=PrincipalKind.SERVICE)
    assert keys(issued.api_key).principal.id == issued.identity.id
    directory.identities.revoke("batch")
    now[0] += 0.5
    assert keys(issued.api_key).principal.id == issued.identity.id  # within the second
    now[0] += 0.6
    with pytest.raises(RefusedRequestError) as refused:
        keys(issued.api_key)
    assert refused.value.status == 401
    with pytest.raises(RefusedRequestError):  # refusals are not remembered as successes
        keys(issued.api_key)
