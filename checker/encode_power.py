"""Closed forms of a job's start and end (staged) and of the step's oscillation inside the
grid's band (spec/semantics.md, "Job start and end" and "Oscillation in the grid's band")."""

from __future__ import annotations

from fractions import Fraction

import z3

from checker import model as m
from checker.encode import Encoding, _max, _min, symbolic

# π between two rationals: its decimal expansion 3.14159265358979323846… cut at 10 digits
PI_LOW, PI_HIGH = Fraction(31415926535, 10**10), Fraction(31415926536, 10**10)
SINE_TERMS = 7  # Taylor terms of sin: up to x^13; the Lagrange remainder is |x|^15 / 15!
HARMONICS = 64  # harmonics taken one by one; above them each is bounded by 2A / (kπ)


def _factorial(n: int) -> int:
    out = 1
    for k in range(2, n + 1):
        out *= k
    return out


def _start_rate(e: Encoding, w: m.Workload, g: m.Gpu, limit: m.Param | None) -> z3.ArithRef:
    """A GPU's rate between idle and tdp: its limit, never faster than it moves unsmoothed."""
    natural = (e.param(g.tdp) - e.param(g.idle)) / e.param(w.cluster.power.transition)
    return natural if limit is None else _min([e.param(limit), natural])


def _staged(e: Encoding, w: m.Workload, rising: bool) -> z3.ArithRef:
    """Σ_c (N_c / S) · r_c · #{k < S : tdp_c − idle_c > k · gap · r_c}, gap = start_time / S:
    the stages still moving when the last one starts, each an equal share of every pool."""
    power = w.cluster.power
    stages = power.start_stages or 1
    gap = (e.val(0) if power.start_time is None else e.param(power.start_time)) / e.val(stages)
    terms = []
    for p in w.cluster.pools:
        g = p.gpu
        rate = _start_rate(e, w, g, (g.ramp_up if rising else g.ramp_down) or g.ramp)
        span = e.param(g.tdp) - e.param(g.idle)
        moving = z3.Sum([z3.If(span > e.val(k) * gap * rate, e.val(1), e.val(0)) for k in range(stages)])
        terms.append(e.val(Fraction(p.count, stages)) * rate * moving)
    return z3.Sum(terms)


@symbolic("training", "start_ramp")
@symbolic("transformer", "start_ramp")
def _start_ramp(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return _staged(e, w, rising=True)


@symbolic("training", "end_ramp")
@symbolic("transformer", "end_ramp")
def _end_ramp(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return _staged(e, w, rising=False)
