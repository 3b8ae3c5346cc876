"""Workloads, computed by the simulation core from the spec's own field values.

The runs of a training or inference workload (see scenario.py for the contract: field values
in, quantities out by their registry names, every default and derived input computed here).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

from .algorithms import allreduce, fastest
from .collectives import hierarchical_allreduce, ring_allreduce, tree_allreduce
from .tiers import TierSpec, tiered_all_to_all, tiered_allreduce, tiered_reduce_scatter
from .exchanges import (in_network_reduce_scatter, pairwise_all_to_all, ring_all_to_all, ring_reduce_scatter,
                        two_level_all_to_all, two_level_reduce_scatter)
from .inference import serving_throughput
from .power import average_power, energy, gpu_max_slew, gpu_swing, site_step_segments
from .scenario import MAX_RING, TICKS, Cluster, ClusterSpec, OutOfReach, PoolSpec, floor_watts
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


class Inference(_Workload):
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


class Training(StepOscillation, StepStorage, PowerOfPools, _Workload):
    """A synchronous data-parallel step: compute, barrier, the exposed gradient exchange."""

    @cached_property
    def flops(self) -> Fraction:
        assert self.spec.batch is not None
        return self.flops_per_token * self.spec.batch

    @cached_property
    def comm_time(self) -> Fraction:
        return self._exchange()

    @cached_property
    def exchange_algorithm(self) -> str | None:
        """The algorithm `algorithm = auto` ran (the fastest for the message); None otherwise."""
        net = self.spec.cluster.network
        if net is None or net.topology != "switch" or (net.algorithm or "auto") != "auto" or self.comm_time == 0:
            return None
        return self._switched[0]

    @cached_property
    def _switched(self) -> tuple[str, Fraction]:
        """A switched network's all-reduce of one group's gradients: (the algorithm, its time)."""
        spec = self.spec
        net = spec.cluster.network
        assert net is not None
        n = sum(p.count for p in spec.cluster.pools) // spec.shards
        size = spec.grad_bytes * spec.params / spec.shards
        if (net.algorithm or "auto") != "auto":
            return net.algorithm, allreduce(net.algorithm, n, size, net.latency, net.bandwidth, net.radix).time
        name, run = fastest(n, size, net.latency, net.bandwidth, net.radix)
        return name, run.time

    @cached_property
    def reduce_scatter_time(self) -> Fraction:
        return self._collective("reduce_scatter")

    @cached_property
    def all_gather_time(self) -> Fraction:
        return self._collective("reduce_scatter")  # the same steps, copies where it adds

    @cached_property
    def all_to_all_time(self) -> Fraction:
        return self._collective("all_to_all")

    def _tiers(self, n: int) -> tuple[TierSpec, ...]:
        """A tiered network's tiers, the outermost (the network's own fields) joining all n."""
        net = self.spec.cluster.network
        assert net is not None
        if n % net.tiers[-1].size:
            raise OutOfReach(f"a group of {n} GPUs does not divide into groups of {net.tiers[-1].size}")
        return (*net.tiers, TierSpec(n, net.bandwidth, net.latency, net.efficiency or Fraction(1), net.oversubscription or Fraction(1)))

    def _collective(self, kind: str) -> Fraction:
        """A reduce-scatter or an all-to-all of one group's gradient bytes, stepped."""
        spec = self.spec
        net = spec.cluster.network
        if net is None:
            raise OutOfReach("no network")
        total = sum(p.count for p in spec.cluster.pools)
        if total % spec.shards:
            raise OutOfReach(f"{total} GPUs do not divide into {spec.shards} shards")
        n, size = total // spec.shards, spec.grad_bytes * spec.params / spec.shards
        if n == 1:
            return Fraction(0)
        if n > MAX_RING:
            raise OutOfReach(f"a collective of {n} steps is longer than the simulation steps through one by one (at most {MAX_RING})")
        domain = net.domain or 1
        if net.topology == "hierarchical" and n % domain:
            raise OutOfReach(f"a group of {n} GPUs does not divide into domains of {domain}")
        if net.topology == "tiers":
            run = tiered_all_to_all if kind == "all_to_all" else tiered_reduce_scatter
            return run(self._tiers(n), size).time
        if kind == "all_to_all":
            if net.topology == "ring":
                return ring_all_to_all(n, size, net.latency, net.bandwidth).time
            if net.topology == "hierarchical":
                return two_level_all_to_all(n, domain, size, net.domain_latency, net.domain_bandwidth, net.latency, net.bandwidth).time
            return pairwise_all_to_all(n, size, net.latency, net.bandwidth).time
        if net.topology == "hierarchical":
            return two_level_reduce_scatter(n, domain, size, net.domain_latency, net.domain_bandwidth, net.latency, net.bandwidth).time
        ring = ring_reduce_scatter(n, size, net.latency, net.bandwidth).time
        algorithm = net.algorithm or "auto"
        if net.topology == "switch" and net.radix is not None and algorithm in ("in_network", "auto"):
            nvls = in_network_reduce_scatter(n, size, net.latency, net.bandwidth, net.radix).time
            return nvls if algorithm == "in_network" else min(ring, nvls)
        return ring

    def _exchange(self) -> Fraction:
        spec = self.spec
        net = spec.cluster.network
        if net is None:
            raise OutOfReach("no network")
        total = sum(p.count for p in spec.cluster.pools)
        if total % spec.shards:
            raise OutOfReach(f"{total} GPUs do not divide into {spec.shards} shards")
        n = total // spec.shards  # GPUs per data-parallel group, one shard each
        size = spec.grad_bytes * spec.params / spec.shards  # the gradients of one shard
        if n == 1:
            return Fraction(0)
        domain = net.domain or 1
        longest = {"ring": n, "tree": 0, "switch": n, "tiers": n}.get(net.topology, max(domain, n // domain))
        if longest > MAX_RING:
            raise OutOfReach(f"a ring of {longest} GPUs is longer than the simulation steps through hop by hop (at most {MAX_RING})")
        if net.topology == "ring":
            return ring_allreduce(n, size, net.latency, net.bandwidth).time
        if net.topology == "tree":
            return tree_allreduce(n, size, net.latency, net.bandwidth).time
        if net.topology == "switch":
            return self._switched[1]
        if net.topology == "tiers":
            return tiered_allreduce(self._tiers(n), size).time
        if n % domain:
            raise OutOfReach(f"a group of {n} GPUs does not divide into domains of {domain}")
        assert net.domain_latency is not None and net.domain_bandwidth is not None
        return hierarchical_allreduce(n, domain, size, net.domain_latency, net.domain_bandwidth, net.latency, net.bandwidth).time

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
