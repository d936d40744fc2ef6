"""Identities and API keys: creation, lookup, keyed-hash storage, rotation, revocation."""

from __future__ import annotations

import hashlib
import hmac
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ramparts.core.clock import FrozenClock
from ramparts.core.events import MemorySink
from ramparts.core.interface import Event
from ramparts.core.types import PrincipalKind
from ramparts.errors import AuditError, InputError
from ramparts.policy.apikeys import PEPPER_FILE, KeyHasher
from ramparts.policy.identities import Identities
from ramparts.policy.identity_types import (
    LOCAL_ADMIN_ID,
    AuthenticationError,
    IdentityError,
    Rejection,
)
from ramparts.policy.revocations import SqlRevocations
from ramparts.store import create_engine, upgrade

START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class SwitchableSink(MemorySink):
    """Records events until told to fail."""

    failing = False

    def emit(self, event: Event) -> None:
        if self.failing:
            raise AuditError("the audit log could not record the event: disk full")
        super().emit(event)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def pepper_path(tmp_path: Path) -> Path:
    return tmp_path / "keys" / PEPPER_FILE


@pytest.fixture
def sink() -> SwitchableSink:
    return SwitchableSink()


@pytest.fixture
def directory(
    state_db: sa.Engine, pepper_path: Path, clock: FrozenClock, sink: SwitchableSink
) -> Identities:
    revocations = SqlRevocations(state_db, clock=clock)
    return Identities(
        state_db, KeyHasher.from_file(pepper_path), clock=clock, sink=sink, revocations=revocations
    )


def _rejected(directory: Identities, key: str) -> Rejection:
    with pytest.raises(AuthenticationError) as info:
        directory.authenticate(key)
    return info.value.reason


def test_create_then_authenticate_with_the_key_shown_once(
    directory: Identities, sink: SwitchableSink
) -> None:
    issued = directory.create(
        "ci-bot", ["data-scientist", "evaluator", "data-scientist"], kind=PrincipalKind.SERVICE
    )
    assert issued.api_key.startswith(f"rmp_{issued.key_id}_")
    assert len(issued.api_key) == 4 + 8 + 1 + 43
    assert issued.api_key not in repr(issued)
    principal = directory.authenticate(issued.api_key)
    assert principal.id == issued.identity.id
    assert principal.name == "ci-bot"
    assert principal.kind is PrincipalKind.SERVICE
    assert principal.roles == ("data-scientist", "evaluator")
    directory.create("alice", ["model-approver"])
    assert [i.name for i in directory.list()] == ["alice", "ci-bot"]
    assert directory.get("alice").kind is PrincipalKind.HUMAN
    (event,) = [e for e in sink.events if e.resource == "identity:ci-bot"]
    assert event.action == "identity.create"
    assert event.details["key_id"] == issued.key_id
    assert issued.api_key not in repr(event)


def test_no_plaintext_key_in_the_database_only_its_keyed_hash(
    directory: Identities, state_db: sa.Engine, pepper_path: Path, db_url: str
) -> None:
    issued = directory.create("ci-bot", ["evaluator"])
    # rmp_ID_SECRET: the id has no underscore, the (URL-safe base64) secret may have some.
    prefix, key_id, secret = issued.api_key.split("_", 2)
    assert (prefix, key_id) == ("rmp", issued.key_id)
    assert len(secret) == 43  # 256 bits
    dump: list[str] = []
    with state_db.connect() as conn:
        for table in sa.inspect(state_db).get_table_names():
            for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):  # noqa: S608 - our names
                for value in row:
                    dump.append(value.hex() if isinstance(value, bytes) else str(value))
        stored = conn.execute(sa.text("SELECT key_hash FROM identity_api_keys")).scalar_one()
    text = "\n".join(dump)
    assert issued.key_id in text  # the public id is there, to find the record
    assert secret not in text
    assert issued.api_key not in text
    assert hashlib.sha256(issued.api_key.encode()).hexdigest() not in text  # not a plain hash
    pepper = pepper_path.read_bytes()
    assert len(pepper) == 32
    assert stored == hmac.new(pepper, issued.api_key.encode(), hashlib.sha256).digest()
    if db_url.startswith("sqlite"):
        state_db.dispose()
        folder = Path(sa.make_url(db_url).database or "").parent
        for path in folder.glob("ramparts.db*"):  # the file, its WAL and shared memory
            assert secret.encode() not in path.read_bytes()


def test_the_pepper_is_a_private_file_and_a_different_pepper_rejects_every_key(
    directory: Identities, state_db: sa.Engine, pepper_path: Path, clock: FrozenClock
) -> None:
    issued = directory.create("ci-bot", ["evaluator"])
    assert stat.S_IMODE(pepper_path.stat().st_mode) == 0o600
    assert KeyHasher.from_file(pepper_path).digest("x") == KeyHasher.from_file(pepper_path).digest(
        "x"
    )
    other = Identities(state_db, KeyHasher(b"\x01" * 32), clock=clock)
    assert _rejected(other, issued.api_key) is Rejection.BAD_SIGNATURE


def test_lookup_is_by_key_id_and_the_secret_is_compared_in_constant_time(
    directory: Identities, monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = directory.create("ci-bot", ["evaluator"])
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    directory.authenticate(issued.api_key)
    assert len(compared) == 1
    prefix, secret = issued.api_key[:13], issued.api_key[13:]
    flipped = prefix + ("A" if secret[0] != "A" else "B") + secret[1:]
    assert _rejected(directory, flipped) is Rejection.BAD_SIGNATURE
    unknown = "rmp_aaaaaaaa_" + secret
    assert _rejected(directory, unknown) is Rejection.UNKNOWN_KEY
    assert len(compared) == 2  # an unknown id never reaches the comparison
    for malformed in ("", "rmp_", issued.api_key + "x", issued.api_key.upper(), "Bearer x"):
        assert _rejected(directory, malformed) is Rejection.MALFORMED


def test_several_keys_per_identity(directory: Identities, clock: FrozenClock) -> None:
    first = directory.create("ci-bot", ["evaluator"])
    clock.advance(timedelta(seconds=1))
    second = directory.add_key("ci-bot")
    assert first.key_id != second.key_id
    assert directory.authenticate(first.api_key).id == directory.authenticate(second.api_key).id
    assert [k.key_id for k in directory.keys("ci-bot")] == [first.key_id, second.key_id]


def test_rotation_keeps_the_previous_key_for_the_grace_period(
    directory: Identities, clock: FrozenClock, sink: SwitchableSink
) -> None:
    old = directory.create("ci-bot", ["evaluator"])
    new = directory.rotate("ci-bot")
    assert new.previous_valid_until == START + timedelta(hours=24)
    clock.advance(timedelta(hours=23, minutes=59, seconds=59))
    directory.authenticate(old.api_key)
    directory.authenticate(new.api_key)
    clock.advance(timedelta(seconds=1))
    assert _rejected(directory, old.api_key) is Rejection.EXPIRED
    directory.authenticate(new.api_key)
    assert sink.events[-1].action == "identity.key.rotate"
    assert sink.events[-1].details["previous_keys"] == [old.key_id]


def test_rotation_grace_is_configurable_and_never_extends_an_earlier_end(
    directory: Identities, clock: FrozenClock
) -> None:
    first = directory.create("ci-bot", ["evaluator"])
    second = directory.rotate("ci-bot", grace=timedelta(hours=1))
    third = directory.rotate("ci-bot", grace=timedelta(hours=48))
    ends = {k.key_id: k.expires_at for k in directory.keys("ci-bot")}
    assert ends == {
        first.key_id: START + timedelta(hours=1),  # not pushed out to 48 h
        second.key_id: START + timedelta(hours=48),
        third.key_id: None,
    }
    directory.rotate("ci-bot", grace=timedelta(0))
    assert _rejected(directory, third.api_key) is Rejection.EXPIRED
    with pytest.raises(InputError, match="grace"):
        directory.rotate("ci-bot", grace=timedelta(hours=-1))


def test_revoke_disables_every_key_at_once_and_can_be_repeated(
    directory: Identities, sink: SwitchableSink
) -> None:
    first = directory.create("ci-bot", ["evaluator"])
    second = directory.add_key("ci-bot")
    third = directory.rotate("ci-bot")
    other = directory.create("alice", ["model-auditor"])
    result = directory.revoke("ci-bot")
    assert result.keys_revoked == 3
    assert result.identity.revoked
    for issued in (first, second, third):
        assert _rejected(directory, issued.api_key) is Rejection.IDENTITY_REVOKED
    directory.authenticate(other.api_key)  # others are untouched
    assert sink.events[-1].action == "identity.revoke"
    assert directory.revoke("ci-bot").keys_revoked == 0
    with pytest.raises(IdentityError, match="revoked"):
        directory.rotate("ci-bot")
    with pytest.raises(IdentityError, match="revoked"):
        directory.add_key("ci-bot")
    with pytest.raises(IdentityError, match="already exists"):
        directory.create("ci-bot", ["evaluator"])  # names are never reused


def test_unknown_names_and_bad_names_or_roles_are_refused(directory: Identities) -> None:
    for call in (directory.get, directory.revoke, directory.rotate, directory.keys):
        with pytest.raises(IdentityError, match="no identity named 'ghost'"):
            call("ghost")
    for name in ("Alice", "", "a b", "-x", "x" * 129):
        with pytest.raises(IdentityError, match="not allowed"):
            directory.create(name, ["evaluator"])
    for role in ("", "a b", "r" * 65):
        with pytest.raises(IdentityError, match="role name"):
            directory.create("bob", [role])


def test_a_grant_that_cannot_be_audited_is_undone(
    directory: Identities, sink: SwitchableSink, clock: FrozenClock
) -> None:
    sink.failing = True
    with pytest.raises(AuditError):
        directory.create("ci-bot", ["evaluator"])
    with pytest.raises(IdentityError, match="no identity"):
        directory.get("ci-bot")
    sink.failing = False
    first = directory.create("ci-bot", ["evaluator"])
    sink.failing = True
    with pytest.raises(AuditError):
        directory.rotate("ci-bot")
    with pytest.raises(AuditError):
        directory.add_key("ci-bot")
    assert [(k.key_id, k.expires_at) for k in directory.keys("ci-bot")] == [(first.key_id, None)]
    clock.advance(timedelta(days=2))
    directory.authenticate(first.api_key)  # the rotation's grace period was undone too


def test_a_revocation_stands_even_when_it_cannot_be_audited(
    directory: Identities, sink: SwitchableSink
) -> None:
    issued = directory.create("ci-bot", ["evaluator"])
    sink.failing = True
    with pytest.raises(AuditError):
        directory.revoke("ci-bot")
    assert _rejected(directory, issued.api_key) is Rejection.IDENTITY_REVOKED


@pytest.fixture
def sqlite_directory(sqlite_url: str, tmp_path: Path) -> Iterator[Identities]:
    eng = create_engine(sqlite_url)
    upgrade(eng)
    clock = FrozenClock(START)
    directory = Identities(eng, KeyHasher.from_file(tmp_path / PEPPER_FILE), clock=clock)
    directory.create("ci-bot", ["evaluator"])
    yield directory
    eng.dispose()


KEY_SHAPED = st.from_regex(r"rmp_[a-z2-7]{8}_[A-Za-z0-9_-]{43}", fullmatch=True)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.one_of(st.text(), st.binary().map(lambda b: b.decode("latin-1")), KEY_SHAPED))
def test_random_strings_are_never_accepted_as_keys(sqlite_directory: Identities, text: str) -> None:
    with pytest.raises(AuthenticationError):
        sqlite_directory.authenticate(text)


def test_teams_are_stored_and_carried_by_the_principal(
    directory: Identities, sink: SwitchableSink
) -> None:
    issued = directory.create("vision-bot", ["evaluator"], teams=["vision", "nlp", "vision"])
    assert issued.identity.teams == ("nlp", "vision")
    assert directory.get("vision-bot").teams == ("nlp", "vision")
    assert [i.teams for i in directory.list()] == [("nlp", "vision")]
    principal = directory.authenticate(issued.api_key)
    assert principal.teams == ("nlp", "vision")
    assert directory.get("vision-bot").principal() == principal
    assert sink.events[-1].details["teams"] == ["nlp", "vision"]
    everyone = directory.create("auditor", ["model-auditor"])
    assert everyone.identity.teams == ()
    assert directory.authenticate(everyone.api_key).teams == ()  # organisation-wide


def test_bad_team_names_are_refused(directory: Identities) -> None:
    for team in ("", "Vision", "a b", "-x", "x" * 65, "a/b"):
        with pytest.raises(IdentityError, match="team name"):
            directory.create("bob", ["evaluator"], teams=[team])
    with pytest.raises(InputError, match="not one string"):
        directory.create("bob", ["evaluator"], teams="vision")
    with pytest.raises(IdentityError, match="no identity"):
        directory.get("bob")


def test_the_local_admin_name_is_reserved(directory: Identities) -> None:
    assert LOCAL_ADMIN_ID == "local-admin"
    with pytest.raises(IdentityError, match="reserved for the local administrator"):
        directory.create(LOCAL_ADMIN_ID, ["admin"])
    assert directory.list() == []
