"""The control plane through its HTTP API, on SQLite and on PostgreSQL.

Each scenario is what the governance guidance asks for: roles that cannot be mixed,
gates that hold, rollback, deletion behind a second factor, audited break-glass, and
resources of another team that do not exist for outsiders.
"""

from __future__ import annotations

import json
from typing import Any

import jwt
import pyotp
import pytest
import sqlalchemy as sa
from registry_plane import Plane

from ramparts.registry.interface import GateError, RefusedError
from ramparts.store import create_engine
from ramparts.store.schema import audit_entries


def _gates(response: Any) -> dict[str, bool]:
    return {g["gate"]: g["passed"] for g in response.json()["error"]["gates"]}


def _ready(plane: Plane, name: str, **model: Any) -> dict[str, Any]:
    """A signed, attested model pushed by alice and approved by bob."""
    folder = plane.model(name, **model)
    plane.sign(folder)
    version = plane.push("alice", folder, "fraud")
    response = plane.call("bob", "POST", f"/v1/versions/{version['id']}/approve")
    assert response.status_code == 200, response.text
    return version


def _audit(plane: Plane) -> list[dict[str, Any]]:
    engine = create_engine(plane.db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(audit_entries.c.event).order_by(audit_entries.c.idx))
            return [json.loads(r.event) for r in rows]
    finally:
        engine.dispose()


def test_author_approver_publisher(plane: Plane) -> None:
    folder = plane.model("v1")
    plane.sign(folder)
    version = plane.push("alice", folder, "fraud")
    assert version["ref"] == "fraud@1"
    assert version["author"] == plane.ids["alice"]
    assert (version["signed"], version["provenance"], version["bom"]) == (True, True, True)
    assert version["asset"]["team"] == "fraud"
    vid = version["id"]

    # The author may not approve (her role denies it) ...
    response = plane.call("alice", "POST", f"/v1/versions/{vid}/approve")
    assert response.status_code == 403
    assert "model-author: deny approve" in response.json()["error"]["message"]
    # ... nor may an approver who wrote it (separation of duties).
    dave = plane.push("dave", plane.model("by-dave"), "fraud")
    response = plane.call("dave", "POST", f"/v1/versions/{dave['id']}/approve")
    assert response.status_code == 403
    assert "separation of duties" in response.json()["error"]["message"]
    # An approver without a second factor is refused by the role's MFA condition.
    response = plane.call("bob-no-mfa", "POST", f"/v1/versions/{vid}/approve")
    assert response.status_code == 403
    assert "mfa=True not met" in response.json()["error"]["message"]

    # Not yet approved: the approval gate stops the publisher.
    response = plane.call("carol", "POST", f"/v1/versions/{vid}/promote", json={"stage": "prod"})
    assert response.status_code == 409
    assert _gates(response) == {"signature": True, "provenance": True, "scan": True,
                                "bom": True, "approval": False}  # fmt: skip

    response = plane.call("bob", "POST", f"/v1/versions/{vid}/approve", json={"comment": "ok"})
    assert response.status_code == 200
    assert response.json()["approved_by"] == plane.ids["bob"]
    # The approver cannot publish.
    response = plane.call("bob", "POST", f"/v1/versions/{vid}/promote", json={"stage": "prod"})
    assert response.status_code == 403
    response = plane.call("carol", "POST", f"/v1/versions/{vid}/promote", json={"stage": "prod"})
    assert response.status_code == 200, response.text
    assert response.json()["stage"] == "prod"
    assert plane.call("carol", "GET", f"/v1/versions/{vid}").json()["stages"] == ["prod"]

    actions = [(e["action"], e["outcome"]) for e in _audit(plane)]
    assert ("registry.push", "success") in actions
    assert ("registry.approve", "denied") in actions
    assert ("registry.promote", "denied") in actions
    assert ("registry.promote", "success") in actions


def test_unsigned_and_tampered_versions_are_blocked_from_prod(plane: Plane) -> None:
    unsigned = plane.push("alice", plane.model("unsigned"), "fraud")
    plane.call("bob", "POST", f"/v1/versions/{unsigned['id']}/approve")
    response = plane.call(
        "carol", "POST", f"/v1/versions/{unsigned['id']}/promote", json={"stage": "prod"}
    )
    assert response.status_code == 409
    assert _gates(response)["signature"] is False
    assert "not signed" in response.json()["error"]["message"]

    folder = plane.model("tampered")
    plane.sign(folder)
    (folder / "weights.bin").write_bytes(b"\x01" * 4096)  # changed after signing
    tampered = plane.push("alice", folder, "fraud")
    assert tampered["signed"]
    plane.call("bob", "POST", f"/v1/versions/{tampered['id']}/approve")
    response = plane.call(
        "carol", "POST", f"/v1/versions/{tampered['id']}/promote", json={"stage": "prod"}
    )
    assert response.status_code == 409
    message = response.json()["error"]["message"]
    assert "do not match the signature" in message
    assert "weights.bin" in message
    # Provenance names the digest of what was signed, not of the tampered files.
    assert _gates(response)["provenance"] is False


def test_a_failing_scan_blocks_promotion(plane: Plane) -> None:
    version = _ready(plane, "hostile", hostile=True)
    assert version["scan"]["counts"]["critical"] >= 1
    assert any(f["rule"].startswith("RMP-PICKLE") for f in version["scan"]["findings"])
    response = plane.call(
        "carol", "POST", f"/v1/versions/{version['id']}/promote", json={"stage": "staging"}
    )
    assert response.status_code == 409
    assert _gates(response) == {"scan": False}


def test_rollback_moves_prod_to_the_previous_good_version(plane: Plane) -> None:
    first = _ready(plane, "one", weights=b"\x01" * 100)
    second = _ready(plane, "two", weights=b"\x02" * 100)
    for version in (first, second):
        response = plane.call(
            "carol", "POST", f"/v1/versions/{version['id']}/promote", json={"stage": "prod"}
        )
        assert response.status_code == 200
    assert response.json()["previous"] == "fraud@1"
    response = plane.call("carol", "POST", "/v1/models/fraud/rollback", json={"stage": "prod"})
    assert response.status_code == 200, response.text
    assert response.json() == {"model": "fraud", "stage": "prod", "from": "fraud@2",
                               "to": "fraud@1"}  # fmt: skip
    assert plane.call("carol", "GET", "/v1/versions/fraud@1").json()["stages"] == ["prod"]
    history = plane.call("carol", "GET", "/v1/models/fraud/history").json()
    assert [(h["action"], h["version"]) for h in history] == [
        ("promote", "1"), ("promote", "2"), ("rollback", "1")]  # fmt: skip
    # A quarantined version is never rolled back to.
    plane.call("carol", "POST", "/v1/versions/fraud@2/promote", json={"stage": "prod"})
    response = plane.call("root", "POST", "/v1/versions/fraud@1/quarantine",
                          json={"reason": "trained on poisoned data"})  # fmt: skip
    assert response.status_code == 200
    response = plane.call("carol", "POST", "/v1/models/fraud/rollback", json={"stage": "prod"})
    assert response.status_code == 409
    assert "no earlier good version" in response.json()["error"]["message"]
    response = plane.call("carol", "POST", "/v1/versions/fraud@1/promote", json={"stage": "dev"})
    assert response.status_code == 409
    assert "quarantined" in response.json()["error"]["message"]


def test_delete_needs_a_fresh_totp_code_and_never_touches_prod(plane: Plane) -> None:
    first = _ready(plane, "one", weights=b"\x01" * 100)
    second = _ready(plane, "two", weights=b"\x02" * 100)
    plane.call("carol", "POST", f"/v1/versions/{first['id']}/promote", json={"stage": "prod"})
    # The publisher's role does not delete.
    assert plane.call("carol", "DELETE", f"/v1/versions/{second['id']}").status_code == 403
    # An admin without a code of this request is refused, even with an MFA token.
    response = plane.call("root", "DELETE", f"/v1/versions/{second['id']}")
    assert response.status_code == 403
    assert "TOTP" in response.json()["error"]["message"]
    response = plane.call("root", "DELETE", f"/v1/versions/{second['id']}",
                          headers={"X-Ramparts-TOTP": "000000"})  # fmt: skip
    assert response.status_code == 401
    assert "second factor refused" in response.json()["error"]["message"]
    # The prod version is refused before any code is spent.
    response = plane.call("root", "DELETE", f"/v1/versions/{first['id']}")
    assert response.status_code == 409
    assert "is in prod" in response.json()["error"]["message"]
    code = pyotp.TOTP(plane.factors["root"]).now()
    response = plane.call("root", "DELETE", f"/v1/versions/{second['id']}",
                          headers={"X-Ramparts-TOTP": code})  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "deleted"
    # The same code never works twice.
    response = plane.call("root", "GET", "/v1/assets", headers={"X-Ramparts-TOTP": code})
    assert response.status_code == 401
    deleted = [e for e in _audit(plane) if e["action"] == "registry.delete"]
    assert [e["outcome"] for e in deleted] == ["denied", "denied", "denied", "success"]


def test_break_glass_is_audited_alerted_and_listed(plane: Plane) -> None:
    version = plane.push("alice", plane.model("urgent"), "fraud")
    path = f"/v1/versions/{version['id']}/promote"
    # Only a role allowed to break glass may.
    response = plane.call("carol", "POST", path,
                          json={"stage": "prod", "break_glass": "x" * 40})  # fmt: skip
    assert response.status_code == 403
    response = plane.call("root", "POST", path, json={"stage": "prod", "break_glass": "too short"})
    assert response.status_code == 400
    why = "hotfix for incident INC-42: the signed build is stuck in CI"
    response = plane.call("root", "POST", path, json={"stage": "prod", "break_glass": why})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["break_glass"] is True
    assert set(body["bypassed"]) == {"signature", "provenance", "approval"}
    listed = plane.call("auditor", "GET", "/v1/exceptions").json()
    assert [(e["version"], e["stage"], e["justification"]) for e in listed] == [
        ("fraud@1", "prod", why)]  # fmt: skip
    events = {e["action"]: e for e in _audit(plane)}
    assert events["alert.break_glass"]["details"]["justification"] == why
    assert events["registry.promote"]["details"]["break_glass"] is True


def _routes(vid: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [
        ("GET", f"/v1/versions/{vid}", None),
        ("GET", f"/v1/versions/{vid}/gates?stage=prod", None),
        ("POST", f"/v1/versions/{vid}/approve", {}),
        ("POST", f"/v1/versions/{vid}/reject", {}),
        ("POST", f"/v1/versions/{vid}/promote", {"stage": "prod"}),
        ("POST", f"/v1/versions/{vid}/quarantine", {}),
        ("DELETE", f"/v1/versions/{vid}", None),
        ("GET", "/v1/versions/fraud@1", None),
        ("GET", "/v1/assets/model/fraud/versions", None),
        ("GET", "/v1/models/fraud/history", None),
        ("POST", "/v1/models/fraud/rollback", {"stage": "prod"}),
        ("POST", "/v1/endpoints/scoring/deploy", {"model": vid}),
        ("GET", f"/v1/lineage/upstream?ref={vid}", None),
        ("GET", "/v1/lineage/affected?dataset=fraud-data", None),
    ]


def test_another_teams_resources_answer_404_on_every_endpoint(plane: Plane) -> None:
    version = _ready(plane, "secret")
    plane.push("dave", plane.model("data"), "fraud-data", kind="dataset")
    for method, path, body in _routes(version["id"]):
        response = plane.call("eve", method, path, json=body)
        assert response.status_code == 404, (method, path, response.text)
        # The same answer as for a name or id that was never registered.
        message = response.json()["error"]["message"]
        assert message.startswith("no "), message
        assert "team" not in message
    # Listings leave them out; the insiders still see them.
    assert plane.call("eve", "GET", "/v1/assets").json() == []
    assert plane.call("eve", "GET", "/v1/exceptions").json() == []
    assert [a["name"] for a in plane.call("bob", "GET", "/v1/assets").json()] == [
        "fraud-data", "fraud"]  # fmt: skip
    # Taking the name reveals nothing about its owner.
    with pytest.raises(Exception, match="is taken"):
        plane.push("eve", plane.model("squat"), "fraud")
    # The auditor (no team) reads everything and changes nothing.
    assert plane.call("auditor", "GET", f"/v1/versions/{version['id']}").status_code == 200
    response = plane.call("auditor", "POST", f"/v1/versions/{version['id']}/approve")
    assert response.status_code == 403


def test_credentials_are_required(plane: Plane) -> None:
    assert plane.http.get("/v1/assets").status_code == 401
    response = plane.http.get("/v1/assets", headers={"Authorization": "Bearer rmp_nope"})
    assert response.status_code == 401
    response = plane.http.get("/v1/assets", headers={"Authorization": "Bearer e30.e30.e30"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_the_client_raises_the_services_errors(plane: Plane) -> None:
    version = plane.push("alice", plane.model("client"), "fraud")
    with pytest.raises(RefusedError, match="model-author"):
        plane.client("alice").approve(version["ref"])
    plane.client("bob").approve(version["ref"])
    with pytest.raises(GateError) as info:
        plane.client("carol").promote(version["ref"], "prod")
    assert {g.gate for g in info.value.gates if not g.passed} == {"signature", "provenance"}


def test_openapi_document_describes_every_route(plane: Plane) -> None:
    document = plane.http.get("/openapi.json").json()
    assert document["info"]["title"] == "ramparts control plane"
    paths = set(document["paths"])
    assert {"/v1/versions", "/v1/versions/{ref}/promote", "/v1/models/{name}/rollback",
            "/v1/lineage/affected", "/v1/exceptions", "/v1/cleanup"} <= paths  # fmt: skip


def test_the_token_keys_are_published_as_a_jwk_set(plane: Plane) -> None:
    response = plane.http.get("/.well-known/jwks.json")  # public: no credentials
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/jwk-set+json")
    assert "max-age" in response.headers["cache-control"]
    keys = response.json()["keys"]
    assert keys
    assert all("d" not in key for key in keys)  # public halves only
    token = plane.tokens["alice"]
    header = jwt.get_unverified_header(token)
    (jwk,) = [k for k in keys if k["kid"] == header["kid"]]
    claims = jwt.decode(
        token,
        jwt.PyJWK(jwk).key,
        algorithms=[header["alg"]],
        audience="ramparts",
        issuer="ramparts",
    )
    assert claims["sub"] == plane.ids["alice"]
