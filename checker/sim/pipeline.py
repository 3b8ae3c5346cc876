"""Pipeline-parallel schedules replayed operation by operation: 1F1B and interleaved 1F1B.

Each of the p devices (pipeline stages) runs a fixed sequence of forward and backward passes
of microbatches, in the order Megatron-LM issues them (Narayanan et al., SC21, sections 2.2.1
and 2.2.2; `forward_backward_pipelining_without_interleaving` / `..._with_interleaving` in
Megatron-LM's `schedules.py`). With v virtual stages per device ("model chunks"), device r
holds chunks r, r + p, ..., r + (v-1)p of the p*v virtual stages.

An operation starts when its device is free and its inputs have arrived:
- forward(i, j) needs forward(i, j-1) finished plus one message delay (a different device);
- backward(i, j) needs backward(i, j+1) finished plus one message delay, and the last virtual
  stage's backward needs its own forward (same device, no message).
Nothing here evaluates the closed form (p-1)/(v m); the tests compare against it.
Times run on integer ticks (a common denominator) so the kernels stay exact and checkable.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .exact import as_fraction, common_denominator, on_grid

__all__ = ["Schedule", "schedule_order", "simulate_pipeline", "run_schedule", "start",
           "uniform_makespan"]

FORWARD, BACKWARD = 0, 1


@dataclass(frozen=True, slots=True)
class Schedule:
    """makespan: from the first forward to the last backward on any device;
    busy: each device's compute time; idle: each device's makespan - busy (its bubble)."""

    makespan: Fraction
    busy: tuple[Fraction, ...]
    idle: tuple[Fraction, ...]


# --- integer kernels (CrossHair-checked, PEP 316) ---------------------------------------

def start(free: int, ready: int) -> int:
    """An operation starts when its device is free and its inputs are there.

    post: __return__ >= free and __return__ >= ready
    post: __return__ == free or __return__ == ready
    """
    return ready if ready > free else free


def schedule_order(p: int, v: int, m: int, rank: int) -> tuple[tuple[int, int, int], ...]:
    """Device `rank`'s operations in issue order as (kind, microbatch, chunk).

    v = 1: min(p - rank - 1, m) warm-up forwards, then one forward one backward, then the
    cool-down backwards (1F1B). v > 1 (m a multiple of p): (p - rank - 1) * 2 + (v - 1) * p
    warm-up forwards (all of them when m = p), chunks taken p microbatches at a time.
    """
    if p < 1 or v < 1 or m < 1 or not 0 <= rank < p:
        raise ValueError("need p, v, m >= 1 and 0 <= rank < p")
    if v > 1 and (p == 1 or m % p != 0):
        raise ValueError("interleaving needs p > 1 and m a multiple of p")
    total = m * v
    if v == 1:
        warmup = min(p - rank - 1, m)
    else:
        warmup = total if m == p else min((p - rank - 1) * 2 + (v - 1) * p, total)

    def unit(k: int, kind: int) -> tuple[int, int, int]:
        group = k % (p * v)
        chunk = group // p if kind == FORWARD else v - 1 - group // p
        return (kind, (k // (p * v)) * p + k % p, chunk)

    order = [unit(k, FORWARD) for k in range(warmup)]
    for i in range(total - warmup):
        order.append(unit(warmup + i, FORWARD))
        order.append(unit(i, BACKWARD))
    order.extend(unit(k, BACKWARD) for k in range(total - warmup, total))
    return tuple(order)


def run_schedule(p: int, v: int, m: int, fwd: tuple[tuple[int, ...], ...],
                 bwd: tuple[tuple[int, ...], ...], message: int,
                 trace: list | None = None) -> tuple[int, tuple[int, ...]]:
    """Replay the schedule on integer ticks; fwd[r][c], bwd[r][c]: one microbatch's pass of
    chunk c on device r. Returns (makespan, busy ticks per device); every operation is appended
    to `trace` as (device, kind, microbatch, chunk, start, finish) when one is given."""
    if message < 0 or any(x < 0 for row in fwd + bwd for x in row):
        raise ValueError("durations and the message delay must be >= 0")
    if len(fwd) != p or len(bwd) != p or any(len(row) != v for row in fwd + bwd):
        raise ValueError("need one duration per device and chunk")
    orders = [schedule_order(p, v, m, r) for r in range(p)]
    last = p * v - 1
    done: dict[tuple[int, int, int], int] = {}  # (kind, microbatch, virtual stage) -> finish
    position, free, busy = [0] * p, [0] * p, [0] * p
    remaining = sum(len(o) for o in orders)
    while remaining:
        progressed = False
        for r in range(p):
            while position[r] < len(orders[r]):
                kind, mb, chunk = orders[r][position[r]]
                stage = chunk * p + r
                if kind == FORWARD:
                    need, delay = (FORWARD, mb, stage - 1), message
                    duration = fwd[r][chunk]
                elif stage == last:
                    need, delay = (FORWARD, mb, stage), 0
                    duration = bwd[r][chunk]
                else:
                    need, delay = (BACKWARD, mb, stage + 1), message
                    duration = bwd[r][chunk]
                if kind == FORWARD and stage == 0:
                    ready = 0
                elif need in done:
                    ready = done[need] + (delay if p > 1 else 0)
                else:
                    break  # blocked: wait for another device
                begin = start(free[r], ready)
                free[r] = begin + duration
                busy[r] += duration
                done[(kind, mb, stage)] = free[r]
                if trace is not None:
                    trace.append((r, kind, mb, chunk, begin, free[r]))
                position[r] += 1
                remaining -= 1
                progressed = True
        if not progressed:
            raise RuntimeError("the schedule deadlocked")  # cannot happen for valid orders
    return max(free), tuple(busy)


def uniform_makespan(p: int, m: int, f: int, b: int, w: int) -> int:
    """1F1B with p identical stages: makespan in ticks (forward f, backward b, message w).

    The bubble (makespan - m (f + b)) never grows with m when messages are instant; with a
    message delay it does, since 1F1B's steady state waits for round trips (tests show it).

    pre: 1 <= p <= 4 and 1 <= m <= 6 and 0 <= f <= 3 and 0 <= b <= 3 and 0 <= w <= 2
    post: __return__ >= m * (f + b)
    post: p > 1 or __return__ == m * (f + b)
    post: m == 6 or w > 0 or __return__ - m * (f + b) >= uniform_makespan(p, m + 1, f, b, w) - (m + 1) * (f + b)
    post: w == 0 or uniform_makespan(p, m, f, b, w - 1) <= __return__
    """
    row = ((f,),) * p
    return run_schedule(p, 1, m, row, ((b,),) * p, w)[0]


# --- the Fraction-level API ----------------------------------------------------------------

def simulate_pipeline(p: int, v: int, m: int, fwd: tuple[tuple[Fraction, ...], ...],
                      bwd: tuple[tuple[Fraction, ...], ...], message: Fraction,
                      trace: list | None = None) -> Schedule:
    """Makespan and per-device busy/idle time of m microbatches through the schedule.

    fwd[r][c] / bwd[r][c] are the seconds one microbatch's forward / backward pass of chunk c
    takes on device r (stages may differ: embedding on the first, logits on the last);
    message is the delay of one stage-to-stage activation or gradient message. With `trace`,
    every operation is appended to it as (device, kind, microbatch, chunk, start s, finish s).
    """
    fwd = tuple(tuple(as_fraction(x, "fwd") for x in row) for row in fwd)
    bwd = tuple(tuple(as_fraction(x, "bwd") for x in row) for row in bwd)
    message = as_fraction(message, "message")
    unit = common_denominator(tuple(x for row in fwd + bwd for x in row) + (message,))
    ticks = lambda rows: tuple(tuple(on_grid(x, unit) for x in row) for row in rows)  # noqa: E731
    ops: list | None = [] if trace is not None else None
    span, busy = run_schedule(p, v, m, ticks(fwd), ticks(bwd), on_grid(message, unit), ops)
    if trace is not None and ops is not None:
        trace.extend((r, kind, mb, c, Fraction(a, unit), Fraction(b, unit)) for r, kind, mb, c, a, b in ops)
    return Schedule(Fraction(span, unit), tuple(Fraction(x, unit) for x in busy),
                    tuple(Fraction(span - x, unit) for x in busy))
