"""The wheel ships the grammar: build it, install it in a fresh venv outside the repo, run it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
from pathlib import Path

from conftest import EXAMPLES, ROOT


def test_wheel_installs_and_verifies_outside_the_repository(tmp_path: Path):
    dist = tmp_path / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), str(ROOT)],
        capture_output=True, text=True,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = next(dist.glob("*.whl"))
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    assert "checker/grammars/spec.lark" in names
    assert not any(n.startswith(("tests/", "examples/")) for n in names)

    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], capture_output=True, text=True)
    assert install.returncode == 0, install.stderr[-2000:]
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(EXAMPLES / "orbital-radiator.spec", work)
    run = subprocess.run([str(env / "bin" / "verify"), "orbital-radiator.spec"], capture_output=True, text=True, cwd=work)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "proved    fits_bus" in run.stdout and "violated  too_small" in run.stdout
    assert "874.7 m^2" in run.stdout
    # only lark and z3-solver (and their own needs) came with it
    listed = subprocess.run([str(python), "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True).stdout.lower()
    assert "lark==" in listed and "z3-solver==" in listed
    assert "hypothesis" not in listed and "pytest" not in listed
