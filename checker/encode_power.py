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


def _sine_bound(e: Encoding, m_: z3.ArithRef, upper: bool) -> z3.ArithRef:
    """A bound on sin(π·m) for 0 <= m <= 1/2 from the Taylor terms up to x^13 and the
    Lagrange remainder, each term's power of π taken at the enclosure's end that moves the
    bound outward (upper: π_high for added terms, π_low for subtracted ones)."""
    total = e.val(0)
    for j in range(SINE_TERMS):
        n = 2 * j + 1
        adds = j % 2 == 0
        pi = PI_HIGH if adds == upper else PI_LOW
        term = e.val(pi ** n / _factorial(n)) * m_ ** n
        total = total + term if adds else total - term
    n = 2 * SINE_TERMS + 1
    rest = e.val(PI_HIGH ** n / _factorial(n)) * m_ ** n
    return total + rest if upper else total - rest


def abs_sine_upper(e: Encoding, x: z3.ArithRef) -> z3.ArithRef:
    """An upper bound on |sin(π·x)| for x >= 0: x reduced to m = distance to the nearest whole
    number (|sin(π·x)| = sin(π·m), 0 <= m <= 1/2), then `_sine_bound`, capped at 1."""
    frac = x - z3.ToReal(z3.ToInt(x))
    m_ = _min([frac, 1 - frac])
    return _min([e.val(1), _sine_bound(e, m_, upper=True)])


@symbolic("training", "oscillation")
def _oscillation(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    """max over harmonics k in the band of Σ_c 2·A_c·|sin(π k D_c)| / (π k), bounded above
    (spec/semantics.md, "Oscillation in the grid's band")."""
    power = w.cluster.power
    step = e.quantity((w.name, "step_time"))
    pools = [(e.val(p.count) * (e.param(p.gpu.tdp) - e.low(p.gpu)), e.quantity((w.name, "pool_time", p.name)) / step)
             for p in w.cluster.pools]
    low = None if power.band_low is None else e.param(power.band_low) * step
    high = None if power.band_high is None else e.param(power.band_high) * step
    found = [e.val(0)]
    for k in range(1, HARMONICS + 1):
        inside = [c for c in (None if low is None else low <= k, None if high is None else high >= k) if c is not None]
        amplitude = z3.Sum([2 * a * abs_sine_upper(e, e.val(k) * d) for a, d in pools]) / e.val(k * PI_LOW)
        found.append(z3.If(z3.And(*inside), amplitude, e.val(0)) if inside else amplitude)
    # above the harmonics taken one by one, each is at most 2 A / (k π) <= 2 A / ((K + 1) π)
    tail = z3.Sum([2 * a for a, _ in pools]) / e.val((HARMONICS + 1) * PI_LOW)
    found.append(tail if high is None else z3.If(high >= HARMONICS + 1, tail, e.val(0)))
    return _max(found)
