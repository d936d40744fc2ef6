"""``record`` behaves as ``dataclass(frozen=True, slots=True)`` does, for what we use."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from dataclasses import InitVar, field

import pytest

from ramparts.core.records import record


@record
class Point:
    """A point."""

    x: float
    y: int = 0
    tags: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list, compare=False, repr=False)


@dataclasses.dataclass(frozen=True, slots=True)
class RealPoint:
    """The same point, as a dataclass."""

    x: float
    y: int = 0
    tags: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list, compare=False, repr=False)


@record
class Checked:
    """Validates itself."""

    size: int

    def __post_init__(self) -> None:
        if self.size < 0:
            raise ValueError("negative")
        object.__setattr__(self, "size", self.size * 2)


@record(frozen=False, eq=False)
class Node:
    """Compared by identity, mutable."""

    children: list[object] = field(default_factory=list)


@record(frozen=False)
class Counter:
    """Mutable, compared by value."""

    n: int = 0


@record
class Child(Point):
    """A point with a label."""

    label: str = "c"


def test_init_takes_positional_keyword_and_defaults_as_dataclass() -> None:
    p = Point(1, y=2)
    assert (p.x, p.y, p.tags, p.notes) == (1, 2, (), [])
    assert Point(1).notes is not Point(1).notes  # a fresh default per instance
    bad: list[tuple[tuple[object, ...], dict[str, object]]] = [
        ((), {}),
        ((1, 2, (), [], 5), {}),
        ((1,), {"x": 1}),
        ((1,), {"z": 1}),
    ]
    for args, kwargs in bad:
        for cls in (Point, RealPoint):
            with pytest.raises(TypeError):
                cls(*args, **kwargs)  # type: ignore[arg-type]


def test_repr_eq_and_hash_match_dataclass() -> None:
    assert repr(Point(1, 2, ("a",), ["hidden"])) == "Point(x=1, y=2, tags=('a',))"
    assert repr(RealPoint(1, 2, ("a",), ["hidden"])) == "RealPoint(x=1, y=2, tags=('a',))"
    assert Point(1, notes=["a"]) == Point(1, notes=["b"])  # compare=False is ignored
    assert Point(1) != Point(2)
    other: object = RealPoint(1)
    assert Point(1) != other
    assert Point(1).__eq__(other) is NotImplemented
    nan = float("nan")
    assert Point(nan) == Point(nan)  # the same object, as tuples compare it
    assert hash(Point(1, 2, notes=["x"])) == hash(Point(1, 2, notes=["y"]))
    assert hash(Point(1, 2)) == hash(RealPoint(1, 2))  # the hash of the same tuple


def test_frozen_and_slotted() -> None:
    p = Point(1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.x = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del p.x
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(p, "other", 1)  # noqa: B010 - a name the class does not declare
    assert not hasattr(p, "__dict__")


def test_post_init_runs_and_may_normalise() -> None:
    assert Checked(2).size == 4
    with pytest.raises(ValueError, match="negative"):
        Checked(-1)


def test_dataclass_functions_work() -> None:
    p = Point(1, 2, ("a",))
    assert dataclasses.is_dataclass(p)
    assert [f.name for f in dataclasses.fields(p)] == ["x", "y", "tags", "notes"]
    assert dataclasses.replace(p, y=5) == Point(1, 5, ("a",))
    assert dataclasses.asdict(p) == {"x": 1, "y": 2, "tags": ("a",), "notes": []}
    assert Checked(1).size == 2
    assert dataclasses.replace(Checked(1), size=3).size == 6  # __post_init__ runs again


def test_pickle_and_copy_round_trip() -> None:
    p = Point(1, 2, ("a",), ["n"])
    # Our own objects: the runner's worker processes pickle records this way.
    for clone in (pickle.loads(pickle.dumps(p)), copy.copy(p), copy.deepcopy(p)):  # noqa: S301
        assert clone == p
        assert clone.notes == ["n"]
    child = Child(1, label="z")
    assert pickle.loads(pickle.dumps(child)) == child  # noqa: S301


def test_identity_and_mutable_variants() -> None:
    a, b = Node(), Node()
    assert a != b
    assert a == a  # noqa: PLR0124 - identity is the point
    a.children.append(a)
    assert repr(a) == "Node(children=[...])"  # a cycle does not recurse forever
    hash(a)
    c = Counter()
    c.n += 1
    assert c == Counter(1)
    with pytest.raises(TypeError):
        hash(c)


def test_subclass_adds_fields() -> None:
    child = Child(1, 2, label="z")
    assert (child.x, child.y, child.label) == (1, 2, "z")
    assert child != Point(1, 2)
    assert repr(child) == "Child(x=1, y=2, tags=(), label='z')"


def test_refuses_what_it_does_not_support() -> None:
    with pytest.raises(TypeError, match="follows default"):

        @record
        class Bad:
            """Order."""

            a: int = 0
            b: int  # type: ignore[misc]

    with pytest.raises(TypeError, match="InitVar"):

        @record
        class WithInitVar:
            """InitVar."""

            a: int
            b: InitVar[int]

    with pytest.raises(TypeError, match="frozen"):

        @record
        class Setter:
            """Frozen with a __setattr__."""

            a: int

            def __setattr__(self, name: str, value: object) -> None:
                pass


def test_a_class_without_docstring_gets_one() -> None:
    @record
    class Bare:
        a: int

    assert Bare.__doc__ == "Bare(...)"
    assert Bare(1).a == 1
