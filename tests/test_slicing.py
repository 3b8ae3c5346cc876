"""Slicing: a claim's queries see only the ranges and assumptions of the unknowns it depends on,
so its verdict cannot change when unrelated blocks are added; a claim on constants alone is
decided by exact arithmetic, without a solver query (observed through solve.QUERIES)."""

from __future__ import annotations

from fractions import Fraction

from checker import solve
from checker.parse import parse_text
from checker.resolve import resolve
from checker.verdicts import Limits

PANEL = """\
radiator panel {
  heat        = 1 MW
  emissivity  = 0.85 .. 0.92
  temperature = 330 K
  sink        = 3 K
  sides       = 2
}
check fits_bus:  panel.area <= 900 m^2
check too_small: panel.area <= 850 m^2
check hot:       panel.flux >= 300 W/m^2
"""


def other(index: int) -> str:
    return f"""\
radiator other{index} {{
  heat        = {index + 1} MW
  emissivity  = 0.8 .. 0.9
  temperature = {300 + index} K .. {340 + index} K
  sink        = 3 K .. 40 K
  sides       = 2
}}
check other{index}_fits: other{index}.area <= {1000 + index * 100} m^2
"""


def model_of(text: str):
    model, diagnostics = resolve(parse_text("t.spec", text))
    assert model is not None, [d.header() for d in diagnostics]
    return model


def verdicts(text: str) -> dict:
    outcome = solve.solve(model_of(text))
    assert outcome.vacuity is None
    return {v.claim.name: v for v in outcome.verdicts}


def shown(v, relevant):
    """What a report can show of a point: the values of the claim's own unknowns."""
    return None if v is None else tuple((uid, value) for uid, value in v.values if uid in relevant)


def test_verdicts_and_worst_cases_do_not_depend_on_unrelated_blocks():
    alone = verdicts(PANEL)
    crowded = verdicts(other(0) + other(1) + PANEL + other(2) + other(3))
    for name, v in alone.items():
        w = crowded[name]
        assert (v.status, v.relevant, v.left, v.right, v.values, v.margin, v.rests_on) == (w.status, w.relevant, w.left, w.right, w.values, w.margin, w.rests_on), name
        assert shown(v.point, v.relevant) == shown(w.point, w.relevant), name
        if v.worst is not None:
            assert (v.worst.value, v.worst.bound, v.worst.exact, v.worst.free) == (w.worst.value, w.worst.bound, w.worst.exact, w.worst.free), name
            assert shown(v.worst.point, v.relevant) == shown(w.worst.point, w.relevant), name
    assert alone["fits_bus"].status == "proved" and alone["too_small"].status == "violated"
    assert alone["fits_bus"].relevant == ("panel.emissivity",)


def test_every_point_lies_in_every_range():
    """The unknowns a claim does not depend on keep a point of their own ranges (the replay runs
    whole blocks, so every value it reads must be admissible)."""
    model = model_of(other(0) + PANEL + other(1))
    outcome = solve.solve(model)
    points = [v.point for v in outcome.verdicts if v.point is not None] + [v.worst.point for v in outcome.verdicts if v.worst is not None]
    assert points
    for point in points:
        assert {uid for uid, _ in point.values} == {u.id for u in model.unknowns}
        for unknown in model.unknowns:
            assert unknown.low <= point.get(unknown.id) <= unknown.high


def test_an_assumption_pulls_the_unknowns_it_ties_into_the_slice():
    text = """\
radiator hot {
  heat = 1 MW; emissivity = 0.9; temperature = 300 K .. 400 K; sink = 3 K; sides = 2
}
radiator cool {
  heat = 1 MW; emissivity = 0.9; temperature = 300 K .. 400 K; sink = 3 K; sides = 2
}
assume hotter: hot.temperature >= cool.temperature + 50 K
check small: hot.area <= 1000 m^2
"""
    v = verdicts(text)["small"]
    # alone, hot.temperature = 300 K gives 1 210 m^2; the assumption keeps it at 350 K or more (653 m^2)
    assert v.status == "proved"
    assert v.relevant == ("hot.temperature", "cool.temperature")
    assert "assume hotter" in v.rests_on
    assert v.worst is not None and 652 < v.worst.value <= 654 and 350 <= v.worst.point.get("hot.temperature") < 351


def test_a_constant_claim_makes_no_solver_query():
    text = PANEL + "check constant: 2 * panel.heat <= 3 MW\ncheck constant_area: panel.sides * panel.heat >= 3 MW\n"
    model = model_of(text)
    session = solve._Session(model, Limits())
    assert session.vacuity() == (None, "")
    by_name = {c.name: c for c in model.checks}

    before = solve.QUERIES
    proved = session.check(by_name["constant"])
    broken = session.check(by_name["constant_area"])
    assert solve.QUERIES == before  # exact arithmetic alone
    assert proved.status == "proved" and proved.worst is not None and proved.worst.exact
    assert proved.worst.value == 2_000_000 and proved.margin == 1_000_000
    assert broken.status == "violated" and (broken.left, broken.right) == (2_000_000, 3_000_000)
    assert broken.point is not None and broken.relevant == ()

    session.check(by_name["fits_bus"])  # a claim on a range does query the solver
    assert solve.QUERIES > before


def test_exact_arithmetic_agrees_with_the_solver(monkeypatch):
    """The same constant claims decided by the solver (the exact path switched off) give the same
    verdicts, worst cases, margins and explanations."""
    text = """\
gpu H100 { peak = 989 TFLOP/s; memory = 80 GB; tdp = 700 W; idle = 100 W }
cluster fleet {
  pool a = 64 x H100
  network { topology = ring; bandwidth = 50 GB/s; latency = 5 us }
  power { facility = 1 MW; pue = 1.2; overhead = 30 % }
}
workload train on fleet {
  kind = training; params = 7e9; batch = 4e6 token; efficiency = 40 %; shards = 8; overlap = 50 %
}
radiator panel { heat = 1 MW; emissivity = 0.9; temperature = 330 K; sink = 3 K; sides = 2 }
check mfu:  train.mfu >= 30 %
check step: train.step_time <= 0.01 s
check grid: fleet.power.draw <= fleet.power.facility
check area: panel.area <= 900 m^2
"""
    model = model_of(text)
    exact = solve.solve(model)
    before = solve.QUERIES
    monkeypatch.setattr(solve._Session, "constant_verdict", lambda self, claim, encoded, divisors: None)
    solved = solve.solve(model)
    assert solve.QUERIES > before  # the solver really decided them this time
    statuses = set()
    for a, b in zip(exact.verdicts, solved.verdicts):
        statuses.add(a.status)
        assert (a.status, a.failing, a.left, a.right, a.values, a.margin, a.zero_divisor) == (b.status, b.failing, b.left, b.right, b.values, b.margin, b.zero_divisor), a.claim.name
        assert (a.worst is None) == (b.worst is None), a.claim.name
        if a.worst is not None:
            assert (a.worst.value, a.worst.bound, a.worst.exact, a.worst.maximize) == (b.worst.value, b.worst.bound, b.worst.exact, b.worst.maximize), a.claim.name
    assert statuses == {"proved", "violated"}


def test_exact_values_follow_the_rules_of_arithmetic():
    import z3

    ctx = z3.Context()
    x = z3.RealVal("3/4", ctx)
    assert solve._exact(x * 4 - x / 3 + x**2) == Fraction(3) - Fraction(1, 4) + Fraction(9, 16)
    assert solve._exact(z3.If(x > 1, x, -x)) == Fraction(-3, 4)
    assert solve._exact(x / (x - x)) is None  # Z3's division by zero is arbitrary: not decided here
    assert solve._exact(x + z3.Real("u", ctx)) is None


# ---- worst cases at corners ---------------------------------------------------------------

BUMP = PANEL.replace("0.85 .. 0.92", "0.3 .. 0.9") + """\
check bump: panel.emissivity * (1 - panel.emissivity) <= 0.3
check dip:  panel.emissivity * (1 - panel.emissivity) >= 0.1
"""


def test_a_monotone_worst_case_is_proved_at_its_corner_by_one_query(monkeypatch):
    """The area falls as the emissivity rises: its worst case is the low corner. The corners are
    evaluated exactly and one query shows nothing lies beyond; the bisection (switched off by
    making the corner path give up) finds the same worst case with many more queries."""
    model = model_of(PANEL)
    claim = next(c for c in model.checks if c.name == "fits_bus")

    def worst_case(session):
        before = solve.QUERIES
        verdict = session.check(claim)
        return verdict, solve.QUERIES - before

    session = solve._Session(model, Limits())
    session.vacuity()
    fast, fast_queries = worst_case(session)
    monkeypatch.setattr(solve._Session, "corners", lambda self, *a: None)
    slow, slow_queries = worst_case(session)
    assert fast.worst == slow.worst and fast.margin == slow.margin and fast.rests_on == slow.rests_on
    assert fast.worst.exact and fast.worst.point.get("panel.emissivity") == Fraction(85, 100)
    assert fast_queries == 2  # the claim, then the probe beyond the corner
    assert slow_queries > 6


def test_a_worst_case_inside_the_range_is_not_taken_for_a_corner():
    """e(1 - e) peaks at e = 0.5, inside 0.3 .. 0.9: the query beyond the best corner (0.21 at 0.3)
    is satisfiable, so the search runs and finds 0.25. Its minimum does sit at a corner (0.09)."""
    found = verdicts(BUMP)
    bump, dip = found["bump"], found["dip"]
    assert bump.status == "proved" and bump.worst.value == Fraction(1, 4) and bump.worst.point.get("panel.emissivity") == Fraction(1, 2)
    assert bump.worst.exact and bump.margin == Fraction(1, 20)
    assert dip.status == "violated" and dip.worst.value == Fraction(9, 100) and dip.worst.exact
    assert dip.worst.point.get("panel.emissivity") == Fraction(9, 10)


def test_free_unknowns_at_a_corner_match_the_search(monkeypatch):
    """An unknown of the claim that its term does not contain is free; one whose other end changes
    the value is not; the rest (here a factor times zero) are asked of the solver. The corner path
    and the search agree on all of them."""
    text = other(0) + other(1) + """\
check right: other0.area <= 5000 m^2 + 0 * other1.area
check zero: other0.area + 0 * other1.emissivity * 1 m^2 <= 5000 m^2
"""
    taken = []
    real = solve._Session.corners

    def watched(self, *args):
        worst = real(self, *args)
        taken.append(worst is not None)
        return worst

    monkeypatch.setattr(solve._Session, "corners", watched)
    fast = verdicts(text)
    assert taken and all(taken)  # every worst case here sits at a corner
    monkeypatch.setattr(solve._Session, "corners", lambda self, *a: None)
    slow = verdicts(text)
    for name in ("right", "zero", "other0_fits", "other1_fits"):
        assert fast[name].worst == slow[name].worst, name
    assert set(fast["right"].worst.free) == {"other1.emissivity", "other1.temperature", "other1.sink"}
    assert fast["zero"].worst.free == ("other1.emissivity",)
    assert fast["other0_fits"].worst.free == ()
