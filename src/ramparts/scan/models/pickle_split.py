"""Walking one long plain-data run of a pickle file in two processes.

A pickle of millions of small objects is one run of data opcodes from its first
bytes to its STOP, and following it token by token is the whole of its scan. Where
the run starts with at least :data:`~ramparts.scan.models.pickle_vm._SPLIT_MIN` bytes
of file left, this process forks once: the child walks from the middle of what is
left, this process from the run's start to the middle.

The middle can fall inside a token, so the child's walk may begin out of step; a walk
from the wrong byte soon lands on a true token boundary and is then the same walk as
one from the start (it depends only on the position). The child reports its first
token boundaries (the ends of its first pieces), where the run ends and why. This
process walks on past the middle to each reported boundary in turn: the first one it
lands on exactly is on both walks, so from there the child's answer is the answer.
When none is, or the child fails, this process walks on alone from where it is: the
result is always what one walk finds (its end and kind exactly; its anchor is a token
boundary at least a piece before the end, as one walk's is).

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
_HEADER = struct.Struct("<BqqH")  # kind, end, anchor, number of marks
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
    for start in range(offset, offset + _TRIES):
        stream.seek(start)
        r = _Reader(stream, chunk)
        marks: list[int] = []
        run = walk(r, memo_style=memo_style, count=False, marks=marks)
        if run.kind == "stop" or run.end - start >= _PIECE:
            break
    header = _HEADER.pack(_KINDS.index(run.kind), run.end, run.anchor, len(marks))
    return header + struct.pack(f"<{len(marks)}q", *marks)


def _decode(report: bytes) -> tuple[str, int, int, list[int]] | None:
    if len(report) < _HEADER.size:
        return None
    kind, end, anchor, count = _HEADER.unpack_from(report)
    if kind >= len(_KINDS) or len(report) != _HEADER.size + 8 * count:
        return None
    marks = list(struct.unpack_from(f"<{count}q", report, _HEADER.size))
    return _KINDS[kind], end, anchor, marks


def _fork(r: _Reader, offset: int, *, memo_style: bool) -> tuple[int, int]:
    """A child walking from ``offset``; its pid and the pipe its report comes on."""
    fd = r.fileno()
    chunk = r.chunk
    read_end, write_end = os.pipe()
    pid = os.fork()
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
        _, status = os.waitpid(pid, 0)
    return b"".join(parts) if status == 0 else b""


def _stop(pid: int, read_end: int) -> None:
    os.close(read_end)
    with contextlib.suppress(ProcessLookupError):  # it may have ended on its own
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def _anchor(end: int, start: int, *candidates: int) -> int:
    """The latest candidate at least a piece before ``end``, else the run's start."""
    fit = [c for c in candidates if c <= end - _PIECE]
    return max(fit) if fit else start


def split_walk(r: _Reader, *, memo_style: bool) -> _Run:
    """:func:`~ramparts.scan.models.pickle_vm.walk` of the run at ``r``, in two processes."""
    start = r.offset
    assert r.size is not None  # noqa: S101 - the caller checked
    middle = start + (r.size - start) // 2
    pid, read_end = _fork(r, middle, memo_style=memo_style)
    try:
        first = walk(r, memo_style=memo_style, count=False, stop_at=middle)
    except BaseException:
        _stop(pid, read_end)
        raise
    if first.kind != "limit":
        _stop(pid, read_end)
        return first  # the run ends before the middle: this walk is the whole walk
    theirs = _decode(_collect(pid, read_end))
    anchors = [first.anchor]
    if theirs is not None:
        kind, end, anchor, marks = theirs
        for mark in marks:
            if mark < r.offset:
                continue
            step = walk(r, memo_style=memo_style, count=False, stop_at=mark)
            anchors.append(step.anchor)
            if step.kind != "limit":
                return _Run(step.end, _anchor(step.end, start, *anchors), step.kind, 0, 0)
            if r.offset == mark:  # on both walks: from here the child's walk is this one
                # Its anchor is chosen as one walk chooses it; one before the mark may be
                # out of step (a STOP needs none).
                if anchor >= mark or kind == "stop":
                    r.seek_to(end)
                    return _Run(end, anchor if anchor >= mark else start, kind, 0, 0)
                break
    rest = walk(r, memo_style=memo_style, count=False)
    return _Run(rest.end, _anchor(rest.end, start, *anchors, rest.anchor), rest.kind, 0, 0)
