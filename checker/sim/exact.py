"""Exact-arithmetic helpers shared by the simulation core.

The contract-bearing kernels of the core work on integers (CrossHair reasons about ``int``
well and about ``Fraction`` poorly), so the Fraction-level API puts the values a kernel
needs on one common denominator, calls the kernel on the numerators and divides back.
"""

from __future__ import annotations

from fractions import Fraction
from math import lcm
from numbers import Rational

__all__ = ["as_fraction", "common_denominator", "on_grid"]


def as_fraction(value: Rational | int, name: str = "value") -> Fraction:
    """Return ``value`` as a Fraction; floats (and anything inexact) are refused."""
    if isinstance(value, bool) or not isinstance(value, (int, Fraction, Rational)):
        raise TypeError(f"{name} must be an int or a Fraction, not {type(value).__name__}")
    return Fraction(value)


def common_denominator(values: tuple[Fraction, ...]) -> int:
    """The least common multiple of the denominators of ``values`` (1 for no values)."""
    return lcm(1, *(v.denominator for v in values))


def on_grid(value: Fraction, denominator: int) -> int:
    """The integer numerator of ``value`` over ``denominator`` (which must be a multiple of its own)."""
    scaled = value * denominator
    if scaled.denominator != 1:
        raise ValueError(f"{value} is not on the 1/{denominator} grid")
    return scaled.numerator
