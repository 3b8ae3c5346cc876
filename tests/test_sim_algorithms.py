"""All-reduce algorithms on a switched network (checker/sim/algorithms.py): hand-computed
cases, the structure of the trees, data movement, and the published figures with sources."""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from checker.sim import (Transfer, double_tree, double_tree_allreduce, fastest,
                         halving_doubling_allreduce, halving_doubling_holdings,
                         in_network_allreduce, ring_allreduce, switch_levels)
from checker.sim.algorithms import btree

GB = 10**9
US = F(1, 10**6)


# ---- NCCL's double binary tree ---------------------------------------------------------------


def test_btree_is_nccls_tree_of_sixteen():
    # The picture in NCCL's src/graph/trees.cc (ncclGetBtree) for 16 ranks:
    # 0 -> 8; 8 -> 4, 12; 4 -> 2, 6; 12 -> 10, 14; 2 -> 1, 3; ... 14 -> 13, 15
    expected = {0: (-1, (8,)), 8: (0, (4, 12)), 4: (8, (2, 6)), 12: (8, (10, 14)),
                2: (4, (1, 3)), 6: (4, (5, 7)), 10: (12, (9, 11)), 14: (12, (13, 15))}
    for rank, tree in expected.items():
        assert btree(16, rank) == tree
    for leaf in range(1, 16, 2):
        assert btree(16, leaf)[1] == ()


@pytest.mark.parametrize("n", [3, 4, 5, 6, 7, 8, 12, 13, 100, 257, 1000])
def test_double_tree_spans_every_rank_and_each_is_inner_in_at_most_one(n):
    first, second = double_tree(n)
    inner = [set(p for p in tree if p >= 0) for tree in (first, second)]
    for tree in (first, second):
        assert sum(1 for p in tree if p < 0) == 1  # one root
    # Sanders, Speck & Träff: a rank with children in one tree is a leaf of the other, except
    # the roots (one child each)
    roots = {first.index(-1), second.index(-1)}
    assert all(r in roots for r in inner[0] & inner[1])
    assert all(sum(1 for p in tree if p == r) <= 2 for tree in (first, second) for r in range(n))


def test_double_tree_by_hand_eight_gpus():
    # n = 8: both trees 3 levels deep (0 -> 4 -> 2 -> 1); every GPU sends and receives two
    # halves in each pass. 1 GB, 5 us, 50 GB/s: 2 (3 * 5 us + 1 GB / 50 GB/s) = 40.03 ms
    t = double_tree_allreduce(8, F(GB), 5 * US, F(50 * GB))
    assert t.time == 2 * (3 * 5 * US + F(1, 50))
    assert t.hops == 6


def test_double_tree_two_gpus_send_half_a_vector_each_way():
    # n = 2: each GPU is the root of one tree and the leaf of the other: half a vector a pass
    t = double_tree_allreduce(2, F(100), F(1), F(10))
    assert t.time == 2 * (1 + F(50, 10))
    assert double_tree_allreduce(1, F(100), F(1), F(10)) == Transfer(F(0), 0, F(0))


# ---- recursive halving and doubling ----------------------------------------------------------


@pytest.mark.parametrize("n", list(range(1, 34)))
def test_halving_doubling_moves_every_contribution_to_every_gpu(n):
    full = (1 << n) - 1
    assert all(chunk == full for row in halving_doubling_holdings(n) for chunk in row)


def test_halving_doubling_by_hand():
    # n = 8 (a power of two): 3 halving steps of 50, 25, 12.5 B then 3 doubling steps back;
    # 100 B, 1 s, 10 B/s: 6 s + 2 * 87.5 / 10 s
    assert halving_doubling_allreduce(8, F(100), F(1), F(10)).time == 6 + F(175, 10)
    # n = 6: fold 2 GPUs (1 + 10 s), 2 halving and 2 doubling steps on 4 (4 + 2 * 75/10 s), unfold
    t = halving_doubling_allreduce(6, F(100), F(1), F(10))
    assert t.time == 11 + 4 + 15 + 11
    assert t.hops == 6


# ---- in-network reduction ------------------------------------------------------------------


@pytest.mark.parametrize("n, radix, levels", [(1, 8, 0), (2, 8, 1), (8, 8, 1), (9, 8, 2), (64, 8, 2), (65, 8, 3),
                                              (100_000, 64, 3), (100_000, 32, 4), (32_768, 32, 3)])
def test_switch_levels(n, radix, levels):
    assert switch_levels(n, radix) == levels


def test_in_network_by_hand():
    # 100 000 GPUs under switches of 64 ports: 3 levels up, 3 down; the vector once each way.
    t = in_network_allreduce(100_000, F(GB), 5 * US, F(50 * GB), 64)
    assert t.time == 6 * 5 * US + F(1, 50)
    assert t.bytes_per_gpu == GB


# ---- the bus-bandwidth relation and published figures ----------------------------------------


def busbw(n: int, size: F, time: F) -> F:
    """nccl-tests doc/PERFORMANCE.md: algbw = S / t; for all-reduce busbw = algbw * 2(n-1)/n."""
    return size / time * F(2 * (n - 1), n)


@pytest.mark.parametrize("n", [2, 3, 8, 72, 1000])
def test_ring_bus_bandwidth_is_the_link_bandwidth_without_latency(n):
    # nccl-tests doc/PERFORMANCE.md: the bus bandwidth "reflects how optimally the hardware is
    # used"; for the ring it is exactly the link bandwidth when the hops cost no latency.
    link = F(450 * GB)
    for size in (F(1), F(GB), F(8 * GB)):
        assert busbw(n, size, ring_allreduce(n, size, F(0), link).time) == link
    # and strictly less with any latency
    assert busbw(n, F(GB), ring_allreduce(n, F(GB), US, link).time) < link


def test_h100_nvlink_published_bus_bandwidth_needs_in_network_reduction():
    # Published: 8x H100 SXM5, NVLink 4, all_reduce_perf busbw at large sizes 460-480 GB/s,
    # against 450 GB/s per direction (Alaya NeW, "NCCL-tests in practice", 2026, table
    # "Reference numbers"; 450 GB/s: NVIDIA H100 datasheet, 900 GB/s bidirectional NVLink).
    n, link, latency, size = 8, F(450 * GB), 2 * US, F(8 * GB)
    published_low, published_high = F(460 * GB), F(480 * GB)
    host_based = [ring_allreduce(n, size, latency, link), double_tree_allreduce(n, size, latency, link),
                  halving_doubling_allreduce(n, size, latency, link)]
    # every algorithm that reduces on the GPUs stays below the link rate, so below the figure
    assert all(busbw(n, size, t.time) < link < published_low for t in host_based)
    # NVLS (the NVSwitch reduces; all 8 GPUs under one switch level) allows up to 2(n-1)/n x 450
    nvls = busbw(n, size, in_network_allreduce(n, size, latency, link, 8).time)
    assert published_high < nvls < F(7, 4) * link
    # and auto picks it, as NCCL does on NVSwitch systems with NVLS
    assert fastest(n, size, latency, link, 8)[0] == "in_network"


def test_auto_picks_by_message_size():
    n, latency, link = 1000, 5 * US, F(50 * GB)
    # tiny message: latency decides; the tree's 2 ceil(log2 1000) = 20 hops beat the ring's 1998
    # and halving-doubling's 2*9 + 2 = 20 (the tree is listed first)
    assert fastest(n, F(1000), latency, link)[0] == "double_tree"
    # large messages on 1000 GPUs (not a power of two): the ring moves 2(n-1)/n S, the tree 2S,
    # halving-doubling 2(511/512)S + 2S; the ring's saving 2S/(nB) pays for its 1978 extra hops
    # (9.89 ms) once S/B > 4.945 s: not at 100 GB (2 s), at 1 TB (20 s)
    assert fastest(n, F(100 * GB), latency, link)[0] == "double_tree"
    assert fastest(n, F(1000 * GB), latency, link)[0] == "ring"
    # a power of two: halving-doubling moves what the ring does in log2 n steps
    assert fastest(1024, F(100 * GB), latency, link)[0] == "halving_doubling"
    assert fastest(1024, F(100 * GB), latency, link, radix=32)[0] == "in_network"


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        switch_levels(8, 1)
    with pytest.raises(ValueError):
        double_tree_allreduce(0, F(1), F(1), F(1))
    with pytest.raises(ValueError):
        halving_doubling_allreduce(4, F(1), F(1), F(0))
