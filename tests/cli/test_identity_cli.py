"""``ramparts identity`` as an operator uses it: keys shown once, tokens that verify."""

from __future__ import annotations

import json
import stat
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import jwt
import pyotp
import pytest

from ramparts.core.clock import SystemClock
from ramparts.policy.apikeys import PEPPER_FILE, KeyHasher
from ramparts.policy.identities import Identities
from ramparts.policy.identity_types import LOCAL_ADMIN_ID, AuthenticationError, Rejection
from ramparts.policy.mfa import SecondFactors
from ramparts.policy.revocations import SqlRevocations
from ramparts.policy.token_keys import TokenKeys
from ramparts.policy.tokens import Tokens
from ramparts.privacy.keystore import LocalKeyStore
from ramparts.store import create_engine

CliRun = Callable[[list[str]], tuple[int, str, str]]
"""The ``cli`` fixture of tests/conftest.py."""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("RAMPARTS_DATABASE_URL", "RAMPARTS_REDIS_URL", "RAMPARTS_STATE_DIR"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def _library(home: Path) -> tuple[Identities, Tokens]:
    """What a service would build from the same state folder."""
    state = home / ".ramparts"
    engine = create_engine(f"sqlite:///{state / 'ramparts.db'}")
    clock = SystemClock()
    revocations = SqlRevocations(engine, clock=clock)
    hasher = KeyHasher.from_file(state / "keys" / PEPPER_FILE, create=False)
    keys = TokenKeys(state / "keys" / "token-signing", clock=clock, retain=timedelta(minutes=16))
    tokens = Tokens(keys, revocations, clock=clock, issuer="ramparts", audience="ramparts")
    return Identities(engine, hasher, clock=clock, revocations=revocations), tokens


def test_create_token_rotate_revoke(home: Path, cli: CliRun) -> None:
    code, out, _ = cli(["identity", "create", "ci-bot", "--role", "data-scientist",
                        "--role", "evaluator", "--service"])  # fmt: skip
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].startswith("created service identity ci-bot (id ")
    assert lines[0].endswith("with role(s) data-scientist, evaluator")
    assert "shown once" in lines[1]
    api_key = lines[2]
    assert api_key.startswith("rmp_")
    pepper = home / ".ramparts" / "keys" / PEPPER_FILE
    assert stat.S_IMODE(pepper.stat().st_mode) == 0o600

    code, token, err = cli(["identity", "token", "ci-bot"])
    assert code == 0
    token = token.strip()
    assert token.count(".") == 2
    assert err.startswith("token for ci-bot (jti ")

    identities, tokens = _library(home)
    principal = identities.authenticate(api_key)
    verified = tokens.verify(token)
    assert verified.principal.id == principal.id
    assert verified.principal.roles == ("data-scientist", "evaluator")
    assert verified.expires_at - verified.issued_at == timedelta(minutes=15)

    code, out, _ = cli(["identity", "rotate", "ci-bot"])
    assert code == 0
    new_key = out.splitlines()[-1]
    assert "previous key(s) stop working at" in out
    identities.authenticate(api_key)  # still valid during the grace period
    identities.authenticate(new_key)

    code, out, _ = cli(["identity", "revoke", "ci-bot"])
    assert code == 0
    assert out.strip() == (
        "revoked ci-bot: 2 API key(s) disabled, its tokens are denied from now on"
    )
    for key in (api_key, new_key):
        with pytest.raises(AuthenticationError) as info:
            identities.authenticate(key)
        assert info.value.reason is Rejection.IDENTITY_REVOKED
    with pytest.raises(AuthenticationError) as info:
        tokens.verify(token)
    assert info.value.reason is Rejection.IDENTITY_REVOKED
    code, _, err = cli(["identity", "token", "ci-bot"])
    assert code == 2
    assert err == "ramparts: error: identity 'ci-bot' is revoked: no token is issued\n"

    code, out, _ = cli(["audit", "tail", "-n", "10"])
    actions = [json.loads(line)["event"]["action"] for line in out.splitlines()]
    assert actions == ["identity.create", "identity.token.issue", "identity.key.rotate",
                       "identity.revoke"]  # fmt: skip
    assert api_key not in out
    assert new_key not in out
    assert token not in out


def test_json_output_list_and_jwks(home: Path, cli: CliRun) -> None:
    code, out, _ = cli(["-f", "json", "identity", "create", "alice", "--role", "model-approver"])
    created = json.loads(out)
    assert created["kind"] == "human"
    assert created["api_key"].startswith(f"rmp_{created['key_id']}_")
    code, out, _ = cli(["-f", "json", "identity", "token", "alice"])
    assert json.loads(out)["subject"] == created["id"]
    cli(["identity", "create", "ci-bot", "--role", "evaluator", "--service"])
    code, out, _ = cli(["identity", "list"])
    assert code == 0
    assert [line.split()[:3] for line in out.splitlines()] == [
        ["NAME", "KIND", "STATE"],
        ["alice", "human", "active"],
        ["ci-bot", "service", "active"],
    ]
    assert created["api_key"] not in out
    code, out, _ = cli(["-f", "json", "identity", "list"])
    assert [i["name"] for i in json.loads(out)] == ["alice", "ci-bot"]
    code, out, _ = cli(["identity", "jwks"])
    (key,) = json.loads(out)["keys"]
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
    code, out, _ = cli(["identity", "jwks", "--rotate"])
    assert [k["kid"] for k in json.loads(out)["keys"]][1] == key["kid"]


def test_es256_and_a_shorter_lifetime_from_settings(home: Path, cli: CliRun) -> None:
    (home / "ramparts.toml").write_text(
        '[identity]\ntoken_algorithm = "ES256"\ntoken_lifetime_minutes = 5\n'
        'issuer = "https://ramparts.example"\n'
    )
    cli(["identity", "create", "ci-bot", "--role", "evaluator", "--service"])
    code, out, _ = cli(["-f", "json", "identity", "token", "ci-bot"])
    assert code == 0
    issued = json.loads(out)
    code, out, _ = cli(["identity", "jwks"])
    (key,) = json.loads(out)["keys"]
    assert (key["kty"], key["crv"], key["alg"]) == ("EC", "P-256", "ES256")
    assert key["kid"] == issued["kid"]
    claims = jwt.decode(issued["token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 5 * 60
    assert claims["iss"] == "https://ramparts.example"
    assert jwt.get_unverified_header(issued["token"])["alg"] == "ES256"


def test_mistakes_are_one_line(home: Path, cli: CliRun) -> None:
    code, _, err = cli(["identity", "create", "alice", "--role", "model-aprover"])
    assert code == 2
    assert err.startswith("ramparts: error: unknown role(s) model-aprover (known: admin, ")
    code, _, err = cli(["identity", "create", "alice"])
    assert code == 4
    assert "--role" in err
    code, _, err = cli(["identity", "token", "ghost"])
    assert code == 2
    assert err == "ramparts: error: no identity named 'ghost'\n"
    cli(["identity", "create", "alice", "--role", "model-approver"])
    code, _, err = cli(["identity", "create", "alice", "--role", "model-approver"])
    assert code == 2
    assert err == "ramparts: error: an identity named 'alice' already exists\n"
    code, _, err = cli(["identity", "rotate", "alice", "--grace", "-1"])
    assert code == 2
    assert "--grace must be >= 0" in err


def test_custom_roles_from_a_policy_file(home: Path, cli: CliRun) -> None:
    (home / "roles.yaml").write_text(
        "roles:\n  night-shift:\n    allow:\n      - {actions: [read], resources: [model]}\n"
    )
    code, _, _ = cli(["identity", "create", "bob", "--role", "night-shift"])
    assert code == 2
    code, out, _ = cli(["identity", "create", "bob", "--role", "night-shift",
                        "--policy", "roles.yaml"])  # fmt: skip
    assert code == 0, out


def test_teams_from_create_to_list_token_and_api_key(home: Path, cli: CliRun) -> None:
    code, out, _ = cli(["identity", "create", "vision-bot", "--role", "evaluator", "--service",
                        "--team", "vision", "--team", "nlp"])  # fmt: skip
    assert code == 0, out
    assert out.splitlines()[0].endswith("with role(s) evaluator in team(s) nlp, vision")
    api_key = out.splitlines()[2]
    cli(["identity", "create", "auditor", "--role", "model-auditor"])
    code, out, _ = cli(["identity", "list"])
    assert [line.split()[-2:] for line in out.splitlines()] == [
        ["ROLES", "TEAMS"],
        ["model-auditor", "-"],
        ["evaluator", "nlp,vision"],
    ]
    code, out, _ = cli(["-f", "json", "identity", "list"])
    assert [i["teams"] for i in json.loads(out)] == [[], ["nlp", "vision"]]
    code, token, _ = cli(["identity", "token", "vision-bot"])
    identities, tokens = _library(home)
    assert tokens.verify(token.strip()).principal.teams == ("nlp", "vision")
    assert identities.authenticate(api_key).teams == ("nlp", "vision")
    code, out, _ = cli(["-f", "json", "identity", "create", "x", "--role", "evaluator",
                        "--team", "ml"])  # fmt: skip
    assert json.loads(out)["teams"] == ["ml"]
    code, _, err = cli(["identity", "create", "y", "--role", "evaluator", "--team", "ML Ops"])
    assert code == 2
    assert err.startswith("ramparts: error: team name 'ML Ops' is not allowed")
    code, _, err = cli(["identity", "create", LOCAL_ADMIN_ID, "--role", "admin"])
    assert code == 2
    assert err == (
        "ramparts: error: the identity name 'local-admin' is reserved for the local administrator\n"
    )


def _factors(home: Path) -> SecondFactors:
    state = home / ".ramparts"
    key = LocalKeyStore(state / "keys").get("mfa-secrets")
    engine = create_engine(f"sqlite:///{state / 'ramparts.db'}")
    return SecondFactors(engine, key, clock=SystemClock())


def _fresh_code(secret: str) -> str:
    """A code not about to expire, so that a test is not at a step's edge."""
    totp = pyotp.TOTP(secret)
    if totp.interval - time.time() % totp.interval < 2:
        time.sleep(2)
    return totp.now()


def test_mfa_enrol_then_an_mfa_token(home: Path, cli: CliRun) -> None:
    cli(["identity", "create", "alice", "--role", "model-approver"])
    code, out, err = cli(["identity", "mfa", "alice"])
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "enrolled a TOTP second factor for alice; add it to an authenticator app."
    assert "will not be shown again" in lines[1]
    uri, secret = lines[2].split()[-1], lines[3].split()[-1]
    assert uri.startswith("otpauth://totp/ramparts:alice?")
    assert pyotp.parse_uri(uri).secret == secret
    key = home / ".ramparts" / "keys" / "mfa-secrets.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600

    totp_code = _fresh_code(secret)
    code, out, err = cli(["-f", "json", "identity", "token", "alice", "--totp", totp_code])
    assert code == 0, err
    issued = json.loads(out)
    assert issued["mfa"] is True
    _, tokens = _library(home)
    verified = tokens.verify(issued["token"])
    assert verified.mfa
    assert jwt.decode(issued["token"], options={"verify_signature": False})["amr"] == ["otp"]

    code, out, err = cli(["identity", "token", "alice", "--totp", totp_code])  # a replay
    assert (code, out) == (2, "")
    assert err == "ramparts: error: the one-time code was already used: wait for the next one\n"
    code, out, err = cli(["identity", "token", "alice", "--totp", "12345"])
    assert (code, out) == (2, "")
    assert err == "ramparts: error: the one-time code is not 6 digits\n"
    code, out, _ = cli(["identity", "token", "alice"])
    assert code == 0
    assert not tokens.verify(out.strip()).mfa  # no code, no MFA claim

    cli(["identity", "create", "bob", "--role", "evaluator"])
    code, out, err = cli(["identity", "token", "bob", "--totp", "123456"])
    assert (code, out) == (2, "")
    assert err == "ramparts: error: bob has no second factor: ramparts identity mfa bob\n"

    code, out, _ = cli(["audit", "tail", "-n", "20"])
    events = [json.loads(line)["event"] for line in out.splitlines()]
    assert [e["action"] for e in events if e["action"].startswith("identity.mfa")] == [
        "identity.mfa.enroll"
    ]
    assert secret not in out


def test_mfa_for_the_local_admin_in_json_and_removal(home: Path, cli: CliRun) -> None:
    code, out, err = cli(["-f", "json", "identity", "mfa", "--local"])
    assert code == 0, err
    enrolled = json.loads(out)
    assert enrolled["principal_id"] == LOCAL_ADMIN_ID
    assert enrolled["uri"].startswith("otpauth://totp/ramparts:local-admin?")
    assert "will not be shown again" in err
    factors = _factors(home)
    factors.verify(LOCAL_ADMIN_ID, _fresh_code(enrolled["secret"]))
    code, out, _ = cli(["identity", "mfa", "--local", "--remove"])
    assert (code, out) == (0, "removed the second factor of local-admin\n")
    assert not factors.enrolled(LOCAL_ADMIN_ID)
    code, _, err = cli(["identity", "mfa", "--local", "--remove"])
    assert code == 2
    assert err == "ramparts: error: no second factor is enrolled for 'local-admin'\n"


def test_mfa_mistakes(home: Path, cli: CliRun) -> None:
    code, _, err = cli(["identity", "mfa"])
    assert code == 4
    assert "give either an identity NAME or --local" in err
    cli(["identity", "create", "alice", "--role", "model-approver"])
    code, _, err = cli(["identity", "mfa", "alice", "--local"])
    assert code == 4
    code, _, err = cli(["identity", "mfa", "ghost"])
    assert (code, err) == (2, "ramparts: error: no identity named 'ghost'\n")
    cli(["identity", "revoke", "alice"])
    code, _, err = cli(["identity", "mfa", "alice"])
    assert (code, err) == (2, "ramparts: error: identity 'alice' is revoked: no second factor\n")
