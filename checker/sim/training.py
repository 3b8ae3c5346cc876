"""Synchronous data-parallel training replayed GPU cohort by GPU cohort, step by step.

A step: every GPU computes its share of the batch's FLOPs at peak * efficiency, slowed by
its jitter; a barrier waits for the last one; then the share of the gradient exchange that is
not hidden behind compute runs. Times are kept exact: the contract-bearing integer kernels
(`later`, `stretch`, `exposed`) run on numerators over a common denominator.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .exact import as_fraction, common_denominator, on_grid

__all__ = [
    "Cohort",
    "Step",
    "work_per_gpu",
    "gpu_finish_times",
    "barrier",
    "training_step",
    "simulate_training",
    "later",
    "stretch",
    "exposed",
]

BALANCES = ("uniform", "proportional")


@dataclass(frozen=True, slots=True)
class Cohort:
    """`count` identical GPUs of one pool (same peak FLOP/s, same jitter share >= 0)."""

    pool: str
    count: int
    peak: Fraction
    jitter: Fraction


@dataclass(frozen=True, slots=True)
class Step:
    """One step; `finish` is each cohort's compute finish time, from the step's start."""

    compute_time: Fraction
    comm_time: Fraction
    step_time: Fraction
    finish: tuple[Fraction, ...]


# --- integer kernels (CrossHair-checked, PEP 316) ---------------------------------------

def later(release: int, finish: int) -> int:
    """Barrier release once one more participant, finishing at `finish`, has arrived.

    post: __return__ >= release and __return__ >= finish
    post: __return__ == release or __return__ == finish
    post: later(release + 1, finish) >= __return__
    post: later(release, finish + 1) >= __return__
    """
    return finish if finish > release else release


def stretch(base: int, jitter: int, unit: int) -> int:
    """Finish time base * (1 + jitter/unit) in units of 1/unit (base, jitter over 1/unit).

    pre: base >= 0 and jitter >= 0 and unit > 0
    post: __return__ >= base * unit
    post: stretch(base, jitter + 1, unit) >= __return__
    """
    return base * (unit + jitter)


def exposed(comm: int, overlap: int, unit: int) -> int:
    """The part of the exchange not hidden behind compute, comm * (1 - overlap/unit).

    pre: comm >= 0 and unit > 0 and 0 <= overlap <= unit
    post: 0 <= __return__ <= comm * unit
    post: overlap == 0 or exposed(comm, overlap - 1, unit) >= __return__
    """
    return comm * (unit - overlap)


# --- the Fraction-level simulation ------------------------------------------------------

def _check_cohorts(cohorts: tuple[Cohort, ...]) -> None:
    if not cohorts:
        raise ValueError("at least one cohort is needed")
    for c in cohorts:
        if c.count < 1 or c.peak <= 0 or c.jitter < 0:
            raise ValueError(f"cohort {c.pool!r}: need count >= 1, peak > 0, jitter >= 0")


def work_per_gpu(cohorts: tuple[Cohort, ...], flops: Fraction,
                 balance: str) -> tuple[Fraction, ...]:
    """FLOPs each GPU of each cohort does in one step.

    The batch is dealt out by weight: every GPU weighs 1 ("uniform") or its peak
    ("proportional"); a GPU's share is flops * its weight / the sum of all GPUs' weights.
    """
    _check_cohorts(cohorts)
    if balance not in BALANCES:
        raise ValueError(f"balance must be one of {BALANCES}")
    flops = as_fraction(flops, "flops")
    weights = tuple(Fraction(1) if balance == "uniform" else as_fraction(c.peak, "peak")
                    for c in cohorts)
    total = Fraction(0)
    for cohort, weight in zip(cohorts, weights):
        total += cohort.count * weight  # the weights of the cohort's GPUs, one per GPU
    return tuple(flops * weight / total for weight in weights)


def gpu_finish_times(cohorts: tuple[Cohort, ...], work: tuple[Fraction, ...],
                     efficiency: Fraction) -> tuple[Fraction, ...]:
    """When each cohort's GPUs finish computing: work / (peak * efficiency) * (1 + jitter)."""
    _check_cohorts(cohorts)
    efficiency = as_fraction(efficiency, "efficiency")
    if efficiency <= 0 or len(work) != len(cohorts):
        raise ValueError("need efficiency > 0 and one work share per cohort")
    times = []
    for cohort, share in zip(cohorts, work):
        base = as_fraction(share, "work") / (as_fraction(cohort.peak, "peak") * efficiency)
        jitter = as_fraction(cohort.jitter, "jitter")
        if base < 0:
            raise ValueError("work must be >= 0")
        unit = common_denominator((base, jitter))
        ticks = stretch(on_grid(base, unit), on_grid(jitter, unit), unit)
        times.append(Fraction(ticks, unit * unit))
    return tuple(times)


def barrier(finish_times: tuple[Fraction, ...]) -> Fraction:
    """Release time of a barrier: participants arrive one by one, the last one releases it.

    Always >= every participant's finish and equal to one of them (the `later` kernel).
    """
    if not finish_times:
        raise ValueError("a barrier needs at least one participant")
    times = tuple(as_fraction(t, "finish time") for t in finish_times)
    unit = common_denominator(times)
    ticks = tuple(on_grid(t, unit) for t in times)
    release = ticks[0]
    for arrival in ticks[1:]:
        release = later(release, arrival)
    return Fraction(release, unit)


def _exposed_comm(comm_time: Fraction, overlap: Fraction) -> Fraction:
    comm_time, overlap = as_fraction(comm_time, "comm_time"), as_fraction(overlap, "overlap")
    if comm_time < 0 or not 0 <= overlap <= 1:
        raise ValueError("need comm_time >= 0 and 0 <= overlap <= 1")
    unit = common_denominator((comm_time, overlap))
    return Fraction(exposed(on_grid(comm_time, unit), on_grid(overlap, unit), unit),
                    unit * unit)


def training_step(cohorts: tuple[Cohort, ...], flops: Fraction, efficiency: Fraction,
                  balance: str, comm_time: Fraction, overlap: Fraction) -> Step:
    """Compute phase, barrier, then the exposed part of the gradient exchange."""
    finish = gpu_finish_times(cohorts, work_per_gpu(cohorts, flops, balance), efficiency)
    release = barrier(finish)
    return Step(release, as_fraction(comm_time, "comm_time"),
                release + _exposed_comm(comm_time, overlap), finish)


def simulate_training(cohorts: tuple[Cohort, ...], flops: Fraction, efficiency: Fraction,
                      balance: str, comm_time: Fraction, overlap: Fraction,
                      steps: int) -> tuple[Step, ...]:
    """K synchronous steps on one timeline; each starts when the previous one ends.

    Each returned Step is measured from its own start on the shared clock.
    """
    if steps < 0:
        raise ValueError("steps must be >= 0")
    work = work_per_gpu(cohorts, flops, balance)
    not_hidden = _exposed_comm(comm_time, overlap)
    clock = Fraction(0)
    record = []
    for _ in range(steps):
        start = clock
        arrivals = tuple(start + t for t in gpu_finish_times(cohorts, work, efficiency))
        released = barrier(arrivals)
        clock = released + not_hidden
        record.append(Step(released - start, as_fraction(comm_time, "comm_time"),
                           clock - start, tuple(a - start for a in arrivals)))
    return tuple(record)
