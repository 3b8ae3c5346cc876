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

__all__ = ["OutOfReach", "MAX_RING", "TICKS", "GpuSpec", "PoolSpec",
           "NetworkSpec", "PowerSpec", "ClusterSpec", "Cluster", "floor_watts"]  # a radiator: panel.py

MAX_RING = 1_000_000  # GPUs in a ring the core steps through hop by hop
TICKS = 64  # controller ticks per power transition


class OutOfReach(Exception):
    """A point the core does not step through (a ring longer than MAX_RING, a group that is not
    a whole number of GPUs): the replay reports it as not replayed, never as confirmed."""


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
