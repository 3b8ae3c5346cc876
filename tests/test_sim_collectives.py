"""Collectives of the simulation core: hand-computed cases and the published checkpoints."""

from __future__ import annotations

import time
from fractions import Fraction as F

import pytest

from checker.sim import (Transfer, binomial_rounds, hierarchical_allreduce, ring_allreduce,
                         ring_holdings, ring_schedule, tree_allreduce)

GB = 10**9
US = F(1, 10**6)


def test_ring_small_by_hand():
    # 4 GPUs, 100 B, 1 s per hop, 10 B/s: 6 steps of (1 + 25/10) s, 6 chunks of 25 B sent.
    assert ring_allreduce(4, F(100), F(1), F(10)) == Transfer(F(21), 6, F(150))


def test_ring_one_gpu_is_free():
    assert ring_allreduce(1, F(10**9), F(1), F(1)) == Transfer(F(0), 0, F(0))


def test_ring_published_checkpoint_1gb_1024_gpus():
    t = ring_allreduce(1024, F(GB), 5 * US, F(50 * GB))
    # 2*1023*5 us + 2*1023/1024 * 1 GB / 50 GB/s = 10.23 ms + 39.9609375 ms
    assert t.time == F(501909375, 10**10)
    assert round(t.time * 1000, 1) == F(502, 10)  # 50.2 ms
    assert t.hops == 2046
    assert t.bytes_per_gpu == F(2 * 1023, 1024) * GB


def test_ring_is_fast_for_a_hundred_thousand_gpus():
    start = time.perf_counter()
    t = ring_allreduce(10**5, F(GB), 5 * US, F(50 * GB))
    assert time.perf_counter() - start < 1.0
    n = 10**5
    assert t.time == 2 * (n - 1) * 5 * US + F(2 * (n - 1), n) * F(GB) / (50 * GB)


def test_ring_schedule_moves_every_chunk_to_every_gpu():
    for n in range(2, 8):
        full = (1 << n) - 1
        assert ring_holdings(n) == tuple((full,) * n for _ in range(n))
    assert ring_holdings(1) == ((1,),)
    # in every step each GPU sends exactly one chunk to its right neighbour
    for step in range(6):
        messages = ring_schedule(4, step)
        assert sorted(m[0] for m in messages) == [0, 1, 2, 3]
        assert all(dst == (src + 1) % 4 for src, dst, _ in messages)


def test_ring_schedule_rejects_out_of_range_steps():
    with pytest.raises(ValueError):
        ring_schedule(4, 6)


@pytest.mark.parametrize("n, rounds, edges", [(1, 0, 0), (2, 1, 1), (3, 2, 2), (4, 2, 3),
                                               (5, 3, 4), (8, 3, 7), (9, 4, 8),
                                               (1024, 10, 1023), (1025, 11, 1024)])
def test_binomial_tree_rounds_are_ceil_log2(n, rounds, edges):
    assert binomial_rounds(n) == (rounds, edges)


@pytest.mark.parametrize("n, expected", [(2, 22), (4, 24), (5, 26), (8, 26), (9, 28)])
def test_tree_by_hand(n, expected):
    # 100 B, 1 s per hop, 10 B/s: 2 * (ceil(log2 n) * 1 + 100/10)
    t = tree_allreduce(n, F(100), F(1), F(10))
    assert t.time == expected
    assert t.hops == 2 * (expected // 2 - 10)
    assert t.bytes_per_gpu == F(2 * (n - 1), n) * 100  # mean over GPUs: each edge twice


def test_tree_one_gpu_is_free():
    assert tree_allreduce(1, F(100), F(1), F(10)) == Transfer(F(0), 0, F(0))


def test_hierarchical_published_checkpoint():
    t = hierarchical_allreduce(1024, 8, F(GB), 2 * US, F(450 * GB), 5 * US, F(50 * GB))
    assert t.time == F(1461287, 144 * 10**6)  # 10.1478 ms
    assert round(t.time * 1000, 1) == F(101, 10)
    assert t.hops == 2 * 7 + 2 * 127


def test_hierarchical_by_hand():
    # 8 GPUs in 2 domains of 4; 400 B; inside 1 s + B/100, between 10 s + B/10.
    # inside: 2 * 3 * (1 + 100/100) = 12; across: ring of 2 over 100 B = 2 * (10 + 50/10) = 30
    t = hierarchical_allreduce(8, 4, F(400), F(1), F(100), F(10), F(10))
    assert t == Transfer(F(42), 8, F(3 * 100 * 2 + 100))


def test_hierarchical_degenerate_domains():
    one_domain = hierarchical_allreduce(8, 8, F(800), F(1), F(100), F(10), F(10))
    assert one_domain == ring_allreduce(8, F(800), F(1), F(100))
    single_gpu_domains = hierarchical_allreduce(8, 1, F(800), F(1), F(100), F(10), F(10))
    assert single_gpu_domains == ring_allreduce(8, F(800), F(10), F(10))


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        hierarchical_allreduce(10, 4, F(1), F(1), F(1), F(1), F(1))
    with pytest.raises(ValueError):
        ring_allreduce(0, F(1), F(1), F(1))
    with pytest.raises(ValueError):
        tree_allreduce(4, F(1), F(1), F(0))
    with pytest.raises(TypeError):
        ring_allreduce(4, 1.5, F(1), F(1))  # floats are never accepted
