"""A training workload's collectives over its data-parallel group, stepped by the core.

The gradient all-reduce on every kind of network (ring, tree, two levels, a switched network
running NCCL's algorithms, tiers, a torus) and the other collectives of as many bytes (reduce-scatter,
all-gather, all-to-all). A mixin of jobs.Training: it reads only `self.spec`, the workload's
field values (spec/semantics.md, "Gradient exchange" and "Other collectives").
"""

from __future__ import annotations

from fractions import Fraction
from functools import cached_property

from .algorithms import allreduce, fastest
from .groups import group_all_reduce, group_collective
from .scenario import MAX_RING, OutOfReach
from .torus import torus_slice

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

    @cached_property
    def slice_shape(self) -> tuple[int, int, int] | None:
        """slice = any: the slice its number names (the core lists the slices itself); else None."""
        net = self.spec.cluster.network
        return None if net is None or net.slice is None else torus_slice(net, sum(p.count for p in self.spec.cluster.pools))

    def _group(self):
        """The network, the GPUs of one data-parallel group (one shard each) and the bytes of one
        shard's gradients."""
        spec = self.spec
        net = spec.cluster.network
        if net is None:
            raise OutOfReach("no network")
        total = sum(p.count for p in spec.cluster.pools)
        if total % spec.shards:
            raise OutOfReach(f"{total} GPUs do not divide into {spec.shards} shards")
        return net, total // spec.shards, spec.grad_bytes * spec.params / spec.shards

    def _collective(self, kind: str) -> Fraction:
        """A reduce-scatter or an all-to-all of one group's gradient bytes, stepped."""
        net, n, size = self._group()
        if n == 1:
            return Fraction(0)
        if n > MAX_RING:
            raise OutOfReach(f"a collective of {n} steps is longer than the simulation steps through one by one (at most {MAX_RING})")
        return group_collective(kind, net, n, size, self.slice_shape or net.dims)

    def _exchange(self) -> Fraction:
        net, n, size = self._group()
        if n == 1:
            return Fraction(0)
        domain = net.domain or 1
        longest = {"ring": n, "tree": 0, "switch": n, "tiers": n, "torus": n}.get(net.topology, max(domain, n // domain))
        if longest > MAX_RING:
            raise OutOfReach(f"a ring of {longest} GPUs is longer than the simulation steps through hop by hop (at most {MAX_RING})")
        return group_all_reduce(net, n, size, self.slice_shape or net.dims, lambda: self._switched[1])
