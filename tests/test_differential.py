"""Differential tests: the Z3 encoding and the simulation core agree on generated models.

Hypothesis generates small clusters (1-4 pools, every topology with data-parallel groups of
one GPU and of many, model-parallel shards that divide the GPUs, given and defaulted
grad_bytes / state_bytes / flops_per_token, training and inference, floors in W and as a share
of tdp, with and without a slew limit, both balances, ranges on jitter, floor, overlap,
bandwidth, emissivity, sink) and checks that
- every quantity, evaluated at random points of the ranges, is the same in both semantics;
- a proved bound is never exceeded by sampled simulator runs;
- every counterexample is confirmed by the simulation, every worst case reproduced.
A fixed corpus of hand-picked specs (CORPUS) is compared at the corners and the middle of its
ranges too: it is deterministic, covers each formula with a group larger than one GPU, and is
what lets scripts/mutate.py (tests/test_mutation.py) run the suite with few generated examples.

Environment (scripts/mutate.py sets them): DIFFERENTIAL_NO_SHRINK=1 skips shrinking;
DIFFERENTIAL_EXAMPLES=N caps the generated examples of every Hypothesis test at N.
"""

from __future__ import annotations

import os
from fractions import Fraction as F

import pytest
import z3
from hypothesis import HealthCheck, Phase, assume, given, settings, strategies as st

from checker import model as m, registry
from checker.api import check_text
from checker.encode import encode, val
from checker.parse import parse_text
from checker.replay import Simulation, holds
from checker.resolve import resolve
from checker.solve import Limits, Point, fraction

# scripts/mutate.py only needs to know that a test fails, not the smallest failing model
PHASES = (Phase.explicit, Phase.generate) if os.environ.get("DIFFERENTIAL_NO_SHRINK") else tuple(Phase)
CAP = int(os.environ.get("DIFFERENTIAL_EXAMPLES", "0") or 0)


def _settings(examples: int):
    return settings(max_examples=min(examples, CAP) if CAP else examples, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow], derandomize=True, phases=PHASES)


LIMITS = Limits(timeout_ms=5_000)

percent = st.integers(min_value=0, max_value=100)


def _range_or_value(draw, low: int, high: int, unit: str) -> str:
    a, b = sorted(draw(st.tuples(st.integers(low, high), st.integers(low, high))))
    return draw(st.sampled_from([f"{a} {unit}", f"{a} {unit} .. {b} {unit}"]))


# power beside the GPUs: none, racks, nodes, a cooling plant, ranges
site_power = st.sampled_from(["", "; rack = 8; rack_power = 2 kW", "; rack = 3; rack_power = 1 kW .. 5 kW; node = 2; node_power = 300 W",
                              "; node = 5; node_power = 100 W .. 900 W", "; cooling = 50 kW", "; rack = 72; rack_power = 20 kW; cooling = 1 kW .. 9 kW",
                              "; storage = 1 kJ .. 50 kJ; storage_power = 1 kW .. 30 kW", "; storage = 20 J; storage_power = 4 kW",
                              "; start_stages = 3; start_time = 0 s .. 2 s", "; start_stages = 7; start_time = 350 ms"])


@st.composite
def clusters(draw) -> str:
    pools = draw(st.integers(min_value=1, max_value=4))
    kind = draw(st.sampled_from(["training", "training", "inference"]))
    topology = draw(st.sampled_from(["ring", "tree", "hierarchical", "switch", "tiers"]))
    domain = draw(st.sampled_from([1, 2, 4]))
    shards = draw(st.sampled_from([1, 1, 2, 4]))
    # every count a multiple of the shards (and of the domain, hierarchical): whole data-parallel
    # groups, and whole domains in each group; mostly groups of more than one GPU
    unit = shards * (domain if topology in ("hierarchical", "tiers") else 1)
    counts = [draw(st.integers(min_value=1, max_value=12)) * unit for _ in range(pools)]
    lines = []
    for i in range(pools):
        peak = draw(st.sampled_from([312, 989, 1307, 2500]))
        tdp = draw(st.sampled_from([400, 700, 1000, 1200]))
        idle = draw(st.integers(min_value=0, max_value=tdp // 100)) * 50 % tdp
        lo, hi = sorted(draw(st.tuples(percent, percent)))
        floor = draw(st.sampled_from(["", f"; floor = {lo} % .. {hi} %", f"; floor = {hi} %", f"; floor = {idle + 10} W", f"; floor = {idle // 2} W .. {idle + 10} W"]))
        ramp = draw(st.sampled_from(["", "; ramp = 2 kW/s", "; ramp = 500 W/s .. 8 kW/s", "; ramp_down = 1 kW/s; hysteresis = 0 ms .. 300 ms",
                                     "; ramp = 3 kW/s; ramp_up = 500 W/s .. 6 kW/s; hysteresis = 50 ms", "; ramp_down = 200 W/s .. 20 kW/s; ramp_up = 4 kW/s"]))
        lines.append(f"gpu G{i} {{ peak = {peak} TFLOP/s; memory = 1 TB; tdp = {tdp} W; idle = {idle} W{floor}{ramp} }}")
    pool_lines = "\n".join(f"  pool p{i} = {c} x G{i}" for i, c in enumerate(counts))
    extra = f"; domain = {domain}; domain_bandwidth = 450 GB/s; domain_latency = 2 us" if topology == "hierarchical" else ""
    if topology == "tiers":  # one inner tier of `domain` GPUs; the outermost oversubscribed or not
        share = draw(st.sampled_from(["", "; efficiency = 82 %", "; efficiency = 70 % .. 95 %"]))
        extra = draw(st.sampled_from(["", "; oversubscription = 7", "; oversubscription = 1 .. 8"])) + f"; inner {{ size = {domain}; bandwidth = 450 GB/s; latency = 2 us{share} }}"
    if topology == "switch":  # an algorithm, or auto (written or defaulted); a radix: the switches reduce
        algorithm = draw(st.sampled_from(["", "ring", "double_tree", "halving_doubling", "in_network", "auto"]))
        radix = draw(st.sampled_from([2, 3, 8])) if algorithm == "in_network" or draw(st.booleans()) else None
        extra = (f"; algorithm = {algorithm}" if algorithm else "") + (f"; radix = {radix}" if radix else "")
    bandwidth = draw(st.sampled_from(["50 GB/s", "25 GB/s .. 100 GB/s"]))
    latency = draw(st.sampled_from(["5 us", "1 us .. 10 us"]))
    j_lo, j_hi = sorted(draw(st.tuples(st.integers(0, 20), st.integers(0, 20))))
    balance = draw(st.sampled_from(["uniform", "proportional"]))
    overlap = draw(st.sampled_from(["0 %", "50 %", "10 % .. 90 %"]))
    network = kind == "training" or draw(st.booleans())
    lines.append(
        f"cluster c {{\n{pool_lines}\n"
        + (f"  network {{ topology = {topology}; bandwidth = {bandwidth}; latency = {latency}{extra} }}\n" if network else "")
        + f"  power {{ pue = 1.2; overhead = 10 %; transition = 50 ms{draw(site_power)} }}\n}}"
    )
    fields = [f"kind = {kind}", f"params = {draw(st.sampled_from(['1e9', '7e10', '3e8']))}"]
    if kind == "training":
        fields.append("batch = 1e6 token")
    fields.append(f"efficiency = {draw(st.sampled_from(['30 % .. 50 %', '40 %']))}")
    if shards > 1 or draw(st.booleans()):
        fields.append(f"shards = {shards}")
    if kind == "training":
        fields += [f"balance = {balance}", f"jitter = {j_lo} % .. {j_hi} %", f"overlap = {overlap}"]
        grad = draw(st.sampled_from(["", "grad_bytes = 4 B", "grad_bytes = 1 B .. 4 B"]))
        fields += [grad] if grad else []
    state = draw(st.sampled_from(["", "state_bytes = 18 B", "state_bytes = 2 B .. 20 B"]))
    flops = draw(st.sampled_from(["", "flops_per_token = 5e9 FLOP/token", "flops_per_token = 1 TFLOP/token .. 3 TFLOP/token"]))
    fields += [f for f in (state, flops) if f]
    lines.append(f"workload w on c {{ {'; '.join(fields)} }}")
    return "\n".join(lines) + "\n"


@st.composite
def radiators(draw) -> str:
    lo, hi = sorted(draw(st.tuples(st.integers(50, 100), st.integers(50, 100))))
    s_lo, s_hi = sorted(draw(st.tuples(st.integers(0, 200), st.integers(0, 200))))
    sides = draw(st.sampled_from([1, 2]))
    given_field = draw(st.sampled_from(["temperature = 300 K .. 400 K", "area = 500 m^2 .. 2000 m^2", "temperature = 330 K"]))
    # the environment: none (deep space), or some of its fields, given or ranged
    environment = draw(st.lists(st.sampled_from([
        "absorptance = 0 % .. 30 %", "absorptance = 20 %", "solar = 1300 W/m^2 .. 1420 W/m^2", "sun_view = 0 % .. 20 %",
        "sunlit = 0 % .. 100 %", "sunlit = 62 %", "albedo = 20 % .. 40 %", "earth_ir = 200 W/m^2 .. 260 W/m^2",
        "earth_view = 0 % .. 30 %", "earth_view = 25 %", "fin = 70 % .. 100 %"]), max_size=4, unique_by=lambda f: f.split("=")[0]))
    # the eclipse transient: none, or a heat capacity and an eclipse, given or ranged
    environment += draw(st.sampled_from([[], [], ["heat_capacity = 4312 J/m^2/K", "eclipse = 35 min"],
                                         ["heat_capacity = 2 kJ/m^2/K .. 40 kJ/m^2/K", "eclipse = 0 s .. 2 h", "eclipse_heat = 0 W .. 1.5 MW"],
                                         ["heat_capacity = 20 kJ/m^2/K", "eclipse = 10 min .. 40 min", "eclipse_heat = 200 kW"]]))
    extra = "".join(f"; {f}" for f in environment)
    return f"radiator r {{ heat = 1 MW; emissivity = {lo} % .. {hi} %; sink = {s_lo} K .. {s_hi} K; sides = {sides}; {given_field}{extra} }}\n"


def quantities(model: m.Model) -> list[tuple[str, ...]]:
    """Every derived quantity of every block, from the registry: a new quantity is covered."""
    out: list[tuple[str, ...]] = []
    for block in model.blocks:
        if not isinstance(block, (m.Radiator, m.Cluster, m.Workload)):
            continue
        for entry in registry.derived(registry.family_of(block)):
            if registry.missing(block, entry):
                continue  # a quantity the spec gives no price (or no eclipse) for cannot be named
            if entry.per_pool:
                out += [(block.name, *entry.path, pool.name) for pool in block.cluster.pools]
            else:
                out.append((block.name, *entry.path))
    return out


def points(model: m.Model, draw) -> Point:
    values = []
    for unknown in model.unknowns:
        t = draw(st.fractions(min_value=0, max_value=1, max_denominator=1000))
        values.append((unknown.id, unknown.low + (unknown.high - unknown.low) * t))
    return Point(tuple(values))


def corners(model: m.Model) -> list[Point]:
    """Every unknown at its low end, at its high end, in the middle; then alternating ends."""
    out = []
    for pick in (lambda i, u: u.low, lambda i, u: u.high, lambda i, u: (u.low + u.high) / 2,
                 lambda i, u: u.low if i % 2 else u.high, lambda i, u: u.high if i % 2 else u.low):
        out.append(Point(tuple((u.id, pick(i, u)) for i, u in enumerate(model.unknowns))))
    return out


def agree(text: str, chosen) -> None:
    """Each quantity of the spec, at each point `chosen(model)` returns, is the same in the
    encoder (Z3, substituted and evaluated) and in the simulation core."""
    model, diagnostics = resolve(parse_text("d.spec", text))
    assert model is not None, [d.header() for d in diagnostics]
    ctx = z3.Context()
    enc = encode(model, ctx)
    paths = quantities(model)
    assert paths
    bounds = {e.path: e.bound for e in registry.DERIVED if e.family in ("training", "radiator")}
    for point in chosen(model):
        subs = [(enc.variables[uid], val(value, ctx)) for uid, value in point.values]
        simulation = Simulation(model, point)
        for path in paths:
            term = enc.quantity(path)
            direct = z3.simplify(z3.substitute(term, *subs) if subs else term)
            if z3.is_rational_value(direct):  # no auxiliary variable: the term evaluates itself
                symbolic = fraction(direct)[0]
            else:
                solver = z3.Solver(ctx=ctx)
                for name, definition in enc.definitions:
                    solver.add(z3.substitute(definition, *subs) if subs else definition)
                solver.add(z3.Real("probe", ctx) == (z3.substitute(term, *subs) if subs else term))
                assert solver.check() == z3.sat
                symbolic = fraction(solver.model().eval(z3.Real("probe", ctx), model_completion=True))[0]
            simulated = simulation.quantity(path)
            tolerance = F(1, 10**9) * max(abs(simulated), F(1))
            if bounds.get(path[1:]) == "upper":  # the closed form bounds the core's value from above
                assert simulated <= symbolic + tolerance, (path, float(symbolic), float(simulated), point)
                continue
            if bounds.get(path[1:]) == "lower":  # the closed form bounds the core's value from below
                assert simulated >= symbolic - tolerance, (path, float(symbolic), float(simulated), point)
                continue
            assert abs(symbolic - simulated) <= tolerance, (path, float(symbolic), float(simulated), point)


def both(text: str, data) -> None:
    agree(text, lambda model: [points(model, data.draw) for _ in range(3)])


GPUS = """gpu A { peak = 989 TFLOP/s; memory = 80 GB; tdp = 700 W; idle = 100 W; floor = 30 % .. 60 %; ramp = 2 kW/s; ramp_up = 1 kW/s .. 9 kW/s; hysteresis = 0 ms .. 400 ms }
gpu B { peak = 2500 TFLOP/s; memory = 186 GB; tdp = 1200 W; idle = 150 W; floor = 400 W }
gpu C { peak = 312 TFLOP/s; memory = 40 GB; tdp = 400 W; idle = 50 W }
"""
POWER = "power { pue = 1.25; overhead = 20 %; transition = 50 ms }"
TRAIN = "kind = training; params = 7e10; batch = 1e6 token; efficiency = 30 % .. 50 %"

# Hand-picked specs compared at their corners: every topology with groups of many GPUs (and
# group sizes that are not powers of two), shards, the optional fields given and defaulted,
# floors in W and in %, slew limits, both balances, inference, radiators of both kinds.
CORPUS = {
    "ring-shards-grad": GPUS + f"""cluster c {{ pool a = 8 x A; pool b = 4 x B
  network {{ topology = ring; bandwidth = 25 GB/s .. 100 GB/s; latency = 5 us }}
  power {{ pue = 1.25; overhead = 20 %; transition = 50 ms; storage = 500 J .. 90 kJ; storage_power = 2 kW .. 40 kW }} }}
workload w on c {{ {TRAIN}; shards = 2; grad_bytes = 4 B; jitter = 0 % .. 10 %; overlap = 10 % .. 90 % }}
""",
    "ring-one-pool": GPUS + f"""cluster c {{ pool a = 7 x A
  network {{ topology = ring; bandwidth = 50 GB/s; latency = 1 us .. 10 us }}
  {POWER} }}
workload w on c {{ {TRAIN}; jitter = 5 %; state_bytes = 18 B }}
""",
    "tree-proportional": GPUS + f"""cluster c {{ pool b = 6 x B; pool c = 6 x C
  network {{ topology = tree; bandwidth = 50 GB/s; latency = 5 us }}
  {POWER} }}
workload w on c {{ {TRAIN}; balance = proportional; flops_per_token = 5e11 FLOP/token; jitter = 0 % .. 20 %; overlap = 50 % }}
""",
    "tree-shards": GPUS + f"""cluster c {{ pool a = 20 x A; pool c = 4 x C
  network {{ topology = tree; bandwidth = 50 GB/s; latency = 5 us }}
  {POWER} }}
workload w on c {{ {TRAIN}; shards = 2; grad_bytes = 1 B .. 4 B; jitter = 0 % .. 5 % }}
""",
    "hierarchical": GPUS + f"""cluster c {{ pool a = 16 x A; pool b = 16 x B; pool c = 16 x C
  network {{ topology = hierarchical; bandwidth = 50 GB/s; latency = 5 us; domain = 4; domain_bandwidth = 450 GB/s; domain_latency = 2 us }}
  {POWER} }}
workload w on c {{ {TRAIN}; shards = 2; balance = uniform; jitter = 0 % .. 10 %; overlap = 25 % }}
""",
    "switch-auto": GPUS + f"""cluster c {{ pool a = 20 x A; pool c = 4 x C
  network {{ topology = switch; bandwidth = 25 GB/s .. 100 GB/s; latency = 1 us .. 50 us; radix = 4 }}
  {POWER} }}
workload w on c {{ {TRAIN.replace("7e10", "1e3 .. 1e9")}; grad_bytes = 1 B .. 4 B; jitter = 0 % .. 10 % }}
""",
    "switch-auto-no-reduction": GPUS + f"""cluster c {{ pool a = 24 x A
  network {{ topology = switch; algorithm = auto; bandwidth = 50 GB/s; latency = 1 us .. 50 us }}
  {POWER} }}
workload w on c {{ {TRAIN.replace("7e10", "1e3 .. 1e10")}; shards = 2; jitter = 0 % .. 10 % }}
""",
    "switch-double-tree": GPUS + f"""cluster c {{ pool a = 13 x A
  network {{ topology = switch; algorithm = double_tree; bandwidth = 50 GB/s; latency = 5 us }}
  {POWER} }}
workload w on c {{ {TRAIN}; jitter = 0 % .. 10 %; overlap = 20 % }}
""",
    "switch-double-tree-pair": GPUS + f"""cluster c {{ pool a = 2 x A
  network {{ topology = switch; algorithm = double_tree; bandwidth = 50 GB/s; latency = 5 us }}
  {POWER} }}
workload w on c {{ {TRAIN}; jitter = 0 % .. 10 % }}
""",
    "switch-halving-doubling": GPUS + f"""cluster c {{ pool a = 6 x A; pool b = 6 x B
  network {{ topology = switch; algorithm = halving_doubling; bandwidth = 50 GB/s; latency = 1 us .. 10 us }}
  {POWER} }}
workload w on c {{ {TRAIN}; shards = 2; jitter = 0 % .. 10 % }}
""",
    "switch-halving-doubling-power-of-two": GPUS + f"""cluster c {{ pool a = 16 x A
  network {{ topology = switch; algorithm = halving_doubling; bandwidth = 50 GB/s; latency = 5 us }}
  {POWER} }}
workload w on c {{ {TRAIN}; jitter = 0 % .. 10 % }}
""",
    "switch-in-network": GPUS + f"""cluster c {{ pool a = 40 x A
  network {{ topology = switch; algorithm = in_network; radix = 3; bandwidth = 50 GB/s; latency = 1 us .. 10 us }}
  {POWER} }}
workload w on c {{ {TRAIN}; jitter = 0 % .. 10 % }}
""",
    "switch-ring": GPUS + f"""cluster c {{ pool a = 9 x A
  network {{ topology = switch; algorithm = ring; bandwidth = 50 GB/s; latency = 5 us }}
  {POWER} }}
workload w on c {{ {TRAIN}; jitter = 0 % .. 10 % }}
""",
    "tiers": GPUS + f"""cluster c {{ pool a = 24 x A; pool c = 24 x C
  network {{ topology = tiers; bandwidth = 25 GB/s .. 100 GB/s; latency = 5 us; efficiency = 80 % .. 95 %; oversubscription = 1 .. 7
    nvlink {{ size = 4; bandwidth = 450 GB/s; latency = 1 us .. 3 us; efficiency = 82 % }}
    leaf {{ size = 12; bandwidth = 50 GB/s; latency = 3 us; oversubscription = 2 }} }}
  {POWER} }}
workload w on c {{ {TRAIN}; shards = 2; jitter = 0 % .. 10 %; overlap = 25 % }}
""",
    "torus-3d": GPUS + f"""cluster c {{ pool a = 24 x A; pool c = 24 x C
  network {{ topology = torus; x = 2; y = 3; z = 4; bandwidth = 25 GB/s .. 100 GB/s; latency = 1 us .. 5 us }}
  {POWER} }}
workload w on c {{ {TRAIN}; shards = 2; jitter = 0 % .. 10 %; overlap = 25 % }}
""",
    "torus-at-once": GPUS + f"""cluster c {{ pool a = 16 x A; pool b = 8 x B
  network {{ topology = torus; x = 2; y = 4; z = 3; dimensions = at_once; bandwidth = 25 GB/s .. 100 GB/s; latency = 1 us .. 50 us }}
  {POWER} }}
workload w on c {{ {TRAIN.replace("7e10", "1e3 .. 1e10")}; jitter = 0 % .. 10 % }}
""",
    "torus-slice": GPUS + f"""cluster c {{ pool a = 96 x A; pool c = 32 x C
  network {{ topology = torus; slice = any; dimensions = at_once; bandwidth = 25 GB/s .. 100 GB/s; latency = 1 us .. 50 us }}
  {POWER} }}
workload w on c {{ {TRAIN.replace("7e10", "1e3 .. 1e10")}; jitter = 0 % .. 10 % }}
""",
    "torus-slice-pod": GPUS + f"""cluster c {{ pool a = 512 x A
  network {{ topology = torus; slice = any; bandwidth = 50 GB/s; latency = 1 us .. 5 us }}
  {POWER} }}
workload w on c {{ {TRAIN}; jitter = 0 % .. 10 % }}
""",
    "torus-2d": GPUS + f"""cluster c {{ pool a = 20 x A
  network {{ topology = torus; x = 5; y = 4; bandwidth = 50 GB/s; latency = 1 us .. 5 us }}
  {POWER} }}
workload w on c {{ {TRAIN}; grad_bytes = 1 B .. 4 B; jitter = 0 % .. 10 % }}
""",
    "staged-start": GPUS + f"""cluster c {{ pool a = 12 x A; pool b = 6 x B; pool c = 6 x C
  network {{ topology = ring; bandwidth = 50 GB/s; latency = 5 us }}
  power {{ transition = 20 ms .. 200 ms; start_stages = 6; start_time = 0 s .. 3 s }} }}
workload w on c {{ {TRAIN}; jitter = 0 % .. 10 % }}
""",
    "inference": GPUS + f"""cluster c {{ pool a = 16 x A; pool b = 8 x B
  power {{ pue = 1.25; overhead = 20 %; rack = 6; rack_power = 3 kW .. 9 kW; node = 4; node_power = 500 W; cooling = 2 kW .. 4 kW }} }}
workload w on c {{ kind = inference; params = 7e10; efficiency = 30 % .. 40 %; shards = 8 }}
""",
    "inference-given": GPUS + f"""cluster c {{ pool c = 12 x C
  {POWER} }}
workload w on c {{ kind = inference; params = 1e9; efficiency = 50 %; state_bytes = 1 B .. 4 B; flops_per_token = 3e9 FLOP/token }}
""",
    "inference-lease": """gpu A { peak = 989 TFLOP/s; memory = 80 GB; tdp = 700 W; idle = 100 W; lease = 2 USD/h .. 3 USD/h; capital = 25000 USD .. 30000 USD }
gpu B { peak = 2500 TFLOP/s; memory = 186 GB; tdp = 1200 W; idle = 150 W; lease = 4.5 USD/h; capital = 60000 USD }
cluster c { pool a = 16 x A; pool b = 8 x B
  """ + POWER + """ }
workload w on c { kind = inference; params = 7e10; efficiency = 30 % .. 40 %; shards = 8; utilisation = 40 % .. 90 %; electricity = 50 USD/MWh .. 120 USD/MWh; life = 4 yr .. 6 yr }
""",
    "radiator-temperature": "radiator r { heat = 1 MW; emissivity = 80 % .. 95 %; temperature = 300 K .. 400 K; sink = 3 K .. 200 K; sides = 2 }\n",
    "radiator-area": "radiator r { heat = 2 MW; emissivity = 90 %; area = 500 m^2 .. 2000 m^2; sink = 0 K .. 250 K; sides = 1 }\n",
    "radiator-sunlit-temperature": "radiator r { heat = 1 MW; emissivity = 85 % .. 92 %; temperature = 293.15 K .. 330 K; sides = 2; absorptance = 10 % .. 30 %; sun_view = 0 % .. 20 %; sunlit = 62 % .. 100 %; albedo = 0 % .. 30 %; earth_view = 51.55 %; fin = 90 % }\n",
    "radiator-eclipse-temperature": "radiator r { heat = 1 MW; emissivity = 92 %; temperature = 293.15 K .. 320 K; sides = 2; absorptance = 26 %; sun_view = 0 % .. 17.36 %; sunlit = 62 %; earth_view = 51.55 %; heat_capacity = 4 kJ/m^2/K .. 20 kJ/m^2/K; eclipse = 35.5 min; eclipse_heat = 0 W .. 1 MW }\n",
    "radiator-eclipse-area": "radiator r { heat = 1 MW; emissivity = 85 % .. 92 %; area = 1500 m^2; sink = 3 K .. 100 K; sides = 2; absorptance = 26 %; sun_view = 17.36 %; sunlit = 100 %; earth_view = 0 % .. 51.55 %; fin = 90 %; heat_capacity = 10 kJ/m^2/K; eclipse = 0 s .. 3 h }\n",
    "radiator-sunlit-area": "radiator r { heat = 1 MW; emissivity = 92 %; area = 1200 m^2 .. 2000 m^2; sink = 3 K; sides = 2; absorptance = 26 %; solar = 1361 W/m^2; sun_view = 17.36 %; albedo = 0 % .. 30 %; earth_ir = 237 W/m^2 .. 261 W/m^2; earth_view = 0 % .. 51.55 %; fin = 80 % .. 100 % }\n",
}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_every_quantity_agrees_at_the_corners_of_the_corpus(name):
    agree(CORPUS[name], corners)


@_settings(40)
@given(clusters(), st.data())
def test_every_cluster_quantity_agrees_at_random_points(text, data):
    both(text, data)


@_settings(25)
@given(radiators(), st.data())
def test_every_radiator_quantity_agrees_at_random_points(text, data):
    both(text, data)


@st.composite
def claims(draw) -> str:
    text = draw(st.one_of(clusters(), radiators()))
    if text.startswith("radiator"):
        quantity, unit, scale = draw(st.sampled_from([("r.area", "m^2", 2000), ("r.temperature", "K", 500), ("r.flux", "W/m^2", 2000), ("r.absorbed", "W/m^2", 400), ("r.emitted", "W/m^2", 2000)]))
    elif "kind = inference" in text:
        quantity, unit, scale = draw(st.sampled_from([("w.throughput", "e6 token/s", 50), ("w.memory_per_gpu", "GB", 200)]))
    else:
        quantity, unit, scale = draw(st.sampled_from([("w.step_time", "ms", 50), ("w.mfu", "%", 100), ("w.swing", "kW", 50), ("w.average_power", "kW", 50), ("w.ramp", "MW/s", 2), ("w.step_swing", "kW", 50), ("w.grid_swing", "kW", 50), ("w.storage_shortfall", "J", 100), ("w.start_ramp", "MW/s", 2), ("w.end_ramp", "MW/s", 2)]))
    op = draw(st.sampled_from(["<=", ">="]))
    bound = draw(st.integers(min_value=1, max_value=scale))
    return text + f"check c: {quantity} {op} {bound}{'' if unit.startswith('e') else ' '}{unit}\n"


@_settings(30)
@given(claims(), st.data())
def test_verdicts_are_confirmed_and_bounds_hold_on_samples(text, data):
    result = check_text("d.spec", text, LIMITS)
    assert not result.invalid, [d.header() for d in result.diagnostics]
    verdict = next(v for v in result.verdicts if v.claim.name == "c")
    assume(verdict.status != "unknown")
    replay = result.replays.get("c")
    if verdict.status == "violated":
        assert replay is not None and replay.status == "confirmed", (replay, text)
    else:
        if verdict.worst is not None:
            assert replay is not None and replay.status == "confirmed", (replay, text)
        model = result.model
        assert model is not None
        comparison = verdict.claim.conditions[0]
        for _ in range(5):
            simulation = Simulation(model, points(model, data.draw))
            assert holds(simulation.expr(comparison.left), comparison.op, simulation.expr(comparison.right)), text


# ---- switched networks: every algorithm's closed form against the core, group by group ------


class _Constants:
    """Just enough of an Encoding for the closed forms of checker/encode_network.py."""

    def __init__(self) -> None:
        self.ctx = z3.Context()

    def val(self, x):
        return val(x, self.ctx)


def _exact(term) -> F:
    value = z3.simplify(term)
    assert z3.is_rational_value(value), value
    return F(value.numerator_as_long(), value.denominator_as_long())


@pytest.mark.parametrize("radix", [2, 3, 8, 64])
def test_switch_algorithms_agree_with_the_core_for_every_group_size(radix):
    from checker import encode_network
    from checker.sim.algorithms import allreduce, fastest

    e = _Constants()
    size, latency, bandwidth = F(10**9) + F(1, 3), F(5, 10**6), F(50 * 10**9)
    for n in range(2, 130):
        terms = encode_network.allreduce_terms(e, n, e.val(size), e.val(latency), e.val(bandwidth), radix)
        for name, term in terms.items():
            assert _exact(term) == allreduce(name, n, size, latency, bandwidth, radix).time, (n, name)
        best = encode_network.allreduce(e, "auto", n, e.val(size), e.val(latency), e.val(bandwidth), radix)
        assert _exact(best) == fastest(n, size, latency, bandwidth, radix)[1].time, n


OSCILLATION = """gpu G {{ peak = 1000 TFLOP/s; memory = 80 GB; tdp = 1000 W; idle = 100 W; floor = {floor} }}
cluster c {{ pool g = 16 x G
  network {{ topology = ring; bandwidth = 10 GB/s; latency = 0 s }}
  power {{ band_low = {low}; band_high = {high} }} }}
workload w on c {{ kind = training; params = 1e9; batch = {batch} token; efficiency = 48 %; jitter = 0 % }}
"""


@pytest.mark.parametrize("batch, floor, low, high", [
    ("32e3", "0 W", "0.1 Hz", "20 Hz"), ("200e3", "0 W", "0.1 Hz", "20 Hz"), ("320e3", "50 %", "0.1 Hz", "20 Hz"),
    ("320e3", "0 W", "3 Hz", "20 Hz"), ("777e3", "0 W", "1 Hz", "4 Hz"), ("1e6", "0 W", "0.1 Hz", "1 Hz"),
    ("5e6", "300 W", "0.05 Hz", "20 Hz"), ("9e5", "0 W", "2.5 Hz", "2.5 Hz"),
])
def test_oscillation_agrees_with_the_cores_fourier_sum_within_the_enclosure(batch, floor, low, high):
    """One pool, so the closed form's harmonics are the exact ones: the encoder's upper bound lies
    inside the core's Fourier-sum interval widened by the stated enclosure (2A · 3e-9 / π)."""
    from checker.sim import band_peak

    text = OSCILLATION.format(batch=batch, floor=floor, low=low, high=high)
    model, diagnostics = resolve(parse_text("o.spec", text))
    assert model is not None, [d.header() for d in diagnostics]
    ctx = z3.Context()
    term = z3.simplify(encode(model, ctx).quantity(("w", "oscillation")))
    symbolic = fraction(term)[0]
    run = Simulation(model, Point(())).run(model.block("w"))
    trace = tuple((s.duration, s.power) for s in run._segments)
    power = run.spec.cluster.power
    core_low, core_high = band_peak(trace, power.band_low, power.band_high)
    swing = max(p for _, p in trace) - min(p for _, p in trace)
    assert core_low <= symbolic <= core_high + 2 * swing * F(3, 10**9) / F(3), (batch, float(symbolic), float(core_low))
    assert symbolic == run.oscillation or symbolic > run.oscillation  # the core's value is its interval's low end


def test_an_undecided_oscillation_claim_is_unknown_never_a_pass():
    """A limit between the true amplitude and the closed form's upper bound: the solver finds the
    bound above it, the core's own value below it; the verdict stays open."""
    from checker.sim import band_peak

    text = OSCILLATION.format(batch="32e3", floor="0 W", low="0.1 Hz", high="20 Hz")
    model, _ = resolve(parse_text("o.spec", text))
    ctx = z3.Context()
    symbolic = fraction(z3.simplify(encode(model, ctx).quantity(("w", "oscillation"))))[0]
    run = Simulation(model, Point(())).run(model.block("w"))
    core_low, core_high = band_peak(tuple((s.duration, s.power) for s in run._segments), F(1, 10), F(20))
    assert core_high < symbolic  # the enclosure of the closed form is the wider one
    limit = (core_high + symbolic) / 2  # true amplitude <= core_high < limit < symbolic
    digits = f"{limit.numerator * 10**30 // limit.denominator}"
    stated = F(int(digits), 10**30)
    assert core_high < stated < symbolic
    claim = f"check o: w.oscillation <= {digits[:-30]}.{digits[-30:]} W\n"
    report = check_text("o.spec", text + claim, LIMITS)
    verdict = report.verdicts[0]
    assert verdict.status == "unknown", verdict.status
