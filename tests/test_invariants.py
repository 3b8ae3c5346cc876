"""Every built-in invariant of clusters and workloads, broken on purpose, seen at its line."""

from __future__ import annotations

import pytest

from conftest import verify


def spec_text(**over: str) -> str:
    v = {
        "count": "64", "count2": "64", "topology": "ring", "net_extra": "",
        "params": "1e9", "efficiency": "40 %", "jitter": "0 % .. 5 %", "shards": "8", "overlap": "50 %",
        "pue": "1.2", "overhead": "30 %", "idle": "100 W", "floor": "0 W",
    }
    v.update(over)
    return f"""gpu SMALL {{ peak = 989 TFLOP/s; memory = 80 GB; tdp = 700 W; idle = {v['idle']}; floor = {v['floor']} }}
gpu BIG {{ peak = 2500 TFLOP/s; memory = 186 GB; tdp = 1200 W; idle = 150 W }}
cluster c {{
  pool small = {v['count']} x SMALL
  pool big = {v['count2']} x BIG
  network {{
    topology = {v['topology']}
    bandwidth = 50 GB/s
    latency = 5 us{v['net_extra']}
  }}
  power {{ facility = 10 MW; pue = {v['pue']}; overhead = {v['overhead']} }}
}}
workload w on c {{
  kind = training
  params = {v['params']}
  batch = 1e6 token
  efficiency = {v['efficiency']}
  jitter = {v['jitter']}
  shards = {v['shards']}
  overlap = {v['overlap']}
}}
check step: w.step_time <= 1 h
"""


def test_the_baseline_spec_is_clean(spec):
    result = verify(spec(spec_text()))
    assert result.code == 0, result.out


@pytest.mark.parametrize(
    "over, line, name",
    [
        ({"params": "50e9"}, 15, "w fits in the memory of pool small"),  # 16 B x 50e9 / 8 = 100 GB > 80 GB
        ({"shards": "3"}, 19, "w: 128 GPUs divide into 3 shards"),
        ({"topology": "hierarchical", "net_extra": "\n    domain = 6\n    domain_bandwidth = 450 GB/s\n    domain_latency = 2 us", "shards": "8"}, 10, "w: each data-parallel group of 16 GPUs divides into domains of 6"),
        ({"efficiency": "120 %"}, 17, "w.efficiency is within (0, 100 %]"),
        ({"efficiency": "0 % .. 40 %"}, 17, "w.efficiency is within (0, 100 %]"),
        ({"overlap": "150 %"}, 20, "w.overlap is within [0, 100 %]"),
        ({"jitter": "-5 % .. 5 %"}, 18, "w.jitter.small is at least 0"),
        ({"pue": "0.9"}, 11, "c.power.pue is at least 1"),
        ({"overhead": "-10 %"}, 11, "c.power.overhead is at least 0"),
        ({"idle": "800 W"}, 1, "SMALL.idle is at most its tdp"),
        ({"floor": "120 %"}, 1, "SMALL.floor is at most its tdp"),
    ],
)
def test_each_invariant_breaks_at_its_line(spec, over, line, name):
    result = verify(spec(spec_text(**over)))
    assert result.code == 1, result.out
    header = next((l for l in result.out.splitlines() if f"error: invariant '{name}'" in l), None)
    assert header is not None, result.out
    assert f".spec:{line}:" in header, header
    assert "[invariant]" in header


@pytest.mark.parametrize(
    "over, line, message",
    [
        ({"count": "0"}, 4, "'pool small' must be a positive whole number, not 0 [not-integer]"),
        ({"count": "2.5"}, 4, "'pool small' must be a positive whole number, not 2.5 [not-integer]"),
        ({"shards": "0"}, 19, "'shards' must be a positive whole number, not 0 [not-integer]"),
        ({"shards": "1 .. 4"}, 19, "'shards' is a whole number and cannot be a range [not-constant]"),
    ],
)
def test_counts_must_be_positive_whole_numbers(spec, over, line, message):
    result = verify(spec(spec_text(**over)))
    assert result.code == 2, result.out
    assert any(f".spec:{line}:" in l and message in l for l in result.out.splitlines()), result.out


def test_a_mixed_cluster_reports_the_pool_that_does_not_fit(spec):
    # 16 B x 100e9 / 16 = 100 GB: over the 80 GB of SMALL, within the 186 GB of BIG
    out = verify(spec(spec_text(params="100e9", shards="16"))).out
    assert "invariant 'w fits in the memory of pool small' is violated" in out
    assert "invariant 'w fits in the memory of pool big'" not in out


def test_min_and_max_in_claims(spec):
    text = spec_text() + "check ratio: w.step_time <= 2 * w.compute_time + max(w.comm_time, 0 s)\ncheck both: min(w.pool_time.small, w.pool_time.big) <= w.compute_time\n"
    result = verify(spec(text))
    assert "proved    ratio" in result.out and "proved    both" in result.out, result.out


def test_a_counterexample_names_each_pool_and_the_step(spec):
    out = verify(spec(spec_text() + "check fast: w.mfu >= 39 %\n")).out
    assert "violated  fast" in out
    for part in ("w.jitter.small = ", "w.jitter.big = ", "w.pool_time.small = ", "w.pool_time.big = ", "w.compute_time = ", "w.comm_time = ", "w.step_time = ", "confirmed by simulation"):
        assert part in out, part
