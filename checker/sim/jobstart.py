"""A job's start and end, stage by stage, stepped through the smoothing controller.

A job starts in S stages, one every `gap` seconds, each an equal share of every pool's GPUs.
At its start a stage's GPUs want tdp at once; the controller (`track_rates`, checker/sim/
smoothing.py) lets them rise at most at their ramp-up rate, and never faster than the GPU's
own slew, (tdp - idle) / transition. The end mirrors it: the stages stop in turn and fall to
idle at the ramp-down rate. The site's power is stepped event to event: a stage starting, or a
stage's controller reaching its target (found by stepping, one tick of the phase's length).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .exact import common_denominator, on_grid
from .smoothing import track_rates

__all__ = ["StageGroup", "staged_trace", "staged_ramp"]


@dataclass(frozen=True, slots=True)
class StageGroup:
    """One pool's share of a stage: `count` GPUs (a share of the pool, maybe fractional)
    moving from `start` to `end` W at most `rate` W/s (None: at once)."""

    count: Fraction
    start: Fraction
    end: Fraction
    rate: Fraction | None


def _tick(out: Fraction, group: StageGroup, dt: Fraction) -> Fraction:
    """One controller tick of length dt for one GPU of the group (integers on a common grid)."""
    low, high = min(group.start, group.end), max(group.start, group.end)
    limit = None if group.rate is None else group.rate * dt
    unit = common_denominator((out, low, high) + (() if limit is None else (limit,)))
    rising = group.end >= group.start
    step = None if limit is None else on_grid(limit, unit)
    moved = track_rates(on_grid(out, unit), on_grid(group.end, unit), on_grid(low, unit), on_grid(high, unit),
                        step if rising else None, None if rising else step)
    return Fraction(moved, unit)


def staged_trace(groups: tuple[StageGroup, ...], stages: int,
                 gap: Fraction) -> tuple[tuple[Fraction, Fraction], ...]:
    """The site's power (sum over stages and groups) at every event: (time s, power W)."""
    if stages < 1 or gap < 0 or any(g.count < 0 or (g.rate is not None and g.rate < 0) for g in groups):
        raise ValueError("need stages >= 1, gap >= 0, counts >= 0 and rates >= 0")
    outs = [[g.start for g in groups] for _ in range(stages)]  # per stage, per group: one GPU's power
    started, now = 0, Fraction(0)

    def site() -> Fraction:
        return sum((g.count * outs[s][i] for s in range(stages) for i, g in enumerate(groups)), Fraction(0))

    trace = [(now, site())]
    while True:
        while started < stages and started * gap <= now:
            started += 1
        moving = [(s, i) for s in range(started) for i, g in enumerate(groups) if outs[s][i] != g.end]
        if not moving and started == stages:
            return tuple(trace)
        ends = [started * gap] if started < stages else []
        if any(groups[i].rate is None for _, i in moving):
            ends.append(now)  # an unlimited controller reaches its target at once
        ends += [now + abs(groups[i].end - outs[s][i]) / groups[i].rate for s, i in moving
                 if groups[i].rate not in (None, 0)]
        if not ends:  # stuck: a rate of 0 never reaches its target
            return tuple(trace)
        nxt = min(ends)
        dt = nxt - now
        for s, i in moving:
            if dt > 0 or groups[i].rate is None:
                outs[s][i] = _tick(outs[s][i], groups[i], dt) if groups[i].rate is not None else groups[i].end
        now = nxt
        trace.append((now, site()))


def staged_ramp(groups: tuple[StageGroup, ...], stages: int, gap: Fraction) -> Fraction | None:
    """The fastest |dP/dt| of the site's power over the staged start (or end); None when some
    group moves at once (an unbounded rate)."""
    trace = staged_trace(groups, stages, gap)
    fastest = Fraction(0)
    for (t0, p0), (t1, p1) in zip(trace, trace[1:]):
        if t1 == t0 and p1 != p0:
            return None
        if t1 > t0:
            fastest = max(fastest, abs(p1 - p0) / (t1 - t0))
    return fastest


class StartEnd:
    """`start_ramp` and `end_ramp` of a synchronous job on a cluster (`spec.cluster`)."""

    spec: object  # with a `cluster: ClusterSpec`

    def _staged(self, rising: bool) -> Fraction:
        power = self.spec.cluster.power
        stages = power.start_stages or 1
        gap = (power.start_time or Fraction(0)) / stages
        groups = []
        for p in self.spec.cluster.pools:
            g = p.gpu
            own = (g.tdp - g.idle) / power.transition  # the GPU's own slew, unsmoothed
            limit = (g.ramp_up if rising else g.ramp_down)
            limit = g.ramp if limit is None else limit
            rate = own if limit is None else min(limit, own)
            start, end = (g.idle, g.tdp) if rising else (g.tdp, g.idle)
            groups.append(StageGroup(Fraction(p.count, stages), start, end, rate))
        fastest = staged_ramp(tuple(groups), stages, gap)
        assert fastest is not None  # every rate is finite: transition > 0
        return fastest

    @property
    def start_ramp(self) -> Fraction:
        return self._staged(rising=True)

    @property
    def end_ramp(self) -> Fraction:
        return self._staged(rising=False)
