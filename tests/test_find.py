"""find max/min statements: answers computed by hand, both sides confirmed by the simulation
core, the report formats, and `--baseline` watching an answer move."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from checker import sim
from checker.api import check_text
from checker.encode import SIGMA
from checker.solve_find import TOLERANCE
from conftest import DATA, verify

import jsonschema  # noqa: E402
import xmlschema  # noqa: E402

MW = Fraction(10**6)


def radiator(heat: str = "1 MW", emissivity: str = "0.85 .. 0.92", temperature: str = "330 K") -> str:
    return f"radiator panel {{\n  heat = {heat}\n  emissivity = {emissivity}\n  temperature = {temperature}\n  sink = 3 K\n  sides = 2\n}}\n"


def run(text: str):
    result = check_text("t.spec", text)
    assert not result.invalid, result.diagnostics
    return result


def verdict(result, name: str):
    return next(v for v in result.verdicts if v.claim.name == name)


# ---- answers by hand --------------------------------------------------------------------------


def test_a_linear_boundary_is_exact():
    """area = heat / (sides x emissivity x sigma x (T^4 - sink^4)) is linear in heat, largest at
    the lowest emissivity: the most heat 900 m^2 rejects is 900 x 2 x 0.85 x sigma x (330^4 - 3^4)."""
    result = run(radiator(heat="0.5 MW .. 2 MW") + "find most_heat: max panel.heat such that panel.area <= 900 m^2\n")
    v = verdict(result, "most_heat")
    expected = 900 * 2 * Fraction(85, 100) * SIGMA * (330**4 - 3**4)
    assert v.status == "proved"
    assert v.answer.exact and not v.answer.open and not v.answer.whole
    assert v.answer.proved == expected
    assert expected < v.answer.beyond <= expected + Fraction(3, 2) * MW * TOLERANCE  # the counterexample is just beyond
    assert v.answer.point.get("panel.emissivity") == Fraction(85, 100)
    assert v.answer.left > 900 and v.answer.right == 900


def test_a_strict_claim_gives_an_answer_that_is_excluded():
    result = run(radiator(heat="0.5 MW .. 2 MW") + "find most_heat: max panel.heat such that panel.area < 900 m^2\n")
    v = verdict(result, "most_heat")
    expected = 900 * 2 * Fraction(85, 100) * SIGMA * (330**4 - 3**4)
    assert v.status == "proved" and v.answer.exact and v.answer.open
    assert v.answer.proved == v.answer.beyond == expected  # fails exactly there, holds on every value before
    assert v.answer.left == v.answer.right == 900


def test_an_irrational_boundary_is_bracketed_within_the_tolerance():
    """The lowest temperature at which 900 m^2 suffices: T^4 = heat / (900 x 2 x 0.85 x sigma) + 3^4,
    a fourth root (irrational): bracketed, compared exactly through fourth powers."""
    result = run(radiator(temperature="300 K .. 400 K") + "find coolest: min panel.temperature such that panel.area <= 900 m^2\n")
    v = verdict(result, "coolest")
    fourth = MW / (900 * 2 * Fraction(85, 100) * SIGMA) + 3**4
    a = v.answer
    assert v.status == "proved" and not a.exact and not a.maximize
    assert a.beyond**4 < fourth <= a.proved**4  # the true boundary lies in the bracket
    assert 0 < a.proved - a.beyond <= 100 * TOLERANCE
    assert a.tolerance == 100 * TOLERANCE  # of the range's width, 100 K


def test_the_whole_range_and_no_answer():
    whole = run(radiator(heat="0.5 MW .. 0.6 MW") + "find f: max panel.heat such that panel.area <= 900 m^2\n")
    v = verdict(whole, "f")
    assert v.status == "proved" and v.answer.whole and v.answer.proved == Fraction(6, 10) * MW and v.answer.point is None
    none = run(radiator(heat="2 MW .. 3 MW") + "find f: max panel.heat such that panel.area <= 900 m^2\n")
    v = verdict(none, "f")
    assert v.status == "violated" and v.point.get("panel.heat") == 2 * MW and none.exit_code == 1
    assert none.replays["f"].status == "confirmed"


def test_no_monotonicity_is_assumed():
    """max(heat, 3 MW - heat) >= 1.8 MW holds for heat up to 1.2 MW, fails on (1.2, 1.8) MW and
    holds again above: the answer stops at the first failure, 1.2 MW, not at the range's end."""
    result = run(radiator(heat="0.5 MW .. 3 MW") + "find f: max panel.heat such that max(panel.heat, 3 MW - panel.heat) >= 1.8 MW\n")
    v = verdict(result, "f")
    assert v.status == "proved" and v.answer.exact and v.answer.proved == Fraction(12, 10) * MW
    assert Fraction(12, 10) * MW < v.answer.beyond < Fraction(18, 10) * MW
    mirrored = run(radiator(heat="0.5 MW .. 3 MW") + "find f: min panel.heat such that max(panel.heat, 3 MW - panel.heat) >= 1.8 MW\n")
    assert verdict(mirrored, "f").answer.proved == Fraction(18, 10) * MW


# ---- both sides confirmed by the simulation core ------------------------------------------------


@pytest.mark.parametrize("text,name", [
    (radiator(heat="0.5 MW .. 2 MW") + "find f: max panel.heat such that panel.area <= 900 m^2\n", "f"),
    (radiator(temperature="300 K .. 400 K") + "find f: min panel.temperature such that panel.area <= 900 m^2\n", "f"),
])
def test_the_simulation_core_confirms_both_sides(text, name):
    result = run(text)
    v, replay = verdict(result, name), result.replays[name]
    assert replay.status == "confirmed"
    a = v.answer
    # independently of the replay: the core's radiator at the answer and just beyond it
    for point, holds in ((a.safe, True), (a.point, False)):
        values = dict(point.values)
        heat = values.get("panel.heat", MW)
        temperature = values.get("panel.temperature", Fraction(330))
        area = sim.area_for(heat, values["panel.emissivity"], temperature, Fraction(3), 2)
        assert (area <= 900) == holds, (point, float(area))
    assert a.safe.get(a.unknown) == a.proved


def test_a_wrong_answer_is_caught_by_the_replay(monkeypatch):
    """Were the solver's answer off (proved a step too far), the core finds the claim broken at
    the answer's point and the file is inconsistent (exit 4), never a pass."""
    from checker import replay_find
    from checker.verdicts import Point

    real = replay_find.replay_find

    def shifted(model, v):
        a = v.answer
        wrong = Point(tuple((u, a.beyond if u == a.unknown else x) for u, x in a.safe.values))
        return real(model, type(v)(**{**{f: getattr(v, f) for f in v.__slots__}, "answer": type(a)(**{**{f: getattr(a, f) for f in a.__slots__}, "safe": wrong})}))

    monkeypatch.setattr("checker.api.replay_find", shifted)
    result = run(radiator(heat="0.5 MW .. 2 MW") + "find f: max panel.heat such that panel.area <= 900 m^2\n")
    assert result.replays["f"].status == "disagrees" and result.exit_code == 4


# ---- errors ------------------------------------------------------------------------------------


def test_a_find_of_a_constant_field_is_an_error_on_its_line(spec):
    out = verify(spec(radiator() + "\nfind f: max panel.heat such that panel.area <= 900 m^2\n"))
    assert out.code == 2 and "t.spec:9:13: error: 'panel.heat' is not a range" in out.out and "[find-target]" in out.out


def test_a_per_pool_range_names_its_pool_when_there_are_several(spec):
    text = (
        "gpu A { peak = 1 PFLOP/s; memory = 80 GB; tdp = 700 W; idle = 100 W }\n"
        "cluster c { pool p = 8 x A; pool q = 8 x A; network { topology = ring; bandwidth = 50 GB/s; latency = 5 us } }\n"
        "workload w on c { kind = training; params = 1e9; batch = 1e6 token; efficiency = 40 %; jitter = 0 % .. 5 %; shards = 1; overlap = 0 % }\n"
        "find f: max w.jitter such that w.mfu >= 1 %\n"
    )
    out = verify(spec(text))
    assert out.code == 2 and "'w.jitter' is one range per pool here; name one: w.jitter.p, w.jitter.q" in out.out
    named = verify(spec(text.replace("max w.jitter", "max w.jitter.q")))
    assert named.code == 0, named.out


# ---- report formats ------------------------------------------------------------------------------


FIND = radiator(heat="0.5 MW .. 2 MW") + "find most_heat: max panel.heat such that panel.area <= 900 m^2\nfind none: max panel.heat such that panel.area <= 100 m^2\n"


def test_the_text_report(spec):
    out = verify(spec(FIND))
    assert out.code == 1
    assert "  proved    most_heat  (line 8)" in out.out and "  violated  none  (line 9)" in out.out
    assert "note: find 'most_heat': the highest panel.heat is 1.02886626 MW (exact) [proved]" in out.out
    assert "  just above it, a counterexample:" in out.out and "    panel.heat = 1.028867 MW  (line 2)" in out.out
    assert "  confirmed by simulation on both sides: panel.area = 900 m^2 at panel.heat = 1.02886626 MW, and 900.000650 m^2 beyond it" in out.out
    assert "error: find 'none' has no answer: panel.area <= 100 m^2 fails already at panel.heat = 0.5 MW, the start of its range [violated]" in out.out


def test_the_json_record_carries_the_answer(spec):
    report = json.loads(verify("--format", "json", spec(FIND)).out)
    checks = {c["name"]: c for c in report["files"][0]["checks"]}
    found = checks["most_heat"]["find"]
    expected = 900 * 2 * Fraction(85, 100) * SIGMA * (330**4 - 3**4)
    assert (found["goal"], found["range"], found["exact"], found["excluded"], found["whole_range"]) == ("max", "panel.heat", True, False, False)
    assert Fraction(found["answer"]["exact"]) == expected and Fraction(found["beyond"]["exact"]) > expected
    assert Fraction(checks["most_heat"]["margin"]["exact"]) == expected - MW / 2  # the answer's distance from the range's start
    assert {u["name"]: Fraction(u["value"]["exact"]) for u in found["counterexample"]["unknowns"]}["panel.emissivity"] == Fraction(85, 100)
    assert Fraction(found["at_answer"]["left"]["exact"]) == 900
    assert checks["none"]["status"] == "violated" and checks["none"]["counterexample"]["unknowns"]


def test_sarif_and_junit_validate(spec):
    path = spec(FIND)
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    document = json.loads(verify("--format", "sarif", path).out)
    assert list(validator.iter_errors(document)) == []
    assert [r["ruleId"] for r in document["runs"][0]["results"]] == ["check/none"]
    (rule,) = [r for r in document["runs"][0]["tool"]["driver"]["rules"] if r["id"] == "check/none"]
    assert rule["shortDescription"]["text"] == "find 'none' has an answer in the declared ranges (max panel.heat)"
    junit = verify("--format", "junit", path).out
    xmlschema.XMLSchema(str(DATA / "junit.xsd")).validate(junit)
    assert 'name="most_heat"' in junit and junit.count("<failure") == 1


# ---- --baseline watches the answer ---------------------------------------------------------------


@pytest.mark.parametrize("goal,field,before,after,word", [
    ("max", "heat", "0.5 MW .. 2 MW", "900 m^2|800 m^2", "fell"),  # less heat tolerated: worse
    ("min", "temperature", "300 K .. 400 K", "900 m^2|800 m^2", "rose"),  # a hotter panel needed: worse
])
def test_the_baseline_reads_an_answer_moving_the_bad_way_as_a_margin_that_fell(goal, field, before, after, word, tmp_path):
    kwargs = {field: before}
    old_bound, new_bound = after.split("|")
    text = radiator(**kwargs) + f"find f: {goal} panel.{field} such that panel.area <= {old_bound}\n"
    old, new = tmp_path / "old.spec", tmp_path / "new.spec"
    old.write_text(text, encoding="utf-8")
    new.write_text(text.replace(old_bound, new_bound), encoding="utf-8")
    report = tmp_path / "old.json"
    assert verify("--format", "json", "--output", str(report), str(old)).code == 0
    out = verify("--baseline", str(report), str(new))
    assert f"  f: still proved; answer {word} from " in out.out
    assert "margin fell from" in out.out and "margin fell in 1," in out.out
    data = json.loads(verify("--format", "json", "--baseline", str(report), str(new)).out)
    (entry,) = data["baseline"]["files"][0]["checks"]
    assert entry["answer"]["trend"] == word and entry["margin"]["trend"] == "fell"
    assert data["baseline"]["summary"]["margin_fell"] == 1
    # the same spec again: nothing moved
    same = json.loads(verify("--format", "json", "--baseline", str(report), str(old)).out)
    assert same["baseline"]["files"][0]["checks"][0]["answer"]["trend"] == "unchanged"


def test_the_language_server_finds_the_references_of_a_find():
    from checker.lsp import target
    from checker.parse import parse_text

    spec = parse_text("t.spec", radiator(heat="0.5 MW .. 2 MW") + "find f: max panel.heat such that panel.area <= 900 m^2\n")
    assert target(spec, 8, 14)[:2] == ("block", "panel")
    assert target(spec, 8, 20) == ("quantity", ("panel", "heat"), spec.statements[1].target.span)
    assert target(spec, 8, 41)[:2] == ("quantity", ("panel", "area"))


def test_a_search_the_solver_gives_up_on_is_unknown_never_a_pass(spec):
    out = verify("--rlimit", "1", spec(radiator(temperature="300 K .. 400 K") + "find f: min panel.temperature such that panel.area <= 900 m^2\n"))
    assert out.code == 3 and "warning: find 'f' is unknown: " in out.out and "this is not a pass" in out.out


def test_a_search_stopped_before_the_tolerance_is_unknown_with_its_bracket(spec, monkeypatch):
    from checker import solve_find

    monkeypatch.setattr(solve_find, "MAX_QUERIES", 6)
    result = run(radiator(temperature="300 K .. 400 K") + "find f: min panel.temperature such that panel.area <= 900 m^2\n")
    v = verdict(result, "f")
    fourth = MW / (900 * 2 * Fraction(85, 100) * SIGMA) + 3**4
    assert v.status == "unknown" and "not narrowed to the tolerance" in v.reason and result.exit_code == 3
    assert v.answer.beyond**4 < fourth <= v.answer.proved**4 and v.answer.proved - v.answer.beyond > 100 * TOLERANCE
    out = verify(spec(radiator(temperature="300 K .. 400 K") + "find f: min panel.temperature such that panel.area <= 900 m^2\n"))
    assert "  the answer lies between " in out.out and out.code == 3


# ---- the answer against the closed form solved by hand, over generated radiators ---------------

from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=12, deadline=None)
@given(
    low=st.integers(1, 20), width=st.integers(1, 40), emissivity=st.integers(50, 95), temperature=st.integers(250, 450), bound=st.integers(50, 5000),
)
def test_the_answer_brackets_the_boundary_solved_by_hand(low, width, emissivity, temperature, bound):
    """max heat such that area <= bound: the boundary is bound x 2 x emissivity x sigma x (T^4 - 3^4),
    exact; the report's answer is that value (or the range's end, or no answer), and the core
    confirms both sides."""
    heat_low, heat_high = Fraction(low, 10) * MW, Fraction(low + width, 10) * MW
    text = radiator(heat=f"{low * 100} kW .. {(low + width) * 100} kW", emissivity=f"{emissivity} %", temperature=f"{temperature} K")
    result = run(text + f"find f: max panel.heat such that panel.area <= {bound} m^2\n")
    v = verdict(result, "f")
    boundary = bound * 2 * Fraction(emissivity, 100) * SIGMA * (temperature**4 - 3**4)
    if boundary < heat_low:
        assert v.status == "violated" and v.point.get("panel.heat") == heat_low
    elif boundary >= heat_high:
        assert v.status == "proved" and v.answer.whole and v.answer.proved == heat_high
    else:
        assert v.status == "proved" and v.answer.proved <= boundary < v.answer.beyond
        assert v.answer.beyond - v.answer.proved <= (heat_high - heat_low) * TOLERANCE or v.answer.exact
        assert v.answer.exact and v.answer.proved == boundary  # linear in heat: a rational boundary, found exactly
        assert result.replays["f"].status == "confirmed"
