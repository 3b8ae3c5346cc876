"""The only owner of a Z3 solver: proved, violated or unknown; vacuity; worst cases.

Each obligation gets a fresh solver with fixed seeds, a timeout and a resource limit. Every
range and assumption is asserted with a label, so an unsat core names the facts a proof rests
on and the assumptions that clash. Results leave this module as plain Python values.

Slicing: once the ranges and assumptions are known to be consistent together (the vacuity
query), a claim's queries assert only the ranges and assumptions of the unknowns it depends on
(closed under the assumptions that tie unknowns together) and the definitions of the auxiliary
variables it reaches. The facts left out share no unknown with the claim and are satisfiable on
their own, so every answer is the one the whole file would give; the unknowns left out keep the
values of the vacuity query's model (a point of every range and assumption). A claim that
depends on no unknown and no auxiliary variable is decided by exact arithmetic on its terms,
without a solver query.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import z3

from checker import model as m, registry
from checker.verdicts import Limits, Outcome, Point, Status, Vacuity, Verdict, Worst
from checker.encode import Encoding, EncodingError, encode
from checker.records import record

TOLERANCE = Fraction(1, 1000)  # worst cases are reported within 0.1 %
MAX_PROBES = 80
MAX_CORNER_UNKNOWNS = 5  # a term of at most this many unknowns has its corners tried first (2^5 = 32)
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


QUERIES = 0  # solver queries made by this process (read by tests; never by the checker)


def _check(s: z3.Solver) -> z3.CheckSatResult:
    global QUERIES
    QUERIES += 1
    return s.check()


class Undecided(Exception):
    """A helper query (polishing a point, testing an unknown's freedom) came back unknown. It is
    never read as false: each caller says what it does instead (keep the point it has)."""


def decide(s: z3.Solver) -> bool:
    """sat → True, unsat → False; unknown raises Undecided."""
    result = _check(s)
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


@record
class _Fact:
    kind: str  # range or assume
    name: str
    fact: z3.BoolRef
    unknowns: frozenset[str]
    auxiliaries: frozenset[str]
    label: str


@record
class _Slice:
    """What a claim's queries assert: the facts of the unknowns it depends on, the definitions it
    reaches. `unknowns` in declaration order."""

    unknowns: tuple[str, ...]
    facts: tuple[_Fact, ...]
    definitions: tuple[z3.BoolRef, ...]


class _Session:
    """One model's obligations: a fresh solver per query, each with the facts of its claim's slice."""

    def __init__(self, model: m.Model, limits: Limits) -> None:
        self.model = model
        self.limits = limits
        # A context of its own per model: Z3's search depends on what its context has seen (the
        # fresh names k!N its preprocessing numbers on, its term ids), so with a shared context a
        # file's counterexamples and worst cases would depend on the files checked before it.
        self.ctx = z3.Context()
        self.enc: Encoding = encode(model, self.ctx)
        self._divisors: dict[int, tuple[z3.ArithRef, list[z3.ArithRef]]] = {}
        self.labels: dict[str, tuple[str, str]] = {}  # z3 label -> (kind, name)
        self._facts: list[_Fact] | None = None
        self._related: dict[int, tuple[m.Comparison, list[tuple[str, ...]]]] = {}
        self._unknown_paths = frozenset(tuple(u.id.split(".")) for u in model.unknowns)
        self._defined: dict[str, tuple[str, z3.BoolRef]] = {}  # aux variable name -> (definition name, fact)
        self.witness: dict[str, tuple[Fraction, bool]] = {}  # a point of every range and assumption

    def rebind(self, model: m.Model, enc: Encoding) -> None:
        """Another model in the same context (a best-layout search screens many): every cache
        built from the previous model is dropped."""
        self.model, self.enc = model, enc
        self._divisors, self.labels, self._facts, self._related = {}, {}, None, {}
        self._unknown_paths = frozenset(tuple(u.id.split(".")) for u in model.unknowns)
        self._defined, self.witness = {}, {}

    def facts(self) -> list[_Fact]:
        """Every range and assumption as a labelled fact, built once per file."""
        if self._facts is None:
            base: list[tuple[str, str, z3.BoolRef]] = [("range", u.id, c) for u, c in self.enc.ranges()]
            for claim in self.model.assumptions:
                encoded = [self.enc.comparison(c, []) for c in claim.conditions]
                # an assumption holds only where it is defined: none of its divisors is zero
                defined = [d != 0 for d in self.symbols([t for _, l, r in encoded for t in (l, r)])[2]]
                base.append(("assume", claim.name, z3.And([h for h, _, _ in encoded] + defined)))
            self._facts = []
            for index, (kind, name, fact) in enumerate(base):
                unknowns, auxiliaries, _ = self.symbols([fact])
                label = f"l{index}"
                self.labels[label] = (kind, name)
                self._facts.append(_Fact(kind, name, fact, frozenset(unknowns), frozenset(auxiliaries), label))
        return self._facts

    def everything(self) -> _Slice:
        return _Slice(tuple(u.id for u in self.model.unknowns), tuple(self.facts()), tuple(d for _, d in self.enc.definitions))

    def symbols(self, terms: list[z3.ExprRef], seen: set[int] | None = None) -> tuple[set[str], set[str], list[z3.ArithRef]]:
        """The unknowns, the auxiliary variables (by definition name) and the non-constant
        divisors (in id order, as encode.denominators gives them) the terms reach, following
        auxiliary variables into their definitions, in one walk. Nothing of the walk is kept:
        holding Z3 terms alive changes the ids of terms made later, and with them Z3's search
        (the counterexamples and worst cases a report shows)."""
        if len(self._defined) != len(self.enc.definitions):
            self._defined = {f"aux:{name}": (name, fact) for name, fact in self.enc.definitions}
        unknowns: set[str] = set()
        auxiliaries: set[str] = set()
        divisors: dict[int, z3.ArithRef] = {}
        stack = list(terms)
        seen = set() if seen is None else seen  # given: the nodes an earlier walk of live terms saw are skipped
        while stack:
            e = stack.pop()
            if e.get_id() in seen:
                continue
            seen.add(e.get_id())
            if z3.is_const(e) and e.decl().kind() == z3.Z3_OP_UNINTERPRETED:
                name = e.decl().name()
                if name in self._defined:
                    auxiliaries.add(self._defined[name][0])
                    stack.append(self._defined[name][1])
                else:
                    unknowns.add(name)
                continue
            if z3.is_app_of(e, z3.Z3_OP_DIV) and not z3.is_rational_value(e.arg(1)):
                divisors[e.arg(1).get_id()] = e.arg(1)
            stack.extend(e.children())
        return unknowns, auxiliaries, [divisors[k] for k in sorted(divisors)]

    def closure(self, terms: list[z3.ArithRef], names: set[str] | None = None) -> set[str]:
        """Unknowns the terms depend on, directly or through assumptions that tie them (`names`:
        the terms' own unknowns, when the caller has walked them already)."""
        names = set(self.symbols(terms)[0] if names is None else names)
        links = [f.unknowns for f in self.facts() if f.kind == "assume"]
        grew = True
        while grew:
            grew = False
            for link in links:
                if link & names and not link <= names:
                    names |= link
                    grew = True
        return names

    def slice(self, terms: list[z3.ArithRef], walked: tuple[set[str], set[str]] | None = None) -> _Slice:
        """`walked`: the terms' unknowns and auxiliary variables, when the caller has them."""
        unknowns, auxiliaries, _ = self.symbols(terms) if walked is None else (*walked, None)
        names = self.closure(terms, unknowns)
        facts = tuple(f for f in self.facts() if f.unknowns & names)
        auxiliaries = set(auxiliaries)
        for f in facts:
            auxiliaries |= f.auxiliaries
        definitions = tuple(d for name, d in self.enc.definitions if name in auxiliaries)
        return _Slice(tuple(u.id for u in self.model.unknowns if u.id in names), facts, definitions)

    def relevant(self, terms: list[z3.ArithRef], names: set[str] | None = None) -> tuple[str, ...]:
        """Unknowns the terms depend on, directly or through an assumption that ties them."""
        names = self.closure(terms, names)
        return tuple(u.id for u in self.model.unknowns if u.id in names)

    def solver(self, track: bool, sl: _Slice) -> z3.Solver:
        s = z3.Solver(ctx=self.ctx)
        s.set("timeout", min(self.limits.timeout_ms, UINT_MAX))  # Z3 keeps these in 32 bits: larger
        s.set("rlimit", min(self.limits.rlimit, UINT_MAX))  # values would wrap round to tiny ones
        s.set("random_seed", self.limits.seed)  # per solver: no process-wide parameter is ever set
        s.set("max_memory", self.limits.memory_mb)
        for f in sl.facts:
            if track:
                s.assert_and_track(f.fact, z3.Bool(f.label, self.ctx))
            else:
                s.add(f.fact)
        return s

    def divisors(self, term: z3.ArithRef, known: list[z3.ArithRef] | None = None) -> list[z3.ArithRef]:
        """The term's non-constant divisors, found once per term (the worst-case search asks
        about the same term dozens of times). `known`: the caller's walk found them."""
        key = term.get_id()
        cached = self._divisors.get(key)
        if cached is None or not cached[0].eq(term):  # the term is kept: its id is never another's
            cached = self._divisors[key] = (term, self.symbols([term])[2] if known is None else known)
        return cached[1]

    def finish(self, s: z3.Solver, sl: _Slice) -> None:
        # definitions are added last: encoding the claims may have created auxiliary variables
        for definition in sl.definitions:
            s.add(definition)

    def point(self, model: z3.ModelRef, sl: _Slice) -> Point:
        """The model's values of the slice's unknowns; the others keep the witness's values."""
        values, approximate = [], False
        for unknown in self.model.unknowns:
            if unknown.id in sl.unknowns:
                value, approx = fraction(model.eval(self.enc.variables[unknown.id], model_completion=True))
                approximate = approximate or approx
            else:
                value = self.witness[unknown.id][0]
            values.append((unknown.id, value))
        return Point(tuple(values), approximate)

    def core(self, s: z3.Solver) -> list[tuple[str, str]]:
        return sorted(self.labels[str(label)] for label in s.unsat_core())

    def fix(self, s: z3.Solver, point: Point, sl: _Slice, but: tuple[str, ...] = ()) -> None:
        for uid, value in point.values:
            if uid in sl.unknowns and uid not in but:
                s.add(self.enc.variables[uid] == self.enc.val(value))

    # ---- vacuity ------------------------------------------------------------------------

    def vacuity(self) -> tuple[Vacuity | None, str]:
        for claim in self.model.checks:  # encode every claim first so definitions are complete
            for c in claim.conditions:
                self.enc.comparison(c, [])
        s = self.solver(track=True, sl=self.everything())
        self.finish(s, self.everything())
        result = _check(s)
        if result == z3.unsat:
            core = self.core(s)
            return Vacuity(tuple(n for k, n in core if k == "assume"), tuple(n for k, n in core if k == "range")), ""
        if result == z3.unknown:
            return None, gave_up(s.reason_unknown(), self.limits)
        found = s.model()
        for unknown in self.model.unknowns:
            self.witness[unknown.id] = fraction(found.eval(self.enc.variables[unknown.id], model_completion=True))
        return None, ""

    # ---- checks ---------------------------------------------------------------------------

    def check(self, claim: m.Claim) -> Verdict:
        if claim.static is not None:
            holds, why = claim.static
            return Verdict(claim, "proved" if holds else "violated", reason="" if holds else why)
        encoded = [self.enc.comparison(c, []) for c in claim.conditions]
        # a point where any divisor (the claim's or a derived quantity's) is zero breaks the claim
        terms = [t for _, left, right in encoded for t in (left, right)]
        seen: set[int] = set()
        unknowns, auxiliaries, divisors = self.symbols(terms, seen)  # each node walked once: the claim's terms,
        explaining = self.explaining(claim)
        more, further, _ = self.symbols(explaining, seen)  # then what the quantities it shows add
        relevant = self.relevant(terms, unknowns)
        sl = self.slice(terms + explaining, (unknowns | more, auxiliaries | further))
        # the left side's unknowns and divisors, when the walk above found them (a numeral right side)
        left_names = (unknowns, divisors) if len(encoded) == 1 and z3.is_rational_value(encoded[0][2]) else None
        if not sl.unknowns and not sl.definitions:
            exact = self.constant_verdict(claim, encoded, divisors)
            if exact is not None:
                return exact
        s = self.solver(track=True, sl=sl)
        self.finish(s, sl)
        bad = z3.Or([z3.Not(holds) for holds, _, _ in encoded] + [d == 0 for d in divisors])
        s.add(bad)
        result = _check(s)
        if result == z3.unknown:
            return Verdict(claim, "unknown", reason=gave_up(s.reason_unknown(), self.limits), relevant=relevant)
        if result == z3.unsat:
            rests = tuple(f"{kind} {name}" for kind, name in self.core(s))
            verdict = Verdict(claim, "proved", rests_on=rests, relevant=relevant)
            if claim.kind == "check" and len(claim.conditions) == 1:
                return self.with_worst(verdict, encoded[0], sl, left_names)
            return verdict
        found = s.model()
        point = self.polish_counterexample(bad, self.point(found, sl), sl)
        shown = None
        if _boxed(sl) and self.holds_at(bad, {uid: v for uid, v in point.values if uid in sl.unknowns}):
            try:  # no query: the point is closed, and the simplifier gives every value at it
                shown = self.shown(claim, encoded, divisors, _AtPoint(self, {uid: v for uid, v in point.values if uid in sl.unknowns}))
            except _NotNumeral:
                shown = None  # a division by zero there: the solver's model says what it gives
        model = None
        if shown is None:
            try:
                model = self.model_at(bad, point, sl) or found
            except Undecided:
                model, point = found, self.point(found, sl)
        failing, zero = shown[:2] if shown is not None else self.failing(encoded, divisors, model)
        _, left, right = encoded[failing]
        worst = None
        if claim.kind == "check" and len(claim.conditions) == 1 and claim.conditions[0].op != "==":
            worst = self.extreme(left, claim.conditions[0].op in ("<=", "<"), bound=None, among=relevant, sl=sl, names=left_names if failing == 0 else None)
        if shown is None:
            shown = self.shown(claim, encoded, divisors, model)
        _, _, left_value, right_value, values = shown
        return Verdict(claim, "violated", point=point, failing=failing, left=left_value, right=right_value, values=values, zero_divisor=zero, worst=worst, relevant=relevant)

    def shown(self, claim: m.Claim, encoded: list[tuple[z3.BoolRef, z3.ArithRef, z3.ArithRef]], divisors: list[z3.ArithRef], model) -> tuple[int, bool, Fraction, Fraction, tuple]:
        """What a counterexample's report shows: the failing condition, whether a divisor is zero,
        both sides of the failing condition and the quantities that explain it."""
        failing, zero = self.failing(encoded, divisors, model)
        _, left, right = encoded[failing]
        return failing, zero, fraction(model.eval(left, model_completion=True))[0], fraction(model.eval(right, model_completion=True))[0], self.explain(claim.conditions[failing], model)

    def failing(self, encoded: list[tuple[z3.BoolRef, z3.ArithRef, z3.ArithRef]], divisors: list[z3.ArithRef], model) -> tuple[int, bool]:
        """The first condition the model breaks, and whether a divisor is zero there."""
        failing = 0
        for index, (holds, _, _) in enumerate(encoded):
            if z3.is_false(model.eval(holds, model_completion=True)):
                failing = index
                break
        return failing, any(fraction(model.eval(d, model_completion=True))[0] == 0 for d in divisors)

    def related(self, comparison: m.Comparison) -> list[tuple[str, ...]]:
        if id(comparison) not in self._related:
            self._related[id(comparison)] = (comparison, related(self.model, comparison, self._unknown_paths))
        return self._related[id(comparison)][1]

    def explaining(self, claim: m.Claim) -> list[z3.ArithRef]:
        """The terms of the quantities a counterexample shows (part of the claim's slice, so
        that they are evaluated at a point of their own ranges)."""
        terms = []
        for c in claim.conditions:
            for path in self.related(c):
                try:
                    terms.append(self.enc.quantity(path))
                except EncodingError:
                    continue  # explain() raises it if the claim is violated
        return terms

    def constant_verdict(self, claim: m.Claim, encoded: list[tuple[z3.BoolRef, z3.ArithRef, z3.ArithRef]], divisors: list[z3.ArithRef]) -> Verdict | None:
        """A claim that depends on no unknown, decided by exact arithmetic on its terms (None when
        a term is not a plain rational expression or a divisor is zero: the solver decides)."""
        if any(_exact(d) in (None, 0) for d in divisors):
            return None
        sides = [(_exact(left), _exact(right)) for _, left, right in encoded]
        if any(a is None or b is None for a, b in sides):
            return None
        witness = Point(tuple((u.id, self.witness[u.id][0]) for u in self.model.unknowns))
        failing = next((i for i, (c, (a, b)) in enumerate(zip(claim.conditions, sides)) if not _compare(c.op, a, b)), None)
        single = claim.kind == "check" and len(claim.conditions) == 1 and claim.conditions[0].op != "=="
        maximize = single and claim.conditions[0].op in ("<=", "<")
        if failing is None:
            verdict = Verdict(claim, "proved")
            if not single:
                return verdict
            value, slack = sides[0]
            worst = Worst(value, value, True, witness, (), maximize)
            return Verdict(claim, "proved", worst=worst, margin=slack - value if maximize else value - slack)
        values = []
        for path in self.related(claim.conditions[failing]):
            value = _exact(self.enc.quantity(path))
            if value is None:
                return None
            values.append((path, value))
        left, right = sides[failing]
        worst = Worst(sides[0][0], sides[0][0], True, witness, (), maximize) if single else None
        return Verdict(claim, "violated", point=witness, failing=failing, left=left, right=right, values=tuple(values), worst=worst)

    def model_at(self, fact: z3.BoolRef, point: Point, sl: _Slice) -> z3.ModelRef | None:
        """A model with every unknown of the slice fixed at the point and the fact true, if there is one."""
        s = self.solver(track=False, sl=sl)
        self.fix(s, point, sl)
        s.add(fact)
        self.finish(s, sl)
        return s.model() if decide(s) else None

    def polish_counterexample(self, bad: z3.BoolRef, point: Point, sl: _Slice) -> Point:
        """Move each unknown to an end of its range, or a short decimal, while the claim stays broken.
        Where the slice is a box (its unknowns bounded by their ranges alone, no auxiliary
        variable), whether the claim stays broken at a point of it is a closed formula: Z3's
        simplifier decides it on numerals, without a query (the query would fix every unknown
        of the slice at the same rationals)."""
        boxed = _boxed(sl)
        replaced: set[str] = set()
        for unknown in self.model.unknowns:
            if unknown.id not in sl.unknowns:
                continue  # no other unknown can mend or break the claim
            current = point.get(unknown.id)
            for candidate in (unknown.low, unknown.high, _short(current, current - (unknown.high - unknown.low) / 100, current + (unknown.high - unknown.low) / 100)):
                if candidate == current or not unknown.low <= candidate <= unknown.high:
                    continue
                trial = Point(tuple((uid, candidate if uid == unknown.id else v) for uid, v in point.values))
                still_broken = self.holds_at(bad, {uid: v for uid, v in trial.values if uid in sl.unknowns}) if boxed else None
                try:
                    if still_broken is None:
                        still_broken = self.model_at(bad, trial, sl) is not None
                except Undecided:
                    continue  # cannot tell: the point stays where the solver put it
                if still_broken:
                    point = trial
                    replaced.add(unknown.id)
                    break
        if point.approximate and len(replaced) == len(sl.unknowns):
            point = Point(point.values, approximate=False)
        return point

    def explain(self, comparison: m.Comparison, model: z3.ModelRef) -> tuple[tuple[tuple[str, ...], Fraction], ...]:
        out = []
        for path in self.related(comparison):
            value = model.eval(self.enc.quantity(path), model_completion=True)
            out.append((path, fraction(value)[0]))
        return tuple(out)

    # ---- worst cases ------------------------------------------------------------------------

    def with_worst(self, verdict: Verdict, encoded: tuple[z3.BoolRef, z3.ArithRef, z3.ArithRef], sl: _Slice, names: tuple[set[str], list[z3.ArithRef]] | None = None) -> Verdict:
        comparison = verdict.claim.conditions[0]
        if comparison.op == "==":
            return verdict
        _, left, right = encoded
        maximize = comparison.op in ("<=", "<")
        worst = self.extreme(left, maximize, bound=self.constant(right), among=verdict.relevant, sl=sl, names=names)
        if worst is None:
            return verdict
        slack = self.constant(right)
        if slack is not None:
            margin = slack - worst.value if maximize else worst.value - slack
        else:
            gap = self.extreme(right - left if maximize else left - right, maximize=False, bound=Fraction(0), among=verdict.relevant, sl=sl)
            margin = gap.value if gap is not None else None
        return Verdict(verdict.claim, verdict.status, worst=worst, margin=margin, rests_on=verdict.rests_on, relevant=verdict.relevant)

    def constant(self, term: z3.ArithRef) -> Fraction | None:
        simple = z3.simplify(term)
        return fraction(simple)[0] if z3.is_rational_value(simple) or z3.is_algebraic_value(simple) else None

    def probe(self, term: z3.ArithRef, beyond: Fraction | None, maximize: bool, sl: _Slice, fixed: Point | None = None) -> tuple[str, Fraction | None, Point | None]:
        """Is there a point with term beyond the value? Returns (sat/unsat/unknown, value, point)."""
        s = self.solver(track=False, sl=sl)
        if beyond is not None:
            target = self.enc.val(beyond)
            s.add(term > target if maximize else term < target)
        if fixed is not None:
            self.fix(s, fixed, sl)
        for d in self.divisors(term):
            s.add(d != 0)  # where a divisor is zero the term's value is arbitrary: not a worst case
        self.finish(s, sl)
        result = _check(s)
        if result != z3.sat:
            return ("unsat" if result == z3.unsat else "unknown"), None, None
        model = s.model()
        value, approximate = fraction(model.eval(term, model_completion=True))
        point = self.point(model, sl)
        if approximate and not point.approximate:
            point = Point(point.values, approximate=True)  # the value is an irrational's approximation
        return "sat", value, point

    def extreme(self, term: z3.ArithRef, maximize: bool, bound: Fraction | None, among: tuple[str, ...], sl: _Slice, names: tuple[set[str], list[z3.ArithRef]] | None = None) -> Worst | None:
        """`among`: the unknowns the claim depends on; no other can move the term, so only these are
        snapped to corners or tested for freedom (this keeps the work per claim linear in them)."""
        corner = self.corners(term, maximize, among, sl, names)
        if corner is not None:
            return corner
        sign = 1 if maximize else -1
        status, best, point = self.probe(term, None, maximize, sl)
        if status != "sat" or best is None or point is None:
            return None
        # the far end: the claim's constant side when it has one, else gallop outwards
        far = bound
        step = max(abs(best), Fraction(1))
        probes = 0
        while far is None and probes < MAX_PROBES:
            probes += 1
            status, value, where = self.probe(term, best + sign * step, maximize, sl)
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
            status, value, where = self.probe(term, middle, maximize, sl)
            if status == "unknown":
                break
            if status == "unsat":
                far = middle
            else:
                best, point = value, where
        best, point = self.polish(term, best, point, maximize, among, sl)
        status, _, _ = self.probe(term, best, maximize, sl)
        if status == "unsat":
            far = best  # nothing lies beyond best: with a rational best, it is the extreme itself
        exact = status == "unsat" and not point.approximate
        free = () if point.approximate else self.free_unknowns(term, best, point, among, sl)
        return Worst(best, far, exact, point, free, maximize, irrational=status == "unsat" and point.approximate)

    def corners(self, term: z3.ArithRef, maximize: bool, among: tuple[str, ...], sl: _Slice, names: tuple[set[str], list[z3.ArithRef]] | None = None) -> Worst | None:
        """The worst case at a corner of the ranges, when the solver shows that nothing is worse.

        Worst cases of monotone quantities sit at corners. When the term's unknowns are bounded by
        their ranges alone (no assumption ties them, no auxiliary variable is defined) and are few,
        the term is evaluated exactly at every corner (the solver's own simplifier on numerals),
        and one query asks for a point beyond the worst corner. Unsat proves that corner's value
        the extreme, exactly: the proof is the solver's, the corner only a candidate. Sat or
        unknown returns None, and the bisection below searches as before. The point is the one
        the bisection's polishing would reach: the corner, and every other unknown of the claim
        at the high end of its range (it cannot move the term)."""
        if sl.definitions or not among:
            return None
        walked, names = names, self.symbols([term])[0] if names is None else names[0]  # given: the caller walked the term
        moving = [u for u in self.model.unknowns if u.id in names]
        if len(moving) > MAX_CORNER_UNKNOWNS or not names <= set(sl.unknowns) or any(f.kind == "assume" and f.unknowns & (names | set(among)) for f in sl.facts):
            return None
        base = {uid: self.witness[uid][0] for uid in sl.unknowns}
        for unknown in self.model.unknowns:
            if unknown.id in among:
                base[unknown.id] = unknown.high
        values: dict[tuple[Fraction, ...], Fraction] = {}
        best: tuple[Fraction, ...] | None = None
        for ends in itertools.product(*[sorted({u.low, u.high}) for u in moving]):
            value = self.exact_at(term, {**base, **{u.id: e for u, e in zip(moving, ends)}})
            if value is None:
                return None  # a divisor is zero there, or the value is irrational: search
            values[ends] = value
            if best is None or (value >= values[best] if maximize else value <= values[best]):
                best = ends
        assert best is not None
        chosen = {**base, **{u.id: e for u, e in zip(moving, best)}}
        point = Point(tuple((u.id, chosen.get(u.id, self.witness[u.id][0])) for u in self.model.unknowns))
        if walked is not None:
            self.divisors(term, known=walked[1])  # what the probe asks for, without another walk
        status, _, _ = self.probe(term, values[best], maximize, sl)
        if status != "unsat":
            return None
        # Free unknowns: one the term does not contain is free; one whose other end changes the
        # value (with the free ones found so far at the point) is not; the solver decides the rest.
        free: list[str] = []
        index = {u.id: i for i, u in enumerate(moving)}
        for unknown in self.model.unknowns:
            if unknown.low == unknown.high or unknown.id not in among:
                continue
            if unknown.id not in index:
                free.append(unknown.id)
                continue
            flipped = list(best)
            i = index[unknown.id]
            flipped[i] = unknown.low if best[i] == unknown.high else unknown.high
            if values[tuple(flipped)] != values[best]:
                continue
            if self.free_unknowns(term, values[best], point, (unknown.id,), sl, fixed_free=tuple(free)):
                free.append(unknown.id)
        return Worst(values[best], values[best], True, point, tuple(free), maximize)

    def exact_at(self, term: z3.ArithRef, values: dict[str, Fraction]) -> Fraction | None:
        """The term's value with every unknown it contains at the given values, by the solver's
        simplifier (exact on numerals); None unless the result is a rational numeral."""
        pairs = [(self.enc.variables[uid], self.enc.val(v)) for uid, v in values.items()]
        simple = z3.simplify(z3.substitute(term, *pairs)) if pairs else z3.simplify(term)
        return fraction(simple)[0] if z3.is_rational_value(simple) else None

    def holds_at(self, fact: z3.BoolRef, values: dict[str, Fraction]) -> bool | None:
        """The fact's truth with every unknown it contains at the given values, by the solver's
        simplifier; None unless it simplifies to true or false."""
        pairs = [(self.enc.variables[uid], self.enc.val(v)) for uid, v in values.items()]
        simple = z3.simplify(z3.substitute(fact, *pairs)) if pairs else z3.simplify(fact)
        return True if z3.is_true(simple) else False if z3.is_false(simple) else None

    def value_at(self, term: z3.ArithRef, point: Point, sl: _Slice) -> tuple[Fraction, bool] | None:
        """The term's value at the point, and whether that value is an irrational's approximation."""
        status, value, where = self.probe(term, None, True, sl, fixed=point)
        return (value, where.approximate) if status == "sat" and value is not None and where is not None else None

    def polish(self, term: z3.ArithRef, best: Fraction, point: Point, maximize: bool, among: tuple[str, ...], sl: _Slice) -> tuple[Fraction, Point]:
        """Snap each unknown to an end of its range when that is at least as bad: worst cases of
        monotone quantities sit at corners, and a corner is exact and readable."""
        for unknown in self.model.unknowns:
            if unknown.id not in among:
                continue
            for end in (unknown.low, unknown.high):
                trial = Point(tuple((uid, end if uid == unknown.id else v) for uid, v in point.values))
                try:
                    if not self.admissible(trial, sl):
                        continue
                except Undecided:
                    continue  # cannot tell: the worst case stays where the search found it
                found = self.value_at(term, trial, sl)
                if found is not None and (found[0] >= best if maximize else found[0] <= best):
                    best, point = found[0], Point(trial.values, approximate=found[1])
        return best, point

    def admissible(self, point: Point, sl: _Slice) -> bool:
        s = self.solver(track=False, sl=sl)
        self.fix(s, point, sl)
        self.finish(s, sl)
        return decide(s)

    def free_unknowns(self, term: z3.ArithRef, best: Fraction, point: Point, among: tuple[str, ...], sl: _Slice, fixed_free: tuple[str, ...] = ()) -> tuple[str, ...]:
        """Unknowns that can together take any values in their ranges without changing the worst
        case (built greedily in declaration order, so the set is jointly free, not just one by one).
        `fixed_free`: unknowns already known to be free, which move with each one tried."""
        free: list[str] = list(fixed_free)
        for unknown in self.model.unknowns:
            if unknown.low == unknown.high or unknown.id not in among:
                continue
            trial = free + [unknown.id]
            s = self.solver(track=False, sl=sl)
            self.fix(s, point, sl, but=tuple(trial))
            self.finish(s, sl)
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
        return tuple(u for u in free if u not in fixed_free)


class _NotNumeral(Exception):
    """A term has no numeral value at a closed point (a division by zero)."""


class _AtPoint:
    """A closed point of a box slice read like a model: every unknown fixed, each term's value
    by Z3's simplifier on numerals (what a model fixing the same rationals gives). A term
    whose value is not a numeral (a division by zero, which a model gives some value) raises
    _NotNumeral, and the caller asks the solver for a model instead."""

    def __init__(self, session: _Session, values: dict[str, Fraction]) -> None:
        self.pairs = [(session.enc.variables[uid], session.enc.val(v)) for uid, v in values.items()]

    def eval(self, term: z3.ExprRef, model_completion: bool = True) -> z3.ExprRef:
        simple = z3.simplify(z3.substitute(term, *self.pairs)) if self.pairs else z3.simplify(term)
        if not (z3.is_rational_value(simple) or z3.is_true(simple) or z3.is_false(simple)):
            raise _NotNumeral(str(simple))
        return simple


def _boxed(sl: _Slice) -> bool:
    """Its unknowns bounded by their ranges alone: no assumption ties them, no auxiliary variable."""
    return not sl.definitions and not any(f.kind == "assume" for f in sl.facts)


def _compare(op: str, left: Fraction, right: Fraction) -> bool:
    return {"<=": left <= right, "<": left < right, ">=": left >= right, ">": left > right, "==": left == right}[op]


def _exact(term: z3.ExprRef) -> Fraction | None:
    """The value of a term without unknowns, in exact rational arithmetic; None for anything else
    (an unknown, an auxiliary variable, a division by zero, a power that is not whole)."""
    if z3.is_rational_value(term) or z3.is_int_value(term):
        return Fraction(term.numerator_as_long(), term.denominator_as_long()) if z3.is_rational_value(term) else Fraction(term.as_long())
    if not z3.is_app(term):
        return None
    kind = term.decl().kind()
    if kind == z3.Z3_OP_ITE:
        condition = _condition(term.arg(0))
        return None if condition is None else _exact(term.arg(1) if condition else term.arg(2))
    args = [_exact(a) for a in term.children()]
    if any(a is None for a in args):
        return None
    if kind == z3.Z3_OP_ADD:
        return sum(args, Fraction(0))
    if kind == z3.Z3_OP_SUB:
        out = args[0]
        for a in args[1:]:
            out -= a
        return out
    if kind == z3.Z3_OP_MUL:
        out = Fraction(1)
        for a in args:
            out *= a
        return out
    if kind == z3.Z3_OP_UMINUS:
        return -args[0]
    if kind == z3.Z3_OP_DIV and args[1] != 0:
        return args[0] / args[1]
    if kind == z3.Z3_OP_POWER and args[1].denominator == 1 and 0 <= args[1] <= 64:
        return args[0] ** int(args[1])
    if kind == z3.Z3_OP_TO_REAL:
        return args[0]
    return None


def _condition(term: z3.ExprRef) -> bool | None:
    if z3.is_true(term):
        return True
    if z3.is_false(term):
        return False
    kind = term.decl().kind() if z3.is_app(term) else None
    ops = {z3.Z3_OP_LE: "<=", z3.Z3_OP_LT: "<", z3.Z3_OP_GE: ">=", z3.Z3_OP_GT: ">", z3.Z3_OP_EQ: "=="}
    if kind not in ops or term.num_args() != 2:
        return None
    left, right = _exact(term.arg(0)), _exact(term.arg(1))
    return None if left is None or right is None else _compare(ops[kind], left, right)


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


def related(model: m.Model, comparison: m.Comparison, unknown_paths: frozenset[tuple[str, ...]] | None = None) -> list[tuple[str, ...]]:
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
    if unknown_paths is None:
        unknown_paths = frozenset(tuple(u.id.split(".")) for u in model.unknowns)
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
    broken: list[Verdict] = []  # guarding invariants not proved, in the order they were decided
    order = [c for c in model.checks if c.domain] + [c for c in model.checks if c.kind == "invariant" and not c.domain] + [c for c in model.checks if c.kind == "check"]
    for claim in order:
        blocker = None if claim.domain else _blocker(session, claim, broken)
        verdict = decided[claim.name] = _not_established(claim, *blocker) if blocker else _guarded(session, claim, limits)
        if verdict.claim.kind == "invariant" and verdict.claim.guards and verdict.status != Status.PROVED:
            broken.append(verdict)
    return Outcome(tuple(decided[c.name] for c in model.checks), None)


def _blocker(session: _Session, claim: m.Claim, broken: list[Verdict]) -> tuple[Verdict, tuple[str, ...]] | None:
    """The first broken or undecided invariant (of those decided before) whose guards the claim
    depends on, and the guard."""
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
