"""A training layout on a tiered network (spec/semantics.md, "Placing the layout on tiers"):
each parallel group's collective runs on the tiers that hold it. Hand-computed values, the
placement counted by the core rank by rank against the encoder's clamp(s/σ, 1, k), every
quantity of the closed form against the simulated schedule, the reduction to the two-link
(ring and NVLink domain) model, and the invariant that keeps the placement exact.
"""

from __future__ import annotations

import itertools
import os
from fractions import Fraction as F

import pytest
from hypothesis import HealthCheck, Phase, given, settings, strategies as st

from checker import encode_placement, model as m
from checker.parse import parse_text
from checker.resolve import resolve
from checker.sim.placement import _held
from agreement import assert_agrees, corner, quantities
from conftest import verify

US = F(1, 10**6)
GB = 10**9
MODEL = "model gpt { layers = 8; hidden = 1024; heads = 16; seq = 2048; vocab = 51200 }"
FABRIC = """  network {
    topology = tiers; bandwidth = OUTER; latency = 20 us; efficiency = 90 %; oversubscription = OVERSUB
    nvlink { size = 4;  bandwidth = 300 GB/s; latency = 5 us; efficiency = 50 % }
    pod    { size = 16; bandwidth = 25 GB/s;  latency = 10 us }
  }"""


def spec(layout: str, gpus: int = 64, outer: str = "25 GB/s", oversub: str = "4", extra: str = "", network: str = "", batch: int = 64) -> str:
    net = network or FABRIC.replace("OUTER", outer).replace("OVERSUB", oversub)
    return (f"{MODEL}\ncluster c {{\n  pool a = {gpus} x A100\n{net}\n}}\n"
            f"workload w on c {{ kind = training; model = gpt; batch = {batch} * 2048 token{extra}; layout {{ {layout} }} }}\n")


# ---- hand-computed -------------------------------------------------------------------------


def _ring(g: int, alpha: F, size: F, bandwidth: F) -> F:
    """One tier's share of an all-reduce: 2[(g − 1) α + (g − 1)/g · S / B] (Thakur et al. 2005)."""
    return 2 * ((g - 1) * alpha + F(g - 1, g) * size / bandwidth)


def test_each_group_runs_on_the_tiers_that_hold_it_by_hand():
    """tensor 8 outgrows the NVLink domain of 4 and spills into the pod; the two stages are 8
    ranks apart, so neighbours meet in the pod; the data-parallel ranks are 16 apart, one per
    pod, so their ring is the oversubscribed outermost tier's alone."""
    q = quantities(spec("tensor = 8; pipeline = 2; optimizer = none"))
    act = F(2 * 1 * 2048 * 1024)  # bf16 b s h
    nvlink, pod = F(300 * GB) / 2, F(25 * GB)
    outer = F(25 * GB) * F(9, 10) / 4
    tp_all_reduce = _ring(4, 5 * US, act, nvlink) + _ring(2, 10 * US, act / 4, pod)
    m_, layers = 64 // 4, 8 // 2  # microbatches per pipeline, layers per stage
    assert q["tp_comm_time"][0] == m_ * layers * 4 * tp_all_reduce  # 2 all-reduces forward, 2 backward
    assert q["pp_message_time"][0] == 10 * US + (act / 8) / pod
    params = 4 * F(12 * 1024**2, 8) + F(51200 * 1024, 8)  # stage 0: 4 layers and the embedding, split 8 ways
    assert q["dp_comm_time"][0] == _ring(4, 20 * US, 4 * params, outer)
    for name in ("tp_comm_time", "pp_message_time", "dp_comm_time"):
        assert q[name][1] == q[name][0], name


def test_a_pipeline_inside_the_domain_sends_on_nvlink_and_context_spills():
    """tensor 2 x context 2 fill the NVLink domain of 4; the context groups (stride 2) sit
    inside it; two stages of stride 4 meet in the pod."""
    q = quantities(spec("tensor = 2; context = 2; pipeline = 2; attention = flash"))
    act = F(2 * 1 * 1024 * 1024)  # b (s/c) h
    assert q["pp_message_time"][0] == 10 * US + (act / 2) / F(25 * GB)
    q = quantities(spec("tensor = 1; pipeline = 4; sequence_parallel = no"))
    act = F(2 * 1 * 2048 * 1024)
    assert q["pp_message_time"][0] == 5 * US + act / (F(300 * GB) / 2)  # four stages in one domain


# ---- the placement, counted by the core ------------------------------------------------------


def _layout(t: int, c: int, p: int, d: int, order: str) -> m.Layout:
    return m.Layout(t, p, d, c, 1, 1, True, "selective", 1, False, 1, None, 0, order)


@pytest.mark.parametrize("order", ["tp_cp_pp_dp", "tp_cp_dp_pp"])
@pytest.mark.parametrize("sizes", [(2, 8), (4, 16), (8, 32), (3, 6, 12), (4, 64)])
def test_members_per_tier_agree_with_the_core_rank_by_rank(sizes, order):
    """clamp(s/σ, 1, k) for each group against the core's count over every rank."""
    compared = 0
    for t, c, p, d in itertools.product((1, 2, 3, 4, 8), (1, 2), (1, 2, 4), (1, 2, 3)):
        x = _layout(t, c, p, d, order)
        ranked = tuple(encode_placement.extents(x).items())  # innermost first
        inner = list(itertools.accumulate((k for _, k in ranked), lambda a, b: a * b))
        if any(s % prod and prod % s for s in sizes for prod in inner):
            continue  # the layout's invariant refuses it
        for dims in (("tensor",), ("context",), ("pipeline",), ("context", "data")):
            for s in sizes:
                assert encode_placement.held(x, dims, s) == _held(ranked, dims, s), (ranked, dims, s)
                compared += 1
    assert compared > 100


def test_a_group_meeting_a_tier_unevenly_is_refused_by_the_core():
    with pytest.raises(ValueError, match="unevenly"):
        _held((("tensor", 3), ("context", 1), ("pipeline", 2), ("data", 1)), ("tensor",), 4)


def test_megatron_order_puts_data_inside_the_pipeline():
    """tensor 4, pipeline 2, data 4 on NVLink 4 and pods of 16: in Llama 3's order a pipeline
    (8 GPUs) sits in a pod and the data ranks are 8 apart, two per pod; in Megatron-LM's default
    the data ranks are 4 apart, all four in a pod, and the two stages are 16 apart, across pods."""
    layout = "tensor = 4; pipeline = 2; data = 4; optimizer = none"
    llama = quantities(spec(layout, gpus=32))
    megatron = quantities(spec(layout + "; order = tp_cp_dp_pp", gpus=32))
    act = F(2 * 1 * 2048 * 1024)
    pod, outer = F(25 * GB), F(25 * GB) * F(9, 10) / 4
    assert llama["pp_message_time"][0] == 10 * US + (act / 4) / pod
    assert megatron["pp_message_time"][0] == 20 * US + (act / 4) / outer
    params = 4 * F(12 * 1024**2, 4) + F(51200 * 1024, 4)
    grads = 4 * params
    assert llama["dp_comm_time"][0] == _ring(2, 10 * US, grads, pod) + _ring(2, 20 * US, grads / 2, outer)
    assert megatron["dp_comm_time"][0] == _ring(4, 10 * US, grads, pod)
    for q in (llama, megatron):
        for name in ("pp_message_time", "dp_comm_time", "tp_comm_time"):
            assert q[name][1] == q[name][0], name


# ---- the closed form against the schedule --------------------------------------------------

LAYOUTS = [
    ("tensor = 8; pipeline = 2", 64),
    ("tensor = 2; pipeline = 4; virtual = 2; data = 8", 64),
    ("tensor = 4; pipeline = 4; data = 4; microbatch = 2; recompute = full; sequence_parallel = no", 64),
    ("tensor = 2; pipeline = 2; context = 2; data = 8; attention = flash; optimizer = weights", 64),
    ("tensor = 16; pipeline = 2; data = 2; optimizer = gradients", 64),
    ("tensor = 2; context = 4; pipeline = 2; data = 4; attention = flash", 64),
    ("tensor = 4; pipeline = 4; data = 8; recompute = none", 128),
    ("tensor = 2; context = 2; pipeline = 4; data = 4; attention = flash; order = tp_cp_dp_pp", 64),
    ("tensor = 8; pipeline = 2; data = 8; virtual = 2; order = tp_cp_dp_pp", 128),
]


@pytest.mark.parametrize("layout, gpus", LAYOUTS)
@pytest.mark.parametrize("side", ["low", "high"])
def test_every_quantity_against_the_schedule(layout, gpus, side):
    text = spec(layout, gpus=gpus, outer="25 GB/s .. 100 GB/s", oversub="1 .. 7", extra="; jitter = 0 % .. 10 %; overlap = 0 % .. 50 %")
    assert_agrees(text, corner(text, high=side == "high"))


CAP = int(os.environ.get("DIFFERENTIAL_EXAMPLES", "0") or 0)


@st.composite
def placements(draw):
    """A layout of 2 .. 64 GPUs (a power of two, so every tier size divides every block) on one
    or two inner tiers of random sizes, links and shares, and its corner of the ranges."""
    t, c, p = (draw(st.sampled_from(options)) for options in ((1, 2, 4, 8, 16), (1, 2), (1, 2, 4)))
    d = draw(st.sampled_from((1, 2, 4)))
    gpus = t * c * p * d
    sizes = sorted(draw(st.sets(st.sampled_from((2, 4, 8, 16, 32)), min_size=1, max_size=2)))
    tiers = "\n".join(f"    t{i} {{ size = {s}; bandwidth = {draw(st.sampled_from((25, 50, 450)))} GB/s; latency = {draw(st.sampled_from((1, 5)))} us;"
                      f" efficiency = {draw(st.sampled_from((50, 90)))} %; oversubscription = {draw(st.sampled_from((1, 2)))} }}" for i, s in enumerate(sizes))
    network = (f"  network {{\n    topology = tiers; bandwidth = 10 GB/s .. 50 GB/s; latency = 10 us; oversubscription = 1 .. 7\n{tiers}\n  }}")
    order = draw(st.sampled_from(("tp_cp_pp_dp", "tp_cp_dp_pp")))
    flash = "; attention = flash" if c > 1 else ""
    zero = draw(st.sampled_from(("none", "distributed")))
    layout = f"tensor = {t}; context = {c}; pipeline = {p}; data = {d}; order = {order}; optimizer = {zero}{flash}"
    return spec(layout, gpus=gpus, network=network, batch=max(d, 4) * 4, extra="; jitter = 0 % .. 10 %"), draw(st.booleans())


@settings(max_examples=min(12, CAP) if CAP else 12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow],
          phases=(Phase.explicit, Phase.generate) if os.environ.get("DIFFERENTIAL_NO_SHRINK") else tuple(Phase))
@given(placements())
def test_random_layouts_on_random_tiers_agree_with_the_core(case):
    text, high = case
    model, _ = resolve(parse_text("t.spec", text))
    point = {u.id: (u.high if high else u.low) for u in model.unknowns}
    assert_agrees(text, point)


TWO_LINKS = """  network {
    topology = ring; bandwidth = 25 GB/s; latency = 20 us; efficiency = 90 %
    domain = 8; domain_bandwidth = 300 GB/s; domain_latency = 5 us; domain_efficiency = 50 %
  }"""
ONE_TIER = """  network {
    topology = tiers; bandwidth = 25 GB/s; latency = 20 us; efficiency = 90 %
    nvlink { size = 8; bandwidth = 300 GB/s; latency = 5 us; efficiency = 50 % }
  }"""


@pytest.mark.parametrize("layout", ["tensor = 8; pipeline = 2", "tensor = 8; context = 2; pipeline = 2; attention = flash", "tensor = 8; pipeline = 4; virtual = 2"])
def test_one_domain_tier_is_the_two_link_model(layout):
    """With the tensor groups filling the domain, every group sits where the ring-and-domain
    model puts it (context and pipeline groups outside the domain): every quantity is the same."""
    tiers = quantities(spec(layout, network=ONE_TIER))
    links = quantities(spec(layout, network=TWO_LINKS))
    assert tiers.keys() == links.keys()
    for name in tiers:
        assert tiers[name][0] == links[name][0], name


def test_context_inside_the_domain_reduces_gradients_there_first():
    """The two-link model runs the data x context ring on the scale-out link alone; on tiers
    the two context ranks of a domain reduce over NVLink first, and the scale-out ring moves
    half: the exchange is shorter, everything else the same."""
    layout = "tensor = 4; context = 2; pipeline = 2; attention = flash"
    tiers = quantities(spec(layout, network=ONE_TIER))
    links = quantities(spec(layout, network=TWO_LINKS))
    assert tiers["dp_comm_time"][0] < links["dp_comm_time"][0]
    assert tiers["cp_comm_time"][0] == links["cp_comm_time"][0] and tiers["tp_comm_time"][0] == links["tp_comm_time"][0]


# ---- the layout's rule ---------------------------------------------------------------------


def test_a_layout_meeting_a_tier_unevenly_establishes_nothing(tmp_path):
    path = tmp_path / "uneven.spec"
    network = FABRIC.replace("OUTER", "25 GB/s").replace("OVERSUB", "1").replace("size = 4;", "size = 6;").replace("size = 16;", "size = 24;")
    path.write_text(spec("tensor = 4; pipeline = 2", gpus=48, network=network, batch=48) + "check s: w.step_time <= 1000 s\n")
    result = verify(str(path))
    assert result.code == 1
    assert "built-in invariants: 28 of 30 hold" in result.out  # the pod of 24 holds whole groups; memory rests on the layout
    assert "violated        invariant: w: the layout's groups meet tier nvlink's groups evenly" in result.out
    assert f"{path}:10:83: error: invariant 'w: the layout's groups meet tier nvlink's groups evenly' is broken: tier nvlink of 6 GPUs and a block of 4 ranks" in result.out
    assert "check 's' is not established" in result.out


def test_an_order_needs_tiers(tmp_path):
    path = tmp_path / "order.spec"
    path.write_text(spec("tensor = 8; order = tp_cp_dp_pp", network=TWO_LINKS))
    result = verify(str(path))
    assert result.code == 2 and f"{path}:9:95: error: 'order' places the layout's groups on the tiers" in result.out


def test_a_switched_network_still_cannot_carry_a_layout(tmp_path):
    path = tmp_path / "switch.spec"
    path.write_text(spec("tensor = 8", network="  network { topology = switch; bandwidth = 50 GB/s; latency = 5 us }"))
    result = verify(str(path))
    assert result.code == 2 and "'topology' must be ring or tiers" in result.out
