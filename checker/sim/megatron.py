"""One Megatron-style training step: per-layer times from the device and links, the pipeline
schedule replayed, then the gradient exchange and the optimizer step.

Matmuls run at peak * matmul share; element-wise work (norms, softmax, dropout, activations,
Adam) is bound by HBM bandwidth * its achievable share; collectives are rings replayed step by
step (`collectives.ring_allreduce`; a reduce-scatter or all-gather is one of its two halves).
Tensor- and context-parallel collectives sit on the critical path of every layer; the
data-parallel exchange runs after the pipeline drains, the share `dp_overlap` of it hidden
behind the backward pass. Exact Fractions throughout.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .collectives import ring_allreduce
from .exact import as_fraction
from .pipeline import schedule_order, simulate_pipeline
from .transformer import (Layout, Model, attention_flops, check, in_flight_chunks, layer_activations,
                          layer_bytes, layer_flops, layer_params, logit_flops, score_bytes,
                          state_bytes_per_param)

__all__ = ["Device", "Link", "Breakdown", "megatron_step", "model_flops", "hardware_flops",
           "layer_passes", "allreduce_time", "gather_time", "ADAM_BYTES"]

ADAM_BYTES = 30  # per parameter: read fp32 master, m, v, grad (16), write master, m, v (12), bf16 copy (2)
CE_BYTES = 10  # per logit: read bf16 (2), write fp32 softmax (4), read it back for the loss (4)


@dataclass(frozen=True, slots=True)
class Device:
    """peak dense BF16 FLOP/s; matmul: share of peak that large GEMMs reach; hbm: bytes/s;
    hbm_share: share of it element-wise kernels reach; memory: bytes."""

    peak: Fraction
    matmul: Fraction
    hbm: Fraction
    hbm_share: Fraction
    memory: Fraction


@dataclass(frozen=True, slots=True)
class Link:
    """bandwidth per GPU per direction (bytes/s), latency per ring step (s), achievable share."""

    bandwidth: Fraction
    latency: Fraction
    share: Fraction


@dataclass(frozen=True, slots=True)
class Breakdown:
    """A step's time and where it went (critical stage, seconds) and stage 0's memory (bytes).

    compute/recompute/tp_comm/cp_comm: the busiest device's own work over the step; bubble:
    its idle time inside the schedule (message waits included); pp_message: one stage-to-stage
    message's delay; dp_comm (exposed part) and optimizer follow the schedule."""

    step_time: Fraction
    makespan: Fraction
    compute: Fraction
    recompute: Fraction
    tp_comm: Fraction
    cp_comm: Fraction
    bubble: Fraction
    pp_message: Fraction
    dp_comm: Fraction
    optimizer: Fraction
    model_flops: Fraction
    mfu: Fraction
    state_bytes: Fraction
    embedding_state_bytes: Fraction
    activation_bytes: Fraction
    embedding_activation_bytes: Fraction


def allreduce_time(n: int, size: Fraction, link: Link) -> Fraction:
    """Ring all-reduce of `size` bytes over n GPUs on `link` (replayed step by step); a group
    placed on a tiered network (`placement.Placed`) runs its own, tier by tier."""
    if not isinstance(link, Link):
        return link.all_reduce(n, size)
    return ring_allreduce(n, size, link.latency, link.bandwidth * link.share).time


def gather_time(n: int, size: Fraction, link: Link) -> Fraction:
    """Ring all-gather (or reduce-scatter) of `size` gathered bytes: one of the two halves."""
    return allreduce_time(n, size, link) / 2


def model_flops(model: Model, layout: Layout) -> Fraction:
    """Model FLOPs of one step (no recomputation): 3 x forward (SC21 eq. 3, Korthikanti
    72 B s l h^2 (1 + s/6h + V/12lh) for the GPT shape), counted on the whole model."""
    whole = Layout(t=1, p=1, d=1, micro=layout.batch, batch=layout.batch, flash=layout.flash)
    per_layer = layer_flops(model, whole) + attention_flops(model, whole)
    return 3 * (model.layers * per_layer + logit_flops(model, whole))


def hardware_flops(model: Model, layout: Layout) -> Fraction:
    """Model FLOPs plus what recomputation redoes: a whole forward of every layer (full), or
    the attention core (selective, and flash attention's backward pass)."""
    whole = Layout(t=1, p=1, d=1, micro=layout.batch, batch=layout.batch, flash=layout.flash)
    extra = Fraction(0)
    if layout.recompute == "full":
        extra = model.layers * (layer_flops(model, whole) + attention_flops(model, whole))
    elif layout.recompute == "selective" or layout.flash:
        extra = model.layers * attention_flops(model, whole)
    return model_flops(model, layout) + extra


@dataclass(frozen=True, slots=True)
class _Pass:
    compute: Fraction
    recompute: Fraction
    tp: Fraction
    cp: Fraction

    @property
    def total(self) -> Fraction:
        return self.compute + self.recompute + self.tp + self.cp


def layer_passes(model: Model, x: Layout, dev: Device, inner: Link, cp_link: Link,
                  cp_overlap: Fraction) -> tuple[_Pass, _Pass]:
    """Forward and backward of one layer, one microbatch, one GPU."""
    flop_rate, byte_rate = dev.peak * dev.matmul, dev.hbm * dev.hbm_share
    mm = layer_flops(model, x) / flop_rate
    attn = attention_flops(model, x) / flop_rate
    elem = layer_bytes(model, x) / byte_rate
    scores = score_bytes(model, x) / byte_rate
    activation = 2 * x.micro * Fraction(model.seq, x.c) * model.hidden  # bf16 b (s/c) h
    tp_pass = 2 * allreduce_time(x.t, activation, inner)  # 2 all-reduces (or 2 AG + 2 RS)
    kv_heads = max(Fraction(model.kv, x.t), Fraction(1))  # kv heads on this GPU (replicated if kv < t)
    kv = 2 * activation * kv_heads / model.heads  # K and V of b (s/c) tokens, bf16
    cp_fwd = (1 - cp_overlap) * gather_time(x.c, kv * x.c, cp_link)  # all-gather K, V
    cp_bwd = 2 * cp_fwd  # all-gather K, V again and reduce-scatter dK, dV
    fwd = _Pass(mm + attn + elem + scores, Fraction(0), tp_pass, cp_fwd)
    redo = Fraction(0)
    if x.recompute == "full":
        redo = fwd.compute
    elif x.recompute == "selective" or x.flash:
        redo = attn + scores  # the attention core again (flash attention always does this)
    bwd = _Pass(2 * fwd.compute, redo,
                tp_pass * (2 if x.recompute == "full" else 1),
                cp_bwd + (cp_fwd if x.recompute == "full" else 0))
    return fwd, bwd


def megatron_step(model: Model, layout: Layout, device: Device, inner: Link, outer: Link,
                  domain: int = 8, dp_overlap: Fraction = Fraction(0),
                  cp_overlap: Fraction = Fraction(0),
                  chunk_layers: tuple[tuple[int, ...], ...] = (), trace: list | None = None,
                  placed: dict | None = None) -> Breakdown:
    """Simulate one step; `inner` joins the `domain` GPUs of an NVLink domain (tensor groups,
    and context groups when t c <= domain), `outer` everything else (pipeline, data).
    chunk_layers[r][c]: layers of chunk c on device r (default l / (p v) each; uneven stages
    such as Llama 3's, one layer fewer on the first and last, are given explicitly).
    trace: a list to receive the pipeline schedule's operations (see simulate_pipeline).
    placed: on a tiered network, each group's place (`placement.placed`) instead of the links."""
    x = layout
    if chunk_layers:
        if len(chunk_layers) != x.p or any(len(row) != x.v or min(row) < 0 for row in chunk_layers) \
                or sum(map(sum, chunk_layers)) != model.layers:
            raise ValueError("chunk_layers needs p rows of v counts >= 0 adding up to l")
        check(Model(x.p * x.v, model.hidden, model.heads, model.seq, model.vocab, model.kv_heads,
                    model.ffn, model.gated), layout)
    else:
        check(model, layout)
        chunk_layers = ((model.layers // (x.p * x.v),) * x.v,) * x.p
    dp_overlap, cp_overlap = as_fraction(dp_overlap, "dp_overlap"), as_fraction(cp_overlap,
                                                                                "cp_overlap")
    if not (0 <= dp_overlap <= 1 and 0 <= cp_overlap <= 1):
        raise ValueError("overlap shares must lie in [0, 1]")
    cp_link = inner if x.t * x.c <= domain else outer
    if placed:
        inner, cp_link = placed["tensor"], placed["context"]
    fwd, bwd = layer_passes(model, x, device, inner, cp_link, cp_overlap)
    flop_rate, byte_rate = device.peak * device.matmul, device.hbm * device.hbm_share
    activation = 2 * x.micro * Fraction(model.seq, x.c) * model.hidden
    tokens = x.micro * Fraction(model.seq, x.c)
    embed = 4 * activation / (x.t if x.sp else 1) / byte_rate  # gather rows, write them
    logits = logit_flops(model, x) / flop_rate + CE_BYTES * tokens * model.vocab / x.t / byte_rate
    head_comm = gather_time(x.t, activation, inner) if x.sp else Fraction(0)
    f_rows, b_rows, parts = [], [], []
    for r in range(x.p):
        f_row, b_row, acc = [], [], [Fraction(0)] * 4
        for c in range(x.v):
            per_chunk = chunk_layers[r][c]
            first, last = r == 0 and c == 0, r == x.p - 1 and c == x.v - 1
            f_extra = (embed if first else 0) + (logits + head_comm if last else 0)
            b_extra = (embed if first else 0) + (2 * logits + head_comm if last else 0)
            f_row.append(per_chunk * fwd.total + f_extra)
            b_row.append(per_chunk * bwd.total + b_extra)
            for k, (a, b) in enumerate(((fwd.compute, bwd.compute), (fwd.recompute, bwd.recompute),
                                        (fwd.tp, bwd.tp), (fwd.cp, bwd.cp))):
                acc[k] += x.microbatches * per_chunk * (a + b)
            acc[0] += x.microbatches * (f_extra + b_extra)
        f_rows.append(tuple(f_row))
        b_rows.append(tuple(b_row))
        parts.append(acc)
    message = Fraction(0)
    if x.p > 1:
        message = placed["pipeline"].message(activation / x.t) if placed else outer.latency + activation / x.t / (outer.bandwidth * outer.share)
    sched = simulate_pipeline(x.p, x.v, x.microbatches, tuple(f_rows), tuple(b_rows), message, trace)
    # stage 0 holds the most parameters (the embedding); its exchange and update end the step
    params = layer_params(model, x) * sum(chunk_layers[0])
    embed_params = Fraction(model.vocab * model.hidden, x.t)
    n = x.d * x.c
    grads = 4 * (params + embed_params)
    outer = placed["data"] if placed else outer
    if x.zero == 0:
        dp = allreduce_time(n, grads, outer)
    else:
        dp = gather_time(n, grads, outer) + gather_time(n, grads / 2, outer)
    exposed = (1 - dp_overlap) * dp
    optimizer = ADAM_BYTES * (params + embed_params) / (n if x.zero >= 1 else 1) / byte_rate
    step = sched.makespan + exposed + optimizer
    busiest = max(range(x.p), key=lambda r: sched.busy[r])
    compute, recompute, tp, cp = parts[busiest]
    flops = model_flops(model, x)
    per_param = state_bytes_per_param(x)
    order = schedule_order(x.p, x.v, x.microbatches, 0)
    held = in_flight_chunks(order)
    first_held = in_flight_chunks(tuple(op for op in order if op[2] == 0))  # chunk 0: embedding
    return Breakdown(
        step_time=step, makespan=sched.makespan, compute=compute, recompute=recompute,
        tp_comm=tp, cp_comm=cp, bubble=sched.idle[busiest],
        pp_message=message, dp_comm=exposed, optimizer=optimizer, model_flops=flops,
        mfu=flops / (step * x.gpus * device.peak),
        state_bytes=per_param * params, embedding_state_bytes=per_param * embed_params,
        activation_bytes=held * max(chunk_layers[0]) * layer_activations(model, x),
        embedding_activation_bytes=first_held * tokens * model.hidden / (x.t if x.sp else 1))
