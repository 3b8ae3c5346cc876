"""A radiator's eclipse transient: the closed form by hand, the core against exact solutions,
both against the lumped-capacitance solution of Incropera et al., and the errors."""

from __future__ import annotations

import math
from fractions import Fraction as F

import pytest
import z3

from checker import codes
from checker.api import check_text
from checker.encode import SIGMA, encode, val
from checker.encode_eclipse import PHASES, _hints
from checker.parse import parse_text
from checker.replay import Simulation
from checker.resolve import resolve
from checker.sim import eclipse_bounds, steady_bounds
from checker.solve import Point, fraction

# deep space, sink 0 K: the panel holds 300 K with 1 MW and the eclipse leaves it 1/16 of that,
# so it cools toward (1/16)^(1/4) * 300 K = 150 K
DEEP = ("radiator p {{ heat = 1 MW; emissivity = 0.9; temperature = 300 K; sides = 2; "
        "heat_capacity = {c}; eclipse = {d}; eclipse_heat = 62.5 kW }}\n")
# the orbit-average panel of examples/radiator-eclipse.spec
ORBIT = ("radiator p {{ heat = 1 MW; emissivity = 0.92; temperature = 293.15 K; sides = 2; "
         "earth_view = 51.55 %; absorptance = 0.26; sun_view = 17.36 %; albedo = 30 %; sunlit = 62 %; "
         "heat_capacity = {c}; eclipse = 35.5 min; eclipse_heat = {q} }}\n")


def _model(text: str):
    model, diagnostics = resolve(parse_text("t.spec", text))
    assert model is not None, [d.header() for d in diagnostics]
    return model


def closed(text: str) -> F:
    """The encoder's eclipse_temperature, every field a constant."""
    model = _model(text)
    ctx = z3.Context()
    term = z3.simplify(encode(model, ctx).quantity(("p", "eclipse_temperature")))
    assert z3.is_rational_value(term), term
    return fraction(term)[0]


def core(text: str) -> F:
    model = _model(text)
    return Simulation(model, Point(())).quantity(("p", "eclipse_temperature"))


def incropera(t0: float, t_eq: float, k: float, c: float, duration: float) -> float:
    """T(duration) for c dT/dt = k (T_eq^4 - T^4) from t0, by inverting the closed-form time of
    Incropera, DeWitt, Bergman & Lavine, Fundamentals of Heat and Mass Transfer, 6th ed.,
    Eq. 5.18 (lumped capacitance, radiation to large surroundings at T_eq), by bisection."""
    def time(t: float) -> float:
        return c / (4 * k * t_eq**3) * (math.log(abs((t_eq + t) / (t_eq - t))) - math.log(abs((t_eq + t0) / (t_eq - t0)))
                                         + 2 * (math.atan(t / t_eq) - math.atan(t0 / t_eq)))
    lo, hi = sorted((t0, t_eq))
    for _ in range(200):
        mid = (lo + hi) / 2
        if (time(mid) > duration) == (t0 > t_eq):
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def test_the_closed_form_by_hand():
    text = DEEP.format(c="10 kJ/m^2/K", d="20 min")
    k = F(9, 10) * SIGMA * 2
    load = k * F(300) ** 4  # heat / area: the steady state at 300 K with nothing absorbed
    drive, excess = load / 16, load * 15 / 16
    tangents, s = _hints(_model(text).blocks[0], PHASES)
    assert len(tangents) == PHASES and 150 < tangents[-1] < tangents[0] < 300  # along the cooling path
    decayed = excess
    for r in tangents:  # 16 phases of 75 s, each from the last one's bound, floored to 10^-9
        alpha, beta = (k * r**4 + 3 * drive) / (10**4 * r), F(3) / (10**4 * r)
        z = alpha * 75 / 16
        x = (1 - z + z**2 / 2 - z**3 / 6) ** 16
        decayed = alpha * decayed * x / (alpha + beta * decayed * (1 - x))
        decayed = F(decayed.numerator * 10**9 // decayed.denominator, 10**9)
    fourth = (drive + decayed) / k
    fourth = F(fourth.numerator // fourth.denominator)
    assert closed(text) == 4 * s * fourth / (3 * fourth + s**4)
    assert abs(float(closed(text)) - float(fourth) ** 0.25) < 1e-6
    truth = incropera(300.0, 150.0, float(k), 1e4, 1200.0)
    assert float(closed(text)) <= truth < float(closed(text)) + 0.05


def test_no_eclipse_leaves_the_steady_state_and_a_long_one_the_equilibrium():
    assert 300 - 1e-6 < closed(DEEP.format(c="10 kJ/m^2/K", d="0 s")) <= 300
    assert 150 - 1e-6 < closed(DEEP.format(c="10 kJ/m^2/K", d="10 d")) <= 150
    assert 150 <= core(DEEP.format(c="10 kJ/m^2/K", d="10 d")) < 150 + F(1, 1000)


@pytest.mark.parametrize("c, q", [("4312 J/m^2/K", "200 kW"), ("4312 J/m^2/K", "0 W"), ("43124 J/m^2/K", "200 kW"),
                                  ("4312 J/m^2/K", "1 MW"), ("10781 J/m^2/K", "600 kW")])
def test_closed_form_and_core_bracket_the_lumped_capacitance_solution(c, q):
    text = ORBIT.format(c=c, q=q)
    block = _model(text).blocks[0]
    eps = 0.92
    k = eps * float(SIGMA) * 2
    run = Simulation(_model(text), Point(())).run(block)
    area = float(run.area)
    infrared = eps * 237 * 0.5155
    drive = float(block.eclipse_heat.value) / area + infrared
    truth = incropera(293.15, (drive / k) ** 0.25, k, float(block.heat_capacity.value), 35.5 * 60)
    low, high = float(closed(text)), float(core(text))
    assert low <= truth + 1e-9 <= high + 2e-9
    assert high - truth < 0.02  # the core's implicit path: within 20 mK (spec/semantics.md)
    assert truth - low < 0.01  # the closed form: within 10 mK


def test_the_core_brackets_pure_radiative_cooling_exactly():
    # drive 0: c dT/dt = -k T^4, so T(t)^-3 = T0^-3 + 3 k t / c exactly
    k, c, t0, d = F(9, 10) * SIGMA * 2, F(5000), F(300), F(3600)
    low, high = eclipse_bounds(c, k, F(0), (t0, t0), d)
    exact_inverse_cube = t0**-3 + 3 * k * d / c
    assert low**-3 >= exact_inverse_cube >= high**-3
    assert high - low < F(1, 10)


def test_the_core_warms_too_and_brackets_the_steady_state():
    k, c = F(9, 10) * SIGMA * 2, F(5000)
    low, high = eclipse_bounds(c, k, k * F(400) ** 4, (F(300), F(300)), F(10**6))  # a long warm-up
    assert low <= 400 <= high and high - low < F(1, 1000)
    lo, hi = steady_bounds(k, k * F(400) ** 4)
    assert lo < 400 <= hi and hi - lo == F(1, 10**6)


def test_a_panel_that_warms_in_the_eclipse_is_bounded_by_its_start():
    text = ORBIT.format(c="4312 J/m^2/K", q="2 MW")
    assert 293.15 - 1e-6 < closed(text) <= F("293.15") < core(text)


def test_the_examples_figures_against_the_core():
    # examples/radiator-eclipse.spec: the closed form at most 0.05 K under the core's upper path
    for c, q, figure in [("4312 J/m^2/K", "1 MW", 286.1), ("4312 J/m^2/K", "200 kW", 222.8),
                         ("43124 J/m^2/K", "200 kW", 271.9), ("4312 J/m^2/K", "0 W", 199.4)]:
        text = ORBIT.format(c=c, q=q)
        low, high = closed(text), core(text)
        assert round(float(low), 1) == figure
        assert low <= high < low + F(5, 100)


def test_a_claim_on_it_is_confirmed_by_the_core():
    text = ORBIT.format(c="4312 J/m^2/K", q="200 kW") + "check cold: p.eclipse_temperature >= 273.15 K\n"
    result = check_text("t.spec", text)
    verdict = result.verdicts[0]
    assert verdict.status == "violated"
    assert result.replays["cold"].status == "confirmed"


def test_a_heat_capacity_without_an_eclipse_is_a_missing_field():
    text = "radiator p { heat = 1 MW; emissivity = 0.9; temperature = 300 K; heat_capacity = 4 kJ/m^2/K }\n"
    result = check_text("t.spec", text)
    [d] = [d for d in result.diagnostics if d.code == codes.MISSING_FIELD]
    assert (d.span.line, d.span.column) == (1, 66) and "eclipse" in d.message


def test_eclipse_temperature_without_the_fields_cannot_be_named():
    text = "radiator p { heat = 1 MW; emissivity = 0.9; temperature = 300 K }\ncheck c: p.eclipse_temperature >= 1 K\n"
    result = check_text("t.spec", text)
    assert result.diagnostics and all(d.severity == "error" for d in result.diagnostics)
    assert any("heat_capacity" in d.message for d in result.diagnostics), [d.message for d in result.diagnostics]


def test_every_point_of_the_ranges_is_under_the_core():
    text = ("radiator p { heat = 1 MW; emissivity = 0.92; area = 1500 m^2 .. 2000 m^2; sides = 2; sink = 3 K; "
            "heat_capacity = 4 kJ/m^2/K .. 20 kJ/m^2/K; eclipse = 30 min; eclipse_heat = 100 kW }\n")
    model = _model(text)
    ctx = z3.Context()
    enc = encode(model, ctx)
    term = enc.quantity(("p", "eclipse_temperature"))
    # the tangents sit at the ranges' middle: tight there, looser toward the corners
    for area, c, slack in [(1750, 12000, F(1, 10)), (1500, 4000, 15), (2000, 20000, 15), (2000, 4000, 15)]:
        values = dict(zip([u.id for u in model.unknowns], [F(area), F(c)]))
        subs = [(enc.variables[uid], val(v, ctx)) for uid, v in values.items()]
        low = fraction(z3.simplify(z3.substitute(term, *subs)))[0]
        high = Simulation(model, Point(tuple(values.items()))).quantity(("p", "eclipse_temperature"))
        assert low <= high < low + slack
