"""``record``: a frozen, slotted dataclass that costs almost nothing to define.

``@dataclass`` compiles six methods from source text for every class (``__init__``,
``__repr__``, ``__eq__``, ``__hash__``, ``__setattr__``, ``__delattr__``): about a
millisecond a class on CPython 3.11, which made defining the classes that one
``ramparts scan models FILE`` imports cost more than the scan. Importing the
``dataclasses`` module at all costs more again: it imports ``inspect`` (and with it
``ast``, ``dis`` and ``tokenize``), about a sixth of that command's instructions.
``record`` builds the class without it:

- the fields are read from the class's annotations, as ``dataclass`` reads them
  (``ClassVar`` annotations are not fields; defaults and :func:`field` specifiers);
- ``__init__`` binds its arguments generically for the class's first instantiations
  and is compiled after :data:`COMPILE_AFTER` of them, so a class that a run builds
  once costs no compilation and a class it builds often runs as fast as a
  dataclass's;
- ``__repr__``, ``__eq__``, ``__hash__``, the frozen ``__setattr__``/``__delattr__``
  and pickling support are shared functions that read the class's fields;
- ``slots=True`` rebuilds the class with ``__slots__``, as ``dataclass`` does.

Use :func:`field`, :func:`fields` and :func:`replace` from here. The class still
answers to the ``dataclasses`` functions (``fields``, ``replace``, ``asdict``,
``is_dataclass``, and pydantic's validation): ``__dataclass_fields__`` is built with
``dataclasses`` on first use. Type checkers treat a record as a dataclass
(``dataclass_transform``). It supports what ramparts uses: defaults,
``field(default_factory=..., repr=False, compare=False, hash=...)`` and
``__post_init__``; not ``InitVar``, ``kw_only`` or ``order``, which ``record``
refuses.
"""

from __future__ import annotations

import operator
import sys
from _thread import get_ident
from collections.abc import Callable

TYPE_CHECKING = False  # not typing's: importing typing costs start-up time
if not TYPE_CHECKING:
    # What these typing decorators do at run time: ``overload`` stubs are replaced by
    # the implementation below them; ``dataclass_transform`` speaks to type checkers.
    def overload(func):
        return func

    def dataclass_transform(**_options):
        return lambda func: func


if TYPE_CHECKING:
    from typing import Any, TypeVar, dataclass_transform, overload

    _T = TypeVar("_T")


__all__ = ["COMPILE_AFTER", "MISSING", "Field", "field", "fields", "is_record", "record", "replace"]


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""A field's ``default`` or ``default_factory`` when it has none."""


class Field:
    """One field of a record, with the attributes of ``dataclasses.Field`` it supports."""

    __slots__ = ("compare", "default", "default_factory", "hash", "name", "repr", "type")

    def __init__(
        self,
        default: Any,
        default_factory: Any,
        repr: bool,  # noqa: A002 - dataclasses' own names
        compare: bool,
        hash: bool | None,  # noqa: A002
        name: str = "",
        type: object = None,  # noqa: A002
    ) -> None:
        self.name = name
        self.type = type
        self.default = default
        self.default_factory = default_factory
        self.repr = repr
        self.compare = compare
        self.hash = hash

    def __repr__(self) -> str:
        return (
            f"Field(name={self.name!r}, type={self.type!r}, default={self.default!r}, "
            f"default_factory={self.default_factory!r}, repr={self.repr}, "
            f"compare={self.compare}, hash={self.hash})"
        )


@overload
def field(
    *,
    default: _T,
    repr: bool = ...,
    compare: bool = ...,
    hash: bool | None = ...,
) -> _T: ...


@overload
def field(
    *,
    default_factory: Callable[[], _T],
    repr: bool = ...,
    compare: bool = ...,
    hash: bool | None = ...,
) -> _T: ...


@overload
def field(
    *,
    repr: bool = ...,
    compare: bool = ...,
    hash: bool | None = ...,
) -> Any: ...


def field(
    *,
    default: Any = MISSING,
    default_factory: Any = MISSING,
    repr: bool = True,  # noqa: A002
    compare: bool = True,
    hash: bool | None = None,  # noqa: A002
) -> Any:
    """A field with a default factory or other options, as ``dataclasses.field``."""
    if default is not MISSING and default_factory is not MISSING:
        raise ValueError("cannot specify both default and default_factory")
    return Field(default, default_factory, repr, compare, hash)


def fields(class_or_instance: object) -> tuple[Field, ...]:
    """The fields of a record class or instance, in ``__init__``'s order."""
    found: tuple[Field, ...] | None = getattr(class_or_instance, "__record_fields__", None)
    if found is None:
        raise TypeError("must be called with a record type or instance")
    return found


def is_record(obj: object) -> bool:
    """Whether ``obj`` is a record class or an instance of one."""
    return hasattr(obj, "__record_fields__")


if TYPE_CHECKING:
    # Type checkers check the changes against the fields, as for dataclasses.replace.
    from dataclasses import replace
else:

    def replace(obj, /, **changes):
        """A copy of the record ``obj`` with ``changes``; ``__post_init__`` runs again."""
        for f in fields(obj):
            if f.name not in changes:
                changes[f.name] = getattr(obj, f.name)
        return obj.__class__(**changes)


@overload
def record(cls: type[_T], /) -> type[_T]: ...


@overload
def record(
    *, frozen: bool = True, eq: bool = True, slots: bool = True
) -> Callable[[type[_T]], type[_T]]: ...


@dataclass_transform(frozen_default=True, field_specifiers=(field, Field))
def record(
    cls: type[_T] | None = None, /, *, frozen: bool = True, eq: bool = True, slots: bool = True
) -> type[_T] | Callable[[type[_T]], type[_T]]:
    """Make ``cls`` a record: ``@dataclass(frozen=True, slots=True)`` unless told otherwise.

    ``@record(eq=False)`` keeps identity equality, ``@record(frozen=False)`` allows
    assignment, ``@record(slots=False)`` keeps the instance ``__dict__``.
    """

    def wrap(klass: type[_T]) -> type[_T]:
        return _build(klass, frozen=frozen, eq=eq, slots=slots)

    return wrap if cls is None else wrap(cls)


def _build(cls: type[_T], *, frozen: bool, eq: bool, slots: bool) -> type[_T]:
    """The class with its fields and methods; a method the class defines is kept, as
    ``dataclass`` keeps it (a frozen class may not define ``__setattr__``/``__delattr__``).

    With slots, the class is made again once, with every method in its body: setting a
    dozen special attributes on a made class costs about a third as much as making it.
    """
    own = dict(cls.__dict__)
    if frozen and ("__setattr__" in own or "__delattr__" in own):
        raise TypeError(f"record {cls.__qualname__} is frozen and defines __setattr__")
    found = _collect(cls)
    fields = tuple(found.values())
    _check(cls, fields)
    names = tuple(found)
    owner: list[type] = []  # the class made below, for the methods that need it
    added: dict[str, object] = {
        "__record_fields__": fields,
        "__dataclass_fields__": _DataclassFields(owner),
        "__dataclass_params__": _Params(eq=eq, frozen=frozen),
    }

    def add(name: str, value: object) -> None:
        if name not in own:
            added[name] = value

    add("__match_args__", names)
    post_init = hasattr(cls, "__post_init__")
    add("__init__", _lazy_init(owner, fields, frozen=frozen, post_init=post_init))
    add("__repr__", _repr(tuple(f.name for f in fields if f.repr)))
    if eq:
        add("__eq__", _eq(_values(tuple(f.name for f in fields if f.compare))))
        if own.get("__hash__") is None:
            if frozen:
                hashed = (f.name for f in fields if (f.compare if f.hash is None else f.hash))
                added["__hash__"] = _hash(_values(tuple(hashed)))
            else:
                added["__hash__"] = None  # compared by value and mutable: unhashable
    if frozen:
        added["__setattr__"] = _frozen_setattr(owner, frozenset(names))
        added["__delattr__"] = _frozen_delattr(owner, frozenset(names))
        if slots:
            add("__getstate__", _getstate(_values(names)))
            add("__setstate__", _setstate(names))
    if slots:
        built: Any = _with_slots(cls, own, found, added)
    else:
        built = _with_defaults(cls, found)
        for name, value in added.items():
            setattr(built, name, value)
    owner.append(built)
    result: type[_T] = built
    return result


def _with_slots(
    cls: type, own: dict[str, Any], found: dict[str, Field], added: dict[str, object]
) -> Any:
    """``cls`` (whose ``__dict__`` is ``own``) made again with ``__slots__`` for its
    fields and the ``added`` attributes, as ``dataclass`` makes it."""
    if "__slots__" in own:
        raise TypeError(f"{cls.__name__} already specifies __slots__")
    inherited: set[str] = set()
    for base in cls.__mro__[1:-1]:
        declared = base.__dict__.get("__slots__", ())
        inherited.update((declared,) if isinstance(declared, str) else declared)
    body = {k: v for k, v in own.items() if k not in found}
    body.pop("__dict__", None)
    body.pop("__weakref__", None)
    body.update(added)
    body["__slots__"] = tuple(n for n in found if n not in inherited)
    body["__qualname__"] = cls.__qualname__
    return type(cls)(cls.__name__, cls.__bases__, body)


def _with_defaults(cls: type, found: dict[str, Field]) -> type:
    """``cls`` with each field specifier replaced by its default, or removed."""
    specs = _spec_types()
    for name in _own_annotations(cls):
        if name in found and isinstance(cls.__dict__.get(name), specs):
            if found[name].default is MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, found[name].default)
    return cls


def _values(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """A function from an instance to the tuple of these fields' values."""
    if len(names) > 1:
        many: Callable[[Any], tuple[Any, ...]] = operator.attrgetter(*names)
        return many
    if names:
        one = operator.attrgetter(names[0])
        return lambda self: (one(self),)
    return lambda _self: ()


def _collect(cls: type) -> dict[str, Field]:
    """The fields of ``cls`` by name: its record bases' first, then its own annotations."""
    found: dict[str, Field] = {}
    for base in cls.__mro__[-1:0:-1]:
        inherited = base.__dict__.get("__record_fields__")
        if inherited is not None:
            found.update((f.name, f) for f in inherited)
        elif "__dataclass_fields__" in base.__dict__:
            raise TypeError(f"record {cls.__qualname__} cannot extend dataclass {base.__name__}")
    module = sys.modules.get(cls.__module__)
    namespace = vars(module) if module is not None else {}
    own = cls.__dict__
    annotations = _own_annotations(cls)
    specs = _spec_types()
    # Without typing loaded no ClassVar object exists that a name could alias, so a
    # string annotation that spells none of the special names is a plain field.
    typing_loaded = "typing" in sys.modules
    for name, annotation in annotations.items():
        if (
            typing_loaded
            or not isinstance(annotation, str)
            or "ClassVar" in annotation
            or "InitVar" in annotation
            or "KW_ONLY" in annotation
        ):
            special = _special(annotation, namespace)
            if special == "ClassVar":
                continue
            if special:
                raise TypeError(f"record {cls.__qualname__}: {special} {name!r} is not supported")
        found[name] = _field(name, annotation, own.get(name, MISSING), specs)
    for name, value in own.items():
        if isinstance(value, specs) and name not in annotations:
            raise TypeError(f"{name!r} is a field but has no type annotation")
    return found


def _own_annotations(cls: type) -> dict[str, object]:
    """The annotations written in ``cls`` itself, as ``dataclass`` reads them on 3.11."""
    # inspect.get_annotations would import inspect, the cost this module avoids.
    found: dict[str, object] = cls.__dict__.get("__annotations__", {})  # noqa: RUF063
    return found


def _special(annotation: object, namespace: dict[str, Any]) -> str | None:
    """Which of ClassVar, InitVar and KW_ONLY an annotation names (none: a plain field).

    A string annotation (``from __future__ import annotations``) is resolved in the
    class's module, as ``dataclass`` resolves it.
    """
    text = annotation if isinstance(annotation, str) else repr(annotation)
    head = text.partition("[")[0].strip()
    if isinstance(annotation, str):
        prefix, _, name = head.rpartition(".")
        target = getattr(namespace.get(prefix), name, None) if prefix else namespace.get(name)
    else:
        target = getattr(annotation, "__origin__", annotation)
    typing = sys.modules.get("typing")  # loaded wherever a ClassVar object exists
    if head in ("ClassVar", "typing.ClassVar") or (
        typing is not None and target is typing.ClassVar
    ):
        return "ClassVar"
    for special in ("InitVar", "KW_ONLY"):
        if special in text:
            return special
    return None


def _spec_types() -> tuple[type, ...]:
    """The types of field specifiers: ours, and ``dataclasses.Field`` once it is loaded."""
    dataclasses = sys.modules.get("dataclasses")
    return (Field,) if dataclasses is None else (Field, dataclasses.Field)


def _field(name: str, annotation: object, value: Any, specs: tuple[type, ...]) -> Field:
    """The field ``name`` of a class, from the value its class body gave it."""
    if not isinstance(value, specs):  # a plain default, or none
        made = Field(value, MISSING, True, True, None, name, annotation)
    elif isinstance(value, Field):
        made = Field(
            value.default,
            value.default_factory,
            value.repr,
            value.compare,
            value.hash,
            name,
            annotation,
        )
    else:  # dataclasses.field(...), as older code and tests write it
        spec: Any = value
        if not spec.init or spec.kw_only is True:
            raise TypeError(f"field {name!r} must be in __init__")
        unset = sys.modules["dataclasses"].MISSING
        made = Field(
            MISSING if spec.default is unset else spec.default,
            MISSING if spec.default_factory is unset else spec.default_factory,
            spec.repr,
            spec.compare,
            spec.hash,
            name,
            annotation,
        )
    if made.default is not MISSING and type(made.default).__hash__ is None:
        raise ValueError(
            f"mutable default {type(made.default)} for field {name} is not allowed: "
            "use default_factory"
        )
    return made


def _check(cls: type, fields: tuple[Field, ...]) -> None:
    """What ``dataclass`` would check while compiling ``__init__``, checked now."""
    defaulted = False
    for f in fields:
        has_default = f.default is not MISSING or f.default_factory is not MISSING
        if defaulted and not has_default:
            raise TypeError(f"non-default argument {f.name!r} follows default argument")
        defaulted = has_default


class _Params:
    """``__dataclass_params__``: what ``dataclasses`` reads of a base class."""

    __slots__ = ("eq", "frozen", "init", "order", "repr", "unsafe_hash")

    def __init__(self, *, eq: bool, frozen: bool) -> None:
        self.init = self.repr = True
        self.order = self.unsafe_hash = False
        self.eq = eq
        self.frozen = frozen


class _DataclassFields:
    """``__dataclass_fields__``, built with ``dataclasses`` the first time it is read.

    ``dataclasses.fields``, ``replace``, ``asdict`` and pydantic read it. The fields are
    declared again on a plain class that ``dataclass`` processes (compiling nothing), so
    that they are ``dataclasses.Field`` objects made by dataclass itself.
    """

    __slots__ = ("owner",)

    def __init__(self, owner: list[type]) -> None:
        self.owner = owner  # the record, once it is made

    def __get__(self, obj: object, objtype: type | None = None) -> dict[str, Any]:
        import dataclasses  # noqa: PLC0415 - start-up time: most runs never read this

        owner: Any = self.owner[0]
        namespace: dict[str, Any] = {
            "__module__": owner.__module__,
            "__qualname__": owner.__qualname__,
            "__doc__": owner.__doc__ or owner.__qualname__,  # else it runs inspect.signature
            "__annotations__": {f.name: f.type for f in owner.__record_fields__},
        }
        for f in owner.__record_fields__:
            options: dict[str, Any] = {"repr": f.repr, "compare": f.compare, "hash": f.hash}
            if f.default is not MISSING:
                options["default"] = f.default
            if f.default_factory is not MISSING:
                options["default_factory"] = f.default_factory
            namespace[f.name] = dataclasses.field(**options)
        shadow: Any = dataclasses.dataclass(init=False, repr=False, eq=False)(
            type(owner.__name__, (), namespace)
        )
        made: dict[str, Any] = shadow.__dataclass_fields__
        owner.__dataclass_fields__ = made
        return made


COMPILE_AFTER = 64
"""Instantiations of a record before its ``__init__`` is compiled; until then a generic
``__init__`` binds the arguments. The generic one costs about 1.7 us a call more than a
compiled one, and compiling costs about 0.12 ms, some 70 calls' difference: a class is
compiled once its generic calls have cost about as much as compiling would (so it never
pays more than twice the better choice), and a class built a few times never is."""


def _takes(fields: tuple[Field, ...]) -> str:
    """Python's own words for how many positional arguments ``__init__`` takes."""
    required = sum(f.default is MISSING and f.default_factory is MISSING for f in fields)
    if required == len(fields):
        return f"{len(fields) + 1} positional argument{'s' if fields else ''}"
    return f"from {required + 1} to {len(fields) + 1} positional arguments"


def _lazy_init(
    owner: list[type], fields: tuple[Field, ...], *, frozen: bool, post_init: bool
) -> Callable[..., None]:
    """The generic ``__init__`` of the record ``owner[0]``, which compiles the class's own."""
    names = tuple(f.name for f in fields)
    known = frozenset(names)
    defaults = tuple((f.name, f.default, f.default_factory) for f in fields)
    assign = object.__setattr__ if frozen else setattr
    calls = 0

    def lazy_init(self: Any, *args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls > COMPILE_AFTER:
            cls: Any = owner[0]
            init = _compile_init(cls, frozen=frozen)
            cls.__init__ = init
            init(self, *args, **kwargs)
            return
        given = len(args)
        if given > len(names):
            where = f"{owner[0].__qualname__}.__init__()"
            raise TypeError(f"{where} takes {_takes(fields)} but {given + 1} were given")
        if kwargs and (
            not kwargs.keys() <= known or (given and not kwargs.keys().isdisjoint(names[:given]))
        ):
            _bad_keywords(owner[0], names[:given], known, kwargs)
        for name, value in zip(names, args, strict=False):  # the first ``given`` fields
            assign(self, name, value)
        for name, default, factory in defaults[given:]:
            if name in kwargs:
                value = kwargs[name]
            elif default is not MISSING:
                value = default
            elif factory is not MISSING:
                value = factory()
            else:
                where = f"{owner[0].__qualname__}.__init__()"
                raise TypeError(f"{where} missing 1 required positional argument: {name!r}")
            assign(self, name, value)
        if post_init:
            self.__post_init__()

    return lazy_init


def _bad_keywords(
    cls: type, positional: tuple[str, ...], known: frozenset[str], kwargs: dict[str, Any]
) -> None:
    """Raise the ``TypeError`` Python raises for an unknown or repeated keyword."""
    where = f"{cls.__qualname__}.__init__()"
    for name in kwargs:
        if name not in known:
            raise TypeError(f"{where} got an unexpected keyword argument {name!r}")
    for name in positional:
        if name in kwargs:
            raise TypeError(f"{where} got multiple values for argument {name!r}")


def _compile_init(cls: Any, *, frozen: bool) -> Callable[..., None]:
    """The ``__init__`` that ``dataclass`` would write for ``cls``."""
    env: dict[str, Any] = {"__setattr": object.__setattr__, "__factory": _FACTORY}
    params = ["self"]
    body = []
    for f in cls.__record_fields__:
        name = f.name
        if f.default is not MISSING:
            env[f"__d_{name}"] = f.default
            params.append(f"{name}=__d_{name}")
        elif f.default_factory is not MISSING:
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


def _frozen(message: str) -> AttributeError:
    """``dataclasses.FrozenInstanceError``, which callers catch (imported only on error)."""
    from dataclasses import FrozenInstanceError  # noqa: PLC0415 - start-up time

    return FrozenInstanceError(message)


def _frozen_setattr(owner: list[type], names: frozenset[str]) -> Callable[[Any, str, Any], None]:
    def setattr_frozen(self: Any, name: str, value: Any) -> None:
        cls = owner[0]
        parent = super(cls, self)
        if type(self) is cls or name in names:
            raise _frozen(f"cannot assign to field {name!r}")
        parent.__setattr__(name, value)

    return setattr_frozen


def _frozen_delattr(owner: list[type], names: frozenset[str]) -> Callable[[Any, str], None]:
    def delattr_frozen(self: Any, name: str) -> None:
        cls = owner[0]
        parent = super(cls, self)
        if type(self) is cls or name in names:
            raise _frozen(f"cannot delete field {name!r}")
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
