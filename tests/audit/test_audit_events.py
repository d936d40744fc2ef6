"""The canonical JSON of audit events: the bytes the leaf hash commits to."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ramparts.audit.events import canonical

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(JSON_VALUES)
def test_canonical_is_sorted_compact_utf8_json(value: Any) -> None:
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical(value) == expected.encode("utf-8")
    assert canonical(json.loads(canonical(value))) == canonical(value)


@pytest.mark.parametrize("value", [math.nan, math.inf, {"x": [-math.inf]}])
def test_numbers_json_cannot_state_are_refused(value: object) -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        canonical(value)


def test_objects_are_refused() -> None:
    with pytest.raises(TypeError, match="object is not JSON serializable"):
        canonical({"when": object()})


def test_a_circular_value_is_refused_not_a_crash() -> None:
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="circular"):
        canonical({"details": loop})
