"""Differential tests: the Z3 encoding and the simulation core agree on generated models.

Hypothesis generates small clusters (1-4 pools of 1-64 GPUs, every topology and balance,
ranges on jitter, floor, emissivity, sink) and checks that
- every quantity, evaluated at random points of the ranges, is the same in both semantics;
- a proved bound is never exceeded by sampled simulator runs;
- every counterexample is confirmed by the simulation, every worst case reproduced.
scripts/mutate.py shows these tests catch deliberate mistakes in the encoder.
"""

from __future__ import annotations

from fractions import Fraction as F

import z3
import os

from hypothesis import HealthCheck, Phase, assume, given, settings, strategies as st

from checker import model as m
from checker.api import check_text
from checker.encode import encode, val
from checker.parse import parse_text
from checker.replay import Simulation, holds
from checker.resolve import resolve
from checker.solve import Limits, Point, fraction

# scripts/mutate.py only needs to know that a test fails, not the smallest failing model
PHASES = (Phase.explicit, Phase.generate) if os.environ.get("DIFFERENTIAL_NO_SHRINK") else tuple(Phase)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True, phases=PHASES)
LIMITS = Limits(timeout_ms=5_000)

percent = st.integers(min_value=0, max_value=100)


@st.composite
def clusters(draw) -> str:
    pools = draw(st.integers(min_value=1, max_value=4))
    topology = draw(st.sampled_from(["ring", "tree", "hierarchical"]))
    domain = draw(st.sampled_from([1, 2, 4]))
    counts = [draw(st.integers(min_value=1, max_value=16)) * (domain if topology == "hierarchical" else 1) for _ in range(pools)]
    lines = []
    for i in range(pools):
        peak = draw(st.sampled_from([312, 989, 1307, 2500]))
        tdp = draw(st.sampled_from([400, 700, 1000, 1200]))
        idle = draw(st.integers(min_value=0, max_value=tdp // 100)) * 50 % tdp
        lo, hi = sorted(draw(st.tuples(percent, percent)))
        floor = draw(st.sampled_from(["", f"; floor = {lo} % .. {hi} %", f"; floor = {idle + 10} W"]))
        ramp = draw(st.sampled_from(["", "; ramp = 2 kW/s", "; ramp = 500 W/s .. 8 kW/s"]))
        lines.append(f"gpu G{i} {{ peak = {peak} TFLOP/s; memory = 1 TB; tdp = {tdp} W; idle = {idle} W{floor}{ramp} }}")
    pool_lines = "\n".join(f"  pool p{i} = {c} x G{i}" for i, c in enumerate(counts))
    extra = f"; domain = {domain}; domain_bandwidth = 450 GB/s; domain_latency = 2 us" if topology == "hierarchical" else ""
    bandwidth = draw(st.sampled_from(["50 GB/s", "25 GB/s .. 100 GB/s"]))
    j_lo, j_hi = sorted(draw(st.tuples(st.integers(0, 20), st.integers(0, 20))))
    balance = draw(st.sampled_from(["uniform", "proportional"]))
    overlap = draw(st.sampled_from(["0 %", "50 %", "10 % .. 90 %"]))
    lines.append(
        f"cluster c {{\n{pool_lines}\n  network {{ topology = {topology}; bandwidth = {bandwidth}; latency = 5 us{extra} }}\n"
        f"  power {{ pue = 1.2; overhead = 10 %; transition = 50 ms }}\n}}"
    )
    lines.append(
        f"workload w on c {{ kind = training; params = 1e9; batch = 1e6 token; efficiency = 30 % .. 50 %; "
        f"balance = {balance}; jitter = {j_lo} % .. {j_hi} %; overlap = {overlap} }}"
    )
    return "\n".join(lines) + "\n"


@st.composite
def radiators(draw) -> str:
    lo, hi = sorted(draw(st.tuples(st.integers(50, 100), st.integers(50, 100))))
    s_lo, s_hi = sorted(draw(st.tuples(st.integers(0, 200), st.integers(0, 200))))
    sides = draw(st.sampled_from([1, 2]))
    given_field = draw(st.sampled_from(["temperature = 300 K .. 400 K", "area = 500 m^2 .. 2000 m^2", "temperature = 330 K"]))
    return f"radiator r {{ heat = 1 MW; emissivity = {lo} % .. {hi} %; sink = {s_lo} K .. {s_hi} K; sides = {sides}; {given_field} }}\n"


def quantities(model: m.Model) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for block in model.blocks:
        if isinstance(block, m.Radiator):
            out += [(block.name, q) for q in ("area", "temperature", "flux")]
        elif isinstance(block, m.Cluster):
            out += [(block.name, "gpus"), (block.name, "peak"), (block.name, "power", "draw")]
        elif isinstance(block, m.Workload):
            out += [(block.name, q) for q in ("compute_time", "comm_time", "step_time", "mfu", "throughput", "memory_per_gpu", "swing", "ramp", "floor_cost", "average_power", "energy_per_step", "energy_per_token")]
            for pool in block.cluster.pools:
                out += [(block.name, "wait", pool.name), (block.name, "pool_time", pool.name)]
    return out


def points(model: m.Model, draw) -> Point:
    values = []
    for unknown in model.unknowns:
        t = draw(st.fractions(min_value=0, max_value=1, max_denominator=1000))
        values.append((unknown.id, unknown.low + (unknown.high - unknown.low) * t))
    return Point(tuple(values))


def both(text: str, data) -> None:
    model, diagnostics = resolve(parse_text("d.spec", text))
    assert model is not None, [d.header() for d in diagnostics]
    ctx = z3.Context()
    enc = encode(model, ctx)
    for _ in range(3):
        point = points(model, data.draw)
        subs = [(enc.variables[uid], val(value, ctx)) for uid, value in point.values]
        simulation = Simulation(model, point)
        for path in quantities(model):
            term = enc.quantity(path)
            solver = z3.Solver(ctx=ctx)
            for name, definition in enc.definitions:
                solver.add(z3.substitute(definition, *subs) if subs else definition)
            solver.add(z3.Real("probe", ctx) == (z3.substitute(term, *subs) if subs else term))
            assert solver.check() == z3.sat
            symbolic = fraction(solver.model().eval(z3.Real("probe", ctx), model_completion=True))[0]
            simulated = simulation.quantity(path)
            tolerance = F(1, 10**9) * max(abs(simulated), F(1))
            assert abs(symbolic - simulated) <= tolerance, (path, float(symbolic), float(simulated), point)


@SETTINGS
@given(clusters(), st.data())
def test_every_cluster_quantity_agrees_at_random_points(text, data):
    both(text, data)


@SETTINGS
@given(radiators(), st.data())
def test_every_radiator_quantity_agrees_at_random_points(text, data):
    both(text, data)


@st.composite
def claims(draw) -> str:
    text = draw(st.one_of(clusters(), radiators()))
    if text.startswith("radiator"):
        quantity, unit, scale = draw(st.sampled_from([("r.area", "m^2", 2000), ("r.temperature", "K", 500), ("r.flux", "W/m^2", 2000)]))
    else:
        quantity, unit, scale = draw(st.sampled_from([("w.step_time", "ms", 50), ("w.mfu", "%", 100), ("w.swing", "kW", 50), ("w.average_power", "kW", 50), ("w.ramp", "MW/s", 2)]))
    op = draw(st.sampled_from(["<=", ">="]))
    bound = draw(st.integers(min_value=1, max_value=scale))
    return text + f"check c: {quantity} {op} {bound} {unit}\n"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True, phases=PHASES)
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
