"""Reduce-scatter, all-gather and all-to-all in the simulation core (checker/sim/exchanges.py):
hand-computed cases, and the spec-level quantities by hand."""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from checker.api import check_text
from checker.sim import (Transfer, in_network_reduce_scatter, pairwise_all_to_all, pairwise_partners,
                         ring_all_to_all, ring_allreduce, ring_reduce_scatter, two_level_all_to_all,
                         two_level_reduce_scatter)
from checker.solve import Limits


def test_ring_reduce_scatter_by_hand_is_half_the_all_reduce():
    # 4 GPUs, 100 B, 1 s a hop, 10 B/s: 3 steps of 1 + 25/10 s
    assert ring_reduce_scatter(4, F(100), F(1), F(10)) == Transfer(F(21, 2), 3, F(75))
    assert 2 * ring_reduce_scatter(4, F(100), F(1), F(10)).time == ring_allreduce(4, F(100), F(1), F(10)).time
    assert ring_reduce_scatter(1, F(100), F(1), F(10)) == Transfer(F(0), 0, F(0))


def test_two_level_reduce_scatter_by_hand():
    # 8 GPUs in 2 domains of 4; 100 B. Inside (1 s, 100 B/s): 3 (1 + 25/100) = 3.75 s, leaving
    # 25 B; across (2 s, 10 B/s): 1 step of 2 + 12.5/10 = 3.25 s
    assert two_level_reduce_scatter(8, 4, F(100), F(1), F(100), F(2), F(10)).time == F(375, 100) + F(325, 100)


def test_in_network_reduce_scatter_by_hand():
    # 16 GPUs under switches of 4 ports: 2 levels up, 2 down; 15/16 of 160 B sent at 10 B/s
    t = in_network_reduce_scatter(16, F(160), F(1), F(10), 4)
    assert t.time == 4 + 15 and t.bytes_per_gpu == 150


def test_pairwise_all_to_all_by_hand():
    # 5 GPUs, 100 B: 4 steps of 1 + 20/10 s; every step a permutation
    assert pairwise_all_to_all(5, F(100), F(1), F(10)) == Transfer(F(12), 4, F(80))
    for step in range(1, 5):
        assert sorted(pairwise_partners(5, step)) == list(range(5))
        assert all(p != g for g, p in enumerate(pairwise_partners(5, step)))
    with pytest.raises(ValueError):
        pairwise_partners(5, 5)


def test_ring_all_to_all_relays_by_hand():
    # 4 GPUs, 100 B: steps carry 75, 50, 25 B: 3 s + 150/10 s
    assert ring_all_to_all(4, F(100), F(1), F(10)) == Transfer(F(18), 3, F(150))


def test_two_level_all_to_all_by_hand():
    # 8 GPUs, domains of 4, 80 B (10 B a piece): 3 steps inside (1 + 10/100), 4 outside (2 + 10/10)
    assert two_level_all_to_all(8, 4, F(80), F(1), F(100), F(2), F(10)).time == 3 * F(11, 10) + 4 * 3


SPEC = """gpu G {{ peak = 989 TFLOP/s; memory = 80 GB; tdp = 700 W }}
cluster c {{ pool g = 16 x G
  network {{ {network} }} }}
workload w on c {{ kind = training; params = 5e8; batch = 1e6 token; efficiency = 40 % }}
check rs: w.reduce_scatter_time == {rs}
check ag: w.all_gather_time == {rs}
check a2a: w.all_to_all_time == {a2a}
"""


@pytest.mark.parametrize("network, rs, a2a", [
    # S = 1 GB, n = 16, 50 GB/s, 5 us. ring: 15 x 5 us + 15/16 x 20 ms; all-to-all relayed: 15/2 x 20 ms
    ("topology = ring; bandwidth = 50 GB/s; latency = 5 us", "18.825 ms", "150.075 ms"),
    # switched (and tree): the same reduce-scatter; all-to-all pairwise: 15 x 5 us + 15/16 x 20 ms
    ("topology = switch; bandwidth = 50 GB/s; latency = 5 us", "18.825 ms", "18.825 ms"),
    ("topology = tree; bandwidth = 50 GB/s; latency = 5 us", "18.825 ms", "18.825 ms"),
    # reducing switches of 4 ports: 4 x 5 us + 18.75 ms beats the ring
    ("topology = switch; bandwidth = 50 GB/s; latency = 5 us; radix = 4", "18.77 ms", "18.825 ms"),
    # two levels of 4 (450 GB/s, 2 us inside): 3 x 2 us + 3/4 x 1 GB / 450 GB/s + 3 x 5 us + 3/4 x 250 MB / 50 GB/s
    ("topology = hierarchical; bandwidth = 50 GB/s; latency = 5 us; domain = 4; domain_bandwidth = 450 GB/s; domain_latency = 2 us",
     "0.006 ms + 1 s / 600 + 0.015 ms + 3.75 ms", "3 * (2 us + 62.5 MB / 450 GB/s) + 12 * (5 us + 62.5 MB / 50 GB/s)"),
])
def test_the_collectives_of_a_workload_by_hand(network, rs, a2a):
    result = check_text("c.spec", SPEC.format(network=network, rs=rs, a2a=a2a), Limits(timeout_ms=5_000))
    assert not result.invalid, [d.header() for d in result.diagnostics]
    assert {v.claim.name: v.status for v in result.verdicts if v.claim.kind == "check"} == {"rs": "proved", "ag": "proved", "a2a": "proved"}
    assert all(r.status == "confirmed" for r in result.replays.values())
