"""The resolved model: names bound, units converted to base units, ranges turned into unknowns.

Everything here is a frozen dataclass of plain Python values (``Fraction``, ``int``, ``str``,
tuples); the encoder turns it into Z3 terms and the replay turns it into simulator inputs.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Union

from checker.diagnostics import Span
from checker.units import Dim
from checker.records import record


@record
class Unknown:
    """A value the claims must hold for, whatever it is within [low, high] (base units)."""

    id: str
    low: Fraction
    high: Fraction
    dim: Dim
    unit: str | None  # the unit the user wrote, used to show values back
    span: Span


@record
class Param:
    """A numeric field: a constant or an unknown, in base units, with where it was written."""

    value: Union[Fraction, Unknown]
    dim: Dim
    span: Span
    unit: str | None = None
    path: tuple[str, ...] = ()  # the field it is, e.g. ('panel', 'emissivity'): what checks depend on

    @property
    def constant(self) -> Fraction | None:
        return self.value if isinstance(self.value, Fraction) else None


# ---- claims -----------------------------------------------------------------


@record
class Lit:
    value: Fraction
    dim: Dim
    unit: str | None
    span: Span


@record
class QRef:
    """A quantity of the model by its canonical path, e.g. ('colossus1', 'power', 'draw')."""

    path: tuple[str, ...]
    dim: Dim
    span: Span


@record
class Op:
    op: str  # + - * /
    left: "Expr"
    right: "Expr"
    dim: Dim
    span: Span


@record
class Neg:
    operand: "Expr"
    dim: Dim
    span: Span


@record
class Fn:
    name: str  # min or max
    args: tuple["Expr", ...]
    dim: Dim
    span: Span


Expr = Union[Lit, QRef, Op, Neg, Fn]


@record
class Comparison:
    left: Expr
    op: str
    right: Expr
    text: str  # the claim as the user wrote it, for reports
    left_text: str = ""  # the text of `left` (after resolution may have put a constant side right)


@record
class Search:
    """What a `find` statement searches. goal "max"/"min": the largest (smallest) value of the
    range `unknown` up to (down from) which the claim's condition holds for every value of the
    other unknowns. goal "layout": the layout of `workload` with the best `quantity`."""

    goal: str  # max, min or layout
    maximize: bool
    target_text: str  # as the user wrote it: 'W.jitter', 'W.mfu'
    unknown: str | None = None  # the searched range's unknown id (max, min)
    workload: str | None = None  # layout
    quantity: "QRef | None" = None  # layout: the quantity compared


@record
class Claim:
    """A check, an assumption, or a built-in invariant (a conjunction of comparisons)."""

    name: str
    kind: str  # "check", "assume" or "invariant"
    conditions: tuple[Comparison, ...]
    span: Span
    # For invariants decided from constants alone (a count that does not divide): the verdict
    # and why. None for everything the solver decides.
    static: tuple[bool, str] | None = None
    # For invariants: what the model's meaning rests on them for. A field path (a domain such as
    # emissivity <= 1) or a token an encoder records (a workload's data-parallel group). When the
    # invariant is broken, a claim that depends on any of these is not established. Empty for
    # invariants about feasibility (memory fit): the quantities still mean what they say.
    guards: tuple[tuple[str, ...], ...] = ()
    domain: bool = False  # a domain invariant: about one field's own value, decided first
    find: Search | None = None  # a find statement: a check whose verdict carries the answer


# ---- blocks ------------------------------------------------------------------


@record
class Radiator:
    name: str
    heat: Param
    emissivity: Param
    temperature: Param | None  # exactly one of temperature and area is given
    area: Param | None
    sink: Param
    sides: int
    span: Span
    # the environment and fin (registry.RADIATOR_ENVIRONMENT): None where the spec leaves it out
    absorptance: Param | None = None
    solar: Param | None = None
    sun_view: Param | None = None
    sunlit: Param | None = None
    albedo: Param | None = None
    earth_ir: Param | None = None
    earth_view: Param | None = None
    fin: Param | None = None
    # the eclipse transient (registry.RADIATOR_TRANSIENT): None where the spec leaves it out
    heat_capacity: Param | None = None
    eclipse: Param | None = None
    eclipse_heat: Param | None = None


@record
class Gpu:
    name: str
    peak: Param
    memory: Param
    tdp: Param
    idle: Param
    floor: Param  # in W, or a share of tdp when floor_relative
    floor_relative: bool
    ramp: Param | None  # W/s; None: no slew limit
    span: Span
    matmul: Param | None = None  # share of peak large matrix multiplies reach
    memory_bandwidth: Param | None = None  # HBM bytes/s
    memory_efficiency: Param | None = None  # share of it element-wise kernels reach
    ramp_up: Param | None = None  # W/s; None: ramp
    ramp_down: Param | None = None  # W/s; None: ramp
    hysteresis: Param | None = None  # s; None: 0
    lease: Param | None = None  # USD per GPU-second (written USD/h)
    capital: Param | None = None  # USD per GPU


@record
class Pool:
    name: str
    count: int
    gpu: Gpu
    span: Span


@record
class Tier:
    """An inner tier of a `topology = tiers` network: groups of `size` GPUs (innermost first)."""

    name: str
    size: int
    bandwidth: Param
    latency: Param
    efficiency: Param
    oversubscription: Param
    span: Span


@record
class Network:
    topology: str  # ring, tree, hierarchical, switch, tiers, torus
    bandwidth: Param
    latency: Param
    domain: int | None
    domain_bandwidth: Param | None
    domain_latency: Param | None
    span: Span
    domain_span: Span | None = None  # where 'domain' is written, for its invariant
    efficiency: Param | None = None  # achievable share of the scale-out bandwidth
    domain_efficiency: Param | None = None  # achievable share of the domain's bandwidth
    algorithm: str | None = None  # topology switch: ring, double_tree, halving_doubling, in_network, auto
    radix: int | None = None  # switch ports facing the GPUs when the switches reduce; None: they do not
    oversubscription: Param | None = None  # topology tiers: the outermost tier's
    tiers: tuple[Tier, ...] = ()  # topology tiers: the inner tiers, innermost first
    dims: tuple[int, ...] = ()  # topology torus: chips along each dimension, x first
    dimensions: str | None = None  # topology torus: in_turn or at_once
    slice: Param | None = None  # slice = any: the number of the slice, 1 .. len(slices)
    slices: tuple[tuple[int, int, int], ...] = ()  # slice = any: every shape it may be, in order
    cube: int | None = None  # slice = any: each extent a multiple of it
    extent: int | None = None  # slice = any: each extent at most it


@record
class Power:
    facility: Param | None
    pue: Param
    overhead: Param
    transition: Param
    span: Span
    # the whole rack and site: None where the spec leaves it out
    rack: int | None = None  # GPUs per rack
    rack_power: Param | None = None
    node: int | None = None  # GPUs per node
    node_power: Param | None = None
    cooling: Param | None = None
    storage: Param | None = None  # J
    storage_power: Param | None = None  # W, charge and discharge
    start_stages: int | None = None  # a job starts and ends in this many stages (None: one)
    start_time: Param | None = None  # s over which the stages start (None: 0, all at once)
    band_low: Param | None = None  # Hz: the grid's oscillation band (None: no band)
    band_high: Param | None = None


@record
class Cluster:
    name: str
    pools: tuple[Pool, ...]
    network: Network | None
    power: Power  # defaults when the spec has no power section
    span: Span

    @property
    def gpus(self) -> int:
        return sum(p.count for p in self.pools)


@record
class Transformer:
    """A decoder-only transformer (the `model` block): its shape, in whole numbers."""

    name: str
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    ffn: int
    gated: bool  # a gated MLP (SwiGLU: three matrices) or not (GeLU: two)
    seq: int
    vocab: int
    params: Param | None  # given: checked against the shape's count
    span: Span
    experts: int = 0  # routed experts per MoE layer; 0: dense
    top_k: int = 0
    shared_experts: int = 0
    expert_ffn: int = 0
    dense_layers: int = 0  # leading layers with a dense MLP
    active_params: Param | None = None

    def _count(self, experts_per_token: int) -> Fraction:
        attention = self.hidden**2 * (2 + Fraction(2 * self.kv_heads, self.heads))
        g = 3 if self.gated else 2
        if not self.experts:
            return self.layers * (attention + g * self.hidden * self.ffn) + self.vocab * self.hidden
        moe = (experts_per_token + self.shared_experts) * g * self.hidden * self.expert_ffn + self.hidden * self.experts  # and the router
        dense = self.dense_layers * g * self.hidden * self.ffn
        return self.layers * attention + dense + (self.layers - self.dense_layers) * moe + self.vocab * self.hidden

    @property
    def parameters(self) -> Fraction:
        """Weight-matrix parameters: per layer Q, K, V, projection and the MLP's matrices (every
        expert's, and the router's, in a mixture of experts), plus the (tied) embedding; biases
        and norms (O(h) per layer) left out."""
        return self._count(self.experts)

    @property
    def active_parameters(self) -> Fraction:
        """The parameters one token passes through: its top_k routed experts and the shared ones."""
        return self._count(self.top_k)

    @property
    def routed_parameters(self) -> Fraction:
        """The routed experts' part of the active parameters: the work an imbalance slows."""
        return (self.layers - self.dense_layers) * self.top_k * (3 if self.gated else 2) * self.hidden * self.expert_ffn

    @property
    def expert_weights(self) -> Fraction:
        """All routed experts' parameters (of every MoE layer)."""
        return (self.layers - self.dense_layers) * self.experts * (3 if self.gated else 2) * self.hidden * self.expert_ffn


@record
class Layout:
    """A training workload's parallel layout: integers fixed by the spec."""

    tensor: int
    pipeline: int
    data: int
    context: int
    virtual: int
    microbatch: int
    sequence_parallel: bool
    recompute: str  # none, selective, full
    zero: int  # 0 none, 1 distributed optimizer, 2 + gradients, 3 + weights
    flash: bool
    batch_sequences: int  # the global batch in sequences (0: not a whole number)
    span: Span
    trim: int = 0  # layers fewer on the first and the last chunk (their embedding and logits)
    order: str = "tp_cp_pp_dp"  # rank order on a tiered network, innermost first
    expert: int = 1  # expert-parallel size ep: a mixture of experts' experts spread over ep data-parallel ranks

    def chunk_layers(self, layers: int) -> int:
        """Layers of every chunk but the first and the last, which hold `trim` fewer."""
        return (layers + 2 * self.trim) // (self.pipeline * self.virtual)


@record
class Workload:
    name: str
    cluster: Cluster
    kind: str  # training, inference
    params: Param
    batch: Param | None
    efficiency: Param
    balance: str  # uniform, proportional
    jitter: tuple[Param, ...]  # one per pool, in pool order
    shards: int
    overlap: Param
    grad_bytes: Param
    state_bytes: Param | None  # None: 16 B per parameter (training) or 2 B (inference)
    flops_per_token: Param | None  # None: 6·params (training) or 2·params (inference)
    span: Span
    model: Transformer | None = None  # with a layout: the transformer model of training
    layout: Layout | None = None
    # money (inference): share of the year leased, USD per joule, write-off time
    utilisation: Param | None = None
    electricity: Param | None = None
    life: Param | None = None
    # serving a model: request shape and batch
    prompt: Param | None = None
    output: Param | None = None
    kv_bytes: Param | None = None
    concurrency: int = 1
    expert_load: Param | None = None  # the most loaded expert's excess over the mean
    prefill_pool: str | None = None  # serving disaggregated: the pool that prefills, the others decode


Block = Union[Radiator, Gpu, Cluster, Workload, Transformer]


@record
class Model:
    path: str
    blocks: tuple[Block, ...]
    unknowns: tuple[Unknown, ...]
    assumptions: tuple[Claim, ...]
    checks: tuple[Claim, ...]  # the user's checks first, then the built-in invariants

    def block(self, name: str) -> Block:
        for block in self.blocks:
            if block.name == name:
                return block
        raise KeyError(name)
