"""A find statement's answer, replayed on both sides by the simulation core.

Beyond the answer the counterexample is replayed as a violated check's is (checker.replay):
the core must find the claim broken there. At the answer, the same values of the other unknowns
with the searched one moved to the proved end: the core must find the claim holding, with the
solver's values. Only mapping and comparison here; the core computes.
"""

from __future__ import annotations

from dataclasses import replace

from checker import model as m, sim
from checker.claims import Undefined, holds
from checker.replay import Replay, Simulation, _agree, _relations, _replay
from checker.verdicts import Verdict


def replay_layout(model: m.Model, verdict: Verdict) -> Replay | None:
    """The winning layout at its worst corner: the core's value must be the closed form's (or on
    the side its bound says: a lower bound on MFU is never above the schedule's)."""
    found = verdict.layouts
    if found is None or found.winner is None or found.worst is None or found.worst_value is None:
        return None
    search = verdict.claim.find
    variant = replace(model, blocks=tuple(found.winner if b.name == search.workload else b for b in model.blocks))
    try:
        value = Simulation(variant, found.worst).quantity(search.quantity.path)
    except (sim.OutOfReach, Undefined) as exc:
        return Replay("skipped", detail=str(exc))
    except (ValueError, ArithmeticError):
        return Replay("failed", detail="the simulation core refused the winning layout at a point of a well-formed model")
    relation = found.ranked[0].bound if found.ranked else "exact"
    if _agree(value, found.worst_value, True, relation):
        return Replay("confirmed", value, None, found.worst_value, "")
    return Replay("disagrees", value, None, found.worst_value, "the winning layout's value at its worst case differs")


def replay_find(model: m.Model, verdict: Verdict) -> Replay | None:
    if verdict.layouts is not None:
        return replay_layout(model, verdict) if verdict.status == "proved" else None
    answer = verdict.answer
    if answer is None or answer.point is None or verdict.status != "proved":
        return None
    comparison = verdict.claim.conditions[0]
    beyond = Verdict(verdict.claim, "violated", point=answer.point, left=answer.left, right=answer.right, relevant=verdict.relevant)
    try:
        outside = _replay(model, beyond)
    except (sim.OutOfReach, Undefined) as exc:
        return Replay("skipped", detail=str(exc))
    except (ValueError, ArithmeticError):
        return Replay("failed", detail="the simulation core refused this point of a well-formed model")
    if outside is None or outside.status != "confirmed" or answer.safe is None:
        return outside
    try:
        simulation = Simulation(model, answer.safe)
        left, right = simulation.expr(comparison.left), simulation.expr(comparison.right)
    except (sim.OutOfReach, Undefined) as exc:
        return Replay("skipped", detail=f"beyond the answer confirmed; at it: {exc}")
    except (ValueError, ArithmeticError):
        return Replay("failed", detail="the simulation core refused the answer's point of a well-formed model")
    relation_left, relation_right = _relations(model, comparison)
    exact = not answer.safe.approximate and not simulation.approximate
    agree = _agree(left, answer.safe_left, exact, relation_left or "exact") and _agree(right, answer.safe_right, exact, relation_right or "exact")
    if agree and holds(left, comparison.op, right):
        return Replay("confirmed", outside.left, outside.right, answer.left, outside.detail, worst=left)
    if agree and not exact:
        return Replay("indeterminate", outside.left, outside.right, answer.left, "at the answer the values agree to one part in 10^9, too close to the bound to decide", worst=left)
    why = "at the answer the simulation does not find the claim holding" if agree else "at the answer the values differ"
    return Replay("disagrees", left, right, answer.safe_left, why)
