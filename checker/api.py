"""The pipeline for one file: read → parse → resolve → solve → replay, and the exit code.

Nothing here prints. Every stage's failure ends as diagnostics in the :class:`FileResult`;
the exit code is a property of the result, computed in one place.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from checker import codes, model as m
from checker.diagnostics import Diagnostic, Span, SpecError, error
from checker.parse import decode, source_lines
from checker.replay import Replay, replay_verdict
from checker.replay_find import replay_find
from checker.resolve import resolve
from checker.verdicts import LAYOUT_PENDING, Limits, Status, Verdict

EXIT_OK, EXIT_VIOLATED, EXIT_INVALID, EXIT_UNKNOWN, EXIT_ERROR = 0, 1, 2, 3, 4
SEVERITY_ORDER = (EXIT_OK, EXIT_UNKNOWN, EXIT_VIOLATED, EXIT_INVALID, EXIT_ERROR)  # least to most severe


def most_severe(codes) -> int:
    return max(codes, key=SEVERITY_ORDER.index, default=EXIT_OK)


def run_exit_code(results, allow_unknown: bool = False, missing: bool = False) -> int:
    """The exit code of a run, the one place it is computed: the most severe file's code, an
    unknown counting as a pass with --allow-unknown, a missing path as a usage error."""
    codes_ = [EXIT_OK if allow_unknown and r.exit_code == EXIT_UNKNOWN else r.exit_code for r in results]
    return most_severe([*codes_, EXIT_ERROR] if missing else codes_)


@dataclass
class FileResult:
    path: str
    lines: tuple[str, ...] = ()
    diagnostics: list[Diagnostic] = field(default_factory=list)
    verdicts: tuple[Verdict, ...] = ()
    replays: dict[str, Replay] = field(default_factory=dict)
    model: m.Model | None = None
    sources: dict[str, tuple[str, ...]] = field(default_factory=dict)  # imported files' lines, by path

    def lines_of(self, span: Span) -> tuple[str, ...]:
        """The source lines a span points into: this file's, or an imported file's."""
        return self.lines if span.file == self.path else self.sources.get(span.file, ())

    @property
    def invalid(self) -> bool:
        return any(d.severity == "error" for d in self.diagnostics)

    @property
    def inconsistent(self) -> bool:
        return any(r.status == "disagrees" for r in self.replays.values())

    @property
    def replay_failed(self) -> bool:
        """The simulation core raised on a point it should model: an internal error (exit 4)."""
        return any(r.status == "failed" for r in self.replays.values())

    @property
    def exit_code(self) -> int:
        if self.inconsistent or self.replay_failed or any(d.code == codes.INTERNAL for d in self.diagnostics):
            return EXIT_ERROR
        if self.invalid:
            return EXIT_INVALID
        statuses = {v.status for v in self.verdicts}
        if Status.VIOLATED in statuses:
            return EXIT_VIOLATED
        # not established: the invariant it rests on is broken (that one is exit 1) or undecided
        if Status.UNKNOWN in statuses or Status.NOT_ESTABLISHED in statuses:
            return EXIT_UNKNOWN
        return EXIT_OK

    @property
    def status(self) -> str:
        if self.model is not None and self.exit_code == EXIT_OK and not any(v.claim.kind == "check" for v in self.verdicts):
            return "no-checks"  # nothing was claimed: not a proof of anything
        return {EXIT_OK: "proved", EXIT_VIOLATED: "violated", EXIT_INVALID: "invalid", EXIT_UNKNOWN: "unknown", EXIT_ERROR: "inconsistent" if self.inconsistent else "error"}[self.exit_code]


def check_text(path: str, text: str, limits: Limits = Limits()) -> FileResult:
    """The whole pipeline for one file. A bug in a stage becomes this file's internal error
    (exit 4); the other files of the run are still checked and reported."""
    try:
        return _check_text(path, text, limits)
    except Exception:  # noqa: BLE001 - reported, never swallowed
        if os.environ.get("VERIFY_DEBUG"):
            raise  # a developer asked for the traceback
        result = FileResult(path, source_lines(text))
        result.diagnostics.append(error(Span(path, 1, 1, 1, 1), codes.INTERNAL, "internal error while checking this file; this is a bug in verify, please report it with the spec (VERIFY_DEBUG=1 shows where it happened)"))
        return result


def _check_text(path: str, text: str, limits: Limits) -> FileResult:
    result = FileResult(path, source_lines(text))
    from checker import imports

    try:
        spec = imports.parse_once(path, text.encode("utf-8", "surrogatepass"))  # once per process: an import of another spec reuses it
    except SpecError as exc:
        result.diagnostics.append(exc.diagnostic)
        return result
    except RecursionError:  # only the user's nesting can go this deep here; later it is a bug
        result.diagnostics.append(error(Span(path, 1, 1, 1, 1), codes.TOO_LARGE, "the spec is nested too deeply to check"))
        return result
    loaded = imports.load(spec)
    result.sources = loaded.sources
    result.diagnostics.extend(loaded.diagnostics)
    if result.invalid:
        return result
    model, diagnostics = resolve(loaded.spec)
    result.diagnostics.extend(_unique(loaded.annotate(d) for d in diagnostics) if loaded.sources or loaded.inherited else diagnostics)
    if model is None:
        return result
    result.model = model
    from checker import solve as solver  # Z3 is imported only when a file is really solved

    outcome = solver.solve(model, limits)
    if outcome.vacuity is not None:
        result.diagnostics.append(_vacuity(model, outcome.vacuity))
        return result
    verdicts = []
    for verdict in outcome.verdicts:
        if verdict.reason == LAYOUT_PENDING:  # the model is consistent and the workload's layout holds: search
            from checker import solve_layout  # a best layout: each layout is the spec with its fields replaced

            verdict = solve_layout.search(loaded.spec, model, verdict, limits)
        searched = verdict.status == Status.PROVED and (verdict.answer is not None or verdict.layouts is not None)
        replay = replay_find(model, verdict) if searched else replay_verdict(model, verdict)
        if replay is not None:
            result.replays[verdict.claim.name] = replay
            if replay.status in ("loose", "one-sided"):  # a bound that cannot decide: never a pass
                verdict = Verdict(verdict.claim, Status.UNKNOWN, reason=f"the closed form cannot decide it: {replay.detail}", relevant=verdict.relevant)
        verdicts.append(verdict)
    result.verdicts = tuple(verdicts)
    return result


def _unique(diagnostics) -> list[Diagnostic]:
    """Each diagnostic once: a field inherited by several blocks is reported once, with a note
    for each block that inherits it."""
    out: list[Diagnostic] = []
    for d in diagnostics:
        same = next((i for i, o in enumerate(out) if (o.span, o.code, o.message) == (d.span, d.code, d.message)), None)
        if same is None:
            out.append(d)
    return out


def _vacuity(model: m.Model, vacuity) -> Diagnostic:
    by_name = {a.name: a for a in model.assumptions}
    clashing = [by_name[n] for n in vacuity.assumptions if n in by_name]
    span = clashing[0].span if clashing else Span(model.path, 1, 1, 1, 1)
    notes = [f"assumption '{a.name}' (line {a.span.line}): {a.conditions[0].text}" for a in clashing]
    unknowns = {u.id: u for u in model.unknowns}
    notes += [f"the range of {uid} (line {unknowns[uid].span.line})" for uid in vacuity.unknowns if uid in unknowns]
    if len(clashing) == 1:
        what = f"the assumption '{clashing[0].name}' contradicts the ranges"
    elif clashing:
        what = "the assumptions " + " and ".join(f"'{a.name}'" for a in clashing) + " contradict each other" + (" and the ranges" if vacuity.unknowns else "")
    else:
        what = "the ranges contradict each other"
    return error(span, codes.VACUOUS, f"{what}, so every claim would hold vacuously", *notes)


STDIN = "<stdin>"  # the name of a spec read from standard input (`verify -`) in diagnostics


def check_file(path: str, limits: Limits = Limits()) -> FileResult:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        result = FileResult(path)
        result.diagnostics.append(error(Span(path, 1, 1, 1, 1), codes.READ_ERROR, f"cannot read the file: {exc.strerror or exc}"))
        return result
    return check_bytes(path, data, limits)


def check_bytes(path: str, data: bytes, limits: Limits = Limits()) -> FileResult:
    """The pipeline for a spec's raw bytes (a file's, read by the runner, which keys the result
    cache on exactly these bytes; or standard input's, as STDIN)."""
    try:
        text = decode(path, data)
    except SpecError as exc:
        result = FileResult(path, source_lines(data.decode("utf-8", "replace")))
        result.diagnostics.append(exc.diagnostic)
        return result
    return check_text(path, text, limits)


def expand(paths: list[str]) -> tuple[list[str], list[str]]:
    """Files to check, in a stable order: directories recurse into *.spec. Also the missing paths."""
    files, missing = [], []
    seen: set[str] = set()  # each file once, however many of the paths reach it
    for path in paths:
        if path == "-":
            files.append(path)  # standard input, read by the CLI
        elif os.path.isdir(path):
            found = sorted(str(p) for p in Path(path).rglob("*.spec") if p.is_file())
            files.extend(f for f in found if _first(f, seen))
        elif os.path.exists(path):
            if _first(path, seen):
                files.append(path)
        else:
            missing.append(path)
    return files, missing


def _first(path: str, seen: set[str]) -> bool:
    real = os.path.realpath(path)
    if real in seen:
        return False
    seen.add(real)
    return True
