#!/usr/bin/env python3
"""Benchmarks of `verify`, with the standard library only. Prints medians of several runs.

    python scripts/bench.py              # everything, 5 runs each
    python scripts/bench.py --runs 3 --only startup,pools

(a) startup: a cold `verify` of each example (a fresh `python -m checker`) against a bare
    `python -c "import z3, lark"` on the same machine, as a ratio (target: at most 1.5x);
(b) pools:   solver time for a training workload on two pools of 20, 20 thousand and
    20 million GPUs each (target: flat), beside the whole check (which includes the replay);
(c) many:    100 spec files in one run (target: under 15 s on 2 cores);
(d) memory:  the peak resident memory of every run above (target: under 150 MB);
(e) needle:  a violation confined to 1e-6 of a range's width, found by `verify`, against
    uniform random sampling of the same range for the same wall time;
(f) jobs:    100 and 400 spec files with --jobs 1 against --jobs 2, run in turn, as ratios;
    the peak memory of the largest single process of a 400-file run;
(g) warm:    100 unchanged spec files, every result in the cache (a pre-commit run), against
    the same files checked (as a ratio), and one cached example against a bare import.
(h) scale:   solver CPU time of one file with N = 5 ... 160 independent radiators (target: 160
    within 2.2x of 80), K = 1 ... 32 pools, C = 1 ... 200 checks;
(i) ranges:  a training spec with every field a range (16 unknowns: 12 fields and a jitter per
    pool, 4 pools), checked in-process (target: decided, under 5 s).

--quick runs each measurement once, with fewer sizes and without the needle and the 400-file
runs, in a minute or two. The last lines are a Markdown table of every target (the README's
Performance table is that table, pasted). Scaling figures (h, i) are CPU seconds of this process
(time.process_time), which a busy machine disturbs less than wall time; whole-process ratios
are best taken with a paired, alternating timer such as `farm-bench --vs B -- A`.

Every run uses a result cache of its own in a temporary directory (never the user's): the
results are deleted before each run except in (g), so "cold" means the results are not cached;
the parser tables are cached, as they are on any run after the first.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CACHE_HOME = tempfile.mkdtemp(prefix="verify-bench-cache-")  # removed at the end of main()
ENV = dict(os.environ, PYTHONPATH=str(ROOT), XDG_CACHE_HOME=CACHE_HOME)
RESULTS = Path(CACHE_HOME) / "verify" / "results"
EXAMPLES = sorted((ROOT / "examples").glob("*.spec"))
VERIFY = [sys.executable, "-m", "checker"]
BARE = [sys.executable, "-c", "import z3, lark"]

# runs a command, then prints its wall time and the peak RSS of its process tree (KiB on Linux)
_MEASURE = (
    "import resource, subprocess, sys, time\n"
    "start = time.perf_counter()\n"
    "done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
    "elapsed = time.perf_counter() - start\n"
    "print(elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, done.returncode)\n"
)
PEAKS: dict[str, float] = {}  # what was run -> peak RSS in MB
SUMMARY: list[tuple[str, str, str]] = []  # (measure, figure, target and whether it is met) for the table
QUICK = False


def met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def measure(command: list[str], label: str, warm: bool = False) -> tuple[float, float, int]:
    """Wall seconds and peak RSS (MB) of the largest single process of one run of the command,
    and its exit code. The cached results are deleted first unless ``warm``."""
    if not warm:
        shutil.rmtree(RESULTS, ignore_errors=True)
    done = subprocess.run([sys.executable, "-c", _MEASURE, *command], capture_output=True, text=True, env=ENV, cwd=ROOT, check=True)
    seconds, kib, code = done.stdout.split()
    megabytes = int(kib) / 1024 if sys.platform != "darwin" else int(kib) / 2**20
    PEAKS[label] = max(PEAKS.get(label, 0.0), megabytes)
    return float(seconds), megabytes, int(code)


def median_run(command: list[str], label: str, runs: int) -> float:
    return statistics.median(measure(command, label)[0] for _ in range(runs))


# ---- (a) startup ---------------------------------------------------------------------------


def startup(runs: int) -> None:
    print("(a) a cold verify of each example against a bare `python -c \"import z3, lark\"` (median of %d)" % runs)
    bare = median_run(BARE, "python -c 'import z3, lark'", runs)
    print(f"    {'bare import of z3 and lark':<34}{bare * 1000:8.0f} ms")
    ratios = []
    for example in EXAMPLES:
        seconds = median_run([*VERIFY, str(example.relative_to(ROOT))], f"verify {example.name}", runs)
        ratios.append(seconds / bare)
        print(f"    verify {example.name:<27}{seconds * 1000:8.0f} ms  {seconds / bare:5.2f}x")
    help_time = median_run([*VERIFY, "--help"], "verify --help", runs)
    print(f"    {'verify --help':<34}{help_time * 1000:8.0f} ms  {help_time / bare:5.2f}x")
    worst = max(ratios)
    print(f"    median ratio {statistics.median(ratios):.2f}x, worst {worst:.2f}x: target <= 1.5x {'met' if worst <= 1.5 else 'MISSED'}")
    radiator = ratios[[e.name for e in EXAMPLES].index("orbital-radiator.spec")]
    SUMMARY.append((f"cold `verify` of an example / bare `python -c \"import z3, lark\"` ({bare * 1000:.0f} ms)", f"orbital-radiator {radiator:.2f}x; median {statistics.median(ratios):.2f}x, worst {worst:.2f}x", f"1.5x: {met(radiator <= 1.5)}"))


# ---- (b) pools -----------------------------------------------------------------------------


def pool_spec(count: int) -> str:
    return f"""\
gpu H100 {{ peak = 989 TFLOP/s; memory = 80 GB; tdp = 700 W; idle = 100 W }}
cluster fleet {{
  pool a = {count} x H100
  pool b = {count} x H100
  network {{ topology = ring; bandwidth = 50 GB/s; latency = 5 us }}
  power {{ facility = 40 GW; pue = 1.2; overhead = 30 % }}
}}
workload train on fleet {{
  kind = training; params = 70e9; batch = 16e6 token; efficiency = 40 %
  jitter = 0 % .. 5 %; shards = 8; overlap = 50 %
}}
check mfu:  train.mfu >= 30 %
check step: train.step_time <= 30 s
check grid: fleet.power.draw <= fleet.power.facility
"""


def pools(runs: int) -> None:
    from checker.api import check_text
    from checker.parse import parse_text
    from checker.resolve import resolve
    from checker.solve import solve

    print(f"(b) solver time, a training workload on two pools of N GPUs each (median of {runs})")
    print(f"    {'N':>10}  {'solve':>9}  {'whole check':>11}  {'cold verify':>11}  verdicts")
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for count in (20, 20_000, 20_000_000):
            text = pool_spec(count)
            model, diagnostics = resolve(parse_text("pools.spec", text))
            assert model is not None, [d.header() for d in diagnostics]
            solve_times, check_times = [], []
            for _ in range(runs):
                start = time.perf_counter()
                outcome = solve(model)
                solve_times.append(time.perf_counter() - start)
                start = time.perf_counter()
                result = check_text("pools.spec", text)
                check_times.append(time.perf_counter() - start)
            path = Path(scratch) / f"pools-{count}.spec"
            path.write_text(text)
            cold = median_run([*VERIFY, str(path)], f"verify two pools of {count}", runs)
            verdicts = ", ".join(f"{v.claim.name} {v.status}" for v in outcome.verdicts if v.claim.kind == "check")
            skipped = sum(1 for r in result.replays.values() if r.status == "skipped")
            rows.append(statistics.median(solve_times))
            print(f"    {count:>10}  {statistics.median(solve_times) * 1000:7.0f} ms  {statistics.median(check_times) * 1000:8.0f} ms  {cold * 1000:8.0f} ms  {verdicts}" + (f"; {skipped} replays skipped" if skipped else ""))
    spread = max(rows) / min(rows)
    print(f"    largest / smallest solve time: {spread:.2f}x: target flat {'met' if spread <= 1.5 else 'MISSED'}")


# ---- (c) many files ----------------------------------------------------------------------------


def copies(scratch: str, files: int) -> None:
    """The examples copied round-robin into `files` spec files."""
    for index in range(files):
        source = EXAMPLES[index % len(EXAMPLES)]
        shutil.copy(source, Path(scratch) / f"{index:03d}-{source.name}")


def many(runs: int, files: int = 100) -> None:
    print(f"(c) {files} spec files in one run, the default --jobs (the examples, copied round-robin; median of {runs})")
    with tempfile.TemporaryDirectory() as scratch:
        copies(scratch, files)
        times = []
        for _ in range(runs):
            seconds, _, code = measure([*VERIFY, scratch], f"verify {files} files")
            times.append(seconds)
        seconds = statistics.median(times)
    print(f"    {seconds:.2f} s ({seconds / files * 1000:.0f} ms a file, exit {code}) on {os.cpu_count()} cores: target < 15 s {'met' if seconds < 15 else 'MISSED'}")
    SUMMARY.append((f"{files} spec files in one run, default --jobs", f"{seconds:.2f} s", f"15 s: {met(seconds < 15)}"))


# ---- (d) memory ----------------------------------------------------------------------------


def memory() -> None:
    print("(d) peak resident memory of each command run above")
    for label, megabytes in sorted(PEAKS.items(), key=lambda item: -item[1])[:6]:
        print(f"    {label:<40}{megabytes:7.1f} MB")
    worst = max(PEAKS.values(), default=0.0)
    print(f"    highest {worst:.1f} MB: target < 150 MB {'met' if worst < 150 else 'MISSED'}")
    SUMMARY.append(("peak memory of the largest single process of any run above", f"{worst:.1f} MB", f"150 MB: {met(worst < 150)}"))


# ---- (e) needle ----------------------------------------------------------------------------

LOW, HIGH = Fraction(1, 2), Fraction(1)  # the emissivity range
A = Fraction(4, 5)  # the violation lies in A < emissivity < B, 1e-6 of the range's width
B = A + (HIGH - LOW) / 10**6
NEEDLE = f"""\
# A panel whose claim holds for every emissivity in 0.5 .. 1 except in a window 1e-6 of the range wide
radiator panel {{
  heat        = 1 MW
  emissivity  = 0.5 .. 1
  temperature = 330 K
  sink        = 3 K
  sides       = 2
}}
# the product is negative exactly when A < emissivity < B
check avoids_band: (panel.emissivity - {float(A)}) * (panel.emissivity - {float(B)}) >= 0
"""


def needle(runs: int) -> None:
    from checker.model import Comparison
    from checker.replay import Simulation
    from checker.solve import Point

    print(f"(e) a needle: the claim fails only for {float(A)} < emissivity < {float(B)}, 1e-6 of the range 0.5 .. 1")
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "needle.spec"
        path.write_text(NEEDLE)
        times, found = [], None
        for _ in range(runs):
            shutil.rmtree(RESULTS, ignore_errors=True)
            start = time.perf_counter()
            done = subprocess.run([*VERIFY, "--format", "json", str(path)], capture_output=True, text=True, env=ENV, cwd=ROOT)
            times.append(time.perf_counter() - start)
            check = json.loads(done.stdout)["files"][0]["checks"][0]
            if check["status"] == "violated":
                found = Fraction(check["counterexample"]["unknowns"][0]["value"]["exact"])
        budget = statistics.median(times)
    inside = found is not None and A < found < B
    print(f"    verify: {budget * 1000:.0f} ms (cold, median of {runs}), status {check['status']}, counterexample emissivity = {float(found) if found is not None else None!r} ({'inside' if inside else 'NOT inside'} the window)")

    # the same claim, sampled the way a script checks a spreadsheet: uniform points, each computed
    # by the checker's own simulation core, for the same wall time
    from checker.api import check_text

    model = check_text("needle.spec", NEEDLE).model
    assert model is not None
    comparison: Comparison = next(c for c in model.checks if c.name == "avoids_band").conditions[0]
    rng = random.Random(0)
    samples = hits = 0
    deadline = time.perf_counter() + budget
    while time.perf_counter() < deadline:
        e = LOW + (HIGH - LOW) * Fraction(rng.getrandbits(53), 2**53)
        simulation = Simulation(model, Point((("panel.emissivity", e),)))
        samples += 1
        if simulation.expr(comparison.left) < 0:
            hits += 1
    print(f"    sampling through the simulation core, same {budget * 1000:.0f} ms: {samples} samples, {hits} hits (chance of any hit: {1 - (1 - 1e-6) ** samples:.2%})")

    # the fastest possible sampler: a float loop over the closed form, same wall time
    a, b, low, width = float(A), float(B), float(LOW), float(HIGH - LOW)
    uniform = rng.random
    samples = hits = 0
    deadline = time.perf_counter() + budget
    while time.perf_counter() < deadline:
        for _ in range(10_000):
            e = low + width * uniform()
            if (e - a) * (e - b) < 0:
                hits += 1
        samples += 10_000
    print(f"    a bare float loop over the closed form, same time: {samples} samples, {hits} hits (chance of any hit: {1 - (1 - 1e-6) ** samples:.2%})")
    print(f"    to be 99 % sure of one hit a sampler needs {int(4.6 / 1e-6):,} samples; verify needs one run and then proves the rest of the range")


# ---- (f) jobs -------------------------------------------------------------------------------


def jobs(runs: int) -> None:
    print(f"(f) many files with --jobs 1 and --jobs 2, run in turn (median of {runs}; the ratio pair by pair)")
    for files in (100,) if QUICK else (100, 400):
        with tempfile.TemporaryDirectory() as scratch:
            copies(scratch, files)
            one, two, ratios = [], [], []
            for _ in range(runs):
                a = measure([*VERIFY, "--jobs", "1", scratch], f"verify {files} files --jobs 1")[0]
                b = measure([*VERIFY, "--jobs", "2", scratch], f"verify {files} files --jobs 2")[0]
                one.append(a)
                two.append(b)
                ratios.append(a / b)
        print(f"    {files} files: --jobs 1 {statistics.median(one):6.2f} s, --jobs 2 {statistics.median(two):6.2f} s: speed-up {statistics.median(ratios):.2f}x (min {min(ratios):.2f}x, max {max(ratios):.2f}x) on {os.cpu_count()} cores")
        share = statistics.median(b / a for a, b in zip(one, two))
        SUMMARY.append((f"{files} spec files, `--jobs 2` / `--jobs 1`", f"{share:.2f}x ({statistics.median(two):.1f} s / {statistics.median(one):.1f} s)", f"0.6x on an idle 2-core machine: {met(share <= 0.6)}"))
    largest = 100 if QUICK else 400
    for label in (f"verify {largest} files --jobs 1", f"verify {largest} files --jobs 2"):
        print(f"    peak memory of the largest process, {label[7:]}: {PEAKS[label]:.1f} MB")
        SUMMARY.append((f"peak memory of one process, {label[7:]}", f"{PEAKS[label]:.1f} MB", f"150 MB: {met(PEAKS[label] < 150)}"))


# ---- (g) warm -------------------------------------------------------------------------------


def warm(runs: int, files: int = 100) -> None:
    print(f"(g) {files} unchanged spec files, every result in the cache (a pre-commit run; median of {runs})")
    with tempfile.TemporaryDirectory() as scratch:
        copies(scratch, files)
        cold, hot, ratios = [], [], []
        for _ in range(runs):
            a = measure([*VERIFY, scratch], f"verify {files} files, results not cached")[0]  # fills the cache
            b = measure([*VERIFY, scratch], f"verify {files} files, results cached", warm=True)[0]
            cold.append(a)
            hot.append(b)
            ratios.append(b / a)
    print(f"    results cached {statistics.median(hot) * 1000:6.0f} ms ({statistics.median(hot) / files * 1000:.1f} ms a file), not cached {statistics.median(cold):.2f} s: cached / not cached {statistics.median(ratios):.3f}x")
    SUMMARY.append((f"{files} unchanged spec files, every result cached (a pre-commit run)", f"{statistics.median(hot):.2f} s for the whole process; {statistics.median(ratios):.3f}x of the same files not cached", f"1 s: {met(statistics.median(hot) < 1)}"))
    example = str((ROOT / "examples" / "orbital-radiator.spec").relative_to(ROOT))
    bare, hit, ratios = [], [], []
    measure([*VERIFY, example], "verify one example, filling the cache")
    for _ in range(runs):
        a = measure([*VERIFY, example], "verify one example, result cached", warm=True)[0]
        b = measure(BARE, "python -c 'import z3, lark'")[0]
        hit.append(a)
        bare.append(b)
        ratios.append(a / b)
    print(f"    one example, result cached: {statistics.median(hit) * 1000:.0f} ms, bare import {statistics.median(bare) * 1000:.0f} ms: {statistics.median(ratios):.2f}x")


# ---- (h) scale ------------------------------------------------------------------------------


def radiators(count: int, violated: int = 0) -> str:
    """`count` radiators that share nothing, each with a range and a check (the first `violated`
    checks fail)."""
    return "".join(
        f"radiator r{i} {{ heat = 1 MW; emissivity = 0.85 .. 0.92; temperature = {320 + i % 20} K; sink = 3 K; sides = 2 }}\n"
        f"check fits{i}: r{i}.area <= {700 if i < violated else 1200} m^2\n"
        for i in range(count)
    )


def pools_of(count: int) -> str:
    """A training workload on `count` pools of GPUs of different speeds, a jitter range per pool."""
    gpus = "".join(f"gpu G{i} {{ peak = {900 + 10 * i} TFLOP/s; memory = 80 GB; tdp = 700 W; idle = 100 W }}\n" for i in range(count))
    pools = "".join(f"  pool p{i} = 1024 x G{i}\n" for i in range(count))
    return f"""{gpus}cluster fleet {{
{pools}  network {{ topology = ring; bandwidth = 50 GB/s; latency = 5 us }}
  power {{ facility = 400 MW; pue = 1.2; overhead = 30 % }}
}}
workload train on fleet {{
  kind = training; params = 70e9; batch = 16e6 token; efficiency = 40 %
  jitter = 0 % .. 5 %; shards = 8; overlap = 50 %
}}
check mfu:  train.mfu >= 30 %
check step: train.step_time <= 30 s
check grid: fleet.power.draw <= fleet.power.facility
"""


def checks_of(count: int) -> str:
    """One radiator with a range and `count` checks on it, a tenth of them violated."""
    head = "radiator panel { heat = 1 MW; emissivity = 0.85 .. 0.92; temperature = 330 K; sink = 3 K; sides = 2 }\n"
    return head + "".join(f"check c{i}: panel.area <= {850 if i % 10 == 9 else 900 + i} m^2\n" for i in range(count))


def solve_cpu(text: str, runs: int) -> tuple[float, str]:
    """Median CPU seconds of solving the text in this process, and a count of its verdicts."""
    from checker.parse import parse_text
    from checker.resolve import resolve
    from checker.solve import solve

    model, diagnostics = resolve(parse_text("scale.spec", text))
    assert model is not None, [d.header() for d in diagnostics]
    times = []
    for _ in range(runs):
        start = time.process_time()
        outcome = solve(model)
        times.append(time.process_time() - start)
    statuses = [v.status for v in outcome.verdicts if v.claim.kind == "check"]
    counted = ", ".join(f"{statuses.count(s)} {s}" for s in ("proved", "violated", "unknown", "not-established") if statuses.count(s))
    return statistics.median(times), counted


def scale(runs: int) -> None:
    print(f"(h) solver CPU time of one file as it grows (this process; median of {runs})")
    sizes = (5, 20, 80, 160) if QUICK else (5, 10, 20, 40, 80, 160)
    for violated in (0, 16):
        times = {}
        for n in sizes:
            times[n], counted = solve_cpu(radiators(n, min(violated, n)), runs)
            print(f"    N = {n:>3} radiators{f', {min(violated, n)} violated' if violated else ''}: {times[n]:7.2f} s  ({counted})")
        ratio = times[160] / times[80]
        print(f"    160 / 80: {ratio:.2f}x: target <= 2.2x {met(ratio <= 2.2)}")
        SUMMARY.append((f"solver CPU, 160 / 80 independent radiators{f' ({violated} checks violated)' if violated else ''}", f"{ratio:.2f}x ({times[160]:.1f} s / {times[80]:.1f} s)", f"2.2x: {met(ratio <= 2.2)}"))
    times = {}
    for k in (1, 4, 32) if QUICK else (1, 2, 4, 8, 16, 32):
        times[k], counted = solve_cpu(pools_of(k), runs)
        print(f"    K = {k:>3} pools: {times[k]:7.2f} s  ({counted})")
    last = max(times)
    SUMMARY.append((f"solver CPU, a training workload on {last} / 1 pools (a jitter range each)", f"{times[last] / times[1]:.1f}x ({times[last]:.2f} s / {times[1]:.2f} s)", "grows with the pools"))
    times = {}
    for c in (1, 20, 200) if QUICK else (1, 10, 20, 50, 200):
        times[c], counted = solve_cpu(checks_of(c), runs)
        print(f"    C = {c:>3} checks on one radiator: {times[c]:7.2f} s  ({counted})")
    ratio = times[200] / times[20]
    SUMMARY.append(("solver CPU, 200 / 20 checks on one radiator (a tenth violated)", f"{ratio:.1f}x ({times[200]:.2f} s / {times[20]:.2f} s)", f"linear, 10x: {met(ratio <= 11)}"))


# ---- (i) ranges -----------------------------------------------------------------------------

RANGES = """\
# every field a range: four pools, a jitter unknown per pool
gpu A { peak = 900 TFLOP/s .. 1000 TFLOP/s; memory = 80 GB; tdp = 650 W .. 700 W; idle = 80 W .. 100 W }
gpu B { peak = 2200 TFLOP/s .. 2500 TFLOP/s; memory = 186 GB; tdp = 1100 W .. 1200 W; idle = 150 W }
cluster fleet {
  pool a = 4096 x A
  pool b = 4096 x A
  pool c = 2048 x B
  pool d = 2048 x B
  network { topology = ring; bandwidth = 40 GB/s .. 50 GB/s; latency = 4 us .. 6 us }
  power { facility = 40 MW; pue = 1.1 .. 1.3; overhead = 20 % .. 30 % }
}
workload train on fleet {
  kind = training; params = 60e9 .. 70e9; batch = 16e6 token; efficiency = 35 % .. 45 %
  jitter = 0 % .. 5 %; shards = 8; overlap = 40 % .. 60 %
}
check mfu:  train.mfu >= 30 %
check step: train.step_time <= 30 s
check grid: fleet.power.draw <= fleet.power.facility
check tps:  train.throughput >= 1e6 token/s
"""


def ranges(runs: int) -> None:
    from checker.api import check_text

    print(f"(i) a training spec with every field a range, 4 pools (whole check in this process, replays included; median of {runs})")
    for label, text in (("ring", RANGES), ("tree, proportional", RANGES.replace("topology = ring", "topology = tree").replace("shards = 8;", "shards = 8; balance = proportional;"))):
        times = []
        for _ in range(runs):
            start = time.process_time()
            result = check_text("ranges.spec", text)
            times.append(time.process_time() - start)
        assert result.model is not None
        statuses = [v.status for v in result.verdicts]
        decided = all(s in ("proved", "violated") for s in statuses)
        seconds = statistics.median(times)
        print(f"    {label}: {len(result.model.unknowns)} unknowns, {seconds:.2f} s CPU, {statuses.count('proved')} proved, {statuses.count('violated')} violated, {len(statuses) - statuses.count('proved') - statuses.count('violated')} other: target decided, < 5 s {met(decided and seconds < 5)}")
        SUMMARY.append((f"every field a range, 4 pools ({label}, {len(result.model.unknowns)} unknowns)", f"{seconds:.2f} s CPU, every claim decided" if decided else f"{seconds:.2f} s CPU, NOT all decided", f"5 s: {met(decided and seconds < 5)}"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=None, help="runs per measurement; medians are printed (default: 5, 1 with --quick)")
    parser.add_argument("--only", default=None, help="comma-separated parts to run (default: all: startup,pools,many,memory,needle,jobs,warm,scale,ranges; with --quick all but needle)")
    parser.add_argument("--quick", action="store_true", help="one run each, fewer sizes, no needle and no 400-file runs: a minute or two")
    args = parser.parse_args(argv)
    global QUICK
    QUICK = args.quick
    runs = args.runs if args.runs is not None else (1 if QUICK else 5)
    parts = (args.only or ("startup,pools,many,memory,jobs,warm,scale,ranges" if QUICK else "startup,pools,many,memory,needle,jobs,warm,scale,ranges")).split(",")
    known = {"startup", "pools", "many", "memory", "needle", "jobs", "warm", "scale", "ranges"}
    if not set(parts) <= known:
        parser.error(f"unknown parts {sorted(set(parts) - known)}; the parts are {sorted(known)}")
    import lark
    import z3

    print(f"verify bench: Python {platform.python_version()}, z3 {z3.get_version_string()}, lark {lark.__version__}, {os.cpu_count()} cores, {platform.platform()}")
    # The checker's bytecode compiled, as `pip install` does: with PYTHONDONTWRITEBYTECODE set,
    # every run would otherwise compile the modules whose bytecode is missing or stale.
    compileall.compile_dir(str(ROOT / "checker"), quiet=1)
    try:
        measure([*VERIFY, "examples/orbital-radiator.spec"], "verify, building the parser cache")  # once, untimed
        for name, part in (("startup", startup), ("pools", pools), ("many", many), ("needle", needle), ("jobs", jobs), ("warm", warm), ("scale", scale), ("ranges", ranges)):
            if name in parts:
                part(runs)
                print()
        if "memory" in parts:
            memory()
        print()
        print(f"| measure | figure | target |  ({os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end)")
        print("| --- | --- | --- |")
        for row in SUMMARY:
            print("| " + " | ".join(row) + " |")
    finally:
        shutil.rmtree(CACHE_HOME, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
