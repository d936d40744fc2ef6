"""TensorFlow SavedModel and GraphDef files: operations that reach outside the model.

A graph is a program. Operations that read or write files (``ReadFile``,
``WriteFile``, ``MatchingFiles``...), run Python (``PyFunc``, ``EagerPyFunc``) or
reach the network run when the model is served. The graph is read as protobuf, and
every operation name is checked, including those inside function libraries.
"""

from __future__ import annotations

from collections.abc import Iterator

from ramparts.core.types import Confidence, Finding, Severity
from ramparts.scan.interface import ScanContext, ScanItem, ScanOutput
from ramparts.scan.models.protobuf import (
    MAX_IN_MEMORY,
    WireError,
    fields,
    first_bytes,
    leading_fields,
    mapped,
)

__all__ = ["RISKY_OPS", "looks_like_graph_def", "scan_tf_graph"]

RISKY_OPS: dict[str, tuple[Severity, str]] = {
    "PyFunc": (Severity.CRITICAL, "runs arbitrary Python"),
    "PyFuncStateless": (Severity.CRITICAL, "runs arbitrary Python"),
    "EagerPyFunc": (Severity.CRITICAL, "runs arbitrary Python"),
    "ReadFile": (Severity.HIGH, "reads files from the serving host"),
    "WriteFile": (Severity.CRITICAL, "writes files on the serving host"),
    "MatchingFiles": (Severity.HIGH, "lists files on the serving host"),
    "FixedLengthRecordDataset": (Severity.MEDIUM, "reads files from the serving host"),
    "TextLineDataset": (Severity.MEDIUM, "reads files from the serving host"),
    "TFRecordDataset": (Severity.MEDIUM, "reads files from the serving host"),
    "WholeFileReader": (Severity.HIGH, "reads files from the serving host"),
    "WholeFileReaderV2": (Severity.HIGH, "reads files from the serving host"),
    "ImmutableConst": (Severity.MEDIUM, "maps a file from the serving host into memory"),
    "DebugIdentityV3": (Severity.MEDIUM, "sends tensors to a debug server"),
    "PrintV2": (Severity.LOW, "writes to a stream or file named in the graph"),
    "Save": (Severity.MEDIUM, "writes a checkpoint to a path named in the graph"),
    "SaveSlices": (Severity.MEDIUM, "writes a checkpoint to a path named in the graph"),
}
"""Operation -> (severity, what it does). SaveV2/RestoreV2 are normal in SavedModels."""


def looks_like_graph_def(head: bytes, name: str) -> bool:
    """A frozen GraphDef: named ``*.pb`` and starting with a node (field 1, a message)."""
    lead = leading_fields(head, 1)
    return name.endswith(".pb") and bool(lead) and lead[0].number == 1 and lead[0].wire_type == 2


def _node_ops(buf: memoryview, start: int, end: int) -> Iterator[str]:
    for f in fields(buf, start, end):
        if f.number == 2 and f.wire_type == 2:
            yield first_bytes(buf, f, 256).decode("utf-8", "replace")


def _graph_ops(buf: memoryview, start: int, end: int) -> Iterator[str]:
    # GraphDef: 1 node (NodeDef), 2 library (FunctionDefLibrary: 1 function (FunctionDef:
    # 3 node_def (NodeDef))). NodeDef: 2 op.
    for f in fields(buf, start, end):
        if f.wire_type != 2:
            continue
        if f.number == 1:
            yield from _node_ops(buf, f.start, f.end)
        elif f.number == 2:
            for fn in fields(buf, f.start, f.end):
                if fn.number == 1 and fn.wire_type == 2:
                    for nd in fields(buf, fn.start, fn.end):
                        if nd.number == 3 and nd.wire_type == 2:
                            yield from _node_ops(buf, nd.start, nd.end)


def _all_ops(buf: memoryview) -> Iterator[str]:
    lead = leading_fields(bytes(buf[:64]), 1)
    if lead and lead[0].number == 1 and lead[0].wire_type == 0:  # SavedModel
        for f in fields(buf):
            if f.number == 2 and f.wire_type == 2:  # MetaGraphDef
                for g in fields(buf, f.start, f.end):
                    if g.number == 2 and g.wire_type == 2:  # GraphDef
                        yield from _graph_ops(buf, g.start, g.end)
    else:
        yield from _graph_ops(buf, 0, len(buf))


def scan_tf_graph(item: ScanItem, ctx: ScanContext) -> Iterator[ScanOutput]:
    """Report every risky operation of a SavedModel or GraphDef, once per operation type."""
    findings: dict[str, Finding] = {}
    counts: dict[str, int] = {}
    limit = min(ctx.settings.max_expanded_bytes, MAX_IN_MEMORY)
    with item.open() as fh, mapped(fh, limit) as buf:
        try:
            for op in _all_ops(buf):
                if op in RISKY_OPS:
                    counts[op] = counts.get(op, 0) + 1
        except WireError as exc:
            findings["(malformed)"] = Finding(
                rule_id="RMP-TF-002",
                title="malformed TensorFlow graph",
                message=f"the protobuf structure is broken: {exc}",
                severity=Severity.MEDIUM,
                location=item.location(offset=0),
                references=("CWE-20",),
                scanner="models",
            )
    for op, n in sorted(counts.items()):
        severity, what = RISKY_OPS[op]
        findings[op] = Finding(
            rule_id="RMP-TF-001",
            title="TensorFlow operation that reaches outside the model",
            message=f"{n} {op} operation(s): {what} when the graph runs",
            severity=severity,
            confidence=Confidence.HIGH,
            location=item.location(offset=0),
            evidence=op,
            references=("CWE-94", "AML.T0010.003", "AML.T0011.000", "OWASP LLM03:2025"),
            remediation="Serve only graphs built from code you control; strip file and "
            "Python operations before export.",
            scanner="models",
        )
    yield from findings.values()
