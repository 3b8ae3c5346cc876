#!/usr/bin/env python3
"""Fuzz the checker with many cases and count how far each one gets.

The generators are the ones tests/test_fuzz.py runs in CI with a small budget: programs of the
grammar (from_lark, steered), well-formed specs built from the schema (now and then broken),
and byte-level mutations of every example. Every case must end in diagnostics or verdicts, with
reports that print; anything else (an exception, a broken property, a solver/simulation
disagreement) is printed with its input and saved under --save.

    python scripts/fuzz.py                      # 100000 cases on every core
    python scripts/fuzz.py --cases 2000 --jobs 2 --seed 7

Exit status: 0 when no case failed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

GENERATORS = ("grammar", "schema", "mutations")
STAGES = ("read error", "syntax error", "resolution error", "invalid (vacuous)", "proved", "violated", "unknown", "inconsistent", "failure")
SLOW_SECONDS = 30.0


def _stage(result, parsed: bool) -> str:
    codes = {d.code for d in result.diagnostics}
    if "read-error" in codes:
        return "read error"
    if not parsed:
        return "syntax error"
    if "vacuous" in codes:
        return "invalid (vacuous)"
    if result.model is None:
        return "resolution error"
    return result.status  # proved, violated, unknown, inconsistent


def _run_case(kind: str, payload, scratch: Path):
    """One case through the public API; returns (stage, seconds, failure text or None)."""
    from checker.api import check_file, check_text
    from checker.diagnostics import SpecError
    from checker.parse import decode, parse_text
    from test_fuzz import FUZZ_LIMITS, assert_sane

    start = time.perf_counter()
    try:
        if isinstance(payload, bytes):
            scratch.write_bytes(payload)
            result = check_file(str(scratch), FUZZ_LIMITS)
            try:
                parse_text("fuzz.spec", decode("fuzz.spec", payload))
                parsed = True
            except SpecError:
                parsed = False
        else:
            result = check_text("fuzz.spec", payload, FUZZ_LIMITS)
            try:
                parse_text("fuzz.spec", payload)
                parsed = True
            except SpecError:
                parsed = False
        assert_sane(result)
        return _stage(result, parsed), time.perf_counter() - start, None
    except KeyboardInterrupt:
        raise
    except BaseException:  # noqa: BLE001 - a fuzzer reports everything
        return "failure", time.perf_counter() - start, traceback.format_exc(limit=-8)


def worker(kind: str, cases: int, seed: int, example: str | None) -> dict:
    """Run `cases` cases of one generator in this process; return the counts and the failures."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    import test_fuzz

    counts: collections.Counter[str] = collections.Counter()
    failures: list[tuple[str, str, str]] = []
    slow: list[tuple[float, str]] = []
    scratch = Path(tempfile.mkdtemp(prefix="verify-fuzz-")) / (Path(example).name if example else "fuzz.spec")
    if kind == "grammar":
        strategy = test_fuzz.grammar_specs()
    elif kind == "schema":
        strategy = test_fuzz.schema_specs()
    else:
        strategy = test_fuzz.mutations(Path(example).read_bytes())

    @hypothesis_seed(seed)
    @settings(max_examples=cases, deadline=None, database=None, phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(strategy)
    def run(payload) -> None:
        stage, seconds, failure = _run_case(kind, payload, scratch)
        counts[stage] += 1
        if failure is not None:
            failures.append((kind, payload.decode("utf-8", "backslashreplace") if isinstance(payload, bytes) else payload, failure))
        if seconds > SLOW_SECONDS:
            slow.append((seconds, repr(payload)[:300]))

    started = time.perf_counter()
    run()
    return {"kind": kind, "counts": counts, "failures": failures, "slow": slow, "seconds": time.perf_counter() - started, "example": example}


def plan(cases: int, jobs: int, seed: int, mix: tuple[int, int, int]) -> list[tuple[str, int, int, str | None]]:
    """Split the cases over generators and into tasks of at most ~1000 cases each."""
    examples = sorted(str(p) for p in (ROOT / "examples").glob("*.spec"))
    total = sum(mix)
    shares = {kind: cases * weight // total for kind, weight in zip(GENERATORS, mix)}
    shares["grammar"] += cases - sum(shares.values())
    tasks: list[tuple[str, int, int, str | None]] = []
    for kind in GENERATORS:
        targets = examples if kind == "mutations" else [None]
        for index, target in enumerate(targets):
            share = shares[kind] // len(targets) + (1 if index < shares[kind] % len(targets) else 0)
            chunks = max(1, -(-share // 1000))
            for chunk in range(chunks):
                size = share // chunks + (1 if chunk < share % chunks else 0)
                if size:
                    tasks.append((kind, size, seed * 1_000_003 + len(tasks), target))
    return tasks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000, help="number of cases (default: 100000)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: every core)")
    parser.add_argument("--seed", type=int, default=0, help="base seed; the same seed replays the same cases")
    parser.add_argument("--mix", default="40,30,30", help="weights of grammar,schema,mutations (default: 40,30,30)")
    parser.add_argument("--save", default=str(ROOT / "fuzz-failures"), help="directory for the inputs of failing cases")
    args = parser.parse_args(argv)
    mix = tuple(int(x) for x in args.mix.split(","))
    if len(mix) != 3 or any(m < 0 for m in mix) or not sum(mix) or args.cases < 1 or args.jobs < 1:
        parser.error("--mix takes three non-negative weights, --cases and --jobs positive numbers")

    tasks = plan(args.cases, args.jobs, args.seed, mix)  # type: ignore[arg-type]
    counts = {kind: collections.Counter() for kind in GENERATORS}
    failures: list[tuple[str, str, str]] = []
    slow: list[tuple[float, str]] = []
    done = 0
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(worker, *task) for task in tasks]
        for future in as_completed(futures):
            result = future.result()
            counts[result["kind"]].update(result["counts"])
            failures.extend(result["failures"])
            slow.extend(result["slow"])
            done += sum(result["counts"].values())
            elapsed = time.perf_counter() - started
            print(f"fuzz: {done}/{args.cases} cases, {elapsed:.0f} s, {done / elapsed:.1f} cases/s, {len(failures)} failures", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - started

    total = collections.Counter()
    for c in counts.values():
        total.update(c)
    width = max(len(s) for s in STAGES) + 2
    print(f"verify fuzz: {sum(total.values())} cases, seed {args.seed}, {args.jobs} processes, {elapsed:.0f} s ({sum(total.values()) / elapsed:.1f} cases/s)")
    print(f"{'stage':<{width}}{'all':>9}" + "".join(f"{k:>11}" for k in GENERATORS))
    for stage in STAGES:
        print(f"{stage:<{width}}{total[stage]:>9}" + "".join(f"{counts[k][stage]:>11}" for k in GENERATORS))
    solved = sum(total[s] for s in ("proved", "violated", "unknown", "inconsistent", "invalid (vacuous)"))
    print(f"{'reached the solver':<{width}}{solved:>9}" + "".join(f"{sum(counts[k][s] for s in ('proved', 'violated', 'unknown', 'inconsistent', 'invalid (vacuous)')):>11}" for k in GENERATORS))
    if slow:
        slow.sort(reverse=True)
        print(f"slow cases (over {SLOW_SECONDS:.0f} s): {len(slow)}; the slowest took {slow[0][0]:.1f} s: {slow[0][1]}")
    if failures:
        save = Path(args.save)
        save.mkdir(parents=True, exist_ok=True)
        for index, (kind, text, trace) in enumerate(failures):
            (save / f"failure-{index:04d}.spec").write_text(text, encoding="utf-8", errors="backslashreplace")
            print(f"\n--- failure {index} ({kind}), input saved as {save / f'failure-{index:04d}.spec'}:\n{text[:2000]!r}\n{trace}")
        return 1
    print("no failures")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
