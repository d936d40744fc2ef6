"""safetensors headers, GGUF metadata and chat templates, Keras configs: read, never run."""

from __future__ import annotations

import io
import json
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ramparts.core.types import Finding
from ramparts.scan.interface import ScanContext, ScanItem
from ramparts.scan.models.formats import Format, expected_formats, sniff
from ramparts.scan.models.gguf import scan_gguf, template_risks
from ramparts.scan.models.keras import scan_hdf5_raw, scan_keras_config
from ramparts.scan.models.safetensors_fmt import scan_safetensors

CTX = ScanContext()


def item(data: bytes, name: str = "f", member: tuple[str, ...] = ()) -> ScanItem:
    return ScanItem(name, len(data), data[:4096], lambda: io.BytesIO(data), member)


def findings(fn, data: bytes, name: str = "f") -> list[Finding]:
    return [f for f in fn(item(data, name), CTX) if isinstance(f, Finding)]


# --- safetensors -------------------------------------------------------------------


def safetensors(header: dict, data: bytes) -> bytes:
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + data


GOOD = {
    "__metadata__": {"format": "pt"},
    "a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
    "b": {"dtype": "BF16", "shape": [3], "data_offsets": [16, 22]},
}


def test_valid_safetensors_is_clean() -> None:
    data = safetensors(GOOD, bytes(22))
    assert sniff(data[:4096]) is Format.SAFETENSORS
    assert findings(scan_safetensors, data) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 99]}}, "past the"),
        ({"a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 16]}}, "needs 24"),
        ({"b": {"dtype": "BF16", "shape": [3], "data_offsets": [10, 16]}}, "overlaps"),
        ({"a": {"dtype": "Q4", "shape": [2, 2], "data_offsets": [0, 16]}}, "unknown dtype"),
        ({"a": {"dtype": "F32", "shape": [-2, 2], "data_offsets": [0, 16]}}, "invalid shape"),
        ({"a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [16, 0]}}, "out of order"),
        ({"__metadata__": {"k": 1}}, "__metadata__"),
    ],
)
def test_inconsistent_headers(change: dict, message: str) -> None:
    header = {**GOOD, **change}
    result = findings(scan_safetensors, safetensors(header, bytes(22)))
    assert len(result) == 1
    assert message in result[0].message


def test_header_length_and_duplicates() -> None:
    huge = struct.pack("<Q", 10**12) + b"{}"
    assert "exceeds" in findings(scan_safetensors, huge)[0].message
    raw = b'{"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}, "a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}'
    dup = struct.pack("<Q", len(raw)) + raw + b"\0"
    assert "duplicate key" in findings(scan_safetensors, dup)[0].message
    holes = safetensors({"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}, b"\0\0")
    assert "not indexed" in findings(scan_safetensors, holes)[0].message


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_safetensors_parser_never_raises(noise: bytes) -> None:
    for data in (noise, struct.pack("<Q", len(noise)) + noise):
        findings(scan_safetensors, data)


# --- GGUF ----------------------------------------------------------------------------


def gguf_string(s: str) -> bytes:
    raw = s.encode()
    return struct.pack("<Q", len(raw)) + raw


def gguf(meta: list[tuple[str, int, bytes]], version: int = 3) -> bytes:
    out = b"GGUF" + struct.pack("<IQQ", version, 0, len(meta))
    for key, vtype, value in meta:
        out += gguf_string(key) + struct.pack("<I", vtype) + value
    return out


BENIGN_TEMPLATE = (
    "{% for message in messages %}{{ '<|' + message['role'] + '|>' + message['content'] }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}"
)


def test_gguf_with_benign_metadata_is_clean() -> None:
    tokens = struct.pack("<IQ", 8, 3) + b"".join(gguf_string(t) for t in ("a", "b", "c"))
    data = gguf(
        [
            ("general.architecture", 8, gguf_string("llama")),
            ("llama.context_length", 4, struct.pack("<I", 4096)),
            ("tokenizer.ggml.tokens", 9, tokens),
            ("tokenizer.chat_template", 8, gguf_string(BENIGN_TEMPLATE)),
        ]
    )
    assert sniff(data) is Format.GGUF
    assert findings(scan_gguf, data) == []


@pytest.mark.parametrize(
    "template",
    [
        "{{ self.__init__.__globals__.__builtins__.__import__('os').system('touch x') }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ lipsum['__glo' ~ 'bals__'] }}",
        "{{ joiner|attr('\\x5f\\x5finit\\x5f\\x5f') }}",
        "{{ namespace.__init__ }}",
    ],
)
def test_gguf_template_injection_is_critical(template: str) -> None:
    data = gguf([("tokenizer.chat_template", 8, gguf_string(template))])
    result = findings(scan_gguf, data)
    assert [f.rule_id for f in result] == ["RMP-GGUF-001"]
    assert result[0].severity.value == "critical"
    assert "CVE-2024-34359" in result[0].references


def test_benign_templates_from_real_models_raise_nothing() -> None:
    llama3 = (
        "{% set loop_messages = messages %}{% for message in loop_messages %}"
        "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'"
        " + message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
        "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
        "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"
    )
    with_ns = "{%- set ns = namespace(found=false) -%}{%- for m in messages -%}{%- if m['role'] == 'system' -%}{%- set ns.found = true -%}{%- endif -%}{%- endfor -%}"
    assert template_risks(llama3) == []
    assert template_risks(with_ns) == []
    assert template_risks(BENIGN_TEMPLATE) == []


def test_gguf_malformed_metadata() -> None:
    bad_len = b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 10**9) + b"key"
    assert findings(scan_gguf, bad_len)[0].rule_id == "RMP-GGUF-002"
    bad_type = gguf([("k", 77, b"")])
    assert "unknown value type 77" in findings(scan_gguf, bad_type)[0].message
    bad_version = b"GGUF" + struct.pack("<IQQ", 9, 0, 0)
    assert "version 9" in findings(scan_gguf, bad_version)[0].message


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_gguf_parser_never_raises(noise: bytes) -> None:
    findings(scan_gguf, b"GGUF" + noise)


# --- Keras ---------------------------------------------------------------------------


def keras_config(layers: list[dict]) -> bytes:
    return json.dumps(
        {
            "module": "keras",
            "class_name": "Sequential",
            "config": {"name": "seq", "layers": layers},
            "registered_name": None,
        }
    ).encode()


DENSE = {
    "module": "keras.layers",
    "class_name": "Dense",
    "config": {"units": 2},
    "registered_name": None,
}


def test_keras_clean_config() -> None:
    assert findings(scan_keras_config, keras_config([DENSE])) == []


def test_keras_lambda_and_foreign_modules() -> None:
    lam = {
        "module": "keras.layers",
        "class_name": "Lambda",
        "config": {
            "name": "evil",
            "function": {"class_name": "__lambda__", "config": {"code": "4wEAAAAA"}},
        },
        "registered_name": None,
    }
    foreign = {"module": "os", "class_name": "system", "config": {}, "registered_name": None}
    custom = {
        "module": "mypkg.layers",
        "class_name": "Mine",
        "config": {},
        "registered_name": "mypkg>Mine",
    }
    result = findings(scan_keras_config, keras_config([DENSE, lam, foreign, custom]))
    by_rule = {f.rule_id: f for f in result}
    assert by_rule["RMP-KERAS-001"].severity.value == "critical"
    assert "'evil'" in by_rule["RMP-KERAS-001"].message
    assert any(f.rule_id == "RMP-KERAS-002" and f.severity.value == "critical" for f in result)
    assert any(f.rule_id == "RMP-KERAS-002" and "mypkg.layers" in f.message for f in result)
    assert "RMP-KERAS-003" in by_rule


def test_keras_config_found_inside_raw_hdf5_bytes() -> None:
    lam = {
        "module": "keras.layers",
        "class_name": "Lambda",
        "config": {"name": "l"},
        "registered_name": None,
    }
    config = json.dumps({"class_name": "Sequential", "config": {"layers": [lam]}}).encode()
    blob = b"\x89HDF\r\n\x1a\n" + b"\0" * 1000 + config + b"\0" * 100
    assert sniff(blob) is Format.HDF5
    result = findings(scan_hdf5_raw, blob)
    assert [f.rule_id for f in result] == ["RMP-KERAS-001"]
    assert result[0].location.offset == 1008


def test_extension_promises() -> None:
    assert expected_formats("w.SAFETENSORS") == frozenset({Format.SAFETENSORS})
    assert expected_formats("README") is None
    assert Format.PICKLE in (expected_formats("m.pt") or set())
