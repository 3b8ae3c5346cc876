"""One registry of quantities; a replay that only maps; a second opinion independent by construction.

Every derived quantity in checker/registry.py has exactly two rules: a symbolic one in
checker/encode.py and an operational one in the simulation core (an attribute of the block's
run in checker/sim/scenario.py). The replay computes nothing: it maps the spec's field values
onto the core's inputs and reads the attribute the registry names. Adding a quantity touches
the registry entry and its two rules and nothing else — shown below with a made-up one.
"""

from __future__ import annotations

import ast
import dataclasses
from fractions import Fraction
from pathlib import Path

import pytest

from checker import encode, registry, sim, units as u
from conftest import ROOT, verify

RUNS = {"radiator": sim.Radiator, "cluster": sim.Cluster, "training": sim.Training, "inference": sim.Inference, "transformer": sim.TransformerTraining, "model": sim.Shape, "serving": sim.Serving}


@pytest.mark.parametrize("entry", registry.DERIVED, ids=lambda d: f"{d.family}.{'.'.join(d.path)}")
def test_every_derived_quantity_has_both_rules(entry: registry.Derived):
    assert (entry.family, entry.path) in encode.SYMBOLIC, "no symbolic rule in checker/encode.py"
    assert hasattr(RUNS[entry.family], entry.sim), f"the simulation core's {RUNS[entry.family].__name__} has no {entry.sim!r}"


def test_no_symbolic_rule_without_a_registry_entry():
    declared = {(d.family, d.path) for d in registry.DERIVED}
    assert set(encode.SYMBOLIC) <= declared, sorted(set(encode.SYMBOLIC) - declared)


def test_the_replay_computes_nothing():
    """No arithmetic in checker/replay.py: no operator on values, no formula, no helper from the
    core other than its block runs and their inputs."""
    tree = ast.parse((ROOT / "checker" / "replay.py").read_text(encoding="utf-8"))
    def arithmetic_op(node: ast.AST) -> bool:  # `X | None` in an annotation is a type, not arithmetic
        return isinstance(node, ast.AugAssign) or (isinstance(node, ast.BinOp) and not isinstance(node.op, ast.BitOr)) or (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub))

    arithmetic = [node for node in ast.walk(tree) if arithmetic_op(node)]
    assert [ast.unparse(n) for n in arithmetic] == []
    used = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "sim"}
    allowed = {"Radiator", "RadiatorSpec", "Cluster", "ClusterSpec", "GpuSpec", "PoolSpec", "NetworkSpec", "PowerSpec", "WorkloadSpec", "Training", "Inference", "OutOfReach",
               "Model", "Layout", "Shape", "TransformerSpec", "TransformerTraining", "TierSpec", "LeaseSpec", "Serving", "ServingSpec", "Experts", "ExpertShape", "ExpertTraining", "Disaggregated"}
    assert used <= allowed, sorted(used - allowed)


def test_the_resolver_report_and_solver_take_names_from_the_registry():
    for module in ("resolve.py", "report.py", "solve.py"):
        text = (ROOT / "checker" / module).read_text(encoding="utf-8")
        for word in ('"pool_time"', '"compute_time"', '"step_time"', '"floor_cost"'):
            assert word not in text, f"{module} names {word} itself; take it from the registry"


@pytest.fixture
def half_area(monkeypatch):
    """A made-up quantity, added the way the docs say: one entry, its two rules."""
    entry = registry.Derived("radiator", ("half_area",), u.AREA, "half the area of one side", sim="half_area")
    monkeypatch.setattr(registry, "DERIVED", registry.DERIVED + (entry,))

    def symbolic(e, r, _pool):
        return e.quantity((r.name, "area")) / 2

    monkeypatch.setitem(encode.SYMBOLIC, ("radiator", ("half_area",)), symbolic)

    def install(operational):
        monkeypatch.setattr(sim.Radiator, "half_area", property(operational), raising=False)

    return install


SPEC = """radiator panel {
  heat = 1 MW; emissivity = 0.85 .. 0.92; temperature = 330 K; sink = 3 K; sides = 2
}
check halves: panel.half_area <= 450 m^2
"""


def test_adding_a_quantity_touches_the_entry_and_its_two_rules(spec, half_area):
    half_area(lambda run: run.area / 2)
    result = verify(spec(SPEC))
    assert result.code == 0, result.out
    assert "worst case: panel.half_area = 437.4 m^2" in result.out
    assert "confirmed by simulation: panel.half_area = 437.4 m^2" in result.out


def test_a_wrong_operational_rule_is_caught_as_an_inconsistency(spec, half_area):
    half_area(lambda run: run.area / 3)
    result = verify(spec(SPEC))
    assert result.code == 4 and "[inconsistent]" in result.out


def test_the_core_computes_its_own_defaults():
    """A spec that leaves out flops_per_token and state_bytes hands the core None, not 6·params."""
    spec = sim.WorkloadSpec(
        sim.ClusterSpec((sim.PoolSpec("a", 8, sim.GpuSpec(Fraction(10**15), Fraction(8 * 10**10), Fraction(700), Fraction(100), Fraction(0), False, None)),),
                        sim.NetworkSpec("ring", Fraction(5 * 10**10), Fraction(5, 10**6), None, None, None), sim.PowerSpec(Fraction(1), Fraction(0), Fraction(1, 20))),
        Fraction(10**9), Fraction(10**6), Fraction(1, 2), "uniform", (Fraction(0),), 1, Fraction(0), Fraction(2), None, None,
    )
    run = sim.Training(spec)
    assert run.flops_per_token == 6 * 10**9 and run.state_bytes == 16
    assert sim.Inference(dataclasses.replace(spec)).flops_per_token == 2 * 10**9


def test_a_slow_machine_prints_the_same_report(monkeypatch):
    """No wall clock decides anything: with every clock read jumping an hour, the worst cases,
    counterexamples and report are byte for byte the same (the per-query resource limit is the
    only budget; the per-query time limit lives inside Z3, where this does not reach)."""
    import time

    case = str(ROOT / "examples" / "colossus1.spec")
    normal = verify(case).out
    clock = [0.0]

    def slow() -> float:
        clock[0] += 3600.0
        return clock[0]

    for name in ("monotonic", "perf_counter", "time"):
        monkeypatch.setattr(time, name, slow)
    assert verify(case).out == normal


def test_no_process_wide_solver_state():
    for module in ("encode.py", "solve.py"):
        text = (ROOT / "checker" / module).read_text(encoding="utf-8")
        assert "_main_ctx" not in text and "set_param" not in text and "main_ctx()" not in text, module


def test_diagnostic_codes_are_constants_not_strings():
    """Every code the package raises is a checker.codes constant: a string literal in a call to
    error(), fail() or Diagnostic() is refused, and every codes.X named exists."""
    from checker import codes

    offenders = []
    for path in sorted((ROOT / "checker").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                where = 2 if name == "Diagnostic" else 1  # Diagnostic(span, severity, code, ...)
                if name in ("error", "fail", "Diagnostic") and len(node.args) > where and isinstance(node.args[where], ast.Constant) and isinstance(node.args[where].value, str):
                    offenders.append(f"{path.name}:{node.lineno}: {node.args[where].value!r}")
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "codes" and not hasattr(codes, node.attr):
                offenders.append(f"{path.name}:{node.lineno}: codes.{node.attr} does not exist")
    assert offenders == []
