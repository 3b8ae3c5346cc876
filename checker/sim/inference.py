"""Inference serving: every GPU serves on its own, no barrier."""

from __future__ import annotations

from fractions import Fraction

from .exact import as_fraction
from .training import Cohort

__all__ = ["serving_throughput"]


def serving_throughput(cohorts: tuple[Cohort, ...], efficiency: Fraction,
                       flops_per_token: Fraction) -> Fraction:
    """Tokens/s of the fleet: each GPU serves peak * efficiency / flops_per_token tokens/s,
    and the GPUs' rates add up (a cohort of count GPUs adds its rate count times)."""
    efficiency = as_fraction(efficiency, "efficiency")
    flops_per_token = as_fraction(flops_per_token, "flops_per_token")
    if efficiency < 0 or flops_per_token <= 0:
        raise ValueError("need efficiency >= 0 and flops_per_token > 0")
    total = Fraction(0)
    for cohort in cohorts:
        if cohort.count < 0 or cohort.peak < 0:
            raise ValueError(f"cohort {cohort.pool!r}: need count >= 0 and peak >= 0")
        rate = as_fraction(cohort.peak, "peak") * efficiency / flops_per_token
        total += cohort.count * rate
    return total
