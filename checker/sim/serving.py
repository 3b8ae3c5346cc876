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

__all__ = ["ServingSpec", "Serving", "Replica", "MAX_STEPS"]

MAX_STEPS = 1_000_000  # prompt plus output tokens a replica steps through


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
        self.weights = parameters * weight / self.gpus  # bytes each GPU holds and reads per pass
        value = Fraction(2) if spec.kv_bytes is None else spec.kv_bytes
        md = self.model
        head_dim = Fraction(md.hidden, md.heads)
        # a key and a value per layer and kv head; this GPU holds its stages' layers and kv heads
        self.kv_token = 2 * md.layers * md.kv_heads * head_dim * value / self.gpus

    def token_flops(self, context: int) -> Fraction:
        """Forward FLOPs of one token attending over `context` positions (itself included):
        2 per weight, and 4 per hidden unit and position for scores and their values, per layer."""
        return 2 * self.parameters + 4 * self.model.layers * self.model.hidden * context

    def stage_time(self, flops: Fraction, cached_tokens: Fraction) -> Fraction:
        """One pipeline stage's pass: its share of the FLOPs at the matmul rate, or its weights
        and the cache it holds read from HBM, whichever is slower."""
        compute = flops / self.gpus / self.flop_rate
        memory = (self.weights + cached_tokens * self.kv_token) / self.byte_rate
        return max(compute, memory)

    def prefill(self, prompts: int, length: int) -> Fraction:
        """`prompts` prompts of `length` tokens, each token appended to the cache in turn."""
        flops, cached = Fraction(0), 0
        for position in range(1, length + 1):
            flops += prompts * self.token_flops(position)
            cached += prompts
        return self.spec.pipeline * self.stage_time(flops, Fraction(cached))

    def decode(self, batch: int, prompt: int, output: int) -> list[Fraction]:
        """The decode steps after the prefill: step j appends token j + 1 of each sequence, which
        attends over prompt + j positions; the cache holds batch x (prompt + j) tokens."""
        steps = []
        cached = batch * prompt
        for j in range(1, output):
            cached += batch
            steps.append(self.spec.pipeline * self.stage_time(batch * self.token_flops(prompt + j), Fraction(cached)))
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
        return Shape(self.spec.model).parameters

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
