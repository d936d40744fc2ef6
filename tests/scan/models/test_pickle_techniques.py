"""The static pickle interpreter against the published evasion techniques.

Every malicious sample is built by hand from opcodes (or by pickle.dumps of an object
whose __reduce__ names a callable: dumps only writes bytes). Nothing here is loaded.
"""

from __future__ import annotations

import collections
import datetime
import io
import pickle
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ramparts.core.types import Finding, Severity
from ramparts.scan.models.pickle_policy import DEFAULT_POLICY, Verdict, load_policy
from ramparts.scan.models.pickle_scan import scan_pickle_bytes, scan_pickle_stream


def s(text: str) -> bytes:
    """SHORT_BINUNICODE."""
    raw = text.encode()
    return b"\x8c" + bytes([len(raw)]) + raw


def g(module: str, name: str) -> bytes:
    """GLOBAL."""
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


P2 = b"\x80\x02"
P4 = b"\x80\x04"


def scan(data: bytes) -> list[Finding]:
    return scan_pickle_bytes(data, path="m.pkl")


def critical(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity is Severity.CRITICAL]


class Reduce:
    def __init__(self, func, args) -> None:
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (P2 + g("os", "system") + s("touch x") + b"\x85R.", "os.system('touch x')"),
        (P2 + g("posix", "system") + s("id") + b"\x85R.", "posix.system"),
        (P2 + g("nt", "system") + s("id") + b"\x85R.", "nt.system"),
        (P2 + g("__builtin__", "eval") + s("1+1") + b"\x85R.", "__builtin__.eval"),
        (P2 + g("builtins", "exec") + s("import os") + b"\x85R.", "builtins.exec"),
        (P2 + g("subprocess", "Popen") + s("id") + b"\x85\x85R.", "subprocess.Popen"),
        (P2 + g("runpy", "_run_code") + s("x") + b"}\x86R.", "runpy._run_code"),
        (P2 + g("pip", "main") + b"]" + s("install") + b"a\x85R.", "pip.main"),
        (P2 + g("pkgutil", "resolve_name") + s("os:system") + b"\x85R.", "pkgutil.resolve_name"),
        (P2 + g("importlib", "import_module") + s("os") + b"\x85R.", "importlib.import_module"),
        (P2 + g("marshal", "loads") + b"C\x01x\x85R.", "marshal.loads"),
        (P2 + g("types", "FunctionType") + b"NN\x86R.", "types.FunctionType"),
        (P2 + g("operator", "attrgetter") + s("system") + b"\x85R.", "operator.attrgetter"),
        (P2 + g("functools", "partial") + g("os", "system") + b"\x85R.", "functools.partial"),
        (P2 + g("webbrowser", "open") + s("http://x") + b"\x85R.", "webbrowser.open"),
        (P2 + g("socket", "create_connection") + b")R.", "socket.create_connection"),
        (
            P2 + g("multiprocessing.util", "spawnv_passfds") + b")R.",
            "multiprocessing.util.spawnv_passfds",
        ),
        (
            P2 + g("torch.utils.collect_env", "run") + s("id") + b"\x85R.",
            "torch.utils.collect_env.run",
        ),
        (P2 + g("torch.serialization", "load") + s("x.pt") + b"\x85R.", "torch.serialization.load"),
        (P2 + g("numpy.testing._private.utils", "runstring") + s("x") + b"}\x86R.", "runstring"),
        (P2 + g("ctypes", "CDLL") + s("libc.so.6") + b"\x85R.", "ctypes.CDLL"),
        (P2 + g("pty", "spawn") + s("/bin/sh") + b"\x85R.", "pty.spawn"),
        (P2 + g("shutil", "rmtree") + s("/") + b"\x85R.", "shutil.rmtree"),
        (P2 + g("code", "InteractiveInterpreter") + b")R.", "code.InteractiveInterpreter"),
        (P2 + g("timeit", "timeit") + s("x") + b"\x85R.", "timeit.timeit"),
        (P2 + g("cProfile", "run") + s("x") + b"\x85R.", "cProfile.run"),
        (P2 + g("pdb", "run") + s("x") + b"\x85R.", "pdb.run"),
        (P2 + g("idlelib.pyshell", "ModifiedInterpreter") + b")R.", "idlelib"),
        (P2 + g("asyncio.unix_events", "_UnixSubprocessTransport") + b")R.", "asyncio"),
        (P2 + g("dill", "loads") + b"C\x01x\x85R.", "dill.loads"),
        (P2 + g("_pickle", "loads") + b"C\x01x\x85R.", "_pickle.loads"),
    ],
)
def test_dangerous_callables_are_critical(data: bytes, needle: str) -> None:
    found = critical(scan(data))
    assert found, needle
    assert needle in (found[0].evidence or "") + found[0].message
    assert found[0].rule_id == "RMP-PICKLE-001"
    assert "CWE-502" in found[0].references


def test_pickle_dumps_of_reduce_payload_every_protocol() -> None:
    import os  # noqa: PLC0415 - only a reference for dumps; never called

    for protocol in range(6):
        data = pickle.dumps(Reduce(os.system, ("touch marker",)), protocol=protocol)
        found = critical(scan(data))
        assert found, protocol
        assert "touch marker" in (found[0].evidence or "")


def test_stack_global_names_from_the_memo() -> None:
    # module and name pushed, memoized, popped, then fetched back with BINGET
    data = (
        P4
        + s("os")
        + b"\x94"
        + s("system")
        + b"\x94"
        + b"00"
        + b"h\x00h\x01\x93"
        + s("id")
        + b"\x85R."
    )
    assert "os.system('id')" in (critical(scan(data))[0].evidence or "")


def test_stack_global_via_dup_and_memo() -> None:
    data = (
        P4
        + s("os")
        + b"2q\x010"
        + s("system")
        + b"q\x02"
        + b"0h\x01h\x02\x93"
        + s("id")
        + b"\x85R."
    )
    assert critical(scan(data))


def test_long_memo_indices_and_text_memo() -> None:
    data = P2 + s("subprocess") + b"r\x10\x00\x00\x000" + s("call") + b"r\x11\x00\x00\x000"
    data += b"j\x10\x00\x00\x00j\x11\x00\x00\x00\x93" + s("id") + b"\x85R."
    assert critical(scan(data))
    text = b"(S'os'\np5\nS'system'\np6\n0g5\ng6\n\x93(S'id'\ntR."
    assert critical(scan(text))


def test_inst_obj_newobj_ex_and_build() -> None:
    inst = b"(S'id'\nios\nsystem\n."
    assert critical(scan(inst))
    obj = P2 + b"(" + g("os", "system") + s("id") + b"o."
    assert critical(scan(obj))
    newobj_ex = P4 + g("subprocess", "Popen") + s("id") + b"\x85}\x92."
    assert critical(scan(newobj_ex))
    build = P2 + g("mymodule", "Thing") + b")\x81}" + s("k") + s("v") + b"sb."
    found = scan(build)
    assert [f.rule_id for f in found] == ["RMP-PICKLE-002"]
    assert found[0].severity is Severity.HIGH
    assert "mymodule.Thing" in found[0].message


def test_getattr_chain_calls_a_computed_callable() -> None:
    # the chain: getattr of __import__ of os, for 'system', then called with 'id'
    data = (
        P2
        + g("builtins", "getattr")
        + g("builtins", "__import__")
        + s("os")
        + b"\x85R"
        + s("system")
        + b"\x86R"
        + s("id")
        + b"\x85R."
    )
    rules = {f.rule_id for f in scan(data)}
    assert {"RMP-PICKLE-001", "RMP-PICKLE-006"} <= rules


def test_protocol_zero_text_pickle() -> None:
    assert critical(scan(b"cos\nsystem\n(S'ls -la'\ntR."))
    assert critical(scan(b"cos\nsystem\n(Vls\ntR."))


def test_computed_names_and_extension_codes() -> None:
    dynamic = P4 + b"K\x01K\x02\x93)R."
    assert [f.rule_id for f in critical(scan(dynamic))] == ["RMP-PICKLE-003"]
    ext = P2 + b"\x82\x07)R."
    assert "RMP-PICKLE-005" in {f.rule_id for f in scan(ext)}


def test_referenced_but_not_called_is_still_critical() -> None:
    found = critical(scan(P2 + g("os", "system") + b"."))
    assert found
    assert "imports os.system" in found[0].message


def test_every_pickle_of_a_stream_is_read() -> None:
    benign = pickle.dumps({"a": 1}, protocol=2)
    evil = P2 + g("os", "system") + s("id") + b"\x85R."
    found = critical(scan(benign + benign + evil))
    assert found
    assert found[0].location.offset == 2 * len(benign) + 2


def test_payload_then_broken_stream() -> None:
    data = P2 + g("os", "system") + s("id") + b"\x85R" + b"\xff\xfe garbage"
    rules = [f.rule_id for f in scan(data)]
    assert "RMP-PICKLE-001" in rules
    assert "RMP-PICKLE-004" in rules


def test_evicted_memo_strings_cannot_hide_a_name() -> None:
    # Many memoized strings, then STACK_GLOBAL from memo slot 0 ("os"): whether the
    # interpreter still remembers it or not, the global is reported as critical.
    filler = b"".join(s(f"s{i}") + b"\x94" + b"0" for i in range(300_000))
    data = (
        P4
        + s("os")
        + b"\x940"
        + s("system")
        + b"\x940"
        + filler
        + b"h\x00h\x01\x93"
        + s("id")
        + b"\x85R."
    )
    assert critical(scan(data))


# --- benign -----------------------------------------------------------------------


def torch_like_state_dict() -> bytes:
    """The shape of torch.save's data.pkl: OrderedDict of _rebuild_tensor_v2 calls."""
    tensor = (
        g("torch._utils", "_rebuild_tensor_v2")
        + b"(("
        + s("storage")
        + g("torch", "FloatStorage")
        + s("0")
        + s("cpu")
        + b"K\x04tQ"  # persistent id tuple -> BINPERSID
        + b"K\x00K\x02K\x02\x86K\x02K\x01\x86\x89"
        + g("collections", "OrderedDict")
        + b")R"
        + b"tR"
    )
    return P2 + g("collections", "OrderedDict") + b")R(" + s("w") + tensor + b"u."


@pytest.mark.parametrize(
    "obj",
    [
        {"a": [1, 2.5, None, True], "b": ("x", b"y", bytearray(b"z"))},
        collections.OrderedDict(a=1),
        collections.defaultdict(list, {"k": [1]}),
        datetime.datetime(2026, 1, 2, 3, 4, 5),
        {frozenset({1, 2}), 3},
        list(range(1000)),
        "x" * 100_000,
        complex(1, 2),
    ],
    ids=["plain", "ordereddict", "defaultdict", "datetime", "sets", "ints", "long-str", "complex"],
)
def test_benign_pickles_every_protocol(obj: object) -> None:
    for protocol in range(6):
        assert scan(pickle.dumps(obj, protocol=protocol)) == [], protocol


def test_torch_like_and_numpy_like_streams_are_clean() -> None:
    assert scan(torch_like_state_dict()) == []
    numpy_like = (
        P2
        + g("numpy.core.multiarray", "_reconstruct")
        + g("numpy", "ndarray")
        + b"K\x00\x85C\x01b\x87R"
        + b"(K\x01K\x02\x85"
        + g("numpy", "dtype")
        + s("f4")
        + b"\x89\x88\x87R(K\x03"
        + s("<")
        + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89C\x08\x00\x00\x00\x00\x00\x00\x00\x00tb."
    )
    assert scan(numpy_like) == []


def test_policy_extension_and_unsafe_override(tmp_path) -> None:
    custom = P2 + g("mypkg.models", "Net") + b")\x81."
    assert [f.rule_id for f in scan(custom)] == ["RMP-PICKLE-002"]
    policy = load_policy({"pickle": {"allow": ["mypkg.*"]}})
    assert scan_pickle_bytes(custom, path="m.pkl", policy=policy) == []
    # allow cannot make a dangerous name safe; only the explicitly unsafe key can
    evil = P2 + g("os", "system") + s("id") + b"\x85R."
    sloppy = load_policy({"pickle": {"allow": ["os.*"]}})
    assert critical(scan_pickle_bytes(evil, path="m.pkl", policy=sloppy))
    path = tmp_path / "policy.toml"
    path.write_text('[pickle]\nunsafe_allow = ["os.system"]\n', encoding="utf-8")
    assert scan_pickle_bytes(evil, path="m.pkl", policy=load_policy(path)) == []
    assert DEFAULT_POLICY.judge("torch._utils", "_rebuild_tensor_v2") is Verdict.ALLOWED
    assert DEFAULT_POLICY.judge("torch", "load") is Verdict.DANGEROUS


def test_streams_and_offsets() -> None:
    data = b"JUNKJUNK" + P2 + g("os", "system") + s("id") + b"\x85R."
    stream = io.BytesIO(data)
    stream.seek(8)
    found = critical(scan_pickle_stream(stream, path="f", member=("a.zip",)))
    assert found[0].location.offset == 10
    assert found[0].location.member == ("a.zip",)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    scan(data)
    scan(P2 + data)
    scan(P4 + b"\x95" + struct.pack("<Q", len(data)) + data)


json_like = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.binary(max_size=20),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.text(max_size=8), children, max_size=5)
        | st.tuples(children, children)
    ),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(json_like, st.integers(min_value=0, max_value=5))
def test_random_plain_data_is_clean(obj: object, protocol: int) -> None:
    assert scan(pickle.dumps(obj, protocol=protocol)) == []


def joblib_array(rows: int, cols: int, payload_after: bytes = b"") -> bytes:
    """The layout joblib writes: wrapper, state dict, BUILD, padding, raw array bytes."""
    dtype = (
        g("numpy", "dtype")
        + s("f8")
        + b"\x89\x88\x87R(K\x03"
        + s("<")
        + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
    )
    state = (
        b"}("
        + s("subclass")
        + g("numpy", "ndarray")
        + s("shape")
        + b"K"
        + bytes([rows])
        + b"K"
        + bytes([cols])
        + b"\x86"
        + s("order")
        + s("C")
        + s("dtype")
        + dtype
        + s("allow_mmap")
        + b"\x88"
        + s("numpy_array_alignment_bytes")
        + b"K\x10u"
    )
    head = (
        P4
        + b"}("
        + s("w")
        + g("joblib.numpy_pickle", "NumpyArrayWrapper")
        + b")\x81"
        + state
        + b"b"
    )
    # padding length byte + padding, then rows*cols float64 values that look like opcodes
    raw = b"\x03\xff\xff\xff" + b"R" * (rows * cols * 8)
    return head + raw + payload_after + b"u."


def test_joblib_array_bytes_are_stepped_over() -> None:
    assert scan(joblib_array(4, 4)) == []
    evil_after = s("x") + g("os", "system") + s("id") + b"\x85R"
    found = critical(scan(joblib_array(4, 4, evil_after)))
    assert found
    assert "os.system('id')" in (found[0].evidence or "")
