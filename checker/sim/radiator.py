"""A radiator panel in space: Stefan-Boltzmann emission, its inverse, and a warm-up replay.

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
    "toward", "GRID",
]

STEFAN_BOLTZMANN = Fraction("5.670374419e-8")  # W m^-2 K^-4, exact (CODATA 2018)
GRID = 10**9  # the transient's state lives on multiples of 1/GRID kelvin


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
                   sink: Fraction, sides: int) -> Fraction:
    """Net power (W) radiated by `sides` faces of `area` m^2 at `temperature` to `sink`."""
    area, emissivity = as_fraction(area, "area"), as_fraction(emissivity, "emissivity")
    temperature, sink = as_fraction(temperature, "temperature"), as_fraction(sink, "sink")
    _check(emissivity, sink, sides)
    if area < 0 or temperature < 0:
        raise ValueError("need area >= 0 and temperature >= 0")
    return area * emissivity * STEFAN_BOLTZMANN * sides * (temperature**4 - sink**4)


def area_for(heat: Fraction, emissivity: Fraction, temperature: Fraction, sink: Fraction,
             sides: int) -> Fraction:
    """The area (m^2) that radiates `heat` W: linear, so heat / (power of one square metre)."""
    per_square_metre = radiated_power(Fraction(1), emissivity, temperature, sink, sides)
    if per_square_metre <= 0:
        raise ValueError("the radiator must be hotter than its sink")
    return as_fraction(heat, "heat") / per_square_metre


def _bracket(heat: Fraction, emissivity: Fraction, area: Fraction, sink: Fraction,
             sides: int) -> tuple[Fraction, Fraction]:
    """Integer temperatures lo < hi with power(lo) <= heat <= power(hi)."""
    lo = Fraction(floor(sink))
    width = Fraction(1)
    while radiated_power(area, emissivity, lo + width, sink, sides) < heat:
        width *= 2
    return lo, lo + width


def temperature_for(heat: Fraction, emissivity: Fraction, area: Fraction, sink: Fraction,
                    sides: int, rel_tol: Fraction = Fraction(1, 10**12)) -> Fraction:
    """The temperature (K, above the sink) at which the panel radiates `heat`, to rel_tol.

    Bisection on dyadic midpoints of an integer bracket, so denominators stay powers of 2.
    Post: |radiated_power(result) - heat| <= rel_tol * heat.
    """
    heat, area = as_fraction(heat, "heat"), as_fraction(area, "area")
    rel_tol = as_fraction(rel_tol, "rel_tol")
    if heat <= 0 or area <= 0 or not 0 < rel_tol < 1:
        raise ValueError("need heat > 0, area > 0 and 0 < rel_tol < 1")
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
