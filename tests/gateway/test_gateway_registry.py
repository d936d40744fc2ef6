"""Routes with ``registry = true``: only the version a stage serves is called, and the
audit record names it; a registry that cannot be read refuses the call."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from ramparts.cli.gateway_cmd import build_gateway
from ramparts.cli.identity_cmd import wiring
from ramparts.cli.state import AppState
from ramparts.core.interface import DeployedVersion, ModelVersions
from ramparts.gateway.config import GatewayConfig, Route
from ramparts.gateway.interface import GatewayError
from ramparts.gateway.mock import MockUpstream
from ramparts.registry.deployed import RegistryVersions
from ramparts.store.interface import StoreError

CliRun = Callable[[list[str]], tuple[int, str, str]]


@dataclass
class Front:
    url: str
    state: AppState
    key: str
    gateway: Any

    def chat(self) -> httpx.Response:
        payload = {"model": "mock", "messages": [{"role": "user", "content": "hello"}]}
        headers = {"Authorization": f"Bearer {self.key}"}
        return httpx.post(self.url + "/v1/chat/completions", json=payload, headers=headers)

    def last_event(self) -> dict[str, Any]:
        entries = list(wiring(self.state).sink.entries())  # type: ignore[attr-defined]
        event: dict[str, Any] = json.loads(entries[-1].event)
        return event


@pytest.fixture
def front(tmp_path: Path, serve: Callable[[Any], str], monkeypatch: pytest.MonkeyPatch) -> Front:
    environ = {"RAMPARTS_STATE_DIR": str(tmp_path / "state")}
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("RAMPARTS_DATABASE_URL", raising=False)
    state = AppState(environ=environ)
    upstream = serve(MockUpstream()) + "/v1"
    config = GatewayConfig(
        routes=(Route("dev", upstream, environment="dev", registry=True),), token_endpoint=False
    )
    gateway = build_gateway(state, config, [])
    people = wiring(state)
    key = people.identities.create("app", ["model-consumer"]).api_key
    people.close()
    return Front(serve(gateway), state, key, gateway)


def _code(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def test_only_the_deployed_version_is_served_and_recorded(
    front: Front, cli: CliRun, tmp_path: Path
) -> None:
    assert _code(front.chat()) == (404, "model_not_deployed")
    model = tmp_path / "mock"
    model.mkdir()
    (model / "config.json").write_text('{"labels": 2}')
    code, _, err = cli(["registry", "push", str(model), "--name", "mock"])
    assert code == 0, err
    code, _, err = cli(["registry", "promote", "mock@1", "--stage", "dev"])
    assert code == 0, err
    front.gateway._versions._ttl = 0.0  # see the promotion at once
    response = front.chat()
    assert response.status_code == 200, response.text
    details = front.last_event()["details"]
    assert details["model_version"] == "mock@1"
    assert len(details["model_digest"]) == 64
    assert cli(["registry", "quarantine", "mock@1", "--reason", "drift"])[0] == 0
    assert _code(front.chat()) == (404, "model_not_deployed")


class _Unreadable(ModelVersions):
    def deployed(self, name: str, stage: str) -> DeployedVersion | None:
        raise StoreError("the database is unreachable")


def test_a_registry_that_cannot_be_read_refuses_the_call(front: Front) -> None:
    front.gateway._versions = _Unreadable()
    assert _code(front.chat()) == (503, "registry_unavailable")
    assert front.last_event()["outcome"] == "denied"


def test_answers_are_kept_one_second() -> None:
    calls: list[str] = []

    class Registry:
        def versions(self, caller: object, name: str, kind: str) -> list[Any]:
            calls.append(name)
            return []

    clock = [100.0]
    versions = RegistryVersions(Registry(), object(), monotonic=lambda: clock[0])  # type: ignore[arg-type]
    assert versions.deployed("m", "prod") is None
    clock[0] += 0.5
    assert versions.deployed("m", "prod") is None
    assert calls == ["m"]
    clock[0] += 0.6
    versions.deployed("m", "prod")
    assert calls == ["m", "m"]


def test_a_registry_route_needs_a_stage_name() -> None:
    with pytest.raises(GatewayError, match="environment dev, staging or prod"):
        Route("r", "http://127.0.0.1:1/v1", environment="lab", registry=True)
