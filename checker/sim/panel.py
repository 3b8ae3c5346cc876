"""A radiator block, computed by the simulation core from the spec's own field values (the
contract of scenario.py: nothing derived is handed in). Kept apart from the cluster so that a
spec of panels alone never loads the cluster's run."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from math import ceil as _ceil, floor as _floor

from .eclipse import GRID as ECLIPSE_GRID, eclipse_bounds, steady_bounds
from .radiator import absorbed_flux, area_for, radiated_power, temperature_for

__all__ = ["RadiatorSpec", "Radiator"]


@dataclass(frozen=True, slots=True)
class RadiatorSpec:
    heat: Fraction
    emissivity: Fraction
    temperature: Fraction | None  # exactly one of temperature and area
    area: Fraction | None
    sink: Fraction
    sides: int
    # the panel's environment and fin (spec/semantics.md); None: left out, the core's default
    absorptance: Fraction | None = None
    solar: Fraction | None = None
    sun_view: Fraction | None = None
    sunlit: Fraction | None = None
    albedo: Fraction | None = None
    earth_ir: Fraction | None = None
    earth_view: Fraction | None = None
    fin: Fraction | None = None
    # the eclipse transient (spec/semantics.md, "Eclipse transient"); None: left out
    heat_capacity: Fraction | None = None
    eclipse: Fraction | None = None
    eclipse_heat: Fraction | None = None


class Radiator:
    """area, temperature (by bisection when the area is given: `approximate`), flux, and what
    the panel absorbs and emits per square metre of one face."""

    def __init__(self, spec: RadiatorSpec) -> None:
        self.spec = spec
        self.approximate = spec.temperature is None

    @cached_property
    def area(self) -> Fraction:
        s = self.spec
        if s.area is not None:
            return s.area
        assert s.temperature is not None
        return area_for(s.heat, s.emissivity, s.temperature, s.sink, s.sides, self.absorbed, self.fin)

    @cached_property
    def temperature(self) -> Fraction:
        s = self.spec
        if s.temperature is not None:
            return s.temperature
        return temperature_for(s.heat, s.emissivity, self.area, s.sink, s.sides,
                               absorbed=self.absorbed, fin=self.fin)

    @cached_property
    def flux(self) -> Fraction:
        return self.spec.heat / self.area

    @cached_property
    def fin(self) -> Fraction:
        return Fraction(1) if self.spec.fin is None else self.spec.fin

    @cached_property
    def absorbed(self) -> Fraction:
        s = self.spec
        return absorbed_flux(s.emissivity, s.absorptance, s.solar, s.sun_view, s.sunlit,
                             s.albedo, s.earth_ir, s.earth_view)

    @cached_property
    def emitted(self) -> Fraction:
        """At a given temperature, Stefan-Boltzmann; at a given area, the steady-state balance
        (what it rejects plus what it absorbs), exact where the bisected temperature is not."""
        s = self.spec
        if s.temperature is None:
            return self.flux + self.absorbed
        return radiated_power(Fraction(1), s.emissivity, s.temperature, s.sink, s.sides, self.fin)

    @cached_property
    def eclipse_temperature(self) -> Fraction:
        """The upper end of the core's enclosure of the temperature at the eclipse's end
        (checker/sim/eclipse.py), from the steady state in the environment as given."""
        s = self.spec
        if s.heat_capacity is None or s.eclipse is None:
            raise ValueError("the eclipse transient needs heat_capacity and eclipse")
        k = radiated_power(Fraction(1), s.emissivity, Fraction(1), Fraction(0), s.sides, self.fin)
        if s.temperature is not None:
            scaled = s.temperature * ECLIPSE_GRID  # onto the grid, outward
            start = (Fraction(_floor(scaled), ECLIPSE_GRID), Fraction(_ceil(scaled), ECLIPSE_GRID))
        else:
            start = steady_bounds(k, k * s.sink**4 + self.flux + self.absorbed)
        dark = absorbed_flux(s.emissivity, s.absorptance, s.solar, s.sun_view, Fraction(0),
                             s.albedo, s.earth_ir, s.earth_view)
        heat = s.heat if s.eclipse_heat is None else s.eclipse_heat
        drive = k * s.sink**4 + heat / self.area + dark
        return eclipse_bounds(s.heat_capacity, k, drive, start, s.eclipse)[1]
