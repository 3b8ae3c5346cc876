"""The HTML report's figures of find statements (spec/semantics.md, "Find statements").

- `find max|min X such that C`: the claim's left side over the searched range X across its
  declared range, every point the simulation core's value (checker.replay.Simulation), with the
  right side as a line, the proved region shaded, the answer as a vertical line (a bracket: both
  its ends), the point at the answer and the counterexample just beyond it marked. The other
  unknowns are held at the counterexample's values (the answer's corner); with no counterexample
  (the claim holds over the whole range) at the low ends of their ranges, as the caption says.
- `find best layout of W maximizing Q`: each ranked layout's proved [lowest, highest] of Q as a
  horizontal bar, the winner highlighted, and the core's value of the winner at its worst corner.

Deterministic like the rest of the report: coordinates with two decimals, no clock.
"""

from __future__ import annotations

from fractions import Fraction

from checker import model as m, units as u
from checker.html import LAYOUT_SAMPLES, SAMPLES, _at, _factor, _figure, _refs, _samples, _with
from checker.report import _left_text, _preferred, quantity
from checker.report_find import _apart
from checker.svg import Plot, domain, label
from checker.verdicts import Point, Status, Verdict


def find_figures(result, v: Verdict) -> list[str]:
    """The figure of a find verdict ([] when it has nothing to draw: no model, no answer)."""
    model = result.model
    if model is None or v.claim.find is None:
        return []
    if v.layouts is not None:
        return [layout_figure(result, v)] if v.layouts.ranked else []
    if v.answer is None or not v.claim.conditions:
        return []
    return [answer_figure(model, v)]


def _held(model: m.Model, v: Verdict) -> tuple[Point, str]:
    """The point the other unknowns are held at, and the caption's words for it."""
    answer = v.answer
    if answer.point is not None:
        return answer.point, "held at the counterexample's values"
    if answer.safe is not None:
        return answer.safe, "held at the answer's values"
    if v.point is not None:
        return v.point, "held at the counterexample's values"
    whole = " (the claim is proved for every value of them)" if answer.whole else ""
    return Point(tuple((x.id, x.low) for x in model.unknowns)), f"held at the low ends of their ranges{whole}"


def answer_figure(model: m.Model, v: Verdict) -> str:
    answer = v.answer
    comparison = v.claim.conditions[v.failing if v.status == Status.VIOLATED else 0]
    searched = next(x for x in model.unknowns if x.id == answer.unknown)
    base, held = _held(model, v)
    name = _left_text(comparison)
    counter_left = answer.left if answer.point is not None else (v.left if v.status == Status.VIOLATED else None)
    counter_point = answer.point if answer.point is not None else (v.point if v.status == Status.VIOLATED else None)
    reference = next((z for z in (counter_left, answer.safe_left) if z is not None), None)
    xfactor, xunit = _factor(max(abs(searched.low), abs(searched.high)), searched.dim, searched.unit)
    ends = [answer.proved] + ([answer.beyond] if answer.beyond is not None else [])
    layout = any(getattr(model.block(p[0]), "layout", None) is not None for p in _refs(comparison.left) + _refs(comparison.right))
    xs, curve, bounds, missed = [], [], [], 0
    for value in _samples(searched.low, searched.high, ends, LAYOUT_SAMPLES if layout else SAMPLES):
        left, right = _at(model, _with(base, searched.id, value), comparison.left, comparison.right)
        if left is None:
            missed += 1
            continue
        if reference is None:
            reference = left
        xs.append(value)
        curve.append(left)
        bounds.append(right)
    factor, shown_unit = _factor(reference if reference is not None else Fraction(1), comparison.left.dim, _preferred(comparison))
    f = lambda z: float(z * factor)  # noqa: E731
    g = lambda z: float(z * xfactor)  # noqa: E731
    marks = [z for z in (counter_left, answer.safe_left) if z is not None]
    plot = Plot()
    x = plot.xscale(g(searched.low), g(searched.high))
    shown = [f(z) for z in curve + [b for b in bounds if b is not None] + marks]
    low, high = domain(shown)
    y = plot.yscale(max(low, 0.0) if shown and min(shown) >= 0 else low, high)  # no negative ticks under a positive quantity
    items = [("curve", name), ("bound", "bound")]
    # the proved region first, under everything else
    if v.status == Status.PROVED or (v.status == Status.UNKNOWN and answer.proved != (searched.low if answer.maximize else searched.high)):
        start, end = (searched.low, answer.proved) if answer.maximize else (answer.proved, searched.high)
        plot.rect(x(g(start)), plot.y1, x(g(end)) - x(g(start)), plot.y0 - plot.y1, "proved-region",
                  f"proved: {comparison.text} holds for every {searched.id} from {label(g(start))} to {label(g(end))} {xunit} and every value of the other ranges")
        items.append(("proved-region", "proved"))
    plot.y_axis(y, name, shown_unit)
    plot.x_axis(x, searched.id, xunit)
    known = [(a, b) for a, b in zip(xs, bounds) if b is not None]
    if known and len({b for _, b in known}) == 1:
        plot.hline(y(f(known[0][1])), "bound", f"{comparison.op} {label(f(known[0][1]))}", f(known[0][1]))
    elif known:
        plot.polyline([(x(g(a)), y(f(b))) for a, b in known], "bound", "the other side of the claim")
    plot.polyline([(x(g(a)), y(f(b))) for a, b in zip(xs, curve)], "curve", name)
    word = "highest" if answer.maximize else "lowest"
    if v.status != Status.VIOLATED:
        if answer.whole:
            what = f"the whole range holds: the {word} {searched.id} is its end, {label(g(answer.proved))} {xunit}"
        elif answer.exact:
            what = f"answer: the {word} {searched.id} is {label(g(answer.proved))} {xunit}{', excluded' if answer.open else ''} (exact)"
        else:
            what = f"answer, proved end of the bracket: {label(g(answer.proved))} {xunit}"
        plot.vline(x(g(answer.proved)), "answer", "answer", g(answer.proved), what)
        items.append(("answer", "answer"))
        if answer.beyond is not None and not answer.exact:
            plot.vline(x(g(answer.beyond)), "answer-beyond", "", g(answer.beyond), f"answer, the bracket's other end: {label(g(answer.beyond))} {xunit}")
            items.append(("answer-beyond", "the bracket's other end"))
    if answer.safe is not None and answer.safe_left is not None:
        at = g(answer.safe.get(searched.id))
        plot.marker(x(at), y(f(answer.safe_left)), "at-answer", f(answer.safe_left),
                    f"at the answer: {name} = {label(f(answer.safe_left))} {shown_unit} at {searched.id} = {label(at)} {xunit}")
        items.append(("at-answer", "at the answer (solver)"))
    if counter_left is not None and counter_point is not None:
        cx = g(counter_point.get(searched.id))
        plot.marker(x(cx), y(f(counter_left)), "counterexample", f(counter_left),
                    f"counterexample: {name} = {label(f(counter_left))} {shown_unit} at {searched.id} = {label(cx)} {xunit}", "diamond")
        items.append(("counterexample", "counterexample (solver)"))
    others = [k for k in v.relevant if k != searched.id]
    held_text = f"; {', '.join(others)} {held}" if others else ""
    gap = f"; the core gives no value at {missed} of the sample points, left out" if missed else ""
    if v.status == Status.VIOLATED:
        outcome = f"No answer: {comparison.text} fails already at the {'start' if answer.maximize else 'end'} of the range, where the counterexample is"
    elif answer.whole:
        outcome = f"Proved: {comparison.text} holds over the whole range of {searched.id}, shaded"
    elif v.status == Status.UNKNOWN:
        outcome = f"Undecided: the answer lies between {label(g(answer.proved))} and {label(g(answer.beyond))} {xunit}; shaded is the part proved"
    else:
        proved, _ = _apart(quantity, answer.proved, answer.beyond, searched.dim, searched.unit)
        low, high = _apart(quantity, min(answer.proved, answer.beyond), max(answer.proved, answer.beyond), searched.dim, searched.unit)
        kind = (", excluded (exact)" if answer.open else " (exact)") if answer.exact else f" (bracketed: {low} .. {high}; both ends drawn)"
        outcome = f"The {word} {searched.id} is {proved}{kind}; shaded is the region proved, the counterexample lies just beyond"
    caption = f"find {v.claim.name}: {name} over {searched.id} (line {searched.span.line}){held_text}: each point computed by the simulation core{gap}. {outcome}."
    return _figure("find", plot, f"{name} over {searched.id}", caption, items, unknown=searched.id)


def _layout_words(layout) -> str:
    return ", ".join(f"{k} {value}" for k, value in layout)


def layout_figure(result, v: Verdict) -> str:
    """The ranked layouts' proved intervals of the quantity as horizontal bars, best first."""
    found = v.layouts
    search = v.claim.find
    dim = search.quantity.dim
    unit = "%" if dim == u.ONE else None
    decided = [r for r in found.ranked if r.low is not None and r.high is not None]
    reference = decided[0].low if decided else Fraction(1)
    factor, shown_unit = _factor(reference, dim, unit)
    f = lambda z: float(z * factor)  # noqa: E731
    replay = result.replays.get(v.claim.name)
    simulated = f(replay.left) if replay is not None and replay.left is not None and v.status == Status.PROVED else None
    row = 34
    plot = Plot(width=640, height=18 + 42 + row * len(found.ranked), left=24, right=24)
    x = plot.xscale(*domain([f(z) for r in decided for z in (r.low, r.high)] + ([simulated] if simulated is not None else [])))
    plot.x_axis(x, search.target_text, shown_unit)
    proved = v.status == Status.PROVED
    for k, r in enumerate(found.ranked):
        top = plot.y1 + k * row
        winner = k == 0 and proved
        bound = "" if r.bound == "exact" else f" (closed form: {r.bound} bound)"
        plot.text(plot.x0, top + 11, f"{k + 1}. {_layout_words(r.layout)}{bound}", "winner-label" if winner else "")
        if r.low is None or r.high is None:
            plot.text(plot.x0, top + 26, "undecided", "note")
            continue
        cls = "layout winner" if winner else "layout"
        plot.rect(x(f(r.low)), top + 15, max(x(f(r.high)) - x(f(r.low)), 1.5), 12, cls,
                  f"{_layout_words(r.layout)}: {search.target_text} proved between {label(f(r.low))} and {label(f(r.high))} {shown_unit}")
        if winner and simulated is not None:
            plot.marker(x(simulated), top + 21, "simulated", simulated,
                        f"simulation core: the winner's {search.target_text} at its worst corner is {label(simulated)} {shown_unit}")
    sense = "highest" if search.maximize else "lowest"
    best = f"the winner (first) is proved to give the {sense} {search.target_text} at every point of the ranges, compared pointwise with each of the other {found.beaten} layouts that fit memory, which overlapping intervals alone could not show" if proved else f"no layout is proved best ({v.reason})"
    caption = (f"find {v.claim.name}: the top {len(found.ranked)} of {found.compared} layouts of {search.workload} compared, each bar the proved lowest .. highest "
               f"{search.target_text} over the ranges (by the solver); {best}" + ("; the dot is the simulation core's value of the winner at its worst corner." if simulated is not None else "."))
    items = [("layout winner", "winner"), ("layout", "other layouts")] + ([("simulated", "simulation core at the winner's worst corner")] if simulated is not None else [])
    return _figure("layouts", plot, f"layouts of {search.workload} by {search.target_text}", caption, items)
