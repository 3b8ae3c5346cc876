"""A training workload with a transformer model and a parallel layout, run by the core.

The spec's own values go in (the model's shape, the layout's integers, each pool's GPU and
jitter, the links); each pool's data-parallel replicas run the pipeline schedule op by op
(`megatron.megatron_step`, `pipeline.simulate_pipeline`), the gradient exchange is a ring
replayed step by step, and every quantity of the registry's `transformer` family comes out
by its name. Nothing here is a closed form of the encoder's: the makespan is the schedule's,
the memory in flight is counted by walking it.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

from .jobs import PowerOfPools
from .megatron import Device, Link, hardware_flops, layer_passes, megatron_step, model_flops
from .pipeline import simulate_pipeline
from .placement import placed as place_groups
from .power import energy, site_step_segments
from .scenario import MAX_RING, ClusterSpec, OutOfReach, floor_watts
from .transformer import Layout, Model, layer_params

__all__ = ["TransformerSpec", "TransformerTraining", "Shape", "MAX_OPS"]

MAX_OPS = 1_000_000  # forward and backward operations of a schedule the core replays one by one


class Shape:
    """A model block: its weight-matrix parameters, counted layer by layer by the core."""

    def __init__(self, model: Model) -> None:
        self.model = model

    @cached_property
    def parameters(self) -> Fraction:
        whole = Layout(t=1, p=1, d=1, micro=1, batch=1)
        return self.model.layers * layer_params(self.model, whole) + self.model.vocab * self.model.hidden

    @cached_property
    def active_parameters(self) -> Fraction:
        """A dense model: every parameter is active."""
        return self.parameters


@dataclass(frozen=True, slots=True)
class TransformerSpec:
    """What a spec writes: the cluster, the model's shape, the layout, the workload's shares."""

    cluster: ClusterSpec
    model: Model
    layout: Layout
    efficiency: Fraction | None  # the workload's matmul share; None: each GPU's own `matmul`
    jitter: tuple[Fraction, ...]  # one per pool
    overlap: Fraction  # share of the data-parallel exchange hidden behind the backward pass
    matmul: tuple[Fraction | None, ...]  # per pool: the GPU's matmul share
    memory_bandwidth: tuple[Fraction, ...]  # per pool
    memory_efficiency: tuple[Fraction | None, ...]  # per pool; None: all of the bandwidth
    efficiency_out: Fraction | None  # achievable share of the scale-out link; None: all of it
    efficiency_in: Fraction | None  # achievable share of the NVLink domain's link; None: all of it
    trim: int = 0  # layers fewer on the first and the last chunk
    order: str = "tp_cp_pp_dp"  # rank order on a tiered network, innermost first (placement.ORDERS)
    experts: object = None  # a mixture of experts (serving.Experts; None: dense)
    expert: int = 1  # expert-parallel size ep
    expert_load: Fraction | None = None  # the busiest expert-parallel GPU's excess of routed tokens over the mean


def _all_of(share: Fraction | None) -> Fraction:
    """An achievable share the spec leaves out: all of it."""
    return Fraction(1) if share is None else share


class TransformerTraining(PowerOfPools):
    def __init__(self, spec: TransformerSpec) -> None:
        self.spec = spec
        self.pools = spec.cluster.pools
        net = spec.cluster.network
        if net is None:
            raise OutOfReach("no network")
        self.outer = Link(net.bandwidth, net.latency, _all_of(spec.efficiency_out))
        if net.domain_bandwidth is not None and net.domain_latency is not None:
            self.inner = Link(net.domain_bandwidth, net.domain_latency, _all_of(spec.efficiency_in))
        else:
            self.inner = self.outer
        self.domain = net.domain or 1

    def device(self, index: int) -> Device:
        """A pool's GPU as the core sees it: its rates divided by (1 + jitter)."""
        s, pool = self.spec, self.pools[index]
        share = s.efficiency if s.efficiency is not None else s.matmul[index]
        if share is None:
            raise ValueError("a GPU without a matmul share")
        slow = 1 + s.jitter[index]
        return Device(pool.gpu.peak / slow, share, s.memory_bandwidth[index] / slow, _all_of(s.memory_efficiency[index]), pool.gpu.memory)

    def _within_reach(self) -> None:
        """The schedule is replayed op by op and the exchange hop by hop: beyond a million of
        either, the point is not replayed (and the summary line says so)."""
        x = self.spec.layout
        ops = 2 * x.microbatches * x.v * x.p
        if ops > MAX_OPS:
            raise OutOfReach(f"a schedule of {ops} operations is longer than the simulation steps through op by op (at most {MAX_OPS})")
        if x.d * x.c > MAX_RING:
            raise OutOfReach(f"a ring of {x.d * x.c} GPUs is longer than the simulation steps through hop by hop (at most {MAX_RING})")

    @cached_property
    def placed(self) -> dict | None:
        """On a tiered network, where each parallel group sits (placement.py); else None."""
        net, x = self.spec.cluster.network, self.spec.layout
        return place_groups(net, x.t, x.c, x.p, x.d, self.spec.order) if net is not None and net.topology == "tiers" else None

    def _layer_links(self):
        """What the tensor and the context groups run on: placed groups, or the two links."""
        if self.placed:
            return self.placed["tensor"], self.placed["context"]
        x = self.spec.layout
        return self.inner, self.inner if x.t * x.c <= self.domain else self.outer

    @cached_property
    def chunks(self) -> tuple[tuple[int, ...], ...]:
        """Layers of each chunk on each GPU of a pipeline: l / (p v) each, or with `trim` that
        many fewer on the very first and the very last chunk and the rest spread evenly."""
        self._within_reach()
        s, x = self.spec, self.spec.layout
        each, left = divmod(s.model.layers + 2 * s.trim, x.p * x.v)
        if left:
            raise ValueError("the layers do not divide into the chunks")
        rows = [[each] * x.v for _ in range(x.p)]
        rows[0][0] -= s.trim
        rows[-1][-1] -= s.trim
        return tuple(tuple(row) for row in rows)

    @cached_property
    def _steps(self):
        self._within_reach()
        s = self.spec
        return tuple(megatron_step(s.model, s.layout, self.device(i), self.inner, self.outer, domain=self.domain, dp_overlap=s.overlap,
                                   chunk_layers=self.chunks if s.trim else (), placed=self.placed)
                     for i in range(len(self.pools)))

    def schedule_trace(self, index: int) -> tuple:
        """Pool `index`'s pipeline schedule, op by op: (stage, kind 0 forward / 1 backward,
        microbatch, chunk, start, finish), replayed again with the step's own inputs."""
        self._within_reach()
        s, ops = self.spec, []
        megatron_step(s.model, s.layout, self.device(index), self.inner, self.outer, domain=self.domain, dp_overlap=s.overlap,
                      chunk_layers=self.chunks if s.trim else (), trace=ops, placed=self.placed)
        return tuple(ops)

    @cached_property
    def pool_time(self) -> dict[str, Fraction]:
        return {p.name: step.makespan for p, step in zip(self.pools, self._steps)}

    @cached_property
    def pipeline_time(self) -> Fraction:
        return max(self.pool_time.values())

    @cached_property
    def optimizer_time(self) -> Fraction:
        return max(step.optimizer for step in self._steps)

    @cached_property
    def dp_comm_time(self) -> Fraction:
        return self._steps[0].dp_comm  # the same exchange for every pool: one network

    @cached_property
    def step_time(self) -> Fraction:
        """Every replica's pipeline drains, the exchange runs, every GPU updates its shard."""
        return self.pipeline_time + self.dp_comm_time + self.optimizer_time

    @cached_property
    def pp_message_time(self) -> Fraction:
        return self._steps[0].pp_message

    def _part(self, part: str) -> Fraction:
        """One part of a step's layer work on a stage of the slowest pool: m · (l/p) · (fwd + bwd)."""
        s, x = self.spec, self.spec.layout
        out = []
        for i in range(len(self.pools)):
            forward, backward = layer_passes(s.model, x, self.device(i), *self._layer_links(), Fraction(0))
            stage = max(sum(row) for row in self.chunks)  # the busiest stage (with trim and p <= 2 all are trimmed)
            out.append(x.microbatches * stage * (getattr(forward, part) + getattr(backward, part)))
        return max(out)

    def _busy(self, index: int) -> Fraction:
        """The busiest stage's ops in a step on the pool, each forward and backward of its chunk."""
        s, x = self.spec, self.spec.layout
        forward, backward = layer_passes(s.model, x, self.device(index), *self._layer_links(), Fraction(0))
        row = max(self.chunks, key=sum)  # one in the middle; with trim and p <= 2 a trimmed one
        total = Fraction(0)
        for _ in range(x.microbatches):
            for layers in row:  # every chunk-microbatch the stage runs, one by one
                total += layers * (forward.total + backward.total)
        return total

    @cached_property
    def busy_time(self) -> Fraction:
        return max(self._busy(i) for i in range(len(self.pools)))

    @cached_property
    def pool_busy(self) -> dict[str, Fraction]:
        """Each pool's busy time in a step (what energy_per_step counts at full power)."""
        return {p.name: self._busy(i) for i, p in enumerate(self.pools)}

    @cached_property
    def energy_per_step(self) -> Fraction:
        """The site's GPUs over the step: full power while busy, max(idle, floor) otherwise."""
        step = self.step_time
        segments = tuple((p.count, self._busy(i), p.gpu.tdp, max(p.gpu.idle, floor_watts(p.gpu))) for i, p in enumerate(self.pools))
        return energy(site_step_segments(segments, step))

    @cached_property
    def average_power(self) -> Fraction:
        return self.energy_per_step / self.step_time

    @cached_property
    def energy_per_token(self) -> Fraction:
        return self.energy_per_step / (self.spec.layout.batch * self.spec.model.seq)

    @cached_property
    def compute_time(self) -> Fraction:
        return self._part("compute")

    @cached_property
    def recompute_time(self) -> Fraction:
        return self._part("recompute")

    @cached_property
    def tp_comm_time(self) -> Fraction:
        return self._part("tp")

    @cached_property
    def cp_comm_time(self) -> Fraction:
        return self._part("cp")

    @cached_property
    def ep_comm_time(self) -> Fraction:
        return Fraction(0)  # a dense model: no experts to exchange tokens with

    @cached_property
    def bubble(self) -> Fraction:
        """The idle share of the schedule itself: every chunk one tick, messages instant."""
        self._within_reach()
        x = self.spec.layout
        ones = tuple((Fraction(1),) * x.v for _ in range(x.p))
        ideal = x.microbatches * x.v * 2
        return simulate_pipeline(x.p, x.v, x.microbatches, ones, ones, Fraction(0)).makespan / ideal - 1

    @cached_property
    def microbatches(self) -> Fraction:
        return Fraction(self.spec.layout.microbatches)

    @cached_property
    def flops(self) -> Fraction:
        return model_flops(self.spec.model, self.spec.layout)

    @cached_property
    def _fleet_peak(self) -> Fraction:
        return sum((p.count * p.gpu.peak for p in self.pools), Fraction(0))

    @cached_property
    def mfu(self) -> Fraction:
        return self.flops / (self.step_time * self._fleet_peak)

    @cached_property
    def hfu(self) -> Fraction:
        return hardware_flops(self.spec.model, self.spec.layout) / (self.step_time * self._fleet_peak)

    @cached_property
    def throughput(self) -> Fraction:
        x = self.spec.layout
        return x.batch * self.spec.model.seq / self.step_time

    @cached_property
    def throughput_per_gpu(self) -> Fraction:
        return self.throughput / sum(p.count for p in self.pools)

    @cached_property
    def state_per_gpu(self) -> Fraction:
        step = self._steps[0]
        return step.state_bytes + step.embedding_state_bytes

    @cached_property
    def activation_per_gpu(self) -> Fraction:
        return self._steps[0].activation_bytes

    @cached_property
    def memory_per_gpu(self) -> Fraction:
        return self.state_per_gpu + self.activation_per_gpu

