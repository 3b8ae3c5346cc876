"""How the reports write a best-layout search (checker/solve_layout.py): the winner, what is
proved about it, the counts, and a table of the top layouts."""

from __future__ import annotations

from checker import codes, units as u
from checker.verdicts import Layouts, Status, Verdict


def _unit(dim) -> str | None:
    return "%" if dim == u.ONE else None


def _words(layout) -> str:
    return ", ".join(f"{k} {v}" for k, v in layout)


def _counts(found: Layouts) -> str:
    unfit = f"{found.unfit} {'does' if found.unfit == 1 else 'do'} not fit memory for every value of the ranges"
    invalid = f"{found.invalid} break{'s' if found.invalid == 1 else ''} a divisibility rule"
    return f"  searched: {found.enumerated} layouts of the divisors; {invalid}, {unfit}; {found.compared} compared"


def layout_detail(result, v: Verdict, quantity):
    from checker.report import Detail

    claim = v.claim
    find = claim.find
    found = v.layouts
    dim = find.quantity.dim
    unit = _unit(dim)
    sense = "maximizing" if find.maximize else "minimizing"
    body = [_counts(found)] if found.compared or found.unfit or found.invalid else []
    if found.ranked:
        names = [k for k, _ in found.ranked[0].layout]
        rows = [["rank", *names, f"{find.target_text} (proved lowest .. highest)"]]
        for i, r in enumerate(found.ranked, 1):
            span = f"{quantity(r.low, dim, unit) if r.low is not None else '?'} .. {quantity(r.high, dim, unit) if r.high is not None else '?'}"
            rows.append([str(i), *(str(x) for _, x in r.layout), span + ("" if r.bound == "exact" else f" (closed form: {r.bound} bound)")])
        widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
        body.append(f"  top {len(found.ranked)} of the {found.compared} compared:")
        body.extend("    " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows)
    if v.status == Status.PROVED:
        winner = found.ranked[0]
        better = "at least" if find.maximize else "at most"
        message = f"find '{claim.name}': the best layout of {find.workload} {sense} {find.target_text} is {_words(winner.layout)}"
        body.insert(0, f"  proved: at every point of the ranges its {find.target_text} is {better} that of each of the other {found.beaten} layouts that fit memory")
        if found.closed_form_only:
            side = "lower" if winner.bound == "lower" or (winner.bound == "exact" and find.maximize) else "upper"
            body.append(f"  bounds: for {found.closed_form_only} of them (pipeline > 1) the closed form of {find.target_text} is a {'lower' if find.maximize else 'upper'} bound on their simulated schedule's, "
                        f"so against those the comparison is proved for the closed forms, not for their schedules; the winner's own value is {'exact' if winner.bound == 'exact' else f'a {side} bound on its schedule'}")
        replay = result.replays.get(claim.name)
        if replay is not None and replay.status == "confirmed":
            body.append(f"  confirmed by simulation: the winner's {find.target_text} at its worst corner is {quantity(replay.left, dim, unit)}" + ("" if replay.left == replay.expected else f" (the closed form's {quantity(replay.expected, dim, unit)} is a bound)"))
        elif replay is not None:
            body.append(f"  error: the simulation disagrees: it computes {quantity(replay.left, dim, unit) if replay.left is not None else '?'} where the solver has {quantity(replay.expected, dim, unit) if replay.expected is not None else '?'} ({replay.detail}); this is an internal inconsistency [inconsistent]" if replay.status == "disagrees" else f"  not replayed: {replay.detail}")
        return Detail("note", "proved", message, tuple(body))
    if v.status == Status.VIOLATED:
        return Detail("error", codes.VIOLATED, f"find '{claim.name}' has no answer: {v.reason}", tuple(body))
    return Detail("warning", codes.UNKNOWN, f"find '{claim.name}' is unknown: {v.reason}; this is not a pass", tuple(body))


def layout_json(result, v: Verdict, number) -> dict:
    find = v.claim.find
    found = v.layouts
    dim = find.quantity.dim
    unit = _unit(dim)
    return {"find": {
        "goal": "layout",
        "target": find.target_text,
        "workload": find.workload,
        "direction": "max" if find.maximize else "min",
        "proved_best": found.proved_best,
        "enumerated": found.enumerated,
        "invalid": found.invalid,
        "unfit": found.unfit,
        "compared": found.compared,
        "undecided": found.undecided,
        "beaten": found.beaten,
        "closed_form_only": found.closed_form_only,
        "top": [{"layout": dict(r.layout), "lowest": number(r.low, dim, unit), "highest": number(r.high, dim, unit), "bound": r.bound} for r in found.ranked],
    }}
