"""Money of a leased fleet and the serving model: hand-computed values, the closed forms
against the simulation core, unit errors on money."""

from __future__ import annotations

from fractions import Fraction as F

import pytest
import z3

from checker import registry
from checker.encode import encode
from checker.parse import parse_text
from checker.replay import Simulation
from checker.resolve import resolve
from checker.solve import fraction
from checker.verdicts import Point
from conftest import verify

YEAR = 365 * 24 * 3600


def quantities(text: str, point: dict[str, F] | None = None, block: str = "w") -> dict[str, tuple[F, F, str | None]]:
    """Every derived quantity of the workload: (closed form, simulation core, the registry's bound)."""
    model, diagnostics = resolve(parse_text("t.spec", text))
    assert model is not None, [d.header() for d in diagnostics]
    values = tuple((u.id, (point or {}).get(u.id, u.low)) for u in model.unknowns)
    ctx = z3.Context()
    enc = encode(model, ctx)
    subs = [(enc.variables[uid], enc.val(value)) for uid, value in values]
    simulation = Simulation(model, Point(values))
    w = model.block(block)
    family = registry.family_of(w)
    out = {}
    for path in registry.namespace(w):
        entry = registry.find(family, path)
        if entry is None:
            continue
        term = enc.quantity((block,) + path)
        closed = fraction(z3.simplify(z3.substitute(term, *subs) if subs else term))[0]
        out[".".join(path)] = (closed, simulation.quantity((block,) + path), entry.bound)
    return out


def _agree(values: dict[str, tuple[F, F, str | None]]) -> None:
    for name, (closed, simulated, bound) in values.items():
        if bound == "upper":
            assert simulated <= closed, name
        elif bound == "lower":
            assert simulated >= closed, name
        else:
            assert closed == simulated, (name, float(closed), float(simulated))


# ---- money ---------------------------------------------------------------------------------

LEASE = """gpu A { peak = 1000 TFLOP/s; memory = 80 GB; tdp = 700 W; idle = 100 W; lease = 2 USD/h .. 3 USD/h; capital = 25000 USD }
gpu B { peak = 2500 TFLOP/s; memory = 192 GB; tdp = 1200 W; idle = 200 W; lease = 5 USD/h; capital = 50000 USD }
cluster c { pool a = 1000 x A; pool b = 100 x B
  power { pue = 1.25; overhead = 20 % } }
workload w on c { kind = inference; params = 1e10; efficiency = 40 %; utilisation = 50 % .. 100 %;
  electricity = 80 USD/MWh .. 100 USD/MWh; life = 5 yr }
"""


def test_money_by_hand():
    """At the low corner: lease 2 USD/h, utilisation 50 %, electricity 80 USD/MWh."""
    q = quantities(LEASE)
    hours = 8760
    revenue = (1000 * 2 + 100 * 5) * hours * F(1, 2)  # GPU-hours leased x price, USD per year
    assert q["revenue"][0] * YEAR == revenue == 10_950_000
    power = 1000 * (350 + 50) + 100 * (600 + 100)  # W: half the year at tdp, half at idle
    assert q["average_power"][0] == power == 470_000
    energy_mwh = power * F(6, 5) * F(5, 4) * hours / F(10**6)  # overhead, then pue: 6175.8 MWh
    assert q["energy_cost"][0] * YEAR == energy_mwh * 80 == 494_064
    assert q["depreciation"][0] * YEAR == (1000 * 25000 + 100 * 50000) / 5 == 6_000_000
    assert q["cost"][0] * YEAR == energy_mwh * 80 + 6_000_000
    assert q["margin"][0] * YEAR == revenue - energy_mwh * 80 - 6_000_000
    throughput = F(1000 * 10**15 + 100 * 25 * 10**14) * F(2, 5) / (2 * 10**10)  # compute ceiling
    assert q["served"][0] == throughput / 2
    assert q["price_per_token"][0] * 10**6 == F(revenue, YEAR) / (throughput / 2) * 10**6
    assert q["cost_per_token"][0] == q["cost"][0] / (throughput / 2)


@pytest.mark.parametrize("corner", ["low", "high"])
def test_money_against_the_ledger(corner):
    model, _ = resolve(parse_text("t.spec", LEASE))
    point = {u.id: (u.low if corner == "low" else u.high) for u in model.unknowns}
    _agree(quantities(LEASE, point))


def test_revenue_is_proved_over_prices_and_utilisation(spec):
    result = verify(spec(LEASE + "check r: w.revenue >= 1e7 USD/yr\ncheck m: w.margin >= 1e7 USD/yr\n"))
    assert "proved    r" in result.out and "violated  m" in result.out
    assert "worst case: w.revenue = 10950000 USD/yr" in result.out
    assert "confirmed by simulation" in result.out


def test_money_without_its_price_cannot_be_named(spec):
    text = LEASE.replace("lease = 2 USD/h .. 3 USD/h; ", "").replace("; life = 5 yr", "")
    result = verify(spec(text + "check r: w.revenue >= 1 USD/yr\ncheck d: w.depreciation >= 1 USD/yr\n"))
    assert result.code == 2
    assert "'w.revenue' needs 'lease', which every gpu of its cluster leaves out [missing-field]" in result.out
    assert "'w.depreciation' needs 'life', which workload 'w' leaves out [missing-field]" in result.out


def test_cost_without_capital_is_the_energy():
    q = quantities(LEASE.replace("; life = 5 yr", ""))
    assert "depreciation" not in q and q["cost"][0] == q["energy_cost"][0]


@pytest.mark.parametrize("claim,units", [
    ("w.revenue + 1 W >= 0 USD/yr", "units do not match (USD/s and W)"),
    ("w.revenue >= 5e9 USD", "units do not match (USD/s and USD)"),
    ("w.cost_per_token <= 1 USD/MWh", "units do not match (USD/token and USD/MWh)"),
])
def test_money_is_checked_like_any_unit(spec, claim, units):
    result = verify(spec(LEASE + f"check x: {claim}\n"))
    assert result.code == 2 and units in result.out, result.out
    assert "money adds only to money of the same kind" in result.out


def test_a_lease_price_needs_money_per_time(spec):
    result = verify(spec(LEASE.replace("lease = 5 USD/h", "lease = 5 USD")))
    assert result.code == 2 and "'lease' takes USD/yr" in result.out, result.out
