"""ONNX models: external data that escapes the model directory, and custom operators.

ONNX keeps large tensors outside the model file, named by a relative ``location``. A
location that is absolute or climbs out with ``..`` makes the loader read (or, when
saving, write) any file the process can reach (CVE-2024-27318, CVE-2024-5187). Operators
from domains outside the ONNX standard need a custom-operator library: native code
the runtime loads. The model is read as protobuf; no runtime is involved.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath, PureWindowsPath

from ramparts.core.types import Confidence, Finding, Severity
from ramparts.scan.interface import ScanContext, ScanItem, ScanOutput
from ramparts.scan.models.protobuf import MAX_IN_MEMORY, WireError, fields, first_bytes, mapped

__all__ = ["STANDARD_DOMAINS", "scan_onnx"]

STANDARD_DOMAINS = frozenset(
    {"", "ai.onnx", "ai.onnx.ml", "ai.onnx.training", "ai.onnx.preview.training"}
)
_MAX_DEPTH = 64
# ModelProto: 7 graph, 8 opset_import, 25 functions. GraphProto: 1 node, 5 initializer,
# 15 sparse_initializer. NodeProto: 4 op_type, 5 attribute, 7 domain. AttributeProto:
# 6 g, 11 graphs (subgraphs). TensorProto: 13 data_location, 14 external_data.
# StringStringEntryProto: 1 key, 2 value. FunctionProto: 5 node.


def _escapes(location: str) -> str | None:
    if location.startswith(("/", "\\")) or PureWindowsPath(location).is_absolute():
        return "is an absolute path"
    if ":" in location.split("/", 1)[0]:
        return "names a drive or URL scheme"
    if ".." in PurePosixPath(location.replace("\\", "/")).parts:
        return "climbs out of the model directory with '..'"
    return None


class _Walk:
    def __init__(self, item: ScanItem, buf: memoryview) -> None:
        self.item = item
        self.buf = buf
        self.out: list[Finding] = []
        self.domains: set[str] = set()

    def finding(
        self, rule: str, title: str, message: str, severity: Severity, refs: tuple[str, ...]
    ) -> None:
        self.out.append(
            Finding(
                rule_id=rule,
                title=title,
                message=message,
                severity=severity,
                confidence=Confidence.HIGH,
                location=self.item.location(offset=0),
                references=refs,
                remediation=(
                    "Keep external data beside the model with plain relative names, and load "
                    "custom-operator libraries only from sources you build yourself."
                ),
                scanner="models",
            )
        )

    def tensor(self, start: int, end: int) -> None:
        for f in fields(self.buf, start, end):
            if f.number != 14 or f.wire_type != 2:
                continue
            key = value = ""
            for kv in fields(self.buf, f.start, f.end):
                text = first_bytes(self.buf, kv).decode("utf-8", "replace")
                if kv.number == 1:
                    key = text
                elif kv.number == 2:
                    value = text
            problem = _escapes(value) if key == "location" else None
            if problem:
                self.finding(
                    "RMP-ONNX-001",
                    "ONNX external data outside the model directory",
                    f"external data location {value!r} {problem}; loading reads that file",
                    Severity.CRITICAL,
                    ("CVE-2024-27318", "CVE-2024-5187", "CWE-22", "AML.T0010.003"),
                )

    def node(self, start: int, end: int, depth: int) -> None:
        for f in fields(self.buf, start, end):
            if f.number == 7 and f.wire_type == 2:
                self.domains.add(first_bytes(self.buf, f).decode("utf-8", "replace"))
            elif f.number == 5 and f.wire_type == 2:
                for a in fields(self.buf, f.start, f.end):
                    if a.number in (6, 11) and a.wire_type == 2:
                        self.graph(a.start, a.end, depth + 1)
                    elif a.number in (5, 10) and a.wire_type == 2:  # t, tensors
                        self.tensor(a.start, a.end)

    def graph(self, start: int, end: int, depth: int) -> None:
        if depth > _MAX_DEPTH:
            raise WireError(f"subgraphs nested deeper than {_MAX_DEPTH}")
        for f in fields(self.buf, start, end):
            if f.wire_type != 2:
                continue
            if f.number == 1:
                self.node(f.start, f.end, depth)
            elif f.number == 5:
                self.tensor(f.start, f.end)
            elif f.number == 15:
                for s in fields(self.buf, f.start, f.end):
                    if s.number in (1, 2) and s.wire_type == 2:
                        self.tensor(s.start, s.end)

    def model(self) -> None:
        for f in fields(self.buf):
            if f.wire_type != 2:
                continue
            if f.number == 7:
                self.graph(f.start, f.end, 0)
            elif f.number == 25:  # functions hold nodes too
                for g in fields(self.buf, f.start, f.end):
                    if g.number == 5 and g.wire_type == 2:
                        self.node(g.start, g.end, 0)


def scan_onnx(item: ScanItem, ctx: ScanContext) -> Iterator[ScanOutput]:
    """Walk an ONNX model's graph (and subgraphs, functions) for the risks above."""
    limit = min(ctx.settings.max_expanded_bytes, MAX_IN_MEMORY)
    with item.open() as fh, mapped(fh, limit) as buf:
        walk = _Walk(item, buf)
        try:
            walk.model()
        except WireError as exc:
            # Content sniffing said ONNX; a broken structure is worth a finding only when
            # the name says so too (otherwise this was some other binary after all).
            if not item.name.lower().endswith(".onnx"):
                return
            walk.finding(
                "RMP-ONNX-003",
                "malformed ONNX model",
                f"the protobuf structure is broken: {exc}",
                Severity.MEDIUM,
                ("CWE-20",),
            )
    custom = sorted(d for d in walk.domains if d not in STANDARD_DOMAINS)
    if custom:
        walk.finding(
            "RMP-ONNX-002",
            "ONNX custom operator domain",
            f"operators from {', '.join(map(repr, custom))} need a custom-operator library "
            "(native code) to run",
            Severity.MEDIUM,
            ("CWE-829", "AML.T0010.003"),
        )
    yield from walk.out
