"""A long data run walked by two processes gives what one walk gives."""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import pickletools
import random
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ramparts.scan.models import pickle_split, pickle_vm
from ramparts.scan.models.pickle_scan import scan_pickle_stream
from ramparts.scan.models.pickle_vm import Limits, PickleResult, interpret

pytestmark = pytest.mark.skipif(
    not pickle_split.may_fork_here(), reason="runs are split only on Linux, without threads"
)

PAYLOAD = b"cos\nsystem\n\x8c\x02id\x85R"  # GLOBAL os.system, 'id', TUPLE1, REDUCE


def _rows(n: int, seed: int) -> list[object]:
    rng = random.Random(seed)  # noqa: S311 - test data
    return [
        {"id": i, "v": rng.random(), "t": rng.choice(["ok", "no", "x" * rng.randint(0, 300)])}
        for i in range(n)
    ]


def _results(path: Path, workers: int) -> list[tuple[object, ...]]:
    with path.open("rb") as fh:
        found: list[PickleResult] = list(interpret(fh, limits=Limits(workers=workers)))
    return [
        (r.start, r.end, [g.dotted for g in r.globals], r.error, r.data_only, r.end_offset)
        for r in found
    ]


@pytest.fixture
def small_split(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Split runs of a few pieces, and count the splits."""
    monkeypatch.setattr(pickle_vm, "_SPLIT_MIN", 16 * pickle_vm._PIECE)
    calls: list[int] = []
    original = pickle_split.split_walk

    def counted(r: pickle_vm._Reader, *, memo_style: bool) -> pickle_vm._Run:
        calls.append(r.offset)
        return original(r, memo_style=memo_style)

    monkeypatch.setattr(pickle_split, "split_walk", counted)
    return calls


def _no_children_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_split_walk_finds_what_one_walk_finds(
    tmp_path: Path, small_split: list[int], protocol: int, seed: int
) -> None:
    path = tmp_path / "rows.pkl"
    data = pickle.dumps(_rows(3000, seed), protocol=protocol)
    path.write_bytes(data + pickle.dumps({"next": 1}, protocol=protocol))
    assert _results(path, 2) == _results(path, 1)
    assert small_split, "the run was not split"
    assert _no_children_left()


@pytest.mark.parametrize("at", [0.1, 0.49, 0.5, 0.51, 0.9, 0.999])
def test_a_payload_after_a_long_run_is_found_wherever_the_middle_falls(
    tmp_path: Path, small_split: list[int], at: float
) -> None:
    body = pickle.dumps(_rows(3000, 7), protocol=4)[2:-1]  # PROTO and STOP cut off
    cut = int(len(body) * at)
    # The payload follows a whole item (a run ends there); data continues after it.
    cut = body.index(b"u}", cut) + 1 if b"u}" in body[cut:] else len(body)
    path = tmp_path / "evil.pkl"
    path.write_bytes(b"\x80\x04" + body[:cut] + PAYLOAD + b"0" + body[cut:] + b".")
    with path.open("rb") as fh:
        findings = scan_pickle_stream(fh, path="evil.pkl", limits=Limits(workers=2))
    assert any("os.system" in f.message for f in findings)
    assert _results(path, 2) == _results(path, 1)
    assert small_split
    assert _no_children_left()


def test_the_child_starts_inside_tokens_and_soon_reports_true_boundaries(
    tmp_path: Path,
) -> None:
    data = pickle.dumps(_rows(2000, 5), protocol=4)
    path = tmp_path / "rows.pkl"
    path.write_bytes(data)
    bounds = {pos for _, _, pos in pickletools.genops(data)}
    with path.open("rb") as fh:
        for offset in range(len(data) // 2, len(data) // 2 + 40):
            report = pickle_split._decode(
                pickle_split.walk_from(fh.fileno(), offset, memo_style=True, chunk=1 << 16)
            )
            assert report is not None
            kind, end, anchor, _, marks = report
            assert (kind, end) == ("stop", len(data) - 1)
            assert anchor in bounds
            assert len(marks) > 4
            assert {mark for _, mark in marks[2:]} <= bounds  # out of step for a piece at most
            assert all(grid % pickle_vm._PIECE == 0 for grid, _ in marks if grid < len(data))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.integers(min_value=50, max_value=2500),
    seed=st.integers(0, 1000),
    protocol=st.sampled_from([1, 2, 3, 4, 5]),
    tail=st.sampled_from([b"", PAYLOAD + b"0", b"N0", b"\x8c\x03abc0"]),
    edits=st.lists(st.tuples(st.floats(0.3, 0.7), st.integers(0, 255)), max_size=3),
)
def test_split_and_single_walks_agree_on_generated_files(
    tmp_path_factory: pytest.TempPathFactory,
    rows: int,
    seed: int,
    protocol: int,
    tail: bytes,
    edits: list[tuple[float, int]],
) -> None:
    data = bytearray(pickle.dumps(_rows(rows, seed), protocol=protocol))
    for where, value in edits:  # damage near the middle, where the walks meet
        data[int(len(data) * where)] = value
    path = tmp_path_factory.mktemp("split") / "gen.pkl"
    path.write_bytes(bytes(data[:-1]) + tail + b".")
    original = pickle_vm._SPLIT_MIN
    pickle_vm._SPLIT_MIN = 4 * pickle_vm._PIECE
    try:
        assert _results(path, 2) == _results(path, 1)
    finally:
        pickle_vm._SPLIT_MIN = original
    assert _no_children_left()


def test_memory_streams_and_one_worker_never_fork(small_split: list[int]) -> None:
    data = pickle.dumps(_rows(3000, 1), protocol=4)
    list(interpret(io.BytesIO(data), limits=Limits(workers=2)))  # no file descriptor
    assert not small_split


def test_one_worker_never_forks(tmp_path: Path, small_split: list[int]) -> None:
    path = tmp_path / "rows.pkl"
    path.write_bytes(pickle.dumps(_rows(3000, 1), protocol=4))
    _results(path, 1)
    assert not small_split


@contextlib.contextmanager
def _fork_refused(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def refuse() -> int:
        raise BlockingIOError("Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refuse)
    yield


@contextlib.contextmanager
def _child_failing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def broken(*_args: object, **_kwargs: object) -> bytes:
        raise MemoryError

    monkeypatch.setattr(pickle_split, "walk_from", broken)  # the child exits with 1
    yield


@contextlib.contextmanager
def _children_ignored(_monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    previous = signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # reaped by the kernel
    try:
        yield
    finally:
        signal.signal(signal.SIGCHLD, previous)


@pytest.mark.parametrize(
    "circumstance",
    [_fork_refused, _child_failing, _children_ignored],
    ids=["fork refused", "child fails", "SIGCHLD ignored"],
)
def test_whatever_befalls_the_child_the_result_is_one_walks(
    tmp_path: Path,
    small_split: list[int],
    monkeypatch: pytest.MonkeyPatch,
    circumstance: Callable[[pytest.MonkeyPatch], contextlib.AbstractContextManager[None]],
) -> None:
    path = tmp_path / "rows.pkl"
    path.write_bytes(pickle.dumps(_rows(3000, 2), protocol=2) + pickle.dumps(1))
    expected = _results(path, 1)
    with circumstance(monkeypatch):
        assert _results(path, 2) == expected
    assert small_split
    assert _no_children_left()
