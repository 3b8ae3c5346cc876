"""Reduce-scatter, all-gather and all-to-all, stepped one exchange at a time.

Same cost model as collectives.py (Thakur, Rabenseifner & Gropp 2005): every step, each GPU
sends one message and receives one; the step ends when the slowest lands, latency + bytes /
bandwidth after it starts. S is the full vector of one GPU: a reduce-scatter leaves S/n of the
sum on each GPU, an all-gather collects n pieces of S/n, an all-to-all sends S/n to every
other GPU. Nothing here evaluates the closed forms of spec/semantics.md.

- ring (NCCL's algorithm for both halves; one half of collectives.ring_allreduce);
- two levels: a ring inside each domain, then a ring of the shard across domains;
- in-network (NVLS): each GPU's pieces stream up the switch tree and its own reduced piece
  streams down (reduce-scatter), or its piece goes up once and the switches copy it to
  everyone (all-gather): both directions at once, the head crossing every level twice;
- all-to-all by pairwise exchange (Thakur et al. §3: in step k GPU g sends to g + k), on a
  ring by relaying (each step every GPU forwards what is still to travel), on two levels the
  partners inside the domain first, then those outside.
"""

from __future__ import annotations

from fractions import Fraction

from .algorithms import switch_levels
from .collectives import NOTHING, Transfer, _check_link, _ring_phase, then
from .exact import as_fraction

__all__ = ["ring_reduce_scatter", "two_level_reduce_scatter", "in_network_reduce_scatter",
           "pairwise_all_to_all", "ring_all_to_all", "two_level_all_to_all", "pairwise_partners"]


def _link(size, latency, bandwidth) -> tuple[Fraction, Fraction, Fraction]:
    size, latency = as_fraction(size, "size"), as_fraction(latency, "latency")
    bandwidth = as_fraction(bandwidth, "bandwidth")
    _check_link(size, latency, bandwidth)
    return size, latency, bandwidth


def ring_reduce_scatter(n: int, size: Fraction, latency: Fraction, bandwidth: Fraction) -> Transfer:
    """n - 1 ring steps of S/n each (an all-gather is the same steps with copies for sums)."""
    size, latency, bandwidth = _link(size, latency, bandwidth)
    if n < 1:
        raise ValueError("n must be >= 1")
    return NOTHING if n == 1 else _ring_phase(n - 1, size / n, latency, bandwidth)


def two_level_reduce_scatter(n: int, domain: int, size: Fraction, domain_latency: Fraction,
                             domain_bandwidth: Fraction, latency: Fraction, bandwidth: Fraction) -> Transfer:
    """A ring reduce-scatter inside each domain of g GPUs leaves S/g on each; a ring
    reduce-scatter of that shard across the n/g domains leaves S/n."""
    if n < 1 or domain < 1 or n % domain:
        raise ValueError("need n >= 1, domain >= 1 and n divisible by domain")
    inside = ring_reduce_scatter(domain, size, domain_latency, domain_bandwidth)
    return then(inside, ring_reduce_scatter(n // domain, as_fraction(size, "size") / domain, latency, bandwidth))


def in_network_reduce_scatter(n: int, size: Fraction, latency: Fraction, bandwidth: Fraction, radix: int) -> Transfer:
    """Each GPU streams the n - 1 pieces others own up the switch tree (the switches add) and
    receives its own piece's sum: the head crosses every level up and down."""
    size, latency, bandwidth = _link(size, latency, bandwidth)
    levels = switch_levels(n, radix)
    if n == 1:
        return NOTHING
    head = Fraction(0)
    for _ in range(2 * levels):
        head += latency
    out = size - size / n  # what a GPU sends: every piece but its own
    return Transfer(head + out / bandwidth, 2 * levels, out)


def pairwise_partners(n: int, step: int) -> tuple[int, ...]:
    """Step k (1 .. n-1) of a pairwise all-to-all: GPU g sends to g + k (mod n)."""
    if not 1 <= step < n:
        raise ValueError("need 1 <= step < n")
    return tuple((g + step) % n for g in range(n))


def _steps(count: int, piece: Fraction, latency: Fraction, bandwidth: Fraction) -> Transfer:
    return NOTHING if count == 0 else _ring_phase(count, piece, latency, bandwidth)


def pairwise_all_to_all(n: int, size: Fraction, latency: Fraction, bandwidth: Fraction) -> Transfer:
    """n - 1 steps; in each every GPU sends S/n to a different GPU and receives S/n (on a
    switched network any permutation runs at full rate)."""
    size, latency, bandwidth = _link(size, latency, bandwidth)
    if n < 1:
        raise ValueError("n must be >= 1")
    return _steps(n - 1, size / n, latency, bandwidth)


def ring_all_to_all(n: int, size: Fraction, latency: Fraction, bandwidth: Fraction) -> Transfer:
    """On a ring each piece travels to its owner hop by hop: in step k every GPU forwards the
    n - k pieces still on their way (its own for the next n - k GPUs, relayed ones included)."""
    size, latency, bandwidth = _link(size, latency, bandwidth)
    if n < 1:
        raise ValueError("n must be >= 1")
    time, sent = Fraction(0), Fraction(0)
    for k in range(1, n):
        carried = size * (n - k) / n
        time += latency + carried / bandwidth
        sent += carried
    return Transfer(time, n - 1, sent)


def two_level_all_to_all(n: int, domain: int, size: Fraction, domain_latency: Fraction,
                         domain_bandwidth: Fraction, latency: Fraction, bandwidth: Fraction) -> Transfer:
    """Pairwise, the g - 1 partners inside the domain first (domain links), then the n - g
    outside it, domain by domain (network links): S/n a step."""
    if n < 1 or domain < 1 or n % domain:
        raise ValueError("need n >= 1, domain >= 1 and n divisible by domain")
    size = as_fraction(size, "size")
    inside = _steps(domain - 1, size / n, as_fraction(domain_latency, "domain_latency"),
                    as_fraction(domain_bandwidth, "domain_bandwidth"))
    return then(inside, _steps(n - domain, size / n, as_fraction(latency, "latency"), as_fraction(bandwidth, "bandwidth")))
