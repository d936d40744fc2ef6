"""``record`` behaves as ``dataclass(frozen=True, slots=True)`` does, for what we use."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from dataclasses import InitVar, field
from typing import ClassVar

import pytest

from ramparts.core import records
from ramparts.core.records import COMPILE_AFTER, record


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


def _bad_calls() -> list[tuple[tuple[object, ...], dict[str, object]]]:
    return [((), {}), ((1, 2, (), [], 5), {}), ((1,), {"x": 1}), ((1,), {"z": 1})]


def _messages(cls: type) -> list[str]:
    out = []
    for args, kwargs in _bad_calls():
        with pytest.raises(TypeError) as caught:
            cls(*args, **kwargs)
        out.append(str(caught.value).replace(cls.__qualname__, "C"))
    return out


@pytest.mark.parametrize("compiled", [False, True], ids=["generic", "compiled"])
def test_init_binds_as_dataclass_before_and_after_compiling(compiled: bool) -> None:
    @record
    class Fresh(Point):
        """Point's fields in a class of its own, so that its __init__ starts generic."""

    if compiled:
        for _ in range(COMPILE_AFTER + 1):
            Fresh(0)
    assert (Fresh.__init__.__name__ == "__init__") is compiled
    if compiled:  # the signature reads as dataclass's does
        assert "notes=<factory>" in str(inspect.signature(Fresh.__init__))
    p = Fresh(1, y=2)
    assert (p.x, p.y, p.tags, p.notes) == (1, 2, (), [])
    assert Fresh(1).notes is not Fresh(1).notes  # a fresh default per instance
    assert Fresh(1, 2, ("a",), ["b"]) == Fresh(x=1, tags=("a",), y=2)
    assert _messages(Fresh) == _messages(RealPoint)


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
    for _ in range(COMPILE_AFTER + 2):  # generic, then compiled
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


def test_own_field_functions_match_dataclasses() -> None:
    @record(slots=False)
    class Loose:  # no docstring: dataclasses' view of it must not need inspect
        a: int
        b: list[int] = records.field(default_factory=list)
        c: int = records.field(default=3, repr=False)
        limit: ClassVar[int] = 9

    assert [f.name for f in records.fields(Loose)] == ["a", "b", "c"]
    assert [f.name for f in dataclasses.fields(Loose)] == ["a", "b", "c"]
    assert Loose.c == 3  # a plain class attribute, as dataclass leaves it
    assert "b" not in Loose.__dict__
    assert Loose.limit == 9
    loose = Loose(1)
    assert records.replace(loose, c=4) == dataclasses.replace(loose, c=4) == Loose(1, [], 4)
    assert repr(loose) == "test_own_field_functions_match_dataclasses.<locals>.Loose(a=1, b=[])"
    assert loose.__dict__ == {"a": 1, "b": [], "c": 3}
    assert records.is_record(loose)
    assert records.is_record(Loose)
    assert not records.is_record(RealPoint(1))
    with pytest.raises(TypeError, match="record type"):
        records.fields(RealPoint)
    with pytest.raises(ValueError, match="both"):
        records.field(default=1, default_factory=list)
    assert Point.__match_args__ == ("x", "y", "tags", "notes")
    match Point(1, 2):
        case Point(x, y):
            assert (x, y) == (1, 2)


def test_a_real_dataclass_may_extend_a_record() -> None:
    @dataclasses.dataclass(frozen=True)
    class Labelled(Point):
        label: str = "l"

    labelled = Labelled(1, label="z")
    assert (labelled.x, labelled.label) == (1, "z")
    with pytest.raises(TypeError, match="non-frozen"):

        @dataclasses.dataclass
        class Thawed(Point):
            label: str = "l"


def test_refuses_mutable_defaults_and_dataclass_bases() -> None:
    with pytest.raises(ValueError, match="mutable default"):

        @record
        class Shared:
            """A list shared by every instance."""

            items: list[int] = []  # noqa: RUF012 - the mistake under test

    with pytest.raises(TypeError, match="cannot extend dataclass"):

        @record
        class FromReal(RealPoint):
            """A record over a dataclass."""

            label: str = "c"


def test_generic_init_words_errors_as_python_does() -> None:
    @record
    class Two:
        """All required."""

        a: int
        b: int

    @dataclasses.dataclass(frozen=True)
    class RealTwo:
        """All required, as a dataclass."""

        a: int
        b: int

    @record
    class Empty:
        """No field."""

    @dataclasses.dataclass(frozen=True)
    class RealEmpty:
        """No field, as a dataclass."""

    def message(cls: type, *args: int) -> str:
        with pytest.raises(TypeError) as caught:
            cls(*args)
        return str(caught.value).replace(cls.__qualname__, "C")

    assert message(Two, 1, 2, 3) == message(RealTwo, 1, 2, 3)
    assert message(Two, 1) == message(RealTwo, 1)
    assert message(Empty, 1) == message(RealEmpty, 1)
