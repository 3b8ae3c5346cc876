"""``verify FILE...``: the command line. Parses arguments, runs the pipeline, picks the exit code.

Exit codes: 0 every check proved; 1 a counterexample; 2 the spec is invalid; 3 unknown;
4 usage or internal error. With several files the most severe wins (4 > 2 > 1 > 3 > 0).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from typing import TYPE_CHECKING, TextIO

from checker import __version__

if TYPE_CHECKING:
    from checker.api import FileResult
    from checker.verdicts import Limits

EXIT_OK, EXIT_UNKNOWN, EXIT_ERROR = 0, 3, 4  # as in checker.api, imported only when a run needs it

EPILOG = """\
exit codes:
  0  every check proved
  1  a counterexample (a check or a built-in invariant is violated)
  2  a spec is invalid (syntax, names, units, empty ranges, contradictory assumptions)
  3  the solver could not decide a check (unknown never counts as a pass)
  4  usage or internal error, or the solver and the simulation disagree
With several files every file is checked and the most severe code wins (4 > 2 > 1 > 3 > 0).
With --allow-unknown an unknown check is a warning: a file with nothing worse exits 0.

subcommands (only as the first argument; write ./fmt, ./lsp or ./explain to check a file of that name):
  verify fmt [--check] PATH...   rewrite specs in the canonical layout (- : stdin to stdout)
  verify lsp                     a language server over standard input and output
  verify explain FILE [NAME.QUANTITY]
                                 how a quantity is computed: its formula, the spec's values
                                 in it, what it depends on and where; without a name, every
                                 block's fields and derived quantities
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
    parser.add_argument("paths", nargs="+", metavar="PATH", help="spec files, directories to search for *.spec files, or - for a spec on standard input (named <stdin> in the report)")
    parser.add_argument("--format", choices=("text", "json", "junit", "sarif", "html"), default="text", help="report format: text, json (schema verify-report/1), junit (XML), sarif (2.1.0) or html (one self-contained page with SVG figures, no script) (default: text)")
    parser.add_argument("--output", metavar="FILE", help="write the report to FILE instead of standard output")
    parser.add_argument("--quiet", action="store_true", help="text: print only failures and unknown checks, no summary")
    parser.add_argument("--allow-unknown", action="store_true", help="an unknown check is a warning, not a failure (exit 0 instead of 3 when nothing else fails)")
    parser.add_argument("--baseline", metavar="OLD.json", help="compare worst cases and margins with an earlier --format json report (text and json; sarif sets baselineState)")
    parser.add_argument("--timeout", type=float, default=20.0, metavar="SECONDS", help="solver time limit per query (default: 20)")
    parser.add_argument("--rlimit", type=int, default=50_000_000, metavar="N", help="solver resource limit per query, deterministic across machines (default: 50000000)")
    parser.add_argument("--seed", type=int, default=0, help="solver random seed (default: 0)")
    parser.add_argument("--jobs", "-j", type=_jobs, default=None, metavar="N", help="check files in N worker processes (default: the number of usable cores); 1 checks them in this process. The report does not depend on it")
    parser.add_argument("--shard", type=_shard, metavar="K/N", help="check only slice K of N of the files, for a CI matrix: file i (from 0) of the list the paths expand to, directories in sorted order, is in slice i mod N + 1")
    parser.add_argument("--with-importers", action="store_true", help="also check every .spec file of the repository that imports one of the given files, directly or not (for a pre-commit hook: a changed catalog rechecks the specs that use it)")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the cache of results and of the parser ($XDG_CACHE_HOME/verify, by default ~/.cache/verify)")
    parser.add_argument("--version", action="version", version=f"verify {__version__}")
    return parser


SUBCOMMANDS = ("fmt", "lsp", "explain")  # taken only as the first argument; `verify ./fmt` checks a file named fmt


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return value


def _shard(text: str) -> tuple[int, int]:
    from checker.runner import parse_shard

    try:
        return parse_shard(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def run(argv: list[str], stdout: TextIO, stderr: TextIO, stdin=None) -> int:
    if argv and argv[0] in SUBCOMMANDS:
        from checker import subcommands

        return subcommands.run(argv[0], argv[1:], stdout, stderr, stdin)
    args = build_parser().parse_args(argv)
    from checker import runner  # after parsing: `verify --help` imports neither lark nor z3
    from checker.api import expand
    from checker.verdicts import Limits

    if args.paths.count("-") > 1:
        stderr.write("verify: error: standard input (-) can be given only once\n")
        return EXIT_ERROR
    if not (math.isfinite(args.timeout) and args.timeout > 0) or args.rlimit <= 0:
        stderr.write("verify: error: --timeout and --rlimit must be positive\n")
        return EXIT_ERROR
    limits = Limits(timeout_ms=max(1, int(args.timeout * 1000)), rlimit=args.rlimit, seed=args.seed)
    old = None
    if args.baseline:
        from checker import baseline

        try:
            old = baseline.load(args.baseline)
        except baseline.BaselineError as exc:
            stderr.write(f"verify: error: {exc}\n")
            return EXIT_ERROR
        if args.format in ("junit", "html"):
            stderr.write(f"verify: note: --baseline is not shown in --format {args.format}\n")
    files, missing = expand(args.paths)
    if args.with_importers:
        from checker.imports import importers

        files += expand(importers([f for f in files if f != "-"]))[0]
        files = expand(files)[0]
    for path in missing:
        stderr.write(f"verify: error: no such file or directory: {path}\n")
    if not files and not missing:
        stderr.write("verify: error: no .spec files found\n")
        return EXIT_ERROR
    if args.shard:
        total, files = len(files), runner.shard(files, *args.shard)
        if not files and total:
            stderr.write(f"verify: note: shard {args.shard[0]}/{args.shard[1]} has none of the {total} files\n")
    jobs = args.jobs or runner.usable_cores()
    named = [path for path in files if path != "-"]
    checked = iter(runner.check_files(named, limits, jobs=jobs, use_cache=not args.no_cache))
    results: list[FileResult] = [_check_stdin(stdin, limits) if path == "-" else next(checked) for path in files]
    code = gate(results, args.allow_unknown, missing)
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8", newline="\n") as handle:
                _write(args, results, code, old, handle, color=False)
        except OSError as exc:
            stderr.write(f"verify: error: cannot write {args.output}: {exc.strerror or exc}\n")
            return EXIT_ERROR
    else:
        _write(args, results, code, old, stdout, color=args.format == "text" and use_color(stdout))
    return code


def _check_stdin(stdin, limits: Limits) -> FileResult:
    """`verify -`: the spec on standard input, checked in this process and never cached."""
    from checker.api import STDIN, check_bytes

    stream = sys.stdin if stdin is None else stdin
    source = getattr(stream, "buffer", stream)
    data = source.read()
    return check_bytes(STDIN, data.encode("utf-8") if isinstance(data, str) else data, limits)


def gate(results: list[FileResult], allow_unknown: bool = False, missing: list[str] | None = None) -> int:
    """The exit code of the run (computed by checker.api.run_exit_code, its one place)."""
    from checker.api import run_exit_code

    return run_exit_code(results, allow_unknown, bool(missing))


def use_color(stream: TextIO) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set to anything (https://no-color.org)."""
    if os.environ.get("NO_COLOR", ""):
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def _write(args, results: list[FileResult], code: int, old: dict | None, out: TextIO, color: bool) -> None:
    from checker import report  # imported here so `verify --help` stays fast; the rest only when used

    comparison = states = None
    if old is not None:
        from checker import baseline

        new = report.to_json(results, exit_code=code)
        comparison = baseline.compare(old, new, args.baseline)
        states = baseline.states(old, new)
    if args.format == "json":
        report.write_json(results, out, exit_code=code, baseline=comparison)
    elif args.format == "html":
        from checker import html

        html.write_html(results, out, exit_code=code)
    elif args.format in ("junit", "sarif"):
        from checker import formats

        if args.format == "junit":
            formats.write_junit(results, out, allow_unknown=args.allow_unknown)
        else:
            formats.write_sarif(results, out, exit_code=code, allow_unknown=args.allow_unknown, states=states)
    else:
        report.write_text(results, out, quiet=args.quiet, color=color, exit_code=code)
        if comparison is not None:  # after the report; --quiet already ends each file with a blank line
            out.write(("" if args.quiet else "\n") + "\n".join(baseline.text_lines(comparison)) + "\n")


def main(argv: list[str] | None = None) -> int:
    try:
        return run(sys.argv[1:] if argv is None else argv, sys.stdout, sys.stderr)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    except BrokenPipeError:  # the reader went away (e.g. `verify ... | head`): not an error of ours
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return EXIT_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("verify: interrupted\n")
        return EXIT_ERROR
    except Exception as exc:  # never show a traceback to a user
        sys.stderr.write(f"verify: internal error: {type(exc).__name__}: {exc}\nThis is a bug in verify; please report it with the spec that caused it.\n")
        return EXIT_ERROR


def entry() -> None:
    """The `verify` command (and `python -m checker`): main(), its output flushed, then the process
    ends at once. Python's orderly teardown of a run that loaded Z3 (every object freed, the
    solver's contexts deleted) took about a sixth of a cold run; the operating system releases
    all of it anyway. Nothing of ours waits for teardown: results and cache entries are written
    (atomically) before main() returns, worker processes are joined, and no temporary file or
    exit handler is left. main() itself returns normally, for callers in the same process."""
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader that went away, a closed stream: nothing to save
            pass
    os._exit(code)


if __name__ == "__main__":
    entry()
