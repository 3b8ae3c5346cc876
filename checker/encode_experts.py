"""Closed forms of training a mixture of experts (spec/semantics.md, "Training a mixture of
experts"): what expert parallelism adds to the transformer family's layer, its state and its
exchanges. Used by checker/encode_transformer.py.

Part of the encoder (imports z3). Sources: Lepikhin et al. 2020 (GShard: experts sharded over
devices, tokens dispatched and combined by all-to-all); Rajbhandari et al. 2022 (DeepSpeed-MoE:
expert parallelism inside the data-parallel group, expert weights reduced over the ranks holding
the same experts); DeepSeek-AI 2024 (DeepSeek-V3: shared plus routed experts, dense first layers,
EP64 across nodes); Thakur, Rabenseifner & Gropp 2005 (pairwise all-to-all).
"""

from __future__ import annotations

from fractions import Fraction
from math import lcm
import z3

from checker import model as m

F = Fraction



def experts_training(sh, md: m.Transformer, x: m.Layout, whole_tokens: int, kv: Fraction, g: int, first_stage_layers: int) -> None:
    """Set a shape's MoE counts. A layer of experts on one GPU: attention, the router (h per
    expert) and the shared experts split t ways (`w_mm`, `b_el`, `layer_params`: not
    routed); the routed experts' work for the mean GPU (`w_routed`, `b_routed`), which the
    busiest GPU does 1 + expert_load times; E / ep experts' weights (`expert_local`). The dense
    layer's counts stay as `dense_*`."""
    t, h, fe = x.tensor, md.hidden, md.expert_ffn
    r = t if x.sequence_parallel else 1
    ratio = F(fe, h)
    gated = 6 if md.gated else 4
    sh.dense_w_mm, sh.dense_b_el, sh.dense_params = sh.w_mm, sh.b_el, sh.layer_params
    attention = h * h * (2 + 2 * kv)
    sh.layer_params = (attention + h * md.experts + md.shared_experts * g * h * fe) / t
    sh.expert_local = F(md.experts, x.expert) * g * h * fe / t
    sh.w_mm = 2 * sh.tokens * sh.layer_params
    sh.w_routed = 2 * sh.tokens * md.top_k * g * h * fe / t
    flash_bytes = (4 + 4 * kv) * sh.e / t if x.flash else 0
    sh.b_el = 22 * sh.e / r + gated * ratio * sh.e * md.shared_experts / t + flash_bytes
    sh.b_routed = gated * ratio * sh.e * md.top_k / t
    sh.a2a_bytes = 2 * sh.tokens * h * md.top_k  # one dispatch (or combine) leaving a GPU, bf16, mean load
    # activations kept per layer (Korthikanti Table 2 with the MLP's share per expert a token visits)
    if x.recompute == "full":
        sh.a_fixed, sh.a_routed = 2 * sh.e / r, F(0)
    else:
        sh.a_fixed = 10 * sh.e / r + (4 + 4 * kv + gated * ratio * md.shared_experts) * sh.e / t
        if x.recompute == "none" and not x.flash:
            sh.a_fixed += F(5 * md.heads * x.microbatch * md.seq * md.seq, x.context * t)
        sh.a_routed = md.top_k * (gated * ratio + 2) * sh.e / t  # the expert MLPs and their dispatched inputs
    dense = md.dense_layers
    sh.dense_layers = dense
    sh.dense_stage = dense if x.pipeline == 1 else 0  # dense layers in a full stage (all in the first chunk)
    moe_first = first_stage_layers - dense
    sh.stage_params = sh.dense_params * dense + sh.layer_params * moe_first + F(md.vocab * h, t)
    sh.expert_params = sh.expert_local * moe_first
    sh.n_ep = max(sh.n_dp // x.expert, 1)  # ranks holding the same experts: their gradients are reduced together
    # model FLOPs: 2 per active parameter and token (top_k routed and the shared experts), mean load
    active = attention + h * md.experts + (md.top_k + md.shared_experts) * g * h * fe
    dense_layer = attention + g * h * md.ffn
    sh.whole_mm = 2 * whole_tokens * active  # a layer of experts
    whole_dense = 2 * whole_tokens * dense_layer
    mm_all = (md.layers - dense) * sh.whole_mm + dense * whole_dense
    sh.model_flops = 3 * (mm_all + md.layers * sh.whole_att + 2 * whole_tokens * h * md.vocab)
    if x.recompute == "full":
        sh.hardware_flops = sh.model_flops + mm_all + md.layers * sh.whole_att
    elif x.recompute == "selective" or x.flash:
        sh.hardware_flops = sh.model_flops + md.layers * sh.whole_att
    else:
        sh.hardware_flops = sh.model_flops


def load(e, w: m.Workload) -> z3.ArithRef:
    """1 + expert_load: the busiest GPU's routed tokens over the mean (none given: 1)."""
    return 1 + (e.val(0) if w.expert_load is None else e.param(w.expert_load))


def group_in_domain(x: m.Layout, domain: int) -> int:
    """How many of an expert group's ep GPUs share an NVLink domain, in the group that has the
    fewest: the groups are consecutive blocks of t·c·ep GPUs, each taking every (t·c)-th GPU of
    its block (tensor and context innermost); a group whose domains hold as many of it each has
    that many, any other 1 (every partner over the network). The blocks repeat their placement
    every lcm(t·c·ep, domain) GPUs."""
    stride = x.tensor * x.context
    block = stride * x.expert
    fewest = x.expert
    for start in range(0, lcm(block, domain), block):
        held: dict[int, int] = {}
        for j in range(x.expert):
            where = (start + j * stride) // domain
            held[where] = held.get(where, 0) + 1
        fewest = min(fewest, held[start // domain] if len(set(held.values())) == 1 else 1)
    return fewest


def all_to_all(e, w: m.Workload, links, size) -> z3.ArithRef:
    """One dispatch (or combine) over the ep GPUs of an expert group, pairwise: S/ep to each
    partner, the g − 1 inside the NVLink domain first, then the ep − g outside (the group with
    the fewest inside sets the pace):
    (g − 1)(α_in + S/(ep β_in)) + (ep − g)(α + S/(ep β))."""
    n = w.layout.expert
    if n <= 1:
        return e.val(0)
    g = group_in_domain(w.layout, links.domain)
    (a_in, b_in, s_in), (a_out, b_out, s_out) = links.inner, links.out
    inside = e.val(g - 1) * (a_in + size / (e.val(n) * b_in * s_in)) if g > 1 else e.val(0)
    return inside + e.val(n - g) * (a_out + size / (e.val(n) * b_out * s_out))
