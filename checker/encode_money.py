"""Closed forms of what a leased serving fleet earns and costs (spec/semantics.md, "Money and the
lease"): the money rules of the `inference` and `serving` families of the registry.

Part of the encoder (with checker/encode.py). Every amount is a rate in USD per second (the
report shows USD/yr): lease prices are per GPU-second (written USD/h), electricity per joule
(written USD/MWh), capital is written off evenly over the workload's `life`.
"""

from __future__ import annotations

import z3

from checker import model as m
from checker.encode import Encoding, symbolic

FAMILIES = ("inference", "serving")


def _money(name: str):
    def register(rule):
        for family in FAMILIES:
            symbolic(family, name)(rule)
        return rule

    return register


def _utilisation(e: Encoding, w: m.Workload) -> z3.ArithRef:
    return e.val(1) if w.utilisation is None else e.param(w.utilisation)


@_money("average_power")
def _average_power(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    u = _utilisation(e, w)
    return z3.Sum([e.val(p.count) * (u * e.param(p.gpu.tdp) + (1 - u) * e.param(p.gpu.idle)) for p in w.cluster.pools])


@_money("revenue")
def _revenue(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return z3.Sum([e.val(p.count) * e.param(p.gpu.lease) for p in w.cluster.pools]) * _utilisation(e, w)


@_money("energy_cost")
def _energy_cost(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    power = w.cluster.power
    return e.quantity((w.name, "average_power")) * (1 + e.param(power.overhead)) * e.param(power.pue) * e.param(w.electricity)


@_money("depreciation")
def _depreciation(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return z3.Sum([e.val(p.count) * e.param(p.gpu.capital) for p in w.cluster.pools]) / e.param(w.life)


@_money("cost")
def _cost(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    energy = e.quantity((w.name, "energy_cost"))
    if w.life is None or any(p.gpu.capital is None for p in w.cluster.pools):
        return energy
    return energy + e.quantity((w.name, "depreciation"))


@_money("margin")
def _margin(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return e.quantity((w.name, "revenue")) - e.quantity((w.name, "cost"))


@_money("served")
def _served(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return e.quantity((w.name, "throughput")) * _utilisation(e, w)


@_money("price_per_token")
def _price_per_token(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return e.quantity((w.name, "revenue")) / e.quantity((w.name, "served"))


@_money("cost_per_token")
def _cost_per_token(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return e.quantity((w.name, "cost")) / e.quantity((w.name, "served"))
