"""What each block may contain: its fields (dimension, default, domain) and derived quantities.

This table is the single source for resolution, for the built-in invariants on field values,
and for the language reference (tests hold spec/language.md to it).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from checker import units as u


@dataclass(frozen=True, slots=True)
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
)

GPU = (
    F("peak", (u.RATE,), required=True, domain="positive", doc="dense BF16 peak"),
    F("memory", (u.DATA,), required=True, domain="positive", doc="memory per GPU"),
    F("tdp", (u.POWER,), required=True, domain="positive", doc="board power at full load"),
    F("idle", (u.POWER,), default=Fraction(0), domain="nonnegative", doc="power while waiting"),
    F("floor", (u.POWER, ONE), default=Fraction(0), domain="nonnegative", doc="power-smoothing floor, in W or % of tdp"),
    F("ramp", (u.SLEW,), domain="positive", doc="power-smoothing slew limit; none means unlimited"),
)

NETWORK = (
    F("topology", (ONE,), kind="enum", required=True, choices=("ring", "tree", "hierarchical"), doc="collective algorithm"),
    F("bandwidth", (u.BANDWIDTH,), required=True, domain="positive", doc="per GPU, each direction"),
    F("latency", (u.TIME,), required=True, domain="nonnegative", doc="per hop"),
    F("domain", (ONE,), kind="count", doc="GPUs per NVLink domain (hierarchical)"),
    F("domain_bandwidth", (u.BANDWIDTH,), domain="positive", doc="per GPU inside a domain (hierarchical)"),
    F("domain_latency", (u.TIME,), domain="nonnegative", doc="per hop inside a domain (hierarchical)"),
)

POWER = (
    F("facility", (u.POWER,), domain="positive", doc="the site's grid connection"),
    F("pue", (ONE,), default=Fraction(1), domain="at-least-one", doc="power usage effectiveness"),
    F("overhead", (ONE,), default=Fraction(0), domain="nonnegative", doc="host, NIC and fan power on top of the GPUs"),
    F("transition", (u.TIME,), default=Fraction(1, 20), domain="positive", doc="unsmoothed switch time between phases"),
)

WORKLOAD = (
    F("kind", (ONE,), kind="enum", required=True, choices=("training", "inference"), doc="training or inference"),
    F("params", (ONE,), required=True, domain="positive", doc="model parameters"),
    F("batch", (u.TOKEN,), domain="positive", doc="tokens per step (training)"),
    F("efficiency", (ONE,), required=True, domain="open-share", doc="share of its own peak each GPU's kernels reach"),
    F("balance", (ONE,), kind="enum", default="uniform", choices=("uniform", "proportional"), doc="how work is split"),
    F("jitter", (ONE,), default=Fraction(0), domain="nonnegative", doc="how much slower any pool may run in a step"),
    F("shards", (ONE,), kind="count", default=Fraction(1), doc="model-parallel degree"),
    F("overlap", (ONE,), default=Fraction(0), domain="share", doc="share of the exchange hidden behind compute"),
    F("grad_bytes", (u.DATA,), default=Fraction(2), domain="positive", doc="gradient bytes per parameter"),
    F("state_bytes", (u.DATA,), domain="positive", doc="bytes of state per parameter (16 training, 2 inference)"),
    F("flops_per_token", (u.WORK / u.TOKEN,), domain="positive", doc="6·params (training), 2·params (inference)"),
)

FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    "radiator": RADIATOR,
    "gpu": GPU,
    "network": NETWORK,
    "power": POWER,
    "workload": WORKLOAD,
}
SECTIONS = {"cluster": ("network", "power")}

# Derived quantities usable in claims, by block kind (per-pool ones take the pool's name).
DERIVED: dict[str, dict[str, u.Dim]] = {
    "radiator": {"area": u.AREA, "temperature": u.TEMPERATURE, "flux": u.FLUX},
    "cluster": {"gpus": ONE, "peak": u.RATE},
    "power": {"draw": u.POWER},
    "training": {
        "step_time": u.TIME,
        "compute_time": u.TIME,
        "comm_time": u.TIME,
        "mfu": ONE,
        "throughput": u.THROUGHPUT,
        "memory_per_gpu": u.DATA,
        "swing": u.POWER,
        "ramp": u.SLEW,
        "floor_cost": u.POWER,
        "average_power": u.POWER,
        "energy_per_step": u.ENERGY,
        "energy_per_token": u.ENERGY / u.TOKEN,
    },
    "inference": {
        "throughput": u.THROUGHPUT,
        "memory_per_gpu": u.DATA,
        "swing": u.POWER,
        "ramp": u.SLEW,
        "floor_cost": u.POWER,
    },
}
PER_POOL: dict[str, dict[str, u.Dim]] = {"training": {"wait": ONE, "pool_time": u.TIME}, "inference": {}}


def spec_of(kind: str, name: str) -> FieldSpec | None:
    for spec in FIELDS.get(kind, ()):
        if spec.name == name:
            return spec
    return None
