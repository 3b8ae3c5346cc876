"""A tiered network's all-reduce, stepped tier by tier (spec/semantics.md, "Tiered networks").

Innermost tier first: a ring reduce-scatter among the g GPUs of each group (one per group of
the tier below, all groups at once) leaves each GPU 1/g of what it held; the outermost tier
runs a ring all-reduce of what is left; the all-gathers retrace the tiers inwards. A tier's
link runs at bandwidth · efficiency / oversubscription (uplinks shared by that many times
their capacity). Same cost model as collectives.py; no closed form is evaluated here.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .collectives import NOTHING, Transfer, _check_link, _ring_phase, then
from .exact import as_fraction

__all__ = ["TierSpec", "tiered_allreduce", "tiered_reduce_scatter", "tiered_all_to_all"]


@dataclass(frozen=True, slots=True)
class TierSpec:
    size: int  # GPUs one group of the tier joins (the outermost: the whole data-parallel group)
    bandwidth: Fraction
    latency: Fraction
    efficiency: Fraction = Fraction(1)
    oversubscription: Fraction = Fraction(1)


def _link(tier: TierSpec) -> tuple[Fraction, Fraction]:
    if not (0 < tier.efficiency <= 1) or tier.oversubscription < 1:
        raise ValueError("need 0 < efficiency <= 1 and oversubscription >= 1")
    return as_fraction(tier.latency, "latency"), as_fraction(tier.bandwidth, "bandwidth") * tier.efficiency / tier.oversubscription


def tiered_allreduce(tiers: tuple[TierSpec, ...], size: Fraction) -> Transfer:
    """Reduce-scatter out through the tiers, all-gather back in; the last tier is the whole group."""
    phases = _outwards(tiers, size)
    total = NOTHING
    for phase in phases:  # out: the reduce-scatters (the outermost's half of its all-reduce)
        total = then(total, phase)
    for phase in reversed(phases):  # in: the all-gathers, the same steps
        total = then(total, phase)
    return total


def tiered_reduce_scatter(tiers: tuple[TierSpec, ...], size: Fraction) -> Transfer:
    """The reduce-scatters out through the tiers (an all-gather is the same steps inwards)."""
    total = NOTHING
    for phase in _outwards(tiers, size):
        total = then(total, phase)
    return total


def tiered_all_to_all(tiers: tuple[TierSpec, ...], size: Fraction) -> Transfer:
    """Pairwise exchange of S/n, the partners inside the innermost group first, then those
    inside each next tier's group but outside the one below, each over that tier's links."""
    size = as_fraction(size, "size")
    n = tiers[-1].size
    total, below = NOTHING, 1
    for tier in tiers:
        latency, link = _link(tier)
        _check_link(size, latency, link)
        partners = tier.size - below
        total = then(total, _ring_phase(partners, size / n, latency, link) if partners else NOTHING)
        below = tier.size
    return total


def _outwards(tiers: tuple[TierSpec, ...], size: Fraction) -> list[Transfer]:
    size = as_fraction(size, "size")
    held, below = size, 1
    phases: list[Transfer] = []
    for tier in tiers:
        if tier.size % below or tier.size < below:
            raise ValueError("each tier's groups must be whole groups of the tier below")
        latency, link = _link(tier)
        _check_link(held, latency, link)
        g = tier.size // below
        phases.append(_ring_phase(g - 1, held / g, latency, link) if g > 1 else NOTHING)
        held, below = held / g, tier.size
    return phases
