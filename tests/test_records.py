"""checker.records builds frozen slotted classes as dataclasses(frozen=True, slots=True) would.

Each record class of the checker is rebuilt from its own source by the real dataclass decorator
and the two are compared: fields and their defaults, construction (positional and keyword, with
defaults), equality, hashing, repr, dataclasses.replace, pickling, copying, and refused
assignment and deletion. Hypothesis draws the field values."""

from __future__ import annotations

import ast
import copy
import dataclasses
import inspect
import pickle
import textwrap
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from checker import records

CHECKER = Path(__file__).resolve().parent.parent / "checker"


def _record_classes() -> list[tuple[str, str]]:
    """(module, class name) of every class decorated with @record in the checker."""
    found = []
    for path in sorted(CHECKER.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(isinstance(d, ast.Name) and d.id == "record" for d in node.decorator_list):
                found.append((f"checker.{path.stem}", node.name))
    return found


RECORDS = _record_classes()


def test_the_checker_has_its_records_built_here():
    assert len(RECORDS) >= 50  # model, nodes, verdicts, ...: a rename of the decorator would empty this
    assert not [p.name for p in (CHECKER / "sim").glob("*.py") if "checker.records" in p.read_text(encoding="utf-8")]  # the core stays on the standard library


def _twin(cls: type) -> type:
    """The same class body, decorated by dataclasses itself, in the class's own module scope."""
    module = inspect.getmodule(cls)
    source = textwrap.dedent(inspect.getsource(cls)).replace("@record\n", "@dataclasses.dataclass(frozen=True, slots=True)\n", 1)
    scope = dict(vars(module))
    scope["dataclasses"] = dataclasses
    exec(compile(source, f"<twin of {cls.__qualname__}>", "exec"), scope)  # noqa: S102 - our own source
    return scope[cls.__name__]


def _import(module: str, name: str) -> type:
    return getattr(__import__(module, fromlist=[name]), name)


VALUES = st.one_of(st.integers(-5, 5), st.fractions(max_denominator=7), st.text(max_size=3), st.none(), st.tuples(st.integers(0, 3), st.text(max_size=2)), st.booleans())


@pytest.mark.parametrize(("module", "name"), RECORDS, ids=[f"{m[8:]}.{n}" for m, n in RECORDS])
def test_a_record_behaves_as_its_dataclass_twin(module, name):
    ours = _import(module, name)
    twin = _twin(ours)
    assert dataclasses.is_dataclass(ours)
    assert [(f.name, f.type, f.default) for f in dataclasses.fields(ours)] == [(f.name, f.type, f.default) for f in dataclasses.fields(twin)]
    assert ours.__match_args__ == twin.__match_args__ and ours.__slots__ == twin.__slots__
    assert ours.__dataclass_params__.frozen and ours.__dataclass_params__.eq
    assert str(inspect.signature(ours)) == str(inspect.signature(twin))
    names = [f.name for f in dataclasses.fields(ours)]
    required = [f.name for f in dataclasses.fields(ours) if f.default is dataclasses.MISSING]
    if "__post_init__" in vars(ours):
        return  # its values are checked by its own __post_init__: the instances are compared in test_post_init_runs

    @settings(max_examples=15, deadline=None, database=None)
    @given(st.lists(VALUES, min_size=len(names), max_size=len(names)), st.lists(VALUES, min_size=len(names), max_size=len(names)))
    def compare(first, second):
        a, b = ours(*first), ours(**dict(zip(names, second)))
        ta, tb = twin(*first), twin(**dict(zip(names, second)))
        assert repr(a) == repr(ta)
        assert (a == b) == (ta == tb) and (a != b) == (ta != tb)
        if _hashable(first):
            assert hash(a) == hash(ours(*first)) and hash(ta) == hash(a)  # the same tuple is hashed
        assert (a == ta) is False and a.__eq__(ta) is NotImplemented  # another class is never equal
        again = pickle.loads(pickle.dumps(a))
        assert again == a and type(again) is ours
        assert copy.copy(a) == a and copy.deepcopy(a) == a
        changed = dataclasses.replace(a, **{names[0]: second[0]})
        assert changed == ours(second[0], *first[1:])
        for field in names:
            with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field"):
                setattr(a, field, 1)
            with pytest.raises(dataclasses.FrozenInstanceError, match="cannot delete field"):
                delattr(a, field)
        with pytest.raises((AttributeError, TypeError)):
            a.not_a_field = 1

    if names:
        compare()
        defaults = ours(*[0] * len(required))
        assert [getattr(defaults, n) for n in names] == [getattr(twin(*[0] * len(required)), n) for n in names]


def _hashable(values) -> bool:
    try:
        hash(tuple(values))
        return True
    except TypeError:
        return False


def test_post_init_runs():
    from checker import codes
    from checker.diagnostics import Diagnostic, Span

    span = Span("a.spec", 1, 2, 1, 3)
    made = Diagnostic(span, "error", codes.INTERNAL, "m")
    assert made == Diagnostic(span, "error", codes.INTERNAL, "m", ()) and made.notes == ()
    with pytest.raises(TypeError, match="must be one of checker.codes"):
        Diagnostic(span, "error", "not-a-code", "m")
    with pytest.raises(ValueError, match="unknown severity"):
        Diagnostic(span, "loud", codes.INTERNAL, "m")


@pytest.mark.parametrize(
    "body",
    [
        "class C:\n    x: list = []\n",  # a mutable default: dataclasses raises its own error
        "class C:\n    x: int = 1\n    y: int\n",  # a field without a default after one with
        "class C:\n    x: 'ClassVar[int]' = 1\n",
        "class C:\n    x: int = dataclasses.field(default=2)\n",
        "class C:\n    x: int\n    def __eq__(self, other):\n        return True\n",
        "class B:\n    pass\nclass C(B):\n    x: int\n",
    ],
)
def test_what_it_does_not_build_the_same_way_goes_to_dataclasses(body):
    scope = {"dataclasses": dataclasses}
    exec(body, scope)  # noqa: S102
    try:
        expected = dataclasses.dataclass(frozen=True, slots=True)(scope["C"])
    except (ValueError, TypeError) as exc:
        with pytest.raises(type(exc), match=str(exc)[:20]):
            records.record(scope["C"])
        return
    exec(body, scope)  # noqa: S102 - a fresh class: the decorator may have used the first
    built = records.record(scope["C"])
    assert [f.name for f in dataclasses.fields(built)] == [f.name for f in dataclasses.fields(expected)]
    assert "__dataclass_params__" in vars(built) and vars(built)["__dataclass_params__"] is not records._PARAMS


def test_init_is_compiled_once_per_number_of_fields():
    """Not a timing assertion: the count of compiled functions is what the speed rests on. Two
    classes of 23 fields (a count no record of the checker has) compile one __init__ between
    them; each has its own parameter names, defaults and attributes."""
    import builtins

    compiled = []
    original = builtins.compile

    def counting(source, filename, mode, *args, **kwargs):
        compiled.append(filename)
        return original(source, filename, mode, *args, **kwargs)

    def body(prefix: str) -> str:
        return "class C:\n" + "".join(f"    {prefix}{i}: int\n" for i in range(22)) + f"    {prefix}_last: Fraction = Fraction(1, 3)\n"

    builtins.compile = counting
    try:
        built = []
        for prefix in ("a", "b"):
            scope: dict = {}
            exec(body(prefix), {"Fraction": Fraction}, scope)  # noqa: S102
            built.append(records.record(scope["C"]))
    finally:
        builtins.compile = original
    assert compiled.count("<record 23 fields>") == 1 and len([c for c in compiled if c.startswith("<record")]) == 1
    first, second = built
    assert str(inspect.signature(first)).startswith("(a0: 'int', a1: 'int'") and "a_last: 'Fraction' = Fraction(1, 3)" in str(inspect.signature(first))
    made = second(*range(22))
    assert made.b21 == 21 and made.b_last == Fraction(1, 3) and made == second(*range(22), Fraction(1, 3))
    with pytest.raises(TypeError):
        second(*range(21))  # a field without a default is missing
    assert first(*range(22), a_last=5).a_last == 5
