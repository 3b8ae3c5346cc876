"""``verify FILE...``: the command line. Parses arguments, runs the pipeline, picks the exit code.

Exit codes: 0 every check proved; 1 a counterexample; 2 the spec is invalid; 3 unknown;
4 usage or internal error. With several files the most severe wins (4 > 2 > 1 > 3 > 0).
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from checker import __version__
from checker.api import EXIT_ERROR, FileResult, check_file, expand, most_severe
from checker.solve import Limits

EPILOG = """\
exit codes:
  0  every check proved
  1  a counterexample (a check or a built-in invariant is violated)
  2  a spec is invalid (syntax, names, units, empty ranges, contradictory assumptions)
  3  the solver could not decide a check (unknown never counts as a pass)
  4  usage or internal error, or the solver and the simulation disagree
With several files every file is checked and the most severe code wins (4 > 2 > 1 > 3 > 0).
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # usage errors exit 4, not argparse's 2 (2 means an invalid spec)
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(EXIT_ERROR)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="verify",
        description="Prove claims about AI clusters for every value in their declared ranges, or find a counterexample.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="spec files, or directories to search for *.spec files")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="report format (default: text)")
    parser.add_argument("--output", metavar="FILE", help="write the report to FILE instead of standard output")
    parser.add_argument("--quiet", action="store_true", help="print only failures")
    parser.add_argument("--timeout", type=float, default=20.0, metavar="SECONDS", help="solver time limit per query (default: 20)")
    parser.add_argument("--rlimit", type=int, default=50_000_000, metavar="N", help="solver resource limit per query, deterministic across machines (default: 50000000)")
    parser.add_argument("--seed", type=int, default=0, help="solver random seed (default: 0)")
    parser.add_argument("--version", action="version", version=f"verify {__version__}")
    return parser


def run(argv: list[str], stdout: TextIO, stderr: TextIO) -> int:
    args = build_parser().parse_args(argv)
    if args.timeout <= 0 or args.rlimit <= 0:
        stderr.write("verify: error: --timeout and --rlimit must be positive\n")
        return EXIT_ERROR
    limits = Limits(timeout_ms=max(1, int(args.timeout * 1000)), rlimit=args.rlimit, seed=args.seed)
    files, missing = expand(args.paths)
    for path in missing:
        stderr.write(f"verify: error: no such file or directory: {path}\n")
    if not files and not missing:
        stderr.write("verify: error: no .spec files found\n")
        return EXIT_ERROR
    results: list[FileResult] = [check_file(path, limits) for path in files]
    from checker import report  # imported here so `verify --help` stays fast

    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8", newline="\n") as handle:
                _write(report, args, results, handle)
        except OSError as exc:
            stderr.write(f"verify: error: cannot write {args.output}: {exc.strerror or exc}\n")
            return EXIT_ERROR
    else:
        _write(report, args, results, stdout)
    code = most_severe(r.exit_code for r in results)
    return most_severe([code, EXIT_ERROR]) if missing else code


def _write(report, args, results, out: TextIO) -> None:
    if args.format == "json":
        report.write_json(results, out)
    else:
        report.write_text(results, out, quiet=args.quiet)


def main(argv: list[str] | None = None) -> int:
    try:
        return run(sys.argv[1:] if argv is None else argv, sys.stdout, sys.stderr)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("verify: interrupted\n")
        return EXIT_ERROR
    except Exception as exc:  # never show a traceback to a user
        sys.stderr.write(f"verify: internal error: {type(exc).__name__}: {exc}\nThis is a bug in verify; please report it with the spec that caused it.\n")
        return EXIT_ERROR


if __name__ == "__main__":
    raise SystemExit(main())
