"""The registry: every field and every derived quantity of the language, declared once.

A field is an input a block writes (its dimension, default, domain). A derived quantity is
computed from the fields by two independent rules: a *symbolic* one in checker/encode.py (the
closed form Z3 proves things about, registered under the same family and path) and an
*operational* one in the simulation core (the attribute ``sim`` of the block's run in
checker/sim/scenario.py, computed by stepping the core's kernels). Resolution (which names a
claim may use), the report (each quantity's unit), the counterexample's explanation and the
reference tables of spec/language.md all come from here; tests hold the two rule tables and
the docs to it. Adding a quantity is one entry here plus its two rules.
"""

from __future__ import annotations

from fractions import Fraction

from checker import units as u
from checker.records import record


@record
class FieldSpec:
    name: str
    dims: tuple[u.Dim, ...]  # accepted dimensions; the first is the field's own
    kind: str = "number"  # number, count, enum
    required: bool = False
    default: Fraction | str | None = None  # in base units
    choices: tuple[str, ...] = ()
    domain: str | None = None  # positive, nonnegative, share, open-share, at-least-one
    doc: str = ""


DOMAINS: dict[str, tuple[tuple[str, Fraction], ...]] = {
    "positive": ((">", Fraction(0)),),
    "nonnegative": ((">=", Fraction(0)),),
    "share": ((">=", Fraction(0)), ("<=", Fraction(1))),
    "open-share": ((">", Fraction(0)), ("<=", Fraction(1))),
    "at-least-one": ((">=", Fraction(1)),),
}
DOMAIN_WORDS = {
    "positive": "positive",
    "nonnegative": "at least 0",
    "share": "within [0, 100 %]",
    "open-share": "within (0, 100 %]",
    "at-least-one": "at least 1",
}

F = FieldSpec
ONE = u.ONE

RADIATOR = (
    F("heat", (u.POWER,), required=True, domain="positive", doc="heat to reject"),
    F("emissivity", (ONE,), required=True, domain="open-share", doc="surface emissivity"),
    F("temperature", (u.TEMPERATURE,), domain="positive", doc="radiating temperature; give this or area"),
    F("area", (u.AREA,), domain="positive", doc="area of one side; give this or temperature"),
    F("sink", (u.TEMPERATURE,), default=Fraction(0), domain="nonnegative", doc="effective sink temperature"),
    F("sides", (ONE,), kind="count", default=Fraction(1), choices=("1", "2"), doc="radiating sides, 1 or 2"),
    # the panel in its environment (spec/semantics.md, "Radiator in sunlight"); left out, each
    # takes the default its doc names, and a panel without them is the deep-space case exactly
    F("absorptance", (ONE,), domain="share", doc="solar absorptance α; none: 0"),
    F("solar", (u.FLUX,), domain="nonnegative", doc="solar flux at the panel; none: 1361 W/m^2"),
    F("sun_view", (ONE,), domain="share", doc="cosine of the sun's incidence on the sunlit face; none: 0 (edge-on)"),
    F("sunlit", (ONE,), domain="share", doc="share of the time in sunlight; none: 100 %"),
    F("albedo", (ONE,), domain="share", doc="share of sunlight the Earth reflects; none: 30 %"),
    F("earth_ir", (u.FLUX,), domain="nonnegative", doc="Earth's infrared flux; none: 237 W/m^2"),
    F("earth_view", (ONE,), domain="share", doc="view factor from the panel's faces to the Earth, summed; none: 0"),
    F("fin", (ONE,), domain="open-share", doc="fin efficiency; none: 100 %"),
    # the eclipse transient (spec/semantics.md, "Eclipse transient"): the panel's thermal mass
    F("heat_capacity", (u.ENERGY / u.AREA / u.TEMPERATURE,), domain="positive", doc="heat capacity per m^2 of panel (its area), e.g. 4312 J/m^2/K for 2 mm of aluminium (with eclipse)"),
    F("eclipse", (u.TIME,), domain="nonnegative", doc="how long the eclipse lasts (with heat_capacity)"),
    F("eclipse_heat", (u.POWER,), domain="nonnegative", doc="heat to reject during the eclipse; none: heat"),
)
RADIATOR_ENVIRONMENT = ("absorptance", "solar", "sun_view", "sunlit", "albedo", "earth_ir", "earth_view", "fin")
RADIATOR_TRANSIENT = ("heat_capacity", "eclipse", "eclipse_heat")
RADIATOR_OPTIONAL = RADIATOR_ENVIRONMENT + RADIATOR_TRANSIENT  # the fields a Radiator may leave None

GPU = (
    F("peak", (u.RATE,), required=True, domain="positive", doc="dense BF16 peak"),
    F("memory", (u.DATA,), required=True, domain="positive", doc="memory per GPU"),
    F("tdp", (u.POWER,), required=True, domain="positive", doc="board power at full load"),
    F("idle", (u.POWER,), default=Fraction(0), domain="nonnegative", doc="power while waiting"),
    F("floor", (u.POWER, ONE), default=Fraction(0), domain="nonnegative", doc="power-smoothing floor, in W or % of tdp"),
    F("ramp", (u.SLEW,), domain="positive", doc="power-smoothing slew limit; none means unlimited"),
    F("matmul", (ONE,), domain="open-share", doc="share of peak large matrix multiplies reach (training with a model)"),
    F("memory_bandwidth", (u.BANDWIDTH,), domain="positive", doc="HBM bandwidth (training with a model)"),
    F("memory_efficiency", (ONE,), domain="open-share", doc="share of the HBM bandwidth element-wise kernels reach; none: all of it"),
    # power smoothing as NVML exposes it (spec/semantics.md, "Swings and ramps of a training step")
    F("ramp_up", (u.SLEW,), domain="positive", doc="power-smoothing ramp-up rate; none: ramp"),
    F("ramp_down", (u.SLEW,), domain="positive", doc="power-smoothing ramp-down rate; none: ramp"),
    F("hysteresis", (u.TIME,), domain="nonnegative", doc="ramp-down hysteresis: how long power must stay low before it ramps down; none: 0"),
    # ---- money (spec/semantics.md, "Money and the lease")
    F("lease", (u.MONEY / u.TIME,), domain="nonnegative", doc="lease price per GPU-hour, e.g. 2.6 USD/h (inference)"),
    F("capital", (u.MONEY,), domain="nonnegative", doc="purchase cost of one GPU with its share of the site (inference)"),
)

NETWORK = (
    F("topology", (ONE,), kind="enum", required=True, choices=("ring", "tree", "hierarchical", "switch", "tiers", "torus"), doc="ring, tree and hierarchical: the collective algorithm too; switch: any algorithm (see algorithm); tiers: rings tier by tier; torus: bidirectional rings dimension by dimension"),
    F("bandwidth", (u.BANDWIDTH,), required=True, domain="positive", doc="per GPU, each direction"),
    F("latency", (u.TIME,), required=True, domain="nonnegative", doc="per hop"),
    F("domain", (ONE,), kind="count", doc="GPUs per NVLink domain (hierarchical)"),
    F("domain_bandwidth", (u.BANDWIDTH,), domain="positive", doc="per GPU inside a domain (hierarchical)"),
    F("domain_latency", (u.TIME,), domain="nonnegative", doc="per hop inside a domain (hierarchical)"),
    F("efficiency", (ONE,), domain="open-share", doc="achievable share of bandwidth (training with a model, or topology = tiers: the outermost tier's); none: all of it"),
    F("domain_efficiency", (ONE,), domain="open-share", doc="achievable share of domain_bandwidth (training with a model); none: all of it"),
    # collective algorithms on a switched network (spec/semantics.md, "Collective algorithms")
    F("algorithm", (ONE,), kind="enum", choices=("ring", "double_tree", "halving_doubling", "in_network", "auto"), doc="the all-reduce algorithm (topology = switch); default auto: the fastest for the message"),
    F("radix", (ONE,), kind="count", doc="switch ports facing the GPUs, when the switches reduce in the network (NVLS, SHARP); none: they do not"),
    F("oversubscription", (ONE,), default=Fraction(1), domain="at-least-one", doc="how many times the GPUs' bandwidth exceeds the uplinks' (topology = tiers: the outermost tier)"),
    # a torus's shape (spec/semantics.md, "Torus"): bandwidth and latency are then per link and per hop
    F("x", (ONE,), kind="count", doc="chips along the torus's first dimension (topology = torus)"),
    F("y", (ONE,), kind="count", doc="chips along the torus's second dimension (topology = torus)"),
    F("z", (ONE,), kind="count", doc="chips along the torus's third dimension (topology = torus); none: a 2D torus"),
    F("slice", (ONE,), kind="enum", choices=("any",), doc="a torus's shape is any slice an optical switch may hand the job (topology = torus, instead of x, y, z)"),
    F("cube", (ONE,), kind="count", default=Fraction(4), doc="a slice's extents are multiples of this (slice = any; TPU v4: cubes of 4 x 4 x 4)"),
    F("extent", (ONE,), kind="count", default=Fraction(16), doc="the pod's chips along each dimension, a slice's largest extent (slice = any; TPU v4: 16)"),
    F("dimensions", (ONE,), kind="enum", choices=("in_turn", "at_once"), doc="a torus's all-reduce: the dimensions one after another (in_turn, the default), or all at once on a share of the vector each (at_once)"),
)

# an inner tier of a `topology = tiers` network, a named section of it, innermost first
TIER = (
    F("size", (ONE,), kind="count", required=True, doc="GPUs one group of this tier joins"),
    F("bandwidth", (u.BANDWIDTH,), required=True, domain="positive", doc="per GPU, each direction, inside a group"),
    F("latency", (u.TIME,), required=True, domain="nonnegative", doc="per hop inside a group"),
    F("efficiency", (ONE,), default=Fraction(1), domain="open-share", doc="achievable share of bandwidth"),
    F("oversubscription", (ONE,), default=Fraction(1), domain="at-least-one", doc="how many times the GPUs' bandwidth exceeds this tier's uplinks"),
)

POWER = (
    F("facility", (u.POWER,), domain="positive", doc="the site's grid connection"),
    F("pue", (ONE,), default=Fraction(1), domain="at-least-one", doc="power usage effectiveness"),
    F("overhead", (ONE,), default=Fraction(0), domain="nonnegative", doc="host, NIC and fan power on top of the GPUs"),
    F("transition", (u.TIME,), default=Fraction(1, 20), domain="positive", doc="unsmoothed switch time between phases"),
    # the whole rack and site (spec/semantics.md, "Facility draw"): power beside the GPUs
    F("rack", (ONE,), kind="count", doc="GPUs per rack (with rack_power)"),
    F("rack_power", (u.POWER,), domain="nonnegative", doc="power per rack beside its GPUs: CPUs, NICs, switch trays, fans"),
    F("node", (ONE,), kind="count", doc="GPUs per node (with node_power)"),
    F("node_power", (u.POWER,), domain="nonnegative", doc="power per node beside its GPUs: CPUs, NICs, DPUs"),
    F("cooling", (u.POWER,), domain="nonnegative", doc="cooling power, when given instead of folded into pue"),
    # energy storage between the GPUs and the grid (spec/semantics.md, "Energy storage")
    F("storage", (u.ENERGY,), domain="positive", doc="energy storage capacity (with storage_power)"),
    F("storage_power", (u.POWER,), domain="positive", doc="the storage's charge and discharge power"),
    # job start and end, and the grid's oscillation band (spec/semantics.md, "Job start and end", "Oscillation")
    F("start_stages", (ONE,), kind="count", doc="stages a job starts (and ends) in, each an equal share of every pool"),
    F("start_time", (u.TIME,), domain="nonnegative", doc="time over which the stages start: one every start_time / start_stages"),
    F("band_low", (u.FREQUENCY,), domain="positive", doc="lowest frequency of the grid's oscillation band (with band_high)"),
    F("band_high", (u.FREQUENCY,), domain="positive", doc="highest frequency of the grid's oscillation band"),
)

WORKLOAD = (
    F("kind", (ONE,), kind="enum", required=True, choices=("training", "inference"), doc="training or inference"),
    F("params", (ONE,), domain="positive", doc="model parameters (required without a model)"),
    F("batch", (u.TOKEN,), domain="positive", doc="tokens per step (training)"),
    F("efficiency", (ONE,), domain="open-share", doc="share of its own peak each GPU's kernels reach (with a model: the matmul share)"),
    F("model", (ONE,), kind="ref", doc="the transformer it trains (a model block)"),
    F("balance", (ONE,), kind="enum", default="uniform", choices=("uniform", "proportional"), doc="how work is split"),
    F("jitter", (ONE,), default=Fraction(0), domain="nonnegative", doc="how much slower any pool may run in a step"),
    F("shards", (ONE,), kind="count", default=Fraction(1), doc="model-parallel degree"),
    F("overlap", (ONE,), default=Fraction(0), domain="share", doc="share of the exchange hidden behind compute"),
    F("grad_bytes", (u.DATA,), default=Fraction(2), domain="positive", doc="gradient bytes per parameter"),
    F("state_bytes", (u.DATA,), domain="positive", doc="bytes of state per parameter (16 training, 2 inference)"),
    F("flops_per_token", (u.WORK / u.TOKEN,), domain="positive", doc="6·params (training), 2·params (inference)"),
    # ---- money (spec/semantics.md, "Money and the lease")
    F("utilisation", (ONE,), domain="share", doc="share of the year the GPUs are leased and serving (inference); none: all of it"),
    F("electricity", (u.MONEY / u.ENERGY,), domain="nonnegative", doc="price of grid energy, e.g. 80 USD/MWh (inference)"),
    F("life", (u.TIME,), domain="positive", doc="years over which the GPUs' capital cost is written off (inference)"),
    # ---- serving a model (spec/semantics.md, "Serving a model")
    F("prompt", (u.TOKEN,), domain="positive", doc="prompt tokens per request (inference with a model)"),
    F("output", (u.TOKEN,), domain="positive", doc="output tokens per request (inference with a model)"),
    F("concurrency", (ONE,), kind="count", default=Fraction(1), doc="requests batched together on each replica (inference with a model)"),
    F("kv_bytes", (u.DATA,), domain="positive", doc="bytes per cached key or value element; none: 2 B (inference with a model)"),
    F("prefill_pool", (ONE,), kind="ref", doc="the pool that prefills prompts; the others decode, the cache sent over the network (inference with a model); none: every pool does both"),
    F("expert_load", (ONE,), domain="nonnegative", doc="how much more than the mean the most loaded expert (or expert-parallel GPU) receives (a mixture of experts); none: 0"),
)

MODEL = (
    F("layers", (ONE,), kind="count", required=True, doc="transformer layers"),
    F("hidden", (ONE,), kind="count", required=True, doc="hidden size"),
    F("heads", (ONE,), kind="count", required=True, doc="attention heads"),
    F("kv_heads", (ONE,), kind="count", doc="key/value heads (grouped-query attention); default heads"),
    F("ffn", (ONE,), kind="count", doc="MLP inner size; default 4 x hidden"),
    F("mlp", (ONE,), kind="enum", default="gelu", choices=("gelu", "swiglu"), doc="two matrices (gelu) or three (swiglu)"),
    F("seq", (ONE,), kind="count", required=True, doc="tokens per sequence"),
    F("vocab", (ONE,), kind="count", required=True, doc="vocabulary size"),
    F("params", (ONE,), domain="positive", doc="parameters as published: checked against the shape within 5 %"),
    # ---- mixture of experts (spec/semantics.md, "Mixture of experts")
    F("experts", (ONE,), kind="count", doc="routed experts per MoE layer; none: a dense model"),
    F("top_k", (ONE,), kind="count", doc="routed experts each token is sent to (with experts)"),
    F("shared_experts", (ONE,), kind="count", doc="experts every token passes through; none: 0"),
    F("expert_ffn", (ONE,), kind="count", doc="inner size of one expert's MLP; default ffn"),
    F("dense_layers", (ONE,), kind="count", doc="leading layers with a dense MLP of ffn; none: 0"),
    F("active_params", (ONE,), domain="positive", doc="active parameters per token as published: checked against the shape within 5 %"),
)

LAYOUT = (
    F("tensor", (ONE,), kind="count", default=Fraction(1), doc="tensor-parallel size t"),
    F("pipeline", (ONE,), kind="count", default=Fraction(1), doc="pipeline stages p"),
    F("data", (ONE,), kind="count", doc="data-parallel size d; default GPUs / (t p c)"),
    F("context", (ONE,), kind="count", default=Fraction(1), doc="context-parallel size c"),
    F("virtual", (ONE,), kind="count", default=Fraction(1), doc="chunks per GPU v (interleaved 1F1B when > 1)"),
    F("microbatch", (ONE,), kind="count", default=Fraction(1), doc="sequences per microbatch b"),
    F("trim", (ONE,), kind="count", default=Fraction(0), doc="layers fewer on the first and the last chunk (Llama 3's uneven stages)"),
    F("expert", (ONE,), kind="count", default=Fraction(1), doc="expert-parallel size ep: the experts spread over ep data-parallel ranks (a mixture of experts)"),
    F("sequence_parallel", (ONE,), kind="enum", default="yes", choices=("yes", "no"), doc="sequence parallelism in the tensor groups"),
    F("recompute", (ONE,), kind="enum", default="selective", choices=("none", "selective", "full"), doc="activation recomputation"),
    F("optimizer", (ONE,), kind="enum", default="distributed", choices=("none", "distributed", "gradients", "weights"), doc="sharding over the data-parallel ranks: none, optimizer states (ZeRO-1), + gradients (2), + weights (3)"),
    F("attention", (ONE,), kind="enum", default="standard", choices=("standard", "flash"), doc="attention kernel"),
    # where the groups sit on a tiered network (spec/semantics.md, "Placing the layout on tiers")
    F("order", (ONE,), kind="enum", default="tp_cp_pp_dp", choices=("tp_cp_pp_dp", "tp_cp_dp_pp"), doc="rank order, innermost first, on a tiered network: Llama 3's (data outermost) or Megatron-LM's default (pipeline outermost)"),
)

FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    "radiator": RADIATOR,
    "gpu": GPU,
    "network": NETWORK,
    "tier": TIER,
    "power": POWER,
    "workload": WORKLOAD,
    "model": MODEL,
    "layout": LAYOUT,
}
SECTIONS = {"cluster": ("network", "power"), "workload": ("layout",)}

# ---- derived quantities ------------------------------------------------------------------


@record
class Derived:
    """A quantity computed from a block's fields.

    family: the kind of block that has it (radiator, cluster, training, inference);
    path: its name within the block, ("area",) or ("power", "draw"); a per-pool quantity is
    named with the pool after it (``W.wait.hopper``) and declared without it;
    sim: the attribute of the block's run in the simulation core that computes it;
    explained_by: quantities shown beside a counterexample that names it;
    default_of: the field it stands in for when that field is not given (flops_per_token).
    """

    family: str
    path: tuple[str, ...]
    dim: u.Dim
    doc: str
    sim: str
    per_pool: bool = False
    explained_by: tuple[str, ...] = ()
    default_of: str | None = None
    bound: str | None = None  # "upper"/"lower": the closed form bounds the core's value from that side
    needs: tuple[str, ...] = ()  # fields it rests on that have no default: every pool's gpu (lease, capital) or the workload's own


# quantities that rest on one compute phase and one wait per pool in each step (a training
# workload without a model); a transformer's idle time is its pipeline's bubbles, spread
# through the step, which they do not model: naming one there is an error that says so
STEP_RECTANGLE = ("oscillation", "step_swing", "grid_peak", "grid_trough", "grid_swing", "storage_depth", "storage_shortfall")
STEP_RECTANGLE_WHY = ("it rests on one compute phase and one wait per pool in each step (a training workload "
                      "without a model), and a transformer's idle time is its pipeline's bubbles, spread through "
                      "the step; swing, ramp, floor_cost and average_power bound a transformer's step")
STEP = ("pool_time", "compute_time", "comm_time", "step_time")  # a training step's breakdown
LAYOUT_STEP = ("pool_time", "pipeline_time", "dp_comm_time", "optimizer_time", "step_time")
WORKLOADS = ("training", "inference")
POWER_FAMILIES = ("training", "inference", "transformer")  # the workloads with swing, ramp, floor_cost


# money of a leased serving fleet (spec/semantics.md, "Money and the lease")
USD_YR = u.MONEY / u.TIME
MONEY_EXPLAINED = ("revenue", "energy_cost", "depreciation", "cost", "margin")
MONEY: tuple[tuple[str, u.Dim, str, dict], ...] = (
    ("average_power", u.POWER, "the GPUs' average power: utilisation · tdp + (1 − utilisation) · idle each", {}),
    ("revenue", USD_YR, "Σ count · lease · utilisation", {"needs": ("lease",), "explained_by": MONEY_EXPLAINED}),
    ("energy_cost", USD_YR, "average power · (1 + overhead) · pue · electricity", {"needs": ("electricity",), "explained_by": MONEY_EXPLAINED}),
    ("depreciation", USD_YR, "Σ count · capital / life", {"needs": ("capital", "life"), "explained_by": MONEY_EXPLAINED}),
    ("cost", USD_YR, "energy cost, plus depreciation when capital and life are given", {"needs": ("electricity",), "explained_by": MONEY_EXPLAINED}),
    ("margin", USD_YR, "revenue − cost", {"needs": ("lease", "electricity"), "explained_by": MONEY_EXPLAINED}),
    ("served", u.THROUGHPUT, "tokens served per second over the year: throughput · utilisation", {}),
    ("price_per_token", u.MONEY / u.TOKEN, "what the lessees pay per token served: revenue / served", {"needs": ("lease",)}),
    ("cost_per_token", u.MONEY / u.TOKEN, "what a token served costs the owner: cost / served", {"needs": ("electricity",)}),
)


# served tokens rest on a throughput the closed form bounds from below
SERVING_BOUNDS = {"served": {"bound": "lower"}, "price_per_token": {"bound": "upper"}, "cost_per_token": {"bound": "upper"}}


def _d(family: str, name: str, dim: u.Dim, doc: str, **kw) -> Derived:
    path = tuple(name.split("."))
    return Derived(family, path, dim, doc, kw.pop("sim", path[-1]), **kw)


DERIVED: tuple[Derived, ...] = (
    _d("radiator", "area", u.AREA, "area of one side (when temperature is given)"),
    _d("radiator", "temperature", u.TEMPERATURE, "radiating temperature (when area is given)"),
    _d("radiator", "flux", u.FLUX, "heat per square metre of panel"),
    _d("radiator", "absorbed", u.FLUX, "sunlight, albedo and Earth infrared absorbed per square metre of panel"),
    _d("radiator", "emitted", u.FLUX, "power emitted per square metre of panel at its temperature"),
    _d("radiator", "eclipse_temperature", u.TEMPERATURE, "the panel's temperature at the end of the eclipse, cooling from its steady state through its heat capacity", bound="lower", needs=("heat_capacity", "eclipse")),
    _d("cluster", "gpus", ONE, "the number of GPUs, N = Σ N_c"),
    _d("cluster", "peak", u.RATE, "Σ N_c · peak_c"),
    _d("cluster", "power.draw", u.POWER, "the facility's peak draw", sim="draw"),
    _d("cluster", "power.it", u.POWER, "the IT equipment's peak power: GPUs, overhead, nodes and racks", sim="it"),
    _d("cluster", "power.racks", ONE, "racks: Σ ⌈N_c / rack⌉ (0 without a rack size)", sim="racks"),
    _d("cluster", "power.nodes", ONE, "nodes: Σ ⌈N_c / node⌉ (0 without a node size)", sim="nodes"),
    # workloads, both kinds
    *(_d(kind, "flops_per_token", u.WORK / u.TOKEN, "6 · params (training), 2 · params (inference)", default_of="flops_per_token") for kind in WORKLOADS),
    *(_d(kind, "state_bytes", u.DATA, "16 B (training), 2 B (inference) per parameter", default_of="state_bytes") for kind in WORKLOADS),
    *(_d(kind, "memory_per_gpu", u.DATA, "state bytes per GPU") for kind in WORKLOADS),
    *(_d(kind, "throughput", u.THROUGHPUT, "tokens per second", explained_by=STEP if kind == "training" else ()) for kind in WORKLOADS),
    *(_d(kind, "swing", u.POWER, "how far the site's GPU power drops between compute and waiting") for kind in POWER_FAMILIES),
    *(_d(kind, "ramp", u.SLEW, "the site's fastest rate of change of GPU power") for kind in POWER_FAMILIES),
    *(_d(kind, "floor_cost", u.POWER, "power the smoothing floor holds above idle while waiting") for kind in POWER_FAMILIES),
    _d("training", "grid_peak", u.POWER, "the grid's highest GPU power in a step, storage discharging", explained_by=STEP),
    _d("training", "grid_trough", u.POWER, "the grid's lowest GPU power in a step, storage charging", explained_by=STEP),
    _d("training", "grid_swing", u.POWER, "grid_peak - grid_trough: the swing the grid sees through the storage", explained_by=STEP),
    _d("training", "storage_depth", u.ENERGY, "energy the storage delivers in a step, starting full", explained_by=STEP),
    _d("training", "storage_shortfall", u.ENERGY, "energy per step the storage cannot put back in the wait: 0 or it drains", explained_by=STEP),
    *(_d(kind, "start_ramp", u.SLEW, "the site's fastest rise of GPU power while a job starts, stage by stage") for kind in ("training", "transformer")),
    *(_d(kind, "end_ramp", u.SLEW, "the site's fastest fall of GPU power while a job ends, stage by stage") for kind in ("training", "transformer")),
    _d("training", "oscillation", u.POWER, "the largest harmonic of the step's GPU power inside the grid's band (band_low .. band_high)", bound="upper", explained_by=STEP),
    _d("training", "step_swing", u.POWER, "how far the site's GPU power drops by the end of each pool's wait, through the ramp-down rate and hysteresis", explained_by=STEP),
    # training
    _d("training", "step_time", u.TIME, "compute time plus the exposed part of the gradient exchange", explained_by=STEP),
    _d("training", "compute_time", u.TIME, "the slowest pool's compute time: the barrier", explained_by=STEP),
    _d("training", "comm_time", u.TIME, "the all-reduce of the gradients over one data-parallel group", explained_by=STEP),
    _d("training", "mfu", ONE, "model FLOPs utilisation", explained_by=STEP),
    _d("training", "average_power", u.POWER, "the GPUs' average power over a step", explained_by=STEP),
    _d("training", "energy_per_step", u.ENERGY, "the GPUs' energy in one step", explained_by=STEP),
    _d("training", "energy_per_token", u.ENERGY / u.TOKEN, "the GPUs' energy per token trained", explained_by=STEP),
    _d("training", "pool_time", u.TIME, "that pool's compute time in a step, with its jitter", per_pool=True, explained_by=STEP),
    _d("training", "wait", ONE, "share of the step that pool spends not computing", per_pool=True, explained_by=STEP),
    # the other collectives over the same group and bytes (spec/semantics.md, "Other collectives")
    _d("training", "reduce_scatter_time", u.TIME, "a reduce-scatter of the gradients over one data-parallel group"),
    _d("training", "all_gather_time", u.TIME, "an all-gather of as many bytes over one data-parallel group"),
    _d("training", "all_to_all_time", u.TIME, "an all-to-all of as many bytes per GPU over one data-parallel group"),
    # a transformer trained with a parallel layout (spec/semantics.md, "Transformer training")
    _d("model", "parameters", ONE, "weight-matrix parameters of the shape"),
    _d("model", "active_parameters", ONE, "parameters a token passes through: all but the experts it is not routed to"),
    _d("transformer", "step_time", u.TIME, "pipeline, exposed data-parallel exchange and optimizer step", bound="upper", explained_by=LAYOUT_STEP),
    _d("transformer", "pipeline_time", u.TIME, "the slowest pool's pipeline makespan", bound="upper", explained_by=LAYOUT_STEP),
    _d("transformer", "pool_time", u.TIME, "that pool's pipeline makespan, with its jitter", per_pool=True, bound="upper"),
    _d("transformer", "compute_time", u.TIME, "a stage's layer compute in a step (slowest pool)"),
    _d("transformer", "recompute_time", u.TIME, "a stage's recomputation in a step (slowest pool)"),
    _d("transformer", "tp_comm_time", u.TIME, "a stage's tensor-parallel communication in a step"),
    _d("transformer", "cp_comm_time", u.TIME, "a stage's context-parallel communication in a step"),
    _d("transformer", "ep_comm_time", u.TIME, "a stage's expert all-to-all (dispatch and combine) in a step"),
    _d("transformer", "pp_message_time", u.TIME, "one stage-to-stage message"),
    _d("transformer", "dp_comm_time", u.TIME, "the exposed data-parallel exchange"),
    _d("transformer", "optimizer_time", u.TIME, "the optimizer step (slowest pool)"),
    _d("transformer", "bubble", ONE, "the schedule's idle share of the ideal time, (p - 1) / (v m)"),
    _d("transformer", "microbatches", ONE, "microbatches per pipeline per step, m = B / (d b)"),
    _d("transformer", "flops", u.WORK, "model FLOPs of a step (no recomputation)"),
    _d("transformer", "mfu", ONE, "model FLOPs utilisation", bound="lower", explained_by=LAYOUT_STEP),
    _d("transformer", "hfu", ONE, "hardware FLOPs utilisation (recomputation counted)", bound="lower", explained_by=LAYOUT_STEP),
    _d("transformer", "throughput", u.THROUGHPUT, "tokens per second", bound="lower", explained_by=LAYOUT_STEP),
    _d("transformer", "throughput_per_gpu", u.THROUGHPUT, "tokens per second per GPU", bound="lower", explained_by=LAYOUT_STEP),
    _d("transformer", "state_per_gpu", u.DATA, "weights, gradients and optimizer state on the first stage"),
    _d("transformer", "activation_per_gpu", u.DATA, "activations the first stage holds at its peak"),
    _d("transformer", "memory_per_gpu", u.DATA, "state plus activations on the first stage"),
    _d("transformer", "busy_time", u.TIME, "the busiest stage's layer work in a step (slowest pool): m · (its layers) · (forward + backward of a layer)"),
    _d("transformer", "average_power", u.POWER, "the GPUs' average power over a step: tdp while busy, max(idle, floor) otherwise", bound="lower", explained_by=LAYOUT_STEP),
    _d("transformer", "energy_per_step", u.ENERGY, "the GPUs' energy in one step", bound="upper", explained_by=LAYOUT_STEP),
    _d("transformer", "energy_per_token", u.ENERGY / u.TOKEN, "the GPUs' energy per token trained", bound="upper", explained_by=LAYOUT_STEP),
    *(_d(kind, *entry[:3], **entry[3]) for kind in ("inference",) for entry in MONEY),
    # serving a transformer (spec/semantics.md, "Serving a model")
    _d("serving", "weights_per_gpu", u.DATA, "weight bytes each GPU of a replica holds"),
    _d("serving", "kv_per_token", u.DATA / u.TOKEN, "key/value cache bytes per token on each GPU"),
    _d("serving", "kv_cache_per_gpu", u.DATA, "the cache of a full batch at its longest, per GPU"),
    _d("serving", "memory_per_gpu", u.DATA, "weights plus the full batch's cache, per GPU"),
    _d("serving", "max_batch", ONE, "the most requests whose cache fits beside the weights on that pool", per_pool=True),
    _d("serving", "ttft", u.TIME, "time to first token: one prompt prefilled on an idle replica (slowest pool)"),
    _d("serving", "tpot", u.TIME, "time per output token: the slowest decode step (slowest pool)"),
    _d("serving", "kv_transfer_time", u.TIME, "a prompt's cache sent from a prefill GPU to a decode GPU (with prefill_pool; none: 0)"),
    _d("serving", "pool_throughput", u.THROUGHPUT, "that pool's tokens per second", per_pool=True, bound="lower"),
    _d("serving", "throughput", u.THROUGHPUT, "tokens per second of the fleet: the pools' rates add", bound="lower", explained_by=("pool_throughput",)),
    _d("serving", "throughput_per_gpu", u.THROUGHPUT, "tokens per second per GPU", bound="lower", explained_by=("pool_throughput",)),
    *(_d("serving", *entry[:3], **entry[3], **SERVING_BOUNDS.get(entry[0], {})) for entry in MONEY),
)


def family_of(block) -> str:
    """The registry family of a resolved block: its kind, and a workload's kind of work."""
    from checker import model as m  # the model module imports nothing of ours at run time

    if isinstance(block, m.Workload):
        if block.model is not None:
            return "transformer" if block.kind == "training" else "serving"
        return block.kind
    return {m.Radiator: "radiator", m.Gpu: "gpu", m.Cluster: "cluster", m.Transformer: "model"}[type(block)]


def derived(family: str) -> tuple[Derived, ...]:
    return tuple(d for d in DERIVED if d.family == family)


def find(family: str, path: tuple[str, ...]) -> Derived | None:
    """The derived quantity a path names (a per-pool one with its pool after the name)."""
    for d in DERIVED:
        if d.family == family and (d.path == path or (d.per_pool and d.path == path[:-1] and len(path) == len(d.path) + 1)):
            return d
    return None


def namespace(block) -> dict[tuple[str, ...], u.Dim]:
    """Every quantity a claim may name on a block, with its dimension: the fields it has (given
    or defaulted), each section's fields, and the derived quantities of its family."""
    from checker import model as m

    family = family_of(block)
    names: dict[tuple[str, ...], u.Dim] = {}

    def fields(kind: str, holder, prefix: tuple[str, ...] = ()) -> None:
        for spec in FIELDS[kind]:
            value = getattr(holder, spec.name, None)
            if spec.kind == "number" and isinstance(value, m.Param):
                names[prefix + (spec.name,)] = value.dim
            elif spec.kind == "count" and isinstance(value, int) and kind == "radiator":
                names[prefix + (spec.name,)] = spec.dims[0]

    if isinstance(block, m.Workload):
        fields("workload", block)
        for pool in block.cluster.pools:
            names[("jitter", pool.name)] = ONE
    elif isinstance(block, m.Cluster):
        for section in SECTIONS["cluster"]:
            holder = getattr(block, section)
            if holder is not None:
                fields(section, holder, (section,))
        for tier in block.network.tiers if block.network is not None else ():
            fields("tier", tier, ("network", tier.name))
    else:
        fields(family, block)
    for d in derived(family):
        if missing(block, d):
            continue
        if d.per_pool:
            for pool in block.cluster.pools:
                names[d.path + (pool.name,)] = d.dim
        else:
            names.setdefault(d.path, d.dim)
    return names


GPU_NEEDS = ("lease", "capital")


def missing(block, entry: Derived) -> tuple[str, ...]:
    """The fields a quantity rests on that the block leaves out (then a claim may not name it)."""
    out = []
    for name in entry.needs:
        if name in GPU_NEEDS:
            if any(getattr(p.gpu, name, None) is None for p in block.cluster.pools):
                out.append(name)
        elif getattr(block, name, None) is None:
            out.append(name)
    return tuple(out)


def field_holder(block, rest: tuple[str, ...]):
    """Where a path names a field of a block: (field table, the object holding it, its name), or
    (None, None, None) when it names none (then it may be a derived quantity)."""
    from checker import model as m

    family = family_of(block)
    kind = "workload" if family in POWER_FAMILIES + ("serving",) else family
    if isinstance(block, m.Cluster) and len(rest) == 3 and rest[0] == "network" and block.network is not None:
        tier = next((t for t in block.network.tiers if t.name == rest[1]), None)
        return ("tier", tier, rest[2]) if tier is not None and spec_of("tier", rest[2]) is not None else (None, None, None)
    if isinstance(block, m.Cluster) and len(rest) == 2 and rest[0] in SECTIONS["cluster"]:
        holder = getattr(block, rest[0])
        return (rest[0], holder, rest[1]) if holder is not None and spec_of(rest[0], rest[1]) is not None else (None, None, None)
    if kind == "workload" and len(rest) == 2 and rest[0] == "jitter":
        return kind, block, "jitter"
    if len(rest) == 1 and spec_of(kind, rest[0]) is not None:
        return kind, block, rest[0]
    return None, None, None


def dim_of(model, path: tuple[str, ...]) -> u.Dim | None:
    """The dimension of a quantity by its full path (block name first)."""
    return namespace(model.block(path[0])).get(path[1:])


def explanation(model, path: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The quantities shown beside a counterexample that names `path`: its explained_by."""
    block = model.block(path[0])
    entry = find(family_of(block), path[1:])
    if entry is None:
        return []
    out: list[tuple[str, ...]] = []
    for name in entry.explained_by:
        target = next(d for d in derived(family_of(block)) if d.path == (name,))
        if missing(block, target):
            continue
        if target.per_pool:
            out += [(block.name, name, pool.name) for pool in block.cluster.pools]
        else:
            out.append((block.name, name))
    return out


def spec_of(kind: str, name: str) -> FieldSpec | None:
    for spec in FIELDS.get(kind, ()):
        if spec.name == name:
            return spec
    return None


def find_field_doc(name: str) -> str:
    """A field's one-line meaning, with its table: 'lease (gpu): lease price per GPU-hour ...'."""
    for kind, table in FIELDS.items():
        for spec in table:
            if spec.name == name:
                return f"{name} ({kind}): {spec.doc}"
    return name
