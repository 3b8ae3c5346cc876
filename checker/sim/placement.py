"""Where a training layout's parallel groups sit on a tiered network, found rank by rank
(spec/semantics.md, "Transformer training", "Placing the layout on tiers").

Ranks are numbered with the innermost dimension fastest: tensor, then context, pipeline and
data (Llama 3's order, Dubey et al. 2024, §3.3.2; Megatron-LM places tensor groups inside a
node), or with data inside pipeline (Megatron-LM's default order). A tier of size s groups the ranks s at a time (ranks 0..s-1, s..2s-1, ...). The core
lists each group's ranks from their coordinates and counts how many members share a group of
each tier; the group's collective then runs tier by tier (`tiers.tiered_allreduce`) over those
counts. A stage-to-stage message crosses the innermost tier that holds both of its ends, found
pair by pair. Nothing here is a closed form of the encoder's.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

from .scenario import MAX_RING, NetworkSpec, OutOfReach
from .tiers import TierSpec, _link, tiered_allreduce

__all__ = ["ORDERS", "Placed", "placed"]

# innermost first: Llama 3's order (data outermost) and Megatron-LM's default (pipeline outermost)
ORDERS = {"tp_cp_pp_dp": ("tensor", "context", "pipeline", "data"), "tp_cp_dp_pp": ("tensor", "context", "data", "pipeline")}


def _coordinates(extents: dict[str, int], rank: int) -> dict[str, int]:
    """A rank's coordinate along each dimension; `extents` lists them innermost first."""
    out = {}
    for name, k in extents.items():
        rank, out[name] = divmod(rank, k)
    return out


def _rank(extents: dict[str, int], coords: dict[str, int]) -> int:
    rank = 0
    for name in reversed(extents):
        rank = rank * extents[name] + coords[name]
    return rank


@lru_cache(maxsize=256)
def _held(extents: tuple[tuple[str, int], ...], dims: tuple[str, ...], size: int) -> int:
    """Members of a group along `dims` inside one group of a tier of `size` ranks, counted
    over every rank (a rank's group is named by its first rank: its coordinates along `dims`
    zeroed); the count must be the same for every group and every tier group they meet."""
    steps, below = [], 1
    for name, k in extents:
        if name in dims:
            steps.append((below, k))
        below *= k
    counts: dict[tuple[int, int], int] = {}
    for r in range(below):
        first = r
        for sigma, k in steps:
            first -= (r // sigma) % k * sigma
        counts[first, r // size] = counts.get((first, r // size), 0) + 1
    found = set(counts.values())
    if len(found) != 1:
        raise ValueError(f"the {'/'.join(dims)} groups meet groups of {size} GPUs unevenly")
    return found.pop()


def _outermost(net: NetworkSpec, n: int) -> TierSpec:
    return TierSpec(n, net.bandwidth, net.latency, net.efficiency or Fraction(1), net.oversubscription or Fraction(1))


class Placed:
    """One dimension's groups (or the data-parallel group, over data and context) on the tiers:
    the members one group of each tier holds, innermost first, the whole group last."""

    def __init__(self, net: NetworkSpec, extents: dict[str, int], dims: tuple[str, ...]) -> None:
        gpus = 1
        for k in extents.values():
            gpus *= k
        if gpus > MAX_RING:
            raise OutOfReach(f"a layout of {gpus} GPUs is more than the simulation places rank by rank (at most {MAX_RING})")
        self.net, self.extents, self.dims, self.gpus = net, extents, dims, gpus
        self.n = 1
        for name in dims:
            self.n *= extents[name]
        tiers = []
        for tier in net.tiers:
            tiers.append(TierSpec(self._held(tier.size), tier.bandwidth, tier.latency, tier.efficiency, tier.oversubscription))
        tiers.append(_outermost(net, self.n))
        self.tiers = tuple(tiers)

    def _held(self, size: int) -> int:
        return _held(tuple(self.extents.items()), self.dims, size)

    def all_reduce(self, n: int, size: Fraction) -> Fraction:
        """The group's all-reduce, tier by tier (a reduce-scatter or all-gather is half of it)."""
        if n != self.n:
            raise ValueError(f"a group of {n} GPUs, placed as one of {self.n}")
        return tiered_allreduce(self.tiers, size).time if n > 1 else Fraction(0)

    def message(self, size: Fraction) -> Fraction:
        """The slowest stage-to-stage message of `size` bytes: for each pair of neighbouring
        stages, the innermost tier holding both ends carries it; the slowest such tier sets w."""
        ladder = (*self.net.tiers, _outermost(self.net, self.gpus))
        used: set[int] = set()
        for rank in range(self.gpus):
            c = _coordinates(self.extents, rank)
            if c["pipeline"] + 1 >= self.extents["pipeline"]:
                continue
            other = _rank(self.extents, {**c, "pipeline": c["pipeline"] + 1})
            used.add(next(i for i, t in enumerate(ladder) if rank // t.size == other // t.size))
        worst = Fraction(0)
        for i in sorted(used):
            latency, link = _link(ladder[i])
            worst = max(worst, latency + size / link)
        return worst


def placed(net: NetworkSpec, tensor: int, context: int, pipeline: int, data: int, order: str = "tp_cp_pp_dp") -> dict[str, Placed]:
    """The tensor, context, pipeline and data-parallel (data x context) groups on the tiers,
    ranks numbered in `order` (ORDERS), innermost first."""
    given = {"tensor": tensor, "context": context, "pipeline": pipeline, "data": data}
    extents = {name: given[name] for name in ORDERS[order]}
    return {"tensor": Placed(net, extents, ("tensor",)), "context": Placed(net, extents, ("context",)),
            "pipeline": Placed(net, extents, ("pipeline",)), "data": Placed(net, extents, ("context", "data"))}
