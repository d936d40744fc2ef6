"""Lineage: every model and endpoint downstream of a poisoned dataset, in a graph of 1,000 nodes.

The graph is generated (seeded) straight into the registry tables, the way pushes and
deployments record it, and the registry's answer is compared with a fixpoint computed
here over the raw edge list.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from ramparts.core.clock import SystemClock
from ramparts.core.events import MemorySink
from ramparts.core.ids import new_id
from ramparts.core.types import Principal
from ramparts.policy.engine import PolicyEngine
from ramparts.policy.roles import BUILTIN_ROLES
from ramparts.privacy.keystore import LocalKeyStore
from ramparts.registry import lineage
from ramparts.registry.artifacts import LocalArtifactStore
from ramparts.registry.gates import GatePolicy
from ramparts.registry.interface import Caller
from ramparts.registry.service import PushRequest, Registry
from ramparts.store import begin_write, create_engine, upgrade
from ramparts.store.schema import registry_assets, registry_deployments, registry_versions

NOW = datetime(2026, 11, 1, tzinfo=UTC)
AUDITOR = Caller(Principal("aud", "auditor", roles=("model-auditor",)))


def _registry(engine: sa.Engine, root: Path) -> Registry:
    return Registry(
        engine,
        LocalArtifactStore(root / "artifacts", LocalKeyStore(root / "keys"), "registry"),
        PolicyEngine(BUILTIN_ROLES),
        clock=SystemClock(),
        sink=MemorySink(),
        stage_gates=lambda stage: (),
        gate_policy=GatePolicy(),
    )


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    eng = create_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


class _Graph:
    """A generated registry: ids by node, the edges, names for answers."""

    def __init__(self) -> None:
        self.edges: list[tuple[str, str]] = []
        self.refs: dict[str, str] = {}
        self.kinds: dict[str, str] = {}


def _asset(conn: sa.Connection, kind: str, name: str, team: str | None = "ml") -> str:
    asset_id = new_id()
    conn.execute(registry_assets.insert().values(
        id=asset_id, kind=kind, name=name, team=team, created_by="seed", purpose="",
        classification="internal", tags="{}", created_at=NOW))  # fmt: skip
    return asset_id


def _version(conn: sa.Connection, asset_id: str, seq: int) -> str:
    version_id = new_id()
    conn.execute(registry_versions.insert().values(
        id=version_id, asset_id=asset_id, version=str(seq), seq=seq, digest="0" * 64, size=1,
        author="seed", created_at=NOW, state="approved", metrics="{}", updated_at=NOW))  # fmt: skip
    return version_id


def _seed(engine: sa.Engine, seed: int = 7) -> _Graph:
    """100 dataset versions, 500 model versions, 300 runs and 100 endpoints: 1,000 nodes."""
    rng = random.Random(seed)  # noqa: S311 - seeded so that the graph is the same every run
    graph = _Graph()
    with begin_write(engine) as conn:
        datasets: list[str] = []
        for d in range(20):
            asset = _asset(conn, "dataset", f"data-{d}")
            for seq in range(1, 6):
                vid = _version(conn, asset, seq)
                datasets.append(vid)
                graph.refs[f"version:{vid}"], graph.kinds[f"version:{vid}"] = (
                    f"data-{d}@{seq}", "dataset")  # fmt: skip
        models: list[str] = []
        for m in range(50):
            asset = _asset(conn, "model", f"model-{m}")
            for seq in range(1, 11):
                vid = _version(conn, asset, seq)
                models.append(vid)
                graph.refs[f"version:{vid}"], graph.kinds[f"version:{vid}"] = (
                    f"model-{m}@{seq}", "model")  # fmt: skip
        outputs = rng.sample(models, 300)
        made: list[str] = []
        for out in outputs:
            # Trained on datasets, fine-tuned from an earlier model, or both.
            inputs = rng.sample(datasets, rng.randint(1, 3))
            if made and rng.random() < 0.4:
                inputs.append(rng.choice(made))
            env = f"runner-{rng.randint(0, 9)}"
            transform = lineage.record_build(conn, out, inputs, code_commit=f"{rng.getrandbits(40):x}",
                                             environment=env, builder=None, now=NOW)  # fmt: skip
            node = f"transform:{transform}"
            graph.kinds[node] = env
            graph.edges += [(f"version:{i}", node) for i in dict.fromkeys(inputs)]
            graph.edges.append((node, f"version:{out}"))
            made.append(out)
        for e in range(100):
            endpoint = _asset(conn, "endpoint", f"endpoint-{e}")
            served = rng.choice(models)
            conn.execute(registry_deployments.insert().values(
                endpoint_id=endpoint, version_id=served, actor="seed", deployed_at=NOW))  # fmt: skip
            lineage.record_deployment(conn, endpoint, served, now=NOW)
            graph.edges.append((f"version:{served}", f"endpoint:{endpoint}"))
            graph.refs[f"endpoint:{endpoint}"], graph.kinds[f"endpoint:{endpoint}"] = (
                f"endpoint-{e}", "endpoint")  # fmt: skip
    return graph


def _fixpoint(edges: list[tuple[str, str]], starts: set[str]) -> set[str]:
    """Everything reachable from ``starts``, by repeating until nothing changes."""
    reached = set(starts)
    while True:
        more = {t for s, t in edges if s in reached} - reached
        if not more:
            return reached
        reached |= more


def test_every_model_trained_on_a_poisoned_dataset_is_found(
    engine: sa.Engine, tmp_path: Path
) -> None:
    graph = _seed(engine)
    nodes = {n for edge in graph.edges for n in edge}
    nodes |= {n for n in graph.refs if n.startswith("version:")}
    assert len(nodes) == 1000
    registry = _registry(engine, tmp_path)
    for poisoned in ("data-3@2", "data-11@5", "data-0@1"):
        start = next(n for n, ref in graph.refs.items() if ref == poisoned)
        expected = _fixpoint(graph.edges, {start}) - {start}
        found = registry.affected(AUDITOR, dataset=poisoned)
        wanted_models = sorted(graph.refs[n] for n in expected if graph.kinds.get(n) == "model")
        wanted_endpoints = sorted(
            graph.refs[n] for n in expected if graph.kinds.get(n) == "endpoint"
        )
        assert sorted(m["ref"] for m in found["models"]) == wanted_models
        assert sorted(e["ref"] for e in found["endpoints"]) == wanted_endpoints
        assert len(found["transforms"]) == sum(1 for n in expected if n.startswith("transform:"))
        assert wanted_models, "the seed must give each poisoned dataset a downstream"
    # A whole dataset (every version) reaches the union of its versions' downstreams.
    whole = registry.affected(AUDITOR, dataset="data-3")
    starts = {n for n, ref in graph.refs.items() if ref.startswith("data-3@")}
    expected = _fixpoint(graph.edges, starts)
    assert {m["ref"] for m in whole["models"]} == {
        graph.refs[n] for n in expected if graph.kinds.get(n) == "model"}  # fmt: skip


def test_a_compromised_environment_and_upstream_queries(engine: sa.Engine, tmp_path: Path) -> None:
    graph = _seed(engine)
    registry = _registry(engine, tmp_path)
    starts = {n for n, kind in graph.kinds.items() if kind == "runner-4"}
    expected = _fixpoint(graph.edges, starts)
    found = registry.affected(AUDITOR, environment="runner-4")
    assert {m["ref"] for m in found["models"]} == {
        graph.refs[n] for n in expected if graph.kinds.get(n) == "model"}  # fmt: skip
    # Upstream of a model: the reverse walk.
    target = next(t for s, t in graph.edges if s.startswith("transform:"))
    reverse = [(t, s) for s, t in graph.edges]
    expected_up = _fixpoint(reverse, {target}) - {target}
    up = registry.upstream(AUDITOR, graph.refs[target])
    assert {d["ref"] for d in up["datasets"]} == {
        graph.refs[n] for n in expected_up if graph.kinds.get(n) == "dataset"}  # fmt: skip


def test_exports_cover_the_graph(engine: sa.Engine, tmp_path: Path) -> None:
    graph = _seed(engine, seed=3)
    registry = _registry(engine, tmp_path)
    exported = registry.lineage_graph(AUDITOR)
    assert set(exported.edges()) == set(graph.edges)
    events = exported.to_openlineage()
    runs = [e for e in events if e["job"]["name"].startswith("transform-")]
    assert len(runs) == 300
    assert all(e["eventType"] == "COMPLETE" and e["outputs"] for e in runs)
    assert all(e["run"]["facets"]["ramparts"]["environment"].startswith("runner-") for e in runs)
    dot = exported.to_dot()
    assert dot.startswith("digraph lineage {")
    assert dot.count(" -> ") == len(graph.edges)


def test_lineage_answers_leave_out_what_the_caller_cannot_see(
    engine: sa.Engine, tmp_path: Path
) -> None:
    _seed(engine)
    registry = _registry(engine, tmp_path)
    outsider = Caller(Principal("x", "outsider", roles=("model-auditor",), teams=("other",)))
    with pytest.raises(Exception, match="no dataset"):
        registry.affected(outsider, dataset="data-3@2")
    assert registry.lineage_graph(outsider).edges() == []


def test_push_records_lineage_from_datasets(engine: sa.Engine, tmp_path: Path) -> None:
    registry = _registry(engine, tmp_path)
    scientist = Caller(Principal("ds", "ds", roles=("data-scientist",), teams=("ml",)))
    data = tmp_path / "train.csv"
    data.write_text("a,b\n1,2\n", encoding="utf-8")
    registry.push(scientist, data, PushRequest(name="train", kind="dataset"))
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"\x00" * 64)
    model = registry.push(scientist, weights, PushRequest(
        name="clf", datasets=["train@1"], code_commit="abc123", environment="gpu-1"))  # fmt: skip
    up = registry.upstream(scientist, model.ref)
    assert [d["ref"] for d in up["datasets"]] == ["train@1"]
    assert [(t["code_commit"], t["environment"]) for t in up["transforms"]] == [("abc123", "gpu-1")]
    assert [m["ref"] for m in registry.affected(scientist, dataset="train")["models"]] == ["clf@1"]
    assert json.loads(json.dumps(registry.lineage_graph(scientist).to_openlineage()))
