"""Collective operations simulated step by step (ring), round by round (tree).

Cost model (Thakur, Rabenseifner & Gropp 2005): a message of b bytes over one hop takes
latency + b / bandwidth; a step of a collective ends when its slowest message arrives, and
the next step starts then. Nothing here evaluates the closed forms of DESIGN.md; the tests
compare against them.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .exact import as_fraction, common_denominator, on_grid

__all__ = [
    "Transfer",
    "ring_allreduce",
    "tree_allreduce",
    "hierarchical_allreduce",
    "ring_schedule",
    "ring_holdings",
    "binomial_rounds",
    "broadcast_round",
]

ZERO = Fraction(0)


@dataclass(frozen=True, slots=True)
class Transfer:
    """time: critical-path seconds; hops: sequential latency-paying steps on it;
    bytes_per_gpu: bytes each GPU sends (the mean over GPUs when they differ, as in a tree)."""

    time: Fraction
    hops: int
    bytes_per_gpu: Fraction


NOTHING = Transfer(ZERO, 0, ZERO)


def then(first: Transfer, second: Transfer) -> Transfer:
    """Two phases run one after the other."""
    return Transfer(first.time + second.time, first.hops + second.hops,
                    first.bytes_per_gpu + second.bytes_per_gpu)


def _check_link(size: Fraction, latency: Fraction, bandwidth: Fraction) -> None:
    if size < 0 or latency < 0:
        raise ValueError("size and latency must be >= 0")
    if bandwidth <= 0:
        raise ValueError("bandwidth must be > 0")


def ring_schedule(n: int, step: int) -> tuple[tuple[int, int, int], ...]:
    """The messages of one step of a ring all-reduce as (sender, receiver, chunk index).

    Steps 0 .. n-2 are the reduce-scatter (GPU g sends chunk (g - s) mod n), steps
    n-1 .. 2n-3 the all-gather (GPU g sends chunk (g + 1 - s') mod n, s' = s - (n-1)).
    """
    if n < 2 or not 0 <= step < 2 * (n - 1):
        raise ValueError("need n >= 2 and 0 <= step < 2(n-1)")
    offset = -step if step < n - 1 else 1 - (step - (n - 1))
    return tuple((g, (g + 1) % n, (g + offset) % n) for g in range(n))


def ring_holdings(n: int) -> tuple[tuple[int, ...], ...]:
    """Replay the data movement of a ring all-reduce on n GPUs (small n).

    holdings[g][c] is the bit set of GPUs whose contribution to chunk c GPU g holds at the
    end: a correct all-reduce ends with every bit set everywhere.
    """
    held = [[1 << g for _ in range(n)] for g in range(n)]
    for step in range(2 * (n - 1)) if n >= 2 else ():
        sent = [(dst, c, held[src][c]) for src, dst, c in ring_schedule(n, step)]
        for dst, c, bits in sent:
            held[dst][c] = held[dst][c] | bits if step < n - 1 else bits
    return tuple(tuple(row) for row in held)


def _ring_phase(steps: int, chunk: Fraction, latency: Fraction, bandwidth: Fraction) -> Transfer:
    """Run `steps` ring steps in which every GPU sends one `chunk` to its neighbour.

    All messages of a step have the same size, so the step's slowest message arrives
    latency + chunk/bandwidth after the step starts; the clock is kept as an integer
    numerator over the common denominator so that a million steps stay fast and exact.
    """
    arrival = latency + chunk / bandwidth
    grid = common_denominator((arrival, chunk))
    step_ticks, chunk_ticks = on_grid(arrival, grid), on_grid(chunk, grid)
    clock = sent = hops = 0
    for _ in range(steps):
        clock += step_ticks  # the step ends when its slowest message lands
        sent += chunk_ticks  # every GPU sent one chunk in it
        hops += 1
    return Transfer(Fraction(clock, grid), hops, Fraction(sent, grid))


def ring_allreduce(n: int, size: Fraction, latency: Fraction, bandwidth: Fraction) -> Transfer:
    """Reduce-scatter then all-gather of `size` bytes on a ring of n GPUs."""
    size, latency = as_fraction(size, "size"), as_fraction(latency, "latency")
    bandwidth = as_fraction(bandwidth, "bandwidth")
    _check_link(size, latency, bandwidth)
    if n < 1:
        raise ValueError("n must be >= 1")
    if n == 1:
        return NOTHING
    chunk = size / n
    reduce_scatter = _ring_phase(n - 1, chunk, latency, bandwidth)
    all_gather = _ring_phase(n - 1, chunk, latency, bandwidth)
    return then(reduce_scatter, all_gather)


def broadcast_round(informed: int, n: int) -> int:
    """GPUs holding the data after one binomial-tree round: each holder sends to one new GPU.

    pre: 1 <= informed < n
    post: informed < __return__ <= n
    post: __return__ <= 2 * informed
    post: __return__ == n or __return__ == 2 * informed
    """
    return min(2 * informed, n)


def binomial_rounds(n: int) -> tuple[int, int]:
    """Build a binomial broadcast tree on n GPUs round by round.

    Returns (rounds, edges): the sequential send rounds on the critical path (the tree's
    height in latency-paying hops) and the number of parent-child edges.
    """
    if n < 1:
        raise ValueError("n must be >= 1")
    informed, rounds, edges = 1, 0, 0
    while informed < n:
        grown = broadcast_round(informed, n)
        edges += grown - informed
        informed, rounds = grown, rounds + 1
    return rounds, edges


def _pipelined_pass(rounds: int, size: Fraction, latency: Fraction,
                    bandwidth: Fraction) -> Fraction:
    """One direction of a pipelined tree pass: the head of the stream pays one latency per
    round, the tail arrives size/bandwidth after the head."""
    head = ZERO
    for _ in range(rounds):
        head += latency
    return head + size / bandwidth


def tree_allreduce(n: int, size: Fraction, latency: Fraction, bandwidth: Fraction) -> Transfer:
    """Pipelined reduce up a binomial tree, then pipelined broadcast down it."""
    size, latency = as_fraction(size, "size"), as_fraction(latency, "latency")
    bandwidth = as_fraction(bandwidth, "bandwidth")
    _check_link(size, latency, bandwidth)
    rounds, edges = binomial_rounds(n)
    if n == 1:
        return NOTHING
    reduce = Transfer(_pipelined_pass(rounds, size, latency, bandwidth), rounds,
                      size * edges / n)  # each edge carries the full vector once upward
    broadcast = Transfer(_pipelined_pass(rounds, size, latency, bandwidth), rounds,
                         size * edges / n)  # ... and once downward
    return then(reduce, broadcast)


def hierarchical_allreduce(n: int, domain: int, size: Fraction, domain_latency: Fraction,
                           domain_bandwidth: Fraction, latency: Fraction,
                           bandwidth: Fraction) -> Transfer:
    """Intra-domain ring reduce-scatter, inter-domain ring all-reduce of the shard,
    intra-domain ring all-gather (g = domain GPUs per NVLink domain, n/g domains)."""
    size = as_fraction(size, "size")
    domain_latency = as_fraction(domain_latency, "domain_latency")
    domain_bandwidth = as_fraction(domain_bandwidth, "domain_bandwidth")
    latency, bandwidth = as_fraction(latency, "latency"), as_fraction(bandwidth, "bandwidth")
    _check_link(size, domain_latency, domain_bandwidth)
    _check_link(size, latency, bandwidth)
    if n < 1 or domain < 1 or n % domain != 0:
        raise ValueError("need n >= 1, domain >= 1 and n divisible by domain")
    shard = size / domain
    inside = _ring_phase(domain - 1, shard, domain_latency, domain_bandwidth)
    across = ring_allreduce(n // domain, shard, latency, bandwidth)
    return then(then(inside, across), inside)
