"""Training a mixture of experts, run by the core: a transformer whose MLPs (after the first
`dense` layers) are `count` routed experts, `top_k` per token, plus `shared` experts every token
passes, the routed experts spread over `ep` data-parallel GPUs (expert parallelism).

Each layer is counted on its own (dense or experts) by its index; the busiest GPU of an expert
group holds E/ep experts and receives (1 + load) times the mean of the group's routed tokens,
expert by expert; its tokens leave for the experts and come back by a pairwise all-to-all
(dispatch and combine, `exchanges.two_level_all_to_all`) whose partners inside an NVLink
domain are counted by walking the group's ranks. The pipeline schedule is replayed op by op
with each chunk the sum of its layers, the experts' gradients are reduced over the ranks that
hold the same experts. Sources: Lepikhin et al. 2020 (GShard); Rajbhandari et al. 2022
(DeepSpeed-MoE); DeepSeek-AI 2024 (DeepSeek-V3). Nothing here evaluates the encoder's forms.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from functools import cached_property

from .exchanges import two_level_all_to_all
from .megatron import ADAM_BYTES, CE_BYTES, allreduce_time, gather_time, layer_passes
from .pipeline import schedule_order, simulate_pipeline
from .serving import Experts, layer_weights
from .transformer import attention_flops, in_flight_chunks, layer_activations, logit_flops, score_bytes, state_bytes_per_param
from .transformer_job import TransformerTraining

__all__ = ["ExpertTraining", "Part", "domain_partners"]


@dataclass(frozen=True, slots=True)
class Part:
    """One pass of one layer on one GPU: compute, recompute, tensor-, context-parallel and
    expert all-to-all time."""

    compute: Fraction
    recompute: Fraction
    tp: Fraction
    cp: Fraction
    ep: Fraction = Fraction(0)

    @property
    def total(self) -> Fraction:
        return self.compute + self.recompute + self.tp + self.cp + self.ep


def domain_partners(ep: int, stride: int, domain: int, gpus: int) -> int:
    """The partners of an expert group's GPU that share its NVLink domain, itself counted, in
    the group with the fewest: every group of the `gpus` is a block of stride·ep consecutive
    GPUs taking every `stride`-th; a group whose domains hold as many of it each has that many,
    any other 1 (every partner over the network)."""
    fewest = ep
    for first in range(0, gpus, stride * ep):
        counts: dict[int, int] = {}
        for j in range(ep):
            counts[(first + j * stride) // domain] = counts.get((first + j * stride) // domain, 0) + 1
        fewest = min(fewest, counts[first // domain] if len(set(counts.values())) == 1 else 1)
    return fewest


class ExpertTraining(TransformerTraining):
    """TransformerTraining for a mixture of experts (`spec.experts`, `spec.expert`, `spec.expert_load`)."""

    @property
    def _experts(self) -> Experts:
        return self.spec.experts

    @property
    def _load(self) -> Fraction:
        return 1 + (self.spec.expert_load or 0)

    def _tokens(self) -> Fraction:
        x = self.spec.layout
        return x.micro * Fraction(self.spec.model.seq, x.c)

    def _layer(self, index: int, pool: int) -> tuple[Part, Part]:
        """Forward and backward of layer `index`, one microbatch, one GPU of the pool."""
        s, x, ex = self.spec, self.spec.layout, self._experts
        dev = self.device(pool)
        cp_link = self.inner if x.t * x.c <= self.domain else self.outer
        fwd, bwd = layer_passes(s.model, x, dev, self.inner, cp_link, Fraction(0))
        if index < ex.dense:
            return (Part(fwd.compute, fwd.recompute, fwd.tp, fwd.cp), Part(bwd.compute, bwd.recompute, bwd.tp, bwd.cp))
        md, h = s.model, s.model.hidden
        flop_rate, byte_rate = dev.peak * dev.matmul, dev.hbm * dev.hbm_share
        tokens = self._tokens()
        fixed, one = layer_weights(md, ex, index)  # attention, shared experts, router; one routed expert
        flops = 2 * tokens * fixed / x.t
        per_visit = Fraction((6 if md.gated else 4) * ex.ffn, x.t)  # bytes of an expert MLP's activation per token
        bytes_ = 22 * tokens * h / (x.t if x.sp else 1) + ex.shared * tokens * per_visit
        if x.flash:
            bytes_ += (4 + 4 * Fraction(md.kv, md.heads)) * tokens * h / x.t
        here = ex.count // self.spec.expert
        for _ in range(here):  # the busiest GPU's experts, each its share of the routed tokens
            visits = tokens * ex.top_k * self._load / here
            flops += 2 * visits * one / x.t
            bytes_ += visits * per_visit
        attn = attention_flops(md, x) / flop_rate
        scores = score_bytes(md, x) / byte_rate
        compute = flops / flop_rate + attn + bytes_ / byte_rate + scores
        sent = 2 * h * tokens * ex.top_k * self._load  # bf16 copies of its tokens, one per routed expert
        g = domain_partners(self.spec.expert, x.t * x.c, self.domain, sum(p.count for p in self.pools))
        exchange = two_level_all_to_all(self.spec.expert, g, sent, self.inner.latency, self.inner.bandwidth * self.inner.share,
                                        self.outer.latency, self.outer.bandwidth * self.outer.share).time
        redo = compute if x.recompute == "full" else (attn + scores if x.recompute == "selective" or x.flash else Fraction(0))
        full = x.recompute == "full"
        forward = Part(compute, Fraction(0), fwd.tp, fwd.cp, 2 * exchange)  # dispatch and combine
        backward = Part(2 * compute, redo, bwd.tp, bwd.cp, 2 * exchange * (2 if full else 1))
        return forward, backward

    def _layers_of(self) -> tuple[tuple[tuple[int, ...], ...], ...]:
        """The layer indices of each chunk on each device: model chunk c·p + r on device r."""
        x, rows = self.spec.layout, self.chunks
        sizes = {c * x.p + r: rows[r][c] for r in range(x.p) for c in range(x.v)}
        first, starts = 0, {}
        for j in range(x.p * x.v):
            starts[j] = first
            first += sizes[j]
        return tuple(tuple(tuple(range(starts[c * x.p + r], starts[c * x.p + r] + rows[r][c])) for c in range(x.v)) for r in range(x.p))

    def _sum(self, layers, pool: int, attr: str = "total") -> tuple[Fraction, Fraction]:
        f = b = Fraction(0)
        for index in layers:
            forward, backward = self._layer(index, pool)
            f += getattr(forward, attr)
            b += getattr(backward, attr)
        return f, b

    def _full_chunk(self) -> tuple[int, ...]:
        """A full chunk: the whole model without pipelining, else one of experts only."""
        x = self.spec.layout
        if x.p * x.v == 1:
            return self._layers_of()[0][0]
        each = max(max(row) for row in self.chunks)  # the last layers: past the dense ones (held in the first chunk)
        return tuple(range(self.spec.model.layers - each, self.spec.model.layers))

    def _step(self, pool: int, trace: list | None = None):
        s, x, md = self.spec, self.spec.layout, self.spec.model
        self._within_reach()
        dev = self.device(pool)
        byte_rate, flop_rate = dev.hbm * dev.hbm_share, dev.peak * dev.matmul
        activation = 2 * self._tokens() * md.hidden
        embed = 4 * activation / (x.t if x.sp else 1) / byte_rate
        logits = logit_flops(md, x) / flop_rate + CE_BYTES * self._tokens() * md.vocab / x.t / byte_rate
        head = gather_time(x.t, activation, self.inner) if x.sp else Fraction(0)
        layers = self._layers_of()
        f_rows, b_rows = [], []
        for r in range(x.p):
            f_row, b_row = [], []
            for c in range(x.v):
                f, b = self._sum(layers[r][c], pool)
                first, last = r == 0 and c == 0, r == x.p - 1 and c == x.v - 1
                f_row.append(f + (embed if first else 0) + (logits + head if last else 0))
                b_row.append(b + (embed if first else 0) + (2 * logits + head if last else 0))
            f_rows.append(tuple(f_row))
            b_rows.append(tuple(b_row))
        message = self.outer.latency + activation / x.t / (self.outer.bandwidth * self.outer.share) if x.p > 1 else Fraction(0)
        sched = simulate_pipeline(x.p, x.v, x.microbatches, tuple(f_rows), tuple(b_rows), message, trace)
        # stage 0: its weights outside the routed experts (and the embedding), and its experts
        shared, routed = Fraction(md.vocab * md.hidden, x.t), Fraction(0)
        for index in (i for chunk in layers[0] for i in chunk):
            fixed, one = layer_weights(md, self._experts, index)
            shared += fixed / x.t
            routed += self._experts.count // s.expert * one / x.t
        n = x.d * x.c
        n_experts = max(n // s.expert, 1)
        dp = Fraction(0)
        for ranks, params in ((n, shared), (n_experts, routed)):
            grads = 4 * params
            dp += allreduce_time(ranks, grads, self.outer) if x.zero == 0 else gather_time(ranks, grads, self.outer) + gather_time(ranks, grads / 2, self.outer)
        optimizer = ADAM_BYTES * (shared / (n if x.zero else 1) + routed / (n_experts if x.zero else 1)) / byte_rate
        expert_layout = replace(x, d=n_experts, c=1)
        embed_params = Fraction(md.vocab * md.hidden, x.t)
        order = schedule_order(x.p, x.v, x.microbatches, 0)
        held = in_flight_chunks(order)
        worst = max(sum((self._activations(i) for i in chunk), Fraction(0)) for chunk in layers[0])
        return _Step(sched.makespan, (1 - s.overlap) * dp, optimizer, message,
                     state_bytes_per_param(x) * (shared - embed_params) + state_bytes_per_param(expert_layout) * routed,
                     state_bytes_per_param(x) * embed_params, held * worst)

    def _activations(self, index: int) -> Fraction:
        """Bytes layer `index` keeps for the backward pass, one microbatch (Korthikanti's Table 2;
        a layer of experts keeps each visited expert's MLP activation and its dispatched input)."""
        s, x, ex = self.spec, self.spec.layout, self._experts
        if index < ex.dense:
            return layer_activations(s.model, x)
        md, e = s.model, self._tokens() * s.model.hidden
        r = x.t if x.sp else 1
        if x.recompute == "full":
            return 2 * e / r
        mlp = Fraction((6 if md.gated else 4) * ex.ffn, md.hidden)
        kept = 10 * e / r + (4 + 4 * Fraction(md.kv, md.heads)) * e / x.t + ex.shared * mlp * e / x.t
        kept += ex.top_k * self._load * (mlp + 2) * e / x.t
        if x.recompute == "none" and not x.flash:
            kept += Fraction(5 * md.heads * x.micro * md.seq * md.seq, x.c * x.t)
        return kept

    @cached_property
    def _steps(self):
        return tuple(self._step(i) for i in range(len(self.pools)))

    def schedule_trace(self, index: int) -> tuple:
        ops: list = []
        self._step(index, ops)
        return tuple(ops)

    def _part(self, part: str) -> Fraction:
        """One part of a step's layer work on a full stage of the slowest pool."""
        x = self.spec.layout
        stage = self._full_chunk() if x.p == 1 else self._full_chunk() * x.v
        return max(x.microbatches * sum(self._sum(stage, i, part)) for i in range(len(self.pools)))

    def _busy(self, index: int) -> Fraction:
        x = self.spec.layout
        total = Fraction(0)
        for _ in range(x.microbatches * x.v):  # every chunk-microbatch the stage runs
            total += sum(self._sum(self._full_chunk(), index))
        return total

    @cached_property
    def ep_comm_time(self) -> Fraction:
        return self._part("ep")

    def _flops(self, recompute: bool) -> Fraction:
        """3 forward passes of the whole batch over each layer's active weights (top_k routed,
        shared, router), attention and logits; with `recompute`, what recomputation redoes."""
        md, x = self.spec.model, self.spec.layout
        whole = replace(x, t=1, p=1, d=1, c=1, v=1, micro=x.batch)
        tokens = x.batch * md.seq
        forward = Fraction(0)
        redo = Fraction(0)
        for index in range(md.layers):
            fixed, one = layer_weights(md, self._experts, index)
            mm = 2 * tokens * (fixed + self._experts.top_k * one if index >= self._experts.dense else fixed)
            forward += mm + attention_flops(md, whole)
            redo += (mm if x.recompute == "full" else 0) + (attention_flops(md, whole) if x.recompute != "none" or x.flash else 0)
        total = 3 * (forward + logit_flops(md, whole))
        return total + redo if recompute else total

    @cached_property
    def flops(self) -> Fraction:
        return self._flops(False)

    @cached_property
    def hfu(self) -> Fraction:
        return self._flops(True) / (self.step_time * self._fleet_peak)


@dataclass(frozen=True, slots=True)
class _Step:
    makespan: Fraction
    dp_comm: Fraction
    optimizer: Fraction
    pp_message: Fraction
    state_bytes: Fraction
    embedding_state_bytes: Fraction
    activation_bytes: Fraction
