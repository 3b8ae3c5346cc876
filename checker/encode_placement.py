"""Closed forms of a training layout's collectives on a tiered network (spec/semantics.md,
"Transformer training", "Placing the layout on tiers").

Part of the encoder. Ranks are numbered innermost dimension first — tensor, context, pipeline,
data (Llama 3's order, Dubey et al. 2024, §3.3.2; Megatron-LM puts tensor groups inside a
node, Narayanan et al. SC21 §3.3) — so a dimension of extent k has stride σ, the product of
the extents inside it. A tier of size s holds clamp(s/σ, 1, k) members of each of its groups
(exact when every tier size and every product of inner extents divide one another: a built-in
invariant of the layout). A group's all-reduce runs tier by tier over those counts, as
`encode_network.tiered` does over a whole network; a stage-to-stage message is bounded by the
slowest tier some pair of neighbouring stages crosses.
"""

from __future__ import annotations

from fractions import Fraction

import z3

from checker import model as m
from checker.encode import Encoding, _max

ORDERS = {"tp_cp_pp_dp": ("tensor", "context", "pipeline", "data"), "tp_cp_dp_pp": ("tensor", "context", "data", "pipeline")}  # innermost first
DATA = ("context", "data")  # the gradients are reduced over the data x context ranks


def extents(x: m.Layout) -> dict[str, int]:
    """The dimensions' extents in the layout's rank order, innermost first."""
    k = {"tensor": x.tensor, "context": x.context, "pipeline": x.pipeline, "data": x.data}
    return {name: k[name] for name in ORDERS[x.order]}


def strides(x: m.Layout) -> dict[str, int]:
    out, below = {}, 1
    for name, k in extents(x).items():
        out[name] = below
        below *= k
    return out


def held(x: m.Layout, dims: tuple[str, ...], size: int) -> int:
    """Members of one group along `dims` inside one group of `size` consecutive ranks."""
    k, sigma, count = extents(x), strides(x), 1
    for name in dims:
        count *= min(k[name], max(1, size // sigma[name]))
    return count


def _ladder(e: Encoding, net: m.Network, x: m.Layout, dims: tuple[str, ...]):
    """(members held, the tier's α and bandwidth · efficiency / oversubscription) per tier, the
    network's own last; the link is a thunk, so a tier the group does not use names nothing."""
    whole = held(x, dims, x.tensor * x.context * x.pipeline * x.data)
    out = [(held(x, dims, t.size), lambda t=t: (e.param(t.latency), e.param(t.bandwidth) * e.param(t.efficiency) / e.param(t.oversubscription))) for t in net.tiers]
    share = (lambda: e.param(net.efficiency)) if net.efficiency is not None else (lambda: e.val(1))
    out.append((whole, lambda: (e.param(net.latency), e.param(net.bandwidth) * share() / e.param(net.oversubscription))))
    return out


def all_reduce(e: Encoding, net: m.Network, x: m.Layout, dims: tuple[str, ...], size) -> z3.ArithRef:
    """Σ_i 2[(g_i − 1) α_i + (g_i − 1)/g_i · S / (h_{i−1} B_i)], h_i the members tier i holds,
    g_i = h_i / h_{i−1}: a reduce-scatter out through the tiers, the all-gathers back in."""
    total, below = e.val(0), 1
    for members, link in _ladder(e, net, x, dims):
        g = Fraction(members, below)
        if g > 1:
            alpha, bandwidth = link()
            total = total + 2 * (e.val(g - 1) * alpha + e.val((g - 1) / g / below) * size / bandwidth)
        below = members
    return total


def message(e: Encoding, net: m.Network, x: m.Layout, size) -> z3.ArithRef:
    """max over the tiers that join neighbouring stages of α_i + size / B_i: the tiers where the
    pipeline's members per group grow (a pair first meets in that tier's group)."""
    terms, below = [], 1
    for members, link in _ladder(e, net, x, ("pipeline",)):
        if members > below:
            alpha, bandwidth = link()
            terms.append(alpha + size / bandwidth)
        below = members
    return _max(terms) if terms else e.val(0)
