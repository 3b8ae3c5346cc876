"""The transformer family's closed forms against the simulation core's schedule: every
quantity of a workload at one point, and the agreement the registry's bound asks for."""

from __future__ import annotations

from fractions import Fraction as F

import z3

from checker import registry
from checker.encode import encode
from checker.parse import parse_text
from checker.replay import Simulation
from checker.resolve import resolve
from checker.solve import fraction
from checker.verdicts import Point


def quantities(text: str, point: dict[str, F] | None = None, block: str = "w") -> dict[str, tuple[F, F, str | None]]:
    """Every quantity of the workload: (closed form, simulated schedule, the registry's bound),
    at `point` (an unknown it does not name: its low end)."""
    model, diagnostics = resolve(parse_text("t.spec", text))
    assert model is not None, [d.header() for d in diagnostics]
    values = tuple((u.id, (point or {}).get(u.id, u.low)) for u in model.unknowns)
    enc = encode(model, z3.Context())
    subs = [(enc.variables[uid], enc.val(value)) for uid, value in values]
    simulation = Simulation(model, Point(values))
    out = {}
    for path, _ in registry.namespace(model.block(block)).items():
        entry = registry.find("transformer", path)
        if entry is None:
            continue
        term = z3.simplify(z3.substitute(enc.quantity((block,) + path), *subs) if subs else enc.quantity((block,) + path))
        out[".".join(path)] = (fraction(term)[0], simulation.quantity((block,) + path), entry.bound)
    return out


def corner(text: str, high: bool) -> dict[str, F]:
    """Every unknown of the spec at its low (or high) end."""
    model, _ = resolve(parse_text("t.spec", text))
    assert model is not None
    return {u.id: (u.high if high else u.low) for u in model.unknowns}


def assert_agrees(text: str, point: dict[str, F] | None = None) -> None:
    """Each quantity equals the schedule's, or bounds it on the side the registry declares."""
    for name, (closed, simulated, bound) in quantities(text, point).items():
        if bound == "upper":
            assert simulated <= closed, name
        elif bound == "lower":
            assert simulated >= closed, name
        else:
            assert simulated == closed, name
