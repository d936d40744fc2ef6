"""Properties of the pickle scanner over generated inputs (hypothesis), and its fuzz target.

- Arbitrary bytes never raise and are done within a bounded time.
- Pickles of random plain data, of every protocol, produce no finding.
- A payload placed anywhere in random data is always found, with or without the
  plain-data skipping, and skipping never loses a global that exact interpretation sees.
"""

from __future__ import annotations

import importlib.util
import os
import pickle
import struct
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ramparts.core.types import Finding
from ramparts.scan.models.pickle_scan import scan_pickle_bytes
from ramparts.scan.models.pickle_vm import interpret_bytes

P2 = b"\x80\x02"
P4 = b"\x80\x04"
PAYLOAD = b"cos\nsystem\n\x8c\x02id\x85R"  # GLOBAL os.system, 'id', TUPLE1, REDUCE


class Reduce:
    """Pickles as a call of ``func(*args)``; only ever passed to pickle.dumps."""

    def __init__(self, func: object, args: tuple[object, ...]) -> None:
        self.func, self.args = func, args

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return self.func, self.args


def scan(data: bytes) -> list[Finding]:
    return scan_pickle_bytes(data, path="m.pkl")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_arbitrary_bytes_never_raise_and_finish_quickly(data: bytes) -> None:
    for candidate in (
        data,
        P2 + data,
        P4 + b"\x95" + struct.pack("<Q", len(data)) + data,
        b"(" + data,
        data + PAYLOAD + b".",
    ):
        started = time.perf_counter()
        findings = scan(candidate)
        assert time.perf_counter() - started < 2.0
        assert all(isinstance(f, Finding) for f in findings)


plain = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.binary(max_size=20),
    lambda children: (
        st.lists(children, max_size=6)
        | st.dictionaries(st.text(max_size=8), children, max_size=6)
        | st.tuples(children, children)
        | st.frozensets(st.integers(), max_size=4)
        | st.sets(st.text(max_size=4), max_size=4)
    ),
    max_leaves=40,
)


@settings(max_examples=250, deadline=None)
@given(plain, st.integers(min_value=0, max_value=5))
def test_random_plain_data_is_clean(obj: object, protocol: int) -> None:
    assert scan(pickle.dumps(obj, protocol=protocol)) == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plain, st.integers(min_value=0, max_value=5), st.integers(min_value=0, max_value=3000))
def test_a_payload_anywhere_in_big_data_is_found(obj: object, protocol: int, at: int) -> None:
    # Big enough for the plain-data skipping to engage; the payload sits at item ``at``.
    items: list[object] = [obj] * 3000
    items.insert(at, Reduce(os.system, ("id",)))
    data = pickle.dumps(items, protocol=protocol)
    fast = interpret_bytes(data)
    exact = interpret_bytes(data, skip_data=False)
    expected = f"{os.system.__module__}.system"
    assert [r.dotted for r in fast[0].globals if r.dotted == expected] == [expected]
    exact_names = {r.dotted for result in exact for r in result.globals}
    fast_names = {r.dotted for result in fast for r in result.globals}
    assert exact_names <= fast_names
    assert fast[0].error is exact[0].error is None
    found = [f for f in scan(data) if f.rule_id == "RMP-PICKLE-001"]
    assert found
    assert found[0].evidence == f"{expected}('id')"


def test_fuzz_target_runs_for_a_few_seconds() -> None:
    path = Path(__file__).resolve().parents[2] / "fuzz" / "fuzz_pickle.py"
    spec = importlib.util.spec_from_file_location("fuzz_pickle", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.run(seconds=2.0, seed=7) > 100
