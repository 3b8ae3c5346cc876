"""The syntax tree: plain frozen dataclasses named after the grammar's rules.

Nothing here knows about Lark; ``checker.parse`` builds these from the parse tree.
Every node carries the :class:`Span` it was read from.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Union

from checker.diagnostics import Span


@dataclass(frozen=True, slots=True)
class Quantity:
    """A number literal, exact, with the unit text written after it (None when bare)."""

    value: Fraction
    unit: str | None
    span: Span
    unit_span: Span | None


@dataclass(frozen=True, slots=True)
class Ref:
    """A dotted reference such as ``panel.area``; one part for an enumeration word (``ring``)."""

    parts: tuple[str, ...]
    span: Span
    part_spans: tuple[Span, ...]


@dataclass(frozen=True, slots=True)
class Binary:
    op: str
    left: "Expr"
    right: "Expr"
    span: Span


@dataclass(frozen=True, slots=True)
class Negate:
    operand: "Expr"
    span: Span


@dataclass(frozen=True, slots=True)
class Call:
    function: str
    args: tuple["Expr", ...]
    span: Span
    name_span: Span


Expr = Union[Quantity, Ref, Binary, Negate, Call]


@dataclass(frozen=True, slots=True)
class Range:
    low: Expr
    high: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    value: Union[Expr, Range]
    span: Span
    name_span: Span


@dataclass(frozen=True, slots=True)
class Pool:
    name: str
    count: Fraction
    gpu: str
    span: Span
    name_span: Span
    count_span: Span
    gpu_span: Span


@dataclass(frozen=True, slots=True)
class Section:
    """A nested block inside a block, such as a cluster's ``network { ... }``."""

    name: str
    members: tuple["Member", ...]
    span: Span
    name_span: Span


Member = Union[Field, Pool, Section]


@dataclass(frozen=True, slots=True)
class Block:
    kind: str
    name: str
    on: str | None
    members: tuple[Member, ...]
    span: Span
    name_span: Span
    on_span: Span | None
    base: str | None = None  # `gpu H100_800W from H100 { ... }`: the block it starts from
    base_span: Span | None = None


@dataclass(frozen=True, slots=True)
class Import:
    """``import "PATH" as alias`` (alias set, names empty) or ``from "PATH" import A, B``."""

    path: str  # as written, without the quotes
    alias: str | None
    names: tuple[str, ...]
    span: Span
    path_span: Span
    name_spans: tuple[Span, ...]  # the alias's, or each name's


@dataclass(frozen=True, slots=True)
class Claim:
    kind: str  # "check" or "assume"
    name: str
    left: Expr
    op: str
    right: Expr
    span: Span
    name_span: Span


@dataclass(frozen=True, slots=True)
class Find:
    """`find NAME: max REF such that LEFT OP RIGHT` (goal "max" or "min"), or
    `find NAME: best layout of WORKLOAD maximizing REF` (goal "maximizing" or "minimizing";
    `workload` set, no comparison)."""

    name: str
    goal: str
    target: Ref
    left: Expr | None
    op: str | None
    right: Expr | None
    span: Span
    name_span: Span
    workload: str | None = None
    workload_span: Span | None = None


Statement = Union[Block, Claim, Import, Find]


@dataclass(frozen=True, slots=True)
class SpecFile:
    path: str
    lines: tuple[str, ...]
    statements: tuple[Statement, ...]
