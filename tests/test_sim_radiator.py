"""Radiator panel: Stefan-Boltzmann, its inverse by bisection, and the warm-up transient."""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from checker.sim import (GRID, STEFAN_BOLTZMANN, area_for, radiated_power, temperature_for,
                         transient)

MW = F(10**6)
EPS = F(85, 100)


def test_sigma_is_exact():
    assert STEFAN_BOLTZMANN == F(5670374419, 10**17)


def test_radiated_power_by_hand():
    # 1 m^2, black, one side, 100 K to a 0 K sink: sigma * 10^8
    assert radiated_power(F(1), F(1), F(100), F(0), 1) == F("5.670374419")
    assert radiated_power(F(2), F(1, 2), F(3), F(3), 2) == 0


def test_area_for_the_orbital_module():
    area = area_for(MW, EPS, F(330), F(3), 2)
    # 1e6 / (0.85 * 5.670374419e-8 * 2 * (330^4 - 3^4)) = 874.749... m^2
    assert F(8747, 10) < area < F(8748, 10)
    assert abs(area - F(874749263, 10**6)) < F(1, 10**6)
    assert radiated_power(area, EPS, F(330), F(3), 2) == MW


def test_temperature_for_inverts_area_for():
    area = area_for(MW, EPS, F(330), F(3), 2)
    assert abs(temperature_for(MW, EPS, area, F(3), 2) - 330) < F(1, 10**9)


def test_temperature_for_a_given_area_by_hand():
    # (1e6 / (1000 * 0.9 * sigma * 2) + 3^4) ** (1/4) = 314.6146491510... K
    tol = F(1, 10**12)
    t = temperature_for(MW, F(9, 10), F(1000), F(3), 2, tol)
    assert abs(t - F(3146146491510, 10**10)) < F(1, 10**8)
    assert abs(radiated_power(F(1000), F(9, 10), t, F(3), 2) - MW) <= tol * MW
    assert t.denominator & (t.denominator - 1) == 0  # dyadic: denominators stay small
    assert area_for(MW, F(9, 10), t, F(3), 2) == pytest.approx(1000, rel=1e-11)


def test_transient_warms_up_monotonically_and_settles():
    area = area_for(MW, EPS, F(330), F(3), 2)
    states = transient(MW, EPS, area, F(3), 2, MW, F(3), F(10), 400)
    assert all(a <= b for a, b in zip(states, states[1:]))
    assert all(s <= 330 for s in states)  # never past the equilibrium
    assert 330 - states[-1] < F(1, 10**7)
    assert states[0] == 3 + F(10, 10**6) * (MW - radiated_power(area, EPS, F(3), F(3), 2))
    assert all((s * GRID).denominator == 1 for s in states)


def test_transient_cools_down_without_undershoot():
    area = area_for(MW, EPS, F(330), F(3), 2)
    states = transient(MW, EPS, area, F(3), 2, MW, F(400), F(5), 400)
    assert all(a >= b for a, b in zip(states, states[1:]))
    assert all(s >= 330 for s in states)
    assert states[-1] - 330 < F(1, 10**7)


def test_transient_refuses_an_unstable_step():
    area = area_for(MW, EPS, F(330), F(3), 2)
    with pytest.raises(ValueError):
        transient(MW, EPS, area, F(3), 2, MW, F(3), F(100), 10)


def test_a_radiator_colder_than_its_sink_has_no_area():
    with pytest.raises(ValueError):
        area_for(MW, EPS, F(3), F(3), 2)
