"""Power smoothing as NVML exposes it: separate ramp-up and ramp-down rates, a ramp-down
hysteresis, and what they leave of a GPU's drop within one training step.

The contract-bearing integer kernels are `track_rates` (one controller tick with a rate for
each direction) and `hold_track` (the same tick behind a ramp-down hysteresis). The drop within
a step is replayed phase by phase through `track` (checker/sim/power.py): the hold, then the
ramp down for the rest of the wait, each one controller step of the phase's length.
"""

from __future__ import annotations

from fractions import Fraction

from .exact import as_fraction, common_denominator, on_grid
from .power import smooth

__all__ = ["track_rates", "hold_track", "slew_traces", "max_slews", "wait_drop"]


# --- integer kernels (CrossHair-checked, PEP 316) ---------------------------------------

def track_rates(prev: int, demand: int, floor: int, cap: int, up: int | None,
                down: int | None) -> int:
    """One controller tick: head for demand clamped to [floor, cap], rising at most `up` and
    falling at most `down` (None: unlimited in that direction).

    pre: floor <= prev <= cap
    pre: up is None or up >= 0
    pre: down is None or down >= 0
    post: floor <= __return__ <= cap
    post: up is None or __return__ - prev <= up
    post: down is None or prev - __return__ <= down
    post: min(prev, max(floor, min(cap, demand))) <= __return__
    post: __return__ <= max(prev, max(floor, min(cap, demand)))
    """
    target = max(floor, min(cap, demand))
    if target > prev:
        return target if up is None else min(target, prev + up)
    return target if down is None else max(target, prev - down)


def hold_track(prev: int, demand: int, floor: int, cap: int, up: int | None, down: int | None,
               below: int, hold: int) -> tuple[int, int]:
    """One tick behind a ramp-down hysteresis of `hold` ticks: the output falls only once the
    target has stayed below it for `hold` ticks before this one (`below` counts them). Returns
    (output, the new count).

    pre: floor <= prev <= cap
    pre: up is None or up >= 0
    pre: down is None or down >= 0
    pre: below >= 0 and hold >= 0
    post: floor <= __return__[0] <= cap
    post: up is None or __return__[0] - prev <= up
    post: down is None or prev - __return__[0] <= down
    post: __return__[0] >= prev or below >= hold
    post: __return__[1] >= 0
    """
    target = max(floor, min(cap, demand))
    if target >= prev:
        return track_rates(prev, demand, floor, cap, up, down), 0
    if below < hold:
        return prev, below + 1
    return track_rates(prev, demand, floor, cap, up, down), below + 1


# --- traces -----------------------------------------------------------------------------

def slew_traces(tdp: Fraction, low: Fraction, floor: Fraction, up: Fraction | None,
                down: Fraction | None, hysteresis: Fraction, transition: Fraction,
                ticks: int) -> tuple[tuple[Fraction, ...], tuple[Fraction, ...]]:
    """The controller's output while the unsmoothed GPU falls linearly from tdp to low over
    `transition` seconds, and while it climbs back, sampled every transition/ticks. Each
    direction moves at most at its rate, and never faster than the GPU itself does unsmoothed,
    (tdp - low) / transition; the fall waits for the hysteresis (its whole ticks) first."""
    tdp, low, floor = as_fraction(tdp, "tdp"), as_fraction(low, "low"), as_fraction(floor, "floor")
    transition, hysteresis = as_fraction(transition, "transition"), as_fraction(hysteresis, "hysteresis")
    if ticks < 1 or transition <= 0 or hysteresis < 0 or not floor <= low <= tdp:
        raise ValueError("need ticks >= 1, transition > 0, hysteresis >= 0, floor <= low <= tdp")
    tick = transition / ticks
    own = (tdp - low) / transition  # the hardware's own slew
    up_rate, down_rate = (own if r is None else min(as_fraction(r, "rate"), own) for r in (up, down))
    hold = int(hysteresis / tick)
    ramp = tuple((tdp - low) * Fraction(k, ticks) for k in range(ticks + 1))
    unit = common_denominator(ramp + (tdp, low, floor, up_rate * tick, down_rate * tick))
    grid = tuple(on_grid(x, unit) for x in ramp)
    top, bottom, lowest = on_grid(tdp, unit), on_grid(low, unit), on_grid(floor, unit)
    up_limit, down_limit = on_grid(up_rate * tick, unit), on_grid(down_rate * tick, unit)

    def run(start: int, sign: int) -> tuple[Fraction, ...]:
        out, below, trace = start, 0, [start]
        for k in range(1, hold + ticks + 2):  # past the hold, the fastest tick comes first
            demand = start + sign * grid[min(k, ticks)]
            out, below = hold_track(out, demand, lowest, top, up_limit, down_limit, below, hold)
            trace.append(out)
        return tuple(Fraction(x, unit) for x in trace)

    return run(top, -1), run(bottom, 1)


def max_slews(tdp: Fraction, low: Fraction, floor: Fraction, up: Fraction | None,
              down: Fraction | None, hysteresis: Fraction, transition: Fraction,
              ticks: int) -> tuple[Fraction, Fraction]:
    """(fastest fall, fastest rise) of one GPU's controlled power, in W/s."""
    tick = as_fraction(transition, "transition") / ticks
    fall, rise = slew_traces(tdp, low, floor, up, down, hysteresis, transition, ticks)
    return tuple(max((abs(b - a) / tick for a, b in zip(t, t[1:])), default=Fraction(0))
                 for t in (fall, rise))


def wait_drop(tdp: Fraction, low: Fraction, floor: Fraction, down: Fraction | None,
              transition: Fraction, hysteresis: Fraction, wait: Fraction) -> Fraction:
    """How far below tdp one GPU is at the end of a wait of `wait` seconds: it holds for the
    hysteresis, then falls toward low at its ramp-down rate, never faster than the unsmoothed
    GPU itself ((tdp - low) / transition). One controller step per phase."""
    tdp, low, wait = as_fraction(tdp, "tdp"), as_fraction(low, "low"), as_fraction(wait, "wait")
    hysteresis, transition = as_fraction(hysteresis, "hysteresis"), as_fraction(transition, "transition")
    if wait < 0 or hysteresis < 0 or transition <= 0:
        raise ValueError("need wait >= 0, hysteresis >= 0 and transition > 0")
    own = (tdp - low) / transition  # the hardware's own slew
    rate = own if down is None else min(as_fraction(down, "down"), own)
    out = tdp
    held = min(hysteresis, wait)
    if held > 0:
        out = smooth((low,), held, floor, Fraction(0), tdp, out)[-1]
    if wait > held:
        out = smooth((low,), wait - held, floor, rate, tdp, out)[-1]
    return tdp - out
