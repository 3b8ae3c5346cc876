"""A training workload's collectives over its data-parallel group, stepped by the core.

The gradient all-reduce on every kind of network (ring, tree, two levels, a switched network
running NCCL's algorithms, tiers) and the other collectives of as many bytes (reduce-scatter,
all-gather, all-to-all). A mixin of jobs.Training: it reads only `self.spec`, the workload's
field values (spec/semantics.md, "Gradient exchange" and "Other collectives").
"""

from __future__ import annotations

from fractions import Fraction
from functools import cached_property

from .algorithms import allreduce, fastest
from .collectives import hierarchical_allreduce, ring_allreduce, tree_allreduce
from .exchanges import (in_network_reduce_scatter, pairwise_all_to_all, ring_all_to_all, ring_reduce_scatter,
                        two_level_all_to_all, two_level_reduce_scatter)
from .scenario import MAX_RING, OutOfReach
from .tiers import TierSpec, tiered_all_to_all, tiered_allreduce, tiered_reduce_scatter

__all__ = ["Exchanges"]


class Exchanges:
    """The collectives of a workload whose `spec` has a cluster, shards, params and grad_bytes."""

    spec: object

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
