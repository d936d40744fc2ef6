"""The streaming pickle interpreter: opcodes, windows, skipped data runs, limits.

Inputs are built by hand from opcodes or with ``pickle.dumps``; nothing is loaded.
"""

from __future__ import annotations

import io
import os
import pickle
import pickletools
import struct
import tracemalloc

import pytest

from ramparts.errors import ConfigError
from ramparts.scan.models.pickle_scan import looks_like_pickle, scan_pickle_stream
from ramparts.scan.models.pickle_vm import (
    CONST,
    OPCODE_NAMES,
    UNKNOWN,
    Call,
    Limits,
    PickleResult,
    Ref,
    Truncated,
    interpret,
    interpret_bytes,
)


def s(text: str) -> bytes:
    raw = text.encode()
    return b"\x8c" + bytes([len(raw)]) + raw


def g(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


P2 = b"\x80\x02"
P4 = b"\x80\x04"
EVIL = P2 + g("os", "system") + s("id") + b"\x85R."


class Reduce:
    """Pickles as a call of ``func(*args)``; only ever passed to pickle.dumps."""

    def __init__(self, func: object, args: tuple[object, ...]) -> None:
        self.func, self.args = func, args

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return self.func, self.args


class OneWay(io.RawIOBase):
    """A stream that cannot seek (a pipe, a socket)."""

    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        chunk = self._inner.read(min(len(buffer), 1000))  # short reads, as pipes do
        buffer[: len(chunk)] = chunk
        return len(chunk)


class Failing(io.BytesIO):
    """A stream whose decoder fails halfway (a corrupt compressed member)."""

    def read(self, size: int | None = -1) -> bytes:
        if self.tell() > 20:
            raise EOFError("compressed stream ended early")
        return super().read(min(size or 1, 8) if size and size > 0 else 8)


def one(data: bytes, **kwargs: object) -> PickleResult:
    results = interpret_bytes(data, **kwargs)  # type: ignore[arg-type]
    assert results
    return results[0]


def names(results: list[PickleResult]) -> list[str]:
    return [ref.dotted for result in results for ref in result.globals]


def test_the_interpreter_knows_exactly_the_opcodes_of_pickle() -> None:
    known = {op.code.encode("latin-1")[0]: op.name for op in pickletools.opcodes}
    assert dict(OPCODE_NAMES) == known


def test_calls_record_opcode_offset_and_arguments() -> None:
    result = one(EVIL)
    (ref,) = result.globals
    assert (ref.module, ref.name, ref.opcode, ref.offset) == ("os", "system", "GLOBAL", 2)
    assert (ref.invoked_by, ref.args, ref.calls) == ("REDUCE", ("id",), 1)
    assert ref.invoked_at == len(EVIL) - 2
    assert result.error is None
    assert result.end == len(EVIL)


def test_repeated_calls_with_constant_arguments_share_one_result() -> None:
    data = pickle.dumps([Reduce(complex, (i, 1)) for i in range(1000)], protocol=4)
    (ref,) = one(data, skip_data=False).globals
    assert ref.calls == 1000
    assert isinstance(ref.result, Call)
    assert ref.args == (0, 1)


def test_every_protocol_of_plain_data_is_data_only() -> None:
    # (sets and bytes need a global before protocols 4 and 3)
    obj = {"a": [1, 2.5, None, True, "x" * 300, -(2**70)], "b": (1, (2, 3)), "c": {"d": {}}}
    for protocol in range(6):
        for skip in (True, False):
            result = one(pickle.dumps(obj, protocol=protocol), skip_data=skip)
            assert result.data_only, (protocol, skip)
            assert result.protocol == (protocol if protocol >= 2 else 0)


def test_values_on_the_stack_are_kept_short() -> None:
    data = P2 + g("os", "system") + b"X" + struct.pack("<I", 5000) + b"A" * 5000 + b"\x85R."
    (ref,) = one(data).globals
    assert isinstance(ref.args, tuple)
    text = ref.args[0]
    assert isinstance(text, Truncated)
    assert text.size == 5000
    assert len(text.prefix) == 256


def test_stack_global_operands_that_are_not_strings() -> None:
    (ref,) = one(P4 + b"K\x01" + s("x") + b"\x93.").globals
    assert ref.dynamic
    assert ref.operands == (1, "x")


@pytest.mark.parametrize("chunk", [4096, 5000, 1 << 20])
def test_payload_found_across_every_window_boundary(chunk: int) -> None:
    # The payload sits at every offset around the end of the first window.
    limits = Limits(chunk_size=chunk)
    for shift in range(0, 64, 3):
        pad = pickle.dumps("p" * (chunk - 40 + shift), protocol=4)
        results = interpret_bytes(pad + EVIL, limits=limits)
        assert "os.system" in names(results), shift
        assert results[-1].globals[0].offset == len(pad) + 2


def test_long_payloads_are_skipped_not_read() -> None:
    big = P4 + b"\x8e" + struct.pack("<Q", 50 << 20)  # BINBYTES8 of 50 MB, never held
    stream = io.BytesIO(big + b"\x00" * (50 << 20) + b"0" + EVIL[2:])
    results = list(interpret(stream))
    assert "os.system" in names(results)


def test_a_payload_running_past_the_end_is_malformed() -> None:
    result = one(P4 + b"\x8e" + struct.pack("<Q", 1 << 40) + b"abc.")
    assert result.error is not None
    assert "past the end" in result.error


def test_streams_that_cannot_seek_are_read_exactly() -> None:
    obj = [[{"i": i, "s": str(i)} for i in range(20_000)], Reduce(os.system, ("id",))]
    data = pickle.dumps(obj, protocol=5)
    results = list(interpret(OneWay(data)))  # type: ignore[arg-type]
    (ref,) = results[0].globals
    assert ref.args == ("id",)
    assert not results[0].replayed


def test_a_failing_stream_ends_as_malformed_with_the_reason() -> None:
    result = one_stream(Failing(P2 + b"(" + b"K\x01" * 200 + b"l."))
    assert result.error is not None
    assert "EOFError" in result.error


def one_stream(stream: io.BytesIO) -> PickleResult:
    results = list(interpret(stream))
    assert results
    return results[0]


def test_trailing_bytes_after_the_last_pickle_end_quietly() -> None:
    results = interpret_bytes(pickle.dumps(1, protocol=2) + b"\x00\x01\x02garbage")
    assert len(results) == 1
    assert results[0].error is None
    # bytes that decode as a few opcodes naming nothing importable are not a pickle
    assert len(interpret_bytes(pickle.dumps(1, protocol=2) + b"c\x00\x01\n\x02\n)R")) == 1


def test_skipping_data_runs_gives_the_same_globals_as_exact_interpretation() -> None:
    pieces = [
        {"k": list(range(50)), "v": "text" * 10},
        Reduce(complex, (1, 2)),
        [("a", b"b", 1.5)] * 3,
        Reduce(os.system, ("id",)),
    ]
    for protocol in range(6):
        data = pickle.dumps(
            [pieces[i % 4] if i % 997 else pieces[3] for i in range(8_000)], protocol=protocol
        )
        fast = interpret_bytes(data)
        exact = interpret_bytes(data, skip_data=False)
        assert names(fast) == names(exact), protocol
        assert [r.error for r in fast] == [r.error for r in exact] == [None], protocol


@pytest.mark.parametrize("proto", [P2, P4], ids=["puts", "memoize"])
def test_opcodes_a_style_does_not_write_end_runs_in_bounded_memory(proto: bytes) -> None:
    # Short forms that Python never writes in this memo style are outside its run
    # pattern: each ends a run and is interpreted exactly, and the walk must not read
    # on looking for the end of a token it does not know.
    rare = [
        s("short unicode"),
        b"U\x03abc",  # SHORT_BINSTRING
        b"X\x03\x00\x00\x00abc",  # BINUNICODE, short
        b"B\x02\x00\x00\x00ab",  # BINBYTES, short
        b"T\x02\x00\x00\x00ab",  # BINSTRING, short
        b"\x8b\x02\x00\x00\x00\x01\x02",  # LONG4, short
    ]
    filler = b"K\x01" * 6_000 + b"0" * 6_000
    body = b"".join(filler + op + b"0" for _ in range(40) for op in rare)
    data = proto + b"N" + body + b"0" + g("os", "system") + s("id") + b"\x85R."
    interpret_bytes(P2 + body[:100_000] + b"N.")  # compile the run patterns first
    interpret_bytes(P4 + body[:100_000] + b"N.")
    tracemalloc.start()
    try:
        fast = interpret_bytes(data, limits=Limits(chunk_size=1 << 16))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, peak  # a window, not the whole stream
    assert names(fast) == names(interpret_bytes(data, skip_data=False)) == ["os.system"]
    assert fast[0].error is None


def test_a_skip_that_loses_a_name_replays_exactly() -> None:
    # the names are memoized inside the run (after a few opcodes of plain data)
    filler = b"]\x94(" + b"K\x01" * 20_000 + b"e0"
    data = P4 + b"N0" * 20 + s("os") + b"\x94" + s("system") + b"\x94" + b"00" + filler
    data += b"h\x00h\x01\x93" + s("id") + b"\x85R."
    result = one(data)
    assert result.replayed
    (ref,) = result.globals
    assert (ref.dotted, ref.args) == ("os.system", ("id",))


def test_memo_slots_written_in_a_skipped_run_are_counted() -> None:
    # Strings memoized after a long skipped run are still found by their slot number.
    big = pickle.dumps([{"n": i, "s": f"v{i}"} for i in range(30_000)], protocol=5)
    tail = P4 + b"\x95" + struct.pack("<Q", 0)
    # one pickle: the list, then a class named from strings memoized after it
    body = big[:-1] + b"0" + s("os") + b"\x94" + s("system") + b"\x94" + b"00"
    slot = sum(1 for op, _, _ in pickletools.genops(io.BytesIO(big)) if op.name == "MEMOIZE")
    body += b"j" + struct.pack("<I", slot) + b"j" + struct.pack("<I", slot + 1) + b"\x93."
    del tail
    for stream in (io.BytesIO(body), OneWay(body)):
        results = list(interpret(stream))  # type: ignore[arg-type]
        assert [ref.dotted for ref in results[0].globals] == ["os.system"]
        assert not results[0].replayed


def test_unknown_values_stay_unknown_after_a_skip() -> None:
    data = pickle.dumps([[i, str(i)] for i in range(10_000)], protocol=4)
    result = one(data[:-1] + b"\x85" + g("builtins", "set") + b")R.")
    assert [r.dotted for r in result.globals] == ["builtins.set"]
    assert UNKNOWN is not CONST


def test_limits_bound_the_work_and_are_reported() -> None:
    many = P2 + b"".join(g("m", f"C{i}") + b"0" for i in range(10)) + b"N."
    result = one(many, limits=Limits(max_globals=4))
    assert "max_globals" in result.limits
    assert len(result.globals) == 4
    deep = P2 + b"(" * 70_000 + EVIL[2:]
    result = one(deep, skip_data=False)
    assert "max_marks" in result.limits
    assert "os.system" in names([result])


def test_limits_validate_themselves() -> None:
    with pytest.raises(ConfigError):
        Limits(max_stack=0)
    with pytest.raises(ConfigError):
        Limits(chunk_size=100)


def test_offsets_follow_the_stream_position() -> None:
    stream = io.BytesIO(b"header--" + EVIL)
    stream.seek(8)
    (result,) = list(interpret(stream))
    assert result.start == 8
    assert result.globals[0].offset == 10


def test_sniffing_pickles_by_content() -> None:
    for protocol in range(6):
        assert looks_like_pickle(pickle.dumps({"a": [1, 2]}, protocol=protocol)), protocol
    assert looks_like_pickle(b"\x80\x05\x95")
    assert looks_like_pickle(b"(dp0\nVa\np1\nI1\ns.")
    assert looks_like_pickle(b"cos\nsystem\n(S'id'\ntR.")
    long_head = pickle.dumps(list(range(2000)), protocol=0)[:4096]
    assert looks_like_pickle(long_head)
    for text in (b"", b"(hello world)", b"I am a text file\nwith lines\n", b'{"json": 1}', b"]x"):
        assert not looks_like_pickle(text), text


def test_scan_of_a_stream_reads_in_windows(tmp_path: object) -> None:
    obj = [{"i": i, "s": "x" * (i % 50)} for i in range(50_000)]
    data = pickle.dumps([obj, Reduce(os.system, ("id",))], protocol=5)
    found = scan_pickle_stream(io.BytesIO(data), path="big.pkl")
    assert [f.rule_id for f in found] == ["RMP-PICKLE-001"]
    assert found[0].evidence == f"{os.system.__module__}.system('id')"


def test_refs_are_values_of_the_interpreter() -> None:
    ref = Ref("os", "system", "GLOBAL", 0)
    assert ref.dotted == "os.system"


def test_long_text_arguments_never_stop_the_scan() -> None:
    # protocol 0 strings longer than what is kept, then a payload
    for text in ("a" * 5000, "\\x41" * 3000, "é" * 3000):
        data = pickle.dumps(text, protocol=0)[:-1] + b"0" + EVIL[2:]
        result = one(data)
        assert result.error is None, text[:8]
        assert names([result]) == ["os.system"]
    # a memo index padded with more whitespace than the window holds (the unpickler
    # skips it): the slot is unknown, the scan goes on
    padded = b"S'x'\np" + b" " * 70_000 + b"1\n0" + EVIL[2:]
    result = one(padded)
    assert result.error is None
    assert names([result]) == ["os.system"]
    # a global name longer than the window is still named
    long_name = b"cmod\n" + b"n" * 70_000 + b"\n."
    (ref,) = one(long_name).globals
    assert ref.name.endswith("…")


class Seekable(io.RawIOBase):
    """A seekable stream of another kind than files (a compressed archive member)."""

    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._inner.seek(offset, whence)

    def tell(self) -> int:
        return self._inner.tell()

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        chunk = self._inner.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_memo_counting_while_walking_on_streams_that_seek_slowly() -> None:
    obj = [
        [{"n": i, "s": f"v{i}"} for i in range(30_000)],
        Reduce(complex, (1, 2)),
        [{"n": i, "s": f"w{i}"} for i in range(30_000)],
        Reduce(os.system, ("id",)),
    ]
    data = pickle.dumps(obj, protocol=5)
    expected = [r.dotted for r in one(data, skip_data=False).globals]
    for stream in (io.BytesIO(data), Seekable(data), OneWay(data)):
        results = list(interpret(stream))  # type: ignore[arg-type]
        assert [r.dotted for r in results[0].globals] == expected, type(stream).__name__
        (found,) = scan_pickle_stream(stream_of(stream, data), path="m.pkl")
        assert found.evidence == f"{os.system.__module__}.system('id')", type(stream).__name__


def stream_of(kind: io.IOBase, data: bytes) -> io.IOBase:
    return type(kind)(data)  # type: ignore[call-arg]


def test_operands_pushed_long_before_stack_global_replay() -> None:
    # the names stay on the stack under a long stack-neutral run of plain data
    data = P4 + s("os") + s("system") + b"N0" * 20_000 + b"\x93" + s("id") + b"\x85R."
    result = one(data)
    assert result.replayed
    (ref,) = result.globals
    assert (ref.dotted, ref.args) == ("os.system", ("id",))
