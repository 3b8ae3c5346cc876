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


# ---- the panel in its environment: sunlight, albedo, Earth infrared, fin efficiency ---------

from math import asin, pi, sqrt  # noqa: E402

from checker.sim import ALBEDO, EARTH_IR, SOLAR, Radiator, RadiatorSpec, absorbed_flux  # noqa: E402

EARTH_RADIUS = 6371  # km, IUGG mean radius (NASA Earth fact sheet: volumetric mean radius 6371.0 km)


def vertical_plate_view_factor(altitude_km: float) -> float:
    """View factor from one face of a plate perpendicular to the local horizontal (its normal
    horizontal) to a sphere, H = (R + h) / R: F = 1/2 - asin(sqrt(H^2 - 1) / H) / pi
    - sqrt(H^2 - 1) / (pi H^2) (Howell's catalog of radiation configuration factors, a plane
    element tilted 90° from the direction to a sphere's centre; Gilmore, Spacecraft Thermal
    Control Handbook, ch. 2). Floats: it only prepares an input, rounded to a Fraction."""
    h = (EARTH_RADIUS + altitude_km) / EARTH_RADIUS
    root = sqrt(h * h - 1)
    return 0.5 - asin(root / h) / pi - root / (pi * h * h)


def test_view_factor_limits_by_hand():
    # on the ground a vertical face sees half of an infinite plane; far away it sees nothing
    assert vertical_plate_view_factor(0) == pytest.approx(0.5)
    assert vertical_plate_view_factor(10**9) == pytest.approx(0, abs=1e-6)
    assert vertical_plate_view_factor(550) == pytest.approx(0.2578, abs=5e-5)


def test_the_defaults_are_the_published_constants():
    assert SOLAR == 1361  # Kopp & Lean, Geophys. Res. Lett. 38, L01706 (2011): 1360.8 ± 0.5 W/m^2
    assert ALBEDO == F(3, 10)  # Gilmore, Spacecraft Thermal Control Handbook vol. I, ch. 2
    assert EARTH_IR == 237  # same source: 237 ± 21 W/m^2


def test_deep_space_absorbs_exactly_nothing():
    assert absorbed_flux(EPS) == 0
    assert absorbed_flux(EPS, absorptance=F(1), sunlit=F(1)) == 0  # edge-on, no Earth in view


def test_absorbed_flux_by_hand():
    # alpha 0.2, 1361 W/m^2, lit half the time, sun at cos 0.5, albedo 0.3, view 0.4, IR 237 at eps 0.9:
    # 0.2*1361*0.5*0.5 + 0.2*1361*0.5*0.3*0.4 + 0.9*237*0.4 = 68.05 + 16.332 + 85.32 = 169.702
    got = absorbed_flux(F(9, 10), F(1, 5), None, F(1, 2), F(1, 2), None, None, F(2, 5))
    assert got == F("169.702")
    with pytest.raises(ValueError):
        absorbed_flux(EPS, earth_view=F(3, 2))


def test_area_and_temperature_with_absorbed_flux_and_fin_by_hand():
    # fin 0.8, eps 1, one side, 100 K, 0 K sink: emits 0.8 * 5.670374419 W/m^2 = 4.5362995352;
    # absorbing 0.5362995352 W/m^2 leaves 4 W/m^2 net, so 1 kW needs exactly 250 m^2
    absorbed = F("0.5362995352")
    area = area_for(F(1000), F(1), F(100), F(0), 1, absorbed, F(4, 5))
    assert area == 250
    t = temperature_for(F(1000), F(1), F(250), F(0), 1, absorbed=absorbed, fin=F(4, 5))
    assert abs(t - 100) < F(1, 10**9)
    with pytest.raises(ValueError):  # absorbing all it emits: no area rejects anything
        area_for(F(1000), F(1), F(100), F(0), 1, F("4.5362995352"), F(4, 5))


def test_a_starcloud_style_panel_reproduces_the_published_net_flux():
    """Starcloud (formerly Lumen Orbit), "Why we should train AI in space", white paper
    (starcloudinc.github.io/wp.pdf): a two-sided radiator at
    20 °C with emissivity 0.92 radiates 770 W/m^2 and nets about 633 W/m^2 in low Earth orbit,
    after absorbed sunlight, albedo and Earth infrared. Published inputs here: emissivity 0.92,
    20 °C, two sides (Starcloud); Earth IR 237 W/m^2 and albedo 0 .. 0.30 (Gilmore, ch. 2);
    solar 1361 W/m^2 (Kopp & Lean 2011); a dawn-dusk orbit at 550 km with the panel edge-on to
    the sun and to the Earth (view factor above, Howell); white silicone paint, absorptance
    0.26 (Fortescue, Swinerd & Stark, Spacecraft Systems Engineering, 4th ed., Table 11.3).
    Tolerance: the published 633 W/m^2 must lie between the two albedo cases, and each within
    5 % of it; the deep-space figure must be 770.5 W/m^2 to the digit."""
    view = F(2 * vertical_plate_view_factor(550)).limit_denominator(10**6)  # both faces
    twenty = F("293.15")
    bare = Radiator(RadiatorSpec(MW, F(92, 100), twenty, None, F(0), 2))
    assert round(float(bare.flux), 1) == 770.5  # Starcloud: "770 W/m^2" before absorption
    nets = []
    for albedo in (F(0), F(3, 10)):  # over the terminator .. under a subsolar point
        run = Radiator(RadiatorSpec(MW, F(92, 100), twenty, None, F(0), 2, absorptance=F(26, 100),
                                    sun_view=F(0), albedo=albedo, earth_view=view))
        assert run.flux == run.emitted - run.absorbed == bare.flux - run.absorbed
        nets.append(run.flux)
    published = F(633)
    assert nets[1] < published < nets[0]
    assert all(abs(net / published - 1) < F(5, 100) for net in nets)
    assert round(float(nets[0]), 1) == 658.1 and round(float(nets[1]), 1) == 603.4  # +4.0 %, -4.7 %
