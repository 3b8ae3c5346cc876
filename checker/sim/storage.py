"""Energy storage between a site's GPUs and the grid, stepped through one training step.

The site's GPU power follows the step's worst alignment: `high` W while any GPU computes
(every GPU at tdp until the slowest finishes), then `low` W for the rest of the step. The
storage holds the grid at the step's average power: it discharges the excess above it, and
charges the shortfall below it, each at most `power` W, and only while it holds energy (or
room). It starts the step full. The contract-bearing kernel is `store` (one change of state
of charge, which never leaves [0, capacity]).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from fractions import Fraction

from .exact import as_fraction, common_denominator, on_grid

__all__ = ["store", "StorageStep", "storage_step", "StepStorage"]


def store(charge: int, flow: int, capacity: int) -> int:
    """The state of charge after adding `flow` (negative: drawing), clamped to what fits.

    pre: 0 <= charge <= capacity
    post: 0 <= __return__ <= capacity
    post: abs(__return__ - charge) <= abs(flow)
    post: (flow >= 0) == (__return__ >= charge) or __return__ == charge
    """
    return max(0, min(capacity, charge + flow))


@dataclass(frozen=True, slots=True)
class StorageStep:
    grid: tuple[tuple[Fraction, Fraction], ...]  # (duration s, grid power W) phases
    charges: tuple[Fraction, ...]  # state of charge (J) after each phase
    drawn: Fraction  # energy the storage delivered in the step (J)
    refilled: Fraction  # energy it could take back in the wait at its rate, room permitting (J)


def storage_step(high: Fraction, low: Fraction, busy: Fraction, step: Fraction,
                 capacity: Fraction, power: Fraction) -> StorageStep:
    """One step from full: `busy` seconds at `high`, the rest of `step` at `low`."""
    high, low, busy, step = (as_fraction(x, n) for x, n in ((high, "high"), (low, "low"), (busy, "busy"), (step, "step")))
    capacity, power = as_fraction(capacity, "capacity"), as_fraction(power, "power")
    if not (0 <= low <= high and 0 <= busy <= step and step > 0 and capacity >= 0 and power >= 0):
        raise ValueError("need 0 <= low <= high, 0 <= busy <= step, step > 0, capacity >= 0, power >= 0")
    level = (high * busy + low * (step - busy)) / step  # the grid's target: the step's average
    out_rate, in_rate = min(power, high - level), min(power, level - low)
    unit = common_denominator((capacity, out_rate * busy, in_rate * (step - busy)))
    full = on_grid(capacity, unit)
    charge, phases, charges = full, [], []

    def phase(duration: Fraction, site: Fraction, rate: Fraction, sign: int) -> None:
        """Run the storage at `rate` (sign -1 drawing, +1 charging) for as long as it can."""
        nonlocal charge
        if duration <= 0:
            return
        room = charge if sign < 0 else full - charge  # in grid units of energy
        span = duration if rate == 0 else min(duration, Fraction(room, unit) / rate)
        if span > 0:
            charge = store(charge, sign * on_grid(rate * span, unit), full)
            phases.append((span, site + sign * rate))
            charges.append(Fraction(charge, unit))
        if span < duration:
            phases.append((duration - span, site))
            charges.append(Fraction(charge, unit))

    phase(busy, high, out_rate, -1)
    drawn = capacity - Fraction(charge, unit)
    phase(step - busy, low, in_rate, 1)
    return StorageStep(tuple(phases), tuple(charges), drawn, in_rate * (step - busy))


class StepStorage:
    """The storage quantities of a training step (`grid_peak`, ..., `storage_shortfall`); the
    host has `spec.cluster`, `compute_time`, `step_time` and `_smoothing(pool)`."""

    @cached_property
    def _storage(self) -> StorageStep:
        """One step from full through the site's storage (none: no capacity, no power)."""
        pools, power = self.spec.cluster.pools, self.spec.cluster.power
        high = sum((p.count * p.gpu.tdp for p in pools), Fraction(0))
        low = sum((p.count * self._smoothing(p)[1] for p in pools), Fraction(0))
        zero = Fraction(0)
        return storage_step(high, low, self.compute_time, self.step_time,
                            power.storage or zero, power.storage_power or zero)

    @cached_property
    def grid_peak(self) -> Fraction:
        return max(p for _, p in self._storage.grid)

    @cached_property
    def grid_trough(self) -> Fraction:
        return min(p for _, p in self._storage.grid)

    @cached_property
    def grid_swing(self) -> Fraction:
        return self.grid_peak - self.grid_trough

    @cached_property
    def storage_depth(self) -> Fraction:
        return self._storage.drawn

    @cached_property
    def storage_shortfall(self) -> Fraction:
        """What the step leaves empty: the capacity less the charge at its end."""
        return (self.spec.cluster.power.storage or Fraction(0)) - self._storage.charges[-1]
