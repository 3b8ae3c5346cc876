"""Training a mixture of experts: hand-computed counts and times, the closed forms against the
core's layer-by-layer step on several layouts, and the layout's rules for expert parallelism.
"""

from __future__ import annotations

from fractions import Fraction as F

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker import sim
from checker.parse import parse_text
from checker.resolve import resolve
from agreement import assert_agrees, corner, quantities
from conftest import verify

NETWORK = """  network {
    topology = ring; bandwidth = 50 GB/s; latency = 5 us; efficiency = 90 %
    domain = 8; domain_bandwidth = 450 GB/s; domain_latency = 3 us; domain_efficiency = 80 %
  }"""

MOE = ("model moe { layers = 4; hidden = 1024; heads = 16; kv_heads = 4; ffn = 4096; mlp = swiglu; seq = 2048; vocab = 32000\n"
       "  experts = 16; top_k = 2; shared_experts = 1; expert_ffn = 512; dense_layers = 1 }")


def spec(layout: str, gpus: int = 64, extra: str = "", model: str = MOE, pools: str = "") -> str:
    pools = pools or f"  pool a = {gpus} x H100"
    return (f"{model}\ncluster c {{\n{pools}\n{NETWORK}\n}}\n"
            f"workload w on c {{ kind = training; model = moe; batch = 128 * 2048 token{extra}; layout {{ {layout} }} }}\n")


# ---- by hand ----------------------------------------------------------------------------------

H, S, V, L, E, K, FE, FFN = 1024, 2048, 32000, 4, 16, 2, 512, 4096
ATTENTION = H * H * (2 + F(2 * 4, 16))  # Q, O h·h; K, V h·(kv_heads/heads)·h
ONE = 3 * H * FE  # one SwiGLU expert
MOE_FIXED = ATTENTION + H * E + ONE  # attention, router, one shared expert
DENSE = ATTENTION + 3 * H * FFN


def test_flops_count_the_active_parameters():
    """3 × forward: 2 FLOP per active weight and token (top_k routed + shared + router in the
    three layers of experts, the dense MLP in the first), the attention core and the logits."""
    q = quantities(spec("tensor = 2; expert = 8"))
    tokens = 128 * S
    forward = 2 * tokens * (DENSE + 3 * (MOE_FIXED + K * ONE)) + L * 4 * tokens * S * H + 2 * tokens * H * V
    assert q["flops"][0] == q["flops"][1] == 3 * forward


def test_state_holds_every_expert_sharded_by_expert_parallelism():
    """No pipelining, t = 2, ep = 8 over d = 32: E/ep = 2 experts a layer on a GPU; the experts'
    optimizer state is sharded over the d/ep = 4 ranks holding the same experts, the rest over 32."""
    q = quantities(spec("tensor = 2; expert = 8"))
    shared = F(DENSE + 3 * MOE_FIXED + V * H, 2)
    experts = F(3 * 2 * ONE, 2)
    assert q["state_per_gpu"][0] == q["state_per_gpu"][1] == (6 + F(12, 32)) * shared + (6 + F(12, 4)) * experts


def test_the_all_to_all_by_hand():
    """ep = 8 with t = 2: the group takes every other GPU, so 4 share a domain of 8 (3 partners
    over NVLink) and 4 are across the network. Each GPU sends top_k copies of its 2048 tokens
    (bf16, S = 2·2048·1024·2 bytes), S/8 to each partner, twice a pass (dispatch, combine), forward
    and backward, for each of 3 layers of experts and 64 microbatches; the busiest GPU receives
    1 + expert_load times the mean."""
    text = spec("tensor = 2; expert = 8", extra="; expert_load = 25 %")
    q = quantities(text)
    size = F(2 * 2048 * 1024 * 2) * F(5, 4)
    inside = 3 * (F(3, 10**6) + size / 8 / (F(450 * 10**9) * F(4, 5)))
    outside = 4 * (F(5, 10**6) + size / 8 / (F(50 * 10**9) * F(9, 10)))
    microbatches = 128 // 32
    assert q["ep_comm_time"][0] == q["ep_comm_time"][1] == microbatches * 3 * 4 * (inside + outside)


def test_the_busiest_expert_sets_the_pace():
    low, high = (quantities(spec("tensor = 2; expert = 8", extra="; expert_load = 0 % .. 50 %"), {"w.expert_load": x}) for x in (F(0), F(1, 2)))
    assert high["compute_time"][0] > low["compute_time"][0] and high["step_time"][0] > low["step_time"][0]
    assert high["flops"][0] == low["flops"][0]  # model FLOPs count the mean load: MFU falls
    assert high["mfu"][0] < low["mfu"][0]


def test_domain_partners():
    assert sim.domain_partners(8, 2, 8, 64) == 4  # every other GPU: 4 in a domain of 8
    assert sim.domain_partners(4, 1, 8, 64) == 4  # all inside
    assert sim.domain_partners(64, 1, 8, 64) == 8
    assert sim.domain_partners(3, 3, 8, 9) == 3  # 0, 3, 6: one domain
    assert sim.domain_partners(4, 3, 8, 12) == 1  # 0, 3, 6 | 9: uneven, every partner over the network
    assert sim.domain_partners(8, 8, 72, 73728) == 1  # NVL72: the second group is 64..120, across two domains unevenly
    assert sim.domain_partners(8, 1, 12, 48) == 4  # 0..7 in one domain, 8..15 four and four


# ---- the closed forms against the core ------------------------------------------------------

LAYOUTS = [
    ("tensor = 2; expert = 8", 64),
    ("tensor = 1; expert = 16; optimizer = weights; attention = flash", 64),
    ("tensor = 2; pipeline = 2; expert = 4; recompute = full", 64),
    ("tensor = 1; pipeline = 2; virtual = 2; expert = 8; microbatch = 2; recompute = none; sequence_parallel = no", 64),
    ("tensor = 2; pipeline = 2; expert = 2; context = 2; optimizer = none", 64),
]


@pytest.mark.parametrize("layout, gpus", LAYOUTS)
@pytest.mark.parametrize("side", ["low", "high"])
def test_every_quantity_against_the_core(layout, gpus, side):
    text = spec(layout, gpus=gpus, extra="; jitter = 0 % .. 10 %; overlap = 0 % .. 50 %; expert_load = 0 % .. 40 %")
    assert_agrees(text, corner(text, high=side == "high"))


def test_without_pipelining_the_step_is_exact():
    for name, (closed, simulated, _) in quantities(spec("tensor = 2; expert = 8", extra="; expert_load = 10 %")).items():
        assert closed == simulated, name


@st.composite
def trained(draw) -> tuple[str, dict]:
    """A small mixture of experts on a random layout (tensor, pipeline with interleaving and
    trim, context, expert, recomputation, sharding, flash), with ranges on the load, the jitter,
    the overlap and the domain's share; and a point inside every range."""
    layers = draw(st.sampled_from([4, 6, 8]))
    experts = draw(st.sampled_from([4, 8, 16]))
    tensor = draw(st.sampled_from([1, 2]))
    pipeline = draw(st.sampled_from([p for p in (1, 2) if layers % p == 0]))
    virtual = draw(st.sampled_from([1, 2])) if pipeline > 1 and layers % (2 * pipeline) == 0 else 1
    context = draw(st.sampled_from([1, 2]))
    expert = draw(st.sampled_from([e for e in (1, 2, 4, 8) if experts % e == 0]))
    chunk = layers // (pipeline * virtual)
    dense = draw(st.integers(0, min(chunk, layers - 1) if pipeline > 1 else layers - 1))
    shared = draw(st.integers(0, 2))
    replicas = expert * draw(st.sampled_from([1, 2]))
    gpus = tensor * pipeline * context * replicas
    microbatch = draw(st.sampled_from([1, 2]))
    sequences = replicas * microbatch * pipeline * draw(st.integers(1, 2))
    recompute = draw(st.sampled_from(["none", "selective", "full"]))
    optimizer = draw(st.sampled_from(["none", "distributed", "gradients", "weights"]))
    attention = draw(st.sampled_from(["standard", "flash"]))
    model = (f"model moe {{ layers = {layers}; hidden = 256; heads = 4; kv_heads = 2; ffn = 512; mlp = swiglu; seq = 256; vocab = 1000\n"
             f"  experts = {experts}; top_k = {draw(st.integers(1, min(experts, 4)))}; expert_ffn = 64"
             + (f"; shared_experts = {shared}" if shared else "") + (f"; dense_layers = {dense}" if dense else "") + " }")
    layout = (f"tensor = {tensor}; pipeline = {pipeline}; virtual = {virtual}; context = {context}; expert = {expert}; microbatch = {microbatch}; "
              f"recompute = {recompute}; optimizer = {optimizer}; attention = {attention}")
    text = spec(layout, gpus=gpus, model=model, extra="; jitter = 0 % .. 10 %; overlap = 0 % .. 50 %; expert_load = 0 % .. 100 %").replace(
        "128 * 2048 token", f"{sequences} * 256 token").replace("domain_efficiency = 80 %", "domain_efficiency = 50 % .. 90 %")
    model_, diagnostics = resolve(parse_text("t.spec", text))
    assert model_ is not None, [d.header() for d in diagnostics]
    point = {u.id: u.low + (u.high - u.low) * draw(st.fractions(min_value=0, max_value=1, max_denominator=100)) for u in model_.unknowns}
    return text, point


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trained())
def test_random_layouts_agree_with_the_core(case):
    text, point = case
    assert_agrees(text, point)


# ---- the layout's rules -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ("tensor = 2; expert = 3", "experts = 16 is not a multiple of expert = 3"),
        ("tensor = 4; pipeline = 4; expert = 8", "data x context = 4 is not a multiple of expert = 8"),
        ("tensor = 2; pipeline = 4; expert = 8", "dense_layers = 2 do not fit in the first chunk of 1 layers"),
    ],
)
def test_an_expert_layout_must_divide(layout, message, tmp_path):
    model = MOE.replace("dense_layers = 1", "dense_layers = 2") if "tensor = 2; pipeline = 4" in layout else MOE
    path = tmp_path / "t.spec"
    path.write_text(spec(layout, model=model) + "check s: w.step_time <= 1000 s\n")
    result = verify(str(path))
    assert result.code == 1 and message in result.out and "not established" in result.out


def test_expert_fields_need_experts(tmp_path):
    dense = "model moe { layers = 4; hidden = 1024; heads = 16; seq = 2048; vocab = 32000 }"
    path = tmp_path / "t.spec"
    path.write_text(spec("tensor = 2; expert = 8", model=dense, extra="; expert_load = 10 %"))
    result = verify(str(path))
    assert result.code == 2
    assert "t.spec:9:75: error: 'expert_load' is the imbalance of a mixture of experts" in result.out
    assert "t.spec:9:116: error: 'expert' spreads a mixture of experts; 'moe' has no experts" in result.out


def test_a_mixture_of_experts_on_tiers_is_refused_where_the_network_is_written(tmp_path):
    tiers = """  network {
    topology = tiers; bandwidth = 50 GB/s; latency = 5 us
    nvlink { size = 8; bandwidth = 450 GB/s; latency = 3 us }
  }"""
    path = tmp_path / "t.spec"
    path.write_text(spec("tensor = 2; expert = 8").replace(NETWORK, tiers))
    result = verify(str(path))
    assert result.code == 2
    assert "t.spec:5:3: error: 'moe' is a mixture of experts: its all-to-all and expert gradients run over" in result.out
    assert "placing them on tiers is not modelled" in result.out and "Traceback" not in result.out + result.err


def test_a_proof_over_the_imbalance(tmp_path):
    path = tmp_path / "t.spec"
    path.write_text(spec("tensor = 2; expert = 8", extra="; expert_load = 0 % .. 50 %") + "check m: w.mfu >= 1 %\ncheck e: w.ep_comm_time <= 1 ms\n")
    result = verify(str(path))
    assert result.code == 1
    assert "check 'm' is proved" in result.out and "check 'e' is violated" in result.out
    assert "w.expert_load = 50 %" in result.out and "confirmed by simulation" in result.out


# ---- validation: DeepSeek-V3's published training cost ------------------------------------
#
# DeepSeek-AI, "DeepSeek-V3 Technical Report", arXiv:2412.19437 (2024), Table 1 and section 1:
# pre-training on 14.8T tokens took 2664K H800 GPU-hours, "180K H800 GPU hours" per trillion
# tokens, on a cluster of 2048 H800 GPUs (section 3.1). The run hid its expert all-to-all behind
# computation (DualPipe, section 3.2.1) and ran its matmuls in FP8 (section 3.3); the model here
# does neither, so the published cost must lie between the model's step with the all-to-all
# hidden entirely and with it exposed. Tolerance stated: inside that bracket at every load in
# the example's range, and the exposed figure within a factor of 2 of the published one.

PUBLISHED_GPU_HOURS_PER_TRILLION = F(2664_000, F(148, 10))  # 2664K GPU-hours / 14.8T tokens
assert round(PUBLISHED_GPU_HOURS_PER_TRILLION, -3) == 180_000  # the report's own "180K"


@pytest.mark.parametrize("load", [F(0), F(1, 10)])
def test_deepseek_v3_published_cost_lies_in_the_bracket(load):
    from conftest import ROOT

    text = (ROOT / "examples" / "deepseek-v3-training.spec").read_text(encoding="utf-8")
    q = quantities(text, {"pretrain.expert_load": load}, block="pretrain")
    tokens = 16384 * 4096
    step, a2a = q["step_time"][0], q["ep_comm_time"][0]
    assert q["step_time"][1] == step  # no pipelining: the core's step is the closed form's

    def gpu_hours_per_trillion(seconds):
        return 2048 * seconds / 3600 * F(10**12, tokens)

    hidden, exposed = gpu_hours_per_trillion(step - a2a), gpu_hours_per_trillion(step)
    assert hidden <= PUBLISHED_GPU_HOURS_PER_TRILLION <= exposed
    assert exposed <= 2 * PUBLISHED_GPU_HOURS_PER_TRILLION
