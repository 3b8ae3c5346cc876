"""CrossHair on the simulation core's PEP 316 contracts.

Every module of checker/sim with `post:` lines is checked with
`crosshair check --analysis_kind=PEP316`; the modules run in parallel, each condition with a
fixed CPU budget. A counterexample fails the test. A condition CrossHair could not confirm
over all paths within its budget (a loop over a tuple of any length, say) is reported as a
warning naming it, never passed over in silence; the loop-free kernels must be confirmed.
A deliberately broken copy of real kernels shows that the check can fail at all.
"""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from checker import sim

ROOT = Path(__file__).resolve().parent.parent
SIM = ROOT / "checker" / "sim"
PER_CONDITION = 4  # seconds per condition; the unbounded loops use all of it
# loop-free kernels: CrossHair explores all their paths, so it must confirm them
MUST_CONFIRM = {"later", "stretch", "exposed", "track", "toward", "broadcast_round", "start",
                "track_rates", "hold_track", "store", "outward", "explicit_floor", "explicit_ceil"}
LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+): (?P<level>\w+): (?P<message>.*)$")


def _crosshair(*targets: str, cwd: Path = ROOT) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "crosshair", "check", "--analysis_kind=PEP316",
         f"--per_condition_timeout={PER_CONDITION}", "--report_all", *targets],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _contract_lines(path: Path) -> dict[int, tuple[str, str]]:
    """Line number -> (function, condition) for every `post:` line of a module."""
    owner, found = "?", {}
    for number, text in enumerate(path.read_text().splitlines(), start=1):
        if m := re.match(r"def (\w+)\(", text):
            owner = m.group(1)
        if text.strip().startswith("post:"):
            found[number] = (owner, text.strip())
    return found


CONTRACT_MODULES = sorted(p for p in SIM.glob("*.py") if _contract_lines(p))


@pytest.fixture(scope="module")
def crosshair_runs():
    """Run CrossHair on every contract-bearing module, all at once; collect output and time."""
    started = time.monotonic()
    runs = {p: _crosshair(f"checker.sim.{p.stem}") for p in CONTRACT_MODULES}
    done = {}
    for path, proc in runs.items():
        out, err = proc.communicate(timeout=300)
        done[path] = (proc.returncode, out, err, time.monotonic() - started)
    return done


def test_the_contract_bearing_modules_are_the_expected_ones():
    assert {p.stem for p in CONTRACT_MODULES} == {"collectives", "training", "power", "radiator",
                                                "pipeline", "smoothing", "storage", "oscillation",
                                                "eclipse"}


@pytest.mark.parametrize("path", CONTRACT_MODULES, ids=lambda p: p.stem)
def test_crosshair_finds_no_counterexample(crosshair_runs, path):
    code, out, err, elapsed = crosshair_runs[path]
    assert code == 0, out + err
    assert "error" not in out.lower() and "Traceback" not in err, out + err
    contracts = _contract_lines(path)
    verdicts: dict[int, str] = {}
    for raw in out.splitlines():
        m = LINE.match(raw.strip())
        if m and Path(m["path"]).resolve() == path.resolve():
            verdicts[int(m["line"])] = m["message"]
    # CrossHair reported on every postcondition of the module, and on nothing else
    assert set(verdicts) == set(contracts), (out, sorted(contracts))
    assert set(verdicts.values()) <= {"Confirmed over all paths.", "Not confirmed."}, out
    unconfirmed = {contracts[n] for n, v in verdicts.items() if v != "Confirmed over all paths."}
    assert not {fn for fn, _ in unconfirmed} & MUST_CONFIRM, unconfirmed
    for fn, condition in sorted(unconfirmed):
        warnings.warn(f"CrossHair found no counterexample but could not confirm "
                      f"{path.stem}.{fn} `{condition}` within {PER_CONDITION} s "
                      f"(module done after {elapsed:.0f} s)", stacklevel=1)


BROKEN = {
    # the barrier releases before the last participant
    "later": ("return finish if finish > release else release", "return release"),
    # jitter that speeds a GPU up
    "stretch": ("return base * (unit + jitter)", "return base * (unit - jitter)"),
    # a controller that forgets its floor
    "track": ("target = max(floor, min(cap, demand))", "target = min(cap, demand)"),
    # rounding to nearest can carry the state past the equilibrium
    "toward": ("return num // den", "return (num + den // 2) // den"),
    # a pipeline operation that starts before its inputs have arrived
    "start": ("return ready if ready > free else free", "return free"),
}


def test_crosshair_catches_broken_copies_of_real_kernels(tmp_path):
    sources = []
    for name, (good, bad) in BROKEN.items():
        source = inspect.getsource(getattr(sim, name))
        assert good in source, name
        sources.append(source.replace(good, bad))
    broken = tmp_path / "broken_kernels.py"
    broken.write_text("from __future__ import annotations\n\n\n" + "\n\n".join(sources))
    proc = _crosshair(str(broken), cwd=tmp_path)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, out + err
    failing = {_owner(broken, int(m["line"])) for raw in out.splitlines()
               if (m := LINE.match(raw.strip())) and m["level"] == "error"}
    assert failing == set(BROKEN), out + err


def _owner(path: Path, line: int) -> str:
    lines = path.read_text().splitlines()[:line]
    return next(m.group(1) for text in reversed(lines) if (m := re.match(r"def (\w+)\(", text)))
