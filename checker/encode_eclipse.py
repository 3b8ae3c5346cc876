"""Closed form of a radiator's eclipse transient (spec/semantics.md, "Eclipse transient").

Per square metre of panel, c dT/dt = P - k T^4 from the steady state T0, with P what the
panel takes in during the eclipse (the sink, its heat, Earth's infrared). The excess emission
E = k T^4 - P decays as dE/dt = -g(E) E with g(E) = 4 k^(1/4) (P + E)^(3/4) / c, concave in E,
so g lies under its tangent at any point: g(E) <= α + β E with, at the temperature r,

    α = (k r^4 + 3 P) / (c r),   β = 3 / (c r)      (any r > 0)

and E is never below the solution of E' = -α E - β E², E0 α x / (α + β E0 (1 - x)) with
x = e^(-α t), which rises with E0 and with x; x is bounded below by (1 - z + z²/2 - z³/6)^(2^j),
z = α t / 2^j (a Taylor sum of e^(-z) that ends on a negative term lies under it; 0 past z = 1).
The eclipse is cut into phases, each with its own tangent, each from the last one's bound of E
(a lower start stays lower). Then T(D)^4 >= F = (P + E_n) / k, and for any s > 0,
T(D) >= 4 s F / (3 F + s^4) (AM-GM), so no root and no auxiliary variable is needed.

Any positive tangent points r and s keep the bound sound; they are placed in floating point
where they make it tight (the temperature along the path at the middle of every range).
"""

from __future__ import annotations

from fractions import Fraction

import z3

from checker import model as m, registry
from checker.encode import ALBEDO, EARTH_IR, SIGMA, SOLAR, Encoding, EncodingError, _in_space, _or, _per_area, symbolic

PHASES = 16  # the eclipse in equal phases, each with its own tangent and x = (e^(-y/16))^16
RANGED_PHASES = 4  # with a range on the panel: fewer phases and x = e^(-y) bounded directly, so
# the terms the solver reasons over keep a low degree (and their values a few hundred digits)


def _ranged(r: m.Radiator) -> bool:
    """Some field of the panel is a range."""
    return any(isinstance(getattr(r, f.name, None), m.Param) and not isinstance(getattr(r, f.name).value, Fraction)
               for f in registry.RADIATOR)


def _sunlight(e: Encoding, r: m.Radiator) -> z3.ArithRef:
    """What the eclipse takes away: α · S · sunlit · (sun_view + albedo · earth_view)."""
    if _in_space(r):
        return e.val(0)
    alpha, solar = _or(e, r.absorptance, Fraction(0)), _or(e, r.solar, SOLAR)
    lit, view = _or(e, r.sunlit, Fraction(1)), _or(e, r.earth_view, Fraction(0))
    return alpha * solar * lit * (_or(e, r.sun_view, Fraction(0)) + _or(e, r.albedo, ALBEDO) * view)


def _infrared(e: Encoding, r: m.Radiator) -> z3.ArithRef:
    """What the panel still absorbs in the eclipse: ε · earth_ir · earth_view."""
    if _in_space(r):
        return e.val(0)
    return e.param(r.emissivity) * _or(e, r.earth_ir, EARTH_IR) * _or(e, r.earth_view, Fraction(0))


def _middle(p: m.Param | None, default: Fraction) -> Fraction:
    """A field's value, or the middle of its range (only to place the tangent)."""
    if p is None:
        return default
    return p.value if isinstance(p.value, Fraction) else (p.value.low + p.value.high) / 2


def _hints(r: m.Radiator, phases: int) -> tuple[list[Fraction], Fraction]:
    """Where the tangents are taken: the panel's temperature at the end of each phase, and at
    the eclipse's end, at the middle of every range (to a relative 10^-9, at least 1 K). They
    are computed in floating point: any positive values keep the bound sound, and these make
    it tight."""
    mid = lambda p, d=Fraction(0): float(_middle(p, d))  # noqa: E731
    k = mid(r.emissivity) * float(SIGMA) * r.sides * mid(r.fin, Fraction(1))
    space = _in_space(r)
    sunlight = 0.0 if space else (mid(r.absorptance) * mid(r.solar, SOLAR) * mid(r.sunlit, Fraction(1))
                                  * (mid(r.sun_view) + mid(r.albedo, ALBEDO) * mid(r.earth_view)))
    infrared = 0.0 if space else mid(r.emissivity) * mid(r.earth_ir, EARTH_IR) * mid(r.earth_view)
    heat, sink = mid(r.heat), mid(r.sink)
    if r.area is not None:
        area = mid(r.area)
    else:
        net = k * (mid(r.temperature) ** 4 - sink**4) - sunlight - infrared
        area = heat / net if net > 0 else 1.0
    eclipse_heat = mid(r.eclipse_heat, _middle(r.heat, Fraction(0)))
    drive = k * sink**4 + eclipse_heat / area + infrared
    excess = (heat - eclipse_heat) / area + sunlight
    c, duration = mid(r.heat_capacity), mid(r.eclipse)

    def rate(t: float) -> float:
        return (drive - k * t**4) / c

    t = (drive + excess) / k
    t = start = t**0.25 if t > 0 else 1.0
    tangents = []
    h = duration / phases / 64
    for _ in range(phases):  # RK4, 64 steps a phase: only where the tangents go
        for _ in range(64):
            a = rate(t)
            b = rate(t + h / 2 * a)
            c2 = rate(t + h / 2 * b)
            d = rate(t + h * c2)
            t = max(1.0, t + h / 6 * (a + 2 * b + 2 * c2 + d))
        tangents.append(_rational(t))
    return tangents, _rational(t if excess >= 0 else start)  # warming: the bound is the start


def _rational(value: float) -> Fraction:
    """A float as a short rational, to a relative 10^-9."""
    return Fraction(value).limit_denominator(10**9 // max(1, int(value)) or 1) if value < 10**6 else Fraction(round(value))


def _floored(e: Encoding, term: z3.ArithRef, grid: int) -> z3.ArithRef:
    """A term that no range reaches, rounded down to a multiple of 1 / grid, so the solver
    compares short numbers, not the thousands of digits of x's sixteenth power; every term
    rounded here enters the bound increasingly, so rounding down keeps it a lower bound.
    A term a range reaches stays as it is."""
    folded = z3.simplify(term)
    if not z3.is_rational_value(folded):
        return term
    exact = Fraction(folded.numerator_as_long(), folded.denominator_as_long())
    return e.val(Fraction(exact.numerator * grid // exact.denominator, grid))


@symbolic("radiator", "eclipse_temperature")
def _eclipse_temperature(e: Encoding, r: m.Radiator, _pool) -> z3.ArithRef:
    if r.heat_capacity is None or r.eclipse is None:
        raise EncodingError("the eclipse transient needs heat_capacity and eclipse")
    k = _per_area(e, r)
    area = e.quantity((r.name, "area"))
    heat = e.param(r.heat)
    eclipse_heat = heat if r.eclipse_heat is None else e.param(r.eclipse_heat)
    drive = k * e.param(r.sink) ** 4 + eclipse_heat / area + _infrared(e, r)
    # E0 = k T0^4 - P: the steady state emits the sink's share, the heat and all it absorbs
    excess = (heat - eclipse_heat) / area + _sunlight(e, r)
    ranged = _ranged(r)
    phases, squarings = (RANGED_PHASES, 0) if ranged else (PHASES, 4)
    tangents, end = _hints(r, phases)
    c, phase = e.param(r.heat_capacity), e.param(r.eclipse) / phases
    decayed = excess
    for tangent in map(e.val, tangents):  # each phase from the last one's lower bound of E
        alpha = (k * tangent**4 + 3 * drive) / (c * tangent)
        beta = 3 / (c * tangent)
        y = alpha * phase
        z = y / 2**squarings
        x = 1 - z + z * z / 2 - z * z * z / 6
        for _ in range(squarings):
            x = x * x
        x = z3.If(z <= 1, x, e.val(0))
        decayed = _floored(e, alpha * decayed * x / (alpha + beta * decayed * (1 - x)), 10**9)
    end = e.val(end)
    # a panel that warms in the eclipse (more heat than in the sun) is bounded by its start
    fourth = _floored(e, z3.If(excess >= 0, drive + decayed, drive + excess) / k, 1)
    # the fourth root from below without a root: u >= 4 s u^4 / (3 u^4 + s^4) for any s > 0
    # (AM-GM: s u^3 <= (3 u^4 + s^4) / 4), equal at s = u; s is the bound's own value at the
    # middle of the ranges, so the claim stays a rational inequality with no auxiliary variable
    return 4 * end * fourth / (3 * fourth + end**4)
