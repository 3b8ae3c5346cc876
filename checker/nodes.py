"""The syntax tree: plain frozen dataclasses named after the grammar's rules.

Nothing here knows about Lark; ``checker.parse`` builds these from the parse tree.
Every node carries the :class:`Span` it was read from.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Union

from checker.diagnostics import Span
from checker.records import record


@record
class Quantity:
    """A number literal, exact, with the unit text written after it (None when bare)."""

    value: Fraction
    unit: str | None
    span: Span
    unit_span: Span | None


@record
class Ref:
    """A dotted reference such as ``panel.area``; one part for an enumeration word (``ring``)."""

    parts: tuple[str, ...]
    span: Span
    part_spans: tuple[Span, ...]


@record
class Binary:
    op: str
    left: "Expr"
    right: "Expr"
    span: Span


@record
class Negate:
    operand: "Expr"
    span: Span


@record
class Call:
    function: str
    args: tuple["Expr", ...]
    span: Span
    name_span: Span


Expr = Union[Quantity, Ref, Binary, Negate, Call]


@record
class Range:
    low: Expr
    high: Expr
    span: Span


@record
class Field:
    name: str
    value: Union[Expr, Range]
    span: Span
    name_span: Span


@record
class Pool:
    name: str
    count: Fraction
    gpu: str
    span: Span
    name_span: Span
    count_span: Span
    gpu_span: Span


@record
class Section:
    """A nested block inside a block, such as a cluster's ``network { ... }``."""

    name: str
    members: tuple["Member", ...]
    span: Span
    name_span: Span


Member = Union[Field, Pool, Section]


@record
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


@record
class Import:
    """``import "PATH" as alias`` (alias set, names empty) or ``from "PATH" import A, B``."""

    path: str  # as written, without the quotes
    alias: str | None
    names: tuple[str, ...]
    span: Span
    path_span: Span
    name_spans: tuple[Span, ...]  # the alias's, or each name's


@record
class Claim:
    kind: str  # "check" or "assume"
    name: str
    left: Expr
    op: str
    right: Expr
    span: Span
    name_span: Span


@record
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


@record
class SpecFile:
    path: str
    lines: tuple[str, ...]
    statements: tuple[Statement, ...]
