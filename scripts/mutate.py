#!/usr/bin/env python3
"""Mutation evidence: deliberate formula mistakes in the encoder must fail the differential tests
(tests/test_differential.py, encoder against simulation core); the hand-computed tests
(tests/test_semantics.py) are run too and their result shown beside it.

Each mutation is applied to a temporary copy of the project (the working tree is never
touched); the differential tests run there and must fail. Prints one line per mutation and
exits 1 if any mutation survives.

    python scripts/mutate.py            # all mutations
    python scripts/mutate.py --list     # just list them
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = "checker/encode.py"

# (name, original text, mutated text): each original must occur exactly once in the encoder
MUTATIONS = [
    ("ring latency (n-1)·α instead of 2(n-1)·α", "return 2 * val(n - 1) * alpha +", "return val(n - 1) * alpha +"),
    ("barrier takes the min instead of the max", 'return _max([q("pool_time", p.name) for p in pools])', 'return _min([q("pool_time", p.name) for p in pools])'),
    ("radiator T^3 instead of T^4", "return heat / (per_area * (t**4 - sink**4))", "return heat / (per_area * (t**3 - sink**3))"),
    ("radiator derived temperature without the sink", "fourth = sink**4 + heat", "fourth = 0 * sink**4 + heat"),
    ("tree depth floor(log2 n) instead of ceil", "return (n - 1).bit_length() if n >= 1 else 0", "return n.bit_length() - 1 if n >= 1 else 0"),
    ("overlap hides the wrong share", "return q(\"compute_time\") + (1 - self.param(w.overlap)) * q(\"comm_time\")", "return q(\"compute_time\") + self.param(w.overlap) * q(\"comm_time\")"),
    ("jitter ignored", "* (1 + self.param(w.jitter[index]))", "* (1 + 0 * self.param(w.jitter[index]))"),
    ("hierarchical inner bandwidth term without (g-1)/g", "+ val((g - 1) / g) * size / self.param(net.domain_bandwidth)", "+ size / self.param(net.domain_bandwidth)"),
    ("swing from idle instead of max(idle, floor)", "z3.Sum([val(p.count) * (self.param(p.gpu.tdp) - self._low(p.gpu)) for p in pools])", "z3.Sum([val(p.count) * (self.param(p.gpu.tdp) - self.param(p.gpu.idle)) for p in pools])"),
    ("slew limit ignored in the ramp", "terms.append(val(p.count) * (natural if p.gpu.ramp is None else _min([self.param(p.gpu.ramp), natural])))", "terms.append(val(p.count) * natural)"),
    ("MFU over the first pool's peak only", 'return q("flops") / (q("step_time") * self.quantity((w.cluster.name, "peak")))', 'return q("flops") / (q("step_time") * val(pools[0].count) * self.param(pools[0].gpu.peak))'),
    ("PUE left out of the facility draw", "return it * (1 + self.param(power.overhead)) * self.param(power.pue)", "return it * (1 + self.param(power.overhead))"),
]


def copy_project(into: Path) -> None:
    for name in ("checker", "grammars", "tests", "examples", "pyproject.toml"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, into / name, ignore=shutil.ignore_patterns("__pycache__", ".hypothesis"))
        else:
            shutil.copy(source, into / name)


SUITES = {"differential": "tests/test_differential.py", "hand-computed": "tests/test_semantics.py"}


def run_tests(where: Path, suite: str) -> tuple[bool, float]:
    start = time.perf_counter()
    try:
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", suite],
            cwd=where, capture_output=True, text=True, timeout=600,
            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(where), "PYTHONDONTWRITEBYTECODE": "1", "DIFFERENTIAL_NO_SHRINK": "1"},
        )
    except subprocess.TimeoutExpired:
        return False, time.perf_counter() - start  # a hang fails CI too; reported with its time
    return run.returncode == 0, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args()
    if args.list:
        for name, _, _ in MUTATIONS:
            print(name)
        return 0
    source = (ROOT / TARGET).read_text(encoding="utf-8")
    survived = 0
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "project"
        copy_project(base)
        for label, suite in SUITES.items():
            passed, seconds = run_tests(base, suite)
            print(f"unmutated: {label} tests {'pass' if passed else 'FAIL'} ({seconds:.1f} s)", flush=True)
            if not passed:
                print("the unmutated project must pass first")
                return 1
        for name, original, mutated in MUTATIONS:
            count = source.count(original)
            if count != 1:
                print(f"{name}: cannot apply (the original text occurs {count} times)")
                survived += 1
                continue
            (base / TARGET).write_text(source.replace(original, mutated), encoding="utf-8")
            caught_by = []
            for label, suite in SUITES.items():
                passed, seconds = run_tests(base, suite)
                caught_by.append(f"{label}: {'caught' if not passed else 'missed'} ({seconds:.1f} s)")
                if label == "differential":
                    differential_caught = not passed
            verdict = "caught" if differential_caught else "SURVIVED"
            survived += not differential_caught
            print(f"{verdict:8}  {name} [{'; '.join(caught_by)}]", flush=True)
        (base / TARGET).write_text(source, encoding="utf-8")
    print(f"{len(MUTATIONS) - survived} of {len(MUTATIONS)} mutations caught by the differential tests")
    return 1 if survived else 0


if __name__ == "__main__":
    raise SystemExit(main())
