# ruff: noqa: TRY301 - an interpreter raises its one "malformed" error from every opcode
"""A static, symbolic interpreter of the pickle virtual machine (protocols 0 to 5).

It decodes every opcode and tracks the stack, the mark stack and the memo with
symbolic values, so it knows which callable each GLOBAL, INST or STACK_GLOBAL names
(even when the names come from the memo) and which ones REDUCE, NEWOBJ, NEWOBJ_EX,
OBJ, INST or BUILD would invoke, with what constant arguments. Nothing is imported,
constructed or called.

Memory stays bounded on huge benign pickles: plain data collapses to one sentinel,
containers keep only the references inside them, and the memo keeps only what can
matter later (strings short enough to be names, references, call results).
Concatenated pickles are all read; a broken stream still returns every reference
decoded before the break.
"""

from __future__ import annotations

import codecs
import re
import struct
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = ["Call", "PickleResult", "Ref", "interpret"]

_MAX_STR = 512  # characters of a string kept for names and evidence
_MAX_MEMO_STRINGS = 250_000  # plain strings remembered in the memo (names are short)
_MAX_ITEMS = 16  # items of a tuple kept for evidence
_MAX_REFS = 10_000  # distinct references recorded per pickle


class _Const:
    """Any constant that cannot name or call anything (numbers, bytes, plain containers)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "…"


CONST = _Const()


@dataclass(eq=False, slots=True)
class Ref:
    """A callable a pickle imports: ``module.name``, by which opcode, at which offset."""

    module: str
    name: str
    opcode: str
    offset: int
    dynamic: bool = False  # module or name were not constant strings


@dataclass(eq=False, slots=True)
class Call:
    """An invocation of a callable (a Ref, or the result of another call)."""

    func: Ref | Call | None
    args: tuple[object, ...]
    opcode: str
    offset: int


@dataclass(eq=False, slots=True)
class _Bag:
    """A container that holds references or call results (kept for their sake only)."""

    nodes: list[object] = field(default_factory=list)


@dataclass(slots=True)
class PickleResult:
    """What one pickle in a stream references and calls."""

    start: int
    refs: list[Ref] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    ext_codes: list[tuple[int, int]] = field(default_factory=list)
    error: str | None = None
    error_offset: int | None = None
    opcodes: int = 0


class _Malformed(Exception):  # noqa: N818 - internal control flow, never escapes
    pass


def _node(value: object) -> bool:
    return isinstance(value, Ref | Call | _Bag) or (isinstance(value, _Dict) and bool(value.nodes))


def _plain(value: object) -> bool:
    """Values the memo need not keep: constants, ints, dicts of plain data."""
    return (
        value is CONST or isinstance(value, int) or (isinstance(value, _Dict) and not value.nodes)
    )


def _collapse(items: list[object]) -> object:
    nodes = [v for v in items if _node(v)]
    return _Bag(nodes) if nodes else CONST


def _short(value: object) -> object:
    if isinstance(value, str) and len(value) > _MAX_STR:
        return value[:_MAX_STR]
    return value


_DECODE_ESCAPE = codecs.escape_decode
_RAW_UNICODE = codecs.raw_unicode_escape_decode


def _data_run_pattern() -> re.Pattern[bytes]:
    """Runs of opcodes that only build plain data: no import, call or persistent id.

    Matching these runs in C (a possessive regex) lets a data-only pickle be checked at
    memory speed; one-byte length prefixes are spelled out as alternatives.
    """
    single = re.escape(b"(}])N\x88\x89\x94uesatdl\x85\x86\x87\x8f\x90\x91012")
    parts = [b"[" + single + b"]", b"[Kqh\x80].", b"M.{2}", b"[Jrj].{4}", b"[G\x95].{8}"]
    for op in (b"\x8c", b"C", b"U", b"\x8a"):
        lengths = b"|".join(
            re.escape(bytes([k])) + (b".{%d}" % k if k else b"") for k in range(256)
        )
        parts.append(re.escape(op) + b"(?:" + lengths + b")")
    return re.compile(b"(?:" + b"|".join(parts) + b")++", re.DOTALL)


_DATA_RUN: re.Pattern[bytes] | None = None
_LONG_DATA = {0x58: 4, 0x42: 4, 0x54: 4, 0x8D: 8, 0x8E: 8, 0x96: 8}  # length width
_CHUNK = 1 << 20
_FAST_PATH_MIN = 1 << 20


def _data_only(view: memoryview, pos: int) -> int | None:
    """If the pickle at ``pos`` only builds plain data, return the offset after its STOP.

    ``None`` means it imports, calls, uses persistent ids or text opcodes, or is
    malformed: the caller then runs the full symbolic interpreter on it.
    """
    global _DATA_RUN  # noqa: PLW0603 - compiled once, on first use
    if _DATA_RUN is None:
        _DATA_RUN = _data_run_pattern()
    match = _DATA_RUN.match
    size = len(view)
    while pos < size:
        m = match(view, pos, min(size, pos + _CHUNK))
        if m is not None and m.end() > pos:
            pos = m.end()
            continue
        op = view[pos]
        if op == 0x2E:  # STOP
            return pos + 1
        width = _LONG_DATA.get(op)
        if width is None or pos + 1 + width > size:
            return None
        n = int.from_bytes(view[pos + 1 : pos + 1 + width], "little")
        pos += 1 + width + n
    return None


def interpret(buf: bytes | memoryview, *, max_pickles: int = 64) -> Iterator[PickleResult]:
    """Interpret every pickle in ``buf`` in turn; yield one result per pickle.

    After the first pickle, reading stops quietly at bytes that do not start another
    pickle (legacy PyTorch files append raw tensor data after their pickles).
    """
    view = memoryview(buf)
    pos = 0
    size = len(view)
    count = 0
    while pos < size and count < max_pickles:
        if count and not _starts_pickle(view, pos):
            return
        result = PickleResult(start=pos)
        # The data-only fast path pays for itself on big pickles; compiling its
        # pattern (about 15 ms) would dominate the scan of a small one.
        end = _data_only(view, pos) if size - pos >= _FAST_PATH_MIN else None
        pos = end if end is not None else _run(view, pos, result)
        if count and result.error is not None and not result.refs and not result.ext_codes:
            return  # trailing bytes that merely looked like a pickle
        count += 1
        yield result
        if result.error is not None:
            return


def _starts_pickle(view: memoryview, pos: int) -> bool:
    first = view[pos]
    if first == 0x80:
        return pos + 1 < len(view) and 2 <= view[pos + 1] <= 5
    return first in b"(c}]NIKJ"


def _line(view: memoryview, pos: int, size: int) -> tuple[bytes, int]:
    end = bytes(view[pos : min(size, pos + 1 << 16)]).find(b"\n")
    if end < 0:
        raise _Malformed("unterminated text argument")
    return bytes(view[pos : pos + end]), pos + end + 1


def _run(view: memoryview, pos: int, out: PickleResult) -> int:  # noqa: PLR0912, PLR0915
    """Interpret one pickle starting at ``pos``; return the position after STOP."""
    size = len(view)
    stack: list[object] = []
    metastack: list[list[object]] = []
    memo: dict[int, object] = {}  # a missing slot reads as a constant
    memo_next = 0
    memo_strings = 0
    refs = out.refs
    calls = out.calls
    unpack_from = struct.unpack_from
    ops = 0
    op_at = pos
    try:
        while True:
            if pos >= size:
                raise _Malformed("stream ends without STOP")
            op_at = pos
            op = view[pos]
            pos += 1
            ops += 1
            # Most frequent opcodes of real pickles first.
            if op == 0x94:  # MEMOIZE: the next memo slot; constants are not stored
                if not stack:
                    raise _Malformed("MEMOIZE on an empty stack")
                value = stack[-1]
                if not _plain(value):
                    if not isinstance(value, str):
                        memo[memo_next] = value
                    elif memo_strings < _MAX_MEMO_STRINGS:
                        memo[memo_next] = value
                        memo_strings += 1
                memo_next += 1
            elif op == 0x8C:  # SHORT_BINUNICODE
                n = view[pos]
                pos += 1
                if pos + n > size:
                    raise _Malformed("string runs past the end")
                stack.append(bytes(view[pos : pos + n]).decode("utf-8", "surrogatepass"))
                pos += n
            elif op == 0x4B:  # BININT1 (small ints are kept: array shapes need them)
                stack.append(view[pos])
                pos += 1
            elif op == 0x4D:  # BININT2
                stack.append(view[pos] | view[pos + 1] << 8)
                pos += 2
            elif op == 0x4A:  # BININT
                stack.append(unpack_from("<i", view, pos)[0])
                pos += 4
            elif op == 0x7D:  # EMPTY_DICT: small dicts keep their string keys (array state)
                stack.append(_Dict())
            elif op in (0x88, 0x89, 0x4E, 0x29, 0x5D, 0x8F):
                # NEWTRUE, NEWFALSE, NONE, EMPTY_TUPLE, EMPTY_LIST, EMPTY_SET
                stack.append(CONST)
            elif op == 0x71:  # BINPUT
                _put(memo, view[pos], stack)
                pos += 1
            elif op == 0x68:  # BINGET
                stack.append(memo.get(view[pos], CONST))
                pos += 1
            elif op == 0x28:  # MARK
                metastack.append(stack)
                stack = []
            elif op in (0x75, 0x65, 0x90):  # SETITEMS, APPENDS, ADDITEMS
                items = stack
                stack = metastack.pop()
                if not stack:
                    raise _Malformed("container missing under items")
                if op == 0x75 and isinstance(stack[-1], _Dict):
                    stack[-1].update(items)
                if any(_node(v) for v in items):
                    _attach(stack, [v for v in items if _node(v)])
            elif op == 0x95:  # FRAME
                pos += 8
            elif op == 0x47:  # BINFLOAT
                pos += 8
                stack.append(CONST)
            elif op in (0x85, 0x86, 0x87):  # TUPLE1..3
                n = op - 0x84
                if len(stack) < n:
                    raise _Malformed("tuple of missing items")
                items = stack[-n:]
                del stack[-n:]
                stack.append(tuple(items))
            elif op == 0x74:  # TUPLE
                items = stack
                stack = metastack.pop()
                stack.append(
                    tuple(items[:_MAX_ITEMS]) + tuple(v for v in items[_MAX_ITEMS:] if _node(v))
                )
            elif op in (0x73, 0x61):  # SETITEM, APPEND
                k = 2 if op == 0x73 else 1
                if len(stack) < k + 1:
                    raise _Malformed("SETITEM/APPEND with missing operands")
                items = stack[-k:]
                del stack[-k:]
                if op == 0x73 and isinstance(stack[-1], _Dict):
                    stack[-1].update(items)
                if any(_node(v) for v in items):
                    _attach(stack, [v for v in items if _node(v)])
            elif op in (0x58, 0x8D):  # BINUNICODE, BINUNICODE8
                width = 4 if op == 0x58 else 8
                (n,) = unpack_from("<I" if width == 4 else "<Q", view, pos)
                pos += width
                if pos + n > size:
                    raise _Malformed("string runs past the end")
                stack.append(
                    bytes(view[pos : pos + min(n, _MAX_STR * 4)]).decode("utf-8", "replace")[
                        :_MAX_STR
                    ]
                )
                pos += n
            elif op in (0x43, 0x42, 0x8E, 0x96, 0x55, 0x54):
                # SHORT_BINBYTES, BINBYTES, BINBYTES8, BYTEARRAY8, SHORT_BINSTRING, BINSTRING
                if op in (0x43, 0x55):
                    n = view[pos]
                    pos += 1
                elif op in (0x42, 0x54):
                    (n,) = unpack_from("<I", view, pos)
                    pos += 4
                else:
                    (n,) = unpack_from("<Q", view, pos)
                    pos += 8
                if pos + n > size:
                    raise _Malformed("bytes run past the end")
                if op in (0x55, 0x54):  # py2 str: may be a name
                    stack.append(bytes(view[pos : pos + min(n, _MAX_STR)]).decode("latin-1"))
                else:
                    stack.append(CONST)
                pos += n
            elif op == 0x72:  # LONG_BINPUT
                (idx,) = unpack_from("<I", view, pos)
                pos += 4
                _put(memo, idx, stack)
            elif op == 0x6A:  # LONG_BINGET
                (idx,) = unpack_from("<I", view, pos)
                pos += 4
                stack.append(memo.get(idx, CONST))
            elif op == 0x80:  # PROTO
                pos += 1
            elif op == 0x93:  # STACK_GLOBAL
                if len(stack) < 2:
                    raise _Malformed("STACK_GLOBAL with missing operands")
                name = stack.pop()
                module = stack.pop()
                dynamic = not (isinstance(module, str) and isinstance(name, str))
                ref = Ref(
                    module if isinstance(module, str) else repr(module),
                    name if isinstance(name, str) else repr(name),
                    "STACK_GLOBAL",
                    op_at,
                    dynamic,
                )
                if len(refs) < _MAX_REFS:
                    refs.append(ref)
                stack.append(ref)
            elif op == 0x63:  # GLOBAL
                module_b, pos = _line(view, pos, size)
                name_b, pos = _line(view, pos, size)
                ref = Ref(module_b.decode("latin-1"), name_b.decode("latin-1"), "GLOBAL", op_at)
                if len(refs) < _MAX_REFS:
                    refs.append(ref)
                stack.append(ref)
            elif op == 0x52:  # REDUCE
                if len(stack) < 2:
                    raise _Malformed("REDUCE with missing operands")
                args = stack.pop()
                func = stack.pop()
                call = Call(
                    func if isinstance(func, Ref | Call) else None, _as_args(args), "REDUCE", op_at
                )
                calls.append(call)
                stack.append(call)
            elif op == 0x81:  # NEWOBJ
                if len(stack) < 2:
                    raise _Malformed("NEWOBJ with missing operands")
                args = stack.pop()
                cls = stack.pop()
                call = Call(
                    cls if isinstance(cls, Ref | Call) else None, _as_args(args), "NEWOBJ", op_at
                )
                calls.append(call)
                stack.append(call)
            elif op == 0x92:  # NEWOBJ_EX
                if len(stack) < 3:
                    raise _Malformed("NEWOBJ_EX with missing operands")
                kwargs = stack.pop()
                args = stack.pop()
                cls = stack.pop()
                call = Call(
                    cls if isinstance(cls, Ref | Call) else None,
                    _as_args(args) + ((kwargs,) if _node(kwargs) else ()),
                    "NEWOBJ_EX",
                    op_at,
                )
                calls.append(call)
                stack.append(call)
            elif op == 0x62:  # BUILD: obj.__setstate__(state) or dict update
                if len(stack) < 2:
                    raise _Malformed("BUILD with missing operands")
                state = stack.pop()
                target = stack[-1]
                if isinstance(state, _Dict) and _is_joblib_array(target):
                    # joblib writes the array's bytes (or a nested pickle of an object
                    # array) right after this BUILD; step over them as joblib reads them.
                    pos = _skip_joblib_array(view, pos, state, out)
                if isinstance(target, Ref | Call) or _node(state):
                    calls.append(
                        Call(
                            target if isinstance(target, Ref | Call) else None,
                            (state,),
                            "BUILD",
                            op_at,
                        )
                    )
            elif op == 0x69:  # INST module\nname\n, args from the mark
                module_b, pos = _line(view, pos, size)
                name_b, pos = _line(view, pos, size)
                args_list = stack
                stack = metastack.pop()
                ref = Ref(module_b.decode("latin-1"), name_b.decode("latin-1"), "INST", op_at)
                if len(refs) < _MAX_REFS:
                    refs.append(ref)
                call = Call(ref, tuple(args_list[:_MAX_ITEMS]), "INST", op_at)
                calls.append(call)
                stack.append(call)
            elif op == 0x6F:  # OBJ: class and args from the mark
                items = stack
                stack = metastack.pop()
                if not items:
                    raise _Malformed("OBJ without a class")
                cls = items[0]
                call = Call(
                    cls if isinstance(cls, Ref | Call) else None,
                    tuple(items[1 : 1 + _MAX_ITEMS]),
                    "OBJ",
                    op_at,
                )
                calls.append(call)
                stack.append(call)
            elif op in (0x6C, 0x64, 0x91):  # LIST, DICT, FROZENSET (from the mark)
                items = stack
                stack = metastack.pop()
                stack.append(_collapse(items))
            elif op == 0x30:  # POP
                if stack:
                    stack.pop()
                elif metastack:
                    stack = metastack.pop()  # POP of a MARK, as pickle allows
                else:
                    raise _Malformed("POP on an empty stack")
            elif op == 0x31:  # POP_MARK
                stack = metastack.pop()
            elif op == 0x32:  # DUP
                if not stack:
                    raise _Malformed("DUP on an empty stack")
                stack.append(stack[-1])
            elif op == 0x2E:  # STOP
                if not stack:
                    raise _Malformed("STOP on an empty stack")
                out.opcodes = ops
                return pos
            elif op in (0x51, 0x50):  # BINPERSID, PERSID: persistent_load(pid)
                if op == 0x50:
                    _, pos = _line(view, pos, size)
                elif not stack:
                    raise _Malformed("BINPERSID on an empty stack")
                else:
                    pid = stack.pop()
                    if _node(pid):
                        calls.append(Call(None, (pid,), "BINPERSID", op_at))
                stack.append(CONST)
            elif op in (0x82, 0x83, 0x84):  # EXT1, EXT2, EXT4
                width = {0x82: 1, 0x83: 2, 0x84: 4}[op]
                code = int.from_bytes(view[pos : pos + width], "little")
                pos += width
                out.ext_codes.append((code, op_at))
                stack.append(Ref("copyreg", f"extension[{code}]", "EXT", op_at, dynamic=True))
            elif op in (0x8A, 0x8B):  # LONG1, LONG4
                if op == 0x8A:
                    n = view[pos]
                    pos += 1
                else:
                    (n,) = unpack_from("<i", view, pos)
                    pos += 4
                    if n < 0:
                        raise _Malformed("negative LONG4 length")
                pos += n
                stack.append(CONST)
            elif op in (0x49, 0x4C, 0x46):  # INT, LONG, FLOAT (text)
                _, pos = _line(view, pos, size)
                stack.append(CONST)
            elif op == 0x53:  # STRING 'text'
                raw, pos = _line(view, pos, size)
                stack.append(_py2_string(raw))
            elif op == 0x56:  # UNICODE raw-unicode-escape text
                raw, pos = _line(view, pos, size)
                stack.append(_RAW_UNICODE(raw[: _MAX_STR * 6])[0][:_MAX_STR])
            elif op == 0x70:  # PUT n
                raw, pos = _line(view, pos, size)
                _put(memo, _int(raw), stack)
            elif op == 0x67:  # GET n
                raw, pos = _line(view, pos, size)
                stack.append(memo.get(_int(raw), CONST))
            elif op == 0x97:  # NEXT_BUFFER (out-of-band data)
                stack.append(CONST)
            elif op == 0x98:  # READONLY_BUFFER leaves the stack as it is
                if not stack:
                    raise _Malformed("READONLY_BUFFER on an empty stack")
            else:
                raise _Malformed(f"unknown opcode 0x{op:02x}")
            if pos > size:
                raise _Malformed("argument runs past the end")
    except _Malformed as exc:
        out.error, out.error_offset = str(exc), op_at
    except (IndexError, struct.error, ValueError, UnicodeDecodeError) as exc:
        out.error, out.error_offset = f"truncated or corrupt argument ({type(exc).__name__})", op_at
    out.opcodes = ops
    return size


class _Dict:
    """A dict under construction: its first string-keyed items, for array metadata."""

    __slots__ = ("items", "nodes")

    def __init__(self) -> None:
        self.items: dict[str, object] = {}
        self.nodes: list[object] = []  # references and calls stored in it

    def update(self, flat: list[object]) -> None:
        for key, value in zip(flat[::2], flat[1::2], strict=False):
            if isinstance(key, str) and len(self.items) < _MAX_ITEMS:
                self.items[key] = value


def _is_joblib_array(target: object) -> bool:
    return (
        isinstance(target, Call)
        and isinstance(target.func, Ref)
        and target.func.module == "joblib.numpy_pickle"
        and target.func.name == "NumpyArrayWrapper"
    )


_DTYPE_CODE = re.compile(r"^[<>|=]?([a-zA-Z])(\d*)$")


def _skip_joblib_array(view: memoryview, pos: int, state: _Dict, out: PickleResult) -> int:
    dtype = state.items.get("dtype")
    code = dtype.args[0] if isinstance(dtype, Call) and dtype.args else None
    match = _DTYPE_CODE.match(code) if isinstance(code, str) else None
    if match is None:
        raise _Malformed("joblib array with an unreadable dtype")
    kind, digits = match.group(1), match.group(2)
    if kind == "O":
        # Object arrays are a nested pickle read by a fresh unpickler: interpret it too.
        nested = PickleResult(start=pos)
        end = _run(view, pos, nested)
        out.refs.extend(nested.refs)
        out.calls.extend(nested.calls)
        out.ext_codes.extend(nested.ext_codes)
        if nested.error is not None:
            raise _Malformed(f"nested pickle of a joblib array: {nested.error}")
        return end
    shape = state.items.get("shape")
    if not (isinstance(shape, tuple) and all(isinstance(d, int) and d >= 0 for d in shape)):
        raise _Malformed("joblib array with an unreadable shape")
    itemsize = int(digits or "1") * (4 if kind == "U" else 1)
    if "numpy_array_alignment_bytes" in state.items:
        pos += 1 + view[pos]  # one byte of padding length, then the padding
    count = 1
    for d in shape:
        count *= d
    end = pos + count * itemsize
    if end > len(view):
        raise _Malformed("joblib array data runs past the end")
    return end


def _attach(stack: list[object], nodes: list[object]) -> None:
    """Record that the container on top of the stack now holds ``nodes``."""
    target = stack[-1]
    if isinstance(target, _Bag | _Dict):
        if len(target.nodes) < _MAX_REFS:
            target.nodes.extend(nodes)
    else:
        stack[-1] = _Bag([target, *nodes] if _node(target) else nodes)


def _put(memo: dict[int, object], idx: int, stack: list[object]) -> None:
    if not stack:
        raise _Malformed("PUT on an empty stack")
    value = stack[-1]
    if _plain(value):
        memo.pop(idx, None)
    else:
        memo[idx] = _short(value)


def _int(raw: bytes) -> int:
    try:
        return int(raw)
    except ValueError:
        raise _Malformed(f"bad memo index {raw[:20]!r}") from None


def _py2_string(raw: bytes) -> str:
    if len(raw) < 2 or raw[0] != raw[-1] or raw[:1] not in (b"'", b'"'):
        raise _Malformed("STRING argument is not quoted")
    with warnings.catch_warnings():
        # Invalid escapes in hostile input only warn (DeprecationWarning); never let that
        # surface as an error or as noise on stderr.
        warnings.simplefilter("ignore")
        decoded = _DECODE_ESCAPE(raw[1:-1][: _MAX_STR * 4])[0]
    return decoded.decode("latin-1")[:_MAX_STR]


def _as_args(args: object) -> tuple[object, ...]:
    if isinstance(args, tuple):
        return args
    return (args,)
