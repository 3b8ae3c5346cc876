"""What solving a model yields, as plain Python values: verdicts, points, worst cases, limits.

Kept apart from checker/solve.py (the only owner of a Z3 solver) so that everything downstream
of the solver — the replay, the reports, the result cache — and a run whose results all come
from the cache never import Z3.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from checker import model as m


class Status(StrEnum):
    """A verdict's status. Only PROVED is a pass; NOT_ESTABLISHED means the claim rests on a
    built-in invariant that is broken (or undecided), so no verdict about it would mean anything."""

    PROVED = "proved"
    VIOLATED = "violated"
    UNKNOWN = "unknown"
    NOT_ESTABLISHED = "not-established"


@dataclass(frozen=True, slots=True)
class Limits:
    timeout_ms: int = 20_000
    rlimit: int = 50_000_000
    memory_mb: int = 2048
    seed: int = 0


@dataclass(frozen=True, slots=True)
class Point:
    """A value for every unknown, by unknown id (exact where Z3's value is rational)."""

    values: tuple[tuple[str, Fraction], ...]
    approximate: bool = False

    def get(self, unknown_id: str) -> Fraction:
        return dict(self.values)[unknown_id]


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class Vacuity:
    assumptions: tuple[str, ...]  # names of the assumptions that clash
    unknowns: tuple[str, ...]  # ranges involved


@dataclass(frozen=True, slots=True)
class Outcome:
    verdicts: tuple[Verdict, ...]
    vacuity: Vacuity | None
    undecided: str = ""  # why the consistency of the assumptions could not be decided
