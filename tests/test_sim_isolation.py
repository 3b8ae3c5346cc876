"""The simulation core stays independent: standard library only, no floats, small modules."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from checker import sim

SIM = Path(__file__).resolve().parent.parent / "checker" / "sim"
MODULES = sorted(SIM.glob("*.py"))
ALLOWED = {"__future__", "dataclasses", "fractions", "functools", "importlib", "math", "numbers"}  # importlib: the package imports its modules on first use


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
def test_imports_only_the_standard_library_and_itself(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            assert {a.name.split(".")[0] for a in node.names} <= ALLOWED, ast.dump(node)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            assert node.module.split(".")[0] in ALLOWED, ast.dump(node)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
def test_no_float_literals_or_float_calls(path):
    for node in ast.walk(ast.parse(path.read_text())):
        assert not (isinstance(node, ast.Constant) and isinstance(node.value, float)), node.lineno
        assert not (isinstance(node, ast.Name) and node.id == "float"), node.lineno


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
def test_modules_stay_small(path):
    assert len(path.read_text().splitlines()) <= 300


def test_records_are_frozen_slotted_dataclasses():
    for cls in (sim.Transfer, sim.Cohort, sim.Step, sim.Segment):
        params = cls.__dataclass_params__
        assert params.frozen and "__slots__" in vars(cls), cls
        assert all(f.type != "list" for f in dataclasses.fields(cls))


def test_the_package_exports_what_it_promises():
    for name in sim.__all__:
        assert hasattr(sim, name), name
    assert {"ring_allreduce", "tree_allreduce", "hierarchical_allreduce", "work_per_gpu",
            "gpu_finish_times", "barrier", "training_step", "simulate_training",
            "serving_throughput", "gpu_step_segments", "site_step_segments", "energy",
            "average_power", "smooth", "gpu_swing", "gpu_max_slew", "site_swing", "site_ramp",
            "radiated_power", "area_for", "temperature_for", "transient",
            "STEFAN_BOLTZMANN"} <= set(sim.__all__)


def test_floats_are_refused_at_the_door():
    with pytest.raises(TypeError):
        sim.barrier((1.5,))
    with pytest.raises(TypeError):
        sim.radiated_power(1.0, sim.STEFAN_BOLTZMANN, 300, 3, 2)


def test_the_package_imports_a_module_on_first_use():
    """`checker.sim` names every module's exports but imports a module only when one of its names
    is first used: a spec of radiators never loads the cluster, transformer or serving runs."""
    import subprocess
    import sys

    probe = (
        "import sys, checker.sim as sim\n"
        "def loaded(): return sorted(m[12:] for m in sys.modules if m.startswith('checker.sim.'))\n"
        "print(loaded()); sim.Radiator; print(loaded()); sim.scenario; print(loaded())\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[0] == "[]"
    assert set(eval(out[1])) == {"panel", "radiator", "eclipse", "exact"}  # noqa: S307 - our own output
    assert "scenario" in eval(out[2]) and "transformer_job" not in eval(out[2])  # noqa: S307
    assert set(sim._HOME) == set(sim.__all__)
    with pytest.raises(AttributeError):
        sim.not_a_name  # noqa: B018
