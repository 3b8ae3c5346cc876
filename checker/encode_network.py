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
