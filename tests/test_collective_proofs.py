"""The nccl-tests bus-bandwidth relation, proved by the checker itself for every message size.

nccl-tests doc/PERFORMANCE.md: algbw = S / t, and for an all-reduce busbw = algbw · 2(n-1)/n,
"so that the bus bandwidth reflects how optimally the hardware is used" whatever n is. Without
hop latency the ring (and halving-doubling on a power of two) reaches busbw = B exactly, the
double tree B (n-1)/n, in-network reduction 2(n-1)/n · B (spec/semantics.md, "Collective
algorithms on a switched network"). Each is a claim over ranges of the model size and the
bandwidth; each must be proved, and the same claim with the wrong factor must be violated.
"""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from checker.api import check_text
from checker.solve import Limits


def spec(n: int, algorithm: str, factor: F, extra: str = "") -> str:
    bus = F(2 * (n - 1), n)
    return f"""gpu G {{ peak = 989 TFLOP/s; memory = 80 TB; tdp = 700 W }}
cluster c {{
  pool g = {n} x G
  network {{ topology = switch; algorithm = {algorithm}; bandwidth = 25 GB/s .. 900 GB/s; latency = 0 s{extra} }}
}}
workload w on c {{ kind = training; params = 1e3 .. 1e12; batch = 1e6 token; efficiency = 40 % }}
check busbw: w.grad_bytes * w.params / w.comm_time * {bus.numerator} / {bus.denominator} == {factor.numerator} / {factor.denominator} * c.network.bandwidth
"""


CASES = [  # (n, algorithm, busbw / B, extra fields)
    (8, "ring", F(1), ""),
    (1000, "ring", F(1), ""),
    (1024, "halving_doubling", F(1), ""),
    (1000, "double_tree", F(999, 1000), ""),
    (8, "in_network", F(7, 4), "; radix = 8"),
    (100_000, "in_network", F(2 * 99_999, 100_000), "; radix = 64"),
]


def verdict(text: str):
    result = check_text("busbw.spec", text, Limits(timeout_ms=20_000))
    assert not result.invalid, [d.header() for d in result.diagnostics]
    return next(v for v in result.verdicts if v.claim.name == "busbw")


@pytest.mark.parametrize("n, algorithm, factor, extra", CASES)
def test_bus_bandwidth_relation_is_proved(n, algorithm, factor, extra):
    assert verdict(spec(n, algorithm, factor, extra)).status == "proved"


@pytest.mark.parametrize("n, algorithm, factor, extra", CASES[:3])
def test_a_wrong_factor_is_refuted(n, algorithm, factor, extra):
    assert verdict(spec(n, algorithm, factor * F(99, 100), extra)).status == "violated"
