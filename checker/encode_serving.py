"""Closed forms of serving a transformer (spec/semantics.md, "Serving a model"): the symbolic
rules of the `serving` family of the registry.

Part of the encoder (with checker/encode.py). A replica is tensor x pipeline GPUs of one pool;
prompt and output lengths may be ranges (unknowns), everything else is fixed by the spec.
Sources: Kaplan et al. 2020 and Narayanan et al. SC21 (2 FLOP per weight and token, 4 per
hidden unit and attended position); Kwon et al. SOSP 2023 (vLLM/PagedAttention: the key/value
cache, 2 · layers · kv_heads · head_dim values per token); Pope et al. MLSys 2023 ("Efficiently
Scaling Transformer Inference": decode reads every weight and the cache per step, so it is
bound by memory bandwidth at small batches and by compute at large ones); Vidur (Agrawal et al.
MLSys 2024: time to first token, time per output token, the batch the memory holds).
"""

from __future__ import annotations

from fractions import Fraction

import z3

from checker import model as m
from checker.encode import Encoding, _max, _min, symbolic

F = Fraction


def _fixed(e: Encoding, w: m.Workload):
    e.record((w.name, "layout"))  # defined only when the layout divides the model and the pools
    md, x = w.model, w.layout
    assert md is not None and x is not None
    return md, x.tensor * x.pipeline, x.pipeline


def _weights(e: Encoding, w: m.Workload) -> z3.ArithRef:
    md, gpus, _ = _fixed(e, w)
    weight = e.val(2) if w.state_bytes is None else e.param(w.state_bytes)
    return e.val(md.parameters) * weight / e.val(gpus)


def _kv_token(e: Encoding, w: m.Workload) -> z3.ArithRef:
    md, gpus, _ = _fixed(e, w)
    value = e.val(2) if w.kv_bytes is None else e.param(w.kv_bytes)
    return e.val(F(2 * md.layers * md.kv_heads * md.hidden, md.heads * gpus)) * value


def _rates(e: Encoding, w: m.Workload, pool: m.Pool):
    g = pool.gpu
    share = e.param(w.efficiency) if w.efficiency is not None else e.param(g.matmul)
    memory = e.param(g.memory_bandwidth) * (e.val(1) if g.memory_efficiency is None else e.param(g.memory_efficiency))
    return e.param(g.peak) * share, memory


def _pass(e: Encoding, w: m.Workload, pool: m.Pool, tokens, attention, cached_tokens):
    """A pass of `tokens` tokens through every pipeline stage, each stage the slower of its FLOPs
    and its bytes. Weights: 2 FLOP per active parameter and token, the routed experts' share on
    the busiest GPU scaled by 1 + expert_load; bytes: the weights outside the routed experts, and
    of those the share the tokens reach, min(1, tokens·top_k·(1 + load) / experts)."""
    md, gpus, stages = _fixed(e, w)
    flop_rate, byte_rate = _rates(e, w, pool)
    weight = e.val(2) if w.state_bytes is None else e.param(w.state_bytes)
    if md.experts:
        load = 1 + (e.val(0) if w.expert_load is None else e.param(w.expert_load))
        flops = tokens * (e.val(2 * (md.active_parameters - md.routed_parameters)) + e.val(2 * md.routed_parameters) * load) + attention
        reached = _min([e.val(1), tokens * e.val(F(md.top_k, md.experts)) * load])
        weights = (e.val(md.parameters - md.expert_weights) + e.val(md.expert_weights) * reached) * weight / e.val(gpus)
    else:
        flops = tokens * e.val(2 * md.parameters) + attention
        weights = _weights(e, w)
    return e.val(stages) * _max([flops / e.val(gpus) / flop_rate, (weights + cached_tokens * _kv_token(e, w)) / byte_rate])


def _step(e: Encoding, w: m.Workload, pool: m.Pool, batch, context, cached_tokens):
    """`batch` tokens attending over `context` positions (4·l·h FLOPs per position); the GPU holds
    `cached_tokens` in its cache."""
    md = w.model
    return _pass(e, w, pool, batch, batch * e.val(4 * md.layers * md.hidden) * context, cached_tokens)


def _prefill(e: Encoding, w: m.Workload, pool: m.Pool, prompts) -> z3.ArithRef:
    """`prompts` prompts of P tokens: Σ_{i=1..P} (2N + 4·L·h·i) = 2NP + 2LhP(P+1) FLOPs each."""
    md = w.model
    p = e.param(w.prompt)
    return _pass(e, w, pool, prompts * p, prompts * e.val(2 * md.layers * md.hidden) * p * (p + 1), prompts * p)


def _decode_step(e: Encoding, w: m.Workload, pool: m.Pool, j) -> z3.ArithRef:
    """Decode step j: each sequence's token attends over P + j positions; the cache holds B(P + j)."""
    b = e.val(w.concurrency)
    position = e.param(w.prompt) + j
    return _step(e, w, pool, b, position, b * position)


@symbolic("serving", "weights_per_gpu")
def _weights_per_gpu(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return _weights(e, w)


@symbolic("serving", "kv_per_token")
def _kv_per_token(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return _kv_token(e, w)


@symbolic("serving", "kv_cache_per_gpu")
def _kv_cache(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return e.val(w.concurrency) * (e.param(w.prompt) + e.param(w.output)) * _kv_token(e, w)


@symbolic("serving", "memory_per_gpu")
def _memory(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return _weights(e, w) + e.quantity((w.name, "kv_cache_per_gpu"))


def _pool(w: m.Workload, name: str | None) -> m.Pool:
    return next(p for p in w.cluster.pools if p.name == name)


@symbolic("serving", "max_batch")
def _max_batch(e: Encoding, w: m.Workload, pool: str | None) -> z3.ArithRef:
    room = (e.param(_pool(w, pool).gpu.memory) - _weights(e, w)) / ((e.param(w.prompt) + e.param(w.output)) * _kv_token(e, w))
    return z3.ToReal(z3.ToInt(_max([room, e.val(0)])))


def _decoders(w: m.Workload) -> list[m.Pool]:
    """The pools that decode: all, or all but the prefill pool when serving disaggregated."""
    return [p for p in w.cluster.pools if p.name != w.prefill_pool]


@symbolic("serving", "ttft")
def _ttft(e: Encoding, w: m.Workload, _which) -> z3.ArithRef:
    if w.prefill_pool is not None:  # the prefill pool's prompt, then its cache to a decode GPU
        return _prefill(e, w, _pool(w, w.prefill_pool), e.val(1)) + e.quantity((w.name, "kv_transfer_time"))
    return _max([_prefill(e, w, p, e.val(1)) for p in w.cluster.pools])


@symbolic("serving", "kv_transfer_time")
def _kv_transfer(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    """Each GPU of a prefill replica sends its share of a prompt's cache, P · kv_per_token, to its
    counterpart in a decode replica, all at once: α + P · kv_per_token / (β · share)."""
    if w.prefill_pool is None:
        return e.val(0)
    net = w.cluster.network
    share = e.val(1) if net.efficiency is None else e.param(net.efficiency)
    return e.param(net.latency) + e.param(w.prompt) * _kv_token(e, w) / (e.param(net.bandwidth) * share)


@symbolic("serving", "tpot")
def _tpot(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    """The last decode step is the slowest (both its FLOPs and its bytes grow with the context)."""
    o = e.param(w.output)
    last = _max([_decode_step(e, w, p, o - 1) for p in _decoders(w)])
    return z3.If(o >= 2, last, e.val(0))


@symbolic("serving", "pool_throughput")
def _pool_throughput(e: Encoding, w: m.Workload, pool: str | None) -> z3.ArithRef:
    """A batch's tokens over the time it takes: prefill, then O − 1 decode steps. Each step is
    the maximum of two lines in j, so convex: the steps sum to at most the chord,
    (O − 1)(step(1) + step(O − 1))/2 (equal while one of the two bounds every step). The
    throughput is therefore a lower bound on the stepped one."""
    p = _pool(w, pool)
    _, gpus, _ = _fixed(e, w)
    b, o = e.val(w.concurrency), e.param(w.output)
    decode = (o - 1) * (_decode_step(e, w, p, e.val(1)) + _decode_step(e, w, p, o - 1)) / 2
    if w.prefill_pool is not None:  # apart: the prefill pool only prefills, the others only decode
        batch_time = _prefill(e, w, p, b) if p.name == w.prefill_pool else decode
        return e.val(F(p.count, gpus)) * b * o / batch_time
    batch_time = _prefill(e, w, p, b) + decode
    return e.val(F(p.count, gpus)) * b * o / batch_time


@symbolic("serving", "throughput")
def _throughput(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    decoding = z3.Sum([e.quantity((w.name, "pool_throughput", p.name)) for p in _decoders(w)])
    if w.prefill_pool is not None:  # the slower side sets the rate: prompts prefilled, or tokens decoded
        return _min([e.quantity((w.name, "pool_throughput", w.prefill_pool)), decoding])
    return decoding


@symbolic("serving", "throughput_per_gpu")
def _per_gpu(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return e.quantity((w.name, "throughput")) / e.val(w.cluster.gpus)
