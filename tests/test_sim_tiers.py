"""Tiered networks: the core's tier-by-tier all-reduce by hand, the two-level network as a
special case (proved), and what a tiered network refuses, with where."""

from __future__ import annotations

import io
from fractions import Fraction as F

import pytest

from checker.api import check_text
from checker.sim import TierSpec, hierarchical_allreduce, tiered_allreduce
from checker.sim.tiers import tiered_all_to_all, tiered_reduce_scatter
from checker.report import write_text
from checker.solve import Limits
from conftest import ROOT

US = F(1, 10**6)
GB = 10**9


def test_two_tiers_are_the_hierarchical_all_reduce():
    for n, g in ((16, 4), (1024, 8), (8, 8), (72 * 3, 72)):
        tiers = (TierSpec(g, F(450 * GB), 2 * US), TierSpec(n, F(50 * GB), 5 * US))
        assert tiered_allreduce(tiers, F(GB)).time == hierarchical_allreduce(n, g, F(GB), 2 * US, F(450 * GB), 5 * US, F(50 * GB)).time


def test_three_tiers_by_hand():
    # 2 x 3 x 2 = 12 GPUs, 120 B. Tier 0 (g = 2, 1 s, 10 B/s): 2 (1 + 60/10) = 14 s.
    # Tier 1 (g = 3, 2 s, 10 B/s at 50 % efficiency = 5 B/s), 60 B: 2 * 2 (2 + 20/5) = 24 s.
    # Tier 2 (g = 2, 3 s, 20 B/s over 4x oversubscription = 5 B/s), 20 B: 2 (3 + 10/5) = 10 s.
    tiers = (TierSpec(2, F(10), F(1)), TierSpec(6, F(10), F(2), F(1, 2)), TierSpec(12, F(20), F(3), F(1), F(4)))
    assert tiered_allreduce(tiers, F(120)).time == 14 + 24 + 10
    assert tiered_reduce_scatter(tiers, F(120)).time == 24
    # all-to-all, 10 B a piece: 1 partner (1 + 1), 4 partners (2 + 2), 6 partners (3 + 2)
    assert tiered_all_to_all(tiers, F(120)).time == 2 + 16 + 30


def test_bad_tiers_are_refused():
    with pytest.raises(ValueError):
        tiered_allreduce((TierSpec(4, F(1), F(1)), TierSpec(6, F(1), F(1))), F(1))
    with pytest.raises(ValueError):
        tiered_allreduce((TierSpec(4, F(1), F(1), F(0)),), F(1))
    with pytest.raises(ValueError):
        tiered_allreduce((TierSpec(4, F(1), F(1), F(1), F(1, 2)),), F(1))


GPU = "gpu G { peak = 989 TFLOP/s; memory = 80 GB; tdp = 700 W }\n"
WORK = "workload {name} on {cluster} {{ kind = training; params = 1e9 .. 4e9; batch = 1e6 token; efficiency = 40 % }}\n"


def test_two_tiers_equal_the_hierarchical_network_for_every_model_size():
    text = (GPU + "cluster h { pool g = 64 x G\n  network { topology = hierarchical; bandwidth = 25 GB/s .. 50 GB/s; latency = 5 us; domain = 8; domain_bandwidth = 450 GB/s; domain_latency = 2 us } }\n"
            + "cluster t { pool g = 64 x G\n  network { topology = tiers; bandwidth = 25 GB/s .. 50 GB/s; latency = 5 us\n    nvlink { size = 8; bandwidth = 450 GB/s; latency = 2 us } } }\n"
            + WORK.format(name="a", cluster="h") + WORK.format(name="b", cluster="t")
            + "assume same: h.network.bandwidth == t.network.bandwidth\nassume model: a.params == b.params\n"
            + "check equal: a.comm_time == b.comm_time\n")
    result = check_text("t.spec", text, Limits(timeout_ms=10_000))
    assert not result.invalid, [d.header() for d in result.diagnostics]
    assert next(v for v in result.verdicts if v.claim.name == "equal").status == "proved"


def report(result) -> str:
    out = io.StringIO()
    write_text([result], out)
    return out.getvalue()


def run(network: str):
    text = GPU + f"cluster c {{ pool g = 48 x G\n  network {{ {network} }} }}\n" + WORK.format(name="w", cluster="c") + "check t: w.comm_time <= 1 s\n"
    return check_text("t.spec", text, Limits(timeout_ms=5_000))


@pytest.mark.parametrize("network, code, at", [  # at: the text the diagnostic points to
    ("topology = tiers; bandwidth = 50 GB/s; latency = 5 us", "missing-field", "network"),
    ("topology = ring; bandwidth = 50 GB/s; latency = 5 us; nvlink { size = 8; bandwidth = 450 GB/s; latency = 2 us }", "unknown-field", "nvlink"),
    ("topology = ring; bandwidth = 50 GB/s; latency = 5 us; oversubscription = 7", "conflicting-fields", "oversubscription"),
    ("topology = tiers; bandwidth = 50 GB/s; latency = 5 us; a { size = 8; bandwidth = 450 GB/s; latency = 2 us }; b { size = 12; bandwidth = 50 GB/s; latency = 2 us }", "bad-value", "12"),
    ("topology = tiers; bandwidth = 50 GB/s; latency = 5 us; a { size = 8; bandwidth = 450 GB/s }", "missing-field", "a {"),
    ("topology = tiers; bandwidth = 50 GB/s; latency = 5 us; a { size = 8; bandwidth = 450 GB/s; latency = 2 us; speed = 1 }", "unknown-field", "speed"),
    ("topology = tiers; bandwidth = 50 GB/s; latency = 5 us; a { size = 8; bandwidth = 450 GB/s; latency = 2 us }; a { size = 16; bandwidth = 50 GB/s; latency = 2 us }", "duplicate", "a { size = 16"),
    ("topology = tiers; bandwidth = 50 GB/s; latency = 5 us; oversubscription = 0.5; a { size = 8; bandwidth = 450 GB/s; latency = 2 us }", "invariant", "oversubscription"),
])
def test_bad_tiers_in_a_spec_are_refused_with_their_place(network, code, at):
    where = f"t.spec:3:{('  network { ' + network).index(at) + 1}: error: "
    found = [line for line in report(run(network)).splitlines() if line.startswith("t.spec:3:")]
    assert any(line.startswith(where) and line.endswith(f"[{code}]") for line in found), found


def test_a_group_that_is_not_whole_groups_of_the_top_tier_is_a_broken_invariant():
    result = run("topology = tiers; bandwidth = 50 GB/s; latency = 5 us; a { size = 32; bandwidth = 450 GB/s; latency = 2 us }")
    assert "is broken: a data-parallel group of 48 GPUs is not a multiple of a's size = 32 [invariant]" in report(result)
    assert next(v for v in result.verdicts if v.claim.name == "t").status != "proved"


def test_claims_name_a_tiers_numbers():
    text = (ROOT / "examples" / "tiers.spec").read_text(encoding="utf-8")
    text += "check o: llama.network.oversubscription == 7\ncheck b: llama.network.nvlink.efficiency == 82 %\ncheck p: llama.network.pod.bandwidth == 50 GB/s\n"
    result = check_text("x.spec", text, Limits(timeout_ms=5_000))
    assert {v.claim.name: v.status for v in result.verdicts if v.claim.name in ("o", "b", "p")} == {"o": "proved", "b": "proved", "p": "proved"}
