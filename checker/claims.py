"""A claim's own arithmetic on exact values: what the user wrote around the quantities.

`p.area / 2 <= 500 m^2` divides a quantity the simulation core computed by two; that division is
the user's, not a formula of the model, so it lives here and not in the replay (which only
maps a point onto the core's inputs and reads its outputs). Plain Fractions, no solver.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Callable

from checker import model as m


class Undefined(Exception):
    """The claim divides by zero at this point: it has no value there."""


def evaluate(e: m.Expr, lookup: Callable[[tuple[str, ...]], Fraction]) -> Fraction:
    if isinstance(e, m.Lit):
        return e.value
    if isinstance(e, m.QRef):
        return lookup(e.path)
    if isinstance(e, m.Neg):
        return -evaluate(e.operand, lookup)
    if isinstance(e, m.Fn):
        values = [evaluate(a, lookup) for a in e.args]
        return max(values) if e.name == "max" else min(values)
    if isinstance(e, m.Op):
        left, right = evaluate(e.left, lookup), evaluate(e.right, lookup)
        if e.op == "/":
            if right == 0:
                raise Undefined("a division by zero")
            return left / right
        return {"+": left + right, "-": left - right, "*": left * right}[e.op]
    raise TypeError(f"not an expression: {type(e).__name__}")


def holds(left: Fraction, op: str, right: Fraction) -> bool:
    return {"<=": left <= right, "<": left < right, ">=": left >= right, ">": left > right, "==": left == right}[op]


def close(a: Fraction, b: Fraction, tolerance: Fraction) -> bool:
    """a and b agree to a relative tolerance (for values where one side is a bisection's)."""
    return abs(a - b) <= tolerance * max(abs(a), abs(b), Fraction(1, 10**30))


def _flip(d: str | None) -> str | None:
    return {"upper": "lower", "lower": "upper"}.get(d, d) if d is not None else None


def _combine(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return None
    if a == "exact":
        return b
    if b == "exact" or a == b:
        return a
    return None


def direction(e: m.Expr, bound_of: Callable[[tuple[str, ...]], str | None]) -> str | None:
    """How the encoder's value of an expression relates to the simulation's: "exact" (equal),
    "upper" (never below it), "lower" (never above it), or None (bounds meet from both sides,
    so nothing can be said). A quantity's own relation comes from its registry entry."""
    if isinstance(e, m.Lit):
        return "exact"
    if isinstance(e, m.QRef):
        return bound_of(e.path) or "exact"
    if isinstance(e, m.Neg):
        return _flip(direction(e.operand, bound_of))
    if isinstance(e, m.Fn):  # min and max are monotone in every argument
        found = "exact"
        for arg in e.args:
            found = _combine(found, direction(arg, bound_of))
        return found
    if isinstance(e, m.Op):
        left, right = direction(e.left, bound_of), direction(e.right, bound_of)
        if e.op == "+":
            return _combine(left, right)
        if e.op == "-":
            return _combine(left, _flip(right))
        if left == right == "exact":
            return "exact"
        if isinstance(e.right, m.Lit) and e.right.value != 0:  # x * c or x / c
            return left if e.right.value > 0 else _flip(left)
        if e.op == "*" and isinstance(e.left, m.Lit) and e.left.value != 0:
            return right if e.left.value > 0 else _flip(right)
        return None
    return None
