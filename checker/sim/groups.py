"""One data-parallel group's collectives on the cluster's network, by topology: n GPUs, `size`
bytes each (spec/semantics.md, "Collective algorithms", "Tiered networks", "Torus", "Other
collectives"). Each network's own module steps the algorithm; this only picks it.
"""

from __future__ import annotations

from fractions import Fraction

from .collectives import hierarchical_allreduce, ring_allreduce, tree_allreduce
from .exchanges import (in_network_reduce_scatter, pairwise_all_to_all, ring_all_to_all, ring_reduce_scatter,
                        two_level_all_to_all, two_level_reduce_scatter)
from .scenario import NetworkSpec, OutOfReach
from .tiers import TierSpec, tiered_all_to_all, tiered_allreduce, tiered_reduce_scatter
from .torus import torus_run

__all__ = ["group_all_reduce", "group_collective", "tiers_of"]


def tiers_of(net: NetworkSpec, n: int) -> tuple[TierSpec, ...]:
    """A tiered network's tiers, the outermost (the network's own fields) joining all n."""
    if n % net.tiers[-1].size:
        raise OutOfReach(f"a group of {n} GPUs does not divide into groups of {net.tiers[-1].size}")
    return (*net.tiers, TierSpec(n, net.bandwidth, net.latency, net.efficiency or Fraction(1), net.oversubscription or Fraction(1)))


def group_all_reduce(net: NetworkSpec, n: int, size: Fraction, dims: tuple[int, ...], switched) -> Fraction:
    """The gradient all-reduce; a switched network's comes from `switched` (its algorithm run)."""
    domain = net.domain or 1
    if net.topology == "ring":
        return ring_allreduce(n, size, net.latency, net.bandwidth).time
    if net.topology == "tree":
        return tree_allreduce(n, size, net.latency, net.bandwidth).time
    if net.topology == "switch":
        return switched()
    if net.topology == "tiers":
        return tiered_allreduce(tiers_of(net, n), size).time
    if net.topology == "torus":
        return torus_run("all_reduce", net, dims, n, size).time
    if n % domain:
        raise OutOfReach(f"a group of {n} GPUs does not divide into domains of {domain}")
    assert net.domain_latency is not None and net.domain_bandwidth is not None
    return hierarchical_allreduce(n, domain, size, net.domain_latency, net.domain_bandwidth, net.latency, net.bandwidth).time


def group_collective(kind: str, net: NetworkSpec, n: int, size: Fraction, dims: tuple[int, ...]) -> Fraction:
    """A reduce-scatter (an all-gather is the same steps) or an all-to-all, stepped."""
    domain = net.domain or 1
    if net.topology == "hierarchical" and n % domain:
        raise OutOfReach(f"a group of {n} GPUs does not divide into domains of {domain}")
    if net.topology == "tiers":
        run = tiered_all_to_all if kind == "all_to_all" else tiered_reduce_scatter
        return run(tiers_of(net, n), size).time
    if net.topology == "torus":
        return torus_run(kind, net, dims, n, size).time
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
