"""How the reports write a find statement's verdict: its answer, both sides, and the replay.

Called by checker.report (text and JSON; JUnit and SARIF build on those records). A find's
answer that holds is a note like a proved check's; no answer (the claim fails at the range's
start) is an error like a violated check's, with the counterexample.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from checker import codes, model as m
from checker.units import display_unit
from checker.verdicts import Answer, Status, Verdict

TOLERANCE_TEXT = "10^-6 of the range's width"


def _apart(quantity, a: Fraction, b: Fraction, dim, unit) -> tuple[str, str]:
    """Two close values (a bracket's ends, a side and its bound) written with as many digits as
    it takes for the written numbers to differ by more than ten times their rounding."""
    sa, sb = display_unit(a, dim, unit)[0], display_unit(b, dim, unit)[0]
    for digits in (4, 6, 9, 12, 15, 20, 30):
        x, y = quantity(a, dim, unit, digits), quantity(b, dim, unit, digits)
        xa, xb = Fraction(x.split()[0]), Fraction(y.split()[0])
        if a == b or (xa != xb and 10 * max(abs(xa - sa), abs(xb - sb)) <= abs(sa - sb)):
            return x, y
    return x, y


def _point_lines(model: m.Model, point, relevant: tuple[str, ...], searched: str, shown_searched: str, quantity) -> list[str]:
    out = []
    for u in model.unknowns:
        if u.id in relevant:
            text = shown_searched if u.id == searched else quantity(point.get(u.id), u.dim, u.unit)
            out.append(f"{u.id} = {text}  (line {u.span.line})")
    return out


def _unknown(model: m.Model, uid: str) -> m.Unknown:
    return next(u for u in model.unknowns if u.id == uid)


def _words(answer: Answer) -> tuple[str, str, str]:
    """('highest', 'up to', 'above') for max; the mirror for min."""
    return ("highest", "up to", "above") if answer.maximize else ("lowest", "down to", "below")


def detail(result, v: Verdict, record, quantity, point_lines, replay_lines, distinct):
    """The Detail of a find verdict (the helpers are checker.report's, passed in to keep one
    source of formatting)."""
    from checker.report import Detail, _left_text, _preferred

    model = result.model
    claim = v.claim
    if v.layouts is not None:
        from checker.report_layout import layout_detail

        return layout_detail(result, v, quantity)
    answer = v.answer
    comparison = claim.conditions[0]
    if answer is None or v.status in (Status.UNKNOWN, Status.NOT_ESTABLISHED):
        base = record(result, replace(v, claim=replace(claim, find=None)))
        if base is None:
            return None
        body = list(base.body)
        if answer is not None:
            u = _unknown(model, answer.unknown)
            low, high = sorted((answer.proved, answer.beyond))
            body.append(f"  the answer lies between {quantity(low, u.dim, u.unit, 9)} and {quantity(high, u.dim, u.unit, 9)}")
        message = base.message.replace(f"check '{claim.name}'", f"find '{claim.name}'")
        return Detail(base.severity, base.code, message, tuple(body))
    u = _unknown(model, answer.unknown)
    word, toward, past = _words(answer)
    show = lambda value, digits=4: quantity(value, u.dim, u.unit, digits)  # noqa: E731
    if v.status == Status.VIOLATED:
        base = record(result, replace(v, claim=replace(claim, find=None)))
        message = f"find '{claim.name}' has no answer: {comparison.text} fails already at {u.id} = {show(answer.proved)}, the {'start' if answer.maximize else 'end'} of its range"
        return Detail("error", codes.VIOLATED, message, base.body if base else ())
    unit = _preferred(comparison)
    dim = comparison.left.dim
    start = u.low if answer.maximize else u.high
    body: list[str] = []
    if answer.whole:
        message = f"find '{claim.name}': {comparison.text} holds over the whole range of {u.id}, so the {word} is its {'high' if answer.maximize else 'low'} end, {show(answer.proved)}"
        body.append(f"  proved: for every {u.id} in {show(u.low)} .. {show(u.high)} and every value of the other ranges")
        return Detail("note", "proved", message, tuple(body))
    distinct = lambda a, b, d, un: _apart(quantity, a, b, d, un)  # noqa: E731
    proved, beyond = distinct(answer.proved, answer.beyond, u.dim, u.unit)
    if answer.exact and answer.open:
        message = f"find '{claim.name}': the {word} {u.id} is {proved}, excluded (exact)"
        body.append(f"  proved: {comparison.text} holds for every {u.id} from {show(start)} {toward} {proved}, {proved} excluded, and every value of the other ranges")
    elif answer.exact:
        message = f"find '{claim.name}': the {word} {u.id} is {proved} (exact)"
        body.append(f"  proved: {comparison.text} holds for every {u.id} from {show(start)} {toward} {proved} and every value of the other ranges")
    else:
        low, high = sorted((answer.proved, answer.beyond))
        low_text, high_text = distinct(low, high, u.dim, u.unit)
        message = f"find '{claim.name}': the {word} {u.id} is {show(answer.proved)} (between {low_text} and {high_text})"
        body.append(f"  proved: {comparison.text} holds for every {u.id} from {show(start)} {toward} {proved} and every value of the other ranges")
        body.append(f"  bracketed: the answer lies in {low_text} .. {high_text}, a bracket within {TOLERANCE_TEXT}; its boundary was not shown to be rational")
    if answer.point is not None:
        where = "at it" if answer.open else f"just {past} it"
        body.append(f"  {where}, a counterexample:")
        body.extend(f"    {line}" for line in _point_lines(model, answer.point, v.relevant, u.id, beyond, quantity))
        if answer.left is not None and answer.right is not None:
            left_text, right_text = distinct(answer.left, answer.right, dim, unit)
            body.append(f"  so {_left_text(comparison)} = {left_text}, which is not {comparison.op} {right_text}")
    replay = result.replays.get(claim.name)
    if replay is not None and replay.status == "confirmed" and replay.left is not None:
        held = answer.safe.get(u.id) if answer.safe is not None else answer.proved
        at_text = proved if held == answer.proved else distinct(held, answer.beyond, u.dim, u.unit)[0]
        at = f"{distinct(replay.worst, replay.right, dim, unit)[0]} at {u.id} = {at_text}" if replay.worst is not None and answer.safe is not None else "not replayed at the answer"
        body.append(f"  confirmed by simulation on both sides: {_left_text(comparison)} = {at}, and {distinct(replay.left, replay.right, dim, unit)[0]} beyond it" + (f" ({replay.detail})" if replay.detail else ""))
    else:
        body.extend(replay_lines(replay, dim, unit, _left_text(comparison)))
    return Detail("note", "proved", message, tuple(body))


def json_fields(result, v: Verdict, number, point) -> dict:
    """The `find` member of a find verdict's JSON record, and its `margin`: the distance the
    answer lies from its range's start (max: answer - low; min: high - answer), so that a margin
    that fell between two revisions is an answer that moved the bad way."""
    model = result.model
    answer = v.answer
    if v.layouts is not None:
        from checker.report_layout import layout_json

        return layout_json(result, v, number)
    search = v.claim.find
    out: dict = {"goal": search.goal, "target": search.target_text}
    if answer is None:
        return {"find": out}
    u = _unknown(model, answer.unknown)
    comparison = v.claim.conditions[0]
    dim, unit = comparison.left.dim, _unit(comparison)
    out.update({
        "range": answer.unknown,
        "answer": number(answer.proved, u.dim, u.unit),
        "beyond": number(answer.beyond, u.dim, u.unit),
        "exact": answer.exact,
        "excluded": answer.open,
        "whole_range": answer.whole,
        "tolerance": number(answer.tolerance, u.dim, u.unit),
        "queries": answer.queries,
        "counterexample": None if answer.point is None else {"unknowns": point(model, answer.point, v.relevant), "left": number(answer.left, dim, unit), "right": number(answer.right, dim, unit)},
        "at_answer": None if answer.safe is None else {"unknowns": point(model, answer.safe, v.relevant), "left": number(answer.safe_left, dim, unit), "right": number(answer.safe_right, dim, unit)},
    })
    fields: dict = {"find": out}
    if v.status == Status.PROVED:
        margin = answer.proved - u.low if answer.maximize else u.high - answer.proved
        fields["margin"] = number(margin, u.dim, u.unit)
    return fields


def _unit(comparison: m.Comparison) -> str | None:
    from checker.report import _preferred

    return _preferred(comparison)
