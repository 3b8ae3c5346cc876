"""Whole blocks, computed by the simulation core from the spec's own field values.

The replay hands this module nothing but what a spec writes (counts, peaks, powers, a
topology's name, a floor in watts or as a share of tdp, a missing `flops_per_token`…) at one
point of the unknowns, and reads back a quantity by its registry name: ``run.mfu``,
``run.pool_time["hopper"]``, ``site.draw``. Every default, every derived input (the power a
GPU drops to while it waits, a data-parallel group's size, the bytes it exchanges) and every
quantity is computed here, by stepping the core's own kernels; none is handed in. Properties
are computed on first use, so a claim about the swing never steps a 100 000-GPU ring.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from math import ceil as _ceil, floor as _floor

from .eclipse import GRID as ECLIPSE_GRID, eclipse_bounds, steady_bounds
from .radiator import absorbed_flux, area_for, radiated_power, temperature_for

__all__ = ["OutOfReach", "MAX_RING", "TICKS", "RadiatorSpec", "Radiator", "GpuSpec", "PoolSpec",
           "NetworkSpec", "PowerSpec", "ClusterSpec", "Cluster", "floor_watts"]

MAX_RING = 1_000_000  # GPUs in a ring the core steps through hop by hop
TICKS = 64  # controller ticks per power transition


class OutOfReach(Exception):
    """A point the core does not step through (a ring longer than MAX_RING, a group that is not
    a whole number of GPUs): the replay reports it as not replayed, never as confirmed."""


# --- radiator ------------------------------------------------------------------------------

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


# --- cluster -------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class GpuSpec:
    peak: Fraction
    memory: Fraction
    tdp: Fraction
    idle: Fraction
    floor: Fraction  # W, or a share of tdp when floor_is_share
    floor_is_share: bool
    ramp: Fraction | None  # W/s; None: no slew limit
    ramp_up: Fraction | None = None  # W/s; None: ramp
    ramp_down: Fraction | None = None  # W/s; None: ramp
    hysteresis: Fraction | None = None  # s; None: 0


@dataclass(frozen=True, slots=True)
class PoolSpec:
    name: str
    count: int
    gpu: GpuSpec


@dataclass(frozen=True, slots=True)
class NetworkSpec:
    topology: str
    bandwidth: Fraction
    latency: Fraction
    domain: int | None
    domain_bandwidth: Fraction | None
    domain_latency: Fraction | None
    algorithm: str | None = None  # topology switch: ring, double_tree, halving_doubling, in_network, auto
    radix: int | None = None  # switch ports facing the GPUs when the switches reduce
    efficiency: Fraction | None = None  # topology tiers: the outermost tier's share of bandwidth
    oversubscription: Fraction | None = None  # topology tiers: the outermost tier's
    tiers: tuple = ()  # topology tiers: the inner tiers (tiers.TierSpec), innermost first
    dims: tuple[int, ...] = ()  # topology torus: chips along each dimension, x first
    dimensions: str | None = None  # topology torus: in_turn or at_once
    slice: Fraction | None = None  # slice = any: the number of the slice (the core lists them itself)
    cube: int | None = None  # slice = any: each extent a multiple of it
    extent: int | None = None  # slice = any: each extent at most it


@dataclass(frozen=True, slots=True)
class PowerSpec:
    pue: Fraction
    overhead: Fraction
    transition: Fraction
    rack: int | None = None  # GPUs per rack; None: no per-rack power
    rack_power: Fraction | None = None
    node: int | None = None  # GPUs per node; None: no per-node power
    node_power: Fraction | None = None
    cooling: Fraction | None = None  # None: cooling is in the PUE
    storage: Fraction | None = None  # J; None: no storage
    storage_power: Fraction | None = None  # W, charge and discharge
    start_stages: int | None = None  # a job starts and ends in this many stages; None: one
    start_time: Fraction | None = None  # s over which the stages start; None: 0
    band_low: Fraction | None = None  # Hz: the grid's oscillation band; None: no band
    band_high: Fraction | None = None


@dataclass(frozen=True, slots=True)
class ClusterSpec:
    pools: tuple[PoolSpec, ...]
    network: NetworkSpec | None
    power: PowerSpec


def floor_watts(gpu: GpuSpec) -> Fraction:
    """The smoothing floor in watts: given in W, or as a share of the GPU's tdp."""
    return gpu.floor * gpu.tdp if gpu.floor_is_share else gpu.floor


class Cluster:
    def __init__(self, spec: ClusterSpec) -> None:
        self.spec = spec

    @cached_property
    def gpus(self) -> Fraction:
        return Fraction(sum(p.count for p in self.spec.pools))

    @cached_property
    def peak(self) -> Fraction:
        return sum((p.count * p.gpu.peak for p in self.spec.pools), Fraction(0))

    def _units(self, size: int | None) -> int:
        """How many racks (or nodes) of `size` GPUs each pool fills, the last one partly."""
        if size is None:
            return 0
        units = 0
        for pool in self.spec.pools:
            left = pool.count
            while left > 0:  # one unit at a time: a partly filled one still draws its power
                units, left = units + 1, left - size
        return units

    @cached_property
    def racks(self) -> Fraction:
        return Fraction(self._units(self.spec.power.rack))

    @cached_property
    def nodes(self) -> Fraction:
        return Fraction(self._units(self.spec.power.node))

    @cached_property
    def it(self) -> Fraction:
        """Every GPU at tdp plus host overhead, and each node's and rack's own power."""
        power = self.spec.power
        gpus = sum((pool.count * pool.gpu.tdp for pool in self.spec.pools), Fraction(0))
        it = gpus * (1 + power.overhead)
        if power.rack_power is not None:
            it += self.racks * power.rack_power
        if power.node_power is not None:
            it += self.nodes * power.node_power
        return it

    @cached_property
    def draw(self) -> Fraction:
        """The facility's peak: the IT power times the PUE, plus a cooling power if given."""
        power = self.spec.power
        cooling = Fraction(0) if power.cooling is None else power.cooling
        return self.it * power.pue + cooling
