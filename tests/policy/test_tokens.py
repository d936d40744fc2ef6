"""Short-lived tokens: the profile, every way a token must be denied, keys and revocations."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ramparts.core.clock import FrozenClock
from ramparts.core.events import MemorySink
from ramparts.core.interface import Event
from ramparts.core.types import PrincipalKind
from ramparts.errors import AuditError, ConfigError
from ramparts.policy.apikeys import PEPPER_FILE, KeyHasher
from ramparts.policy.identities import Identities
from ramparts.policy.identity_types import (
    AuthenticationError,
    Identity,
    IdentityError,
    Rejection,
    RevocationKind,
    Revocations,
)
from ramparts.policy.revocations import RedisRevocations, SqlRevocations
from ramparts.policy.token_keys import TokenKeys, _kid
from ramparts.policy.tokens import Tokens
from ramparts.store import create_engine, upgrade
from ramparts.store.redis import RedisAdapter

START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
RETAIN = timedelta(minutes=15, seconds=30)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict[str, Any], claims: dict[str, Any], sign: Any = None) -> str:
    """A compact JWS built by hand; ``sign(signing_input) -> bytes`` or an empty signature."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = sign(signing_input.encode()) if sign else b""
    return f"{signing_input}.{b64(signature)}"


def parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload, _ = token.split(".")
    return unb64(header), unb64(payload)


def unb64(part: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def keys(tmp_path: Path, clock: FrozenClock) -> TokenKeys:
    return TokenKeys(tmp_path / "keys" / "token-signing", clock=clock, retain=RETAIN)


@pytest.fixture
def revocations(state_db: sa.Engine, clock: FrozenClock) -> SqlRevocations:
    return SqlRevocations(state_db, clock=clock)


@pytest.fixture
def sink() -> MemorySink:
    return MemorySink()


def make_tokens(
    keys: TokenKeys, revocations: Revocations, clock: FrozenClock, **kwargs: Any
) -> Tokens:
    options: dict[str, Any] = {"issuer": "https://ramparts.test", "audience": "gateway"}
    return Tokens(keys, revocations, clock=clock, **{**options, **kwargs})


@pytest.fixture
def tokens(
    keys: TokenKeys, revocations: SqlRevocations, clock: FrozenClock, sink: MemorySink
) -> Tokens:
    return make_tokens(keys, revocations, clock, sink=sink)


@pytest.fixture
def directory(
    state_db: sa.Engine, tmp_path: Path, clock: FrozenClock, revocations: SqlRevocations
) -> Identities:
    hasher = KeyHasher.from_file(tmp_path / "keys" / PEPPER_FILE)
    return Identities(state_db, hasher, clock=clock, revocations=revocations)


@pytest.fixture
def bot(directory: Identities) -> Identity:
    return directory.create("ci-bot", ["evaluator", "data-scientist"]).identity


def rejection(tokens: Tokens, token: str) -> Rejection:
    with pytest.raises(AuthenticationError) as info:
        tokens.verify(token)
    assert str(info.value).startswith(f"credential rejected ({info.value.reason.value}): ")
    return info.value.reason


def valid_claims(tokens: Tokens, bot: Identity) -> dict[str, Any]:
    """The claims of a real token, to sign differently."""
    return parts(tokens.issue(bot).token)[1]


# -- the profile ----------------------------------------------------------------


def test_issued_tokens_carry_the_profile_and_verify(
    tokens: Tokens, bot: Identity, keys: TokenKeys, sink: MemorySink
) -> None:
    issued = tokens.issue(bot)
    header, claims = parts(issued.token)
    assert header == {"alg": "EdDSA", "kid": keys.current().kid, "typ": "at+jwt"}
    assert set(claims) == {
        "iss", "aud", "sub", "roles", "teams", "kind", "iat", "nbf", "exp", "jti"
    }  # fmt: skip
    assert claims["iss"] == "https://ramparts.test"
    assert claims["aud"] == "gateway"
    assert claims["sub"] == bot.id
    assert claims["roles"] == ["data-scientist", "evaluator"]
    assert claims["teams"] == []
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert claims["nbf"] == claims["iat"] == int(START.timestamp())
    verified = tokens.verify(issued.token)
    assert verified.principal.id == bot.id
    assert verified.principal.roles == ("data-scientist", "evaluator")
    assert verified.principal.kind is PrincipalKind.HUMAN
    assert verified.principal.teams == ()
    assert verified.jti == issued.jti == claims["jti"]
    assert verified.expires_at == START + timedelta(minutes=15)
    assert not issued.mfa
    assert not verified.mfa
    assert [e.action for e in sink.events] == ["identity.token.issue"]
    assert sink.events[0].details["jti"] == issued.jti
    assert sink.events[0].details["mfa"] is False
    assert issued.token not in repr(sink.events[0])


def test_teams_travel_in_the_token(tokens: Tokens, directory: Identities) -> None:
    identity = directory.create("vision-bot", ["evaluator"], teams=["vision", "nlp"]).identity
    issued = tokens.issue(identity)
    assert parts(issued.token)[1]["teams"] == ["nlp", "vision"]
    assert tokens.verify(issued.token).principal.teams == ("nlp", "vision")


def test_an_mfa_token_says_otp_in_amr(tokens: Tokens, bot: Identity, sink: MemorySink) -> None:
    issued = tokens.issue(bot, mfa=True)
    assert issued.mfa
    assert parts(issued.token)[1]["amr"] == ["otp"]  # RFC 8176
    assert tokens.verify(issued.token).mfa
    assert sink.events[-1].details["mfa"] is True


@pytest.mark.parametrize(("amr", "mfa"), [(["pwd"], False), (["pwd", "otp"], True), ([], False)])
def test_mfa_is_read_from_amr_only_when_it_holds_otp(
    tokens: Tokens, bot: Identity, keys: TokenKeys, amr: list[str], mfa: bool
) -> None:
    claims = valid_claims(tokens, bot) | {"amr": amr}
    key = keys.current()
    token = jwt.encode(claims, key.private_key, "EdDSA", {"kid": key.kid, "typ": "at+jwt"})
    assert tokens.verify(token).mfa is mfa


def test_a_revoked_identity_gets_no_token(
    tokens: Tokens, directory: Identities, bot: Identity
) -> None:
    directory.revoke("ci-bot")
    with pytest.raises(IdentityError, match="revoked"):
        tokens.issue(directory.get("ci-bot"))


def test_a_token_whose_issue_cannot_be_audited_is_never_handed_out(
    keys: TokenKeys, revocations: SqlRevocations, clock: FrozenClock, bot: Identity
) -> None:
    class Broken:
        def emit(self, event: Event) -> None:
            raise AuditError("the audit log could not record the event")

    with pytest.raises(AuditError):
        make_tokens(keys, revocations, clock, sink=Broken()).issue(bot)


def test_settings_that_would_break_tokens_are_refused(
    keys: TokenKeys, revocations: SqlRevocations, clock: FrozenClock
) -> None:
    with pytest.raises(ConfigError, match="lifetime"):
        make_tokens(keys, revocations, clock, lifetime=timedelta(hours=25))
    with pytest.raises(ConfigError, match="kept"):
        make_tokens(keys, revocations, clock, lifetime=timedelta(hours=1))
    with pytest.raises(ConfigError, match="issuer"):
        make_tokens(keys, revocations, clock, issuer="")


# -- every way a token is denied ----------------------------------------------------


def test_expired_with_a_small_leeway(tokens: Tokens, bot: Identity, clock: FrozenClock) -> None:
    token = tokens.issue(bot).token
    clock.advance(timedelta(minutes=15, seconds=29))
    tokens.verify(token)  # within the 30 s leeway
    clock.advance(timedelta(seconds=1))
    assert rejection(tokens, token) is Rejection.EXPIRED


def test_not_yet_valid(
    keys: TokenKeys, revocations: SqlRevocations, clock: FrozenClock, tokens: Tokens, bot: Identity
) -> None:
    ahead = FrozenClock(START + timedelta(minutes=5))
    token = make_tokens(keys, revocations, ahead).issue(bot).token
    assert rejection(tokens, token) is Rejection.NOT_YET_VALID
    clock.advance(timedelta(minutes=4, seconds=31))
    tokens.verify(token)


def test_wrong_audience_and_wrong_issuer(
    keys: TokenKeys, revocations: SqlRevocations, clock: FrozenClock, tokens: Tokens, bot: Identity
) -> None:
    other_audience = make_tokens(keys, revocations, clock, audience="control-plane")
    assert rejection(tokens, other_audience.issue(bot).token) is Rejection.WRONG_AUDIENCE
    other_issuer = make_tokens(keys, revocations, clock, issuer="https://evil.test")
    assert rejection(tokens, other_issuer.issue(bot).token) is Rejection.WRONG_ISSUER
    claims = valid_claims(tokens, bot) | {"aud": ["gateway", "other"]}
    key = keys.current()
    token = jwt.encode(claims, key.private_key, "EdDSA", {"kid": key.kid, "typ": "at+jwt"})
    assert rejection(tokens, token) is Rejection.WRONG_AUDIENCE  # one exact audience only


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_alg_none_is_refused_by_name(
    tokens: Tokens, bot: Identity, keys: TokenKeys, alg: str
) -> None:
    claims = valid_claims(tokens, bot)
    header = {"alg": alg, "kid": keys.current().kid, "typ": "at+jwt"}
    assert rejection(tokens, forge(header, claims)) is Rejection.ALGORITHM
    # ...also with a signature-looking third part.
    assert rejection(tokens, forge(header, claims, lambda _: b"\x00" * 64)) is Rejection.ALGORITHM


@pytest.mark.parametrize("encoding", ["pem", "raw", "der"])
def test_hs256_signed_with_the_public_key_as_the_secret_is_refused(
    tokens: Tokens, bot: Identity, keys: TokenKeys, encoding: str
) -> None:
    public = keys.current().public_key
    secret = {
        "pem": public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        "raw": public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw),
        "der": public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    }[encoding]
    header = {"alg": "HS256", "kid": keys.current().kid, "typ": "at+jwt"}
    token = forge(
        header, valid_claims(tokens, bot), lambda data: hmac.new(secret, data, "sha256").digest()
    )
    assert rejection(tokens, token) is Rejection.ALGORITHM


@pytest.mark.parametrize("alg", ["RS256", "PS256"])
def test_rsa_signed_tokens_are_refused(
    tokens: Tokens, bot: Identity, keys: TokenKeys, alg: str
) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    headers = {"kid": keys.current().kid, "typ": "at+jwt"}
    token = jwt.encode(valid_claims(tokens, bot), rsa_key, alg, headers)
    assert rejection(tokens, token) is Rejection.ALGORITHM


def test_es256_claimed_for_an_ed25519_key_is_refused(
    tokens: Tokens, bot: Identity, keys: TokenKeys, tmp_path: Path, clock: FrozenClock
) -> None:
    ec_keys = TokenKeys(tmp_path / "ec", clock=clock, retain=RETAIN, algorithm="ES256")
    headers = {"kid": keys.current().kid, "typ": "at+jwt"}  # our Ed25519 key's kid
    token = jwt.encode(valid_claims(tokens, bot), ec_keys.current().private_key, "ES256", headers)
    assert rejection(tokens, token) is Rejection.ALGORITHM


def test_unknown_kid_and_a_foreign_key_under_our_kid(
    tokens: Tokens,
    bot: Identity,
    keys: TokenKeys,
    revocations: SqlRevocations,
    clock: FrozenClock,
    tmp_path: Path,
) -> None:
    foreign = TokenKeys(tmp_path / "elsewhere", clock=clock, retain=RETAIN)
    token = make_tokens(foreign, revocations, clock).issue(bot).token
    assert rejection(tokens, token) is Rejection.UNKNOWN_KEY
    headers = {"kid": keys.current().kid, "typ": "at+jwt"}
    forged = jwt.encode(valid_claims(tokens, bot), foreign.current().private_key, "EdDSA", headers)
    assert rejection(tokens, forged) is Rejection.BAD_SIGNATURE


def test_a_tampered_payload_fails_its_signature(tokens: Tokens, bot: Identity) -> None:
    token = tokens.issue(bot).token
    header, payload, signature = token.split(".")
    claims = parts(token)[1] | {"roles": ["admin"]}
    tampered = f"{header}.{b64(json.dumps(claims).encode())}.{signature}"
    assert rejection(tokens, tampered) is Rejection.BAD_SIGNATURE
    sig = bytearray(base64.urlsafe_b64decode(signature + "=="))
    sig[0] ^= 1
    assert rejection(tokens, f"{header}.{payload}.{b64(bytes(sig))}") is Rejection.BAD_SIGNATURE
    assert rejection(tokens, f"{header}.{payload}.") is Rejection.BAD_SIGNATURE


def test_a_revoked_jti_is_denied_and_other_tokens_are_not(
    tokens: Tokens, bot: Identity, sink: MemorySink
) -> None:
    first, second = tokens.issue(bot), tokens.issue(bot)
    tokens.revoke(first.jti)
    assert rejection(tokens, first.token) is Rejection.REVOKED
    tokens.verify(second.token)
    assert sink.events[-1].action == "identity.token.revoke"


def test_a_token_verified_before_is_still_checked_for_revocation_and_expiry(
    tokens: Tokens, bot: Identity, clock: FrozenClock
) -> None:
    issued = tokens.issue(bot)
    tokens.verify(issued.token)
    tokens.verify(issued.token)  # the second time from the cache of verified tokens
    tokens.revoke(issued.jti)
    assert rejection(tokens, issued.token) is Rejection.REVOKED
    later = tokens.issue(bot)
    tokens.verify(later.token)
    clock.advance(timedelta(hours=1))
    assert rejection(tokens, later.token) is Rejection.EXPIRED


def test_a_revoked_identity_is_denied(tokens: Tokens, bot: Identity, directory: Identities) -> None:
    other = directory.create("alice", ["model-auditor"]).identity
    token, others = tokens.issue(bot).token, tokens.issue(other).token
    directory.revoke("ci-bot")
    assert rejection(tokens, token) is Rejection.IDENTITY_REVOKED
    tokens.verify(others)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"nbf": None}, Rejection.MISSING_CLAIM),
        ({"jti": None}, Rejection.MISSING_CLAIM),
        ({"exp": None}, Rejection.MISSING_CLAIM),
        ({"roles": None}, Rejection.MISSING_CLAIM),
        ({"exp": "soon"}, Rejection.MALFORMED),
        ({"exp": True}, Rejection.MALFORMED),
        ({"exp": 1e300}, Rejection.MALFORMED),
        ({"roles": "admin"}, Rejection.MALFORMED),
        ({"roles": [1]}, Rejection.MALFORMED),
        ({"kind": "robot"}, Rejection.MALFORMED),
        ({"kind": ["service"]}, Rejection.MALFORMED),
        ({"sub": 42}, Rejection.MALFORMED),
        ({"sub": ""}, Rejection.MALFORMED),
        # No teams claim must never read as "no teams" (organisation-wide).
        ({"teams": None}, Rejection.MALFORMED),
        ({"teams": "vision"}, Rejection.MALFORMED),
        ({"teams": [1]}, Rejection.MALFORMED),
        ({"teams": [""]}, Rejection.MALFORMED),
        ({"teams": {"vision": True}}, Rejection.MALFORMED),
        ({"amr": "otp"}, Rejection.MALFORMED),
        ({"amr": [True]}, Rejection.MALFORMED),
    ],
)
def test_claims_are_required_and_typed_even_when_signed_by_us(
    tokens: Tokens, bot: Identity, keys: TokenKeys, change: dict[str, Any], reason: Rejection
) -> None:
    claims = valid_claims(tokens, bot)
    for name, value in change.items():
        if value is None:
            del claims[name]
        else:
            claims[name] = value
    key = keys.current()
    token = jwt.encode(claims, key.private_key, "EdDSA", {"kid": key.kid, "typ": "at+jwt"})
    assert rejection(tokens, token) is reason


@pytest.mark.parametrize(
    "headers",
    [
        {"typ": "JWT"},
        {"typ": None},
        {"jku": "https://evil.test/jwks"},
        {"jwk": {"kty": "OKP"}},
        {"crit": ["exp"]},
        {"kid": None},
        {"kid": 7},
    ],
)
def test_headers_other_than_ours_are_refused(
    tokens: Tokens, bot: Identity, keys: TokenKeys, headers: dict[str, Any]
) -> None:
    key = keys.current()
    header = {"alg": "EdDSA", "kid": key.kid, "typ": "at+jwt"} | headers
    header = {k: v for k, v in header.items() if v is not None}
    token = forge(header, valid_claims(tokens, bot), key.private_key.sign)
    assert rejection(tokens, token) is Rejection.MALFORMED


# -- signing keys, rotation, JWKS -------------------------------------------------------


def test_signing_keys_rotate_and_old_ones_verify_until_their_tokens_expire(
    tokens: Tokens, bot: Identity, keys: TokenKeys, clock: FrozenClock
) -> None:
    old_key = keys.current()
    assert stat.S_IMODE(old_key.path.stat().st_mode) == 0o600
    clock.advance(timedelta(minutes=1))
    old_token = tokens.issue(bot).token  # the last token the old key signs
    new_key = keys.rotate()
    assert new_key.kid != old_key.kid
    assert parts(tokens.issue(bot).token)[0]["kid"] == new_key.kid
    assert [k["kid"] for k in tokens.jwks()["keys"]] == [new_key.kid, old_key.kid]
    tokens.verify(old_token)
    clock.advance(RETAIN - timedelta(seconds=1))
    tokens.verify(old_token)  # the old key lives as long as the tokens it signed
    clock.advance(timedelta(seconds=1))
    assert rejection(tokens, old_token) is Rejection.UNKNOWN_KEY
    assert [k["kid"] for k in tokens.jwks()["keys"]] == [new_key.kid]
    assert old_key.path.exists()
    keys.rotate()
    assert not old_key.path.exists()  # retired keys are deleted at the next rotation


def test_the_current_key_is_replaced_when_it_is_too_old(tmp_path: Path, clock: FrozenClock) -> None:
    keys = TokenKeys(tmp_path, clock=clock, retain=RETAIN, max_age=timedelta(days=30))
    first = keys.current()
    clock.advance(timedelta(days=29))
    assert keys.current().kid == first.kid
    clock.advance(timedelta(days=1))
    assert keys.current().kid != first.kid
    assert len(keys.verification_keys()) == 2


def test_another_process_sees_a_rotation_after_refresh(tmp_path: Path, clock: FrozenClock) -> None:
    ours = TokenKeys(tmp_path, clock=clock, retain=RETAIN)
    theirs = TokenKeys(tmp_path, clock=clock, retain=RETAIN)
    ours.current()
    clock.advance(timedelta(seconds=1))
    new = theirs.rotate()
    assert ours.find(new.kid) is None
    ours.refresh()
    assert ours.find(new.kid) is not None


def test_kid_is_the_rfc_7638_thumbprint() -> None:
    # RFC 8037, appendix A.3: the thumbprint of the example Ed25519 key.
    x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    public = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(x + "="))
    assert _kid(public) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


@pytest.mark.parametrize("algorithm", ["EdDSA", "ES256"])
def test_the_jwks_verifies_tokens_with_a_standard_client(
    tmp_path: Path,
    clock: FrozenClock,
    revocations: SqlRevocations,
    bot: Identity,
    algorithm: str,
) -> None:
    keys = TokenKeys(tmp_path / algorithm, clock=clock, retain=RETAIN, algorithm=algorithm)
    tokens = make_tokens(keys, revocations, clock)
    issued = tokens.issue(bot)
    assert parts(issued.token)[0]["alg"] == algorithm
    tokens.verify(issued.token)
    document = tokens.jwks()
    (jwk,) = document["keys"]
    assert jwk["kty"] == ("OKP" if algorithm == "EdDSA" else "EC")
    assert jwk["crv"] == ("Ed25519" if algorithm == "EdDSA" else "P-256")
    assert {"d", "p", "q"}.isdisjoint(jwk)  # public members only
    members = {k: jwk[k] for k in ("crv", "kty", "x", "y") if k in jwk}
    digest = hashlib.sha256(json.dumps(members, sort_keys=True, separators=(",", ":")).encode())
    assert jwk["kid"] == b64(digest.digest())
    verifier = jwt.PyJWKSet.from_dict(json.loads(json.dumps(document)))[jwk["kid"]]
    claims = jwt.decode(
        issued.token,
        verifier.key,
        algorithms=[algorithm],
        audience="gateway",
        options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
    )
    assert claims["sub"] == bot.id


# -- revocations: fail closed, shared through Redis ------------------------------------


def test_an_unreadable_revocation_list_denies(
    keys: TokenKeys, clock: FrozenClock, bot: Identity, tmp_path: Path, tokens: Tokens
) -> None:
    token = tokens.issue(bot).token
    unreachable = RedisAdapter.from_url("redis://127.0.0.1:1/0", timeout=0.2, retries=0)
    via_redis = make_tokens(keys, RedisRevocations(unreachable, clock=clock), clock)
    assert rejection(via_redis, token) is Rejection.UNAVAILABLE
    empty = create_engine(f"sqlite:///{tmp_path / 'no-schema.db'}")
    try:
        via_sql = make_tokens(keys, SqlRevocations(empty, clock=clock), clock)
        assert rejection(via_sql, token) is Rejection.UNAVAILABLE
    finally:
        empty.dispose()


@pytest.mark.redis
def test_revocations_are_shared_by_replicas_through_redis(
    redis_url: str,
    redis_prefix: str,
    tmp_path: Path,
    clock: FrozenClock,
    state_db: sa.Engine,
) -> None:
    with RedisAdapter.from_url(redis_url) as redis:
        shared = RedisRevocations(redis, clock=clock, prefix=redis_prefix)
        hasher = KeyHasher.from_file(tmp_path / PEPPER_FILE)
        directory = Identities(state_db, hasher, clock=clock, revocations=shared)
        bot = directory.create("ci-bot", ["evaluator"]).identity
        alice = directory.create("alice", ["model-auditor"]).identity
        keys = TokenKeys(tmp_path / "keys", clock=clock, retain=RETAIN)
        replica_a = make_tokens(keys, shared, clock)
        replica_b = make_tokens(
            keys, RedisRevocations(redis, clock=clock, prefix=redis_prefix), clock
        )
        first, second = replica_a.issue(bot), replica_a.issue(alice)
        replica_b.verify(first.token)
        replica_a.revoke(first.jti)
        assert rejection(replica_b, first.token) is Rejection.REVOKED
        replica_b.verify(second.token)
        directory.revoke("alice")
        assert rejection(replica_b, second.token) is Rejection.IDENTITY_REVOKED
        ttl = redis.ttl(f"{redis_prefix}revoked:jti:{first.jti}")
        assert ttl is not None
        assert timedelta(hours=24) < timedelta(seconds=ttl) <= timedelta(hours=24, minutes=5)
        shared.revoke(RevocationKind.TOKEN, first.jti, START + timedelta(minutes=1))
        later = redis.ttl(f"{redis_prefix}revoked:jti:{first.jti}")
        assert later is not None
        assert later > 24 * 3600  # an earlier end never shortens a revocation


def test_sql_revocations_expire_and_are_never_shortened(
    revocations: SqlRevocations, clock: FrozenClock
) -> None:
    revocations.revoke(RevocationKind.TOKEN, "j1", START + timedelta(hours=1))
    revocations.revoke(RevocationKind.TOKEN, "j1", START + timedelta(minutes=1))
    clock.advance(timedelta(minutes=30))
    with pytest.raises(AuthenticationError) as info:
        revocations.check("j1", "someone")
    assert info.value.reason is Rejection.REVOKED
    clock.advance(timedelta(minutes=30))
    revocations.check("j1", "someone")  # past its end: it denies nothing any more


# -- random input is never a token --------------------------------------------------------

SEGMENT = st.from_regex(r"[A-Za-z0-9_-]{0,120}", fullmatch=True)


@pytest.fixture
def offline_tokens(tmp_path: Path) -> Iterator[Tokens]:
    clock = FrozenClock(START)
    eng = create_engine(f"sqlite:///{tmp_path / 'r.db'}")
    upgrade(eng)
    keys = TokenKeys(tmp_path / "k", clock=clock, retain=RETAIN)
    keys.current()
    yield make_tokens(keys, SqlRevocations(eng, clock=clock), clock)
    eng.dispose()


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=st.one_of(
        st.text(),
        st.binary().map(lambda b: b.decode("latin-1")),
        st.builds(lambda a, b, c: f"{a}.{b}.{c}", SEGMENT, SEGMENT, SEGMENT),
    )
)
def test_random_strings_are_never_accepted_as_tokens(offline_tokens: Tokens, text: str) -> None:
    with pytest.raises(AuthenticationError):
        offline_tokens.verify(text)


CLAIMS = st.dictionaries(
    st.sampled_from(
        ["iss", "aud", "sub", "roles", "teams", "kind", "iat", "nbf", "exp", "jti", "amr"]
    ),
    st.one_of(st.integers(), st.text(max_size=20), st.lists(st.text(max_size=5), max_size=3)),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(claims=st.one_of(CLAIMS, st.text()), signature=st.binary(max_size=80))
def test_random_claims_and_signatures_under_our_header_are_never_accepted(
    offline_tokens: Tokens, claims: object, signature: bytes
) -> None:
    kid = offline_tokens.jwks()["keys"][0]["kid"]
    header = b64(json.dumps({"alg": "EdDSA", "kid": kid, "typ": "at+jwt"}).encode())
    token = f"{header}.{b64(json.dumps(claims).encode())}.{b64(signature)}"
    with pytest.raises(AuthenticationError):
        offline_tokens.verify(token)
