"""Lineage: datasets -> transformations -> models -> endpoints, as a directed graph.

Nodes are named ``KIND:ID``: ``version:ID`` (a dataset or model version),
``transform:ID`` (a training or preprocessing run with its code commit, environment
and builder) and ``endpoint:ID``. An edge says data flowed from its source to its
target. A push records ``version:dataset -> transform -> version:model``; a deployment
records ``version:model -> endpoint``.

Queries load the edge list once and walk it in memory (breadth first, each node once),
so a poisoned dataset's whole downstream is one query and one pass over the graph,
cycles included.
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ramparts.core.ids import new_id
from ramparts.core.records import field, record
from ramparts.store.schema import lineage_edges, lineage_transforms

__all__ = [
    "Graph",
    "downstream",
    "forget",
    "load",
    "record_build",
    "record_deployment",
    "transforms",
    "transforms_in",
    "upstream",
]

_E = lineage_edges.c
_T = lineage_transforms.c
_NAMESPACE = "ramparts"


@record
class Graph:
    """Edges with adjacency both ways, and optional node descriptions."""

    forward: Mapping[str, tuple[str, ...]]
    backward: Mapping[str, tuple[str, ...]]
    info: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def of(
        cls, edges: Iterable[tuple[str, str]], info: Mapping[str, Mapping[str, Any]] | None = None
    ) -> Graph:
        """The graph of ``edges``."""
        forward: defaultdict[str, list[str]] = defaultdict(list)
        backward: defaultdict[str, list[str]] = defaultdict(list)
        for source, target in edges:
            forward[source].append(target)
            backward[target].append(source)
        return cls(
            {k: tuple(v) for k, v in forward.items()},
            {k: tuple(v) for k, v in backward.items()},
            dict(info or {}),
        )

    def nodes(self) -> list[str]:
        """Every node on an edge, or described, sorted."""
        return sorted({*self.forward, *self.backward, *self.info})

    def edges(self) -> list[tuple[str, str]]:
        """Every edge, sorted."""
        return sorted((s, t) for s, targets in self.forward.items() for t in targets)

    def _name(self, node: str) -> str:
        info = self.info.get(node, {})
        return str(info.get("ref") or node)

    def to_openlineage(self) -> list[dict[str, Any]]:
        """One OpenLineage-style run event per transformation (inputs, outputs, facets),
        and one per deployment (the model version as input, the endpoint as output)."""
        events = []
        for node in self.nodes():
            kind, _, ident = node.partition(":")
            info = self.info.get(node, {})
            if kind == "transform":
                inputs = self.backward.get(node, ())
                outputs = self.forward.get(node, ())
                facets = {
                    k: info[k] for k in ("code_commit", "environment", "builder") if info.get(k)
                }
                job = f"transform-{ident}"
            elif kind == "endpoint":
                inputs = self.backward.get(node, ())
                outputs = (node,)
                facets = {}
                job = f"deploy-{self._name(node)}"
            else:
                continue
            events.append(
                {
                    "eventType": "COMPLETE",
                    "eventTime": info.get("created_at"),
                    "producer": "https://github.com/ramparts/ramparts",
                    "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
                    "run": {"runId": ident, "facets": {"ramparts": facets} if facets else {}},
                    "job": {"namespace": _NAMESPACE, "name": job},
                    "inputs": [{"namespace": _NAMESPACE, "name": self._name(n)} for n in inputs],
                    "outputs": [{"namespace": _NAMESPACE, "name": self._name(n)} for n in outputs],
                }
            )
        return events

    def to_dot(self) -> str:
        """The graph in GraphViz DOT: datasets as cylinders, runs as boxes, endpoints as
        hexagons, models as ellipses."""
        shapes = {"dataset": "cylinder", "transform": "box", "endpoint": "hexagon"}
        lines = ["digraph lineage {", "  rankdir=LR;"]
        for node in self.nodes():
            info = self.info.get(node, {})
            kind = str(info.get("kind", node.partition(":")[0]))
            label = self._name(node) if kind != "transform" else _transform_label(info, node)
            shape = shapes.get(kind, "ellipse")
            lines.append(f"  {_quote(node)} [label={_quote(label)}, shape={shape}];")
        lines += [f"  {_quote(s)} -> {_quote(t)};" for s, t in self.edges()]
        lines.append("}")
        return "\n".join(lines) + "\n"


def _transform_label(info: Mapping[str, Any], node: str) -> str:
    parts = [f"{k}={info[k]}" for k in ("environment", "builder", "code_commit") if info.get(k)]
    return "run " + (", ".join(parts) if parts else node.partition(":")[2][:8])


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def record_build(
    conn: sa.Connection,
    output_version: str,
    input_versions: Sequence[str],
    *,
    code_commit: str | None,
    environment: str | None,
    builder: str | None,
    now: datetime,
    attributes: Mapping[str, Any] | None = None,
) -> str | None:
    """Record the run that made ``output_version`` from ``input_versions``; its id, or
    ``None`` when nothing is known about how the version was made."""
    if not (input_versions or code_commit or environment or builder):
        return None
    transform_id = new_id()
    conn.execute(
        lineage_transforms.insert().values(
            id=transform_id,
            code_commit=code_commit,
            environment=environment,
            builder=builder,
            attributes=json.dumps(dict(attributes or {}), sort_keys=True),
            created_at=now,
        )
    )
    node = f"transform:{transform_id}"
    rows = [
        {"source": f"version:{v}", "target": node, "created_at": now}
        for v in dict.fromkeys(input_versions)
    ]
    rows.append({"source": node, "target": f"version:{output_version}", "created_at": now})
    conn.execute(lineage_edges.insert(), rows)
    return transform_id


def forget(conn: sa.Connection, version_id: str, transform_id: str | None) -> None:
    """Remove what :func:`record_build` recorded (used when its push is undone)."""
    node = f"version:{version_id}"
    conn.execute(lineage_edges.delete().where((_E.source == node) | (_E.target == node)))
    if transform_id is not None:
        tnode = f"transform:{transform_id}"
        conn.execute(lineage_edges.delete().where((_E.source == tnode) | (_E.target == tnode)))
        conn.execute(lineage_transforms.delete().where(_T.id == transform_id))


def record_deployment(
    conn: sa.Connection, endpoint_id: str, version_id: str | None, *, now: datetime
) -> None:
    """``endpoint_id`` now serves ``version_id`` (``None``: nothing)."""
    node = f"endpoint:{endpoint_id}"
    conn.execute(lineage_edges.delete().where(_E.target == node))
    if version_id is not None:
        conn.execute(
            lineage_edges.insert().values(
                source=f"version:{version_id}", target=node, created_at=now
            )
        )


def transforms(conn: sa.Connection) -> dict[str, dict[str, Any]]:
    """Every transformation's attributes by id."""
    return {
        row.id: {
            "code_commit": row.code_commit,
            "environment": row.environment,
            "builder": row.builder,
            "created_at": row.created_at.isoformat(),
            **json.loads(row.attributes),
        }
        for row in conn.execute(sa.select(lineage_transforms))
    }


def transforms_in(conn: sa.Connection, environment: str) -> list[str]:
    """The transformations that ran in ``environment`` or on builder ``environment``."""
    rows = conn.execute(
        sa.select(_T.id).where((_T.environment == environment) | (_T.builder == environment))
    )
    return [f"transform:{r.id}" for r in rows]


def load(conn: sa.Connection) -> Graph:
    """The whole edge list as a graph."""
    return Graph.of((r.source, r.target) for r in conn.execute(sa.select(_E.source, _E.target)))


def _walk(adjacency: Mapping[str, tuple[str, ...]], starts: Iterable[str]) -> set[str]:
    seen = set(starts)
    queue = deque(seen)
    while queue:
        for nxt in adjacency.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def downstream(graph: Graph, starts: Iterable[str]) -> set[str]:
    """``starts`` and every node reachable from them."""
    return _walk(graph.forward, starts)


def upstream(graph: Graph, starts: Iterable[str]) -> set[str]:
    """``starts`` and every node they were derived from."""
    return _walk(graph.backward, starts)
