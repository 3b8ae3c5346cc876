"""Closed forms of the all-reduce algorithms on a switched network (spec/semantics.md,
"Collective algorithms"): n GPUs, S bytes, α the latency of a hop, B the bandwidth per GPU.

    ring              2(n-1)·α + 2(n-1)/n · S/B                       (Thakur et al. 2005)
    double_tree       2⌈log₂ n⌉·α + 2·S/B   (S/B when n = 2)            (Sanders et al. 2009; NCCL)
    halving_doubling  2·log₂ p·α + 2(p-1)/p · S/B, p = 2^⌊log₂ n⌋,
                      + 2(α + S/B) when n > p (fold and unfold)       (Thakur et al. 2005, §4)
    in_network        2h·α + S/B, h = ⌈log_r n⌉ switch levels of radix r (Graham et al. 2016)
    auto              the least of those the network offers (in_network when a radix is given)

Every count (n, p, h) is a constant of the model, so the terms stay the same size whatever n is.
"""

from __future__ import annotations

from fractions import Fraction

import z3

from checker import model as m
from checker.encode import Encoding, _max, group, symbolic

ALGORITHMS = ("ring", "double_tree", "halving_doubling", "in_network")


def _ceil_log2(n: int) -> int:
    return (n - 1).bit_length()


def _levels(n: int, radix: int) -> int:
    """⌈log_r n⌉: the least h with r^h >= n."""
    h, reach = 0, 1
    while reach < n:
        reach *= radix
        h += 1
    return h


def allreduce_terms(e, n: int, size, alpha, bandwidth, radix: int | None) -> dict[str, z3.ArithRef]:
    """Every algorithm the network offers, by name: its all-reduce time."""
    v = e.val
    terms = {"ring": 2 * v(n - 1) * alpha + 2 * v(Fraction(n - 1, n)) * size / bandwidth}
    busiest = size / 2 if n == 2 else size  # with two GPUs each sends half a vector in each pass
    terms["double_tree"] = 2 * v(_ceil_log2(n)) * alpha + 2 * busiest / bandwidth
    p = 1 << (n.bit_length() - 1)
    hd = 2 * v(p.bit_length() - 1) * alpha + 2 * v(Fraction(p - 1, p)) * size / bandwidth
    terms["halving_doubling"] = hd + 2 * (alpha + size / bandwidth) if n > p else hd
    if radix is not None:
        terms["in_network"] = 2 * v(_levels(n, radix)) * alpha + size / bandwidth
    return terms


def allreduce(e, algorithm: str, n: int, size, alpha, bandwidth, radix: int | None) -> z3.ArithRef:
    """The all-reduce time by the network's algorithm; auto is the least of the offered ones."""
    terms = allreduce_terms(e, n, size, alpha, bandwidth, radix)
    if algorithm != "auto":
        return terms[algorithm]
    best = None
    for name in ALGORITHMS:  # a tie goes to the first listed, as in the simulation core
        if name in terms:
            best = terms[name] if best is None else z3.If(terms[name] < best, terms[name], best)
    return best


# ---- reduce-scatter, all-gather, all-to-all (spec/semantics.md, "Other collectives") ---------


def _half(e: Encoding, w: m.Workload) -> z3.ArithRef:
    """A reduce-scatter (an all-gather is the same steps): n GPUs, S bytes each."""
    net = w.cluster.network
    n, size = group(e, w)
    if n <= 1:
        return e.val(0)
    if net.topology == "tiers":
        return tiered(e, net, n, size) / 2  # the reduce-scatters out through the tiers
    alpha, bandwidth = e.param(net.latency), e.param(net.bandwidth)
    if net.topology == "torus":
        return per_slice(e, net, lambda dims: torus_half(e, dims, size, alpha, bandwidth, net.dimensions == "at_once"))
    ring = e.val(n - 1) * alpha + e.val((n - 1) / n) * size / bandwidth
    if net.topology == "hierarchical":
        g = Fraction(net.domain or 1)
        domains = n / g
        inner = e.val(g - 1) * e.param(net.domain_latency) + e.val((g - 1) / g) * size / e.param(net.domain_bandwidth)
        return inner + e.val(domains - 1) * alpha + e.val((domains - 1) / domains) * (size / e.val(g)) / bandwidth
    if net.topology == "switch" and net.radix is not None and net.algorithm in ("in_network", "auto"):
        whole = -(-n.numerator // n.denominator)
        nvls = 2 * e.val(_levels(whole, net.radix)) * alpha + e.val((n - 1) / n) * size / bandwidth
        return nvls if net.algorithm == "in_network" else z3.If(nvls < ring, nvls, ring)
    return ring  # a ring, a tree or a switched network: NCCL runs both halves on rings


@symbolic("training", "reduce_scatter_time")
@symbolic("training", "all_gather_time")
def _reduce_scatter(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return _half(e, w)


@symbolic("training", "all_to_all_time")
def _all_to_all(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    """Pairwise exchange of S/n with every other GPU; relayed on a ring."""
    net = w.cluster.network
    n, size = group(e, w)
    if n <= 1:
        return e.val(0)
    if net.topology == "tiers":
        return tiered_all_to_all(e, net, n, size)
    alpha, bandwidth = e.param(net.latency), e.param(net.bandwidth)
    if net.topology == "ring":
        return e.val(n - 1) * alpha + e.val((n - 1) / 2) * size / bandwidth
    if net.topology == "torus":  # dimension by dimension, half of every piece each way round
        return per_slice(e, net, lambda dims: z3.Sum([e.val(k - 1) * alpha + e.val(Fraction(k - 1, 4)) * size / bandwidth for k in dims if k > 1] or [e.val(0)]))
    if net.topology == "hierarchical":
        g = Fraction(net.domain or 1)
        inside = e.val(g - 1) * (e.param(net.domain_latency) + size / (e.val(n) * e.param(net.domain_bandwidth)))
        return inside + e.val(n - g) * (alpha + size / (e.val(n) * bandwidth))
    return e.val(n - 1) * alpha + e.val((n - 1) / n) * size / bandwidth


# ---- tiers (spec/semantics.md, "Tiered networks") -------------------------------------------


def _levels_of(e: Encoding, net: m.Network, n: Fraction) -> list[tuple[Fraction, z3.ArithRef, z3.ArithRef]]:
    """(GPUs a group joins, α, effective bandwidth) per tier, innermost first, the network's own last."""
    levels = [(Fraction(t.size), e.param(t.latency), e.param(t.bandwidth) * e.param(t.efficiency) / e.param(t.oversubscription)) for t in net.tiers]
    share = e.param(net.efficiency) if net.efficiency is not None else e.val(1)
    levels.append((n, e.param(net.latency), e.param(net.bandwidth) * share / e.param(net.oversubscription)))
    return levels


def tiered_all_to_all(e: Encoding, net: m.Network, n: Fraction, size) -> z3.ArithRef:
    """Σ_i (s_i - s_{i-1}) (α_i + S / (n B_i)): the partners tier by tier, innermost first."""
    total, below = e.val(0), Fraction(1)
    for span, alpha, bandwidth in _levels_of(e, net, n):
        total = total + e.val(span - below) * (alpha + size / (e.val(n) * bandwidth))
        below = span
    return total


def tiered(e: Encoding, net: m.Network, n: Fraction, size) -> z3.ArithRef:
    """A ring reduce-scatter in each tier from the innermost out, the outermost tier's ring
    all-reduce of what is left, the all-gathers back in: each tier i with g_i groups of the tier
    below moves S_i = S / (GPUs below it) at bandwidth · efficiency / oversubscription:
    Σ_i 2[(g_i - 1) α_i + (g_i - 1)/g_i · S_i / B_i]."""
    total, below = e.val(0), Fraction(1)
    for span, alpha, bandwidth in _levels_of(e, net, n):
        g = span / below
        total = total + 2 * (e.val(g - 1) * alpha + e.val((g - 1) / g) * (size / e.val(below)) / bandwidth)
        below = span
    return total


# ---- torus (spec/semantics.md, "Torus") ------------------------------------------------------


def torus_half(e: Encoding, dims: tuple[int, ...], size, alpha, bandwidth, at_once: bool = False) -> z3.ArithRef:
    """The reduce-scatter on a torus of extents k_1, k_2, ...: bidirectional rings in dimension
    order, each moving half of what the dimensions before left each way:
    Σ_i [(k_i - 1) α + (k_i - 1)/k_i · S / (2 B · k_1 ⋯ k_(i-1))]. The all-reduce is twice it
    (the all-gathers retrace the dimensions in descending order).

    at_once: the d dimensions of more than one chip each start a share S/d of the vector, share j
    running the dimensions from the j-th on, cyclically; in phase t the shares use different
    dimensions, so different links; a phase ends with its slowest share:
    Σ_t max_j [(k - 1) α + (k - 1)/k · S / (2 B d · (extents share j ran before))], k its phase-t extent."""
    active = [k for k in dims if k > 1]
    if not at_once or len(active) < 2:
        total, below = e.val(0), 1
        for k in dims:
            if k > 1:
                total = total + e.val(k - 1) * alpha + e.val(Fraction(k - 1, 2 * k * below)) * size / bandwidth
            below *= k
        return total
    d, total = len(active), e.val(0)
    below = [1] * d  # the product of the extents share j has run through
    for t in range(d):
        costs = []
        for j in range(d):
            k = active[(j + t) % d]
            costs.append(e.val(k - 1) * alpha + e.val(Fraction(k - 1, 2 * k * d * below[j])) * size / bandwidth)
            below[j] *= k
        unique = list({c.sexpr(): c for c in costs}.values())  # a cube's shares cost the same
        total = total + _max(unique)
    return total


def per_slice(e: Encoding, net: m.Network, term) -> z3.ArithRef:
    """A torus's term; with `slice = any`, the term of the slice the unknown s numbers: shape i
    for s in (i - 1, i], so every value of s in [1, m] is one of the m shapes, and each is some s."""
    if not net.slices:
        return term(net.dims)
    s = e.param(net.slice)
    out = term(net.slices[-1])
    for i in range(len(net.slices) - 1, 0, -1):
        out = z3.If(s <= e.val(i), term(net.slices[i - 1]), out)
    return out
