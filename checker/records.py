"""Frozen, slotted record classes, made several times faster than `dataclasses` makes them.

``@record`` gives a class what ``@dataclass(frozen=True, slots=True)`` gives it: an ``__init__``
taking the fields in order (with their defaults, then ``__post_init__``), ``__repr__``,
``__eq__`` and ``__hash__`` over the fields' tuple, assignment and deletion refused with
``dataclasses.FrozenInstanceError``, ``__slots__``, ``__match_args__``, pickling, and the
``__dataclass_fields__`` that ``dataclasses.fields``, ``replace`` and ``is_dataclass`` read.

Why: ``dataclasses`` compiles six small functions from source for every frozen class, and with
some ninety record classes that was most of a cold ``verify``'s own import time (about 1.3 ms a
class). Here ``__init__`` is compiled once per number of fields and renamed for each class,
and the other methods are closures over one ``operator.attrgetter``. tests/test_records.py holds every record
class of the checker to the behaviour of a real dataclass.

Anything this does not handle the same way (a base class, ``ClassVar`` or ``InitVar``
annotations, ``field()`` specifiers, mutable defaults, a dunder method written in the class
body, a Python whose ``dataclasses`` lacks the internals used below) is handed to
``dataclasses.dataclass(frozen=True, slots=True)`` itself. Two differences remain, both
cosmetic: no docstring is generated for a class without one, and ``__repr__`` has no guard
against a record that contains itself (a frozen record can only do so through a mutable value).
The simulation core (checker/sim/) keeps plain dataclasses: it imports the standard library only.
"""

from __future__ import annotations

import dataclasses
import operator
import types
from typing import Any, TypeVar

T = TypeVar("T")

_MISSING = dataclasses.MISSING
_OWN = frozenset({"__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__", "__getstate__", "__setstate__", "__slots__", "__match_args__"})
# One parameter object serves every record: what @dataclass(frozen=True, slots=True) records.
_PARAMS = dataclasses.dataclass(frozen=True, slots=True)(type("_Params", (), {})).__dataclass_params__
_USABLE = hasattr(dataclasses, "_FIELD") and hasattr(dataclasses.Field, "_field_type")


def record(cls: type[T]) -> type[T]:
    names = _plain_fields(cls) if _USABLE else None
    if names is None:
        return dataclasses.dataclass(frozen=True, slots=True)(cls)
    annotations = cls.__dict__.get("__annotations__", {})
    defaults = {n: cls.__dict__[n] for n in names if n in cls.__dict__}

    namespace = {k: v for k, v in cls.__dict__.items() if k not in defaults and k not in ("__dict__", "__weakref__")}
    namespace["__slots__"] = names
    namespace["__match_args__"] = names
    built: type = type(cls)(cls.__name__, cls.__bases__, namespace)
    built.__qualname__ = cls.__qualname__

    fields = {}
    for name in names:
        f = dataclasses.field(default=defaults.get(name, _MISSING))
        f.name, f.type, f._field_type = name, annotations[name], dataclasses._FIELD  # type: ignore[attr-defined]
        if getattr(f, "kw_only", None) is _MISSING:
            f.kw_only = False  # type: ignore[attr-defined]
        fields[name] = f
    built.__dataclass_fields__ = fields  # type: ignore[attr-defined]
    built.__dataclass_params__ = _PARAMS  # type: ignore[attr-defined]

    built.__init__ = _init(built, names, defaults, "__post_init__" in namespace)  # type: ignore[misc]
    built.__init__.__annotations__ = {**{n: annotations[n] for n in names}, "return": None}
    get = operator.attrgetter(*names) if names else (lambda self: ())
    values = get if len(names) != 1 else (lambda self: (getattr(self, names[0]),))

    def __repr__(self) -> str:
        return f"{self.__class__.__qualname__}(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in names) + ")"

    def __eq__(self, other: object) -> Any:
        if other.__class__ is self.__class__:
            return values(self) == values(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(values(self))

    def __setattr__(self, name: str, value: object) -> None:
        if type(self) is built or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
        super(built, self).__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        if type(self) is built or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
        super(built, self).__delattr__(name)

    def __getstate__(self) -> list:
        return [getattr(self, n) for n in names]

    def __setstate__(self, state: list) -> None:
        for name, value in zip(names, state):
            object.__setattr__(self, name, value)

    for method in (__repr__, __eq__, __hash__, __setattr__, __delattr__, __getstate__, __setstate__):
        method.__qualname__ = f"{cls.__qualname__}.{method.__name__}"
        setattr(built, method.__name__, method)
    return built  # type: ignore[return-value]


def _plain_fields(cls: type) -> tuple[str, ...] | None:
    """The field names, when the class is one this module builds exactly as dataclasses would."""
    if cls.__bases__ != (object,) or "__slots__" in cls.__dict__ or _OWN & set(cls.__dict__):
        return None
    annotations = cls.__dict__.get("__annotations__", {})
    seen_default = False
    for name, kind in annotations.items():
        text = kind if isinstance(kind, str) else getattr(kind, "__name__", "")
        if "ClassVar" in text or "InitVar" in text or text.startswith("dataclasses."):
            return None
        if name in cls.__dict__:
            default = cls.__dict__[name]
            if isinstance(default, dataclasses.Field) or type(default).__hash__ is None:
                return None  # a field() specifier or a mutable default: dataclasses decides
            seen_default = True
        elif seen_default:
            return None  # a field without a default after one with: dataclasses raises the error
    return tuple(annotations)


_TEMPLATES: dict[tuple[int, bool], Any] = {}  # (number of fields, __post_init__?) -> code
_PLACEHOLDER = "_record_field_{}"


def _init(cls: type, names: tuple[str, ...], defaults: dict[str, Any], post_init: bool):
    """__init__ with the fields as parameters. The code is compiled once per number of fields,
    with placeholder names; each record's __init__ is that code with its own field names put in
    (CodeType.replace: the parameters and the attribute names the body sets), and its defaults
    as the function's defaults. Where the code cannot be renamed, it is compiled for the class."""
    shape = (len(names), post_init)
    template = _TEMPLATES.get(shape)
    if template is None:
        template = _TEMPLATES[shape] = _compile([_PLACEHOLDER.format(i) for i in range(len(names))], post_init, f"<record {len(names)} fields>")
    rename = {_PLACEHOLDER.format(i): name for i, name in enumerate(names)}
    try:
        code = template.replace(
            co_varnames=tuple(rename.get(v, v) for v in template.co_varnames),
            co_consts=tuple(rename.get(c, c) if isinstance(c, str) else c for c in template.co_consts),
        )
    except (TypeError, ValueError):  # another interpreter's code objects: compile this one
        code = _compile(list(names), post_init, f"<record {cls.__qualname__}>")
    init = types.FunctionType(code, {"__set": object.__setattr__}, "__init__", tuple(defaults[n] for n in names if n in defaults) or None)
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    return init


def _compile(parameters: list[str], post_init: bool, filename: str):
    body = [f"    __set(self, {p!r}, {p})" for p in parameters]
    if post_init:
        body.append("    self.__post_init__()")
    source = "def __init__(" + ", ".join(["self", *parameters]) + "):\n" + ("\n".join(body) or "    pass") + "\n"
    module = compile(source, filename, "exec")  # our own placeholders or field names only
    return next(c for c in module.co_consts if isinstance(c, types.CodeType))
