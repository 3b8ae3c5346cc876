"""The values `verify explain` shows: a quantity's closed form evaluated over the spec's ranges.

A quantity of constants simplifies to one exact rational. One that depends on ranges is given
as the lowest and highest values Z3's optimizer finds over the declared ranges (assumptions are
not applied here; `verify` itself proves the claims). When the optimizer cannot settle a side
within the time limit, that side is None: explain says so rather than guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import z3

from checker import model as m
from checker.encode import encode, variables_of


@dataclass(frozen=True)
class Value:
    low: Fraction | None
    high: Fraction | None
    unknowns: tuple[str, ...]  # the ranges it depends on
    uses: frozenset[tuple[str, ...]]  # the fields it is computed from


def _rational(term) -> Fraction | None:
    if z3.is_int_value(term):
        return Fraction(term.as_long())
    if z3.is_rational_value(term):
        return Fraction(term.numerator_as_long(), term.denominator_as_long())
    return None  # an irrational (algebraic) number, or a bound with infinitesimals: not shown


def evaluate(model: m.Model, path: tuple[str, ...], timeout_ms: int = 5000) -> Value:
    ctx = z3.Context()
    enc = encode(model, ctx)
    term = enc.quantity(path)
    uses = enc.uses.get(path, frozenset())
    names = sorted(variables_of([term], enc.definitions))
    if not names:
        value = _rational(z3.simplify(term))
        if value is not None:
            return Value(value, value, (), uses)
    ends: list[Fraction | None] = []
    for maximize in (False, True):
        opt = z3.Optimize(ctx=ctx)
        opt.set("timeout", timeout_ms)
        for _, constraint in enc.ranges():
            opt.add(constraint)
        for _, definition in enc.definitions:
            opt.add(definition)
        goal = z3.Real("__explained", ctx)
        opt.add(goal == term)
        handle = opt.maximize(goal) if maximize else opt.minimize(goal)
        found = None
        if opt.check() == z3.sat:
            bound = opt.upper(handle) if maximize else opt.lower(handle)
            found = _rational(z3.simplify(bound))
        ends.append(found)
    ids = {u.id for u in model.unknowns}
    return Value(ends[0], ends[1], tuple(n for n in names if n in ids), uses)
