"""The best layout of a training workload: `find NAME: best layout of W maximizing W.mfu`.

The layouts are finite: tensor divides the heads (and kv heads), pipeline the layers, data is
what is left of the GPUs, microbatch divides each replica's share of the batch, virtual stages
divide a stage's layers, and recomputation is none, selective or full; context, sequence
parallelism, optimizer sharding, attention and trim stay as the spec writes them. Each layout is
the spec itself with those six fields replaced, resolved again (so its divisibility rules are
the built-in invariants every spec gets) and solved by checker/solve.py:

1. enumerate the layouts of the divisors (at most MAX_LAYOUTS);
2. drop those that break a divisibility rule, and those whose memory fit is not proved for
   every value of the ranges (pruned by memory);
3. rank the rest by the quantity at one point; for the TOP best, prove its interval over the
   ranges (lowest and highest, as a check's worst case is found);
4. the winner is the layout of the top whose proved worst value is best; every other layout
   is then asked one query: "is there a point where yours beats the winner's worst value?".
   unsat for every one proves that no layout does better for any value of the ranges.

Where the closed form is a bound (pipeline > 1: step time an upper bound, MFU a lower bound),
the winner's worst value is a sound bound on its simulated schedule, but another layout's closed
form bounds its schedule from the wrong side for this comparison: the report counts those
layouts and says the comparison with their schedules is not proved.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import z3

from checker import model as m, nodes, registry
from checker.encode import denominators, encode
from checker.resolve import resolve
from checker.solve import _Session, _failure, fraction
from checker.verdicts import Layouts, Limits, Point, Ranked, Verdict

FIELDS = ("tensor", "pipeline", "data", "microbatch", "virtual", "recompute")
RECOMPUTE = ("none", "selective", "full")
MAX_LAYOUTS = 500  # each is resolved and solved (about 0.1 s of CPU): a larger search is refused as unknown
TOP = 5
ATTEMPTS = 2  # leading layouts tried as the winner


def divisors(n: int) -> list[int]:
    return [k for k in range(1, n + 1) if n % k == 0] if n > 0 else []


def layouts(w: m.Workload) -> list[dict[str, object]]:
    """Every layout of the divisors, in a fixed order; one more than MAX_LAYOUTS says there are more."""
    md, x, n = w.model, w.layout, w.cluster.gpus
    out: list[dict[str, object]] = []
    for t in divisors(md.heads):
        if md.kv_heads % t or n % (t * x.context):
            continue
        for p in divisors(md.layers + 2 * x.trim):
            if n % (t * p * x.context):
                continue
            d = n // (t * p * x.context)
            if not x.batch_sequences or x.batch_sequences % d:
                continue
            for b in divisors(x.batch_sequences // d):
                microbatches = x.batch_sequences // (d * b)
                for v in divisors((md.layers + 2 * x.trim) // p):
                    if v > 1 and (p == 1 or microbatches % p):
                        continue
                    for r in RECOMPUTE:
                        out.append({"tensor": t, "pipeline": p, "data": d, "microbatch": b, "virtual": v, "recompute": r})
                        if len(out) > MAX_LAYOUTS:
                            return out
    return out


def _variant(spec: nodes.SpecFile, workload: str, layout: dict[str, object]) -> nodes.SpecFile:
    """The spec with the workload's layout fields replaced, and no checks or finds."""
    statements = []
    for s in spec.statements:
        if isinstance(s, nodes.Block) and s.name == workload:
            members = []
            for member in s.members:
                if isinstance(member, nodes.Section) and member.name == "layout":
                    span = member.span
                    kept = [f for f in member.members if not (isinstance(f, nodes.Field) and f.name in FIELDS)]
                    given = [nodes.Field(k, nodes.Ref((v,), span, (span,)) if isinstance(v, str) else nodes.Quantity(Fraction(v), None, span, None), span, span) for k, v in layout.items()]
                    member = replace(member, members=tuple(kept + given))
                members.append(member)
            statements.append(replace(s, members=tuple(members)))
        elif isinstance(s, nodes.Block) or (isinstance(s, nodes.Claim) and s.kind == "assume"):
            statements.append(s)
    return replace(spec, statements=tuple(statements))


def _holds(session: _Session, comparison: m.Comparison) -> str:
    """proved, violated or unknown: the comparison for every value of the ranges."""
    holds, left, right = session.enc.comparison(comparison, [])
    sides = [z3.simplify(left), z3.simplify(right)]
    if all(z3.is_rational_value(t) for t in sides) and not session.enc.definitions:  # constants (a layout's memory): decided exactly
        a, b = fraction(sides[0])[0], fraction(sides[1])[0]
        return "proved" if {"<=": a <= b, "<": a < b, ">=": a >= b, ">": a > b, "==": a == b}[comparison.op] else "violated"
    s = session.solver(track=False, sl=session.everything())
    session.finish(s, session.everything())
    s.add(z3.Or([z3.Not(holds)] + [d == 0 for d in denominators([left, right], session.enc.definitions)]))
    result = s.check()
    return "unknown" if result == z3.unknown else "violated" if result == z3.sat else "proved"


def _value(session: _Session, term: z3.ArithRef, point: Point) -> tuple[Fraction, bool] | None:
    """The term at a point: the unknowns substituted and the term simplified (no search), or the
    solver's value when that leaves something (an auxiliary variable such as a derived root)."""
    pairs = [(session.enc.variables[uid], session.enc.val(value)) for uid, value in point.values if uid in session.enc.variables]
    simple = z3.simplify(z3.substitute(term, *pairs) if pairs else term)
    if z3.is_rational_value(simple):
        return fraction(simple)[0], False
    return session.value_at(term, point, session.everything())


class _Candidate:
    def __init__(self, layout: dict[str, object], model: m.Model, value: Fraction) -> None:
        self.layout, self.model, self.value = layout, model, value
        self.session: _Session | None = None
        self.low: Fraction | None = None  # proved: the quantity is at least this everywhere
        self.high: Fraction | None = None  # proved: at most this
        self.corners: dict[Fraction, Point] = {}  # a corner of the ranges where the quantity has that value

    def start(self, limits: Limits, path: tuple[str, ...]) -> None:
        """A session of its own (a context of its own: what a context has seen steers Z3's search,
        so each layout's answers do not depend on the layouts before it)."""
        self.limits, self.path = limits, path
        self.session = _Session(self.model, limits)
        self.term = self.session.enc.quantity(path)

    def stop(self) -> None:
        """Drop the session: its Z3 context holds some 17 MB, and five at once were most of a
        best-layout search's memory."""
        self.session, self.term = None, None  # type: ignore[assignment]

    def interval(self) -> None:
        """The quantity's proved lowest and highest over the ranges: the corners' values, each
        proved by one query (nothing beyond it), else the worst-case search of a check."""
        session, term = self.session, self.term
        among = session.relevant([term])
        unknowns = [u for u in self.model.unknowns if u.id in among]
        corners = []
        for bits in range(2 ** min(len(unknowns), 6)):
            point = {u.id: u.low for u in self.model.unknowns}
            for i, u in enumerate(unknowns[:6]):
                point[u.id] = u.high if bits >> i & 1 else u.low
            found = _value(session, term, Point(tuple(point.items())))
            if found is not None and not found[1]:
                corners.append(found[0])
                self.corners.setdefault(found[0], Point(tuple(point.items())))
        for maximize in (False, True):
            proved = None
            if corners:
                candidate = max(corners) if maximize else min(corners)
                status, _, _ = session.probe(term, candidate, maximize, session.everything())
                proved = candidate if status == "unsat" else None
            if proved is None:
                worst = session.extreme(term, maximize, bound=None, among=among, sl=session.everything())
                if worst is not None and worst.bound is not None:
                    proved = max(worst.bound, worst.value) if maximize else min(worst.bound, worst.value)
            if maximize:
                self.high = proved
            else:
                self.low = proved

    def beats(self, other: "_Candidate", maximize: bool, path: tuple[str, ...]) -> str:
        """Is this layout's quantity at least as good as the other's at every point of the ranges?
        Both closed forms over the same unknowns in one solver: proved, refuted or unknown."""
        if self.session is None:
            self.start(self.limits, self.path)
        session = self.session
        theirs = encode(other.model, session.ctx)
        term = theirs.quantity(path)
        s = session.solver(track=False, sl=session.everything())
        session.finish(s, session.everything())
        for _, definition in theirs.definitions:
            s.add(definition)
        divisors = denominators([term], theirs.definitions) + session.divisors(self.term)
        s.add([d != 0 for d in divisors])
        s.add(term > self.term if maximize else term < self.term)
        result = s.check()
        return "unknown" if result == z3.unknown else "refuted" if result == z3.sat else "proved"


def search(spec: nodes.SpecFile, model: m.Model, verdict: Verdict, limits: Limits) -> Verdict:
    try:
        return _search(spec, model, verdict, limits)
    except z3.Z3Exception as exc:  # e.g. the hard memory cap: unknown, never a traceback
        return Verdict(verdict.claim, "unknown", reason=_failure(exc, limits))


def _search(spec: nodes.SpecFile, model: m.Model, verdict: Verdict, limits: Limits) -> Verdict:
    claim = verdict.claim
    find = claim.find
    w = model.block(find.workload)
    path = find.quantity.path
    entry = registry.find(registry.family_of(w), path[1:])
    relation = entry.bound if entry is not None and entry.bound else "exact"
    all_layouts = layouts(w)
    if len(all_layouts) > MAX_LAYOUTS:
        result = Layouts(find.maximize, (), False, (), len(all_layouts), 0, 0, 0)
        return Verdict(claim, "unknown", reason=f"the workload has more than {MAX_LAYOUTS} layouts of the divisors, more than the search compares (a smaller cluster or batch, or fixed fields, would bound it)", layouts=result)
    low_ends = Point(tuple((u.id, u.low) for u in model.unknowns))
    invalid = unfit = undecided = 0
    fitting: list[_Candidate] = []
    shared = _Session(model, limits)  # one context for the screening: nothing is asserted in it
    for layout in all_layouts:
        variant, _ = resolve(_variant(spec, find.workload, layout))
        if variant is None or any(c.static is not None and not c.static[0] for c in variant.checks):
            invalid += 1
            continue
        session = shared
        session.rebind(variant, encode(variant, shared.ctx))
        fits = [_holds(session, c.conditions[0]) for c in variant.checks if c.kind == "invariant" and c.name.startswith(f"{find.workload} fits in the memory")]
        if "violated" in fits:
            unfit += 1
            continue
        found = _value(session, session.enc.quantity(path), low_ends)  # a ranking only: the proofs come after
        if "unknown" in fits or found is None:
            undecided += 1
            continue
        fitting.append(_Candidate(layout, variant, found[0]))
    shared = session = None  # type: ignore[assignment]  # its Z3 context (about 17 MB) is freed here
    sign = 1 if find.maximize else -1
    fitting.sort(key=lambda c: -sign * c.value)
    top = fitting[:TOP]
    for candidate in top:
        candidate.start(limits, path)
        candidate.interval()
        candidate.stop()  # its context is freed before the next is made (a winner's gets a fresh one)

    def worst(c: _Candidate) -> Fraction | None:
        return c.low if find.maximize else c.high

    top.sort(key=lambda c: (worst(c) is None, -sign * (worst(c) or 0)))
    proved_best, beaten, closed_only, open_ = False, 0, 0, 0
    for winner in top[:ATTEMPTS]:
        beaten = closed_only = open_ = failed = 0
        for other in fitting:
            if other is winner:
                continue
            status = winner.beats(other, find.maximize, path)
            if status == "proved":
                beaten += 1
                closed_only += relation != "exact" and other.layout["pipeline"] > 1
            elif status == "unknown":
                failed += 1
            else:
                open_ += 1
                break  # this one is not the best everywhere: try the next
        winner.stop()
        if open_ == 0 and failed == 0:
            proved_best = True
            top.remove(winner)
            top.insert(0, winner)
            break
        undecided += failed
    ranked = tuple(Ranked(tuple(c.layout.items()), c.low, c.high, relation if c.layout["pipeline"] > 1 else "exact") for c in top)
    result = Layouts(find.maximize, ranked, proved_best, (), len(all_layouts), invalid, unfit, len(fitting), undecided, beaten=beaten, closed_form_only=closed_only)
    if proved_best:
        winner = top[0]
        value = worst(winner)
        result = replace(result, winner=winner.model.block(find.workload), worst=winner.corners.get(value), worst_value=value)
    if not fitting:
        return Verdict(claim, "violated" if not undecided else "unknown", reason="no layout of the divisors fits memory for every value of the ranges", layouts=result)
    if not proved_best:
        why = "the solver gave up on some comparisons" if undecided else f"for each of the {min(ATTEMPTS, len(top))} leading layouts another does better at some point of the ranges"
        return Verdict(claim, "unknown", reason=f"no layout is proved best: {why}", layouts=result)
    return Verdict(claim, "proved", layouts=result)
