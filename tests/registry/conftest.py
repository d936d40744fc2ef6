"""Fixtures of the registry tests: ``plane``, a served control plane (see registry_plane),
and ``cyclonedx``, a validator of the CycloneDX 1.6 JSON schema."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from referencing import Registry, Resource
from registry_plane import BUILDER, PEOPLE, REPOSITORY, CliRun, Plane

from ramparts.cli.identity_cmd import wiring
from ramparts.cli.serve_cmd import build_app
from ramparts.cli.state import AppState
from ramparts.sign.keys import generate_key

SCHEMAS = Path(__file__).parents[1] / "data" / "cyclonedx"


@pytest.fixture(scope="session")
def cyclonedx() -> jsonschema.Draft7Validator:
    """The CycloneDX 1.6 schema (vendored in tests/data) with the two it references."""
    resources = []
    for name in ("spdx.SNAPSHOT.schema.json", "jsf-0.82.SNAPSHOT.schema.json"):
        schema = json.loads((SCHEMAS / name).read_text())
        resources.append((name, Resource.from_contents(schema)))
    registry: Registry[Any] = Registry().with_resources(resources)
    schema = json.loads((SCHEMAS / "bom-1.6.SNAPSHOT.schema.json").read_text())
    return jsonschema.Draft7Validator(schema, registry=registry)


@pytest.fixture
def plane(
    tmp_path: Path,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    cli: CliRun,
    serve: Callable[[Any], str],
) -> Iterator[Plane]:
    monkeypatch.chdir(tmp_path)
    private, public = tmp_path / "signing.pem", tmp_path / "signing.pub.pem"
    generate_key(private, public)
    environ = {
        "RAMPARTS_STATE_DIR": str(tmp_path / "state"),
        "RAMPARTS_DATABASE_URL": db_url,
        "RAMPARTS_REGISTRY__TRUSTED_KEYS": json.dumps([str(public)]),
        "RAMPARTS_REGISTRY__PROVENANCE_BUILDER": BUILDER,
        "RAMPARTS_REGISTRY__PROVENANCE_REPOSITORY": REPOSITORY,
    }
    state = AppState(environ=environ)
    people = wiring(state)
    with httpx.Client(base_url=serve(build_app(state, []))) as http:
        result = Plane(http, db_url, tmp_path, private, cli)
        _people(result, state)
        yield result
    people.close()


def _people(result: Plane, state: AppState) -> None:
    people = wiring(state)
    for name, (roles, teams) in PEOPLE.items():
        identity = people.identities.create(name, roles, teams=teams).identity
        result.ids[name] = identity.id
        result.tokens[name] = people.tokens.issue(identity, mfa=True).token
    result.tokens["bob-no-mfa"] = people.tokens.issue(people.identities.get("bob")).token
    result.factors["root"] = people.second_factors.enroll(result.ids["root"], actor="test").secret
    people.close()
