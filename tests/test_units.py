"""The unit table: exact scales, dimensions, and diagnostics that name both units."""

from __future__ import annotations

from fractions import Fraction

import pytest

from checker import units as u
from conftest import verify


@pytest.mark.parametrize(
    "text, scale, dim",
    [
        ("ns", Fraction(1, 10**9), u.TIME), ("us", Fraction(1, 10**6), u.TIME), ("ms", Fraction(1, 1000), u.TIME),
        ("s", 1, u.TIME), ("min", 60, u.TIME), ("h", 3600, u.TIME),
        ("B", 1, u.DATA), ("KB", 1000, u.DATA), ("MB", 10**6, u.DATA), ("GB", 10**9, u.DATA), ("TB", 10**12, u.DATA),
        ("PB", 10**15, u.DATA), ("KiB", 1024, u.DATA), ("MiB", 2**20, u.DATA), ("GiB", 2**30, u.DATA), ("TiB", 2**40, u.DATA),
        ("b", Fraction(1, 8), u.DATA), ("Gb", Fraction(10**9, 8), u.DATA), ("Tb", Fraction(10**12, 8), u.DATA),
        ("FLOP/s", 1, u.RATE), ("TFLOP/s", 10**12, u.RATE), ("PFLOP/s", 10**15, u.RATE),
        ("B/s", 1, u.BANDWIDTH), ("GB/s", 10**9, u.BANDWIDTH), ("TB/s", 10**12, u.BANDWIDTH), ("Gb/s", Fraction(10**9, 8), u.BANDWIDTH),
        ("W/s", 1, u.SLEW), ("MW/s", 10**6, u.SLEW), ("token/s", 1, u.THROUGHPUT),
        ("W", 1, u.POWER), ("kW", 1000, u.POWER), ("MW", 10**6, u.POWER), ("GW", 10**9, u.POWER),
        ("J", 1, u.ENERGY), ("kWh", 3_600_000, u.ENERGY), ("MWh", 3_600_000_000, u.ENERGY),
        ("K", 1, u.TEMPERATURE), ("m", 1, u.LENGTH), ("km", 1000, u.LENGTH), ("m^2", 1, u.AREA), ("km^2", 10**6, u.AREA),
        ("%", Fraction(1, 100), u.ONE), ("token", 1, u.TOKEN), ("FLOP", 1, u.WORK), ("W/m^2", 1, u.FLUX),
    ],
)
def test_unit_table(text, scale, dim):
    assert u.parse_unit(text) == (Fraction(scale), dim)


def test_energy_is_power_times_time():
    assert u.POWER * u.TIME == u.ENERGY
    assert u.parse_unit("kWh")[0] == u.parse_unit("kW")[0] * u.parse_unit("h")[0]


def test_unknown_unit_suggests_a_close_one():
    with pytest.raises(u.UnitError) as exc:
        u.parse_unit("TFLOPS/s")
    assert exc.value.symbol == "TFLOPS" and exc.value.suggestion == "TFLOP"


def test_canonical_names():
    assert u.canonical_name(u.RATE) == "FLOP/s"
    assert u.canonical_name(u.AREA) == "m^2"
    assert u.canonical_name(u.FLUX) == "W/m^2"
    assert u.canonical_name(u.ONE) == "1"


RADIATOR = "radiator p {{ heat = {heat}; emissivity = 0.9; temperature = 300 K }}\n"


@pytest.mark.parametrize(
    "text, line, column, message",
    [
        (RADIATOR.format(heat="1 MWatt"), 1, 23, "unknown unit 'MWatt'; did you mean 'MW'? [unknown-unit]"),
        (RADIATOR.format(heat="1"), 1, 21, "'heat' needs a unit of W, kW, MW, GW; found a bare number [unit-mismatch]"),
        (RADIATOR.format(heat="1 m^2"), 1, 21, "units do not match (m^2 and W): 'heat' takes W, kW, MW, GW [unit-mismatch]"),
        (RADIATOR.format(heat="1 MW") + "check c: p.area <= 900 W\n", 2, 1, "units do not match (m^2 and W) [unit-mismatch]"),
        (RADIATOR.format(heat="1 MW") + "check c: p.area <= 900\n", 2, 1, "units do not match (m^2 and a bare number) [unit-mismatch]"),
        (RADIATOR.format(heat="1 MW") + "check c: p.area + p.heat <= 900 m^2\n", 2, 10, "units do not match (m^2 and W) [unit-mismatch]"),
        (RADIATOR.format(heat="1 MW") + "check c: max(p.area, 3 K) <= 900 m^2\n", 2, 22, "units do not match (m^2 and K) [unit-mismatch]"),
        (RADIATOR.format(heat="1 MW .. 2 m^2"), 1, 21, "units do not match (MW and m^2) [unit-mismatch]"),
    ],
)
def test_unit_diagnostics_name_both_units_and_the_place(spec, text, line, column, message):
    result = verify(spec(text))
    assert result.code == 2
    assert f":{line}:{column}: error: {message}" in result.out, result.out


def test_units_are_checked_before_solving(spec, monkeypatch):
    import checker.api
    import checker.solve

    def boom(*args, **kwargs):
        raise AssertionError("the solver ran on a spec with a unit error")

    monkeypatch.setattr(checker.solve, "solve", boom)
    result = verify(spec(RADIATOR.format(heat="1 MW") + "check c: p.area <= 900 W\n"))
    assert result.code == 2
