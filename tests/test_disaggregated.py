"""Serving with prefill and decode apart: one pool prefills, the others decode, the cache
crosses the network. Hand-computed values, the closed forms against the core's stepped
batches, and the rules of `prefill_pool`.
"""

from __future__ import annotations

from fractions import Fraction as F

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.parse import parse_text
from checker.resolve import resolve
from conftest import verify
from test_serving import _agree, quantities

TINY = """model tiny { layers = 2; hidden = 64; heads = 4; kv_heads = 2; ffn = 256; seq = 128; vocab = 1000 }
gpu G { peak = 100 GFLOP/s; memory = 1 GB; tdp = 500 W; idle = 100 W; matmul = 50 %; memory_bandwidth = 1 GB/s }
cluster c { pool p = 4 x G; pool d = 8 x G; network { topology = switch; bandwidth = 1 MB/s; latency = 1 ms; efficiency = 80 % } }
workload w on c { kind = inference; model = tiny; prompt = 10 token; output = 3 token; concurrency = 4; prefill_pool = p; layout { tensor = 2 } }
"""
N = 2 * (64**2 * 3 + 2 * 64 * 256) + 1000 * 64  # the tiny model's weights (tests/test_serving.py)


def test_apart_by_hand():
    """The prompt's cache, 10 tokens x 128 bytes a GPU, crosses a 1 MB/s link at 80 % after 1 ms;
    TTFT is the prefill pool's prompt plus that; the decode pool decodes only (two steps a batch),
    the prefill pool prefills only; the fleet serves at the slower side's rate."""
    q = quantities(TINY)
    transfer = F(1, 1000) + F(10 * 128, 8 * 10**5)
    assert q["kv_transfer_time"][0] == q["kv_transfer_time"][1] == transfer
    prefill_one = F(N + 10 * 128, 10**9)  # memory-bound (tests/test_serving.py: test_serving_by_hand)
    assert q["ttft"][0] == q["ttft"][1] == prefill_one + transfer
    assert q["tpot"][0] == q["tpot"][1] == F(160256, 10**9)
    prefill = F(N + 40 * 128, 10**9)  # four prompts at once
    decode = F(N + 44 * 128 + N + 48 * 128, 10**9)
    assert q["pool_throughput.p"][0] == 2 * F(4 * 3) / prefill  # two replicas: 12 output tokens a prefilled batch
    assert q["pool_throughput.d"][0] == 4 * F(4 * 3) / decode
    assert q["throughput"][0] == q["throughput"][1] == min(q["pool_throughput.p"][0], q["pool_throughput.d"][0])


def test_without_a_prefill_pool_nothing_moves():
    q = quantities(TINY.replace("prefill_pool = p; ", ""))
    assert q["kv_transfer_time"][0] == q["kv_transfer_time"][1] == 0


MIXED = """model m { layers = 8; hidden = 1024; heads = 16; kv_heads = 4; ffn = 4096; mlp = swiglu; seq = 4096; vocab = 32000 }
gpu A { peak = 989 TFLOP/s; memory = 80 GB; tdp = 700 W; idle = 100 W; matmul = 60 % .. 75 %; memory_bandwidth = 3350 GB/s; memory_efficiency = 80 %; lease = 2 USD/h }
gpu B { peak = 2500 TFLOP/s; memory = 186 GB; tdp = 1200 W; idle = 150 W; matmul = 60 %; memory_bandwidth = 8 TB/s; lease = 4 USD/h .. 5 USD/h }
cluster c { pool a = 8 x A; pool b = 4 x B; pool e = 12 x B
  network { topology = switch; bandwidth = 25 GB/s .. 50 GB/s; latency = 5 us; efficiency = 90 % }
  power { pue = 1.2 } }
workload w on c { kind = inference; model = m; prompt = 100 token .. 3000 token; output = 2 token .. 400 token; concurrency = 64; prefill_pool = PREFILL;
  kv_bytes = 1 B .. 2 B; utilisation = 70 % .. 100 %; electricity = 50 USD/MWh; layout { tensor = 2; pipeline = 2 } }
"""


@pytest.mark.parametrize("prefill", ["a", "b"])
@pytest.mark.parametrize("corner", ["low", "high", "mixed"])
def test_apart_against_the_stepped_batches(prefill, corner):
    text = MIXED.replace("PREFILL", prefill)
    model, _ = resolve(parse_text("t.spec", text))
    pick = {"low": lambda i, u: u.low, "high": lambda i, u: u.high, "mixed": lambda i, u: u.low if i % 2 else u.high}[corner]
    point = {u.id: pick(i, u) for i, u in enumerate(model.unknowns)}
    values = quantities(text, point)
    assert {"ttft", "tpot", "kv_transfer_time", "throughput", "pool_throughput.a", "cost_per_token"} <= set(values)
    _agree(values)


@st.composite
def apart(draw) -> tuple[str, dict]:
    prefill = draw(st.sampled_from(["a", "b", "e"]))
    text = MIXED.replace("PREFILL", prefill)
    model, _ = resolve(parse_text("t.spec", text))
    point = {}
    for u in model.unknowns:
        if u.id in ("w.prompt", "w.output"):
            point[u.id] = F(draw(st.integers(int(u.low), min(int(u.high), int(u.low) + 300))))
        else:
            point[u.id] = u.low + (u.high - u.low) * draw(st.fractions(min_value=0, max_value=1, max_denominator=50))
    return text, point


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(apart())
def test_apart_agrees_with_the_core_at_random_points(case):
    text, point = case
    _agree(quantities(text, point))


@pytest.mark.parametrize(("change", "message"), [
    ("prefill_pool = p;", "t.spec:4:120: error: 'c' has no pool 'q'; its pools: p, d"),
    ("prefill_pool = p;", "'prefill_pool' describes the requests of an inference workload that serves a model"),
])
def test_a_prefill_pool_must_name_a_pool(change, message, tmp_path):
    text = TINY.replace(change, "prefill_pool = q;") if "no pool" in message else TINY.replace("kind = inference; model = tiny; prompt = 10 token; output = 3 token; concurrency = 4; prefill_pool = p; layout { tensor = 2 }",
                                                                                               "kind = inference; params = 1e9; efficiency = 50 %; prefill_pool = p")
    path = tmp_path / "t.spec"
    path.write_text(text)
    result = verify(str(path))
    assert result.code == 2 and message in result.out, result.out


def test_one_pool_cannot_do_both(tmp_path):
    path = tmp_path / "t.spec"
    path.write_text(TINY.replace("; pool d = 8 x G", ""))
    result = verify(str(path))
    assert result.code == 2 and "'c' has one pool: with 'p' prefilling, no pool is left to decode" in result.out, result.out


def test_a_prefill_pool_needs_a_network(tmp_path):
    path = tmp_path / "t.spec"
    path.write_text(TINY.replace("; network { topology = switch; bandwidth = 1 MB/s; latency = 1 ms; efficiency = 80 % }", ""))
    result = verify(str(path))
    assert result.code == 2 and "sends the cache over 'c''s network" in result.out, result.out
