"""ONNX and TensorFlow graphs read as protobuf: external data, custom ops, risky ops."""

from __future__ import annotations

import io
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from ramparts.core.types import Finding
from ramparts.scan.interface import ScanContext, ScanItem
from ramparts.scan.models.formats import Format, sniff
from ramparts.scan.models.onnx import scan_onnx
from ramparts.scan.models.tensorflow import scan_tf_graph


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def vfield(num: int, value: int) -> bytes:
    return varint(num << 3) + varint(value)


def lfield(num: int, payload: bytes | str) -> bytes:
    data = payload.encode() if isinstance(payload, str) else payload
    return varint(num << 3 | 2) + varint(len(data)) + data


def onnx_model(
    location: str | None = None, domain: str = "", subgraph_location: str | None = None
) -> bytes:
    node = lfield(1, "x") + lfield(2, "y") + lfield(4, "Relu") + lfield(7, domain)
    if subgraph_location:
        tensor = (
            lfield(8, "w2")
            + vfield(13, 1)
            + lfield(14, lfield(1, "location") + lfield(2, subgraph_location))
        )
        sub = lfield(5, tensor)
        node += lfield(5, lfield(1, "then_branch") + lfield(6, sub))
    graph = lfield(1, node) + lfield(2, "g")
    if location:
        tensor = (
            lfield(8, "w") + vfield(13, 1) + lfield(14, lfield(1, "location") + lfield(2, location))
        )
        graph += lfield(5, tensor)
    return vfield(1, 8) + lfield(2, "pytorch") + lfield(7, graph) + lfield(8, vfield(2, 17))


def run(fn, data: bytes, name: str) -> list[Finding]:
    item = ScanItem(name, len(data), data[:4096], lambda: io.BytesIO(data))
    return [f for f in fn(item, ScanContext()) if isinstance(f, Finding)]


def test_onnx_clean_model() -> None:
    data = onnx_model("weights.bin")
    assert sniff(data) is Format.ONNX
    assert run(scan_onnx, data, "m.onnx") == []


def test_onnx_external_data_traversal_anywhere_in_the_graph() -> None:
    for loc in ("../../etc/passwd", "/etc/shadow", "C:\\Windows\\win.ini", "a/../../b"):
        result = run(scan_onnx, onnx_model(loc), "m.onnx")
        assert [f.rule_id for f in result] == ["RMP-ONNX-001"], loc
        assert result[0].severity.value == "critical"
    nested = run(scan_onnx, onnx_model(subgraph_location="../secret"), "m.onnx")
    assert [f.rule_id for f in nested] == ["RMP-ONNX-001"]


def test_onnx_custom_domain_and_malformed(tmp_path: Path) -> None:
    result = run(scan_onnx, onnx_model(domain="com.evil.ops"), "m.onnx")
    assert [f.rule_id for f in result] == ["RMP-ONNX-002"]
    assert "com.evil.ops" in result[0].message
    broken = onnx_model("weights.bin")[:-3] + b"\xff\xff\xff"
    assert [f.rule_id for f in run(scan_onnx, broken, "m.onnx")] == ["RMP-ONNX-003"]
    # a real file goes through the memory map
    path = tmp_path / "m.onnx"
    path.write_bytes(onnx_model("/abs"))
    item = ScanItem(
        "m.onnx", path.stat().st_size, path.read_bytes()[:4096], lambda: path.open("rb")
    )
    assert [f.rule_id for f in scan_onnx(item, ScanContext()) if isinstance(f, Finding)] == [
        "RMP-ONNX-001"
    ]


def node_def(name: str, op: str) -> bytes:
    return lfield(1, name) + lfield(2, op)


def test_saved_model_risky_ops_including_function_library() -> None:
    graph = lfield(1, node_def("a", "Const")) + lfield(1, node_def("r", "ReadFile"))
    fn = lfield(1, lfield(1, "sig")) + lfield(3, node_def("p", "PyFunc"))
    graph += lfield(2, lfield(1, fn))
    saved = vfield(1, 1) + lfield(2, lfield(1, b"meta") + lfield(2, graph))
    assert sniff(saved) is Format.TF_SAVED_MODEL
    result = run(scan_tf_graph, saved, "saved_model.pb")
    assert sorted(f.evidence for f in result) == ["PyFunc", "ReadFile"]
    assert {f.severity.value for f in result} == {"critical", "high"}


def test_frozen_graph_def_and_clean_graph() -> None:
    frozen = lfield(1, node_def("w", "WriteFile")) + lfield(1, node_def("c", "Const"))
    assert [f.evidence for f in run(scan_tf_graph, frozen, "frozen.pb")] == ["WriteFile"]
    clean = lfield(1, node_def("s", "SaveV2")) + lfield(1, node_def("m", "MatMul"))
    assert run(scan_tf_graph, clean, "frozen.pb") == []


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_protobuf_readers_never_raise(noise: bytes) -> None:
    run(scan_onnx, vfield(1, 8) + noise, "m.onnx")
    run(scan_tf_graph, vfield(1, 1) + noise, "saved_model.pb")
