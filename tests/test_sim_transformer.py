"""The transformer-training simulation: hand-computed cases, the schedule against its closed
forms, and the Korthikanti et al. per-layer formulas."""

from __future__ import annotations

from fractions import Fraction as F

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.sim import (Device, Layout, Link, Model, allreduce_time, in_flight_chunks,
                         layer_activations, layer_bytes, layer_flops, attention_flops,
                         logit_flops, megatron_step, model_flops, run_schedule, schedule_order,
                         simulate_pipeline, state_bytes_per_param, uniform_makespan)

GPT = Model(layers=8, hidden=64, heads=4, seq=32, vocab=128)


# --- the schedule ---------------------------------------------------------------------------

def test_one_f_one_b_order_by_hand():
    # p = 3, m = 4: stage 0 warms up with 2 forwards, stage 2 with none
    assert schedule_order(3, 1, 4, 0) == ((0, 0, 0), (0, 1, 0), (0, 2, 0), (1, 0, 0),
                                          (0, 3, 0), (1, 1, 0), (1, 2, 0), (1, 3, 0))
    assert schedule_order(3, 1, 4, 2)[:4] == ((0, 0, 0), (1, 0, 0), (0, 1, 0), (1, 1, 0))


def test_interleaved_order_takes_chunks_p_microbatches_at_a_time():
    order = schedule_order(2, 2, 4, 0)
    # warm-up (p - 1) * 2 + (v - 1) * p = 4 forwards: mb 0, 1 on chunk 0, then mb 0, 1 on chunk 1
    assert order[:4] == ((0, 0, 0), (0, 1, 0), (0, 0, 1), (0, 1, 1))
    assert order[5] == (1, 0, 1)  # the first backward is of the last chunk
    assert sorted(order) == sorted({(k, mb, c) for k in (0, 1) for mb in range(4) for c in (0, 1)})


def test_two_stages_two_microbatches_by_hand():
    # f = 1, b = 2, message 1: F0@s0 [0,1], F0@s1 [2,3], B0@s1 [3,5], F1@s0 [1,2], F1@s1 [5,6]
    # B1@s1 [6,8], B0@s0 [6,8], B1@s0 [9,11]
    assert uniform_makespan(2, 2, 1, 2, 1) == 11
    assert run_schedule(2, 1, 2, ((1,), (1,)), ((2,), (2,)), 1) == (11, (6, 6))


def test_the_schedule_trace_is_the_hand_timeline():
    # the case above, op by op as (device, kind, microbatch, chunk, start, finish)
    ops: list = []
    assert run_schedule(2, 1, 2, ((1,), (1,)), ((2,), (2,)), 1, ops) == (11, (6, 6))
    assert sorted(ops) == [(0, 0, 0, 0, 0, 1), (0, 0, 1, 0, 1, 2), (0, 1, 0, 0, 6, 8), (0, 1, 1, 0, 9, 11),
                           (1, 0, 0, 0, 2, 3), (1, 0, 1, 0, 5, 6), (1, 1, 0, 0, 3, 5), (1, 1, 1, 0, 6, 8)]
    # in seconds: every duration halved, so every time is halved
    timed: list = []
    half = ((F(1, 2),), (F(1, 2),))
    assert simulate_pipeline(2, 1, 2, half, ((F(1),), (F(1),)), F(1, 2), timed).makespan == F(11, 2)
    assert sorted(timed) == [(r, k, mb, c, F(a, 2), F(b, 2)) for r, k, mb, c, a, b in sorted(ops)]


def test_no_bubble_on_one_stage_and_uneven_stages_wait_for_the_slowest():
    assert simulate_pipeline(1, 1, 5, ((F(1),),), ((F(2),),), F(7)).makespan == 15
    slow = simulate_pipeline(2, 1, 4, ((F(1),), (F(3),)), ((F(1),), (F(3),)), F(0))
    assert slow.makespan == 4 * 6 + 2  # the slow stage runs back to back after one fast forward
    assert slow.idle[1] == 2


@settings(max_examples=150, deadline=None)
@given(p=st.integers(1, 6), v=st.integers(1, 3), k=st.integers(1, 4),
       f=st.fractions(F(1, 10), 5).map(F), b=st.fractions(F(1, 10), 5).map(F))
def test_identical_stages_without_message_delay_equal_the_closed_form(p, v, k, f, b):
    if p == 1:
        v = 1
    m = k * p
    sched = simulate_pipeline(p, v, m, ((f / v,) * v,) * p, ((b / v,) * v,) * p, F(0))
    assert sched.makespan == m * (f + b) + (p - 1) * (f + b) / v  # bubble (p-1)/(v m) of ideal
    assert all(idle == (p - 1) * (f + b) / v for idle in sched.idle)


@settings(max_examples=150, deadline=None)
@given(p=st.integers(1, 6), v=st.integers(1, 3), k=st.integers(1, 4),
       f=st.integers(1, 9), b=st.integers(1, 9), w=st.integers(0, 9))
def test_message_delays_lie_between_the_two_closed_forms(p, v, k, f, b, w):
    if p == 1:
        v = 1
    m = k * p
    span, _ = run_schedule(p, v, m, ((f,) * v,) * p, ((b,) * v,) * p, w)
    assert (m * v + p - 1) * (f + b) + 2 * (p - 1) * w <= span
    assert span <= (m * v + p - 1) * (f + b + 2 * w)


def test_one_f_one_b_pays_message_delays_in_the_steady_state():
    # the lower closed form would give 8 * 2 + 1 * (2 + 2) = 20; the schedule stalls
    assert uniform_makespan(2, 8, 1, 1, 1) == 26


@settings(max_examples=60, deadline=None)
@given(p=st.integers(1, 5), m=st.integers(1, 10), f=st.integers(0, 6), b=st.integers(0, 6))
def test_bubble_never_grows_with_more_microbatches_when_messages_are_instant(p, m, f, b):
    assert uniform_makespan(p, m, f, b, 0) - m * (f + b) >= \
        uniform_makespan(p, m + 1, f, b, 0) - (m + 1) * (f + b)


def test_with_message_delays_the_bubble_grows_with_microbatches():
    bubbles = [uniform_makespan(2, m, 1, 1, 1) - 2 * m for m in range(1, 7)]
    assert bubbles == sorted(bubbles) and bubbles[-1] > bubbles[0]


def test_in_flight_microbatches_match_korthikanti_interleaving_factor():
    assert in_flight_chunks(schedule_order(2, 2, 2, 0)) == 4  # m = p: every chunk runs first
    for p, v, k in ((2, 2, 2), (4, 2, 2), (8, 3, 2), (35, 3, 8)):
        m = k * p
        # Korthikanti appendix: l (1 + (p-1)/(p v)) layers = (p v + p - 1) chunks of l/(p v)
        assert in_flight_chunks(schedule_order(p, v, m, 0)) == p * v + p - 1
    assert in_flight_chunks(schedule_order(8, 1, 64, 0)) == 8
    assert in_flight_chunks(schedule_order(8, 1, 64, 7)) == 1


# --- per-layer work and memory --------------------------------------------------------------

def test_flops_reduce_to_narayanan_and_korthikanti():
    s, h, l, V, B = 2048, 6144, 48, 51200, 4
    model = Model(layers=l, hidden=h, heads=64, seq=s, vocab=V)
    one = Layout(t=1, p=1, d=1, micro=B, batch=B)
    assert layer_flops(model, one) + attention_flops(model, one) == 24 * B * s * h * h + 4 * B * s * s * h
    assert model_flops(model, one) == 72 * B * s * l * h * h * (1 + F(s, 6 * h) + F(V, 12 * l * h))
    tp = Layout(t=8, p=1, d=1, micro=B, batch=B, c=2)
    assert layer_flops(model, tp) == F(24 * B * s * h * h, 8 * 2)
    assert logit_flops(model, tp) == F(2 * B * s * h * V, 16)


def test_gqa_and_gated_mlp_change_the_matrices():
    llama = Model(layers=1, hidden=16384, heads=128, seq=8192, vocab=128256, kv_heads=8,
                  ffn=53248, gated=True)
    one = Layout(t=1, p=1, d=1, micro=1, batch=1)
    h, f = 16384, 53248
    assert layer_flops(llama, one) == 2 * 8192 * (h * h * (2 + F(2 * 8, 128)) + 3 * h * f)


@pytest.mark.parametrize("t", [1, 2, 8])
def test_activations_are_korthikanti_table_2(t):
    s, b, h, a = 2048, 1, 12288, 96
    model = Model(layers=1, hidden=h, heads=a, seq=s, vocab=51200)
    sbh = s * b * h

    def lay(sp, recompute):
        return Layout(t=t, p=1, d=1, micro=b, batch=b, sp=sp, recompute=recompute)
    assert layer_activations(model, lay(False, "none")) == sbh * (10 + F(24, t) + F(5 * a * s, h * t))
    assert layer_activations(model, lay(True, "none")) == F(sbh, t) * (34 + F(5 * a * s, h))
    assert layer_activations(model, lay(True, "selective")) == F(34 * sbh, t)
    assert layer_activations(model, lay(False, "full")) == 2 * sbh
    assert layer_activations(model, lay(True, "full")) == F(2 * sbh, t)


def test_state_bytes_per_param():
    assert state_bytes_per_param(Layout(t=8, p=1, d=4, micro=1, batch=4, zero=0)) == 18
    assert state_bytes_per_param(Layout(t=8, p=1, d=4, micro=1, batch=4, zero=1)) == 6 + F(12, 4)
    assert state_bytes_per_param(Layout(t=8, p=1, d=2, c=2, micro=1, batch=2, zero=2)) == 2 + F(16, 4)
    assert state_bytes_per_param(Layout(t=8, p=1, d=4, micro=1, batch=4, zero=3)) == F(18, 4)


def test_sequence_parallelism_splits_the_replicated_element_wise_work():
    plain = layer_bytes(GPT, Layout(t=4, p=1, d=1, micro=1, batch=1, sp=False))
    split = layer_bytes(GPT, Layout(t=4, p=1, d=1, micro=1, batch=1, sp=True))
    e = 32 * 64
    assert plain - split == 22 * e - F(22 * e, 4)


# --- the whole step -------------------------------------------------------------------------

DEV = Device(peak=F(100), matmul=F(1, 2), hbm=F(1000), hbm_share=F(1), memory=F(10 ** 9))
FAST = Link(F(10 ** 6), F(0), F(1))


def test_a_single_gpu_step_by_hand():
    model = Model(layers=2, hidden=4, heads=1, seq=2, vocab=8)
    x = Layout(t=1, p=1, d=1, micro=1, batch=3, recompute="none", sp=False, zero=0)
    r = megatron_step(model, x, DEV, FAST, FAST)
    e = 2 * 4  # s b h
    mm = F(2 * 2 * 12 * 16, 50)  # 2 tokens x 12 h^2 params x 2 FLOPs at 50 FLOP/s
    attn = F(4 * 2 * 2 * 4, 50)
    elem = F(22 * e + 16 * e + 9 * 1 * 2 * 2, 1000)
    per_layer = 3 * (mm + attn + elem)
    embed = F(4 * 2 * e, 1000)
    logits = F(2 * 2 * 4 * 8, 50) + F(10 * 2 * 8, 1000)
    makespan = 3 * (2 * per_layer + 2 * embed + 3 * logits)
    optimizer = F(30 * (2 * 12 * 16 + 8 * 4), 1000)
    assert r.makespan == makespan
    assert r.step_time == makespan + optimizer
    assert r.bubble == 0 and r.tp_comm == 0 and r.dp_comm == 0


def test_tensor_parallel_comm_is_four_all_reduces_per_layer_and_six_with_full_recompute():
    x = Layout(t=4, p=1, d=1, micro=1, batch=1, recompute="selective")
    size = 2 * 32 * 64
    ar = allreduce_time(4, F(size), FAST)
    assert megatron_step(GPT, x, DEV, FAST, FAST).tp_comm == 8 * 4 * ar
    full = Layout(t=4, p=1, d=1, micro=1, batch=1, recompute="full")
    assert megatron_step(GPT, full, DEV, FAST, FAST).tp_comm == 8 * 6 * ar


def test_more_recomputation_never_speeds_a_step_up():
    times = [megatron_step(GPT, Layout(t=2, p=2, d=1, micro=1, batch=4, recompute=rc), DEV,
                           FAST, FAST).step_time for rc in ("none", "selective", "full")]
    assert times[0] < times[1] < times[2]


def test_pipeline_step_has_a_bubble_and_mfu_below_one():
    r = megatron_step(GPT, Layout(t=1, p=4, d=2, micro=1, batch=8), DEV, FAST, FAST)
    assert r.bubble > 0 and 0 < r.mfu < 1
    assert r.step_time >= r.makespan


def test_layouts_that_do_not_divide_are_refused():
    with pytest.raises(ValueError):
        megatron_step(GPT, Layout(t=3, p=1, d=1, micro=1, batch=1), DEV, FAST, FAST)
    with pytest.raises(ValueError):
        megatron_step(GPT, Layout(t=1, p=2, d=1, micro=1, batch=3, v=2), DEV, FAST, FAST)
