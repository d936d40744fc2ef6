"""The static pickle interpreter against the published evasion techniques.

Every malicious sample is built by hand from opcodes, or by ``pickle.dumps`` of an
object whose ``__reduce__`` names a callable (dumps only writes bytes). Nothing here is
ever loaded.
"""

from __future__ import annotations

import collections
import datetime
import io
import os
import pickle
import struct

import pytest

from ramparts.core.types import Confidence, Finding, Severity
from ramparts.scan.models.pickle_policy import load_policy
from ramparts.scan.models.pickle_scan import scan_pickle_bytes, scan_pickle_stream


def s(text: str) -> bytes:
    """SHORT_BINUNICODE."""
    raw = text.encode()
    return b"\x8c" + bytes([len(raw)]) + raw


def x(text: str) -> bytes:
    """BINUNICODE (protocols 1-3 strings)."""
    raw = text.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def g(module: str, name: str) -> bytes:
    """GLOBAL."""
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def sg(module: str, name: str) -> bytes:
    """STACK_GLOBAL of two fresh strings."""
    return s(module) + s(name) + b"\x93"


P2 = b"\x80\x02"
P4 = b"\x80\x04"
EVIL = P2 + g("os", "system") + s("touch marker") + b"\x85R."


def scan(data: bytes) -> list[Finding]:
    return scan_pickle_bytes(data, path="m.pkl")


def rules(findings: list[Finding]) -> list[str]:
    return [f.rule_id for f in findings]


def critical(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity is Severity.CRITICAL]


def evidence(findings: list[Finding]) -> str:
    return " | ".join(f"{f.evidence} {f.message}" for f in findings)


class Reduce:
    """Pickles as a call of ``func(*args)``; only ever passed to pickle.dumps."""

    def __init__(self, func: object, args: tuple[object, ...]) -> None:
        self.func, self.args = func, args

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return self.func, self.args


# --- dangerous callables, and the aliases that evade name lists -------------------------


@pytest.mark.parametrize(
    ("module", "name", "tail"),
    [
        ("posix", "system", s("id") + b"\x85R."),
        ("nt", "system", s("id") + b"\x85R."),
        ("__builtin__", "eval", s("1+1") + b"\x85R."),
        ("__builtins__", "exec", s("x") + b"\x85R."),
        ("builtins", "exec", s("import os") + b"\x85R."),
        ("builtins", "compile", s("x") + b"\x85R."),
        ("builtins", "open", s("/etc/passwd") + b"\x85R."),
        ("builtins", "breakpoint", b")R."),
        ("io", "open", s("x") + b"\x85R."),
        ("_io", "FileIO", s("x") + s("w") + b"\x86R."),
        ("pathlib", "Path", s("x") + b"\x85R."),
        ("subprocess", "Popen", s("id") + b"\x85\x85R."),
        ("_posixsubprocess", "fork_exec", b")R."),
        ("commands", "getoutput", s("id") + b"\x85R."),
        ("runpy", "_run_code", s("x") + b"}\x86R."),
        ("pip", "main", b"]" + s("install") + b"a\x85R."),
        ("pkgutil", "resolve_name", s("os:system") + b"\x85R."),
        ("importlib", "import_module", s("os") + b"\x85R."),
        ("marshal", "loads", b"C\x01x\x85R."),
        ("types", "FunctionType", b"NN\x86R."),
        ("types", "CodeType", b")R."),
        ("operator", "attrgetter", s("system") + b"\x85R."),
        ("operator", "methodcaller", s("system") + b"\x85R."),
        ("webbrowser", "open", s("http://x") + b"\x85R."),
        ("socket", "create_connection", b")R."),
        ("multiprocessing.util", "spawnv_passfds", b")R."),
        ("torch.utils.collect_env", "run", s("id") + b"\x85R."),
        ("torch.serialization", "load", s("x.pt") + b"\x85R."),
        ("torch", "load", s("x.pt") + b"\x85R."),
        ("torch.hub", "load", s("repo") + b"\x85R."),
        ("torch._C", "_jit_pass", b")R."),
        ("numpy.testing._private.utils", "runstring", s("x") + b"}\x86R."),
        ("numpy", "load", s("x.npy") + b"\x85R."),
        ("ctypes", "CDLL", s("libc.so.6") + b"\x85R."),
        ("pty", "spawn", s("/bin/sh") + b"\x85R."),
        ("shutil", "rmtree", s("/") + b"\x85R."),
        ("sys", "modules", b"."),
        ("code", "InteractiveInterpreter", b")R."),
        ("timeit", "timeit", s("x") + b"\x85R."),
        ("cProfile", "run", s("x") + b"\x85R."),
        ("profile", "run", s("x") + b"\x85R."),
        ("pdb", "run", s("x") + b"\x85R."),
        ("bdb", "Bdb", b")R."),
        ("trace", "Trace", b")R."),
        ("idlelib.pyshell", "ModifiedInterpreter", b")R."),
        ("lib2to3.main", "main", b")R."),
        ("distutils.spawn", "spawn", b")R."),
        ("setuptools.sandbox", "run_setup", b")R."),
        ("site", "addsitedir", s("x") + b"\x85R."),
        ("ensurepip", "_run_pip", b")R."),
        ("pydoc", "pipepager", s("x") + s("id") + b"\x86R."),
        ("uuid", "_get_command_stdout", s("id") + b"\x85R."),
        ("copyreg", "add_extension", s("os") + s("system") + b"K\x07\x87R."),
        ("asyncio.unix_events", "_UnixSubprocessTransport", b")R."),
        ("dill", "loads", b"C\x01x\x85R."),
        ("cloudpickle", "loads", b"C\x01x\x85R."),
        ("joblib", "load", s("x") + b"\x85R."),
        ("pickle", "loads", b"C\x01x\x85R."),
        ("_pickle", "loads", b"C\x01x\x85R."),
        ("pandas", "read_pickle", s("x") + b"\x85R."),
        ("logging.config", "listen", b")R."),
        ("unittest.mock", "patch", s("os.getcwd") + b"\x85R."),
        ("weakref", "finalize", b")R."),
    ],
)
def test_dangerous_callables_are_critical(module: str, name: str, tail: bytes) -> None:
    found = critical(scan(P2 + g(module, name) + tail))
    assert found, (module, name)
    assert f"{module}.{name}" in evidence(found)
    assert found[0].rule_id == "RMP-PICKLE-001"
    assert found[0].confidence is Confidence.HIGH
    assert {"CWE-502", "AML.T0010.003", "AML.T0011.000", "OWASP LLM03:2025"} <= set(
        found[0].references
    )
    assert found[0].remediation
    assert "safetensors" in found[0].remediation


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (EVIL, "os.system('touch marker')"),
        (P2 + g("posix", "system") + s("id") + b"\x85R.", "posix.system('id')"),
        (P2 + g("__builtin__", "eval") + s("1+1") + b"\x85R.", "__builtin__.eval('1+1')"),
        (P2 + g("marshal", "loads") + b"C\x01x\x85R.", "marshal.loads(b'x')"),
        (P2 + g("subprocess", "Popen") + b"]" + s("id") + b"a\x85R.", "subprocess.Popen(…)"),
    ],
)
def test_evidence_shows_the_call(data: bytes, needle: str) -> None:
    assert needle in evidence(critical(scan(data)))


@pytest.mark.parametrize(
    ("global_", "cve"),
    [
        (("pip", "main"), "CVE-2025-1716"),
        (("pip._internal.cli.main", "main"), "CVE-2025-1716"),
        (("torch.serialization", "load"), "CVE-2025-32434"),
        (("asyncio.unix_events", "_UnixSubprocessTransport"), "CVE-2025-10157"),
    ],
)
def test_known_bypasses_cite_their_cve(global_: tuple[str, str], cve: str) -> None:
    found = critical(scan(P2 + g(*global_) + b")R."))
    assert cve in found[0].references


def test_pickle_dumps_of_reduce_payload_every_protocol() -> None:
    for protocol in range(6):
        data = pickle.dumps(Reduce(os.system, ("touch marker",)), protocol=protocol)
        found = critical(scan(data))
        assert found, protocol
        # os.system pickles as posix.system (or nt.system): the module alias is caught.
        assert f"{os.system.__module__}.system('touch marker')" in (found[0].evidence or "")
        assert "calls (REDUCE)" in found[0].message


def test_referenced_but_not_called_is_still_critical() -> None:
    found = critical(scan(P2 + g("os", "system") + b"."))
    assert rules(found) == ["RMP-PICKLE-001"]
    assert "imports os.system" in found[0].message
    assert found[0].evidence == "os.system"


# --- memo and STACK_GLOBAL tricks ------------------------------------------------------


def test_stack_global_names_from_the_memo() -> None:
    # module and name pushed, memoized, popped, then fetched back with BINGET
    data = P4 + s("os") + b"\x94" + s("system") + b"\x94" + b"00" + b"h\x00h\x01\x93"
    data += s("id") + b"\x85R."
    assert "os.system('id')" in evidence(critical(scan(data)))


def test_stack_global_via_dup_and_memo() -> None:
    data = P4 + s("os") + b"2q\x010" + s("system") + b"q\x02" + b"0h\x01h\x02\x93"
    data += s("id") + b"\x85R."
    assert "os.system('id')" in evidence(critical(scan(data)))


def test_long_memo_indices_and_text_memo() -> None:
    data = P2 + s("subprocess") + b"r\x10\x00\x00\x000" + s("call") + b"r\x11\x00\x00\x000"
    data += b"j\x10\x00\x00\x00j\x11\x00\x00\x00\x93" + s("id") + b"\x85R."
    assert "subprocess.call('id')" in evidence(critical(scan(data)))
    text = b"(S'os'\np5\nS'system'\np6\n0g5\ng6\n\x93(S'id'\ntR."
    assert "os.system('id')" in evidence(critical(scan(text)))


def test_memo_overwrite_is_followed() -> None:
    # slot 0 first holds an allowed module name, then is overwritten with 'os'
    data = P4 + s("collections") + b"q\x00" + s("os") + b"q\x000" + b"0h\x00" + s("system")
    data += b"\x93" + s("id") + b"\x85R."
    assert "os.system('id')" in evidence(critical(scan(data)))


def test_memoize_follows_the_memo_length_not_a_counter() -> None:
    # BINPUT 1 first, then MEMOIZE writes slot len(memo) == 1: it overwrites slot 1
    data = P4 + s("collections") + b"q\x01" + s("os") + b"\x94" + b"00"
    data += b"h\x01" + s("system") + b"\x93" + s("id") + b"\x85R."
    assert "os.system('id')" in evidence(critical(scan(data)))


def test_computed_and_non_string_names_for_stack_global() -> None:
    ints = P4 + b"K\x01K\x02\x93)R."
    assert rules(critical(scan(ints))) == ["RMP-PICKLE-003"]
    # names computed by allowed calls: str built through copyreg._reconstructor
    computed = (
        P4
        + sg("copyreg", "_reconstructor")
        + sg("builtins", "str")
        + sg("builtins", "str")
        + s("os")
        + b"\x87R"
        + s("system")
        + b"\x93"
        + s("id")
        + b"\x85R."
    )
    found = critical(scan(computed))
    assert "RMP-PICKLE-003" in rules(found)
    assert "copyreg._reconstructor" in evidence(found)


def test_evicted_memo_strings_cannot_hide_a_name() -> None:
    # Many memoized strings, then STACK_GLOBAL from memo slot 0 ("os"): whether the
    # interpreter still remembers it or not, the global is reported as critical.
    filler = b"".join(s(f"s{i}") + b"\x94" + b"0" for i in range(300_000))
    data = P4 + s("os") + b"\x940" + s("system") + b"\x940" + filler
    data += b"h\x00h\x01\x93" + s("id") + b"\x85R."
    assert critical(scan(data))


def test_names_memoized_inside_a_long_data_run_are_resolved_exactly() -> None:
    # The names sit at the start of a long run of plain data that the interpreter skips
    # in C; the STACK_GLOBAL that reads them back makes it interpret the pickle again.
    filler = b"]\x94(" + b"".join(b"K\x01" for _ in range(20_000)) + b"e0"
    data = P4 + b"N0" * 20 + s("os") + b"\x94" + s("system") + b"\x94" + b"00" + filler
    data += b"h\x00h\x01\x93" + s("id") + b"\x85R."
    found = critical(scan(data))
    assert "os.system('id')" in evidence(found)
    assert "RMP-PICKLE-003" not in rules(found)


# --- instance-building opcodes ---------------------------------------------------------


def test_inst_obj_newobj_newobj_ex_and_build() -> None:
    inst = b"(S'id'\nios\nsystem\n."
    assert "os.system('id')" in evidence(critical(scan(inst)))
    obj = P2 + b"(" + g("os", "system") + s("id") + b"o."
    assert "os.system('id')" in evidence(critical(scan(obj)))
    newobj = P2 + g("subprocess", "Popen") + s("id") + b"\x85\x81."
    assert "calls (NEWOBJ)" in critical(scan(newobj))[0].message
    newobj_ex = P4 + g("subprocess", "Popen") + s("id") + b"\x85}\x92."
    assert "calls (NEWOBJ_EX)" in critical(scan(newobj_ex))[0].message
    build = P2 + g("mymodule", "Thing") + b")\x81}" + s("k") + s("v") + b"sb."
    found = scan(build)
    assert rules(found) == ["RMP-PICKLE-002"]
    assert found[0].severity is Severity.HIGH
    assert "mymodule.Thing" in found[0].message
    assert "__setstate__" in found[0].message


def test_build_on_a_global_itself_is_reported() -> None:
    # BUILD with slot state on a class object would set attributes of the class
    data = P2 + g("collections", "OrderedDict") + b"N}" + s("__reduce__") + b"Ns\x86b."
    found = scan(data)
    assert rules(found) == ["RMP-PICKLE-007"]
    assert found[0].severity is Severity.HIGH


def test_getattr_chain_calls_a_computed_callable() -> None:
    # the chain: getattr of __import__ of os, for 'system', then called with 'id'
    data = P2 + g("builtins", "getattr") + g("builtins", "__import__") + s("os") + b"\x85R"
    data += s("system") + b"\x86R" + s("id") + b"\x85R."
    found = scan(data)
    assert {"RMP-PICKLE-001", "RMP-PICKLE-006"} <= set(rules(found))
    chain = next(f for f in found if f.rule_id == "RMP-PICKLE-006")
    assert "builtins.getattr(builtins.__import__('os'), 'system')('id')" in (chain.evidence or "")


def test_functools_partial_of_a_dangerous_callable() -> None:
    data = P2 + g("functools", "partial") + g("os", "system") + s("id") + b"\x86R)R."
    found = critical(scan(data))
    partial = next(f for f in found if "functools.partial" in f.message)
    assert partial.rule_id == "RMP-PICKLE-001"
    assert "functools.partial(os.system, 'id')" in (partial.evidence or "")
    # partial of something harmless is only unknown
    harmless = P2 + g("functools", "partial") + g("builtins", "set") + b"\x85R."
    assert [f.severity for f in scan(harmless)] == [Severity.HIGH]


def test_attribute_walks_in_dotted_names() -> None:
    walk = P4 + sg("collections", "OrderedDict.__init__.__globals__") + b"."
    assert rules(critical(scan(walk))) == ["RMP-PICKLE-001"]
    # a module attribute of an allowed estimator module is not allowed by the pattern
    module_attr = P4 + sg("sklearn.linear_model._base", "np.load") + b"."
    assert rules(critical(scan(module_attr))) == ["RMP-PICKLE-001"]
    method = P4 + sg("sklearn.linear_model._base", "LinearRegression.fit") + b"."
    assert [f.severity for f in scan(method)] == [Severity.HIGH]


def test_codecs_encode_is_allowed_only_as_pickle_writes_it() -> None:
    latin1 = P2 + g("_codecs", "encode") + x("\u00e9t\u00e9") + x("latin1") + b"\x86R."
    assert scan(latin1) == []
    rot13 = P2 + g("_codecs", "encode") + x("bf") + x("rot13") + b"\x86R."
    found = scan(rot13)
    assert rules(found) == ["RMP-PICKLE-002"]
    assert "'rot13'" in (found[0].evidence or "")


# --- text protocol, extensions, persistent ids ----------------------------------------


def test_protocol_zero_text_pickle() -> None:
    assert "os.system('ls -la')" in evidence(critical(scan(b"cos\nsystem\n(S'ls -la'\ntR.")))
    assert "os.system('ls')" in evidence(critical(scan(b"cos\nsystem\n(Vls\ntR.")))
    escaped = b"cos\nsystem\n(S'\\x6c\\x73'\ntR."
    assert "os.system('ls')" in evidence(critical(scan(escaped)))
    # numbers in text form, as the C unpickler reads them (strtol base 0), never stop a scan
    odd_numbers = b"I0x10\nI01\nL12L\nF1e5\n" + b"0000" + b"cos\nsystem\n(S'id'\ntR."
    assert critical(scan(odd_numbers))


def test_extension_codes_are_named() -> None:
    for op, code in ((b"\x82\x07", 7), (b"\x83\x10\x27", 10000), (b"\x84\x01\x00\x01\x00", 65537)):
        found = scan(P2 + op + s("id") + b"\x85R.")
        assert rules(found) == ["RMP-PICKLE-005"], code
        assert f"extension code {code}" in found[0].message
        assert f"<extension {code}>('id')" in (found[0].evidence or "")


def test_persistent_ids() -> None:
    storage = P2 + b"(" + s("storage") + g("torch", "FloatStorage") + s("0") + s("cpu")
    storage += b"K\x04tQ."
    assert scan(storage) == []
    custom = P2 + s("my-object") + b"Q."
    found = scan(custom)
    assert rules(found) == ["RMP-PICKLE-009"]
    assert found[0].severity is Severity.LOW
    assert rules(scan(b"Pmy-object\n.")) == ["RMP-PICKLE-009"]


# --- streams: several pickles, broken pickles, offsets ---------------------------------


def test_every_pickle_of_a_stream_is_read() -> None:
    benign = pickle.dumps({"a": 1}, protocol=2)
    found = critical(scan(benign * 5 + EVIL))
    assert found
    assert found[0].location.offset == 5 * len(benign) + 2


def test_legacy_torch_layout_payload_in_the_fourth_pickle() -> None:
    # magic number, protocol version, sys info, then the model pickle, then storage keys,
    # then raw storage bytes (which do not decode as a pickle and end the walk quietly)
    magic = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)
    version = pickle.dumps(1001, protocol=2)
    sys_info = pickle.dumps({"protocol_version": 1001, "little_endian": True}, protocol=2)
    keys = pickle.dumps(["0"], protocol=2)
    raw = struct.pack("<q", 4) + b"\x00" * 16
    data = magic + version + sys_info + EVIL + keys + raw
    found = scan(data)
    assert rules(found) == ["RMP-PICKLE-001"]
    benign = magic + version + sys_info + pickle.dumps({"w": 1}, protocol=2) + keys + raw
    assert scan(benign) == []


def test_payload_then_broken_stream() -> None:
    data = P2 + g("os", "system") + s("id") + b"\x85R" + b"\xff\xfe garbage"
    found = scan(data)
    assert rules(found) == ["RMP-PICKLE-001", "RMP-PICKLE-004"]
    broken = found[1]
    assert broken.severity is Severity.MEDIUM
    assert broken.location.offset == data.index(b"\xff")
    assert "unknown opcode 0xff" in broken.message


def test_payload_then_truncation() -> None:
    for cut in (1, 5, 9):
        data = EVIL[:-1] + b"X\xff\xff\x00\x00abc"[:cut]
        found = scan(data)
        assert "RMP-PICKLE-001" in rules(found), cut
        assert "RMP-PICKLE-004" in rules(found), cut


def test_second_pickle_malicious_after_a_data_only_first() -> None:
    first = pickle.dumps([{"k": i, "v": str(i)} for i in range(5_000)], protocol=5)
    data = first + pickle.dumps(Reduce(os.system, ("id",)), protocol=5)
    found = critical(scan(data))
    assert found
    assert found[0].location.offset is not None
    assert found[0].location.offset > len(first)


def test_payload_after_a_large_data_only_prefix() -> None:
    # the plain data is skipped in C; the payload after it is interpreted exactly
    for protocol in (2, 4, 5):
        obj = [
            [{"id": i, "name": f"user{i}", "on": True} for i in range(40_000)],
            Reduce(os.system, ("id",)),
        ]
        found = critical(scan(pickle.dumps(obj, protocol=protocol)))
        assert found, protocol
        assert "system('id')" in (found[0].evidence or ""), protocol


def test_streams_and_offsets() -> None:
    data = b"JUNKJUNK" + EVIL
    stream = io.BytesIO(data)
    stream.seek(8)
    found = critical(scan_pickle_stream(stream, path="f", member=("a.zip", "archive/data.pkl")))
    assert found[0].location.offset == 10
    assert found[0].location.member == ("a.zip", "archive/data.pkl")
    assert str(found[0].location) == "f!a.zip!archive/data.pkl@10"
    assert scan_pickle_bytes(EVIL, path="f", base_offset=100)[0].location.offset == 102


def test_a_global_named_twice_is_one_finding() -> None:
    data = P2 + g("os", "system") + s("a") + b"\x85R0" + g("os", "system") + s("b") + b"\x85R."
    found = scan(data)
    assert rules(found) == ["RMP-PICKLE-001"]
    assert "(2 references)" in found[0].message
    assert "os.system('a')" in (found[0].evidence or "")


def test_evidence_is_short_and_redacted() -> None:
    secret = "curl https://bob:hunter2@example.com/x?token=abc123 " + "A" * 300
    found = critical(scan(P2 + g("os", "system") + x(secret) + b"\x85R."))
    text = found[0].evidence or ""
    assert len(text) <= 120
    assert "hunter2" not in text
    assert "bob:" not in text


# --- joblib ----------------------------------------------------------------------------


def joblib_array(
    rows: int, cols: int, payload_after: bytes = b"", *, aligned: bool = True
) -> bytes:
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
        + (s("numpy_array_alignment_bytes") + b"K\x10" if aligned else b"")
        + b"u"
    )
    head = P4 + b"}(" + s("w") + g("joblib.numpy_pickle", "NumpyArrayWrapper") + b")\x81"
    head += state + b"b"
    # padding length byte + padding, then rows*cols float64 values that look like opcodes
    raw = (b"\x03\xff\xff\xff" if aligned else b"") + b"R" * (rows * cols * 8)
    return head + raw + payload_after + b"u."


def test_joblib_array_bytes_are_stepped_over() -> None:
    assert scan(joblib_array(4, 4)) == []
    assert scan(joblib_array(3, 5, aligned=False)) == []
    evil_after = s("x") + g("os", "system") + s("id") + b"\x85R"
    found = critical(scan(joblib_array(4, 4, evil_after)))
    assert "os.system('id')" in evidence(found)


def test_joblib_object_array_is_a_nested_pickle() -> None:
    head = joblib_array(1, 1).split(b"\x03\xff\xff\xff")[0].replace(s("f8"), s("O8"))
    nested = pickle.dumps(Reduce(os.system, ("id",)), protocol=5)
    found = critical(scan(head + nested + b"u."))
    assert "system('id')" in evidence(found)
    assert scan(head + pickle.dumps(["a", 1], protocol=5) + b"u.") == []


def test_joblib_array_of_unreadable_size_fails_closed() -> None:
    data = joblib_array(4, 4).replace(s("f8"), b"K\x05")
    found = scan(data)
    assert "RMP-PICKLE-008" in rules(found)
    assert max(f.severity for f in found) >= Severity.HIGH


# --- benign files ----------------------------------------------------------------------


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


def numpy_like() -> bytes:
    return (
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


@pytest.mark.parametrize(
    "obj",
    [
        {"a": [1, 2.5, None, True], "b": ("x", b"y", bytearray(b"z"))},
        collections.OrderedDict(a=1),
        collections.defaultdict(list, {"k": [1]}),
        collections.Counter("abc"),
        collections.deque([1, 2]),
        datetime.datetime(2026, 1, 2, 3, 4, 5),
        datetime.date(2026, 1, 2),
        datetime.timedelta(days=3),
        {frozenset({1, 2}), 3},
        list(range(1000)),
        "x" * 100_000,
        b"\x00" * 70_000,
        complex(1, 2),
        slice(1, 5, 2),
        range(10),
    ],
    ids=[
        "plain",
        "ordereddict",
        "defaultdict",
        "counter",
        "deque",
        "datetime",
        "date",
        "timedelta",
        "sets",
        "ints",
        "long-str",
        "long-bytes",
        "complex",
        "slice",
        "range",
    ],
)
def test_benign_pickles_every_protocol(obj: object) -> None:
    for protocol in range(6):
        assert scan(pickle.dumps(obj, protocol=protocol)) == [], protocol


def test_torch_like_and_numpy_like_streams_are_clean() -> None:
    assert scan(torch_like_state_dict()) == []
    assert scan(numpy_like()) == []


def test_user_policy_allows_its_own_classes() -> None:
    custom = P2 + g("mypkg.models", "Net") + b")\x81."
    assert rules(scan(custom)) == ["RMP-PICKLE-002"]
    policy = load_policy({"pickle": {"allow": ["mypkg.*"]}})
    assert scan_pickle_bytes(custom, path="m.pkl", policy=policy) == []
    # allow cannot make a dangerous name safe
    sloppy = load_policy({"pickle": {"allow": ["os.*", "os.system"]}})
    assert critical(scan_pickle_bytes(EVIL, path="m.pkl", policy=sloppy))
