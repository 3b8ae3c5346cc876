"""Workloads, computed by the simulation core from the spec's own field values.

The runs of a training or inference workload (see scenario.py for the contract: field values
in, quantities out by their registry names, every default and derived input computed here).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

from .exchange_job import Exchanges
from .inference import serving_throughput
from .lease import Leased, LeaseSpec
from .power import average_power, energy, gpu_max_slew, gpu_swing, site_step_segments
from .scenario import TICKS, Cluster, ClusterSpec, PoolSpec, floor_watts
from .smoothing import max_slews, wait_drop
from .storage import StepStorage
from .jobstart import StartEnd
from .oscillation import StepOscillation
from .training import Cohort, training_step

__all__ = ["WorkloadSpec", "Training", "Inference", "PowerOfPools"]


@dataclass(frozen=True, slots=True)
class WorkloadSpec:
    cluster: ClusterSpec
    params: Fraction
    batch: Fraction | None
    efficiency: Fraction
    balance: str
    jitter: tuple[Fraction, ...]  # one per pool
    shards: int
    overlap: Fraction
    grad_bytes: Fraction
    state_bytes: Fraction | None  # None: 16 B per parameter training, 2 B inference
    flops_per_token: Fraction | None  # None: 6 FLOP per parameter training, 2 inference
    lease: LeaseSpec | None = None  # prices, utilisation, electricity, capital (inference)


class _Workload:
    TRAINING = True

    def __init__(self, spec: WorkloadSpec) -> None:
        self.spec = spec
        self.cluster = Cluster(spec.cluster)

    @cached_property
    def flops_per_token(self) -> Fraction:
        """Kaplan et al.: a forward and backward pass costs 6 FLOP per parameter and token,
        a forward pass alone 2."""
        if self.spec.flops_per_token is not None:
            return self.spec.flops_per_token
        return (6 if self.TRAINING else 2) * self.spec.params

    @cached_property
    def state_bytes(self) -> Fraction:
        if self.spec.state_bytes is not None:
            return self.spec.state_bytes
        return Fraction(16 if self.TRAINING else 2)

    @cached_property
    def memory_per_gpu(self) -> Fraction:
        return self.state_bytes * self.spec.params / self.spec.shards

    def cohorts(self) -> tuple[Cohort, ...]:
        return tuple(Cohort(p.name, p.count, p.gpu.peak, j) for p, j in zip(self.spec.cluster.pools, self.spec.jitter))


class Inference(Leased, _Workload):
    """No barrier: every GPU serves on its own, so nothing swings in step."""

    TRAINING = False

    @cached_property
    def throughput(self) -> Fraction:
        return serving_throughput(self.cohorts(), self.spec.efficiency, self.flops_per_token)

    swing = ramp = floor_cost = Fraction(0)


class PowerOfPools(StartEnd):
    """A synchronous job's power: every GPU drops from tdp to max(idle, floor) at once between
    compute and communication (run through the smoothing controller tick by tick)."""

    def _levels(self, pool: PoolSpec) -> tuple[Fraction, Fraction, Fraction]:
        return pool.gpu.tdp, pool.gpu.idle, floor_watts(pool.gpu)

    @cached_property
    def swing(self) -> Fraction:
        return sum((p.count * gpu_swing(*self._levels(p)) for p in self.spec.cluster.pools), Fraction(0))

    @cached_property
    def ramp(self) -> Fraction:
        transition = self.spec.cluster.power.transition
        pools = self.spec.cluster.pools
        if all(p.gpu.ramp_up is None and p.gpu.ramp_down is None and p.gpu.hysteresis is None for p in pools):
            return sum((p.count * gpu_max_slew(*self._levels(p), p.gpu.ramp, transition, TICKS) for p in pools), Fraction(0))
        # every GPU falls at once, or every GPU rises at once: the faster of the two
        falls, rises = Fraction(0), Fraction(0)
        for p in pools:
            fall, rise = max_slews(*self._smoothing(p), transition, TICKS)
            falls, rises = falls + p.count * fall, rises + p.count * rise
        return max(falls, rises)

    def _smoothing(self, pool: PoolSpec):
        """(tdp, low, floor, up, down, hysteresis) of a pool's GPUs, the defaults filled in."""
        tdp, idle, floor = self._levels(pool)
        g = pool.gpu
        up = g.ramp if g.ramp_up is None else g.ramp_up
        down = g.ramp if g.ramp_down is None else g.ramp_down
        return tdp, max(idle, floor), floor, up, down, Fraction(0) if g.hysteresis is None else g.hysteresis

    @cached_property
    def floor_cost(self) -> Fraction:
        """Power the floor holds above idle while every GPU waits."""
        return sum((p.count * (max(p.gpu.idle, floor_watts(p.gpu)) - p.gpu.idle) for p in self.spec.cluster.pools), Fraction(0))


class Training(Exchanges, StepOscillation, StepStorage, PowerOfPools, _Workload):
    """A synchronous data-parallel step: compute, barrier, the exposed gradient exchange."""

    @cached_property
    def flops(self) -> Fraction:
        assert self.spec.batch is not None
        return self.flops_per_token * self.spec.batch

    @cached_property
    def _step(self):
        spec = self.spec
        return training_step(self.cohorts(), self.flops, spec.efficiency, spec.balance, self.comm_time, spec.overlap)

    @cached_property
    def compute_time(self) -> Fraction:
        return self._step.compute_time

    @cached_property
    def step_time(self) -> Fraction:
        return self._step.step_time

    @cached_property
    def step_swing(self) -> Fraction:
        """Each pool's GPUs drop through the controller for the rest of the step after their
        compute; the waits all end at the step's end, so the drops add up there."""
        total = Fraction(0)
        for p in self.spec.cluster.pools:
            tdp, low, floor, _, down, hysteresis = self._smoothing(p)
            wait = self.step_time - self.pool_time[p.name]
            total += p.count * wait_drop(tdp, low, floor, down, self.spec.cluster.power.transition, hysteresis, wait)
        return total

    @cached_property
    def pool_time(self) -> dict[str, Fraction]:
        return {p.name: t for p, t in zip(self.spec.cluster.pools, self._step.finish)}

    @cached_property
    def wait(self) -> dict[str, Fraction]:
        return {name: 1 - t / self.step_time for name, t in self.pool_time.items()}

    @cached_property
    def mfu(self) -> Fraction:
        """PaLM's model FLOPs utilisation: the model's FLOPs per second over the fleet's peak."""
        return self.flops / (self.step_time * self.cluster.peak)

    @cached_property
    def throughput(self) -> Fraction:
        assert self.spec.batch is not None
        return self.spec.batch / self.step_time

    @cached_property
    def _segments(self):
        pools = self.spec.cluster.pools
        entries = tuple((p.count, self.pool_time[p.name], p.gpu.tdp, max(p.gpu.idle, floor_watts(p.gpu))) for p in pools)
        return site_step_segments(entries, self.step_time)

    @cached_property
    def average_power(self) -> Fraction:
        return average_power(self._segments)

    @cached_property
    def energy_per_step(self) -> Fraction:
        return energy(self._segments)

    @cached_property
    def energy_per_token(self) -> Fraction:
        assert self.spec.batch is not None
        return self.energy_per_step / self.spec.batch
