"""Find statements: the tightest tolerable value of a range, proved on both sides.

`find max X such that C` asks for the answer

    a = sup { v in [lo, hi] : C holds for every X in [lo, v] and every value of the others }

(`find min` mirrors it: down from hi). Defined this way no monotonicity is assumed: where C
fails for some X and holds again above it, the answer stops at the first failure. Each step is
one query to the solver of checker/solve.py — "is there a point with X <= v where C fails?":
unsat proves C on [lo, v], sat gives a counterexample with X <= v. Bisection between a proved
value and a counterexample narrows the bracket to TOLERANCE of the range's width; the answer is
exact when the solver shows either that C fails at the counterexample's X but nowhere below it
(a strict claim: the answer is that X, excluded) or that no value above a proved one is free of
counterexamples (an exists-forall query: the answer is that value, included).
"""

from __future__ import annotations

import math
from fractions import Fraction

import z3

from checker import model as m
from checker.encode import denominators
from checker.solve import Undecided, _Session, _short, decide, fraction, gave_up
from checker.verdicts import LAYOUT_PENDING, Answer, Point, Verdict

TOLERANCE = Fraction(1, 10**6)  # of the range's width: the widest bracket reported as an answer
MAX_QUERIES = 120


class _Search:
    def __init__(self, session: _Session, claim: m.Claim) -> None:
        self.session, self.claim, self.search = session, claim, claim.find
        self.unknown = next(u for u in session.model.unknowns if u.id == self.search.unknown)
        self.x = session.enc.variables[self.unknown.id]
        self.encoded = [session.enc.comparison(c, []) for c in claim.conditions]
        divisors = denominators([t for _, left, right in self.encoded for t in (left, right)], session.enc.definitions)
        self.bad = z3.Or([z3.Not(h) for h, _, _ in self.encoded] + [d == 0 for d in divisors])
        self.relevant = session.relevant([t for _, left, right in self.encoded for t in (left, right)])
        if self.unknown.id not in self.relevant:
            self.relevant = tuple(u.id for u in session.model.unknowns if u.id in self.relevant or u.id == self.unknown.id)
        self.queries = 0
        self.last = Fraction(0)

    def before(self, v: Fraction, strict: bool = False) -> z3.BoolRef:
        """X on the searched side of v: up to v for max (X <= v), down to v for min."""
        value = self.session.enc.val(v)
        if self.search.maximize:
            return self.x < value if strict else self.x <= value
        return self.x > value if strict else self.x >= value

    def failure(self, v: Fraction, strict: bool = False) -> tuple[str, z3.ModelRef | None]:
        """A point with X before v (or at it) where the claim fails: ("unsat", None) proves it holds there."""
        self.queries += 1
        s = self.session.solver(track=False, sl=self.session.everything())
        self.session.finish(s, self.session.everything())
        s.add(self.bad, self.before(v, strict))
        result = s.check()
        if result == z3.unknown:
            return "unknown:" + gave_up(s.reason_unknown(), self.session.limits), None
        return ("sat", s.model()) if result == z3.sat else ("unsat", None)

    def value_of_x(self, model: z3.ModelRef) -> tuple[Fraction, bool]:
        return fraction(model.eval(self.x, model_completion=True))

    def sides(self, point: Point) -> tuple[Fraction, Fraction] | None:
        """The claim's (first failing, else first) comparison's sides at a point, by the solver."""
        s = self.session.solver(track=False, sl=self.session.everything())
        for uid, value in point.values:
            s.add(self.session.enc.variables[uid] == self.session.enc.val(value))
        self.session.finish(s, self.session.everything())
        try:
            if not decide(s):
                return None
        except Undecided:
            return None
        model = s.model()
        _, left, right = self.encoded[self.failing(model)]
        return fraction(model.eval(left, model_completion=True))[0], fraction(model.eval(right, model_completion=True))[0]

    def failing(self, model: z3.ModelRef) -> int:
        for index, (holds, _, _) in enumerate(self.encoded):
            if z3.is_false(model.eval(holds, model_completion=True)):
                return index
        return 0

    def pinned(self, v: Fraction, model: z3.ModelRef) -> tuple[Point, z3.ModelRef]:
        """A counterexample with X exactly v, the others polished like a check's; else the model's."""
        s = self.session.solver(track=False, sl=self.session.everything())
        self.session.finish(s, self.session.everything())
        s.add(self.bad, self.x == self.session.enc.val(v))
        try:
            if decide(s):
                model = s.model()
        except Undecided:
            pass
        point = self.session.point(model, self.session.everything())
        polished = self.session.polish_counterexample(z3.And(self.bad, self.x == self.session.enc.val(v)), point, self.session.everything())
        try:
            again = self.session.model_at(self.bad, polished, self.session.everything())
        except Undecided:
            again = None
        return (polished, again) if again is not None else (point, model)

    def tight(self, proved: Fraction, beyond: Fraction) -> Fraction | None:
        """X in the bracket where the claim's sides are equal, the other unknowns held at a
        counterexample's values (polished to the ends of their ranges, where worst cases of
        monotone quantities are), when that X is rational."""
        if len(self.encoded) != 1:
            return None
        status, model = self.failure(beyond)
        if status != "sat" or model is None:
            return None
        point, _ = self.pinned(beyond, model)
        self.queries += 1
        s = self.session.solver(track=False, sl=self.session.everything())
        self.session.finish(s, self.session.everything())
        for uid, value in point.values:
            if uid != self.unknown.id:
                s.add(self.session.enc.variables[uid] == self.session.enc.val(value))
        _, left, right = self.encoded[0]
        lo, hi = min(proved, beyond), max(proved, beyond)
        s.add(left == right, self.x >= self.session.enc.val(lo), self.x <= self.session.enc.val(hi))
        try:
            if not decide(s):
                return None
        except Undecided:
            return None
        value, approximate = self.value_of_x(s.model())
        return None if approximate else value

    def no_gap(self, r: Fraction) -> bool:
        """Exists-forall: is there an e > 0 with the claim holding for every X in (r, r + e]
        (every value of the others)? unsat: counterexamples come arbitrarily close past r, so r
        is the answer itself. Any other result (sat, unknown) leaves the bracket as it is."""
        self.queries += 1
        session = self.session
        ctx = session.ctx
        e = z3.Real("find!e", ctx)
        facts = [c for _, c in session.enc.ranges()]
        for claim in session.model.assumptions:
            encoded = [session.enc.comparison(c, []) for c in claim.conditions]
            defined = [d != 0 for d in denominators([t for _, l, r_ in encoded for t in (l, r_)], session.enc.definitions)]
            facts.append(z3.And([h for h, _, _ in encoded] + defined))
        facts += [d for _, d in session.enc.definitions]
        value = session.enc.val(r)
        past = z3.And(self.x > value, self.x <= value + e) if self.search.maximize else z3.And(self.x < value, self.x >= value - e)
        body = z3.Implies(z3.And(facts + [past]), z3.Not(self.bad))
        variables = [v for v in _constants([body]) if not v.eq(e)]
        s = z3.Solver(ctx=ctx)
        s.set("timeout", min(session.limits.timeout_ms, 2**32 - 1))
        s.set("rlimit", min(session.limits.rlimit, 2**32 - 1))
        s.set("random_seed", session.limits.seed)
        s.add(e > 0, z3.ForAll(variables, body) if variables else body)
        return s.check() == z3.unsat

    def run(self) -> Verdict:
        u, claim, search = self.unknown, self.claim, self.search
        start, end = (u.low, u.high) if search.maximize else (u.high, u.low)
        width = u.high - u.low
        tolerance = width * TOLERANCE
        status, model = self.failure(end)
        if status.startswith("unknown"):
            return Verdict(claim, "unknown", reason=status.partition(":")[2], relevant=self.relevant)
        if status == "unsat":  # the claim holds over the whole range: the answer is its far end
            return Verdict(claim, "proved", relevant=self.relevant, answer=Answer(u.id, search.maximize, end, None, True, whole=True, queries=self.queries))
        status, at_start = self.failure(start)
        if status.startswith("unknown"):
            return Verdict(claim, "unknown", reason=status.partition(":")[2], relevant=self.relevant)
        if status == "sat":  # it fails at the range's start: no value of X satisfies it
            point, found = self.pinned(start, at_start)
            left, right = (fraction(found.eval(t, model_completion=True))[0] for t in self.encoded[self.failing(found)][1:])
            failing = self.failing(found)
            return Verdict(claim, "violated", point=point, failing=failing, left=left, right=right,
                           values=self.session.explain(claim.conditions[failing], found), relevant=self.relevant,
                           answer=Answer(u.id, search.maximize, start, start, False, queries=self.queries))
        proved = start
        beyond, _ = self.value_of_x(model)
        reason = ""
        while abs(beyond - proved) > tolerance and self.queries < MAX_QUERIES:
            middle = _short(proved + (beyond - proved) / 2, proved, beyond)
            status, found = self.failure(middle)
            if status.startswith("unknown"):
                reason = status.partition(":")[2]
                break
            if status == "unsat":
                proved = middle
            else:
                x, approximate = self.value_of_x(found)
                beyond = middle if approximate or not _between(x, proved, middle) else x
        exact, open_ = False, False
        if not reason:
            tight = self.tight(proved, beyond)
            for candidate in [beyond, *_candidates(proved, beyond, tight)]:
                if self.queries >= MAX_QUERIES:
                    break
                before, _ = self.failure(candidate, strict=True)
                if before != "unsat":
                    continue  # a failure before the candidate: the answer lies before it
                at, _ = self.failure(candidate)
                if at == "sat":  # holds on every value before the candidate and fails at it
                    self.last, proved, beyond, exact, open_ = proved, candidate, candidate, True, True
                    break
                if at != "unsat":
                    continue
                proved = candidate if _between(candidate, proved, beyond) or candidate == proved else proved
                if self.no_gap(candidate):
                    exact = True
                    break
        if not exact and abs(beyond - proved) > tolerance:
            why = reason or f"the search stopped after {self.queries} queries"
            return Verdict(claim, "unknown", reason=f"the answer was not narrowed to the tolerance ({why})", relevant=self.relevant,
                           answer=Answer(u.id, search.maximize, proved, beyond, False, open_, tolerance=tolerance, queries=self.queries))
        return self.answer(proved, beyond, exact, open_, tolerance)

    def answer(self, proved: Fraction, beyond: Fraction, exact: bool, open_: bool, tolerance: Fraction) -> Verdict:
        """The verdict with both sides: the counterexample at `beyond`, and the same values of the
        others with X at `proved` (or, when the answer is excluded, at the last bisection value)."""
        status, model = self.failure(beyond)
        point, found = self.pinned(beyond, model) if status == "sat" and model is not None else (None, None)
        left = right = None
        if found is not None:
            left, right = (fraction(found.eval(t, model_completion=True))[0] for t in self.encoded[self.failing(found)][1:])
        safe = safe_left = safe_right = None
        if point is not None:
            held = self.last if open_ else proved  # an excluded answer: the last value proved before it
            safe = Point(tuple((uid, held if uid == self.unknown.id else v) for uid, v in point.values), point.approximate)
            sides = self.sides(safe)
            if sides is not None:
                safe_left, safe_right = sides
            else:
                safe = None
        return Verdict(self.claim, "proved", relevant=self.relevant,
                       answer=Answer(self.unknown.id, self.search.maximize, proved, beyond, exact, open_, False, point, left, right, safe, safe_left, safe_right, tolerance, self.queries))


def _between(x: Fraction, low: Fraction, high: Fraction) -> bool:
    return min(low, high) < x <= max(low, high) or min(low, high) <= x < max(low, high)


def _candidates(proved: Fraction, beyond: Fraction, tight: Fraction | None) -> list[Fraction]:
    """Where a rational answer would be, on the proved side of `beyond`: the shortest decimals
    of the bracket (a d-digit answer is the bracket's end cut to d digits once the bracket is
    narrower than 10^-d), a point where the claim is tight, and the proved end."""
    maximize = proved < beyond

    def inside(c: Fraction) -> bool:
        return proved <= c < beyond if maximize else beyond < c <= proved

    out: list[Fraction] = []
    for digits in range(0, 13):
        scale = 10**digits
        cut = Fraction(math.floor(beyond * scale), scale) if maximize else Fraction(math.ceil(beyond * scale), scale)
        if cut == beyond:
            cut -= Fraction(1, scale) if maximize else -Fraction(1, scale)
        if inside(cut) and cut not in out:
            out.append(cut)
            break
    for c in (tight, proved):
        if c is not None and inside(c) and c not in out:
            out.append(c)
    return out


def _constants(terms: list[z3.ExprRef]) -> list[z3.ExprRef]:
    """The uninterpreted constants of the terms (unknowns and the encoder's auxiliaries)."""
    seen: dict[int, z3.ExprRef] = {}
    stack = list(terms)
    visited: set[int] = set()
    while stack:
        t = stack.pop()
        if t.get_id() in visited:
            continue
        visited.add(t.get_id())
        if z3.is_const(t) and t.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            seen[t.get_id()] = t
        else:
            stack.extend(t.children())
    return [seen[k] for k in sorted(seen)]


def search(session: _Session, claim: m.Claim) -> Verdict:
    if claim.find.goal == "layout":  # searched over variants of the spec by checker/api.py (solve_layout.search)
        return Verdict(claim, "unknown", reason=LAYOUT_PENDING)
    return _Search(session, claim).run()
