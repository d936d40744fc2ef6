# ruff: noqa: PLR0912, PLR0915 - an opcode interpreter is one long dispatch by nature
"""A static, symbolic, streaming interpreter of the pickle virtual machine (protocols 0-5).

It decodes every opcode of every pickle in a binary stream and tracks the stack, the
marks and the memo with symbolic values, so it knows which callable each ``GLOBAL``,
``INST``, ``STACK_GLOBAL`` or ``EXT`` names (also when module and name come from the
memo or from a computation) and which ones ``REDUCE``, ``NEWOBJ``, ``NEWOBJ_EX``,
``OBJ``, ``INST`` and ``BUILD`` invoke, with what arguments. Nothing is imported,
constructed or called: values are constants, :class:`Ref` (a named global),
:class:`Call` (what a call returns), :class:`Bag` (a container holding such nodes),
:data:`CONST` (plain data not kept) and :data:`UNKNOWN` (a value the interpreter let go).

Work and memory are bounded (:class:`Limits`):

- the stream is read in chunks; long payloads are skipped by seeking, keeping only a
  prefix of long strings;
- plain data collapses to constants; the memo keeps only what can matter later
  (strings short enough to be names, nodes); one :class:`Ref` exists per distinct
  global and repeated calls of it with constant arguments share one result node;
- runs of opcodes that only build plain data are matched in C by a regular expression
  and skipped. What a skipped run leaves on the stack becomes :data:`UNKNOWN` and memo
  slots it wrote are counted, never guessed. Should a ``STACK_GLOBAL`` then need a
  value that was let go, the pickle is interpreted again from its start without
  skipping, so no name is ever resolved from a guess.

Concatenated pickles are all read (legacy PyTorch files hold five, then raw tensor
bytes, which end the walk quietly). A broken stream still returns every reference
decoded before the break, with the error and its offset.
"""

from __future__ import annotations

import codecs
import functools
import io
import re
import struct
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping

from ramparts.core.records import field, fields, record
from ramparts.errors import ConfigError

TYPE_CHECKING = False  # not typing's: importing typing costs start-up time
if TYPE_CHECKING:
    from typing import IO, Final

__all__ = [
    "CONST",
    "OPCODE_NAMES",
    "UNKNOWN",
    "ArgCheck",
    "Bag",
    "Call",
    "Limits",
    "PickleResult",
    "Ref",
    "Truncated",
    "interpret",
    "interpret_bytes",
    "is_node",
]


class _Sentinel:
    __slots__ = ("_text",)

    def __init__(self, text: str) -> None:
        self._text = text

    def __repr__(self) -> str:
        return self._text


CONST: Final = _Sentinel("…")
"""Plain data (a number, bytes, a container of constants) whose value was not kept."""

UNKNOWN: Final = _Sentinel("?")
"""A value the interpreter let go (a skipped data run, an evicted memo slot)."""

ArgCheck = Callable[[object], bool]
"""A predicate over the symbolic arguments of a call: whether the call is acceptable."""


@record
class Truncated:
    """A string or bytes value too long to keep: its first characters and its size."""

    prefix: str | bytes
    size: int


@record(frozen=False, eq=False)
class Ref:
    """A global that a pickle names: one per distinct ``module``/``name`` per pickle.

    ``opcode``/``offset`` are those of the first naming. ``dynamic`` marks a
    ``STACK_GLOBAL`` whose operands were not constant strings (``operands`` holds
    them); ``ext_code`` marks a copyreg extension code (``EXT1/2/4``). The first
    invocation is recorded in ``invoked_by``/``invoked_at``/``args``; ``setstate``
    counts ``BUILD`` on its instances; ``bad_call`` is the first invocation whose
    arguments failed the policy's argument check.
    """

    module: str
    name: str
    opcode: str
    offset: int
    dynamic: bool = False
    operands: tuple[object, object] | None = None
    ext_code: int | None = None
    count: int = 1
    calls: int = 0
    invoked_by: str | None = None
    invoked_at: int | None = None
    args: object = None
    setstate: int = 0
    bad_call: tuple[str, int, object] | None = None
    check: ArgCheck | None = field(default=None, repr=False)
    result: Call | None = field(default=None, repr=False)
    special: int = field(default=0, repr=False)
    fast: bool = field(default=False, repr=False)  # calls share one result, no check

    @property
    def dotted(self) -> str:
        """``module.name``."""
        return f"{self.module}.{self.name}"


@record(frozen=False, eq=False)
class Call:
    """What invoking ``func`` with ``args`` returns (by REDUCE, NEWOBJ, OBJ, INST...)."""

    func: object
    args: object
    opcode: str
    offset: int


@record(frozen=False, eq=False)
class Bag:
    """A container that holds nodes (references or call results), kept for their sake.

    ``items`` keeps the string-keyed entries of a small dict where the interpreter needs
    them (the state of a joblib array wrapper).
    """

    nodes: list[object] = field(default_factory=list)
    items: dict[str, object] | None = None


@record(frozen=False, eq=False)
class _Dict:
    """A small dict of plain data whose entries are kept (joblib pickles only)."""

    items: dict[str, object]


class _NodeTuple(tuple[object, ...]):
    """A tuple with a node inside (a plain tuple is a constant)."""

    __slots__ = ()


_NODE_TYPES: Final = frozenset({Ref, Call, Bag, _NodeTuple})


@record
class Limits:
    """Bounds on the interpreter's memory and work; every one is generous for real files.

    Reaching one never stops a scan: the oldest stack items or marks, or memo entries,
    are let go (they read as unknown later) and the limit is named in the result.
    """

    chunk_size: int = 1 << 20
    """Bytes read from the stream at a time."""
    max_stack: int = 1 << 19
    """Stack items kept; beyond, the bottom of the stack is let go."""
    max_marks: int = 1 << 16
    """Open MARKs kept; beyond, the oldest are let go."""
    max_memo_strings: int = 200_000
    """Memoized strings kept (they may name a global later)."""
    max_memo_nodes: int = 200_000
    """Memoized globals, call results and containers holding them."""
    max_nodes: int = 100_000
    """Call results and containers built from non-constant parts."""
    max_globals: int = 50_000
    """Distinct globals per pickle; more is reported as an analysis limit."""
    max_text: int = 256
    """Characters kept of a string (names and evidence need no more)."""
    max_items: int = 16
    """Items kept of a tuple (call arguments for evidence)."""
    max_line: int = 1 << 16
    """Bytes kept of a text argument (protocol 0 names and memo indices)."""
    workers: int = 1
    """Processes a long run of plain data in a file may be split across (Linux)."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(
                    f"pickle limit {f.name} must be a positive integer, got {value!r}"
                )
        if self.chunk_size < 4096:
            raise ConfigError("pickle limit chunk_size must be at least 4096 bytes")


@record(frozen=False)
class PickleResult:
    """What one pickle of a stream names, calls and does.

    ``globals`` lists every distinct global in the order first named; ``chains`` calls
    of a call's result; ``build_on_globals`` ``BUILD`` applied to a global itself
    (setting attributes of a class or function); ``persistent_ids`` the first
    persistent ids (``PERSID``/``BINPERSID``) with ``persistent_count`` counting all.
    ``error`` is set when the pickle is malformed or truncated, at ``error_offset``.
    ``data_only`` says the whole pickle only built plain data; ``replayed`` that it was
    interpreted a second time without skipping; ``limits`` names the limits reached;
    ``end_offset`` is how far the interpretation read.
    """

    start: int
    end: int | None = None
    protocol: int = 0
    globals: list[Ref] = field(default_factory=list)
    chains: list[Call] = field(default_factory=list)
    build_on_globals: list[tuple[Ref, int]] = field(default_factory=list)
    persistent_ids: list[tuple[object, int]] = field(default_factory=list)
    persistent_count: int = 0
    error: str | None = None
    error_offset: int | None = None
    end_offset: int = 0
    data_only: bool = False
    replayed: bool = False
    limits: set[str] = field(default_factory=set)

    @property
    def noteworthy(self) -> bool:
        """Whether it names or calls anything (a pickle of plain data does not)."""
        return bool(self.globals or self.persistent_count or self.build_on_globals)


OPCODE_NAMES: Final[Mapping[int, str]] = {
    0x28: "MARK",
    0x2E: "STOP",
    0x30: "POP",
    0x31: "POP_MARK",
    0x32: "DUP",
    0x46: "FLOAT",
    0x49: "INT",
    0x4A: "BININT",
    0x4B: "BININT1",
    0x4C: "LONG",
    0x4D: "BININT2",
    0x4E: "NONE",
    0x50: "PERSID",
    0x51: "BINPERSID",
    0x52: "REDUCE",
    0x53: "STRING",
    0x54: "BINSTRING",
    0x55: "SHORT_BINSTRING",
    0x56: "UNICODE",
    0x58: "BINUNICODE",
    0x61: "APPEND",
    0x62: "BUILD",
    0x63: "GLOBAL",
    0x64: "DICT",
    0x7D: "EMPTY_DICT",
    0x65: "APPENDS",
    0x67: "GET",
    0x68: "BINGET",
    0x69: "INST",
    0x6A: "LONG_BINGET",
    0x6C: "LIST",
    0x5D: "EMPTY_LIST",
    0x6F: "OBJ",
    0x70: "PUT",
    0x71: "BINPUT",
    0x72: "LONG_BINPUT",
    0x73: "SETITEM",
    0x74: "TUPLE",
    0x29: "EMPTY_TUPLE",
    0x75: "SETITEMS",
    0x47: "BINFLOAT",
    0x80: "PROTO",
    0x81: "NEWOBJ",
    0x82: "EXT1",
    0x83: "EXT2",
    0x84: "EXT4",
    0x85: "TUPLE1",
    0x86: "TUPLE2",
    0x87: "TUPLE3",
    0x88: "NEWTRUE",
    0x89: "NEWFALSE",
    0x8A: "LONG1",
    0x8B: "LONG4",
    0x42: "BINBYTES",
    0x43: "SHORT_BINBYTES",
    0x8C: "SHORT_BINUNICODE",
    0x8D: "BINUNICODE8",
    0x8E: "BINBYTES8",
    0x8F: "EMPTY_SET",
    0x90: "ADDITEMS",
    0x91: "FROZENSET",
    0x92: "NEWOBJ_EX",
    0x93: "STACK_GLOBAL",
    0x94: "MEMOIZE",
    0x95: "FRAME",
    0x96: "BYTEARRAY8",
    0x97: "NEXT_BUFFER",
    0x98: "READONLY_BUFFER",
}
"""Every opcode of protocols 0-5 by byte value (the interpreter knows no others)."""

_VALID_OPS: Final = frozenset(OPCODE_NAMES)


class _Malformed(Exception):  # noqa: N818 - internal control flow, never escapes
    pass


class _Truncated(_Malformed):
    pass


class _Incomplete(_Malformed):
    """The rest of the stream cannot be followed (a joblib array of unknown size)."""


class _NeedReplay(Exception):  # noqa: N818 - internal control flow, never escapes
    """A name depends on a value that a data-run skip let go: interpret again, exactly."""


# --- plain-data runs, matched in C ----------------------------------------------------

_PIECE = 4096  # bytes matched per regex call while skipping: a rewind stays in this reach
_MIN_SKIP = 2 * _PIECE  # a run shorter than this is interpreted exactly
_SINGLE = b"()]}N\x88\x89uesatdl\x85\x86\x87\x8f\x90\x91012\x97\x98"
_TEXT_DATA = b"ILFSVg"  # text opcodes that only push data (PUT 'p' depends on the style)


def _sized(op: bytes, width: int) -> bytes:
    """``op`` then a ``width``-byte little-endian length below 256, then that many bytes."""
    alts = b"|".join(
        re.escape(k.to_bytes(width, "little")) + (b".{%d}" % k if k else b"") for k in range(256)
    )
    return re.escape(op) + b"(?:" + alts + b")"


# Length-prefixed opcodes whose short form each memo style's writers use, matched by
# enumerating the 256 lengths. Python writes SHORT_BINUNICODE (\x8c) from protocol 4
# and BINUNICODE (X) before it; BINBYTES, BINSTRING and LONG4 only for 256 bytes or
# more (their short forms are C, U and LONG1), and those are skipped by length below
# (_LONG_DATA). Each 256-way alternative costs about 7 ms to compile, so a pattern holds
# only the ones its protocols write; an opcode outside it ends the run, which is
# correct and only slower.
_SIZED: Final = {
    True: ((b"\x8c", 1), (b"C", 1), (b"\x8a", 1)),
    False: ((b"X", 4), (b"C", 1), (b"U", 1), (b"\x8a", 1)),
}


def _tokens(memo_style: bool, *, count: bool = False) -> list[bytes]:
    """The tokens of a data run: protocol 4+ (``memo_style``: MEMOIZE) or 0-3 (PUTs).

    With ``count``, MEMOIZE is left out of the one-byte opcodes, for a pattern that
    captures each one.
    """
    puts = not memo_style
    single = _SINGLE + (b"\x94" if memo_style and not count else b"")
    text = _TEXT_DATA + (b"p" if puts else b"")
    sized = [_sized(op, width) for op, width in _SIZED[memo_style]]
    # Ordered by frequency in real pickles (memo gets and small ints first); consecutive
    # one-byte opcodes are matched as one run. Measured: about 130 MB/s on dict pickles.
    return [
        b"[Kh" + (b"q" if puts else b"") + b"].",
        b"[" + re.escape(single) + b"]++",
        sized[0],
        b"[G\x95].{8}",
        b"[Jj" + (b"r" if puts else b"") + b"].{4}",
        b"M.{2}",
        *sized[1:],
        b"[" + re.escape(text) + b"][^\n]*+\n",
    ]


# Each pattern is compiled on first use (7-30 ms): a protocol 4 pickle needs no PUT
# pattern, and a small one no pattern at all.
@functools.cache
def _memo_run() -> re.Pattern[bytes]:
    """Protocol 4+: MEMOIZE inside runs, explicit PUTs end them."""
    return re.compile(b"(?:" + b"|".join(_tokens(memo_style=True)) + b")++", re.DOTALL)


@functools.cache
def _memo_count() -> re.Pattern[bytes]:
    """The tokens of :func:`_memo_run`, capturing each MEMOIZE."""
    tokens = _tokens(memo_style=True, count=True)
    return re.compile(b"(?:" + b"|".join(tokens) + b")*+(\x94)?", re.DOTALL)


@functools.cache
def _put_run() -> re.Pattern[bytes]:
    """Protocols 0-3: explicit PUTs inside runs, MEMOIZE ends them."""
    return re.compile(b"(?:" + b"|".join(_tokens(memo_style=False)) + b")++", re.DOTALL)


_SPLIT_MIN = 32 << 20
"""Bytes left in a file at the start of a data run for a second process to pay off."""
_MARKS = 256
"""Pieces a walk records for another to meet it (a megabyte)."""
_LONGEST_TOKEN = 262  # bytes: the longest token a run pattern matches but a text line

# Data opcodes whose payload can be too long for the regex: (length width, signed).
_LONG_DATA: Final = {0x58: 4, 0x42: 4, 0x54: 4, 0x8B: 4, 0x8D: 8, 0x8E: 8, 0x96: 8}
# Opcodes a run may hold, per memo style: those its pattern matches, and text ones.
# Every other opcode ends a run (one the pattern misses must not be here: the walk
# would take it for a token cut short by the window and read on for its end).
_RUN_OPS: Final = {
    memo_style: frozenset(
        _SINGLE
        + (b"\x94" if memo_style else b"qrp")
        + b"KhJjG\x95M"
        + b"".join(op for op, _ in _SIZED[memo_style])
        + _TEXT_DATA
    )
    for memo_style in (True, False)
}
_TEXT_OPS: Final = frozenset(_TEXT_DATA + b"p")


def _byte_table(ops: Iterable[int]) -> bytes:
    """256 bytes: 1 at each of ``ops``, 0 elsewhere (built from the few, not the 256)."""
    table = bytearray(256)
    for op in ops:
        table[op] = 1
    return bytes(table)


# Opcodes where a data run may start, in either memo style: a byte table for the loop.
_DATA_START = _byte_table(_RUN_OPS[True] | _RUN_OPS[False] | _LONG_DATA.keys())


# --- reading ---------------------------------------------------------------------------


class _Reader:
    """A window over a binary stream: chunked reads, payloads skipped by seeking."""

    __slots__ = (
        "_chunk",
        "_stream",
        "base",
        "buf",
        "cheap_seek",
        "end",
        "eof",
        "pos",
        "read_error",
        "safe",
        "seekable",
        "size",
    )

    def __init__(self, stream: IO[bytes], chunk: int) -> None:
        self._stream = stream
        self._chunk = chunk
        self.buf = b""
        self.pos = 0
        self.end = 0
        self.safe = 0
        self.eof = False
        self.read_error: str | None = None
        try:
            self.seekable = bool(stream.seekable())
            self.base = stream.tell() if self.seekable else 0
        except (OSError, ValueError, AttributeError):
            self.seekable, self.base = False, 0
        # Seeking back is cheap on files and memory; compressed members re-inflate.
        self.cheap_seek = self.seekable and isinstance(
            stream, io.BytesIO | io.BufferedReader | io.BufferedRandom | io.FileIO
        )
        self.size: int | None = None  # of a stream where seeking is cheap
        if self.cheap_seek:
            self.size = stream.seek(0, io.SEEK_END)
            stream.seek(self.base)

    @property
    def offset(self) -> int:
        """The stream offset of ``pos``."""
        return self.base + self.pos

    @property
    def chunk(self) -> int:
        """Bytes read from the stream at a time."""
        return self._chunk

    def fileno(self) -> int:
        """The stream's file descriptor (``OSError`` or ``ValueError`` if it has none)."""
        return self._stream.fileno()

    def _read(self, n: int) -> bytes:
        if self.read_error is not None:
            return b""
        try:
            return self._stream.read(n)
        except Exception as exc:  # noqa: BLE001 - any decoder error of a container member ends the stream
            self.read_error = f"{type(exc).__name__}: {exc}"[:200]
            return b""

    def fill(self, need: int, keep_from: int | None = None) -> None:
        """Make ``need`` bytes available from ``pos`` unless the stream ends first.

        Bytes from ``keep_from`` (a buffer index at or before ``pos``) stay in the buffer.
        """
        if self.end - self.pos >= need or self.eof:
            return
        start = self.pos if keep_from is None else min(keep_from, self.pos)
        parts = [self.buf[start:]]
        have = self.end - start
        want = max(self._chunk, need + self.pos - start)
        while have < want:
            data = self._read(want - have)
            if not data:
                self.eof = True
                break
            parts.append(data)
            have += len(data)
        self.buf = b"".join(parts)
        self.base += start
        self.pos -= start
        self.end = len(self.buf)
        self.safe = self.end if self.eof else self.end - 16

    def seek_to(self, offset: int) -> None:
        """Continue reading at stream ``offset`` (within the buffer, or by seeking)."""
        if self.base <= offset <= self.base + self.end:
            self.pos = offset - self.base
            return
        self._stream.seek(offset)
        self.buf, self.base, self.pos, self.end, self.safe = b"", offset, 0, 0, 0
        self.eof = False

    def skip(self, n: int) -> None:
        """Move ``n`` bytes forward, seeking over what is not buffered."""
        if n <= self.end - self.pos:
            self.pos += n
            return
        target = self.base + self.pos + n
        if self.size is not None and target > self.size:
            self.seek_to(self.size)
            raise _Truncated("a payload runs past the end of the stream")
        if self.seekable:
            self.seek_to(target)
            return
        n -= self.end - self.pos
        self.pos = self.end
        while n > 0:
            data = self._read(min(n, self._chunk))
            if not data:
                self.eof = True
                raise _Truncated("a payload runs past the end of the stream")
            n -= len(data)
        self.buf, self.base, self.pos, self.end, self.safe = b"", target, 0, 0, 0

    def take(self, n: int, keep: int) -> bytes:
        """Consume ``n`` bytes and return the first ``keep`` of them."""
        want = min(n, keep)
        self.fill(want)
        if self.end - self.pos < want:
            self.pos = self.end
            raise _Truncated("a payload runs past the end of the stream")
        data = self.buf[self.pos : self.pos + want]
        self.skip(n)
        return data

    def line(self, keep: int) -> tuple[bytes, int]:
        """Consume a text argument up to ``\\n``; return its first ``keep`` bytes and size.

        The size is -1 when the stream ends before the newline.
        """
        kept = b""
        size = 0
        while True:
            nl = self.buf.find(b"\n", self.pos, self.end)
            stop = nl if nl >= 0 else self.end
            if len(kept) < keep:
                kept += self.buf[self.pos : min(stop, self.pos + keep - len(kept))]
            size += stop - self.pos
            if nl >= 0:
                self.pos = nl + 1
                return kept, size
            self.pos = self.end
            if self.eof:
                return kept, -1
            self.fill(1)


# --- the interpreter -------------------------------------------------------------------

_MISSING: Final = object()
_FRESH_RESULTS = 1  # numpy.dtype: each call's arguments matter (joblib array sizes)
_JOBLIB_ARRAY = 2  # joblib's wrapper: raw array bytes follow its BUILD
_SPECIAL: Final = {
    ("numpy", "dtype"): _FRESH_RESULTS,
    ("joblib.numpy_pickle", "NumpyArrayWrapper"): _JOBLIB_ARRAY,
}


@functools.cache
def _dtype_code() -> re.Pattern[str]:
    return re.compile(r"^[<>|=]?([a-zA-Z])(\d*)$")


_unpack_i32 = struct.Struct("<i").unpack_from
_unpack_u32 = struct.Struct("<I").unpack_from
_unpack_f64 = struct.Struct(">d").unpack_from


def is_node(value: object) -> bool:
    """Whether ``value`` is a node (a global, a call result or something holding one)."""
    return type(value) in _NODE_TYPES


def _has_node(items: object) -> bool:
    return isinstance(items, tuple | list) and not _NODE_TYPES.isdisjoint(map(type, items))


class _Machine:
    """The state of one pickle's interpretation."""

    __slots__ = (
        "checks",
        "dense",
        "extra",
        "joblib",
        "lim",
        "lossy",
        "marks",
        "memo",
        "memo_nodes",
        "memo_strings",
        "memo_tainted",
        "nodes",
        "nodes_seen",
        "op_at",
        "out",
        "proto",
        "r",
        "refs",
        "resume_at",
        "skipped",
        "skipping",
        "stack",
        "track_dicts",
        "unknown_slots",
    )

    def __init__(
        self,
        reader: _Reader,
        result: PickleResult,
        limits: Limits,
        checks: Mapping[str, ArgCheck],
        *,
        skipping: bool,
        joblib: bool = True,
    ) -> None:
        self.r = reader
        self.joblib = joblib  # follow joblib's raw array bytes after its wrapper's BUILD
        self.track_dicts = False
        self.out = result
        self.lim = limits
        self.checks = checks
        self.skipping = skipping
        self.skipped = False
        self.stack: list[object] = []
        self.marks: list[int] = []
        self.memo: dict[int, object] = {}
        self.dense = 0  # memo keys 0..dense-1 exist; -1 once unknown
        self.extra: set[int] = set()  # memo keys above dense
        self.unknown_slots: list[tuple[int, int]] = []  # memo ranges written by skipped runs
        self.memo_tainted = False  # a miss may hide a value that was let go
        self.memo_strings = 0
        self.memo_nodes = 0
        self.nodes = 0
        self.lossy = False  # something was let go: a skip, a trimmed stack, a full memo
        self.refs: dict[tuple[str, str], Ref] = {}
        self.nodes_seen = False
        self.proto = 0
        self.op_at = result.start
        self.resume_at = 0

    # --- stack helpers --------------------------------------------------------------

    def underflow(self, need: int) -> None:
        """Too few items above the last mark: pad after a skip, else malformed."""
        stack = self.stack
        have = len(stack) - (self.marks[-1] if self.marks else 0)
        if have >= need:
            return
        if self.lossy and not self.marks:
            stack[0:0] = [UNKNOWN] * (need - have)
            return
        raise _Malformed("stack underflow")

    def pop_mark(self) -> list[object]:
        """The items above the last mark, removed with the mark."""
        stack = self.stack
        if self.marks:
            k = self.marks.pop()
        elif self.lossy:
            k = 0
        else:
            raise _Malformed("no MARK to pop to")
        items = stack[k:]
        del stack[k:]
        return items

    def push_mark(self) -> None:
        marks = self.marks
        marks.append(len(self.stack))
        if len(marks) > self.lim.max_marks:
            # Forget the oldest marks: what is below them becomes unknown ground.
            drop = marks[len(marks) // 2]
            del self.stack[:drop]
            marks[:] = [m - drop for m in marks[len(marks) // 2 + 1 :]]
            self.lossy = True
            self.out.limits.add("max_marks")

    def trim_stack(self) -> None:
        stack = self.stack
        if len(stack) <= self.lim.max_stack:
            return
        floor = self.marks[0] if self.marks else len(stack) // 2
        floor = max(1, min(floor, len(stack) // 2))
        del stack[:floor]
        self.marks[:] = [m - floor for m in self.marks if m >= floor]
        self.lossy = True
        self.out.limits.add("max_stack")

    def tuple_of(self, items: list[object]) -> object:
        keep = self.lim.max_items
        if self.nodes_seen and _has_node(items):
            kept = items[:keep] + [v for v in items[keep:] if type(v) in _NODE_TYPES]
            return _NodeTuple(kept[: keep + 64])
        return tuple(items[:keep]) if len(items) > keep else tuple(items)

    def attach(self, items: list[object], *, pairs: bool = False) -> None:
        """The container under the items now holds them (only nodes are kept)."""
        if self.track_dicts and pairs:
            self.attach_pairs(items)
            return
        if not (self.nodes_seen and _has_node(items)):
            return
        stack = self.stack
        nodes = [v for v in items if type(v) in _NODE_TYPES]
        target = stack[-1]
        if type(target) is Bag:
            if len(target.nodes) < 64:
                target.nodes.extend(nodes[: 64 - len(target.nodes)])
        elif type(target) is Call:
            pass  # an object's own extend/__setitem__ runs: its class is judged already
        elif self.nodes < self.lim.max_nodes:
            self.nodes += 1
            stack[-1] = Bag(nodes[:64])

    def attach_pairs(self, items: list[object]) -> None:
        """SETITEMS into a dict whose string-keyed entries are kept (joblib states)."""
        stack = self.stack
        target = stack[-1]
        nodes = [v for v in items if type(v) in _NODE_TYPES]
        kept: dict[str, object] | None
        if isinstance(target, Bag | _Dict):
            kept = target.items
        elif target is CONST:
            kept = {}
        else:
            kept = None
        if kept is not None and len(kept) + len(items) // 2 <= 32:
            for key, value in zip(items[::2], items[1::2], strict=False):
                if isinstance(key, str):
                    kept[key] = value
        else:
            kept = None
        if isinstance(target, Bag):
            target.items = kept
            target.nodes.extend(nodes[: max(0, 64 - len(target.nodes))])
        elif nodes and self.nodes < self.lim.max_nodes:
            self.nodes += 1
            stack[-1] = Bag(nodes[:64], kept)
        elif isinstance(target, _Dict) or target is CONST:
            stack[-1] = _Dict(kept) if kept is not None else CONST

    def collapse(self, items: list[object]) -> object:
        if self.nodes_seen and _has_node(items) and self.nodes < self.lim.max_nodes:
            self.nodes += 1
            return Bag([v for v in items if type(v) in _NODE_TYPES][:64])
        return CONST

    # --- memo -----------------------------------------------------------------------

    def memo_exists(self, k: int) -> bool:
        return 0 <= k < self.dense or k in self.extra

    def memo_write(self, k: int, value: object) -> None:
        """Store ``value`` at memo slot ``k`` (an explicit PUT or a MEMOIZE)."""
        if self.dense >= 0:
            if k == self.dense:
                self.dense += 1
                extra = self.extra
                if extra:
                    while self.dense in extra:
                        extra.discard(self.dense)
                        self.dense += 1
            elif k > self.dense:
                if len(self.extra) >= self.lim.max_memo_nodes:
                    self.dense = -1
                    self.extra.clear()
                    self.memo_tainted = True
                    self.lossy = True
                else:
                    self.extra.add(k)
        self.memo_store(k, value)

    def memo_store(self, k: int, value: object) -> None:
        """Keep ``value`` at slot ``k`` if it may matter later and there is room."""
        t = type(value)
        memo = self.memo
        if self.memo_tainted and t is not str and t not in _NODE_TYPES:
            memo.pop(k, None)
            return
        if t is str:
            if self.memo_strings < self.lim.max_memo_strings:
                if k not in memo:
                    self.memo_strings += 1
                memo[k] = value
                return
        elif t in _NODE_TYPES:
            if self.memo_nodes < self.lim.max_memo_nodes:
                if k not in memo:
                    self.memo_nodes += 1
                memo[k] = value
                return
        elif value is UNKNOWN:
            pass
        else:
            memo.pop(k, None)  # a constant: a miss reads as CONST
            return
        # A value worth keeping that does not fit: later misses read as unknown.
        memo.pop(k, None)
        if not self.memo_tainted:
            self.memo_tainted = True
            self.lossy = True
            self.out.limits.add("memo")

    def memo_miss(self, k: int) -> object:
        if self.memo_tainted:
            return UNKNOWN
        slots = self.unknown_slots
        if slots:
            import bisect  # noqa: PLC0415 (start-up time: most pickles never get here)

            i = bisect.bisect_right(slots, (k, 1 << 62)) - 1
            if i >= 0 and slots[i][0] <= k < slots[i][1]:
                return UNKNOWN
        if self.dense < 0 or self.memo_exists(k):
            return CONST
        raise _Malformed(f"memo slot {k} read before it was written")

    def memoize(self) -> None:
        self.underflow(1)
        if self.dense < 0:
            return  # the slot number is unknown after a skip: the value is let go
        k = self.dense + len(self.extra)
        if self.extra:
            self.memo_write(k, self.stack[-1])
            return
        self.dense += 1
        value = self.stack[-1]
        t = type(value)
        if t is str or t in _NODE_TYPES:
            self.memo_store(k, value)

    # --- globals and calls ---------------------------------------------------------

    def ref(self, module: str, name: str, opcode: str) -> object:
        key = (module, name)
        found = self.refs.get(key)
        if found is not None:
            found.count += 1
            return found
        if len(self.refs) >= self.lim.max_globals:
            self.out.limits.add("max_globals")
            self.lossy = True
            return UNKNOWN
        ref = Ref(module, name, opcode, self.op_at, check=self.checks.get(f"{module}.{name}"))
        special = _SPECIAL.get(key, 0)
        if special:
            ref.special = special
            if special == _JOBLIB_ARRAY and self.joblib:
                self.track_dicts = True
        self.refs[key] = ref
        self.out.globals.append(ref)
        self.nodes_seen = True
        return ref

    def dynamic_ref(self, module: object, name: object) -> Ref:
        ref = Ref(
            _label(module),
            _label(name),
            "STACK_GLOBAL",
            self.op_at,
            dynamic=True,
            operands=(module, name),
        )
        if len(self.out.globals) < self.lim.max_globals:
            self.out.globals.append(ref)
        else:
            self.out.limits.add("max_globals")
        self.nodes_seen = True
        return ref

    def call(self, func: object, args: object, opcode: str) -> object:
        """The symbolic result of invoking ``func`` with ``args``."""
        if isinstance(func, Ref):
            ref = func
            ref.calls += 1
            if ref.invoked_by is None:
                ref.invoked_by, ref.invoked_at, ref.args = opcode, self.op_at, args
            check = ref.check
            if check is not None and ref.bad_call is None and not check(args):
                ref.bad_call = (opcode, self.op_at, args)
            if (ref.special or (self.nodes_seen and _has_node(args))) and (
                self.nodes < self.lim.max_nodes
            ):
                self.nodes += 1
                return Call(ref, args, opcode, self.op_at)
            if ref.result is None:
                ref.result = Call(ref, args, opcode, self.op_at)
                ref.fast = ref.check is None and not ref.special
            return ref.result
        if isinstance(func, Call):
            chain = Call(func, args, opcode, self.op_at)
            if len(self.out.chains) < 16:
                self.out.chains.append(chain)
            if self.nodes < self.lim.max_nodes:
                self.nodes += 1
                return chain
        return UNKNOWN  # calling a constant fails at load time; an unknown stays unknown

    # --- the loop -------------------------------------------------------------------

    def run(self) -> None:
        """Interpret from the reader's position to this pickle's STOP."""
        r = self.r
        out = self.out
        stack = self.stack
        marks = self.marks
        memo = self.memo
        lim = self.lim
        max_text = lim.max_text
        max_strings = lim.max_memo_strings
        data_start = _DATA_START
        node_types = _NODE_TYPES
        push = stack.append
        unpack_i, unpack_u, unpack_d = _unpack_i32, _unpack_u32, _unpack_f64
        missing = _MISSING
        node_tuple = _NodeTuple
        constants = _EMPTY
        constant_push = _CONSTANT_PUSH
        stored = _STORED
        handlers = _HANDLERS
        ref_type = Ref
        skipping = self.skipping
        countdown = 0  # opcodes until the next skip attempt; kept small (cached ints)
        backoff = 16
        buf, pos, end, safe, base = r.buf, r.pos, r.end, r.safe, r.base
        op_start = pos
        try:
            while True:
                if pos >= safe:
                    if len(stack) > lim.max_stack:
                        self.trim_stack()
                    r.pos = pos
                    r.fill(16)
                    buf, pos, end, safe, base = r.buf, r.pos, r.end, r.safe, r.base
                    if pos >= end:
                        raise _Truncated("the stream ends before STOP")
                op_start = pos
                op = buf[pos]
                if skipping:
                    countdown -= 1
                    if countdown < 0:
                        countdown = 16
                        if data_start[op] and base + pos >= self.resume_at:
                            r.pos = pos
                            if self.try_skip():
                                backoff = 16
                            else:
                                countdown = backoff
                                backoff = min(backoff * 2, 256)
                            buf, pos, end, safe, base = r.buf, r.pos, r.end, r.safe, r.base
                            continue
                pos += 1
                # The most frequent opcodes first, with fast paths; the rare ones and the
                # unusual cases go through handlers and methods.
                if op == 0x94:  # MEMOIZE
                    if self.extra or self.dense < 0 or len(stack) <= (marks[-1] if marks else 0):
                        self.op_at = base + op_start
                        self.memoize()
                    else:
                        k = self.dense
                        self.dense = k + 1
                        value = stack[-1]
                        t = type(value)
                        if t is str and self.memo_strings < max_strings:
                            memo[k] = value
                            self.memo_strings += 1
                        elif t is str or t in node_types:
                            self.memo_store(k, value)
                elif op == 0x68:  # BINGET
                    value = memo.get(buf[pos], missing)
                    if value is missing:
                        value = self.memo_miss(buf[pos])
                    push(value)
                    pos += 1
                elif op == 0x8C:  # SHORT_BINUNICODE
                    n = buf[pos]
                    pos += 1
                    if pos + n <= end:
                        push(buf[pos : pos + n].decode("utf-8", "surrogatepass"))
                        pos += n
                    else:
                        r.pos = pos
                        push(_text(r.take(n, n), n, max_text, "utf-8"))
                        buf, pos, end, safe, base = r.buf, r.pos, r.end, r.safe, r.base
                elif op == 0x4B:  # BININT1
                    push(buf[pos])
                    pos += 1
                elif op == 0x4A:  # BININT
                    push(unpack_i(buf, pos)[0])
                    pos += 4
                elif op == 0x71:  # BINPUT
                    if len(stack) <= (marks[-1] if marks else 0):
                        self.underflow(1)
                    k = buf[pos]
                    pos += 1
                    value = stack[-1]
                    if k == self.dense and not self.extra and type(value) not in stored:
                        self.dense = k + 1
                    else:
                        self.memo_write(k, value)
                elif op == 0x28:  # MARK
                    if len(marks) < lim.max_marks:
                        marks.append(len(stack))
                    else:
                        self.push_mark()
                elif op == 0x86:  # TUPLE2
                    if len(stack) - (marks[-1] if marks else 0) < 2:
                        self.underflow(2)
                    b = stack.pop()
                    a = stack[-1]
                    if self.nodes_seen and (type(a) in node_types or type(b) in node_types):
                        stack[-1] = node_tuple((a, b))
                    else:
                        stack[-1] = (a, b)
                elif op == 0x85:  # TUPLE1
                    if len(stack) <= (marks[-1] if marks else 0):
                        self.underflow(1)
                    a = stack[-1]
                    stack[-1] = node_tuple((a,)) if type(a) in node_types else (a,)
                elif op == 0x87:  # TUPLE3
                    if len(stack) - (marks[-1] if marks else 0) < 3:
                        self.underflow(3)
                    c = stack.pop()
                    b = stack.pop()
                    a = stack[-1]
                    if self.nodes_seen and (
                        type(a) in node_types or type(b) in node_types or type(c) in node_types
                    ):
                        stack[-1] = node_tuple((a, b, c))
                    else:
                        stack[-1] = (a, b, c)
                elif op in constant_push:  # NONE, EMPTY_*, NEWTRUE, NEWFALSE
                    push(constants[op])
                elif op == 0x52 or op == 0x81:  # REDUCE, NEWOBJ  # noqa: PLR1714
                    if len(stack) - (marks[-1] if marks else 0) < 2:
                        self.underflow(2)
                    args = stack.pop()
                    func = stack[-1]
                    if type(func) is ref_type and func.fast and type(args) not in node_types:
                        func.calls += 1
                        stack[-1] = func.result
                    else:
                        self.op_at = base + op_start
                        stack[-1] = self.call(func, args, "REDUCE" if op == 0x52 else "NEWOBJ")
                elif op in (0x75, 0x65, 0x90):  # SETITEMS, APPENDS, ADDITEMS
                    if marks:
                        k = marks.pop()
                        items = stack[k:]
                        del stack[k:]
                    else:
                        items = self.pop_mark()
                    if len(stack) <= (marks[-1] if marks else 0):
                        self.underflow(1)
                    if items and (self.nodes_seen or self.track_dicts):
                        self.attach(items, pairs=op == 0x75)
                elif op == 0x4D:  # BININT2
                    push(buf[pos] | buf[pos + 1] << 8)
                    pos += 2
                elif op == 0x47:  # BINFLOAT
                    push(unpack_d(buf, pos)[0])
                    pos += 8
                elif op == 0x43:  # SHORT_BINBYTES
                    n = buf[pos]
                    pos += 1
                    if pos + n <= end:
                        push(buf[pos : pos + n] if n <= 64 else CONST)
                        pos += n
                    else:
                        r.pos = pos - 1
                        _op_short_binbytes(self)
                        buf, pos, end, safe, base = r.buf, r.pos, r.end, r.safe, r.base
                elif op == 0x58:  # BINUNICODE
                    n = unpack_u(buf, pos)[0]
                    if n <= max_text and pos + 4 + n <= end:
                        pos += 4
                        push(buf[pos : pos + n].decode("utf-8", "surrogatepass"))
                        pos += n
                    else:
                        r.pos = pos
                        _op_binunicode(self)
                        buf, pos, end, safe, base = r.buf, r.pos, r.end, r.safe, r.base
                elif op == 0x6A:  # LONG_BINGET
                    k = unpack_u(buf, pos)[0]
                    pos += 4
                    value = memo.get(k, missing)
                    push(self.memo_miss(k) if value is missing else value)
                elif op == 0x72:  # LONG_BINPUT
                    if len(stack) <= (marks[-1] if marks else 0):
                        self.underflow(1)
                    self.memo_write(unpack_u(buf, pos)[0], stack[-1])
                    pos += 4
                elif op == 0x62:  # BUILD
                    self.op_at = base + op_start
                    if len(stack) - (marks[-1] if marks else 0) < 2:
                        self.underflow(2)
                    state = stack.pop()
                    target = stack[-1]
                    if isinstance(target, Call):
                        func = target.func
                        if isinstance(func, Ref):
                            func.setstate += 1
                            if func.special == _JOBLIB_ARRAY and self.joblib:
                                r.pos = pos
                                self.joblib_array(state)
                                buf, pos, end, safe, base = r.buf, r.pos, r.end, r.safe, r.base
                    elif isinstance(target, Ref) and len(out.build_on_globals) < 16:
                        out.build_on_globals.append((target, self.op_at))
                elif op == 0x74:  # TUPLE
                    push(self.tuple_of(self.pop_mark()))
                elif op == 0x95:  # FRAME
                    pos += 8
                elif op == 0x2E:  # STOP
                    if len(stack) <= (marks[-1] if marks else 0):
                        self.underflow(1)
                    r.pos = pos
                    out.end = base + pos
                    return
                else:
                    self.op_at = base + op_start
                    r.pos = pos
                    handlers[op](self)
                    buf, pos, end, safe, base = r.buf, r.pos, r.end, r.safe, r.base
        except _Malformed as exc:
            if isinstance(exc, _Incomplete):
                out.limits.add("joblib")
            self.fail(str(exc), base + op_start)
        except (IndexError, struct.error):
            self.fail(_truncated_or_corrupt(r, base + pos), base + op_start)
        except (UnicodeDecodeError, ValueError, OverflowError) as exc:
            self.fail(f"corrupt argument ({type(exc).__name__})", base + op_start)
        except OSError as exc:
            self.fail(f"the stream cannot be read ({type(exc).__name__})", base + op_start)
        finally:
            out.end_offset = max(out.end_offset, base + pos)

    # --- joblib ----------------------------------------------------------------------

    def joblib_array(self, state: object) -> None:
        """Step over the array bytes joblib writes right after its wrapper's BUILD.

        joblib's loader reads them with the wrapper's dtype and shape (after a padding
        byte and padding when the state has ``numpy_array_alignment_bytes``); object
        arrays are a nested pickle that a plain unpickler reads.
        """
        items = state.items if isinstance(state, Bag | _Dict) else None
        if items is None:
            raise _Incomplete("a joblib array wrapper whose state cannot be read")
        dtype = items.get("dtype")
        args = dtype.args if isinstance(dtype, Call) else None
        code = args[0] if isinstance(args, tuple) and args else None
        match = _dtype_code().match(code) if isinstance(code, str) else None
        if match is None:
            raise _Incomplete("a joblib array with a dtype that cannot be read")
        kind, digits = match.group(1), match.group(2)
        r = self.r
        if kind == "O":
            self.nested_pickle()
            return
        shape = items.get("shape")
        if not (
            isinstance(shape, tuple)
            and len(shape) < self.lim.max_items
            and all(type(d) is int and d >= 0 for d in shape)
        ):
            raise _Incomplete("a joblib array with a shape that cannot be read")
        count = 1
        for d in shape:
            count *= d
        itemsize = int(digits or "1") * (4 if kind == "U" else 1)
        if items.get("numpy_array_alignment_bytes") is not None:
            r.fill(1)
            if r.pos >= r.end:
                raise _Truncated("the stream ends inside a joblib array")
            padding = r.buf[r.pos]
            r.pos += 1
            r.skip(padding)
        r.skip(count * itemsize)

    def nested_pickle(self) -> None:
        """A pickle inside this one, read by a fresh unpickler (joblib object arrays)."""
        nested = PickleResult(start=self.r.offset)
        machine = _Machine(
            self.r, nested, self.lim, self.checks, skipping=self.skipping, joblib=False
        )
        machine.run()
        out = self.out
        out.globals.extend(nested.globals)
        out.chains.extend(nested.chains)
        out.build_on_globals.extend(nested.build_on_globals)
        out.persistent_ids.extend(nested.persistent_ids)
        out.persistent_count += nested.persistent_count
        out.limits |= nested.limits
        if nested.error is not None:
            raise _Malformed(f"nested pickle of a joblib object array: {nested.error}")

    def fail(self, message: str, offset: int) -> None:
        if self.r.read_error is not None:
            message = f"{message} (read error: {self.r.read_error})"
        self.out.error, self.out.error_offset = message, offset

    # --- skipping plain-data runs --------------------------------------------------

    def try_skip(self) -> bool:
        """Skip the plain-data run at the reader's position if it is long enough.

        At least ``_PIECE`` bytes before the opcode that ends the run are left to exact
        interpretation, so the operands of a following STACK_GLOBAL, REDUCE or BUILD are
        exact unless they were pushed further back (then a STACK_GLOBAL replays).
        """
        r = self.r
        start = r.offset
        memo_style = self.proto >= 4
        # Counting MEMOIZE opcodes costs a second regex pass. On files it is done only when
        # a run does not reach STOP, by reading the run again; where seeking back is
        # costly (compressed members) it is done while walking.
        eager = memo_style and not r.cheap_seek
        run = self.walk(memo_style=memo_style, count=eager)
        if run.kind == "stop":
            self.let_go(start, run.end, memo_style, skipped_all=True, counted=None)
            return True
        if run.anchor - start < _MIN_SKIP:
            r.seek_to(start)
            self.resume_at = run.end
            return False
        counted = run.counted_at_anchor if eager else None
        self.let_go(start, run.anchor, memo_style, skipped_all=False, counted=counted)
        r.seek_to(run.anchor)
        self.resume_at = run.end
        return True

    def walk(self, *, memo_style: bool, count: bool, stop_at: int | None = None) -> _Run:
        """Follow a plain-data run from the reader's position (see :class:`_Run`).

        A long run in a file is split with a second process where that is allowed
        (:mod:`ramparts.scan.models.pickle_split`); the result is the same.
        """
        r = self.r
        if (
            not count
            and stop_at is None
            and self.lim.workers > 1
            and r.cheap_seek
            and r.size is not None
            and r.size - r.offset >= _SPLIT_MIN
        ):
            from ramparts.scan.models import pickle_split  # noqa: PLC0415 - long runs only

            if pickle_split.may_fork(r):
                return pickle_split.split_walk(r, memo_style=memo_style)
        return walk(r, memo_style=memo_style, count=count, stop_at=stop_at)

    def let_go(
        self, start: int, stop: int, memo_style: bool, *, skipped_all: bool, counted: int | None
    ) -> None:
        """Forget what the skipped run [start, stop) left on the stack and in the memo."""
        self.skipped = True
        self.stack.clear()
        self.marks.clear()
        self.lossy = True
        if skipped_all:
            return  # the run reaches STOP: the memo is never read again
        if memo_style and self.dense >= 0 and not self.extra:
            # MEMOIZE only appends: earlier slots stay exact, the run's own become unknown.
            n = counted if counted is not None else self.count_memoize(start, stop)
            if n:
                slots = self.unknown_slots
                if slots and slots[-1][1] == self.dense:
                    slots[-1] = (slots[-1][0], self.dense + n)
                elif len(slots) < 4096:
                    slots.append((self.dense, self.dense + n))
                else:
                    self.memo_tainted = True
                self.dense += n
            return
        # Explicit PUTs in the run may have overwritten any slot.
        self.memo.clear()
        self.memo_strings = self.memo_nodes = 0
        self.extra.clear()
        self.dense = -1
        self.memo_tainted = True

    def count_memoize(self, start: int, stop: int) -> int:
        """How many MEMOIZE opcodes the data run [start, stop) holds (read it again)."""
        r = self.r
        back = r.offset
        r.seek_to(start)
        counted = self.walk(memo_style=True, count=True, stop_at=stop).counted
        r.seek_to(back)
        return counted


@record
class _Run:
    """Where a plain-data run ends (``end``, and why: ``kind`` is "stop", "op", "eof" or
    "limit"), a token boundary to rewind to that leaves at least a piece before the end
    (``anchor``), and MEMOIZE counts up to the anchor and to the end (when counting).
    """

    end: int
    anchor: int
    kind: str
    counted_at_anchor: int
    counted: int


def walk(
    r: _Reader,
    *,
    memo_style: bool,
    count: bool,
    stop_at: int | None = None,
    marks: list[tuple[int, int]] | None = None,
    anchors: list[tuple[int, int]] | None = None,
) -> _Run:
    """Follow a plain-data run from ``r``'s position (see :class:`_Run`).

    The run is matched in pieces that end at the last token boundary before a multiple
    of :data:`_PIECE` (a grid in file offsets): any two walks that share a token
    boundary match the same pieces from there on, wherever each started.

    With ``stop_at``, the walk ends at the last token boundary before that offset
    (kind "limit") unless the run ends first; passing the same ``anchors`` list to the
    next call continues the walk as if it had never stopped. ``marks`` collects the
    first pieces matched, as (grid offset, end), where another walk can meet this one.
    """
    run = _memo_run() if memo_style else _put_run()
    counter = _memo_count() if count else None
    run_ops = _RUN_OPS[memo_style]
    if anchors is None:
        anchors = [(r.offset, 0)]  # recent piece starts, with the MEMOIZE count before each
    counted = 0
    kind = "op"
    while True:
        # The grid line past the longest token: every piece holds at least one.
        grid = (r.offset + _LONGEST_TOKEN) // _PIECE * _PIECE + _PIECE
        if r.base + r.end < grid + 1 and not r.eof:
            r.fill(grid + 1 - r.offset, keep_from=anchors[0][0] - r.base)
        pos, end, buf = r.pos, r.end, r.buf
        limit = min(end, grid - r.base)
        if stop_at is not None:
            limit = min(limit, stop_at - r.base)
            if pos >= limit:
                kind = "limit"
                break
        m = run.match(buf, pos, limit)
        e = m.end() if m is not None else pos
        if e > pos:
            if marks is not None and len(marks) < _MARKS:
                marks.append((r.base + limit, r.base + e))
            anchors.append((r.base + pos, counted))
            if len(anchors) > 8:
                del anchors[0]
            if counter is not None:
                found = counter.findall(buf, pos, e)
                counted += len(found) - found.count(b"")
            r.pos = e
            continue
        if pos >= end:
            kind = "eof"
            break
        op = buf[pos]
        if op == 0x2E:
            kind = "stop"
            break
        width = _LONG_DATA.get(op)
        if width is None and op not in run_ops:
            break
        if stop_at is not None and r.base + limit == stop_at:
            # What comes next reaches past stop_at: left to the next call, which then
            # sees what an unstopped walk sees here.
            kind = "limit"
            break
        if width is not None and (end - pos > width or r.eof):
            if end - pos <= width:
                break
            n = int.from_bytes(buf[pos + 1 : pos + 1 + width], "little", signed=op == 0x8B)
            if n < 0:
                break
            r.pos = pos + 1 + width
            try:
                r.skip(n)
            except _Truncated:
                kind = "eof"
                break
            anchors[:] = [(r.offset, counted)]
            continue
        if op not in run_ops:
            break
        if op in _TEXT_OPS:
            # No newline in the window: stream over a long text argument.
            r.pos = pos + 1
            if r.line(0)[1] < 0:
                kind = "eof"
                break
            anchors[:] = [(r.offset, counted)]
            continue
        if r.eof:
            break
        r.fill(end - pos + 512, keep_from=anchors[0][0] - r.base)  # a token cut short
    end_at = r.offset
    anchor = anchors[0]
    for candidate in anchors:
        if candidate[0] <= end_at - _PIECE:
            anchor = candidate
    return _Run(end_at, anchor[0], kind, anchor[1], counted)


_CONSTANT_PUSH: Final = frozenset(b"N)]}\x8f\x88\x89")
# Values the memo keeps: potential names and nodes (a miss reads as a constant).
_STORED: Final = frozenset({str, Ref, Call, Bag, _NodeTuple})
_EMPTY: Final[dict[int, object]] = {
    0x4E: None,
    0x29: (),
    0x5D: CONST,
    0x7D: CONST,
    0x8F: CONST,
    0x88: True,
    0x89: False,
}


def _truncated_or_corrupt(r: _Reader, at: int) -> str:
    if r.eof and at >= r.base + r.end - 16:
        return "the stream ends inside an opcode"
    return "corrupt opcode argument"


def _text(raw: bytes, size: int, keep: int, encoding: str) -> object:
    if encoding == "utf-8":
        text = raw.decode("utf-8", "surrogatepass" if size == len(raw) else "ignore")
    else:
        text = raw.decode(encoding, "replace")
    if size > len(raw) or len(text) > keep:
        return Truncated(text[:keep], size)
    return text


def _label(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Ref):
        return f"<{value.dotted}>"
    if isinstance(value, Call):
        return "<computed>"
    return f"<{value!r}>"[:80]


# --- handlers of the less frequent opcodes ----------------------------------------------


def _op_pop(m: _Machine) -> None:
    stack, marks = m.stack, m.marks
    if marks and marks[-1] == len(stack):
        marks.pop()  # POP of a MARK, as the C unpickler allows
    elif len(stack) > (marks[-1] if marks else 0):
        stack.pop()
    elif m.lossy and not marks:
        pass
    else:
        raise _Malformed("POP on an empty stack")


def _op_pop_mark(m: _Machine) -> None:
    m.pop_mark()


def _op_dup(m: _Machine) -> None:
    m.underflow(1)
    m.stack.append(m.stack[-1])


def _op_proto(m: _Machine) -> None:
    r = m.r
    r.fill(1)
    version = r.buf[r.pos]
    r.pos += 1
    if version > 5:
        raise _Malformed(f"unsupported pickle protocol {version}")
    m.proto = version
    if m.out.protocol == 0:
        m.out.protocol = version


def _op_setitem(m: _Machine) -> None:
    m.underflow(3)
    items = m.stack[-2:]
    del m.stack[-2:]
    m.attach(items, pairs=True)


def _op_append(m: _Machine) -> None:
    m.underflow(2)
    item = m.stack.pop()
    m.attach([item])


def _op_list_dict_set(m: _Machine) -> None:  # LIST, DICT, FROZENSET from the mark
    m.stack.append(m.collapse(m.pop_mark()))


def _op_payload(m: _Machine, size_width: int, kind: str) -> None:
    r = m.r
    r.fill(size_width)
    raw = r.buf[r.pos : r.pos + size_width]
    if len(raw) < size_width:
        raise _Truncated("the stream ends inside an opcode")
    n = int.from_bytes(raw, "little")
    r.pos += size_width
    keep = m.lim.max_text
    if kind == "str":
        m.stack.append(_text(r.take(n, keep * 4), n, keep, "utf-8"))
    elif kind == "latin-1":
        m.stack.append(_text(r.take(n, keep), n, keep, "latin-1"))
    else:
        data = r.take(n, 64)
        m.stack.append(data if n <= 64 and kind == "bytes" else CONST)


def _op_binunicode(m: _Machine) -> None:
    _op_payload(m, 4, "str")


def _op_binunicode8(m: _Machine) -> None:
    _op_payload(m, 8, "str")


def _op_short_binbytes(m: _Machine) -> None:
    _op_payload(m, 1, "bytes")


def _op_binbytes(m: _Machine) -> None:
    _op_payload(m, 4, "bytes")


def _op_binbytes8(m: _Machine) -> None:
    _op_payload(m, 8, "bytes")


def _op_bytearray8(m: _Machine) -> None:
    _op_payload(m, 8, "bytearray")


def _op_short_binstring(m: _Machine) -> None:
    _op_payload(m, 1, "latin-1")


def _op_binstring(m: _Machine) -> None:
    _op_payload(m, 4, "latin-1")


def _op_long1(m: _Machine) -> None:
    r = m.r
    r.fill(1)
    n = r.buf[r.pos]
    r.pos += 1
    r.skip(n)
    m.stack.append(CONST)


def _op_long4(m: _Machine) -> None:
    r = m.r
    r.fill(4)
    (n,) = _unpack_i32(r.buf, r.pos)
    r.pos += 4
    if n < 0:
        raise _Malformed("LONG4 with a negative byte count")
    r.skip(n)
    m.stack.append(CONST)


def _line(m: _Machine, keep: int | None = None) -> tuple[bytes, bool]:
    """A text argument's first bytes, and whether that is all of it."""
    raw, size = m.r.line(m.lim.max_line if keep is None else keep)
    if size < 0:
        raise _Truncated("the stream ends inside a text argument")
    return raw, size == len(raw)


def _op_text_number(m: _Machine) -> None:  # INT, LONG, FLOAT
    # Not validated: the C unpickler accepts more spellings (strtol base 0) than int(),
    # and stopping where a loader goes on would hide what follows.
    _line(m, 0)
    m.stack.append(CONST)


def _op_string(m: _Machine) -> None:  # STRING 'quoted, escaped'
    raw, whole = _line(m, m.lim.max_text * 4 + 2)
    raw = raw.rstrip()
    if not raw or raw[:1] not in (b"'", b'"') or (whole and (len(raw) < 2 or raw[-1] != raw[0])):
        raise _Malformed("STRING argument is not quoted")
    inner = raw[1:-1] if whole else raw[1:]
    if b"\\" in inner:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes warn and are kept, as in pickle
            # strict like the unpickler, except for a prefix that may end inside an escape
            inner = codecs.escape_decode(inner, "strict" if whole else "ignore")[0]
    text = inner.decode("latin-1")
    if whole and len(text) <= m.lim.max_text:
        m.stack.append(text)
    else:
        m.stack.append(Truncated(text[: m.lim.max_text], -1))


def _op_unicode(m: _Machine) -> None:  # UNICODE raw-unicode-escape
    raw, whole = _line(m, m.lim.max_text * 6)
    text = raw.decode("raw_unicode_escape", "replace")
    if whole and len(text) <= m.lim.max_text:
        m.stack.append(text)
    else:
        m.stack.append(Truncated(text[: m.lim.max_text], -1))


def _memo_index(raw: bytes) -> int:
    try:
        k = int(raw)
    except ValueError:
        raise _Malformed(f"bad memo index {raw[:20]!r}") from None
    if k < 0:
        raise _Malformed("negative memo index")
    return k


def _op_put(m: _Machine) -> None:
    raw, whole = _line(m)
    m.underflow(1)
    if not whole:
        # An index padded past the window (whitespace the unpickler skips): the slot is
        # not known, so no slot can be trusted any more.
        m.memo.clear()
        m.dense = -1
        m.memo_tainted = m.lossy = True
        return
    m.memo_write(_memo_index(raw), m.stack[-1])


def _op_get(m: _Machine) -> None:
    raw, whole = _line(m)
    if not whole:
        m.stack.append(UNKNOWN)
        m.lossy = True
        return
    k = _memo_index(raw)
    value = m.memo.get(k, _MISSING)
    m.stack.append(m.memo_miss(k) if value is _MISSING else value)


def _names(m: _Machine) -> tuple[str, str]:
    keep = m.lim.max_line
    module_raw, size = m.r.line(keep)
    if size < 0:
        raise _Truncated("the stream ends inside a global's module name")
    module = _name_text(module_raw, size)
    name_raw, size = m.r.line(keep)
    if size < 0:
        # The C unpickler imports the module even then (it drops the last character).
        if len(name_raw) >= 2:
            m.ref(module, _name_text(name_raw[:-1], len(name_raw) - 1), "GLOBAL")
        raise _Truncated("the stream ends inside a global's name")
    return module, _name_text(name_raw, size)


def _name_text(raw: bytes, size: int) -> str:
    # Strict UTF-8 like the unpickler; a name longer than the window keeps its prefix.
    return raw.decode("utf-8") if size == len(raw) else raw.decode("utf-8", "replace") + "…"


def _op_global(m: _Machine) -> None:
    module, name = _names(m)
    m.stack.append(m.ref(module, name, "GLOBAL"))


def _op_stack_global(m: _Machine) -> None:
    m.underflow(2)
    name = m.stack.pop()
    module = m.stack.pop()
    if type(module) is str and type(name) is str:
        m.stack.append(m.ref(module, name, "STACK_GLOBAL"))
        return
    if (module is UNKNOWN or name is UNKNOWN) and m.skipping and m.r.seekable:
        raise _NeedReplay
    m.stack.append(m.dynamic_ref(module, name))


def _op_inst(m: _Machine) -> None:
    module, name = _names(m)
    cls = m.ref(module, name, "INST")
    args = m.tuple_of(m.pop_mark())
    m.stack.append(m.call(cls, args, "INST"))


def _op_obj(m: _Machine) -> None:
    items = m.pop_mark()
    if not items:
        if not m.lossy:
            raise _Malformed("OBJ without a class")
        items = [UNKNOWN]
    m.stack.append(m.call(items[0], m.tuple_of(items[1:]), "OBJ"))


def _op_newobj_ex(m: _Machine) -> None:
    m.underflow(3)
    kwargs = m.stack.pop()
    args = m.stack.pop()
    cls = m.stack[-1]
    if type(kwargs) in _NODE_TYPES:
        args = _NodeTuple((*args, kwargs)) if isinstance(args, tuple) else _NodeTuple((kwargs,))
    m.stack[-1] = m.call(cls, args, "NEWOBJ_EX")


def _op_ext(m: _Machine, width: int, opcode: str) -> None:
    r = m.r
    r.fill(width)
    raw = r.buf[r.pos : r.pos + width]
    if len(raw) < width:
        raise _Truncated("the stream ends inside an opcode")
    r.pos += width
    code = int.from_bytes(raw, "little")
    if code <= 0:
        raise _Malformed("EXT code must be positive")
    ref = m.refs.get(("copyreg", f"<extension {code}>"))
    if ref is None:
        ref = Ref("copyreg", f"<extension {code}>", opcode, m.op_at, ext_code=code)
        m.refs[("copyreg", ref.name)] = ref
        m.out.globals.append(ref)
        m.nodes_seen = True
    else:
        ref.count += 1
    m.stack.append(ref)


def _op_ext1(m: _Machine) -> None:
    _op_ext(m, 1, "EXT1")


def _op_ext2(m: _Machine) -> None:
    _op_ext(m, 2, "EXT2")


def _op_ext4(m: _Machine) -> None:
    _op_ext(m, 4, "EXT4")


def _persistent(m: _Machine, pid: object) -> None:
    out = m.out
    out.persistent_count += 1
    if len(out.persistent_ids) < 8 and not _is_storage_pid(pid):
        out.persistent_ids.append((pid, m.op_at))
    m.stack.append(CONST)


def _is_storage_pid(pid: object) -> bool:
    return isinstance(pid, tuple) and bool(pid) and pid[0] == "storage"


def _op_persid(m: _Machine) -> None:
    raw, _ = _line(m, m.lim.max_text)
    _persistent(m, raw.decode("ascii", "replace"))


def _op_binpersid(m: _Machine) -> None:
    m.underflow(1)
    _persistent(m, m.stack.pop())


def _op_next_buffer(m: _Machine) -> None:
    m.stack.append(CONST)


def _op_readonly_buffer(m: _Machine) -> None:
    m.underflow(1)


def _op_invalid(m: _Machine) -> None:
    r = m.r
    op = r.buf[r.pos - 1]
    raise _Malformed(f"unknown opcode 0x{op:02x}")


def _op_inline(m: _Machine) -> None:  # pragma: no cover - the loop handles these itself
    raise _Malformed("internal dispatch error")


_HANDLER_MAP: dict[int, Callable[[_Machine], None]] = {
    0x30: _op_pop,
    0x31: _op_pop_mark,
    0x32: _op_dup,
    0x80: _op_proto,
    0x73: _op_setitem,
    0x61: _op_append,
    0x6C: _op_list_dict_set,
    0x64: _op_list_dict_set,
    0x91: _op_list_dict_set,
    0x58: _op_binunicode,
    0x8D: _op_binunicode8,
    0x43: _op_short_binbytes,
    0x42: _op_binbytes,
    0x8E: _op_binbytes8,
    0x96: _op_bytearray8,
    0x55: _op_short_binstring,
    0x54: _op_binstring,
    0x8A: _op_long1,
    0x8B: _op_long4,
    0x49: _op_text_number,
    0x4C: _op_text_number,
    0x46: _op_text_number,
    0x53: _op_string,
    0x56: _op_unicode,
    0x70: _op_put,
    0x67: _op_get,
    0x63: _op_global,
    0x93: _op_stack_global,
    0x69: _op_inst,
    0x6F: _op_obj,
    0x92: _op_newobj_ex,
    0x82: _op_ext1,
    0x83: _op_ext2,
    0x84: _op_ext4,
    0x50: _op_persid,
    0x51: _op_binpersid,
    0x97: _op_next_buffer,
    0x98: _op_readonly_buffer,
}


def _handler_table() -> tuple[Callable[[_Machine], None], ...]:
    """The handler of each byte: its own, the inline one for the other valid opcodes,
    or the invalid one."""
    table: list[Callable[[_Machine], None]] = [_op_invalid] * 256
    for op in _VALID_OPS:
        table[op] = _HANDLER_MAP.get(op, _op_inline)
    return tuple(table)


_HANDLERS = _handler_table()


# --- streams of pickles -----------------------------------------------------------------


def _plausible(result: PickleResult) -> bool:
    """Whether a pickle found after the first one names anything importable.

    Bytes after the last pickle (raw tensor data in legacy PyTorch files) can decode as
    a few opcodes by chance; a "global" whose module is not a dotted identifier cannot
    be imported by any loader.
    """
    for ref in result.globals:
        if ref.dynamic or ref.ext_code is not None:
            return True
        if all(part.isidentifier() for part in ref.module.split(".")):
            return True
    return bool(result.build_on_globals)


_MAX_EVIDENCE_REPLAY = 64 << 20  # bytes of a pickle worth interpreting again for evidence


def _one(
    r: _Reader,
    limits: Limits,
    checks: Mapping[str, ArgCheck],
    *,
    may_skip: bool,
    exact_for: Callable[[Ref], bool] | None,
) -> PickleResult:
    start = r.offset
    result = PickleResult(start=start)
    machine = _Machine(r, result, limits, checks, skipping=may_skip and r.seekable)
    replay = False
    try:
        machine.run()
    except _NeedReplay:
        replay = True
    else:
        # Skipped runs may have taken a call's arguments along: a pickle that will be
        # reported is interpreted again, exactly, for precise evidence.
        replay = (
            exact_for is not None
            and machine.skipped
            and r.offset - start <= _MAX_EVIDENCE_REPLAY
            and any(exact_for(ref) for ref in result.globals)
        )
    if replay:
        r.seek_to(start)
        result = PickleResult(start=start, replayed=True)
        machine = _Machine(r, result, limits, checks, skipping=False)
        machine.run()
    result.data_only = result.error is None and not result.noteworthy
    if result.error is not None:
        result.end = None
    return result


def interpret(
    stream: IO[bytes],
    *,
    limits: Limits | None = None,
    checks: Mapping[str, ArgCheck] | None = None,
    skip_data: bool = True,
    exact_for: Callable[[Ref], bool] | None = None,
) -> Iterator[PickleResult]:
    """Interpret every pickle in ``stream`` from its position; yield one result each.

    ``checks`` maps ``module.name`` to a predicate over a call's symbolic arguments; a
    failing call is recorded in :attr:`Ref.bad_call`. ``skip_data=False`` interprets
    every opcode exactly (slower on data-heavy pickles, same globals). A pickle where
    data was skipped and ``exact_for`` holds for one of its globals is interpreted
    again exactly, so that the calls of globals to be reported carry their arguments.

    After the first pickle, bytes that do not decode into one that names something
    importable end the walk quietly: formats append raw data after their pickles. A
    broken pickle ends the walk after its result.
    """
    lim = limits or Limits()
    r = _Reader(stream, lim.chunk_size)
    first = True
    while True:
        r.fill(1)
        if r.pos >= r.end:
            return
        if not first and r.buf[r.pos] not in _VALID_OPS:
            return
        result = _one(r, lim, checks or {}, may_skip=skip_data, exact_for=exact_for)
        if not first and result.error is not None and not _plausible(result):
            return
        yield result
        if result.error is not None:
            return
        first = False


def interpret_bytes(
    data: bytes | bytearray | memoryview,
    *,
    limits: Limits | None = None,
    checks: Mapping[str, ArgCheck] | None = None,
    skip_data: bool = True,
) -> list[PickleResult]:
    """:func:`interpret` over bytes in memory."""
    stream = io.BytesIO(bytes(data))
    return list(interpret(stream, limits=limits, checks=checks, skip_data=skip_data))
