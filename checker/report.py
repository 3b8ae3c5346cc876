"""Text and JSON reports. Only this module and the CLI write output, to the streams they are given.

Numbers are written by checker.numbers: exact when short, else 4 significant digits. The
JSON report carries every value exactly as 'p/q' beside its rounded decimal.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TextIO

from checker import codes, model as m
from checker.api import FileResult, run_exit_code
from checker.diagnostics import Diagnostic, Span, excerpt
from checker.numbers import fmt, ratio
from checker.replay import Replay
from checker.verdicts import Point, Status, Verdict
from checker.units import display_unit
from checker.records import record

SCHEMA = "verify-report/1"
ROUNDING = "numbers are exact when short, else rounded half-even to 4 significant digits; --format json has exact values"


def quantity(value: Fraction, dim, unit: str | None = None, digits: int = 4) -> str:
    shown, text = display_unit(value, dim, unit)
    return f"{fmt(shown, digits)} {text}".rstrip()


def _preferred(comparison: m.Comparison) -> str | None:
    for side in (comparison.right, comparison.left):
        if isinstance(side, m.Lit) and side.unit:
            return side.unit
    return None


def _path(path: tuple[str, ...]) -> str:
    return ".".join(path)


def _dim_of(model: m.Model, path: tuple[str, ...]):
    """The dimension of a quantity named in a report, from the registry."""
    from checker import registry

    return registry.dim_of(model, path)


def _line(span: Span, path: str) -> str:
    """'line 12' in the checked file; 'catalog/gpus.spec line 12' in a file it imports."""
    return f"line {span.line}" if span.file == path else f"{span.file} line {span.line}"


class _Point:
    """The values of the unknowns a claim depends on; the others are left out."""

    def __init__(self, model: m.Model, point: Point, relevant: tuple[str, ...], free: tuple[str, ...] = ()) -> None:
        self.model, self.point, self.free, self.relevant = model, point, free, relevant

    def lines(self) -> list[str]:
        out = []
        for unknown in self.model.unknowns:
            if unknown.id not in self.relevant:
                continue
            if unknown.id in self.free:
                allowed = " the assumptions allow" if self.model.assumptions else ""
                shown = f"any value in {quantity(unknown.low, unknown.dim, unknown.unit)} .. {quantity(unknown.high, unknown.dim, unknown.unit)}{allowed}"
            else:
                shown = quantity(self.point.get(unknown.id), unknown.dim, unknown.unit)
            out.append(f"{unknown.id} = {shown}  ({_line(unknown.span, self.model.path)})")
        return out


# ---- text -----------------------------------------------------------------------------


def _diagnostic_text(d: Diagnostic, lines: tuple[str, ...]) -> list[str]:
    out = [d.header()]
    shown = excerpt(d.span, lines)
    if shown:
        out.append(shown)
    out.extend(f"  note: {n}" for n in d.notes)
    return out


@record
class Detail:
    """What the report says about one verdict: the record every format renders (the text report
    as `file:line:col: severity: message [code]` with the excerpt and body; JUnit and SARIF from
    the same fields, never by parsing that text)."""

    severity: str
    code: str
    message: str
    body: tuple[str, ...]  # the lines under the header (counterexample, worst case, replay), indented


def _verdict_detail(result: FileResult, v: Verdict) -> list[str]:
    """The text block of a verdict: header, source excerpt, body."""
    record = verdict_record(result, v)
    if record is None:
        return []
    head = f"{v.claim.span}: {record.severity}: {record.message} [{record.code}]"
    shown = excerpt(v.claim.span, result.lines_of(v.claim.span)) if record.severity != "note" else ""  # a proof needs no caret
    return [line for line in (head, shown, *record.body) if line]


def verdict_record(result: FileResult, v: Verdict) -> Detail | None:
    model = result.model
    assert model is not None
    claim = v.claim
    span = claim.span
    if claim.find is not None:  # a find statement: its answer (checker/report_find.py)
        from checker import report_find

        return report_find.detail(result, v, verdict_record, quantity, lambda mo, p, r: _Point(mo, p, r).lines(), _replay_lines, _distinct)
    replay = result.replays.get(claim.name)
    out: list[str] = []
    head: tuple[str, str, str] | None = None  # severity, code, message
    label = "invariant" if claim.kind == "invariant" else "check"
    if v.status == "violated":
        if claim.static is not None:
            return Detail("error", codes.INVARIANT if claim.kind == "invariant" else codes.VIOLATED, f"{label} '{claim.name}' is broken: {v.reason}", ())
        comparison = claim.conditions[v.failing]
        unit = _preferred(comparison)
        dim = comparison.left.dim
        code = codes.INVARIANT if claim.kind == "invariant" else codes.VIOLATED
        head = ("error", code, f"{label} '{claim.name}' is violated: {comparison.text} fails")
        if v.point is not None and v.relevant:
            out.append("  counterexample:")
            out.extend(f"    {line}" for line in _Point(model, v.point, v.relevant).lines())
        elif v.point is not None:
            out.append("  counterexample: the claim depends on no range; its constants alone break it")
        if v.values:
            out.append("  which gives:")
            for path, value in v.values:
                qdim = _dim_of(model, path)
                out.append(f"    {_path(path)} = {quantity(value, qdim, unit if qdim == dim else None) if qdim is not None else fmt(value)}")
        if v.left is not None and v.right is not None:
            left_text, right_text = _distinct(v.left, v.right, dim, unit)
            out.append(f"  so {_left_text(comparison)} = {left_text}, which is not {comparison.op} {right_text}")
        if v.zero_divisor:
            out.append("  note: a divisor is zero at this point (in the claim or in a quantity it uses), where the value is undefined")
        if v.worst is not None and v.relevant:
            word = "highest" if v.worst.maximize else "lowest"
            out.append(f"  worst case over the ranges: {_left_text(comparison)} = {quantity(v.worst.value, dim, unit)} ({word}), at:")
            out.extend(f"    {line}" for line in _Point(model, v.worst.point, v.relevant, v.worst.free).lines())
        out.extend(_replay_lines(replay, dim, unit, _left_text(comparison), v.worst.value if v.worst is not None else None))
    elif v.status == Status.UNKNOWN:
        why = v.reason if v.reason.startswith(("the consistency", "it rests on", "the closed form")) else f"the solver gave up ({v.reason or 'no reason given'})"
        head = ("warning", codes.UNKNOWN, f"{label} '{claim.name}' is unknown: {why}; this is not a pass")
    elif v.status == Status.NOT_ESTABLISHED:
        head = ("warning", codes.NOT_ESTABLISHED, f"{label} '{claim.name}' is not established: {v.reason}; no verdict stands on a broken model, and this is not a pass")
    elif v.worst is not None:
        comparison = claim.conditions[0]
        unit = _preferred(comparison)
        dim = comparison.left.dim
        w = v.worst
        word = "highest" if w.maximize else "lowest"
        if w.exact:
            approx = ""
        elif w.irrational:
            approx = f" (irrational: the true {word} is within 10^-40 of it)"
        elif w.bound is None:
            approx = f" (the search for the true {word} stopped early; it may lie beyond)"
        else:
            approx = f" (the true {word} is at most {quantity(w.bound, dim, unit)})" if w.maximize else f" (the true {word} is at least {quantity(w.bound, dim, unit)})"
        head = ("note", "proved", f"check '{claim.name}' is proved: {comparison.text}")
        out.append(f"  worst case: {_left_text(comparison)} = {quantity(w.value, dim, unit)}{approx}")
        if v.relevant and set(v.relevant) - set(w.free):
            out.append("    reached at:")
            out.extend(f"      {line}" for line in _Point(model, w.point, v.relevant, w.free).lines())
        elif not v.relevant:
            out.append("    (it depends on no range: a fact about constants)")
        if v.margin is not None:
            right = _constant_right(comparison)
            share = f" ({fmt(v.margin / abs(right) * 100)} % of the bound)" if right not in (None, 0) else ""
            if not w.exact and not w.irrational and right is not None and w.bound is not None:
                proved = right - w.bound if w.maximize else w.bound - right
                share += f"; proved: at least {quantity(proved, dim, unit)}"
            out.append(f"  margin: {quantity(v.margin, dim, unit)}{share}")
        if v.rests_on:
            out.append(f"  rests on: {', '.join(_fact(model, fact) for fact in v.rests_on)}")
        out.extend(_replay_lines(replay, dim, unit, _left_text(comparison)))
    if head is None:
        return None
    return Detail(*head, tuple(line for line in out if line))


def _fact(model: m.Model, fact: str) -> str:
    kind, _, name = fact.partition(" ")
    if kind == "range":
        unknown = next(u for u in model.unknowns if u.id == name)
        return f"the range of {name} ({_line(unknown.span, model.path)})"
    claim = next(a for a in model.assumptions if a.name == name)
    return f"assumption '{name}' (line {claim.span.line})"


def _left_text(comparison: m.Comparison) -> str:
    if comparison.left_text:
        return comparison.left_text
    text = comparison.text
    for op in ("<=", ">=", "==", "<", ">"):
        if op in text:
            return text.split(op)[0].strip()
    return text


def _constant_right(comparison: m.Comparison) -> Fraction | None:
    return comparison.right.value if isinstance(comparison.right, m.Lit) else None


def _replay_lines(replay: Replay | None, dim, unit: str | None, name: str = "left side", solver_worst: Fraction | None = None) -> list[str]:
    if replay is None:
        return []
    worst = ""
    if replay.worst is not None:  # a bound's worst case: the schedule's own value at that point
        same = solver_worst is None or quantity(replay.worst, dim, unit) == quantity(solver_worst, dim, unit)
        worst = f"; worst case {quantity(replay.worst, dim, unit)} reproduced" if same else f"; at the worst case the simulation gives {quantity(replay.worst, dim, unit)}"
    if replay.status == "confirmed" and replay.left is not None:
        extra = f" ({replay.detail})" if replay.detail else ""
        chosen = [f"  at the worst case, algorithm = auto: {replay.chosen}"] if replay.chosen else []
        chosen += [f"  at the worst case, slice = any: {replay.slice}"] if replay.slice else []
        return [f"  confirmed by simulation: {name} = {quantity(replay.left, dim, unit)}{extra}{worst}", *chosen]
    if replay.status == "indeterminate" and replay.left is not None:
        return [f"  not confirmed by simulation: {name} = {quantity(replay.left, dim, unit)}: {replay.detail}{worst}"]
    if replay.status == "skipped":
        return [f"  not replayed: {replay.detail}"]
    if replay.status == "failed":
        return [f"  error: not replayed: {replay.detail}; this is an internal error in verify, please report it with the spec [internal]"]
    if replay.left is not None and replay.expected is not None:
        shown, expected = _distinct(replay.left, replay.expected, dim, unit)
        return [f"  error: the simulation disagrees: it computes {shown} where the solver has {expected} ({replay.detail}); this is an internal inconsistency [inconsistent]"]
    return [f"  error: the simulation disagrees ({replay.detail}) [inconsistent]"]


def _distinct(a: Fraction, b: Fraction, dim, unit: str | None) -> tuple[str, str]:
    """Two values written with as many digits as it takes to tell them apart (up to 30)."""
    for digits in (4, 6, 9, 12, 15, 20, 30):
        x, y = quantity(a, dim, unit, digits), quantity(b, dim, unit, digits)
        if x != y or a == b:
            return x, y
    return x, y


def summary_line(results: list[FileResult], exit_code: int | None = None) -> str:
    counts = {status: 0 for status in Status}
    for r in results:
        for v in r.verdicts:
            if v.claim.kind == "check" or v.status == Status.NOT_ESTABLISHED:
                counts[v.status] += 1
    broken = sum(1 for r in results for v in r.verdicts if v.claim.kind == "invariant" and v.status == Status.VIOLATED)
    undecided = sum(1 for r in results for v in r.verdicts if v.claim.kind == "invariant" and v.status == Status.UNKNOWN)
    unreplayed = sum(1 for r in results for x in r.replays.values() if x.status in ("skipped", "failed"))
    invalid = sum(1 for r in results if r.invalid)
    files = f"{len(results)} file{'s' if len(results) != 1 else ''}"
    extra = ""
    if counts[Status.NOT_ESTABLISHED]:
        extra += f"{counts[Status.NOT_ESTABLISHED]} not established, "
    if undecided:
        extra += f"{undecided} undecided invariant{'s' if undecided != 1 else ''}, "
    if unreplayed:
        extra += f"{unreplayed} not replayed, "
    return (
        f"{files}: {counts[Status.PROVED]} proved, {counts[Status.VIOLATED]} violated, {counts[Status.UNKNOWN]} unknown, "
        f"{broken} broken invariant{'s' if broken != 1 else ''}, {extra}{invalid} invalid; exit {_exit(results, exit_code)}"
    )


def _exit(results: list[FileResult], exit_code: int | None) -> int:
    return exit_code if exit_code is not None else run_exit_code(results)


# ANSI colours for the verdict words only, and only when the CLI says the stream is a terminal
COLORS = {"proved": "32", "violated": "31", "invalid": "31", "inconsistent": "35", "unknown": "33", "not established": "33", "no checks": "33"}


def _word(status: str) -> str:
    """A status as the text report writes it ('not established', not 'not-established')."""
    return status.replace("-", " ")


def paint(word: str, color: bool, width: int = 0) -> str:
    """A verdict word, padded to width, with the colour around the word and not the padding."""
    pad = " " * max(width - len(word), 0)
    if not color or word not in COLORS:
        return word + pad
    return f"\033[{COLORS[word]}m{word}\033[0m{pad}"


def write_text(results: list[FileResult], out: TextIO, quiet: bool = False, color: bool = False, exit_code: int | None = None) -> None:
    """The text report. quiet: only files that are not proved, and in them only what is not
    proved (unknown checks too, even when --allow-unknown makes them a warning); no summary.
    color: ANSI colour around the verdict words (the CLI decides: a terminal, no NO_COLOR)."""
    for result in results:
        lines: list[str] = []
        checks = [v for v in result.verdicts if v.claim.kind == "check"]
        invariants = [v for v in result.verdicts if v.claim.kind == "invariant"]
        width = 15 if any(v.status == Status.NOT_ESTABLISHED for v in result.verdicts) else 9
        if result.status == "no-checks":
            if not quiet:
                lines.append(f"{result.path}: {paint('no checks', color)}; {len(invariants)} built-in invariant{'s' if len(invariants) != 1 else ''} hold{'s' if len(invariants) == 1 else ''}")
        elif not quiet or result.exit_code != 0:
            lines.append(f"{result.path}: {paint(result.status, color)}")
            for v in checks:
                if quiet and v.status == Status.PROVED:
                    continue
                lines.append(f"  {paint(_word(v.status), color, width)} {v.claim.name}  (line {v.claim.span.line})")
            broken = [v for v in invariants if v.status != Status.PROVED]
            if invariants and not (quiet and not broken):
                held = len(invariants) - len(broken)
                lines.append(f"  built-in invariants: {held} of {len(invariants)} hold")
            for v in broken:
                lines.append(f"  {paint(_word(v.status), color, width)} invariant: {v.claim.name}  ({_line(v.claim.span, result.path)})")
        details: list[list[str]] = [_diagnostic_text(d, result.lines_of(d.span)) for d in result.diagnostics]
        for v in result.verdicts:
            if quiet and v.status == "proved":
                continue
            if v.claim.kind == "invariant" and v.status == "proved":
                continue
            detail = _verdict_detail(result, v)
            if detail:
                details.append(detail)
        if lines:
            out.write("\n".join(lines) + "\n")
        for block in details:
            out.write("\n" + "\n".join(block) + "\n")
        if lines or details:
            out.write("\n")
    if not quiet:
        out.write(summary_line(results, exit_code) + "\n")
        out.write(f"({ROUNDING})\n")


# ---- JSON -----------------------------------------------------------------------------


def _number(value: Fraction | None, dim=None, unit: str | None = None) -> dict | None:
    if value is None:
        return None
    out = {"exact": ratio(value), "decimal": fmt(value)}
    if dim is not None:
        shown, text = display_unit(value, dim, unit)
        out["shown"] = f"{fmt(shown)} {text}".rstrip()
    return out


def _span(span: Span) -> dict:
    return {"file": span.file, "line": span.line, "column": span.column, "end_line": span.end_line, "end_column": span.end_column}


def _point(model: m.Model, point: Point | None, relevant: tuple[str, ...]) -> list[dict] | None:
    if point is None:
        return None
    out = []
    for unknown in model.unknowns:
        if unknown.id in relevant:
            out.append({"name": unknown.id, "value": _number(point.get(unknown.id), unknown.dim, unknown.unit), "span": _span(unknown.span)})
    return out


def _verdict_json(result: FileResult, v: Verdict) -> dict:
    model = result.model
    assert model is not None
    claim = v.claim
    comparison = claim.conditions[v.failing] if claim.conditions else None
    dim = comparison.left.dim if comparison else None
    unit = _preferred(comparison) if comparison else None
    out: dict = {
        "name": claim.name,
        "kind": claim.kind,
        "claim": " and ".join(c.text for c in claim.conditions) if claim.conditions else claim.name,
        "span": _span(claim.span),
        "status": v.status,
    }
    if v.status == "violated":
        out["counterexample"] = {
            "unknowns": _point(model, v.point, v.relevant),
            "left": _number(v.left, dim, unit),
            "right": _number(v.right, dim, unit),
            "values": [{"quantity": _path(p), "value": _number(x, _dim_of(model, p))} for p, x in v.values],
            "zero_divisor": v.zero_divisor,
            "reason": v.reason or None,
        }
    if v.status in (Status.UNKNOWN, Status.NOT_ESTABLISHED):
        out["reason"] = v.reason
    if v.worst is not None:
        out["worst_case"] = {
            "value": _number(v.worst.value, dim, unit),
            "bound": _number(v.worst.bound, dim, unit) if v.worst.bound is not None else None,
            "exact": v.worst.exact,
            "irrational": v.worst.irrational,
            "direction": "max" if v.worst.maximize else "min",
            "at": _point(model, v.worst.point, v.relevant),
            "free": list(v.worst.free),
        }
        out["margin"] = _number(_margin(v, comparison), dim, unit)
    if v.status == "proved":
        out["rests_on"] = [_fact(model, fact) for fact in v.rests_on]
    if claim.find is not None:  # a find statement: its answer (checker/report_find.py)
        from checker import report_find

        out.update(report_find.json_fields(result, v, _number, _point))
    replay = result.replays.get(claim.name)
    if replay is not None:
        out["replay"] = {"status": replay.status, "left": _number(replay.left, dim, unit), "right": _number(replay.right, dim, unit), "expected": _number(replay.expected, dim, unit), "detail": replay.detail}
        if replay.chosen:
            out["replay"]["auto"] = replay.chosen
        if replay.slice:
            out["replay"]["slice"] = replay.slice
    return out


def _margin(v: Verdict, comparison: m.Comparison | None) -> Fraction | None:
    """The solver's margin; for a violated check against a constant, the (negative) distance
    from the worst case to the bound, so that margins compare across revisions."""
    if v.margin is not None or v.worst is None or comparison is None or v.status != "violated":
        return v.margin
    right = _constant_right(comparison)
    if right is None:
        return None
    return right - v.worst.value if v.worst.maximize else v.worst.value - right


def _diagnostic_json(d: Diagnostic) -> dict:
    return {**_span(d.span), "severity": d.severity, "code": d.code, "message": d.message, "notes": list(d.notes)}


def to_json(results: list[FileResult], exit_code: int | None = None) -> dict:
    return {
        "schema": SCHEMA,
        "exit_code": _exit(results, exit_code),
        "files": [
            {
                "path": r.path,
                "status": r.status,
                "exit_code": r.exit_code,
                "diagnostics": [_diagnostic_json(d) for d in r.diagnostics],
                "checks": [_verdict_json(r, v) for v in r.verdicts],
            }
            for r in results
        ],
    }


def write_json(results: list[FileResult], out: TextIO, exit_code: int | None = None, baseline: dict | None = None) -> None:
    data = to_json(results, exit_code)
    if baseline is not None:
        data["baseline"] = baseline
    import json  # only for --format json: not on a text report's path

    json.dump(data, out, indent=2, ensure_ascii=False)
    out.write("\n")
