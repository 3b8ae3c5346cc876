"""Serving a transformer, step by step (spec/semantics.md, "Serving a model").

Each pool's replicas (tensor x pipeline GPUs each) serve a batch of `concurrency` requests the
way an inference engine with static batching does: the prompts are prefilled token by token
(each token attends over the positions before it and itself, and appends its keys and values
to the cache), then the batch decodes one token per sequence per step, every step reading each
GPU's weights and the whole key/value cache held so far, at the slower of its compute and its
memory traffic. Time to first token is one prompt prefilled on an idle replica; time per output
token is the slowest decode step; a pool's throughput is the tokens of a batch over the time the
batch takes. Pools serve independently: their rates add. Stdlib only; nothing here reads the
encoder's closed forms.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

from .lease import Leased, LeaseSpec
from .scenario import ClusterSpec, OutOfReach
from .transformer import Model
from .transformer_job import Shape

__all__ = ["ServingSpec", "Serving", "Replica", "MAX_STEPS", "Experts", "ExpertShape", "layer_weights"]

MAX_STEPS = 1_000_000  # prompt plus output tokens a replica steps through


@dataclass(frozen=True, slots=True)
class Experts:
    """A mixture of experts: `count` routed experts per MoE layer (0: a dense model), `top_k`
    of them per token, `shared` every token passes, each an MLP of `ffn`; the first `dense`
    layers have the model's dense MLP instead."""

    count: int = 0
    top_k: int = 0
    shared: int = 0
    ffn: int = 0
    dense: int = 0


def layer_weights(model: Model, experts: Experts, index: int) -> tuple[Fraction, Fraction]:
    """Layer `index`'s weights outside its routed experts, and one routed expert's: Q and the
    projection h·h each, K and V h·(kv_heads · head_dim) each, the MLP's 2 or 3 matrices, the
    router's h per expert."""
    h, g = model.hidden, (3 if model.gated else 2)
    attention = 2 * h * h + 2 * h * Fraction(model.kv * h, model.heads)
    if not experts.count or index < experts.dense:
        return attention + g * h * model.f, Fraction(0)
    one = Fraction(g * h * experts.ffn)
    return attention + experts.shared * one + h * experts.count, one


class ExpertShape(Shape):
    """A model block's parameters counted layer by layer, experts included."""

    def __init__(self, model: Model, experts: Experts) -> None:
        super().__init__(model)
        self.experts = experts

    def _count(self, routed: int) -> Fraction:
        md = self.model
        total = Fraction(md.vocab * md.hidden)
        for index in range(md.layers):
            fixed, one = layer_weights(md, self.experts, index)
            total += fixed + routed * one
        return total

    @cached_property
    def parameters(self) -> Fraction:
        return self._count(self.experts.count)

    @cached_property
    def active_parameters(self) -> Fraction:
        return self._count(self.experts.top_k)


@dataclass(frozen=True, slots=True)
class ServingSpec:
    cluster: ClusterSpec
    model: Model
    tensor: int
    pipeline: int
    concurrency: int  # sequences in a batch on each replica
    prompt: Fraction  # tokens (whole at any point replayed)
    output: Fraction
    weight_bytes: Fraction | None  # per parameter; None: 2 (bf16)
    kv_bytes: Fraction | None  # per cached value; None: 2 (bf16)
    matmul: tuple[Fraction | None, ...]  # per pool
    bandwidth: tuple[Fraction | None, ...]  # HBM bytes/s per pool
    memory_efficiency: tuple[Fraction | None, ...]  # per pool; None: all of it
    efficiency: Fraction | None  # the workload's matmul share for every pool, else each gpu's
    lease: LeaseSpec | None = None
    experts: Experts = Experts()
    expert_load: Fraction | None = None  # the most loaded expert's excess over the mean; None: 0
    prefill_pool: int | None = None  # serving apart: the index of the pool that prefills (sim/disaggregated.py)


class Replica:
    """One replica of a pool: `gpus` GPUs in `pipeline` stages of `tensor` GPUs each."""

    def __init__(self, spec: ServingSpec, parameters: Fraction, index: int) -> None:
        pool = spec.cluster.pools[index]
        share = spec.efficiency if spec.efficiency is not None else spec.matmul[index]
        bandwidth = spec.bandwidth[index]
        if share is None or bandwidth is None:
            raise ValueError(f"pool {pool.name!r} needs a matmul share and a memory bandwidth")
        self.spec, self.model = spec, spec.model
        self.gpus = spec.tensor * spec.pipeline
        self.flop_rate = pool.gpu.peak * share  # per GPU
        self.byte_rate = bandwidth * (spec.memory_efficiency[index] or 1)
        self.memory = pool.gpu.memory
        self.parameters = parameters
        weight = Fraction(2) if spec.weight_bytes is None else spec.weight_bytes
        self.weight = weight
        self.weights = parameters * weight / self.gpus  # bytes each GPU holds
        self.load = 1 + (spec.expert_load or 0)
        value = Fraction(2) if spec.kv_bytes is None else spec.kv_bytes
        md = self.model
        head_dim = Fraction(md.hidden, md.heads)
        # a key and a value per layer and kv head; this GPU holds its stages' layers and kv heads
        self.kv_token = 2 * md.layers * md.kv_heads * head_dim * value / self.gpus
        # every layer's weights counted once, layer by layer: those every token passes through,
        # and one routed expert of each MoE layer (0 in a dense layer)
        layers = [layer_weights(md, spec.experts, index) for index in range(md.layers)]
        self.fixed = sum((fixed for fixed, _ in layers), Fraction(0))
        self.expert = sum((one for _, one in layers), Fraction(0))

    def attention_flops(self, context: int) -> int:
        """One token attending over `context` positions (itself included): 4 FLOPs per hidden
        unit and position per layer, for the scores and their values."""
        return 4 * self.model.layers * self.model.hidden * context  # a whole number: int arithmetic, exact

    def pass_time(self, tokens: int, attention: int, cached_tokens: Fraction) -> Fraction:
        """`tokens` tokens through every stage, layer by layer: 2 FLOPs per weight they pass
        through, a routed expert's work on the busiest GPU grown by the load; the weights the
        tokens reach read once (an expert only if some token is routed to it). Each stage is
        the slower of its FLOPs at the matmul rate and its bytes from HBM."""
        md, ex = self.model, self.spec.experts
        flops, read = attention + 2 * tokens * md.vocab * md.hidden, Fraction(md.vocab * md.hidden)
        flops += 2 * tokens * self.fixed
        read += self.fixed
        slots = tokens * ex.top_k * self.load  # routed slots per MoE layer, as if every expert took the busiest one's
        flops += 2 * slots * self.expert
        read += min(Fraction(ex.count), slots) * self.expert
        compute = flops / self.gpus / self.flop_rate
        memory = (read * self.weight / self.gpus + cached_tokens * self.kv_token) / self.byte_rate
        return self.spec.pipeline * max(compute, memory)

    def prefill(self, prompts: int, length: int) -> Fraction:
        """`prompts` prompts of `length` tokens, each token appended to the cache in turn."""
        attention, cached = 0, 0
        for position in range(1, length + 1):
            attention += prompts * self.attention_flops(position)
            cached += prompts
        return self.pass_time(prompts * length, attention, Fraction(cached))

    def decode(self, batch: int, prompt: int, output: int) -> list[Fraction]:
        """The decode steps after the prefill: step j appends token j + 1 of each sequence, which
        attends over prompt + j positions; the cache holds batch x (prompt + j) tokens."""
        steps = []
        cached = batch * prompt
        for j in range(1, output):
            cached += batch
            steps.append(self.pass_time(batch, batch * self.attention_flops(prompt + j), Fraction(cached)))
        return steps

    def fits(self, batch: int, tokens: int) -> bool:
        return self.weights + batch * tokens * self.kv_token <= self.memory


def _whole(x: Fraction, name: str) -> int:
    if x.denominator != 1 or x < 1:
        raise OutOfReach(f"{name} = {x} tokens is not a whole number the core can step through")
    return int(x)


class Serving(Leased):
    def __init__(self, spec: ServingSpec) -> None:
        self.spec = spec
        if spec.tensor < 1 or spec.pipeline < 1 or spec.concurrency < 1:
            raise ValueError("need tensor, pipeline and concurrency >= 1")
        self.P = _whole(spec.prompt, "prompt")
        self.O = _whole(spec.output, "output")
        if spec.concurrency * (self.P + self.O) > MAX_STEPS:
            raise OutOfReach(f"a batch of {spec.concurrency} x {self.P + self.O} tokens is more than the core steps through ({MAX_STEPS})")

    @cached_property
    def _parameters(self) -> Fraction:
        return ExpertShape(self.spec.model, self.spec.experts).parameters

    @cached_property
    def _replicas(self) -> tuple[Replica, ...]:
        return tuple(Replica(self.spec, self._parameters, i) for i in range(len(self.spec.cluster.pools)))

    def _pools(self, value) -> dict[str, Fraction]:
        return {p.name: value(r, p) for r, p in zip(self._replicas, self.spec.cluster.pools)}

    @cached_property
    def weights_per_gpu(self) -> Fraction:
        return self._replicas[0].weights

    @cached_property
    def kv_per_token(self) -> Fraction:
        return self._replicas[0].kv_token

    @cached_property
    def kv_cache_per_gpu(self) -> Fraction:
        """The cache of a full batch at its longest: every sequence's prompt and output."""
        r = self._replicas[0]
        return self.spec.concurrency * (self.P + self.O) * r.kv_token

    @cached_property
    def memory_per_gpu(self) -> Fraction:
        return self.weights_per_gpu + self.kv_cache_per_gpu

    @cached_property
    def max_batch(self) -> dict[str, Fraction]:
        """The most sequences of prompt + output tokens whose cache fits beside the weights:
        doubled while it fits, then bisected."""
        def largest(r: Replica, _pool) -> Fraction:
            tokens = self.P + self.O
            if not r.fits(1, tokens):
                return Fraction(0)
            low, high = 1, 2
            while r.fits(high, tokens):
                low, high = high, high * 2
            while high - low > 1:
                mid = (low + high) // 2
                low, high = (mid, high) if r.fits(mid, tokens) else (low, mid)
            return Fraction(low)

        return self._pools(largest)

    @cached_property
    def ttft(self) -> Fraction:
        """The slowest pool's time to the first token of a prompt prefilled on an idle replica."""
        return max(r.prefill(1, self.P) for r in self._replicas)

    kv_transfer_time = Fraction(0)  # every replica keeps the cache it prefilled

    @cached_property
    def tpot(self) -> Fraction:
        """The slowest pool's slowest decode step (none when one token is asked for)."""
        return max((max(r.decode(self.spec.concurrency, self.P, self.O), default=Fraction(0)) for r in self._replicas))

    @cached_property
    def pool_throughput(self) -> dict[str, Fraction]:
        b = self.spec.concurrency

        def rate(r: Replica, pool) -> Fraction:
            batch_time = r.prefill(b, self.P) + sum(r.decode(b, self.P, self.O), Fraction(0))
            return Fraction(pool.count, r.gpus) * b * self.O / batch_time

        return self._pools(rate)

    @cached_property
    def throughput(self) -> Fraction:
        return sum(self.pool_throughput.values(), Fraction(0))

    @cached_property
    def throughput_per_gpu(self) -> Fraction:
        return self.throughput / sum(p.count for p in self.spec.cluster.pools)
