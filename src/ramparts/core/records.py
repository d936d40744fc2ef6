"""``record``: a frozen, slotted dataclass that costs almost nothing to define.

``@dataclass`` compiles six methods from source text for every class (``__init__``,
``__repr__``, ``__eq__``, ``__hash__``, ``__setattr__``, ``__delattr__``): about a
millisecond a class on CPython 3.11, which made defining the classes that one
``ramparts scan models FILE`` imports cost more than the scan. ``record`` builds the
same class with ``dataclasses.dataclass(init=False, repr=False, eq=False)``, which
compiles nothing, and adds the methods itself:

- ``__init__`` binds its arguments generically for the class's first instantiations
  and is compiled after :data:`COMPILE_AFTER` of them, so a class that a run builds
  once costs no compilation and a class it builds often runs as fast as a
  dataclass's;
- ``__repr__``, ``__eq__``, ``__hash__``, the frozen ``__setattr__``/``__delattr__``
  and pickling support are shared functions that read the class's fields.

The result is a real dataclass: ``dataclasses.fields``, ``replace``, ``asdict`` and
``is_dataclass`` work, and type checkers treat it as one (``dataclass_transform``).
It supports what ramparts uses: defaults, ``field(default_factory=...,
repr=False, compare=False, hash=...)`` and ``__post_init__``; not ``InitVar``,
``kw_only`` or ``order``, which ``record`` refuses.
"""

from __future__ import annotations

import dataclasses
import operator
from _thread import get_ident
from collections.abc import Callable
from typing import Any, TypeVar, dataclass_transform, overload

__all__ = ["COMPILE_AFTER", "record"]

_T = TypeVar("_T")
_MISSING = dataclasses.MISSING


@overload
def record(cls: type[_T], /) -> type[_T]: ...


@overload
def record(
    *, frozen: bool = True, eq: bool = True, slots: bool = True
) -> Callable[[type[_T]], type[_T]]: ...


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field,))
def record(
    cls: type[_T] | None = None, /, *, frozen: bool = True, eq: bool = True, slots: bool = True
) -> type[_T] | Callable[[type[_T]], type[_T]]:
    """Make ``cls`` a dataclass, frozen and slotted unless told otherwise.

    ``@record`` is ``@dataclass(frozen=True, slots=True)``; ``@record(eq=False)`` keeps
    identity equality, ``@record(frozen=False)`` allows assignment.
    """

    def wrap(klass: type[_T]) -> type[_T]:
        return _build(klass, frozen=frozen, eq=eq, slots=slots)

    return wrap if cls is None else wrap(cls)


def _build(cls: type[_T], *, frozen: bool, eq: bool, slots: bool) -> type[_T]:
    """``dataclass`` without compiled methods; a method the class defines is kept, as
    ``dataclass`` keeps it (a frozen class may not define ``__setattr__``/``__delattr__``)."""
    own = dict(cls.__dict__)
    if frozen and ("__setattr__" in own or "__delattr__" in own):
        raise TypeError(f"record {cls.__qualname__} is frozen and defines __setattr__")
    if cls.__doc__ is None:
        # Else dataclass writes one from inspect.signature, which tokenizes a signature.
        cls.__doc__ = f"{cls.__name__}(...)"
    built: Any = dataclasses.dataclass(init=False, repr=False, eq=False, slots=slots)(cls)
    fields = dataclasses.fields(built)
    _check(built, fields)
    names = tuple(f.name for f in fields)

    def add(name: str, value: object) -> None:
        if name not in own:
            setattr(built, name, value)

    add("__init__", _lazy_init(built, fields, frozen=frozen))
    add("__repr__", _repr(tuple(f.name for f in fields if f.repr)))
    if eq:
        add("__eq__", _eq(_values(tuple(f.name for f in fields if f.compare))))
        if own.get("__hash__") is None:
            if frozen:
                hashed = (f.name for f in fields if (f.compare if f.hash is None else f.hash))
                built.__hash__ = _hash(_values(tuple(hashed)))
            else:
                built.__hash__ = None  # compared by value and mutable: unhashable
    if frozen:
        built.__setattr__ = _frozen_setattr(built, frozenset(names))
        built.__delattr__ = _frozen_delattr(built, frozenset(names))
        if slots:
            add("__getstate__", _getstate(_values(names)))
            add("__setstate__", _setstate(names))
    result: type[_T] = built
    return result


def _values(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """A function from an instance to the tuple of these fields' values."""
    if len(names) > 1:
        many: Callable[[Any], tuple[Any, ...]] = operator.attrgetter(*names)
        return many
    if names:
        one = operator.attrgetter(names[0])
        return lambda self: (one(self),)
    return lambda _self: ()


def _check(cls: type, fields: tuple[dataclasses.Field[Any], ...]) -> None:
    """What ``dataclass`` would check while compiling ``__init__``, checked now."""
    for f in cls.__dataclass_fields__.values():  # type: ignore[attr-defined]
        if f not in fields and "InitVar" in str(f.type):
            raise TypeError(f"record {cls.__qualname__}: InitVar {f.name!r} is not supported")
    defaulted = False
    for f in fields:
        if f.kw_only is True or not f.init:
            raise TypeError(f"record {cls.__qualname__}: field {f.name!r} must be in __init__")
        has_default = f.default is not _MISSING or f.default_factory is not _MISSING
        if defaulted and not has_default:
            raise TypeError(f"non-default argument {f.name!r} follows default argument")
        defaulted = has_default


COMPILE_AFTER = 16
"""Instantiations of a record before its ``__init__`` is compiled; until then a generic
``__init__`` binds the arguments (a few microseconds a call, against a compilation of
about 0.15 ms, which a class built once or twice never pays back)."""


def _takes(fields: tuple[dataclasses.Field[Any], ...]) -> str:
    """Python's own words for how many positional arguments ``__init__`` takes."""
    required = sum(f.default is _MISSING and f.default_factory is _MISSING for f in fields)
    if required == len(fields):
        return f"{len(fields) + 1} positional argument{'s' if fields else ''}"
    return f"from {required + 1} to {len(fields) + 1} positional arguments"


def _lazy_init(
    cls: Any, fields: tuple[dataclasses.Field[Any], ...], *, frozen: bool
) -> Callable[..., None]:
    names = frozenset(f.name for f in fields)
    post_init = hasattr(cls, "__post_init__")
    assign = object.__setattr__ if frozen else setattr
    calls = 0

    def lazy_init(self: Any, *args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls > COMPILE_AFTER:
            init = _compile_init(cls, frozen=frozen)
            cls.__init__ = init
            init(self, *args, **kwargs)
            return
        where = f"{cls.__qualname__}.__init__()"
        if len(args) > len(fields):
            raise TypeError(f"{where} takes {_takes(fields)} but {len(args) + 1} were given")
        for name in kwargs.keys() - names:
            raise TypeError(f"{where} got an unexpected keyword argument {name!r}")
        for i, f in enumerate(fields):
            if i < len(args):
                if f.name in kwargs:
                    raise TypeError(f"{where} got multiple values for argument {f.name!r}")
                value = args[i]
            elif f.name in kwargs:
                value = kwargs[f.name]
            elif f.default is not _MISSING:
                value = f.default
            elif f.default_factory is not _MISSING:
                value = f.default_factory()
            else:
                raise TypeError(f"{where} missing 1 required positional argument: {f.name!r}")
            assign(self, f.name, value)
        if post_init:
            self.__post_init__()

    return lazy_init


def _compile_init(cls: Any, *, frozen: bool) -> Callable[..., None]:
    """The ``__init__`` that ``dataclass`` would write for ``cls``."""
    env: dict[str, Any] = {"__setattr": object.__setattr__, "__factory": _FACTORY}
    params = ["self"]
    body = []
    for f in dataclasses.fields(cls):
        name = f.name
        if f.default is not _MISSING:
            env[f"__d_{name}"] = f.default
            params.append(f"{name}=__d_{name}")
        elif f.default_factory is not _MISSING:
            env[f"__f_{name}"] = f.default_factory
            params.append(f"{name}=__factory")
            body.append(f"    if {name} is __factory: {name} = __f_{name}()")
        else:
            params.append(name)
        if frozen:
            body.append(f"    __setattr(self, {name!r}, {name})")
        else:
            body.append(f"    self.{name} = {name}")
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()")
    source = f"def __init__({', '.join(params)}):\n" + ("\n".join(body) or "    pass") + "\n"
    namespace: dict[str, Any] = {}
    exec(source, env, namespace)  # noqa: S102 - our own source text, built from field names
    init: Callable[..., None] = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


class _Factory:
    """The default of a parameter whose field has a ``default_factory``."""

    def __repr__(self) -> str:
        return "<factory>"


_FACTORY = _Factory()


def _repr(shown: tuple[str, ...]) -> Callable[[Any], str]:
    busy: set[tuple[int, int]] = set()

    def repr_fields(self: Any) -> str:
        key = (id(self), get_ident())  # per thread: another thread's repr is not a cycle
        if key in busy:
            return "..."
        busy.add(key)
        try:
            inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in shown)
        finally:
            busy.discard(key)
        return f"{type(self).__qualname__}({inner})"

    return repr_fields


def _eq(values: Callable[[Any], tuple[Any, ...]]) -> Callable[[Any, object], Any]:
    def eq_fields(self: Any, other: object) -> Any:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return values(self) == values(other)

    return eq_fields


def _hash(values: Callable[[Any], tuple[Any, ...]]) -> Callable[[Any], int]:
    def hash_fields(self: Any) -> int:
        return hash(values(self))

    return hash_fields


def _frozen_setattr(cls: type, names: frozenset[str]) -> Callable[[Any, str, Any], None]:
    def setattr_frozen(self: Any, name: str, value: Any) -> None:
        parent = super(cls, self)
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
        parent.__setattr__(name, value)

    return setattr_frozen


def _frozen_delattr(cls: type, names: frozenset[str]) -> Callable[[Any, str], None]:
    def delattr_frozen(self: Any, name: str) -> None:
        parent = super(cls, self)
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
        parent.__delattr__(name)

    return delattr_frozen


def _getstate(values: Callable[[Any], tuple[Any, ...]]) -> Callable[[Any], tuple[Any, ...]]:
    def getstate(self: Any) -> tuple[Any, ...]:
        return values(self)

    return getstate


def _setstate(names: tuple[str, ...]) -> Callable[[Any, tuple[Any, ...]], None]:
    def setstate(self: Any, state: tuple[Any, ...]) -> None:
        for name, value in zip(names, state, strict=True):
            object.__setattr__(self, name, value)

    return setstate
