"""Names, duplicates, required fields, invariants and vacuity: each at the line that causes it."""

from __future__ import annotations

import pytest

from conftest import verify

PANEL = """radiator panel {{
  heat        = 1 MW
  emissivity  = {emissivity}
  temperature = {temperature}
  sink        = {sink}
  sides       = {sides}
}}
"""


def panel(emissivity="0.9", temperature="330 K", sink="3 K", sides="2") -> str:
    return PANEL.format(emissivity=emissivity, temperature=temperature, sink=sink, sides=sides)


@pytest.mark.parametrize(
    "text, where, message",
    [
        (panel() + "check c: panle.area <= 900 m^2\n", ":8:10:", "unknown name 'panle'; did you mean 'panel'? [unknown-name]"),
        (panel() + "check c: panel.aera <= 900 m^2\n", ":8:16:", "radiator 'panel' has no quantity 'aera'; did you mean 'area'? [unknown-field]"),
        (panel().replace("heat ", "haet ") + "check c: panel.area <= 900 m^2\n", ":2:3:", "a radiator has no field 'haet'; did you mean 'heat'? [unknown-field]"),
        (panel() + panel(), ":8:10:", "'panel' is already declared on line 1 [duplicate]"),
        (panel().replace("  sides", "  heat = 2 MW\n  sides"), ":6:3:", "'heat' is already set on line 2 [duplicate]"),
        (panel() + "check c: panel.area <= 1 m^2\ncheck c: panel.area <= 2 m^2\n", ":9:7:", "'c' is already used on line 8 [duplicate]"),
        ("radiator panel { emissivity = 0.9; temperature = 300 K }\n", ":1:1:", "radiator 'panel' needs a 'heat' field (heat to reject) [missing-field]"),
        ("radiator panel { heat = 1 MW; emissivity = 0.9 }\n", ":1:10:", "needs a 'temperature' or an 'area' field (the other is derived) [missing-field]"),
        ("cluster c {\n  pool a = 8 x H100\n  power { rack = 72 }\n}\n", ":3:11:", "'rack' needs 'rack_power' beside it in c.power: a count of GPUs and the power each such group draws beside them [missing-field]"),
        ("cluster c {\n  pool a = 8 x H100\n  power { node_power = 1 kW }\n}\n", ":3:11:", "'node_power' needs 'node' beside it in c.power: a count of GPUs and the power each such group draws beside them [missing-field]"),
        ("cluster c {\n  pool a = 8 x H100\n  power { band_high = 20 Hz }\n}\n", ":3:11:", "'band_high' needs 'band_low' beside it in c.power: the grid's oscillation band runs from band_low to band_high [missing-field]"),
        ("cluster c {\n  pool a = 8 x H100\n  power { start_stages = 101 }\n}\n", ":3:26:", "'start_stages' must be at most 100, not 101: each stage is stepped on its own [bad-value]"),
        ("radiator panel { heat = 1 MW; emissivity = 0.9; temperature = 300 K; area = 5 m^2 }\n", ":1:70:", "gives both temperature and area; give one, the other is derived [conflicting-fields]"),
        (panel(sides="3"), ":6:17:", "'sides' must be 1 or 2, not 3 [bad-value]"),
        (panel(sides="1.5"), ":6:17:", "'sides' must be a positive whole number, not 1.5 [not-integer]"),
        (panel(emissivity="0.92 .. 0.85"), ":3:17:", "the range of 'panel.emissivity' is empty: its low end is above its high end [empty-range]"),
        (panel() + "check c: sqrt(panel.area) <= 30 m\n", ":8:10:", "unknown function 'sqrt'; the functions are min and max [unknown-function]"),
        (panel() + "check c: panel.area / 0 <= 30 m^2\n", ":8:23:", "division by zero [division-by-zero]"),
        (panel(emissivity="panel.heat"), ":3:17:", "a field's value must be a number with its unit (or a range of them), not a reference or a call [not-constant]"),
    ],
)
def test_resolution_errors(spec, text, where, message):
    result = verify(spec(text))
    assert result.code == 2, result.out
    line = next((l for l in result.out.splitlines() if where in l), None)
    assert line is not None and message in line, result.out


@pytest.mark.parametrize(
    "text, line, name",
    [
        (panel(emissivity="1.2"), 3, "panel.emissivity is within (0, 100 %]"),
        (panel(emissivity="0.8 .. 1.1"), 3, "panel.emissivity is within (0, 100 %]"),
        (panel(emissivity="0 .. 0.5"), 3, "panel.emissivity is within (0, 100 %]"),
        (panel(temperature="3 K"), 4, "panel is hotter than its sink"),
        (panel(temperature="200 K .. 400 K", sink="250 K"), 4, "panel is hotter than its sink"),
        (panel(temperature="0 K"), 4, "panel.temperature is positive"),
        # in sunlight at 200 K, facing the sun and the Earth, it absorbs more than it emits
        (panel(temperature="200 K").replace("  sides", "  absorptance = 0.9; sun_view = 1; earth_view = 80 %\n  sides"), 4, "panel emits more than it absorbs"),
        (panel(temperature="200 K").replace("  sides", "  earth_view = 100 %; earth_ir = 2 kW/m^2 .. 3 kW/m^2\n  sides"), 4, "panel emits more than it absorbs"),
    ],
)
def test_broken_invariants_are_counterexamples_at_their_line(spec, text, line, name):
    result = verify(spec(text + "check c: panel.area <= 1 km^2\n"))
    assert result.code == 1, result.out
    assert f":{line}:" in next(l for l in result.out.splitlines() if f"invariant '{name}' is violated" in l)
    assert "[invariant]" in result.out


def test_contradictory_assumptions_are_an_error_naming_them(spec):
    text = panel(emissivity="0.8 .. 0.9") + (
        "assume low: panel.emissivity <= 0.82\n"
        "assume high: panel.emissivity >= 0.88\n"
        "assume harmless: panel.heat >= 1 W\n"
        "check c: panel.area <= 1 m^2\n"
    )
    result = verify(spec(text))
    assert result.code == 2
    assert "the assumptions 'high' and 'low' contradict each other" in result.out or "the assumptions 'low' and 'high' contradict each other" in result.out
    assert "[vacuous]" in result.out
    assert "harmless" not in result.out.split("[vacuous]")[1].split("\n\n")[0]
    assert "proved" not in result.out.split("[vacuous]")[0]


def test_an_assumption_outside_the_range_is_vacuous(spec):
    text = panel(emissivity="0.8 .. 0.9") + "assume a: panel.emissivity >= 0.95\ncheck c: panel.area <= 1 m^2\n"
    result = verify(spec(text))
    assert result.code == 2 and "[vacuous]" in result.out and "the range of panel.emissivity (line 3)" in result.out


def test_several_errors_are_reported_in_one_run(spec):
    text = panel().replace("heat ", "haet ") + "check a: nothing.area <= 1 m^2\ncheck b: panel.area <= 1 W\n"
    out = verify(spec(text)).out
    assert "[unknown-field]" in out and "[unknown-name]" in out
