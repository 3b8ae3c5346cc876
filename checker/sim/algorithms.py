"""All-reduce algorithms on a switched network, built and stepped one GPU at a time.

Same cost model as collectives.py (Thakur, Rabenseifner & Gropp 2005): a message of b bytes
over one hop takes latency + b / bandwidth, each GPU sends and receives at `bandwidth` at once.
A pipelined pass (a tree, a switch) streams the vector in small pieces: its head pays one
latency per level, its tail lands busiest / bandwidth later, busiest being the most bytes one
GPU sends or receives in the pass. Nothing here evaluates the closed forms of
spec/semantics.md; the tests compare against them.

- double_tree_allreduce: NCCL's two binary trees (Sanders, Speck & Träff 2009; NCCL 2.4),
  each carrying half of the vector, built rank by rank as NCCL's ncclGetBtree / ncclGetDtree;
- halving_doubling_allreduce: Rabenseifner's recursive-halving reduce-scatter and
  recursive-doubling all-gather (Thakur et al. 2005, §4), the GPUs beyond the largest power
  of two folded onto a partner first and sent the result after;
- in_network_allreduce: the switches reduce (NVLink SHARP / NVLS, InfiniBand SHARP: Graham et
  al. 2016): each GPU sends its vector up a tree of switches of `radix` ports once and
  receives the sum once.
"""

from __future__ import annotations

from fractions import Fraction

from .collectives import NOTHING, Transfer, _check_link, ring_allreduce
from .exact import as_fraction

__all__ = ["btree", "double_tree", "double_tree_allreduce", "halving_doubling_allreduce",
           "halving_doubling_holdings", "switch_levels", "in_network_allreduce", "ALGORITHMS",
           "allreduce", "fastest"]


def btree(n: int, rank: int) -> tuple[int, tuple[int, ...]]:
    """NCCL's binary tree (ncclGetBtree): rank's parent (-1 at the root, rank 0) and children.

    A rank's lowest set bit is its level; the root's single child is the largest power of two
    below n."""
    bit = 1
    while bit < n and not bit & rank:
        bit <<= 1
    if rank == 0:
        return -1, ((bit >> 1,) if n > 1 else ())
    up = (rank ^ bit) | (bit << 1)
    if up >= n:
        up = rank ^ bit
    low = bit >> 1
    children = []
    if low:
        children.append(rank - low)
        while low and rank + low >= n:
            low >>= 1
        if low:
            children.append(rank + low)
    return up, tuple(children)


def double_tree(n: int) -> tuple[list[int], list[int]]:
    """The parent of every rank in NCCL's two trees (ncclGetDtree): the second tree is the
    first mirrored (n even) or shifted by one rank (n odd), so that a rank that is an inner
    node of one tree is a leaf of the other."""
    first = [btree(n, r)[0] for r in range(n)]
    if n % 2:
        second = [-1 if first[(r - 1) % n] < 0 else (first[(r - 1) % n] + 1) % n for r in range(n)]
    else:
        second = [-1 if first[n - 1 - r] < 0 else n - 1 - first[n - 1 - r] for r in range(n)]
    return first, second


def _height(parents: list[int]) -> int:
    """Edges on the longest path from a leaf to the root, by walking up from every rank."""
    depth = [-1] * len(parents)
    for start in range(len(parents)):
        path, r = [], start
        while depth[r] < 0 and parents[r] >= 0:
            path.append(r)
            r = parents[r]
        base = depth[r] if depth[r] >= 0 else 0
        depth[r] = base
        for k, node in enumerate(reversed(path), 1):
            depth[node] = base + k
    return max(depth, default=0)


def double_tree_allreduce(n: int, size: Fraction, latency: Fraction, bandwidth: Fraction) -> Transfer:
    """Pipelined reduce up both trees, then pipelined broadcast down them (half a vector each)."""
    size, latency = as_fraction(size, "size"), as_fraction(latency, "latency")
    bandwidth = as_fraction(bandwidth, "bandwidth")
    _check_link(size, latency, bandwidth)
    if n < 1:
        raise ValueError("n must be >= 1")
    if n == 1:
        return NOTHING
    trees = double_tree(n)
    half = size / 2
    up = [0] * n    # halves each rank sends to its parents (reduce); it receives as many going down
    down = [0] * n  # halves each rank receives from its children (reduce); it sends as many going down
    for parents in trees:
        for r, p in enumerate(parents):
            if p >= 0:
                up[r] += 1
                down[p] += 1
    busiest = max(max(a, b) for a, b in zip(up, down)) * half
    height = max(_height(t) for t in trees)
    sent = sum(up) * half / n
    reduce = Transfer(height * latency + busiest / bandwidth, height, sent)
    broadcast = Transfer(height * latency + busiest / bandwidth, height, sum(down) * half / n)
    return Transfer(reduce.time + broadcast.time, 2 * height, reduce.bytes_per_gpu + broadcast.bytes_per_gpu)


def _fold(n: int) -> tuple[int, int]:
    """(p, r): the largest power of two p <= n and the r = n - p GPUs folded onto GPUs 0..r-1."""
    p = 1
    while 2 * p <= n:
        p *= 2
    return p, n - p


def halving_doubling_allreduce(n: int, size: Fraction, latency: Fraction, bandwidth: Fraction) -> Transfer:
    """Fold, recursive halving (GPU g swaps half of what it still reduces with g xor d, d = p/2,
    p/4 .. 1), recursive doubling back (d = 1, 2 .. p/2), unfold."""
    size, latency = as_fraction(size, "size"), as_fraction(latency, "latency")
    bandwidth = as_fraction(bandwidth, "bandwidth")
    _check_link(size, latency, bandwidth)
    if n < 1:
        raise ValueError("n must be >= 1")
    p, r = _fold(n)
    time, hops, sent = Fraction(0), 0, Fraction(0)
    if r:  # GPU p + i hands its whole vector to GPU i
        time, hops, sent = time + latency + size / bandwidth, hops + 1, sent + size * r / n
    piece, d = size, p // 2
    shares = []
    while d >= 1:  # reduce-scatter: halve what each GPU still owns
        piece /= 2
        shares.append(piece)
        time, hops, sent = time + latency + piece / bandwidth, hops + 1, sent + piece * p / n
        d //= 2
    for piece in reversed(shares):  # all-gather: double it back
        time, hops, sent = time + latency + piece / bandwidth, hops + 1, sent + piece * p / n
    if r:  # GPU i hands the result back to GPU p + i
        time, hops, sent = time + latency + size / bandwidth, hops + 1, sent + size * r / n
    return Transfer(time, hops, sent)


def halving_doubling_holdings(n: int) -> tuple[tuple[int, ...], ...]:
    """Replay the data movement of halving-doubling on n GPUs with p chunks (small n).

    holdings[g][c]: the bit set of GPUs whose contribution to chunk c GPU g holds at the end."""
    p, r = _fold(n)
    held = [[1 << g for _ in range(p)] for g in range(n)]
    for i in range(r):
        held[i] = [a | b for a, b in zip(held[i], held[p + i])]
    own = {g: (0, p) for g in range(p)}
    d = p // 2
    while d >= 1:
        new = {}
        for g in range(p):
            lo, hi = own[g]
            mid = (lo + hi) // 2
            new[g] = (lo, mid) if not g & d else (mid, hi)
        for g in range(p):  # g receives its partner's share of the half g keeps
            partner = g ^ d
            for c in range(*new[g]):
                held[g][c] |= held[partner][c]
        own, d = new, d // 2
    d = 1
    while d < p:
        merged = {}
        for g in range(p):
            partner = g ^ d
            for c in range(*own[partner]):
                held[g][c] = held[partner][c]
            merged[g] = (min(own[g][0], own[partner][0]), max(own[g][1], own[partner][1]))
        own, d = merged, d * 2
    for i in range(r):
        held[p + i] = list(held[i])
    return tuple(tuple(row) for row in held)


def switch_levels(n: int, radix: int) -> int:
    """Levels of a tree of switches of `radix` ports below each that joins n GPUs, built level
    by level: each level groups what is left `radix` at a time."""
    if n < 1 or radix < 2:
        raise ValueError("need n >= 1 and radix >= 2")
    levels, groups = 0, n
    while groups > 1:
        groups = -(-groups // radix)
        levels += 1
    return levels


def in_network_allreduce(n: int, size: Fraction, latency: Fraction, bandwidth: Fraction, radix: int) -> Transfer:
    """Each GPU streams its vector up the switch tree, the switches add, the sum streams down:
    the head crosses every level twice, each GPU sends the vector once and receives it once,
    the two directions at the same time."""
    size, latency = as_fraction(size, "size"), as_fraction(latency, "latency")
    bandwidth = as_fraction(bandwidth, "bandwidth")
    _check_link(size, latency, bandwidth)
    levels = switch_levels(n, radix)
    if n == 1:
        return NOTHING
    head = Fraction(0)
    for _ in range(levels):  # up to the top switch
        head += latency
    for _ in range(levels):  # and down to every GPU
        head += latency
    return Transfer(head + size / bandwidth, 2 * levels, size)


ALGORITHMS = ("ring", "double_tree", "halving_doubling", "in_network")


def allreduce(algorithm: str, n: int, size: Fraction, latency: Fraction, bandwidth: Fraction,
              radix: int | None = None) -> Transfer:
    """One all-reduce of `size` bytes over n GPUs on a switched network by the named algorithm."""
    if algorithm == "ring":
        return ring_allreduce(n, size, latency, bandwidth)
    if algorithm == "double_tree":
        return double_tree_allreduce(n, size, latency, bandwidth)
    if algorithm == "halving_doubling":
        return halving_doubling_allreduce(n, size, latency, bandwidth)
    if algorithm == "in_network":
        if radix is None:
            raise ValueError("in-network reduction needs the switches' radix")
        return in_network_allreduce(n, size, latency, bandwidth, radix)
    raise ValueError(f"unknown algorithm {algorithm}")


def fastest(n: int, size: Fraction, latency: Fraction, bandwidth: Fraction,
            radix: int | None = None) -> tuple[str, Transfer]:
    """`algorithm = auto`: run every algorithm the network offers (in-network reduction when
    its switches reduce, i.e. a radix is given) and keep the fastest; the first listed wins a tie."""
    best: tuple[str, Transfer] | None = None
    for name in ALGORITHMS:
        if name == "in_network" and radix is None:
            continue
        run = allreduce(name, n, size, latency, bandwidth, radix)
        if best is None or run.time < best[1].time:
            best = (name, run)
    assert best is not None
    return best
