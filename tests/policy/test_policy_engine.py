"""The policy engine: a decision table for every built-in role, deny by default, explain."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ramparts.core.events import MemorySink
from ramparts.core.types import Principal
from ramparts.errors import AuditError
from ramparts.policy.engine import PolicyEngine
from ramparts.policy.interface import RESOURCE_TYPES, Context, PolicyError, Request, Resource
from ramparts.policy.roles import BUILTIN_ROLES, load_roles

NOON = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # a Tuesday
ENGINE = PolicyEngine(BUILTIN_ROLES)


def ask(role: str, action: str, resource: str, *, mfa: bool = False, **attrs: str) -> bool:
    principal = Principal(id="p-1", name="pat", roles=(role,))
    request = Request(principal, action, Resource.parse(resource, **attrs), Context(NOON, mfa=mfa))
    return ENGINE.decide(request).allowed


# role, action, resource, attributes, mfa, expected
TABLE = [
    ("data-scientist", "read", "dataset", {}, False, True),
    ("data-scientist", "update", "dataset", {}, False, True),
    ("data-scientist", "create", "model", {}, False, True),
    ("data-scientist", "approve", "model", {}, True, False),
    ("data-scientist", "invoke", "endpoint", {"environment": "dev"}, False, True),
    ("data-scientist", "invoke", "endpoint", {"environment": "prod"}, False, False),
    ("data-scientist", "read", "audit", {}, False, False),
    ("model-author", "create", "model", {}, False, True),
    ("model-author", "update", "model", {}, False, True),
    ("model-author", "approve", "model", {}, True, False),
    ("model-author", "promote", "model", {}, True, False),
    ("model-author", "delete", "model", {}, False, False),
    ("model-approver", "approve", "model", {}, True, True),
    ("model-approver", "approve", "model", {}, False, False),
    ("model-approver", "read", "audit", {}, False, True),
    ("model-approver", "create", "model", {}, True, False),
    ("model-approver", "promote", "model", {}, True, False),
    ("model-publisher", "promote", "model", {}, True, True),
    ("model-publisher", "promote", "model", {}, False, False),
    ("model-publisher", "rollback", "stage", {}, True, True),
    ("model-publisher", "approve", "model", {}, True, False),
    ("model-publisher", "update", "model", {}, True, False),
    ("model-auditor", "read", "audit", {}, False, True),
    ("model-auditor", "verify", "audit", {}, False, True),
    ("model-auditor", "export", "audit", {}, False, True),
    ("model-auditor", "read", "model", {}, False, True),
    ("model-auditor", "update", "model", {}, True, False),
    ("model-auditor", "erase", "audit", {}, True, False),
    ("model-auditor", "read", "key", {}, True, False),
    ("evaluator", "invoke", "sandbox", {}, False, True),
    ("evaluator", "invoke", "endpoint", {"environment": "prod"}, True, False),
    ("evaluator", "read", "dataset", {}, False, False),
    ("model-consumer", "invoke", "endpoint", {"environment": "prod"}, False, True),
    ("model-consumer", "read", "model", {}, False, False),
    ("model-consumer", "invoke", "sandbox", {}, False, False),
    ("fine-tuner", "read", "dataset", {"classification": "internal"}, False, True),
    ("fine-tuner", "read", "dataset", {"classification": "restricted"}, False, False),
    ("fine-tuner", "read", "dataset", {}, False, False),  # unclassified counts as restricted
    ("fine-tuner", "create", "model", {}, False, True),
    ("fine-tuner", "approve", "model", {}, True, False),
    ("admin", "update", "policy", {}, True, True),
    ("admin", "create", "identity", {}, True, True),
    ("admin", "update", "policy", {}, False, False),
    ("admin", "delete", "audit", {}, True, False),
    ("admin", "update", "audit", {}, True, False),
]


@pytest.mark.parametrize(("role", "action", "resource", "attrs", "mfa", "expected"), TABLE)
def test_builtin_role_decision_table(
    role: str, action: str, resource: str, attrs: dict[str, str], mfa: bool, expected: bool
) -> None:
    assert ask(role, action, resource, mfa=mfa, **attrs) is expected


def test_every_builtin_role_is_in_the_table() -> None:
    assert {row[0] for row in TABLE} == set(BUILTIN_ROLES)


ACTIONS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12)


@given(
    role=st.sampled_from(sorted(BUILTIN_ROLES)),
    action=ACTIONS,
    resource=st.sampled_from(RESOURCE_TYPES),
    mfa=st.booleans(),
)
def test_anything_not_granted_is_denied(role: str, action: str, resource: str, mfa: bool) -> None:
    """An allow needs a rule that names the action (or *) on the resource type (or *)."""
    rules = BUILTIN_ROLES[role].rules
    granted = any(
        r.effect.value == "allow"
        and ("*" in r.actions or action in r.actions)
        and ("*" in r.resources or resource in r.resources)
        for r in rules
    )
    if not granted:
        assert ask(role, action, resource, mfa=mfa, environment="dev") is False


def test_no_roles_is_denied_and_explained() -> None:
    request = Request(Principal(id="p", name="nobody"), "read", Resource("model"), Context(NOON))
    decision = ENGINE.decide(request)
    assert not decision.allowed
    assert decision.reason == "denied: no role grants this action on this resource type"


def test_explicit_deny_wins_over_any_allow() -> None:
    principal = Principal(id="p", name="pat", roles=("admin", "model-auditor"))
    request = Request(principal, "delete", Resource("audit"), Context(NOON, mfa=True))
    decision = ENGINE.decide(request)
    assert not decision.allowed
    assert decision.reason.startswith("denied by admin: deny delete,update on audit")


def test_explain_names_the_failed_condition() -> None:
    principal = Principal(id="p", name="pat", roles=("model-approver",))
    decision = ENGINE.decide(Request(principal, "approve", Resource("model"), Context(NOON)))
    assert not decision.allowed
    assert any("mfa=True not met" in line for line in decision.trace)


def test_custom_roles_from_yaml(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        """
roles:
  night-approver:
    allow:
      - actions: [approve]
        resources: [model]
        when:
          hours: "18:00-08:00"
          networks: ["10.20.0.0/16"]
          weekdays: [mon, tue, wed, thu, fri]
          mfa: true
"""
    )
    engine = PolicyEngine(load_roles([policy]))
    principal = Principal(id="p", name="n", roles=("night-approver",))

    def at(hour: int, ip: str) -> bool:
        when = NOON.replace(hour=hour)
        ctx = Context(when, source_ip=ipaddress.ip_address(ip), mfa=True)
        return engine.decide(Request(principal, "approve", Resource("model"), ctx)).allowed

    assert at(23, "10.20.1.5") is True
    assert at(3, "10.20.1.5") is True
    assert at(12, "10.20.1.5") is False
    assert at(23, "192.168.1.5") is False


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("roles: {r: {allow: [{actions: [read], resources: [model], when: {}}]}}", "empty 'when'"),
        ("roles: {r: {allow: [{actions: [], resources: [model]}]}}", "non-empty list"),
        ("roles: {r: {allow: [{actions: [read], resources: [spaceship]}]}}", "unknown resource"),
        ("roles: {r: {allow: [{actions: [read], resources: [model], when: {moon: full}}]}}", "unknown condition"),
        ("roles: {r: {allow: [{actions: [read], resources: [model], when: {mfa: false}}]}}", "only be required"),
        ("roles: {r: {}}", "has no rule"),
        ("roles: [1, 2]", "'roles' mapping"),
        ("roles: {r: {allow: [{actions: [read], resources: [model], when: {hours: '25:00-26:00'}}]}}", "hours"),
    ],
)  # fmt: skip
def test_bad_policy_files_are_refused(tmp_path: Path, text: str, message: str) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text(text)
    with pytest.raises(PolicyError, match=message):
        load_roles([policy])


def test_unknown_role_on_a_principal_is_an_error() -> None:
    request = Request(
        Principal(id="p", name="pat", roles=("admn",)), "read", Resource("model"), Context(NOON)
    )
    with pytest.raises(PolicyError, match="unknown role 'admn'"):
        ENGINE.decide(request)


def test_decisions_are_audited_and_a_failing_sink_denies() -> None:
    sink = MemorySink()
    engine = PolicyEngine(BUILTIN_ROLES, sink=sink)
    principal = Principal(id="p-9", name="pat", roles=("model-auditor",))
    request = Request(principal, "read", Resource("audit"), Context(NOON))
    assert engine.decide(request).allowed
    (event,) = sink.events
    assert (event.actor, event.action, event.outcome.value) == (
        "p-9",
        "policy.decide:read",
        "success",
    )

    class Broken:
        def emit(self, event: object) -> None:
            raise AuditError("disk full")

    decision = PolicyEngine(BUILTIN_ROLES, sink=Broken()).decide(request)
    assert not decision.allowed
    assert "could not be audited" in decision.reason


def test_cli_explain_and_roles(cli: Callable[[list[str]], tuple[int, str, str]]) -> None:
    run = cli  # the cli fixture of tests/conftest.py
    argv = ["policy", "explain", "--principal", "alice", "--role", "model-approver",
            "--action", "approve", "--resource", "model:fraud@7"]  # fmt: skip
    code, out, _ = run(argv)
    assert code == 1
    assert out.startswith("DENY: denied: the conditions")
    assert "mfa=True not met" in out
    code, out, _ = run([*argv, "--mfa"])
    assert code == 0
    assert out.startswith("ALLOW: allowed by model-approver")
    code, out, _ = run(["policy", "roles"])
    assert code == 0
    assert "model-auditor: read-only on the audit log and the registry" in out
    code, _, err = run([*argv, "--ip", "not-an-ip"])
    assert code == 2
    assert "--time or --ip" in err


def test_docs_library_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    import re  # noqa: PLC0415

    doc = (Path(__file__).parents[2] / "docs" / "policy.md").read_text()
    code = re.search(r"## Library\n\n```python\n(.*?)```", doc, re.S)
    assert code is not None
    exec(compile(code.group(1), "docs/policy.md", "exec"), {})  # noqa: S102 - our own docs
    assert capsys.readouterr().out.startswith("True allowed by model-publisher")


def test_cli_explain_reads_the_roles_of_an_identity(
    cli: Callable[[list[str]], tuple[int, str, str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli(["identity", "create", "alice", "--role", "model-auditor"])[0] == 0
    code, out, _ = cli(
        ["policy", "explain", "--principal", "alice", "--action", "read", "--resource", "audit"]
    )
    assert (code, out.splitlines()[0]) == (
        0,
        "ALLOW: allowed by model-auditor: allow export,read,verify on audit",
    )
    code, _, err = cli(
        ["policy", "explain", "--principal", "bob", "--action", "read", "--resource", "audit"]
    )
    assert code == 2
    assert "no identity named 'bob'" in err
