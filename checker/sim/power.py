"""GPU and site power, replayed as piecewise-constant traces and tick-by-tick controllers.

A GPU draws tdp while it computes and drops to low = max(idle, floor) while it waits or
exchanges gradients. A power-smoothing controller (NVML-style: a floor and a slew limit)
sits between what the GPU would draw and what the site sees. The contract-bearing integer
kernels are `track` (one controller tick) and `energy_units` (energy of a trace).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .exact import as_fraction, common_denominator, on_grid

__all__ = [
    "Segment", "gpu_step_segments", "merge_traces", "site_step_segments", "energy",
    "average_power", "smooth", "gpu_swing_trace", "gpu_swing", "gpu_slew_trace",
    "gpu_max_slew", "site_swing", "site_ramp", "track", "energy_units",
]


@dataclass(frozen=True, slots=True)
class Segment:
    """A phase of constant power (W) lasting `duration` seconds."""

    duration: Fraction
    power: Fraction


# --- integer kernels (CrossHair-checked, PEP 316) ---------------------------------------

def track(prev: int, demand: int, floor: int, cap: int, limit: int | None) -> int:
    """One controller tick: head for demand clamped to [floor, cap], moving at most `limit`.

    pre: floor <= prev <= cap
    pre: limit is None or limit >= 0
    post: floor <= __return__ <= cap
    post: limit is None or abs(__return__ - prev) <= limit
    post: min(prev, max(floor, min(cap, demand))) <= __return__
    post: __return__ <= max(prev, max(floor, min(cap, demand)))
    post: limit is not None or __return__ == max(floor, min(cap, demand))
    """
    target = max(floor, min(cap, demand))
    if limit is None:
        return target
    if target > prev + limit:
        return prev + limit
    if target < prev - limit:
        return prev - limit
    return target


def energy_units(trace: tuple[tuple[int, int], ...]) -> int:
    """Energy of a trace of (duration, power) phases, accumulated phase by phase.

    post: all(energy_units(trace[:k]) + energy_units(trace[k:]) == __return__ for k in range(len(trace) + 1))
    post: len(trace) != 1 or __return__ == trace[0][0] * trace[0][1]
    """
    total = 0
    for duration, power in trace:
        total += duration * power
    return total


# --- traces -----------------------------------------------------------------------------

def gpu_step_segments(compute: Fraction, step: Fraction, tdp: Fraction,
                      low: Fraction) -> tuple[Segment, ...]:
    """One GPU over one step, switching instantly: tdp while computing, low for the rest."""
    compute, step = as_fraction(compute, "compute"), as_fraction(step, "step")
    if not 0 <= compute <= step:
        raise ValueError("need 0 <= compute <= step")
    phases = (Segment(compute, as_fraction(tdp, "tdp")),
              Segment(step - compute, as_fraction(low, "low")))
    return tuple(s for s in phases if s.duration > 0)


def merge_traces(traces: tuple[tuple[Segment, ...], ...],
                 weights: tuple[int, ...]) -> tuple[Segment, ...]:
    """Sweep a timeline carrying `weights[i]` copies of trace i; adjacent equal powers merge."""
    if len(traces) != len(weights):
        raise ValueError("one weight per trace")
    live = [[s for s in trace if s.duration > 0] for trace in traces]
    if len({sum((s.duration for s in t), Fraction(0)) for t in live}) > 1:
        raise ValueError("traces must cover the same span of time")
    at = [0] * len(live)
    left = [t[0].duration if t else Fraction(0) for t in live]
    merged: list[Segment] = []
    while live and at[0] < len(live[0]):
        span = min(left)
        power = sum((w * t[i].power for w, t, i in zip(weights, live, at)), Fraction(0))
        if merged and merged[-1].power == power:
            merged[-1] = Segment(merged[-1].duration + span, power)
        else:
            merged.append(Segment(span, power))
        for k, trace in enumerate(live):
            left[k] -= span
            if left[k] == 0:
                at[k] += 1
                left[k] = trace[at[k]].duration if at[k] < len(trace) else Fraction(0)
    return tuple(merged)


def site_step_segments(cohorts_power: tuple[tuple[int, Fraction, Fraction, Fraction], ...],
                       step: Fraction) -> tuple[Segment, ...]:
    """The site's IT power over one step; entries are (count, compute_time, tdp, low)."""
    traces = tuple(gpu_step_segments(compute, step, tdp, low)
                   for _, compute, tdp, low in cohorts_power)
    return merge_traces(traces, tuple(count for count, *_ in cohorts_power))


def energy(segments: tuple[Segment, ...]) -> Fraction:
    """Sum of duration * power over the phases (J)."""
    durations = tuple(as_fraction(s.duration, "duration") for s in segments)
    powers = tuple(as_fraction(s.power, "power") for s in segments)
    time_unit, power_unit = common_denominator(durations), common_denominator(powers)
    units = energy_units(tuple((on_grid(d, time_unit), on_grid(p, power_unit))
                               for d, p in zip(durations, powers)))
    return Fraction(units, time_unit * power_unit)


def average_power(segments: tuple[Segment, ...]) -> Fraction:
    """Energy over the total duration (W); the trace must last some time."""
    total = sum((as_fraction(s.duration, "duration") for s in segments), Fraction(0))
    if total <= 0:
        raise ValueError("the trace must have a positive duration")
    return energy(segments) / total


# --- the smoothing controller -----------------------------------------------------------

def smooth(demand: tuple[Fraction, ...], tick: Fraction, floor: Fraction,
           ramp: Fraction | None, tdp: Fraction, start: Fraction) -> tuple[Fraction, ...]:
    """Run the controller at a fixed tick from output `start`: one output per demand sample,
    within [floor, tdp], changing by at most ramp * tick per tick (ramp None: unlimited)."""
    tick, floor, tdp = as_fraction(tick, "tick"), as_fraction(floor, "floor"), as_fraction(tdp, "tdp")
    start = as_fraction(start, "start")
    if tick <= 0 or not floor <= start <= tdp or (ramp is not None and ramp < 0):
        raise ValueError("need tick > 0, floor <= start <= tdp and ramp >= 0")
    limit = None if ramp is None else as_fraction(ramp, "ramp") * tick
    wanted = tuple(as_fraction(d, "demand") for d in demand)
    unit = common_denominator(wanted + (floor, tdp, start) + (() if limit is None else (limit,)))
    low, cap = on_grid(floor, unit), on_grid(tdp, unit)
    step_limit = None if limit is None else on_grid(limit, unit)
    out = on_grid(start, unit)
    trace = []
    for sample in wanted:
        out = track(out, on_grid(sample, unit), low, cap, step_limit)
        trace.append(Fraction(out, unit))
    return tuple(trace)


def _levels(tdp: Fraction, idle: Fraction, floor: Fraction) -> tuple[Fraction, Fraction, Fraction]:
    tdp, idle, floor = (as_fraction(tdp, "tdp"), as_fraction(idle, "idle"),
                        as_fraction(floor, "floor"))
    if not (0 <= idle <= tdp and 0 <= floor <= tdp):
        raise ValueError("need 0 <= idle <= tdp and 0 <= floor <= tdp")
    return tdp, idle, floor


def gpu_swing_trace(tdp: Fraction, idle: Fraction, floor: Fraction) -> tuple[Fraction, ...]:
    """A GPU computing for two ticks then exchanging gradients for two, through the
    controller with unlimited ramp (its output, starting at tdp)."""
    tdp, idle, floor = _levels(tdp, idle, floor)
    return (tdp,) + smooth((tdp, tdp, idle, idle), Fraction(1), floor, None, tdp, tdp)


def gpu_swing(tdp: Fraction, idle: Fraction, floor: Fraction) -> Fraction:
    """max - min of one GPU's controlled power from compute to communication."""
    trace = gpu_swing_trace(tdp, idle, floor)
    return max(trace) - min(trace)


def gpu_slew_trace(tdp: Fraction, idle: Fraction, floor: Fraction, ramp: Fraction | None,
                   transition: Fraction, ticks: int) -> tuple[Fraction, ...]:
    """The controller's output while the unsmoothed GPU falls linearly from tdp to
    low = max(idle, floor) over `transition` seconds, sampled every transition/ticks."""
    tdp, idle, floor = _levels(tdp, idle, floor)
    transition = as_fraction(transition, "transition")
    if ticks < 1 or transition <= 0:
        raise ValueError("need ticks >= 1 and transition > 0")
    low = max(idle, floor)
    demand = tuple(tdp - (tdp - low) * Fraction(k, ticks) for k in range(1, ticks + 1))
    return (tdp,) + smooth(demand, transition / ticks, floor, ramp, tdp, tdp)


def _max_rate(trace: tuple[Fraction, ...], tick: Fraction) -> Fraction:
    return max((abs(b - a) / tick for a, b in zip(trace, trace[1:])), default=Fraction(0))


def gpu_max_slew(tdp: Fraction, idle: Fraction, floor: Fraction, ramp: Fraction | None,
                 transition: Fraction, ticks: int) -> Fraction:
    """Largest |dP|/dt (W/s) of one GPU's controlled power over the transition."""
    trace = gpu_slew_trace(tdp, idle, floor, ramp, transition, ticks)
    return _max_rate(trace, as_fraction(transition, "transition") / ticks)


def _weighted_sum(traces: tuple[tuple[Fraction, ...], ...],
                  counts: tuple[int, ...]) -> tuple[Fraction, ...]:
    if any(c < 0 for c in counts):
        raise ValueError("counts must be >= 0")
    length = len(traces[0]) if traces else 0
    return tuple(sum((c * t[k] for c, t in zip(counts, traces)), Fraction(0))
                 for k in range(length))


def site_swing(cohorts: tuple[tuple[int, Fraction, Fraction, Fraction], ...]) -> Fraction:
    """max - min of the site's power, every GPU switching at once; entries are
    (count, tdp, idle, floor)."""
    site = _weighted_sum(tuple(gpu_swing_trace(t, i, f) for _, t, i, f in cohorts),
                         tuple(c for c, *_ in cohorts))
    return max(site) - min(site) if site else Fraction(0)


def site_ramp(cohorts: tuple[tuple[int, Fraction, Fraction, Fraction, Fraction | None], ...],
              transition: Fraction, ticks: int) -> Fraction:
    """Largest |dP|/dt of the site's power, every GPU switching at once; entries are
    (count, tdp, idle, floor, ramp)."""
    site = _weighted_sum(tuple(gpu_slew_trace(t, i, f, r, transition, ticks)
                               for _, t, i, f, r in cohorts),
                         tuple(c for c, *_ in cohorts))
    return _max_rate(site, as_fraction(transition, "transition") / ticks)
