"""find best layout: the enumeration counted by hand, the winner proved and checked against the
simulation core, the report's table and counts, and the errors."""

from __future__ import annotations

import itertools
import json
from fractions import Fraction

import pytest

from checker.api import check_text
from checker.solve_layout import _variant, layouts
from checker.parse import parse_text
from checker.replay import Simulation
from checker.resolve import resolve
from checker.verdicts import Point
from conftest import ROOT, verify

EXAMPLE = ROOT / "examples" / "best-layout.spec"


@pytest.fixture(scope="module")
def example():
    text = EXAMPLE.read_text(encoding="utf-8")
    return text, check_text(str(EXAMPLE), text)


def test_the_layouts_of_the_divisors_counted_by_hand():
    """4 GPUs, 4 layers, a batch of 4 sequences, 96 heads: (tensor, pipeline) pairs with
    tensor x pipeline dividing 4, data the rest, microbatch dividing each replica's sequences,
    virtual > 1 only with pipelining and whole rounds of microbatches, three recomputations:
    (1,1) 1, (1,2) 3, (1,4) 3, (2,1) 2, (2,2) 5, (4,1) 3 -> 17 shapes x 3 = 51."""
    model, _ = resolve(parse_text("x", EXAMPLE.read_text(encoding="utf-8")))
    found = layouts(model.block("train"))
    assert len(found) == 51
    shapes = {tuple(layout[k] for k in ("tensor", "pipeline", "data", "microbatch", "virtual")) for layout in found}
    assert len(shapes) == 17
    assert (2, 2, 1, 2, 2) in shapes and (1, 2, 2, 2, 2) not in shapes  # one microbatch per pipeline stage round: no interleaving
    for t, p, d, b, v in shapes:
        assert t * p * d == 4 and 4 % (d * b) == 0 and 4 % (p * v) == 0


def test_the_example_is_proved_best_with_its_counts(example):
    _, result = example
    (v,) = [x for x in result.verdicts if x.claim.name == "best"]
    found = v.layouts
    assert v.status == "proved" and found.proved_best
    assert (found.enumerated, found.invalid, found.unfit, found.compared, found.beaten) == (51, 0, 1, 50, 49)
    assert found.closed_form_only == 33  # the layouts with pipeline > 1: 11 shapes x 3
    winner = dict(found.ranked[0].layout)
    assert winner == {"tensor": 4, "pipeline": 1, "data": 1, "microbatch": 4, "virtual": 1, "recompute": "none"}
    lows = [r.low for r in found.ranked]
    assert lows[0] == max(lows) and all(r.low <= r.high for r in found.ranked)
    # the simulation core replays the winner at its worst corner: exact there (pipeline 1)
    replay = result.replays["best"]
    assert replay.status == "confirmed" and replay.left == replay.expected == found.ranked[0].low


def test_the_simulation_core_agrees_at_the_corners(example):
    """Independently of the proof: the core's MFU of the winner and of the runner-up at every
    corner of the ranges; the winner (pipeline 1: the closed form is exact) is never below it, and
    the core's values lie in the proved intervals."""
    text, result = example
    (v,) = [x for x in result.verdicts if x.claim.name == "best"]
    spec = parse_text("x", text)
    models = [resolve(_variant(spec, "train", dict(r.layout)))[0] for r in v.layouts.ranked[:2]]
    unknowns = models[0].unknowns
    for ends in itertools.product(*[(u.low, u.high) for u in unknowns]):
        point = Point(tuple((u.id, e) for u, e in zip(unknowns, ends)))
        winner, runner = (Simulation(mdl, point).quantity(("train", "mfu")) for mdl in models)
        assert winner >= runner
        assert v.layouts.ranked[0].low <= winner <= v.layouts.ranked[0].high


def test_the_report_shows_the_table_and_what_is_proved(monkeypatch):
    monkeypatch.chdir(ROOT)
    out = verify("examples/best-layout.spec")
    assert out.code == 0
    assert "note: find 'best': the best layout of train maximizing train.mfu is tensor 4, pipeline 1, data 1, microbatch 4, virtual 1, recompute none [proved]" in out.out
    assert "  proved: at every point of the ranges its train.mfu is at least that of each of the other 49 layouts that fit memory" in out.out
    assert "  searched: 51 layouts of the divisors; 0 break a divisibility rule, 1 does not fit memory for every value of the ranges; 50 compared" in out.out
    assert "    rank  tensor  pipeline  data  microbatch  virtual  recompute  train.mfu (proved lowest .. highest)" in out.out
    assert "  bounds: for 33 of them (pipeline > 1) the closed form of train.mfu is a lower bound" in out.out
    report = json.loads(verify("--format", "json", "examples/best-layout.spec").out)
    found = report["files"][0]["checks"][0]["find"]
    assert found["goal"] == "layout" and found["proved_best"] and found["top"][0]["layout"]["tensor"] == 4
    assert Fraction(found["top"][0]["lowest"]["exact"]) > Fraction(found["top"][1]["lowest"]["exact"])


def test_minimizing_memory_picks_the_most_sharded_layout(monkeypatch):
    """memory_per_gpu is a constant of each layout (no range moves it): the winner holds the least."""
    text = EXAMPLE.read_text(encoding="utf-8").replace("maximizing train.mfu", "minimizing train.memory_per_gpu")
    result = check_text("t.spec", text)
    (v,) = [x for x in result.verdicts if x.claim.name == "best"]
    assert v.status == "proved"
    best = v.layouts.ranked[0]
    assert best.low == best.high  # a constant
    spec = parse_text("x", text)
    model, _ = resolve(spec)
    fitting = []
    for layout in layouts(model.block("train")):
        variant, _ = resolve(_variant(spec, "train", layout))
        memory = Simulation(variant, Point(tuple((u.id, u.low) for u in variant.unknowns))).quantity(("train", "memory_per_gpu"))
        if memory <= 80 * 10**9:
            fitting.append(memory)
    assert best.low == min(fitting)


def test_a_workload_without_a_model_is_an_error(spec):
    text = (
        "gpu A { peak = 1 PFLOP/s; memory = 80 GB; tdp = 700 W; idle = 100 W }\n"
        "cluster c { pool p = 8 x A; network { topology = ring; bandwidth = 50 GB/s; latency = 5 us } }\n"
        "workload w on c { kind = training; params = 1e9; batch = 1e6 token; efficiency = 40 %; jitter = 0 % .. 5 %; shards = 1; overlap = 0 % }\n"
        "find f: best layout of w maximizing w.mfu\n"
    )
    out = verify(spec(text))
    assert out.code == 2 and "t.spec:4:24: error: 'w' is not a workload that trains a model with a layout" in out.out and "[find-target]" in out.out


def test_a_search_beyond_its_bound_is_unknown_never_a_guess(monkeypatch):
    from checker import solve_layout

    monkeypatch.setattr(solve_layout, "MAX_LAYOUTS", 10)
    result = check_text("t.spec", EXAMPLE.read_text(encoding="utf-8"))
    (v,) = [x for x in result.verdicts if x.claim.name == "best"]
    assert v.status == "unknown" and "more than 10 layouts" in v.reason and result.exit_code == 3
