"""The only owner of a Z3 solver: proved, violated or unknown; vacuity; worst cases.

Each obligation gets a fresh solver with fixed seeds, a timeout and a resource limit. Every
range and assumption is asserted with a label, so an unsat core names the facts a proof rests
on and the assumptions that clash. Results leave this module as plain Python values.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import z3

from checker import model as m, registry
from checker.verdicts import Limits, Outcome, Point, Status, Vacuity, Verdict, Worst
from checker.encode import Encoding, EncodingError, denominators, encode, variables_of

TOLERANCE = Fraction(1, 1000)  # worst cases are reported within 0.1 %
MAX_PROBES = 80
UINT_MAX = 2**32 - 1


def gave_up(reason: str, limits: Limits) -> str:
    """Z3's reason for giving up, naming the limit that was hit and the option that sets it."""
    if reason == "timeout":
        return f"timeout: the time limit of {limits.timeout_ms / 1000:g} s per query was reached (--timeout)"
    if "resource limit" in reason:
        return f"{reason}: the resource limit of {limits.rlimit} per query was reached (--rlimit)"
    if reason == "canceled":
        return f"canceled: the resource limit of {limits.rlimit} (--rlimit) or the time limit of {limits.timeout_ms / 1000:g} s (--timeout) per query was reached"
    if "memory" in reason:
        return f"{reason}: the memory limit of {limits.memory_mb} MB was reached"
    return reason or "no reason given"


def _failure(exc: z3.Z3Exception, limits: Limits) -> str:
    """A resource limit Z3 signalled by an exception (the hard memory cap): an honest unknown.
    Any other Z3 exception is a bug of ours (a sort or context mismatch, say): it propagates and
    becomes the file's internal error (exit 4), never an unknown."""
    value = exc.value.decode(errors="replace") if isinstance(exc.value, bytes) else str(exc.value)
    if "memory" in value or "canceled" in value or "resource" in value:
        return gave_up(value, limits)
    raise exc


class Undecided(Exception):
    """A helper query (polishing a point, testing an unknown's freedom) came back unknown. It is
    never read as false: each caller says what it does instead (keep the point it has)."""


def decide(s: z3.Solver) -> bool:
    """sat → True, unsat → False; unknown raises Undecided."""
    result = s.check()
    if result == z3.unknown:
        raise Undecided(s.reason_unknown())
    return result == z3.sat


def fraction(value: z3.ExprRef) -> tuple[Fraction, bool]:
    """A Z3 numeral as a Fraction; algebraic numbers are approximated to 40 digits (flag True)."""
    if z3.is_rational_value(value):
        return Fraction(value.numerator_as_long(), value.denominator_as_long()), False
    if z3.is_algebraic_value(value):
        return fraction(value.approx(40))[0], True
    raise EncodingError(f"not a numeral: {value}")


class _Session:
    """One model's obligations: a fresh solver per query, all sharing the base facts."""

    def __init__(self, model: m.Model, limits: Limits) -> None:
        self.model = model
        self.limits = limits
        # A context of its own per model: Z3's search depends on what its context has seen (the
        # fresh names k!N its preprocessing numbers on, its term ids), so with a shared context a
        # file's counterexamples and worst cases would depend on the files checked before it.
        self.ctx = z3.Context()
        self.enc: Encoding = encode(model, self.ctx)
        self._divisors: dict[int, list[z3.ArithRef]] = {}
        self.labels: dict[str, tuple[str, str]] = {}  # z3 label -> (kind, name)

    def solver(self, track: bool) -> z3.Solver:
        s = z3.Solver(ctx=self.ctx)
        s.set("timeout", min(self.limits.timeout_ms, UINT_MAX))  # Z3 keeps these in 32 bits: larger
        s.set("rlimit", min(self.limits.rlimit, UINT_MAX))  # values would wrap round to tiny ones
        s.set("random_seed", self.limits.seed)  # per solver: no process-wide parameter is ever set
        s.set("max_memory", self.limits.memory_mb)
        base: list[tuple[str, str, z3.BoolRef]] = [("range", u.id, c) for u, c in self.enc.ranges()]
        for claim in self.model.assumptions:
            encoded = [self.enc.comparison(c, []) for c in claim.conditions]
            # an assumption holds only where it is defined: none of its divisors is zero
            defined = [d != 0 for d in denominators([t for _, l, r in encoded for t in (l, r)], self.enc.definitions)]
            holds = z3.And([h for h, _, _ in encoded] + defined)
            base.append(("assume", claim.name, holds))
        for index, (kind, name, fact) in enumerate(base):
            if track:
                label = f"l{index}"
                self.labels[label] = (kind, name)
                s.assert_and_track(fact, z3.Bool(label, self.ctx))
            else:
                s.add(fact)
        return s

    def divisors(self, term: z3.ArithRef) -> list[z3.ArithRef]:
        """The term's non-constant divisors, found once per term (the worst-case search asks
        about the same term dozens of times)."""
        key = term.get_id()
        if key not in self._divisors:
            self._divisors[key] = denominators([term], self.enc.definitions)
        return self._divisors[key]

    def finish(self, s: z3.Solver) -> None:
        # definitions are added last: encoding the claims may have created auxiliary variables
        for _, definition in self.enc.definitions:
            s.add(definition)

    def relevant(self, terms: list[z3.ArithRef]) -> tuple[str, ...]:
        """Unknowns the terms depend on, directly or through an assumption that ties them."""
        names = variables_of(terms, self.enc.definitions)
        links = [variables_of([self.enc.comparison(c, [])[0] for c in a.conditions], self.enc.definitions) for a in self.model.assumptions]
        grew = True
        while grew:
            grew = False
            for link in links:
                if link & names and not link <= names:
                    names |= link
                    grew = True
        return tuple(u.id for u in self.model.unknowns if u.id in names)

    def point(self, model: z3.ModelRef) -> Point:
        values, approximate = [], False
        for unknown in self.model.unknowns:
            value, approx = fraction(model.eval(self.enc.variables[unknown.id], model_completion=True))
            approximate = approximate or approx
            values.append((unknown.id, value))
        return Point(tuple(values), approximate)

    def core(self, s: z3.Solver) -> list[tuple[str, str]]:
        return sorted(self.labels[str(label)] for label in s.unsat_core())

    # ---- vacuity ------------------------------------------------------------------------

    def vacuity(self) -> tuple[Vacuity | None, str]:
        s = self.solver(track=True)
        for claim in self.model.checks:  # encode every claim first so definitions are complete
            for c in claim.conditions:
                self.enc.comparison(c, [])
        self.finish(s)
        result = s.check()
        if result == z3.unsat:
            core = self.core(s)
            return Vacuity(tuple(n for k, n in core if k == "assume"), tuple(n for k, n in core if k == "range")), ""
        if result == z3.unknown:
            return None, gave_up(s.reason_unknown(), self.limits)
        return None, ""

    # ---- checks ---------------------------------------------------------------------------

    def check(self, claim: m.Claim) -> Verdict:
        if claim.static is not None:
            holds, why = claim.static
            return Verdict(claim, "proved" if holds else "violated", reason="" if holds else why)
        s = self.solver(track=True)
        encoded = [self.enc.comparison(c, []) for c in claim.conditions]
        # a point where any divisor (the claim's or a derived quantity's) is zero breaks the claim
        divisors = denominators([t for _, left, right in encoded for t in (left, right)], self.enc.definitions)
        self.finish(s)
        relevant = self.relevant([t for _, left, right in encoded for t in (left, right)])
        bad = z3.Or([z3.Not(holds) for holds, _, _ in encoded] + [d == 0 for d in divisors])
        s.add(bad)
        result = s.check()
        if result == z3.unknown:
            return Verdict(claim, "unknown", reason=gave_up(s.reason_unknown(), self.limits), relevant=relevant)
        if result == z3.unsat:
            rests = tuple(f"{kind} {name}" for kind, name in self.core(s))
            verdict = Verdict(claim, "proved", rests_on=rests, relevant=relevant)
            if claim.kind == "check" and len(claim.conditions) == 1:
                return self.with_worst(verdict, encoded[0])
            return verdict
        found = s.model()
        point = self.polish_counterexample(bad, self.point(found))
        try:
            model = self.model_at(bad, point) or found
        except Undecided:
            model, point = found, self.point(found)
        failing = 0
        for index, (holds, _, _) in enumerate(encoded):
            if z3.is_false(model.eval(holds, model_completion=True)):
                failing = index
                break
        _, left, right = encoded[failing]
        zero = any(fraction(model.eval(d, model_completion=True))[0] == 0 for d in divisors)
        worst = None
        if claim.kind == "check" and len(claim.conditions) == 1 and claim.conditions[0].op != "==":
            worst = self.extreme(left, claim.conditions[0].op in ("<=", "<"), bound=None, among=relevant)
        return Verdict(
            claim,
            "violated",
            point=point,
            failing=failing,
            left=fraction(model.eval(left, model_completion=True))[0],
            right=fraction(model.eval(right, model_completion=True))[0],
            values=self.explain(claim.conditions[failing], model),
            zero_divisor=zero,
            worst=worst,
            relevant=relevant,
        )

    def model_at(self, fact: z3.BoolRef, point: Point) -> z3.ModelRef | None:
        """A model with every unknown fixed at the point and the fact true, if there is one."""
        s = self.solver(track=False)
        for uid, value in point.values:
            s.add(self.enc.variables[uid] == self.enc.val(value))
        s.add(fact)
        self.finish(s)
        return s.model() if decide(s) else None

    def polish_counterexample(self, bad: z3.BoolRef, point: Point) -> Point:
        """Move each unknown to an end of its range, or a short decimal, while the claim stays broken."""
        replaced: set[str] = set()
        for unknown in self.model.unknowns:
            current = point.get(unknown.id)
            for candidate in (unknown.low, unknown.high, _short(current, current - (unknown.high - unknown.low) / 100, current + (unknown.high - unknown.low) / 100)):
                if candidate == current or not unknown.low <= candidate <= unknown.high:
                    continue
                trial = Point(tuple((uid, candidate if uid == unknown.id else v) for uid, v in point.values))
                try:
                    still_broken = self.model_at(bad, trial) is not None
                except Undecided:
                    continue  # cannot tell: the point stays where the solver put it
                if still_broken:
                    point = trial
                    replaced.add(unknown.id)
                    break
        if point.approximate and len(replaced) == len(self.model.unknowns):
            point = Point(point.values, approximate=False)
        return point

    def explain(self, comparison: m.Comparison, model: z3.ModelRef) -> tuple[tuple[tuple[str, ...], Fraction], ...]:
        out = []
        for path in related(self.model, comparison):
            value = model.eval(self.enc.quantity(path), model_completion=True)
            out.append((path, fraction(value)[0]))
        return tuple(out)

    # ---- worst cases ------------------------------------------------------------------------

    def with_worst(self, verdict: Verdict, encoded: tuple[z3.BoolRef, z3.ArithRef, z3.ArithRef]) -> Verdict:
        comparison = verdict.claim.conditions[0]
        if comparison.op == "==":
            return verdict
        _, left, right = encoded
        maximize = comparison.op in ("<=", "<")
        worst = self.extreme(left, maximize, bound=self.constant(right), among=verdict.relevant)
        if worst is None:
            return verdict
        slack = self.constant(right)
        if slack is not None:
            margin = slack - worst.value if maximize else worst.value - slack
        else:
            gap = self.extreme(right - left if maximize else left - right, maximize=False, bound=Fraction(0), among=verdict.relevant)
            margin = gap.value if gap is not None else None
        return Verdict(verdict.claim, verdict.status, worst=worst, margin=margin, rests_on=verdict.rests_on, relevant=verdict.relevant)

    def constant(self, term: z3.ArithRef) -> Fraction | None:
        simple = z3.simplify(term)
        return fraction(simple)[0] if z3.is_rational_value(simple) or z3.is_algebraic_value(simple) else None

    def probe(self, term: z3.ArithRef, beyond: Fraction | None, maximize: bool, fixed: Point | None = None) -> tuple[str, Fraction | None, Point | None]:
        """Is there a point with term beyond the value? Returns (sat/unsat/unknown, value, point)."""
        s = self.solver(track=False)
        if beyond is not None:
            target = self.enc.val(beyond)
            s.add(term > target if maximize else term < target)
        if fixed is not None:
            for uid, value in fixed.values:
                s.add(self.enc.variables[uid] == self.enc.val(value))
        for d in self.divisors(term):
            s.add(d != 0)  # where a divisor is zero the term's value is arbitrary: not a worst case
        self.finish(s)
        result = s.check()
        if result != z3.sat:
            return ("unsat" if result == z3.unsat else "unknown"), None, None
        model = s.model()
        value, approximate = fraction(model.eval(term, model_completion=True))
        point = self.point(model)
        if approximate and not point.approximate:
            point = Point(point.values, approximate=True)  # the value is an irrational's approximation
        return "sat", value, point

    def extreme(self, term: z3.ArithRef, maximize: bool, bound: Fraction | None, among: tuple[str, ...]) -> Worst | None:
        """`among`: the unknowns the claim depends on; no other can move the term, so only these are
        snapped to corners or tested for freedom (this keeps the work per claim linear in them)."""
        sign = 1 if maximize else -1
        status, best, point = self.probe(term, None, maximize)
        if status != "sat" or best is None or point is None:
            return None
        # the far end: the claim's constant side when it has one, else gallop outwards
        far = bound
        step = max(abs(best), Fraction(1))
        probes = 0
        while far is None and probes < MAX_PROBES:
            probes += 1
            status, value, where = self.probe(term, best + sign * step, maximize)
            if status == "unknown":
                return Worst(best, None, False, point, (), maximize)
            if status == "unsat":
                far = best + sign * step
            else:
                best, point, step = value, where, step * 2
        if far is None:
            return Worst(best, None, False, point, (), maximize)
        while probes < MAX_PROBES and abs(far - best) > TOLERANCE * max(abs(best), abs(far)) / 2:
            probes += 1
            middle = _short(best + (far - best) / 2, best, far)
            status, value, where = self.probe(term, middle, maximize)
            if status == "unknown":
                break
            if status == "unsat":
                far = middle
            else:
                best, point = value, where
        best, point = self.polish(term, best, point, maximize, among)
        status, _, _ = self.probe(term, best, maximize)
        if status == "unsat":
            far = best  # nothing lies beyond best: with a rational best, it is the extreme itself
        exact = status == "unsat" and not point.approximate
        free = () if point.approximate else self.free_unknowns(term, best, point, among)
        return Worst(best, far, exact, point, free, maximize, irrational=status == "unsat" and point.approximate)

    def value_at(self, term: z3.ArithRef, point: Point) -> tuple[Fraction, bool] | None:
        """The term's value at the point, and whether that value is an irrational's approximation."""
        status, value, where = self.probe(term, None, True, fixed=point)
        return (value, where.approximate) if status == "sat" and value is not None and where is not None else None

    def polish(self, term: z3.ArithRef, best: Fraction, point: Point, maximize: bool, among: tuple[str, ...]) -> tuple[Fraction, Point]:
        """Snap each unknown to an end of its range when that is at least as bad: worst cases of
        monotone quantities sit at corners, and a corner is exact and readable."""
        for unknown in self.model.unknowns:
            if unknown.id not in among:
                continue
            for end in (unknown.low, unknown.high):
                trial = Point(tuple((uid, end if uid == unknown.id else v) for uid, v in point.values))
                try:
                    if not self.admissible(trial):
                        continue
                except Undecided:
                    continue  # cannot tell: the worst case stays where the search found it
                found = self.value_at(term, trial)
                if found is not None and (found[0] >= best if maximize else found[0] <= best):
                    best, point = found[0], Point(trial.values, approximate=found[1])
        return best, point

    def admissible(self, point: Point) -> bool:
        s = self.solver(track=False)
        for uid, value in point.values:
            s.add(self.enc.variables[uid] == self.enc.val(value))
        self.finish(s)
        return decide(s)

    def free_unknowns(self, term: z3.ArithRef, best: Fraction, point: Point, among: tuple[str, ...]) -> tuple[str, ...]:
        """Unknowns that can together take any values in their ranges without changing the worst
        case (built greedily in declaration order, so the set is jointly free, not just one by one)."""
        free: list[str] = []
        for unknown in self.model.unknowns:
            if unknown.low == unknown.high or unknown.id not in among:
                continue
            trial = free + [unknown.id]
            s = self.solver(track=False)
            for uid, value in point.values:
                if uid not in trial:
                    s.add(self.enc.variables[uid] == self.enc.val(value))
            self.finish(s)
            s.push()
            mine = self.enc.variables[unknown.id]
            s.add(mine != self.enc.val(point.get(unknown.id)))
            try:
                movable = decide(s)  # an assumption may pin it to the others
                s.pop()
                s.add(term != self.enc.val(best))
                if movable and not decide(s):
                    free.append(unknown.id)
            except Undecided:
                continue  # not shown as free unless the solver says so
        return tuple(free)


def _short(middle: Fraction, low: Fraction, high: Fraction) -> Fraction:
    """A rational with a small denominator strictly between low and high, near the middle."""
    lo, hi = min(low, high), max(low, high)
    width = hi - lo
    for digits in range(0, 40):
        scale = 10**digits
        candidate = Fraction(round(middle * scale), scale)
        if lo < candidate < hi and abs(candidate - middle) <= width / 4:
            return candidate
    return middle


def related(model: m.Model, comparison: m.Comparison) -> list[tuple[str, ...]]:
    """The quantities that explain a claim: what the registry says explains those it names
    (a training step's breakdown), then those it names; never a field that is an unknown."""
    paths: list[tuple[str, ...]] = []
    stack: list[m.Expr] = [comparison.right, comparison.left]
    named: list[tuple[str, ...]] = []
    while stack:
        e = stack.pop()
        if isinstance(e, m.QRef):
            named.append(e.path)
        elif isinstance(e, m.Op):
            stack += [e.right, e.left]
        elif isinstance(e, m.Neg):
            stack.append(e.operand)
        elif isinstance(e, m.Fn):
            stack += list(reversed(e.args))
    for path in named:
        paths += registry.explanation(model, path)
        paths.append(path)
    unknown_paths = {tuple(u.id.split(".")) for u in model.unknowns}
    seen: list[tuple[str, ...]] = []
    for path in paths:
        if path not in seen and path not in unknown_paths:
            seen.append(path)
    return seen


def solve(model: m.Model, limits: Limits = Limits()) -> Outcome:
    try:
        session = _Session(model, limits)
        vacuity, undecided = session.vacuity()
    except z3.Z3Exception as exc:  # e.g. the hard memory cap: unknown, never a traceback
        vacuity, undecided = None, _failure(exc, limits)
    if vacuity is not None:
        return Outcome((), vacuity)
    if undecided:
        verdicts = tuple(Verdict(c, "unknown", reason=f"the consistency of the assumptions is undecided ({undecided})") for c in model.checks)
        return Outcome(verdicts, None, undecided)
    # Built-in invariants first: the domains of single fields, then the others. A claim that
    # rests on a field or an intermediate guarded by a broken (or undecided) invariant gets no
    # verdict: it is "not established", never proved or violated on a meaningless model.
    # Claims that do not depend on it keep their verdicts. Domain invariants are never blocked.
    decided: dict[str, Verdict] = {}
    order = [c for c in model.checks if c.domain] + [c for c in model.checks if c.kind == "invariant" and not c.domain] + [c for c in model.checks if c.kind == "check"]
    for claim in order:
        blocker = None if claim.domain else _blocker(session, claim, [decided[c.name] for c in order if c.name in decided])
        decided[claim.name] = _not_established(claim, *blocker) if blocker else _guarded(session, claim, limits)
    return Outcome(tuple(decided[c.name] for c in model.checks), None)


def _blocker(session: _Session, claim: m.Claim, earlier: list[Verdict]) -> tuple[Verdict, tuple[str, ...]] | None:
    """The first broken or undecided invariant whose guards the claim depends on, and the guard."""
    broken = [v for v in earlier if v.claim.kind == "invariant" and v.claim.guards and v.status != Status.PROVED]
    if not broken:
        return None
    uses = session.enc.depends(claim)
    for v in broken:
        for guard in v.claim.guards:
            if guard in uses:
                return v, guard
    return None


def _not_established(claim: m.Claim, blocker: Verdict, guard: tuple[str, ...]) -> Verdict:
    """A claim on a broken model gets no verdict. When the invariant is only undecided (the
    solver gave up on it), the claim is unknown for the same reason: never a pass either way."""
    what = f"{guard[0]}'s gradient exchange" if guard[-1] == "exchange" else ".".join(guard)
    where = f"the built-in invariant '{blocker.claim.name}' (line {blocker.claim.span.line})"
    if blocker.status == Status.VIOLATED or blocker.status == Status.NOT_ESTABLISHED:
        return Verdict(claim, Status.NOT_ESTABLISHED, reason=f"it depends on {what}, and {where} is {'broken' if blocker.status == Status.VIOLATED else 'not established'}")
    return Verdict(claim, Status.UNKNOWN, reason=f"it rests on {where}, which is undecided ({blocker.reason})")


def _guarded(session: _Session, claim: m.Claim, limits: Limits) -> Verdict:
    try:
        if claim.find is not None:  # a find statement: its search (checker/solve_find.py) asks this session
            from checker import solve_find

            return solve_find.search(session, claim)
        return session.check(claim)
    except z3.Z3Exception as exc:  # e.g. the hard memory cap: unknown, never a traceback
        return Verdict(claim, "unknown", reason=_failure(exc, limits))
