"""Hypothesis: the core's contracts at run time, and its agreement with the pinned formulas.

`holds` evaluates a kernel's own PEP 316 `pre:`/`post:` docstring lines (the very text
CrossHair checks), so the run-time and the symbolic checks cannot drift apart.
"""

from __future__ import annotations

import inspect
from fractions import Fraction as F
from math import ceil, log2

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from checker import sim
from checker.sim import (Cohort, Segment, energy, gpu_max_slew, gpu_swing, hierarchical_allreduce,
                         radiated_power, ring_allreduce, site_step_segments, smooth,
                         temperature_for, training_step, transient, tree_allreduce,
                         work_per_gpu)

FAST = settings(max_examples=60, deadline=None)


def _conditions(fn, kind: str) -> list[str]:
    doc = inspect.getdoc(fn) or ""
    return [line.split(":", 1)[1].strip() for line in doc.splitlines()
            if line.strip().startswith(kind + ":")]


def holds(fn, *args) -> None:
    """Call fn if its preconditions hold (else discard the example) and assert every postcondition."""
    names = dict(zip(inspect.signature(fn).parameters, args))
    scope = dict(vars(inspect.getmodule(fn)))
    if not all(eval(pre, {**scope, **names}) for pre in _conditions(fn, "pre")):  # noqa: S307
        assume(False)
    result = fn(*args)
    for post in _conditions(fn, "post"):
        assert eval(post, {**scope, **names, "__return__": result}), (fn.__name__, post)  # noqa: S307


ints = st.integers(-10**6, 10**6)
small = st.integers(0, 10**4)
fracs = st.fractions(min_value=0, max_value=100, max_denominator=50)
positive = st.fractions(min_value=F(1, 50), max_value=100, max_denominator=50)
share = st.fractions(min_value=0, max_value=1, max_denominator=40)


def test_every_kernel_has_a_contract():
    for fn in (sim.later, sim.stretch, sim.exposed, sim.track, sim.energy_units, sim.toward,
               sim.broadcast_round):
        assert _conditions(fn, "post"), fn.__name__


@FAST
@given(ints, ints)
def test_later_contract(a, b):
    holds(sim.later, a, b)


@FAST
@given(small, small, st.integers(1, 10**4))
def test_stretch_contract(base, jitter, unit):
    holds(sim.stretch, base, jitter, unit)


@FAST
@given(small, small, st.integers(1, 10**4))
def test_exposed_contract(comm, overlap, unit):
    holds(sim.exposed, comm, overlap, unit)


@FAST
@given(st.lists(ints, min_size=3, max_size=3).map(sorted), ints, st.none() | small)
def test_track_contract(levels, demand, limit):
    floor, prev, cap = levels
    holds(sim.track, prev, demand, floor, cap, limit)


@FAST
@given(st.lists(st.tuples(small, ints), max_size=6).map(tuple))
def test_energy_units_contract(trace):
    holds(sim.energy_units, trace)


@FAST
@given(ints, ints, st.integers(1, 10**6))
def test_toward_contract(x, num, den):
    holds(sim.toward, x, num, den)


@FAST
@given(st.integers(1, 10**6), st.integers(2, 10**6))
def test_broadcast_round_contract(informed, n):
    holds(sim.broadcast_round, informed, n)


# --- agreement with the pinned formulas ---------------------------------------------------

@FAST
@given(st.integers(1, 300), fracs, fracs, positive)
def test_ring_matches_the_formula(n, size, alpha, bandwidth):
    t = ring_allreduce(n, size, alpha, bandwidth)
    assert t.time == 2 * (n - 1) * alpha + F(2 * (n - 1), n) * size / bandwidth
    assert t.hops == 2 * (n - 1)


@FAST
@given(st.integers(2, 5000), fracs, fracs, positive)
def test_tree_matches_the_formula(n, size, alpha, bandwidth):
    height = ceil(log2(n))  # the pinned ceil(log2 n); the simulation never calls log2
    assert tree_allreduce(n, size, alpha, bandwidth).time == 2 * height * alpha + 2 * size / bandwidth


@FAST
@given(st.integers(1, 12), st.integers(1, 12), fracs, fracs, positive, fracs, positive)
def test_hierarchical_matches_the_formula(g, m, size, ad, bd, alpha, bandwidth):
    t = hierarchical_allreduce(g * m, g, size, ad, bd, alpha, bandwidth)
    assert t.time == (2 * ((g - 1) * ad + F(g - 1, g) * size / bd) + 2 * (m - 1) * alpha
                      + F(2 * (m - 1), m) * (size / g) / bandwidth)


cohort = st.builds(Cohort, st.sampled_from("abc"), st.integers(1, 5), positive,
                   st.fractions(min_value=0, max_value=F(1, 2), max_denominator=20))
fleets = st.lists(cohort, min_size=1, max_size=4).map(tuple)
balances = st.sampled_from(["uniform", "proportional"])


@FAST
@given(fleets, positive, balances)
def test_work_adds_up(fleet, flops, balance):
    work = work_per_gpu(fleet, flops, balance)
    assert sum(c.count * w for c, w in zip(fleet, work)) == flops


@FAST
@given(fleets, positive, positive, balances, fracs, share)
def test_training_step_matches_the_formula(fleet, flops, eff, balance, comm, overlap):
    step = training_step(fleet, flops, eff, balance, comm, overlap)
    n = sum(c.count for c in fleet)
    weight = sum(c.count * c.peak for c in fleet)
    f = [flops / n if balance == "uniform" else flops * c.peak / weight for c in fleet]
    t = [fc / (c.peak * eff) * (1 + c.jitter) for fc, c in zip(f, fleet)]
    assert step.finish == tuple(t)
    assert step.compute_time == max(t) and step.compute_time in step.finish
    assert step.step_time == max(t) + (1 - overlap) * comm


@FAST
@given(fleets, positive, positive, balances, fracs, share, st.data())
def test_more_jitter_never_shortens_a_step(fleet, flops, eff, balance, comm, overlap, data):
    i = data.draw(st.integers(0, len(fleet) - 1))
    extra = data.draw(positive)
    grown = fleet[:i] + (Cohort(fleet[i].pool, fleet[i].count, fleet[i].peak,
                                fleet[i].jitter + extra),) + fleet[i + 1:]
    before = training_step(fleet, flops, eff, balance, comm, overlap)
    after = training_step(grown, flops, eff, balance, comm, overlap)
    assert after.step_time >= before.step_time
    assert after.finish[i] > before.finish[i]


levels = st.tuples(st.integers(1, 2000), st.integers(0, 2000), st.integers(0, 2000)).filter(
    lambda v: v[1] <= v[0] and v[2] <= v[0])


@FAST
@given(st.lists(st.fractions(0, 2000, max_denominator=10), max_size=12).map(tuple),
       positive, levels, st.none() | positive, st.data())
def test_smooth_stays_in_bounds_and_slew(demand, tick, lv, ramp, data):
    tdp, _, floor = (F(v) for v in lv)
    start = data.draw(st.fractions(floor, tdp, max_denominator=10))
    out = smooth(demand, tick, floor, ramp, tdp, start)
    assert len(out) == len(demand)
    assert all(floor <= p <= tdp for p in out)
    if ramp is None:
        assert out == tuple(min(tdp, max(floor, d)) for d in demand)
    else:
        assert all(abs(b - a) <= ramp * tick for a, b in zip((start,) + out, out))


@FAST
@given(levels, st.none() | positive, st.integers(1, 40))
def test_swing_and_slew_match_the_formulas(lv, ramp, ticks):
    tdp, idle, floor = (F(v) for v in lv)
    low = max(idle, floor)
    assert gpu_swing(tdp, idle, floor) == tdp - low
    natural = (tdp - low) * 20  # over a 50 ms transition
    expected = natural if ramp is None else min(ramp, natural)
    assert gpu_max_slew(tdp, idle, floor, ramp, F(1, 20), ticks) == expected


segments = st.lists(st.builds(Segment, positive, fracs), max_size=6).map(tuple)


@FAST
@given(segments, segments)
def test_energy_is_the_sum_over_phases(a, b):
    assert energy(a + b) == energy(a) + energy(b)
    assert energy(a) == sum((s.duration * s.power for s in a), F(0))


@FAST
@given(st.lists(st.tuples(st.integers(0, 9), fracs, fracs, fracs), min_size=1, max_size=4),
       positive)
def test_site_energy_is_every_gpu_energy(cohorts, step):
    rows = tuple((n, min(c, step), tdp, low) for n, c, tdp, low in cohorts)
    site = site_step_segments(rows, step)
    assert sum(s.duration for s in site) == step
    assert energy(site) == sum(n * (c * tdp + (step - c) * low) for n, c, tdp, low in rows)


@settings(max_examples=25, deadline=None)
@given(positive, st.fractions(F(1, 10), 1, max_denominator=20), positive,
       st.fractions(0, 50, max_denominator=4))
def test_temperature_for_hits_the_heat(heat, eps, area, sink):
    tol = F(1, 10**9)
    t = temperature_for(heat * 1000, eps, area, sink, 2, tol)
    assert t > sink
    assert abs(radiated_power(area, eps, t, sink, 2) - heat * 1000) <= tol * heat * 1000


@settings(max_examples=15, deadline=None)
@given(st.integers(100, 2000), st.integers(0, 400), st.integers(1, 20))
def test_transient_is_monotone_without_overshoot(area, start, dt):
    heat, eps, sink, cap = F(10**6), F(9, 10), F(3), F(10**7)
    try:
        states = transient(heat, eps, F(area), sink, 2, cap, F(start), F(dt), 30)
    except ValueError:
        assume(False)
    path = (F(start),) + states
    rising = path[-1] >= path[0]
    assert all((b >= a) if rising else (b <= a) for a, b in zip(path, path[1:]))
    side = (lambda s: radiated_power(F(area), eps, s, sink, 2) <= heat) if rising else (
        lambda s: radiated_power(F(area), eps, s, sink, 2) >= heat)
    assert all(side(s) for s in states)
