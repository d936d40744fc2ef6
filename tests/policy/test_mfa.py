"""TOTP second factors: enrolment, the time window, replays, sealing, and audit failures."""

from __future__ import annotations

import base64
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import pytest
import sqlalchemy as sa

from ramparts.core.clock import FrozenClock
from ramparts.core.events import MemorySink
from ramparts.core.interface import Event
from ramparts.errors import AuditError, ConfigError
from ramparts.policy.identity_types import LOCAL_ADMIN_ID, IdentityError
from ramparts.policy.mfa import Enrollment, MfaError, SecondFactors
from ramparts.store.schema import identity_mfa

START = datetime(2026, 12, 1, 12, 0, 10, tzinfo=UTC)  # 10 s into a 30 s time step
KEY = bytes(range(32))
STEP = timedelta(seconds=30)


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
def sink() -> SwitchableSink:
    return SwitchableSink()


@pytest.fixture
def factors(state_db: sa.Engine, clock: FrozenClock, sink: SwitchableSink) -> SecondFactors:
    return SecondFactors(state_db, KEY, clock=clock, sink=sink)


def code(enrollment: Enrollment, at: datetime) -> str:
    """The code an authenticator app shows at ``at``."""
    return pyotp.TOTP(enrollment.secret).at(at)


def refusal(factors: SecondFactors, principal_id: str, value: str) -> str:
    with pytest.raises(MfaError) as info:
        factors.verify(principal_id, value)
    assert "\n" not in str(info.value)
    return str(info.value)


def test_enrol_then_verify_with_an_authenticator_app(
    factors: SecondFactors, clock: FrozenClock, sink: SwitchableSink
) -> None:
    assert not factors.enrolled("p-1")
    enrollment = factors.enroll("p-1", actor="alice", issuer="acme", label="bob@acme")
    assert enrollment.principal_id == "p-1"
    assert len(base64.b32decode(enrollment.secret)) == 20  # 160 bits
    assert enrollment.secret not in repr(enrollment)
    parsed = urlsplit(enrollment.uri)
    assert (parsed.scheme, parsed.netloc) == ("otpauth", "totp")
    assert unquote(parsed.path) == "/acme:bob@acme"
    assert parse_qs(parsed.query) == {"secret": [enrollment.secret], "issuer": ["acme"]}
    app = pyotp.parse_uri(enrollment.uri)  # what a phone reads from the QR code
    assert isinstance(app, pyotp.TOTP)
    assert factors.enrolled("p-1")
    factors.verify("p-1", app.at(clock.now()))
    (event,) = sink.events
    assert (event.action, event.actor, event.resource) == (
        "identity.mfa.enroll",
        "alice",
        "principal:p-1",
    )
    assert event.details == {"principal_id": "p-1", "replaced": False}
    assert enrollment.secret not in repr(event)


def test_the_current_step_and_one_either_side_are_accepted(
    factors: SecondFactors, clock: FrozenClock
) -> None:
    enrollment = factors.enroll("p-1", actor="alice")
    now = clock.now()
    assert "wrong" in refusal(factors, "p-1", code(enrollment, now - 2 * STEP))
    assert "wrong" in refusal(factors, "p-1", code(enrollment, now + 2 * STEP))
    factors.verify("p-1", code(enrollment, now - STEP))  # the phone's clock is behind
    factors.verify("p-1", code(enrollment, now))
    factors.verify("p-1", code(enrollment, now + STEP))  # or ahead


def test_malformed_wrong_and_unenrolled(factors: SecondFactors, clock: FrozenClock) -> None:
    assert refusal(factors, "p-1", "123456") == "no second factor is enrolled for 'p-1'"
    enrollment = factors.enroll("p-1", actor="alice")
    for bad in ("", "12345", "1234567", "abcdef", " 123456", "12 345", "\u0661" * 6, "123456\n"):
        assert refusal(factors, "p-1", bad) == "the one-time code is not 6 digits"
    window = {code(enrollment, clock.now() + n * STEP) for n in (-1, 0, 1)}
    wrong = next(f"{n:06d}" for n in range(10**6) if f"{n:06d}" not in window)
    assert refusal(factors, "p-1", wrong) == "the one-time code is wrong"
    assert refusal(factors, "p-2", code(enrollment, clock.now())).startswith("no second factor")
    factors.verify("p-1", code(enrollment, clock.now()))  # failures spend nothing


def test_a_code_is_never_accepted_twice(factors: SecondFactors, clock: FrozenClock) -> None:
    enrollment = factors.enroll("p-1", actor="alice")
    first = code(enrollment, clock.now())
    factors.verify("p-1", first)
    replay = "the one-time code was already used: wait for the next one"
    assert refusal(factors, "p-1", first) == replay
    clock.advance(STEP)
    assert refusal(factors, "p-1", first) == replay  # still in the window, still spent
    factors.verify("p-1", code(enrollment, clock.now()))
    factors.verify("p-1", code(enrollment, clock.now() + STEP))
    # After a code of the next step, the current step's code is older: refused too.
    clock.advance(timedelta(seconds=5))
    assert refusal(factors, "p-1", code(enrollment, clock.now())) == replay


def test_concurrent_uses_of_one_code_let_exactly_one_through(
    factors: SecondFactors, clock: FrozenClock
) -> None:
    enrollment = factors.enroll("p-1", actor="alice")
    for _ in range(3):
        value = code(enrollment, clock.now())
        barrier = threading.Barrier(6)
        outcomes: list[str] = []

        def attempt(
            value: str = value, barrier: threading.Barrier = barrier, outcomes: list[str] = outcomes
        ) -> None:
            barrier.wait()
            try:
                factors.verify("p-1", value)
            except MfaError as exc:
                outcomes.append(str(exc))
            else:
                outcomes.append("accepted")

        threads = [threading.Thread(target=attempt) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert (
            sorted(outcomes)
            == ["accepted"] + ["the one-time code was already used: wait for the next one"] * 5
        )
        clock.advance(STEP)


def test_the_secret_is_sealed_and_bound_to_its_principal(
    factors: SecondFactors, state_db: sa.Engine, clock: FrozenClock, sink: SwitchableSink
) -> None:
    mine = factors.enroll("p-1", actor="alice")
    theirs = factors.enroll("p-2", actor="alice")
    with state_db.connect() as conn:
        query = sa.select(identity_mfa.c.principal_id, identity_mfa.c.secret_sealed)
        rows = {row.principal_id: row.secret_sealed for row in conn.execute(query)}
    sealed = bytes(rows["p-1"])
    assert len(sealed) == 12 + 20 * 8 // 5 + 16  # nonce, base32 secret, GCM tag
    assert mine.secret.encode() not in sealed
    assert base64.b32decode(mine.secret) not in sealed
    assert sealed[:12] != bytes(rows["p-2"])[:12]  # a fresh nonce each time
    # Moving p-1's sealed secret onto p-2's row does not give p-2 p-1's secret.
    with state_db.begin() as conn:
        conn.execute(
            identity_mfa.update()
            .where(identity_mfa.c.principal_id == "p-2")
            .values(secret_sealed=sealed)
        )
    reason = refusal(factors, "p-2", code(mine, clock.now()))
    assert reason.startswith("the second factor of 'p-2' cannot be unsealed")
    assert refusal(factors, "p-2", code(theirs, clock.now())) == reason
    # Another sealing key opens nothing.
    other = SecondFactors(state_db, b"\x01" * 32, clock=clock, sink=sink)
    assert refusal(other, "p-1", code(mine, clock.now())).startswith(
        "the second factor of 'p-1' cannot be unsealed"
    )
    factors.verify("p-1", code(mine, clock.now()))
    with pytest.raises(ConfigError, match="32 bytes"):
        SecondFactors(state_db, b"short", clock=clock)


def test_enrolling_again_replaces_the_secret(
    factors: SecondFactors, clock: FrozenClock, sink: SwitchableSink
) -> None:
    old = factors.enroll("p-1", actor="alice")
    factors.verify("p-1", code(old, clock.now()))
    new = factors.enroll("p-1", actor="alice")
    assert new.secret != old.secret
    clock.advance(STEP)
    assert refusal(factors, "p-1", code(old, clock.now())) == "the one-time code is wrong"
    factors.verify("p-1", code(new, clock.now()))
    assert sink.events[-1].details == {"principal_id": "p-1", "replaced": True}


def test_removal(factors: SecondFactors, clock: FrozenClock, sink: SwitchableSink) -> None:
    enrollment = factors.enroll(LOCAL_ADMIN_ID, actor="cli:root")
    factors.remove(LOCAL_ADMIN_ID, actor="cli:root")
    assert not factors.enrolled(LOCAL_ADMIN_ID)
    assert refusal(factors, LOCAL_ADMIN_ID, code(enrollment, clock.now())).startswith(
        "no second factor"
    )
    assert sink.events[-1].action == "identity.mfa.remove"
    with pytest.raises(MfaError, match="no second factor is enrolled for 'local-admin'"):
        factors.remove(LOCAL_ADMIN_ID, actor="cli:root")


def test_a_change_that_cannot_be_audited_is_undone(
    factors: SecondFactors, clock: FrozenClock, sink: SwitchableSink
) -> None:
    sink.failing = True
    with pytest.raises(AuditError):
        factors.enroll("p-1", actor="alice")
    assert not factors.enrolled("p-1")
    sink.failing = False
    kept = factors.enroll("p-1", actor="alice")
    spent = code(kept, clock.now())
    factors.verify("p-1", spent)
    sink.failing = True
    with pytest.raises(AuditError):
        factors.enroll("p-1", actor="mallory")  # a replacement nobody could see
    with pytest.raises(AuditError):
        factors.remove("p-1", actor="mallory")
    assert refusal(factors, "p-1", spent).startswith("the one-time code was already used")
    clock.advance(STEP)
    factors.verify("p-1", code(kept, clock.now()))  # the first secret, as it was


def test_mfa_errors_are_identity_errors() -> None:
    assert issubclass(MfaError, IdentityError)
