"""Closed forms of a transformer's training step under a parallel layout (spec/semantics.md,
"Transformer training"): the symbolic rules of the `transformer` family of the registry.

Part of the encoder (with checker/encode.py, the only modules besides checker/solve.py that
import z3). Layout integers are fixed by the spec, so every term is a rational function of the
unknowns (efficiencies, bandwidths, latencies, overlap, jitter). Sources: Narayanan et al. SC21
(FLOPs, 1F1B and interleaved schedules, the bubble); Korthikanti et al. 2022 (sequence
parallelism, selective recomputation, activation memory); Thakur, Rabenseifner & Gropp 2005
(ring collectives); Calculon (Isaev et al. SC23: matrix work at a matmul share of peak,
element-wise work bound by HBM bandwidth).
"""

from __future__ import annotations

from fractions import Fraction

import z3

from checker import encode_placement, model as m
from checker.encode import Encoding, _max, _min, symbolic
from checker.encode_experts import all_to_all, experts_training, load

ADAM_BYTES = 30  # per locally updated parameter: read master, m, v, grad; write master, m, v, bf16 copy
CE_BYTES = 10  # per logit: read bf16, write fp32 softmax, read it back for the loss
F = Fraction


class _Shape:
    """The layout-fixed counts of one workload: plain Fractions, no unknowns."""

    def __init__(self, w: m.Workload) -> None:
        md, x = w.model, w.layout
        assert md is not None and x is not None
        self.md, self.x = md, x
        s_c = F(md.seq, x.context)  # this GPU's share of a sequence
        self.tokens = x.microbatch * s_c
        self.e = self.tokens * md.hidden  # elements of one activation tensor
        self.act = 2 * self.e  # its bytes (bf16)
        kv = F(md.kv_heads, md.heads)
        g = 3 if md.gated else 2
        self.layer_params = (md.hidden**2 * (2 + 2 * kv) + g * md.hidden * md.ffn) / x.tensor
        self.w_mm = 2 * self.tokens * self.layer_params
        self.w_att = 4 * self.tokens * md.seq * md.hidden / x.tensor / (2 if x.flash else 1)
        r = x.tensor if x.sequence_parallel else 1
        ratio = F(md.ffn, md.hidden)
        flash_bytes = (4 + 4 * kv) * self.e / x.tensor if x.flash else 0
        self.b_el = 22 * self.e / r + (6 if md.gated else 4) * ratio * self.e / x.tensor + flash_bytes
        self.b_sc = 0 if x.flash else F(9 * md.heads * x.microbatch * md.seq * md.seq, x.context * x.tensor)
        self.w_logit = 2 * self.tokens * md.hidden * md.vocab / x.tensor
        self.logit_bytes = CE_BYTES * self.tokens * md.vocab / x.tensor
        self.embed_bytes = 4 * self.act / r
        self.layers_per_chunk = x.chunk_layers(md.layers)  # every chunk but the first and the last
        full_stage = self.layers_per_chunk * x.virtual  # a stage of full chunks (one in the middle)
        first_stage_layers = full_stage - x.trim  # its first chunk holds `trim` fewer
        # the busiest stage: one in the middle; with p = 2 each stage holds one of the two trimmed
        # chunks (p = 1: the only stage holds both), so no stage holds full_stage layers
        self.layers_per_stage = full_stage - x.trim * max(0, 3 - x.pipeline)
        self.m = x.batch_sequences // (x.data * x.microbatch)  # microbatches per pipeline
        self.kv_heads_here = max(F(md.kv_heads, x.tensor), F(1))
        self.stage_params = self.layer_params * first_stage_layers + F(md.vocab * md.hidden, x.tensor)
        self.first_chunk_max = self.layers_per_chunk if x.virtual > 1 else self.layers_per_chunk - x.trim  # stage 0's largest chunk
        self.n_dp = x.data * x.context
        # model FLOPs of a step on the whole model (SC21 eq. 3 generalised; no recomputation)
        whole_tokens = x.batch_sequences * md.seq
        whole_params = md.hidden**2 * (2 + 2 * kv) + g * md.hidden * md.ffn
        self.whole_mm = 2 * whole_tokens * whole_params
        self.whole_att = 4 * whole_tokens * md.seq * md.hidden / (2 if x.flash else 1)
        self.model_flops = 3 * (md.layers * (self.whole_mm + self.whole_att) + 2 * whole_tokens * md.hidden * md.vocab)
        if x.recompute == "full":
            self.hardware_flops = self.model_flops + md.layers * (self.whole_mm + self.whole_att)
        elif x.recompute == "selective" or x.flash:
            self.hardware_flops = self.model_flops + md.layers * self.whole_att
        else:
            self.hardware_flops = self.model_flops
        self.moe = bool(md.experts)
        self.w_routed = self.b_routed = self.a_routed = F(0)
        self.expert_params = F(0)  # the first stage's expert weights on one GPU
        if self.moe:
            experts_training(self, md, x, whole_tokens, kv, g, first_stage_layers)


def shape(e: Encoding, w: m.Workload) -> _Shape:
    key = ("shape", w.name)
    if key not in e.memo:
        e.memo[key] = _Shape(w)
    e.record((w.name, "layout"))  # defined only when the layout divides the model and the GPUs
    return e.memo[key]


def ring_allreduce(e: Encoding, n: int, size, latency, bandwidth, share):
    """2(n−1)·α + 2(n−1)/n · S/(β·share); nothing for a group of one."""
    if n <= 1:
        return e.val(0)
    return 2 * e.val(n - 1) * latency + 2 * e.val(F(n - 1, n)) * size / (bandwidth * share)


def ring_gather(e: Encoding, n: int, size, latency, bandwidth, share):
    """All-gather or reduce-scatter of S gathered bytes: (n−1)·α + (n−1)/n · S/(β·share)."""
    if n <= 1:
        return e.val(0)
    return e.val(n - 1) * latency + e.val(F(n - 1, n)) * size / (bandwidth * share)


def _share(e: Encoding, p: m.Param | None):
    """An achievable share; none given: all of it."""
    return e.val(1) if p is None else e.param(p)


class _Links:
    def __init__(self, e: Encoding, w: m.Workload) -> None:
        net = w.cluster.network
        assert net is not None
        self.out = (e.param(net.latency), e.param(net.bandwidth), _share(e, net.efficiency))
        if net.domain_bandwidth is not None:
            self.inner = (e.param(net.domain_latency), e.param(net.domain_bandwidth), _share(e, net.domain_efficiency))
        else:
            self.inner = self.out
        self.domain = net.domain or 1
        self.e, self.net, self.x = e, net, w.layout

    def all_reduce(self, dims: tuple[str, ...], n: int, size, link):
        """A ring all-reduce on `link`; on a tiered network, tier by tier where the group sits."""
        if self.net.topology == "tiers":
            return encode_placement.all_reduce(self.e, self.net, self.x, dims, size)
        return ring_allreduce(self.e, n, size, *link)

    def gather(self, dims: tuple[str, ...], n: int, size, link):
        """An all-gather or reduce-scatter: half the all-reduce's steps."""
        if self.net.topology == "tiers":
            return encode_placement.all_reduce(self.e, self.net, self.x, dims, size) / 2
        return ring_gather(self.e, n, size, *link)


def _rates(e: Encoding, w: m.Workload, index: int):
    """A pool's matmul and element-wise rates, slowed by its jitter (1 + j)."""
    pool = w.cluster.pools[index]
    g = pool.gpu
    share = e.param(w.efficiency) if w.efficiency is not None else e.param(g.matmul)
    slow = 1 + e.param(w.jitter[index])
    flop_rate = e.param(g.peak) * share / slow
    byte_rate = e.param(g.memory_bandwidth) * _share(e, g.memory_efficiency) / slow
    return flop_rate, byte_rate


def _passes(e: Encoding, w: m.Workload, index: int, dense: bool = False):
    """Forward and backward of one layer, one microbatch, one GPU of the pool: (compute,
    recompute, tensor-parallel, context-parallel, expert all-to-all) each. In a mixture of
    experts a layer of experts unless `dense`."""
    sh, x = shape(e, w), w.layout
    links = _Links(e, w)
    flop_rate, byte_rate = _rates(e, w, index)
    moe = sh.moe and not dense
    w_mm, b_el = (sh.dense_w_mm, sh.dense_b_el) if sh.moe and dense else (sh.w_mm, sh.b_el)
    busiest = load(e, w) if moe else e.val(0)
    mm, attn = (e.val(w_mm) + busiest * e.val(sh.w_routed if moe else 0)) / flop_rate, e.val(sh.w_att) / flop_rate
    elem, scores = (e.val(b_el) + busiest * e.val(sh.b_routed if moe else 0)) / byte_rate, e.val(sh.b_sc) / byte_rate
    tp = 2 * links.all_reduce(("tensor",), x.tensor, e.val(sh.act), links.inner)
    kv = 2 * sh.act * sh.kv_heads_here / w.model.heads
    cp_link = links.inner if x.tensor * x.context <= links.domain else links.out
    cp_f = links.gather(("context",), x.context, e.val(kv * x.context), cp_link)
    compute_f = mm + attn + elem + scores
    if x.recompute == "full":
        redo = compute_f
    elif x.recompute == "selective" or x.flash:
        redo = attn + scores
    else:
        redo = e.val(0)
    ep = 2 * all_to_all(e, w, links, e.val(sh.a2a_bytes) * busiest) if moe else e.val(0)  # dispatch and combine
    forward = (compute_f, e.val(0), tp, cp_f, ep)
    backward = (2 * compute_f, redo, tp * (2 if x.recompute == "full" else 1), 2 * cp_f + (cp_f if x.recompute == "full" else 0), ep * (2 if x.recompute == "full" else 1))
    return forward, backward


def _chunks(e: Encoding, w: m.Workload, index: int):
    """A full chunk's forward and backward time on the pool, and what the first chunk (the
    embedding) and the last (the logits, their loss and, with sequence parallelism, a gather)
    take beyond a full chunk in each pass: (forward, backward, (first f, first b, last f, last b))."""
    sh, x = shape(e, w), w.layout
    links = _Links(e, w)
    flop_rate, byte_rate = _rates(e, w, index)
    forward, backward = _passes(e, w, index)
    layer_f, layer_b = sum(forward, e.val(0)), sum(backward, e.val(0))
    embed = e.val(sh.embed_bytes) / byte_rate
    logits = e.val(sh.w_logit) / flop_rate + e.val(sh.logit_bytes) / byte_rate
    head = links.gather(("tensor",), x.tensor, e.val(sh.act), links.inner) if x.sequence_parallel else e.val(0)
    full = sh.layers_per_chunk
    dense = sh.dense_layers if sh.moe else 0  # a mixture of experts' dense layers: all in the first chunk
    dense_f, dense_b = layer_f, layer_b
    if dense:
        dense_f, dense_b = (sum(p, e.val(0)) for p in _passes(e, w, index, dense=True))
    if x.pipeline * x.virtual == 1:  # one chunk is the first and the last
        return (full - dense) * layer_f + dense * dense_f, (full - dense) * layer_b + dense * dense_b, (embed + logits + head, embed + 2 * logits + head, e.val(0), e.val(0))
    fewer_f, fewer_b = x.trim * layer_f, x.trim * layer_b  # the edge chunks hold `trim` fewer layers
    zero = e.val(0)
    first_f, first_b = fewer_f + dense * (layer_f - dense_f), fewer_b + dense * (layer_b - dense_b)
    extras = (_max([zero, embed - first_f]), _max([zero, embed - first_b]),
              _max([zero, logits + head - fewer_f]), _max([zero, 2 * logits + head - fewer_b]))
    return full * layer_f, full * layer_b, extras


def _chunk_extremes(e: Encoding, w: m.Workload, index: int):
    """The slowest chunk's forward and backward time on the pool."""
    full_f, full_b, (first_f, first_b, last_f, last_b) = _chunks(e, w, index)
    return full_f + _max([first_f, last_f]), full_b + _max([first_b, last_b])


def message(e: Encoding, w: m.Workload):
    """One stage-to-stage message: the b·(s/c)·h activation slice of one of t GPUs."""
    sh, x = shape(e, w), w.layout
    if x.pipeline == 1:
        return e.val(0)
    if w.cluster.network.topology == "tiers":
        return encode_placement.message(e, w.cluster.network, x, e.val(sh.act / x.tensor))
    latency, bandwidth, share = _Links(e, w).out
    return latency + e.val(sh.act / x.tensor) / (bandwidth * share)


def _pipeline(e: Encoding, w: m.Workload, index: int):
    """The pool's pipeline makespan: exact m·(f + b) without pipelining; otherwise an upper
    bound: (m·v + p − 1)·(f_max + b_max + 2·w) (every op as slow as the slowest chunk, each
    message charged to the op that sends it), or the same with full chunks plus every extra
    of the first and last chunks, whichever is smaller."""
    sh, x = shape(e, w), w.layout
    f, b = _chunk_extremes(e, w, index)
    if x.pipeline == 1:
        return sh.m * (f + b)
    rounds = sh.m * x.virtual + x.pipeline - 1
    slowest = rounds * (f + b + 2 * message(e, w))
    # or: every op a full chunk, plus all that the first and last chunks add over the step (a
    # path through the schedule holds each op at most once); the smaller bound is the answer
    full_f, full_b, extras = _chunks(e, w, index)
    spread = rounds * (full_f + full_b + 2 * message(e, w)) + sh.m * sum(extras, e.val(0))
    return _min([slowest, spread])


def _dp_exchange(e: Encoding, w: m.Workload):
    """The exposed data-parallel exchange of stage 0's gradients (fp32) over d·c ranks."""
    sh, x = shape(e, w), w.layout
    links = _Links(e, w)
    out, dp = links.out, encode_placement.DATA
    full = e.val(0)
    experts = ((sh.n_ep, sh.expert_params),) if sh.moe else ()  # a mixture of experts' experts: over the ranks that hold them
    for n, params in ((sh.n_dp, sh.stage_params), *experts):
        grads = 4 * params
        if x.zero == 0:
            full = full + links.all_reduce(dp, n, e.val(grads), out)
        else:
            full = full + links.gather(dp, n, e.val(grads), out) + links.gather(dp, n, e.val(grads / 2), out)
    return (1 - e.param(w.overlap)) * full


def _optimizer(e: Encoding, w: m.Workload, index: int):
    sh, x = shape(e, w), w.layout
    _, byte_rate = _rates(e, w, index)
    local = sh.stage_params / (sh.n_dp if x.zero >= 1 else 1)
    if sh.moe:
        local += sh.expert_params / (sh.n_ep if x.zero >= 1 else 1)
    return e.val(ADAM_BYTES * local) / byte_rate


def _pools(w: m.Workload) -> range:
    return range(len(w.cluster.pools))


def _index(w: m.Workload, pool: str | None) -> int:
    return [p.name for p in w.cluster.pools].index(pool or "")


FAMILY = "transformer"


@symbolic(FAMILY, "pool_time")
def _pool_time(e: Encoding, w: m.Workload, pool: str | None) -> z3.ArithRef:
    return _pipeline(e, w, _index(w, pool))


@symbolic(FAMILY, "pipeline_time")
def _pipeline_time(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return _max([e.quantity((w.name, "pool_time", p.name)) for p in w.cluster.pools])


@symbolic(FAMILY, "optimizer_time")
def _optimizer_time(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return _max([_optimizer(e, w, i) for i in _pools(w)])


@symbolic(FAMILY, "dp_comm_time")
def _dp_comm_time(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return _dp_exchange(e, w)


@symbolic(FAMILY, "step_time")
def _step_time(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return e.quantity((w.name, "pipeline_time")) + e.quantity((w.name, "dp_comm_time")) + e.quantity((w.name, "optimizer_time"))


@symbolic(FAMILY, "pp_message_time")
def _pp_message_time(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return message(e, w)


def _stage_part(e: Encoding, w: m.Workload, part: int) -> z3.ArithRef:
    """One part (0 compute, 1 recompute, 2 tensor-, 3 context-parallel communication, 4 expert
    all-to-all) of a step's layer work on one stage of the slowest pool: m · (l/p) · (forward +
    backward); a mixture of experts' dense layers count as such when p = 1."""
    sh = shape(e, w)
    dense = sh.dense_stage if sh.moe else 0
    terms = []
    for i in _pools(w):
        forward, backward = _passes(e, w, i)
        term = sh.m * (sh.layers_per_stage - dense) * (forward[part] + backward[part])
        if dense:
            dense_f, dense_b = _passes(e, w, i, dense=True)
            term = term + sh.m * dense * (dense_f[part] + dense_b[part])
        terms.append(term)
    return _max(terms)


for _part, _name in enumerate(("compute_time", "recompute_time", "tp_comm_time", "cp_comm_time", "ep_comm_time")):
    symbolic(FAMILY, _name)(lambda e, w, _pool, part=_part: _stage_part(e, w, part))


@symbolic(FAMILY, "bubble")
def _bubble(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    sh, x = shape(e, w), w.layout
    return e.val(F(x.pipeline - 1, x.virtual * sh.m))


@symbolic(FAMILY, "microbatches")
def _microbatches(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return e.val(shape(e, w).m)


@symbolic(FAMILY, "flops")
def _flops(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return e.val(shape(e, w).model_flops)


def _fleet_peak(e: Encoding, w: m.Workload):
    return e.quantity((w.cluster.name, "peak"))


@symbolic(FAMILY, "mfu")
def _mfu(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return e.val(shape(e, w).model_flops) / (e.quantity((w.name, "step_time")) * _fleet_peak(e, w))


@symbolic(FAMILY, "hfu")
def _hfu(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return e.val(shape(e, w).hardware_flops) / (e.quantity((w.name, "step_time")) * _fleet_peak(e, w))


@symbolic(FAMILY, "throughput")
def _throughput(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    sh = shape(e, w)
    return e.val(sh.x.batch_sequences * sh.md.seq) / e.quantity((w.name, "step_time"))


@symbolic(FAMILY, "throughput_per_gpu")
def _throughput_per_gpu(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return e.quantity((w.name, "throughput")) / e.val(w.cluster.gpus)


@symbolic(FAMILY, "state_per_gpu")
def _state_per_gpu(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    sh, x = shape(e, w), w.layout
    weights, grads, optimizer = F(2), F(4), F(12)  # bf16 weight, fp32 gradient, fp32 master + 2 moments
    if x.zero >= 1:
        optimizer /= sh.n_dp
    if x.zero >= 2:
        grads /= sh.n_dp
    if x.zero >= 3:
        weights /= sh.n_dp
    state = (weights + grads + optimizer) * sh.stage_params
    if sh.moe:  # the experts' state, sharded over the ranks holding the same experts
        sharded = [F(2), F(4), F(12)]
        for stage in range(min(x.zero, 3)):
            sharded[2 - stage] /= sh.n_ep
        state += sum(sharded) * sh.expert_params
    return e.val(state)


def _layer_activations(sh: _Shape) -> Fraction:
    """Korthikanti et al. Table 2, generalised to grouped-query attention and gated MLPs."""
    x, md = sh.x, sh.md
    r = x.tensor if x.sequence_parallel else 1
    if x.recompute == "full":
        return 2 * sh.e / r
    kv = F(md.kv_heads, md.heads)
    split = 4 + 4 * kv + (6 if md.gated else 4) * F(md.ffn, md.hidden)
    kept = 10 * sh.e / r + split * sh.e / x.tensor
    if x.recompute == "none" and not x.flash:
        kept += F(5 * md.heads * x.microbatch * md.seq * md.seq, x.context * x.tensor)
    return kept


def _in_flight(sh: _Shape) -> int:
    """Chunk-microbatches the first device holds at its peak: p under 1F1B (at most m), and
    p·v + p − 1 under interleaving (at most m·v) — Korthikanti's 1 + (p − 1)/(p·v) factor."""
    x = sh.x
    if x.virtual == 1:
        return min(x.pipeline, sh.m)
    return min(x.pipeline * x.virtual + x.pipeline - 1, sh.m * x.virtual)


@symbolic(FAMILY, "activation_per_gpu")
def _activation_per_gpu(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    sh = shape(e, w)
    if sh.moe:  # the first chunk holds the dense layers; with v > 1 a full chunk of experts may hold more
        moe = e.val(sh.a_fixed) + load(e, w) * e.val(sh.a_routed)
        first = sh.first_chunk_max if sh.x.virtual == 1 else sh.layers_per_chunk - sh.x.trim
        chunks = [e.val(sh.dense_layers * _layer_activations(sh)) + (first - sh.dense_layers) * moe]
        if sh.x.virtual > 1:
            chunks.append(sh.layers_per_chunk * moe)
        return e.val(_in_flight(sh)) * _max(chunks)
    return e.val(_in_flight(sh) * sh.first_chunk_max * _layer_activations(sh))


def _busy(e: Encoding, w: m.Workload, index: int):
    """The busiest stage's layer work in a step on the pool: m · (its layers) · (forward +
    backward of a layer); m · v · (a full chunk) unless p ≤ 2 trims every stage."""
    sh = shape(e, w)
    dense = sh.dense_stage if sh.moe else 0  # a mixture of experts' dense layers, when p = 1
    forward, backward = _passes(e, w, index)
    total = sh.m * (sh.layers_per_stage - dense) * (sum(forward, e.val(0)) + sum(backward, e.val(0)))
    if dense:
        dense_f, dense_b = _passes(e, w, index, dense=True)
        total = total + sh.m * dense * (sum(dense_f, e.val(0)) + sum(dense_b, e.val(0)))
    return total


@symbolic(FAMILY, "busy_time")
def _busy_time(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return _max([_busy(e, w, i) for i in _pools(w)])


def _energy(e: Encoding, w: m.Workload):
    """Σ pools N · (tdp · busy + low · (step − busy)): each GPU at full power while its stage
    works, at max(idle, floor) for the rest of the step (bubble, exchange, optimizer)."""
    step = e.quantity((w.name, "step_time"))
    terms = []
    for i, p in enumerate(w.cluster.pools):
        busy = _busy(e, w, i)
        terms.append(e.val(p.count) * (e.param(p.gpu.tdp) * busy + e.low(p.gpu) * (step - busy)))
    return z3.Sum(terms)


@symbolic(FAMILY, "energy_per_step")
def _energy_per_step(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return _energy(e, w)


@symbolic(FAMILY, "average_power")
def _average_power(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return e.quantity((w.name, "energy_per_step")) / e.quantity((w.name, "step_time"))


@symbolic(FAMILY, "energy_per_token")
def _energy_per_token(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    sh = shape(e, w)
    return e.quantity((w.name, "energy_per_step")) / e.val(sh.x.batch_sequences * sh.md.seq)


@symbolic(FAMILY, "memory_per_gpu")
def _memory_per_gpu(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return e.quantity((w.name, "state_per_gpu")) + e.quantity((w.name, "activation_per_gpu"))
