"""A radiator panel in space: Stefan-Boltzmann emission, its inverse, and a warm-up replay.

In its environment the panel also absorbs sunlight, Earth's albedo and Earth's infrared
(`absorbed_flux`), and a fin efficiency scales what it emits; the balance per square metre of
one face is fin * sides * emissivity * sigma * (T^4 - sink^4) - absorbed = heat / area.

Everything is exact; the only root (the temperature that radiates a given heat) is found by
bisection on Fractions, and the transient keeps its state on a 1e-9 K grid, rounding each
step away from the equilibrium so that it never overshoots (the `toward` kernel).
"""

from __future__ import annotations

from fractions import Fraction
from math import floor

from .exact import as_fraction

__all__ = [
    "STEFAN_BOLTZMANN", "radiated_power", "area_for", "temperature_for", "transient",
    "toward", "GRID", "SOLAR", "ALBEDO", "EARTH_IR", "absorbed_flux",
]

STEFAN_BOLTZMANN = Fraction("5.670374419e-8")  # W m^-2 K^-4, exact (CODATA 2018)
GRID = 10**9  # the transient's state lives on multiples of 1/GRID kelvin
SOLAR = Fraction(1361)  # W/m^2, total solar irradiance at 1 AU (Kopp & Lean 2011)
ALBEDO = Fraction(3, 10)  # Earth's mean albedo (Gilmore, Spacecraft Thermal Control Handbook)
EARTH_IR = Fraction(237)  # W/m^2, Earth's mean outgoing infrared (same source)


def toward(x: int, num: int, den: int) -> int:
    """Round the exact next state num/den to an integer on x's side of it.

    The result lies between the current state x and num/den (both included) and within
    one grid step of num/den: rounding never carries the state past where it was heading.

    pre: den > 0
    post: (x * den <= __return__ * den <= num) or (num <= __return__ * den <= x * den)
    post: abs(__return__ * den - num) < den
    """
    if num >= x * den:
        return num // den
    return -((-num) // den)


def _check(emissivity: Fraction, sink: Fraction, sides: int) -> None:
    if not 0 < emissivity <= 1 or sink < 0 or sides not in (1, 2):
        raise ValueError("need 0 < emissivity <= 1, sink >= 0 and sides in (1, 2)")


def radiated_power(area: Fraction, emissivity: Fraction, temperature: Fraction,
                   sink: Fraction, sides: int, fin: Fraction = Fraction(1)) -> Fraction:
    """Net power (W) radiated by `sides` faces of `area` m^2 at `temperature` to `sink`, a
    fin efficiency `fin` of what an isothermal panel would radiate."""
    area, emissivity = as_fraction(area, "area"), as_fraction(emissivity, "emissivity")
    temperature, sink = as_fraction(temperature, "temperature"), as_fraction(sink, "sink")
    fin = as_fraction(fin, "fin")
    _check(emissivity, sink, sides)
    if area < 0 or temperature < 0 or not 0 < fin <= 1:
        raise ValueError("need area >= 0, temperature >= 0 and 0 < fin <= 1")
    return area * fin * emissivity * STEFAN_BOLTZMANN * sides * (temperature**4 - sink**4)


def absorbed_flux(emissivity: Fraction, absorptance: Fraction | None = None,
                  solar: Fraction | None = None, sun_view: Fraction | None = None,
                  sunlit: Fraction | None = None, albedo: Fraction | None = None,
                  earth_ir: Fraction | None = None, earth_view: Fraction | None = None) -> Fraction:
    """What the panel absorbs per square metre of one face (W/m^2), summed over its faces:
    sunlight on the face that sees the sun (absorptance * solar * sun_view), sunlight the Earth
    reflects (absorptance * solar * albedo * earth_view), both only while sunlit, and Earth's
    infrared (emissivity * earth_ir * earth_view, Kirchhoff: a grey surface absorbs infrared as
    it emits). A field left out takes its default (None); deep space absorbs exactly 0."""
    a = Fraction(0) if absorptance is None else as_fraction(absorptance, "absorptance")
    s = SOLAR if solar is None else as_fraction(solar, "solar")
    cos = Fraction(0) if sun_view is None else as_fraction(sun_view, "sun_view")
    lit = Fraction(1) if sunlit is None else as_fraction(sunlit, "sunlit")
    rho = ALBEDO if albedo is None else as_fraction(albedo, "albedo")
    ir = EARTH_IR if earth_ir is None else as_fraction(earth_ir, "earth_ir")
    view = Fraction(0) if earth_view is None else as_fraction(earth_view, "earth_view")
    if not all(0 <= x <= 1 for x in (a, cos, lit, rho, view)) or s < 0 or ir < 0:
        raise ValueError("need shares within [0, 1] and fluxes >= 0")
    sunlight = a * s * lit * cos
    reflected = a * s * lit * rho * view
    infrared = as_fraction(emissivity, "emissivity") * ir * view
    return sunlight + reflected + infrared


def area_for(heat: Fraction, emissivity: Fraction, temperature: Fraction, sink: Fraction,
             sides: int, absorbed: Fraction = Fraction(0), fin: Fraction = Fraction(1)) -> Fraction:
    """The area (m^2) that rejects `heat` W net of what it absorbs: linear, so heat / (net
    power of one square metre)."""
    net = (radiated_power(Fraction(1), emissivity, temperature, sink, sides, fin)
           - as_fraction(absorbed, "absorbed"))
    if net <= 0:
        raise ValueError("the radiator must emit more than it absorbs")
    return as_fraction(heat, "heat") / net


def _bracket(heat: Fraction, emissivity: Fraction, area: Fraction, sink: Fraction,
             sides: int) -> tuple[Fraction, Fraction]:
    """Integer temperatures lo < hi with power(lo) <= heat <= power(hi)."""
    lo = Fraction(floor(sink))
    width = Fraction(1)
    while radiated_power(area, emissivity, lo + width, sink, sides) < heat:
        width *= 2
    return lo, lo + width


def temperature_for(heat: Fraction, emissivity: Fraction, area: Fraction, sink: Fraction,
                    sides: int, rel_tol: Fraction = Fraction(1, 10**12),
                    absorbed: Fraction = Fraction(0), fin: Fraction = Fraction(1)) -> Fraction:
    """The temperature (K, above the sink) at which the panel radiates `heat` plus what its
    area absorbs, to rel_tol.

    Bisection on dyadic midpoints of an integer bracket, so denominators stay powers of 2.
    Post: |radiated_power(result) - (heat + absorbed * area)| <= rel_tol * (heat + absorbed * area).
    """
    heat, area = as_fraction(heat, "heat"), as_fraction(area, "area")
    rel_tol, absorbed = as_fraction(rel_tol, "rel_tol"), as_fraction(absorbed, "absorbed")
    if heat <= 0 or area <= 0 or absorbed < 0 or not 0 < rel_tol < 1:
        raise ValueError("need heat > 0, area > 0, absorbed >= 0 and 0 < rel_tol < 1")
    heat = heat + absorbed * area  # in steady state the panel radiates both
    emissivity = as_fraction(emissivity, "emissivity") * as_fraction(fin, "fin")
    lo, hi = _bracket(heat, emissivity, area, sink, sides)
    while True:
        mid = (lo + hi) / 2
        power = radiated_power(area, emissivity, mid, sink, sides)
        if abs(power - heat) <= rel_tol * heat:
            return mid
        lo, hi = (mid, hi) if power < heat else (lo, mid)


def transient(heat: Fraction, emissivity: Fraction, area: Fraction, sink: Fraction,
              sides: int, capacity: Fraction, start: Fraction, dt: Fraction,
              steps: int) -> tuple[Fraction, ...]:
    """Explicit Euler on C dT/dt = heat - radiated_power(T): the state after each step.

    Precondition (checked): dt * 4 * k * T_max^3 <= C with k = area*emissivity*sigma*sides
    and T_max the hotter of start and the equilibrium, so each exact step lands between the
    state and the equilibrium; each state is then rounded onto the 1e-9 K grid on the side
    it came from, so the approach is monotone and never overshoots.
    """
    heat, area = as_fraction(heat, "heat"), as_fraction(area, "area")
    capacity, start, dt = (as_fraction(capacity, "capacity"), as_fraction(start, "start"),
                           as_fraction(dt, "dt"))
    if heat < 0 or area <= 0 or capacity <= 0 or dt <= 0 or steps < 0 or start < 0:
        raise ValueError("need heat >= 0, area > 0, capacity > 0, dt > 0, steps >= 0, start >= 0")
    emissivity, sink = as_fraction(emissivity, "emissivity"), as_fraction(sink, "sink")
    k = radiated_power(area, emissivity, Fraction(1), Fraction(0), sides)  # W / K^4
    lo, hi = _bracket(heat, emissivity, area, sink, sides)
    while hi - lo > 1:  # a bound within 1 K above the equilibrium is tight enough here
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if radiated_power(area, emissivity, mid, sink, sides) < heat else (lo, mid)
    hottest = max(start, hi)
    if dt * 4 * k * hottest**3 > capacity:
        raise ValueError("dt too large for a stable, monotone explicit step")
    state = floor(start * GRID)
    if state != start * GRID:
        raise ValueError("start must lie on the 1e-9 K grid")
    states = []
    for _ in range(steps):
        t = Fraction(state, GRID)
        exact = t + dt / capacity * (heat - radiated_power(area, emissivity, t, sink, sides))
        scaled = exact * GRID
        state = toward(state, scaled.numerator, scaled.denominator)
        states.append(Fraction(state, GRID))
    return tuple(states)
