"""Collectives on a 2D or 3D torus, stepped dimension by dimension (spec/semantics.md, "Torus").

Every chip has two links in each dimension (to its + and - neighbour), each running at the
network's bandwidth in each direction. A dimension of k chips is k-chip rings, one through
each line of chips; each ring runs both ways at once, half the data clockwise, half the other
way. The all-reduce reduce-scatters the dimensions in ascending order (x, then y, then z), each
over what the one before left (1/k of it), then all-gathers them in descending order. Same cost
model as collectives.py (a step ends when its slowest message lands); no closed form is
evaluated here.
"""

from __future__ import annotations

from fractions import Fraction

from .collectives import NOTHING, Transfer, _check_link, _ring_phase, then
from .exact import as_fraction
from .scenario import NetworkSpec, OutOfReach

__all__ = ["torus_run", "torus_slice", "slice_shapes", "slice_numbered", "torus_lines", "torus_allreduce", "torus_reduce_scatter", "torus_all_to_all", "both_ways"]


def slice_shapes(chips: int, cube: int, extent: int) -> list[tuple[int, int, int]]:
    """Every slice of `chips` chips an optical switch may hand a job: A x B x C, each extent a
    multiple of `cube` (whole cubes) and at most the pod's `extent`, in ascending order."""
    if chips < 1 or cube < 1 or extent < 1:
        raise ValueError("need chips, cube and extent >= 1")
    shapes = []
    for a in range(cube, extent + 1, cube):
        for b in range(cube, extent + 1, cube):
            c, rest = divmod(chips, a * b)
            if rest == 0 and c % cube == 0 and cube <= c <= extent:
                shapes.append((a, b, c))
    return shapes


def slice_numbered(number: Fraction, shapes: list[tuple[int, int, int]]) -> tuple[int, int, int]:
    """The slice a number in [1, len(shapes)] names: the i-th for a number in (i - 1, i]."""
    if not shapes or not 1 <= number <= len(shapes):
        raise ValueError("a slice number is between 1 and the number of slices")
    i = 1
    while i < number:
        i += 1
    return shapes[i - 1]


def torus_lines(dims: tuple[int, ...], axis: int) -> list[list[tuple[int, ...]]]:
    """The rings of one dimension: every line of chips along `axis`, in ring order."""
    if not dims or any(k < 1 for k in dims) or not 0 <= axis < len(dims):
        raise ValueError("need extents >= 1 and an axis of the torus")
    others = [range(k) for i, k in enumerate(dims) if i != axis]
    starts: list[tuple[int, ...]] = [()]
    for r in others:
        starts = [s + (c,) for s in starts for c in r]
    lines = []
    for s in starts:
        lines.append([s[:axis] + (c,) + s[axis:] for c in range(dims[axis])])
    return lines


def both_ways(one: Transfer, other: Transfer) -> Transfer:
    """Two phases on disjoint links at the same time (the + and - rings): the later ends it."""
    return Transfer(max(one.time, other.time), max(one.hops, other.hops), one.bytes_per_gpu + other.bytes_per_gpu)


def _dimension(dims: tuple[int, ...], axis: int, held: Fraction, latency: Fraction, bandwidth: Fraction) -> Transfer:
    """A bidirectional ring reduce-scatter along `axis` of the `held` bytes each chip holds:
    every ring of the dimension at once; each direction k-1 steps of (held/2)/k."""
    lines = torus_lines(dims, axis)
    k = len(lines[0])
    if k == 1:
        return NOTHING
    assert len(lines) * k == _chips(dims)  # every chip is in exactly one ring of the dimension
    half = held / 2
    clockwise = _ring_phase(k - 1, half / k, latency, bandwidth)
    anticlockwise = _ring_phase(k - 1, half / k, latency, bandwidth)
    return both_ways(clockwise, anticlockwise)  # the rings of the dimension run side by side


def _chips(dims: tuple[int, ...]) -> int:
    count = 1
    for k in dims:
        count *= k
    return count


def _outwards(dims: tuple[int, ...], size, latency, bandwidth) -> list[Transfer]:
    size, latency = as_fraction(size, "size"), as_fraction(latency, "latency")
    bandwidth = as_fraction(bandwidth, "bandwidth")
    _check_link(size, latency, bandwidth)
    held, phases = size, []
    for axis, k in enumerate(dims):  # ascending: x, y, z
        phases.append(_dimension(dims, axis, held, latency, bandwidth))
        held = held / k  # each chip keeps 1/k of what it held, reduced over its ring
    return phases


def _at_once(dims: tuple[int, ...], size, latency, bandwidth) -> list[Transfer]:
    """Every dimension busy at once: the d dimensions of more than one chip each start a share
    size/d, share j running the dimensions j, j+1, ... cyclically. In phase t no two shares use
    the same dimension, so they run side by side on different links; the phase ends with its
    slowest share."""
    size, latency = as_fraction(size, "size"), as_fraction(latency, "latency")
    bandwidth = as_fraction(bandwidth, "bandwidth")
    _check_link(size, latency, bandwidth)
    active = [axis for axis, k in enumerate(dims) if k > 1]
    d = len(active)
    held = [size / d] * d  # what each chip holds of each share
    phases = []
    for t in range(d):
        used = [active[(j + t) % d] for j in range(d)]
        assert len(set(used)) == d  # one share per dimension: no link carries two
        phase = NOTHING
        for j, axis in enumerate(used):
            phase = both_ways(phase, _dimension(dims, axis, held[j], latency, bandwidth))
            held[j] = held[j] / dims[axis]
        phases.append(phase)
    return phases


def _phases(dims: tuple[int, ...], size, latency, bandwidth, at_once: bool) -> list[Transfer]:
    if at_once and sum(1 for k in dims if k > 1) > 1:
        return _at_once(dims, size, latency, bandwidth)
    return _outwards(dims, size, latency, bandwidth)


def torus_reduce_scatter(dims: tuple[int, ...], size, latency, bandwidth, at_once: bool = False) -> Transfer:
    """Reduce-scatter x, then y, then z: each chip ends with 1/(x·y·z) of the sum."""
    total = NOTHING
    for phase in _phases(dims, size, latency, bandwidth, at_once):
        total = then(total, phase)
    return total


def torus_allreduce(dims: tuple[int, ...], size, latency, bandwidth, at_once: bool = False) -> Transfer:
    """Reduce-scatter in ascending order of dimensions, all-gather in descending order."""
    phases = _phases(dims, size, latency, bandwidth, at_once)
    total = NOTHING
    for phase in phases:
        total = then(total, phase)
    for phase in reversed(phases):  # the all-gathers, each the same steps as its reduce-scatter
        total = then(total, phase)
    return total


def torus_all_to_all(dims: tuple[int, ...], size, latency, bandwidth) -> Transfer:
    """Dimension-ordered all-to-all: along each dimension in turn, each chip sends every chip
    of its ring what is bound for that chip's coordinate, relayed neighbour to neighbour; half
    of every piece goes each way round. Each chip holds `size` bytes throughout."""
    size, latency = as_fraction(size, "size"), as_fraction(latency, "latency")
    bandwidth = as_fraction(bandwidth, "bandwidth")
    _check_link(size, latency, bandwidth)
    total = NOTHING
    for axis in range(len(dims)):
        k = len(torus_lines(dims, axis)[0])
        if k == 1:
            continue
        one_way = _relay(k, size / 2, latency, bandwidth)
        total = then(total, both_ways(one_way, _relay(k, size / 2, latency, bandwidth)))
    return total


def _relay(k: int, size: Fraction, latency: Fraction, bandwidth: Fraction) -> Transfer:
    """A one-way ring all-to-all of `size` bytes per chip, size/k for each: in step s each chip
    forwards the pieces still travelling, (k - s)/k · size of it; k-1 steps."""
    piece, clock, sent, hops = size / k, Fraction(0), Fraction(0), 0
    for step in range(1, k):
        moving = piece * (k - step)  # pieces bound s or more hops away pass every link
        clock += latency + moving / bandwidth
        sent += moving
        hops += 1
    return Transfer(clock, hops, sent)


def torus_slice(net: NetworkSpec, chips: int) -> tuple[int, int, int]:
    """slice = any: the slice of the cluster's `chips` the network's slice number names."""
    assert net.slice is not None and net.cube is not None and net.extent is not None
    return slice_numbered(net.slice, slice_shapes(chips, net.cube, net.extent))


def torus_run(kind: str, net: NetworkSpec, dims: tuple[int, ...], n: int, size: Fraction) -> Transfer:
    """A data-parallel group of n GPUs on the torus `dims` (which it must fill): its all_reduce,
    reduce_scatter or all_to_all of `size` bytes a GPU."""
    chips = 1
    for k in dims:
        chips *= k
    if chips != n:
        raise OutOfReach(f"a group of {n} GPUs does not fill a torus of {chips} chips")
    if kind == "all_to_all":
        return torus_all_to_all(dims, size, net.latency, net.bandwidth)
    run = torus_allreduce if kind == "all_reduce" else torus_reduce_scatter
    return run(dims, size, net.latency, net.bandwidth, net.dimensions == "at_once")
