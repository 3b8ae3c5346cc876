"""Quantities that rest on a step of one compute phase and one wait per pool: on a workload
with a model (a transformer, idle in its pipeline's bubbles) naming one is an error that says
why, at the name's line and column."""

from __future__ import annotations

import pytest

from checker import codes, registry
from checker.api import check_text

SPEC = """model m { layers = 4; hidden = 1024; heads = 8; seq = 1024; vocab = 32000 }
gpu G { peak = 989 TFLOP/s; memory = 80 GB; tdp = 700 W; idle = 100 W; matmul = 70 %; memory_bandwidth = 3.35 TB/s }
cluster c { pool a = 16 x G
  network { topology = ring; bandwidth = 50 GB/s; latency = 5 us }
  power { band_low = 0.1 Hz; band_high = 20 Hz; storage = 1 MJ; storage_power = 100 kW } }
workload w on c { kind = training; model = m; batch = 64 * 1024 token; layout { tensor = 2; pipeline = 2 } }
workload plain on c { kind = training; params = 1e9; batch = 1e6 token; efficiency = 40 % }
"""


@pytest.mark.parametrize("name", registry.STEP_RECTANGLE)
def test_a_step_rectangle_quantity_on_a_transformer_is_refused_with_its_reason(name):
    text = SPEC + f"check q: w.{name} >= 0 * w.{name}\n"
    result = check_text("t.spec", text)
    d = result.diagnostics[0]  # the right side names it again
    assert all(other.code == codes.UNKNOWN_FIELD for other in result.diagnostics)
    assert d.code == codes.UNKNOWN_FIELD and d.severity == "error"
    assert (d.span.line, d.span.column) == (8, 12)
    assert f"has no quantity '{name}' with a model" in d.message and "pipeline's bubbles" in d.message


@pytest.mark.parametrize("name", registry.STEP_RECTANGLE)
def test_the_same_quantity_on_a_training_workload_without_a_model_is_named(name):
    result = check_text("t.spec", SPEC + f"check q: plain.{name} >= 0 * plain.{name}\n")
    assert not [d for d in result.diagnostics if d.severity == "error"], [d.header() for d in result.diagnostics]


def test_every_step_rectangle_quantity_is_a_training_quantity_and_not_a_transformers():
    for name in registry.STEP_RECTANGLE:
        assert registry.find("training", (name,)) is not None
        assert registry.find("transformer", (name,)) is None
