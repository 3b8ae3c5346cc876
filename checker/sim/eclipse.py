"""A radiator panel through an eclipse: its own temperature, stepped through its heat capacity.

Lumped capacitance per square metre of panel (the `area`, one face):

    c dT/dt = drive - k T^4,   k = fin * emissivity * sigma * sides,
    drive   = k sink^4 + heat_in_eclipse / area + absorbed_in_eclipse

from the steady state T0 the panel holds in its environment as given. The rate f(T) = (drive -
k T^4) / c falls as T rises, so over a step on which a path cools (it stays between its two ends)
the rate at the step's start is the fastest and the rate at its end the slowest: explicit Euler
(rate at the start) never lands above the path from the same state and implicit Euler (rate at
the end) never below it. Warming swaps the two. Two paths are stepped: a lower one from below the
start and an upper one from above, each by the rule that bounds the solution from its own state;
solutions of this one-dimensional equation never cross, so the true path stays between them. The
states live on a grid of 1/GRID K, the lower path rounded down and the upper one up. Enough steps
are taken that h 4 k T^3 <= c (the explicit map then rises with T and the paths do not
oscillate). The core reports the upper path (the closed form is a lower bound of it).
Everything is exact integer arithmetic.
"""

from __future__ import annotations

from fractions import Fraction
from math import ceil

from .exact import as_fraction
from .radiator import STEFAN_BOLTZMANN

__all__ = ["GRID", "STEPS", "explicit_floor", "explicit_ceil", "least_reaching", "greatest_within",
           "eclipse_bounds", "steady_bounds"]

GRID = 10**6  # the eclipse's state lives on multiples of 1/GRID kelvin
STEPS = 2000  # steps through the eclipse at least; more when the explicit map needs them
MAX_STEPS = 200_000


def explicit_floor(y: int, a: int, b: int, d: int) -> int:
    """One explicit step in grid units, rounded down: floor((d y + b - a y^4) / d).

    pre: d > 0
    post: __return__ * d <= d * y + b - a * y**4 < (__return__ + 1) * d
    """
    return (d * y + b - a * y**4) // d


def explicit_ceil(y: int, a: int, b: int, d: int) -> int:
    """One explicit step in grid units, rounded up: ceil((d y + b - a y^4) / d).

    pre: d > 0
    post: (__return__ - 1) * d < d * y + b - a * y**4 <= __return__ * d
    """
    return -((a * y**4 - d * y - b) // d)


def least_reaching(lo: int, hi: int, a: int, b: int, d: int) -> int:
    """The least y in (lo, hi] with d y + a y^4 >= b: one implicit step rounded up.

    pre: d > 0 and a >= 0 and 0 <= lo < hi
    pre: d * lo + a * lo**4 < b <= d * hi + a * hi**4
    post: lo < __return__ <= hi
    post: d * __return__ + a * __return__**4 >= b
    post: d * (__return__ - 1) + a * (__return__ - 1)**4 < b
    """
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if d * mid + a * mid**4 >= b:
            hi = mid
        else:
            lo = mid
    return hi


def greatest_within(lo: int, hi: int, a: int, b: int, d: int) -> int:
    """The greatest y in [lo, hi) with d y + a y^4 <= b: one implicit step rounded down.

    pre: d > 0 and a >= 0 and 0 <= lo < hi
    pre: d * lo + a * lo**4 <= b < d * hi + a * hi**4
    post: lo <= __return__ < hi
    post: d * __return__ + a * __return__**4 <= b
    post: d * (__return__ + 1) + a * (__return__ + 1)**4 > b
    """
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if d * mid + a * mid**4 <= b:
            lo = mid
        else:
            hi = mid
    return lo


def _reach(y: int, a: int, b: int, d: int) -> int:
    """A grid point at or above y (and at least 1) where d y + a y^4 >= b, by doubling."""
    top = max(y, 1)
    while d * top + a * top**4 < b:
        top *= 2
    return top


def steady_bounds(k: Fraction, load: Fraction) -> tuple[Fraction, Fraction]:
    """Neighbouring grid points lo < hi with k lo^4 < load <= k hi^4 (for load > 0): the
    temperature at which the panel emits `load`, bracketed."""
    k, load = as_fraction(k, "k"), as_fraction(load, "load")
    if k <= 0 or load <= 0:
        raise ValueError("need k > 0 and load > 0")
    # k (y / G)^4 >= load  <=>  a y^4 >= b
    a, b = k.numerator * load.denominator, load.numerator * k.denominator * GRID**4
    high = _least_fourth(a, b)
    return Fraction(high - 1, GRID), Fraction(high, GRID)


def _least_fourth(a: int, b: int) -> int:
    """The least y >= 1 with a y^4 >= b (a, b > 0)."""
    low, high = 0, 1
    while a * high**4 < b:
        low, high = high, high * 2
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if a * mid**4 >= b else (mid, high)
    return high


def eclipse_bounds(capacity: Fraction, k: Fraction, drive: Fraction, start: tuple[Fraction, Fraction],
                   duration: Fraction, steps: int = STEPS) -> tuple[Fraction, Fraction]:
    """Lower and upper bounds of T(duration) for c dT/dt = drive - k T^4, T(0) within `start`.

    `start` is (low, high) on the grid; the result is too. Cooling (k T0^4 >= drive): the
    lower path is explicit, the upper implicit; warming: the other way round.
    """
    capacity, k, drive = as_fraction(capacity, "capacity"), as_fraction(k, "k"), as_fraction(drive, "drive")
    duration = as_fraction(duration, "duration")
    if capacity <= 0 or k <= 0 or drive < 0 or duration < 0 or not 0 <= start[0] <= start[1]:
        raise ValueError("need capacity > 0, k > 0, drive >= 0, duration >= 0 and 0 <= start")
    low, high = (int(x * GRID) for x in start)
    if Fraction(low, GRID) != start[0] or Fraction(high, GRID) != start[1]:
        raise ValueError("the start must lie on the grid")
    if duration == 0:
        return start
    hottest = start[1] if drive == 0 else max(start[1], steady_bounds(k, drive)[1])
    steps = max(steps, ceil(duration * 4 * k * hottest**3 / capacity))
    if steps > MAX_STEPS:
        raise ValueError("the eclipse needs more steps than the core takes")
    h = duration / steps
    # grid units: y' = y + (b - a y^4) / d with a / d = h k / (c G^3), b / d = h drive G / c
    ratio_a, ratio_b = h * k / (capacity * GRID**3), h * drive * GRID / capacity
    d = ratio_a.denominator * ratio_b.denominator
    a, b = ratio_a.numerator * ratio_b.denominator, ratio_b.numerator * ratio_a.denominator
    for _ in range(steps):
        # each path steps by the rule that bounds the solution from its own state (cooling above
        # the equilibrium, warming below it); the true path, between the two, never crosses them
        low = max(0, explicit_floor(low, a, b, d)) if a * low**4 >= b else _implicit_down(low, a, b, d)
        high = _implicit_up(high, a, b, d) if a * high**4 >= b else explicit_ceil(high, a, b, d)
    return Fraction(low, GRID), Fraction(high, GRID)


def _implicit_up(y: int, a: int, b: int, d: int) -> int:
    """The least grid point z with d z + a z^4 >= d y + b: the implicit step from y, rounded up."""
    target = d * y + b
    if target <= 0:
        return 0
    return least_reaching(0, _reach(y, a, target, d), a, target, d)


def _implicit_down(y: int, a: int, b: int, d: int) -> int:
    """The greatest grid point z with d z + a z^4 <= d y + b: the implicit step from y, rounded down."""
    target = d * y + b
    return greatest_within(0, _reach(y, a, target + 1, d), a, target, d)
