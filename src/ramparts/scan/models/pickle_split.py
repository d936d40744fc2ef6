"""Walking one long plain-data run of a pickle file in two processes.

A pickle of millions of small objects is one run of data opcodes from its first
bytes to its STOP, and following it token by token is the whole of its scan. Where
the run starts with at least :data:`~ramparts.scan.models.pickle_vm._SPLIT_MIN` bytes
of file left, this process forks once: the child walks from the middle of what is
left, this process from the run's start to the middle.

A walk matches pieces that end at the last token boundary before each line of a grid
of file offsets, so two walks that share one token boundary match the same pieces
from there on. The middle can fall inside a token; a walk from the wrong byte soon
lands on a true boundary (the child tries the next bytes when its walk ends at once).
The child reports its first pieces, where the run ends and why, and which piece its
answer was chosen from. This process walks on past the middle, piece by piece: the
first piece that ends where the child's piece for the same grid line ended is on both
walks, and from there the child's answer is this walk's. When the walks never meet,
the child fails, or its anchor was chosen among pieces from before they met, this
process walks on alone. Either way the result is exactly what one walk finds.

The child shares nothing but the file descriptor, which it reads with ``pread`` (its
offset is shared with this process), and reports through a pipe. It is forked only on
Linux, from a process without other threads, and it ends with ``os._exit``.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import struct
import sys

from ramparts.scan.models.pickle_vm import _PIECE, _Reader, _Run, walk

TYPE_CHECKING = False  # not typing's: importing typing costs start-up time
if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

__all__ = ["may_fork", "may_fork_here", "split_walk", "walk_from"]

_KINDS = ("stop", "op", "eof", "limit")
_HEADER = struct.Struct("<BqqqH")  # kind, end, anchor, oldest piece start, marks
_TRIES = 1024  # start bytes the child tries: past a text or string argument of this length


def may_fork_here() -> bool:
    """Whether this process may fork a child: on Linux, and without other threads."""
    if sys.platform != "linux" or not hasattr(os, "fork"):
        return False
    threading = sys.modules.get("threading")
    # A child forked while another thread holds a lock could wait for it forever.
    return threading is None or threading.active_count() == 1


def may_fork(r: _Reader) -> bool:
    """Whether a child may be forked to walk part of ``r``'s file (it needs a descriptor)."""
    try:
        r.fileno()
    except (OSError, ValueError, AttributeError):
        return False
    return may_fork_here()


class _PRead(io.RawIOBase):
    """A file descriptor read with ``pread``: the position is this object's own."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._pos
        elif whence == io.SEEK_END:
            offset += os.fstat(self._fd).st_size
        self._pos = max(0, offset)
        return self._pos

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        data = os.pread(self._fd, len(view), self._pos)
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)


def walk_from(fd: int, offset: int, *, memo_style: bool, chunk: int) -> bytes:
    """The child's report: a walk from ``offset`` (perhaps inside a token), encoded.

    A walk that starts inside a token usually ends at once, on an argument byte that
    is no data opcode; then the next byte is tried, up to :data:`_TRIES` of them.
    """
    stream = io.BufferedReader(_PRead(fd), buffer_size=chunk)
    stream.seek(offset)
    r = _Reader(stream, chunk)
    for start in range(offset, offset + _TRIES):
        r.seek_to(start)
        marks: list[tuple[int, int]] = []
        anchors = [(start, 0)]
        run = walk(r, memo_style=memo_style, count=False, marks=marks, anchors=anchors)
        if run.kind == "stop" or run.end - start >= _PIECE:
            break
    kind = _KINDS.index(run.kind)
    header = _HEADER.pack(kind, run.end, run.anchor, anchors[0][0], len(marks))
    return header + struct.pack(f"<{2 * len(marks)}q", *(n for mark in marks for n in mark))


def _decode(report: bytes) -> tuple[str, int, int, int, list[tuple[int, int]]] | None:
    if len(report) < _HEADER.size:
        return None
    kind, end, anchor, oldest, count = _HEADER.unpack_from(report)
    if kind >= len(_KINDS) or len(report) != _HEADER.size + 16 * count:
        return None
    flat = struct.unpack_from(f"<{2 * count}q", report, _HEADER.size)
    return _KINDS[kind], end, anchor, oldest, list(zip(flat[::2], flat[1::2], strict=True))


def _fork(r: _Reader, offset: int, *, memo_style: bool) -> tuple[int, int]:
    """A child walking from ``offset``; its pid and the pipe its report comes on."""
    fd = r.fileno()
    chunk = r.chunk
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        raise
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        status = 1
        try:
            os.close(read_end)
            report = memoryview(walk_from(fd, offset, memo_style=memo_style, chunk=chunk))
            while report:
                report = report[os.write(write_end, report) :]
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    return pid, read_end


def _collect(pid: int, read_end: int) -> bytes:
    parts = []
    try:
        while data := os.read(read_end, 1 << 16):
            parts.append(data)
    finally:
        os.close(read_end)
        status = _reap(pid)
    return b"".join(parts) if status == 0 else b""


def _stop(pid: int, read_end: int) -> None:
    os.close(read_end)
    with contextlib.suppress(ProcessLookupError):  # it may have ended on its own
        os.kill(pid, signal.SIGKILL)
    _reap(pid)


def _reap(pid: int) -> int:
    """The child's exit status, once it has ended.

    A process that ignores SIGCHLD has its children reaped by the kernel; the report's
    exact length (checked by :func:`_decode`) then tells whether it was whole.
    """
    try:
        return os.waitpid(pid, 0)[1]
    except ChildProcessError:
        return 0


def split_walk(r: _Reader, *, memo_style: bool) -> _Run:
    """:func:`~ramparts.scan.models.pickle_vm.walk` of the run at ``r``, in two processes."""
    start = r.offset
    size = r.size if r.size is not None else start
    middle = (start + (size - start) // 2) // _PIECE * _PIECE  # a grid line
    try:
        pid, read_end = _fork(r, middle, memo_style=memo_style)
    except OSError:  # no process or pipe to be had (a limit): one walk it is
        return walk(r, memo_style=memo_style, count=False)
    anchors = [(start, 0)]  # the state of this walk, carried across its stops
    try:
        first = walk(r, memo_style=memo_style, count=False, stop_at=middle, anchors=anchors)
    except BaseException:
        _stop(pid, read_end)
        raise
    if first.kind != "limit":
        _stop(pid, read_end)
        return first  # the run ends before the middle
    theirs = _decode(_collect(pid, read_end))
    if theirs is not None:
        kind, end, anchor, oldest, marks = theirs
        for grid, mark in marks:
            if grid <= r.offset:
                continue
            step = walk(r, memo_style=memo_style, count=False, stop_at=grid, anchors=anchors)
            if step.kind != "limit":
                return step  # the run ends before the walks meet
            if r.offset == mark:  # the same piece on both walks: from here they are one
                # The child's anchor is this walk's unless it was chosen among pieces
                # from before they met (a STOP needs none).
                if kind == "stop" or oldest >= mark or mark <= anchor <= end - _PIECE:
                    r.seek_to(end)
                    return _Run(end, anchor, kind, 0, 0)
                break
    return walk(r, memo_style=memo_style, count=False, anchors=anchors)
