"""What solving a model yields, as plain Python values: verdicts, points, worst cases, limits.

Kept apart from checker/solve.py (the only owner of a Z3 solver) so that everything downstream
of the solver — the replay, the reports, the result cache — and a run whose results all come
from the cache never import Z3.
"""

from __future__ import annotations

from enum import StrEnum
from fractions import Fraction

from checker import model as m
from checker.records import record


class Status(StrEnum):
    """A verdict's status. Only PROVED is a pass; NOT_ESTABLISHED means the claim rests on a
    built-in invariant that is broken (or undecided), so no verdict about it would mean anything."""

    PROVED = "proved"
    VIOLATED = "violated"
    UNKNOWN = "unknown"
    NOT_ESTABLISHED = "not-established"


@record
class Limits:
    timeout_ms: int = 20_000
    rlimit: int = 50_000_000
    memory_mb: int = 2048
    seed: int = 0


@record
class Point:
    """A value for every unknown, by unknown id (exact where Z3's value is rational)."""

    values: tuple[tuple[str, Fraction], ...]
    approximate: bool = False

    def get(self, unknown_id: str) -> Fraction:
        return dict(self.values)[unknown_id]


@record
class Worst:
    value: Fraction  # attained at `point`
    bound: Fraction | None  # proved: the true extreme lies between value and bound (None: not established)
    exact: bool  # value is the extreme itself (the solver showed nothing beyond it)
    point: Point
    free: tuple[str, ...]  # unknowns whose value does not change the worst case
    maximize: bool
    # the extreme is an irrational number (a derived temperature is a fourth root): `value` is a
    # rational within 10^-40 of it, on the safe side when `bound` equals it; never called exact
    irrational: bool = False


LAYOUT_PENDING = "the layout search did not run"  # a best-layout find's verdict until checker/api.py runs the search


@record
class Answer:
    """A find statement's answer (checker/solve_find.py; spec/semantics.md, "Find statements").

    For `find max X such that C`: the claim C holds for every value of X from the range's low end
    up to `proved` (inclusive, or exclusive when `open`) and every value of the other unknowns;
    at X = `beyond` there is a counterexample (`point`). The answer, the least upper end of the
    values up to which C holds, lies in [proved, beyond]; `exact` when it is `proved` itself.
    `find min` mirrors it (down from the range's high end). `whole`: C holds over the whole
    range (beyond is None); `layouts` carries a best-layout search instead."""

    unknown: str
    maximize: bool
    proved: Fraction
    beyond: Fraction | None
    exact: bool
    open: bool = False  # C fails at `proved` itself and holds on every value before it
    whole: bool = False
    point: Point | None = None  # the counterexample at `beyond`
    left: Fraction | None = None  # the claim's sides there
    right: Fraction | None = None
    safe: Point | None = None  # the counterexample's point with X moved to `proved` (where C holds)
    safe_left: Fraction | None = None
    safe_right: Fraction | None = None
    tolerance: Fraction = Fraction(0)  # the largest bracket width accepted (beyond - proved)
    queries: int = 0


@record
class Ranked:
    """One layout of a best-layout search, with its quantity over the ranges."""

    layout: tuple[tuple[str, object], ...]  # (field, value) in the layout section's words
    low: Fraction | None  # the quantity's proved lowest and highest over the ranges (None: undecided)
    high: Fraction | None
    bound: str  # exact, upper or lower: how the closed form relates to the simulated schedule


@record
class Layouts:
    """A best-layout search: the winner, whether it is proved best, and the counts."""

    maximize: bool
    ranked: tuple[Ranked, ...]  # best first; the first is the answer
    proved_best: bool  # the winner's worst value beats every other layout's best value
    ties: tuple[int, ...]  # indexes in `ranked` the winner cannot be told from
    enumerated: int  # layouts of the divisors considered
    invalid: int  # broke a divisibility rule of the layout
    unfit: int  # pruned: they do not fit memory for some value of the ranges
    compared: int
    undecided: int = 0  # the solver gave up on a layout's memory fit or on a comparison
    beaten: int = 0  # layouts proved never to beat the winner's worst value
    closed_form_only: int = 0  # of those, layouts whose closed form bounds their schedule from the other side
    winner: object = None  # the winning layout's workload block (a checker.model.Workload), for the replay
    worst: Point | None = None  # where the winner's value is worst over the ranges
    worst_value: Fraction | None = None  # the closed form's value there


@record
class Verdict:
    claim: m.Claim
    status: str  # proved, violated, unknown
    point: Point | None = None  # the counterexample
    failing: int = 0  # which condition of the claim fails at the point
    left: Fraction | None = None
    right: Fraction | None = None
    values: tuple[tuple[tuple[str, ...], Fraction], ...] = ()  # quantities that explain the point
    zero_divisor: bool = False
    worst: Worst | None = None
    margin: Fraction | None = None  # right − left (or left − right) at the worst case
    rests_on: tuple[str, ...] = ()  # "range ID" and "assume NAME" labels in the unsat core
    reason: str = ""
    relevant: tuple[str, ...] = ()  # the unknowns the claim depends on (through assumptions too)
    answer: Answer | None = None  # a find statement's answer
    layouts: Layouts | None = None  # a best-layout search's result


@record
class Vacuity:
    assumptions: tuple[str, ...]  # names of the assumptions that clash
    unknowns: tuple[str, ...]  # ranges involved


@record
class Outcome:
    verdicts: tuple[Verdict, ...]
    vacuity: Vacuity | None
    undecided: str = ""  # why the consistency of the assumptions could not be decided
