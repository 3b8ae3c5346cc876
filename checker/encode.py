"""Model to Z3 terms: the pinned formulas of spec/semantics.md, and nothing else.

Pure: no solver and no I/O. Every spec number enters Z3 as an exact rational (``RealVal`` of
'p/q'); every range is one real unknown. Derived quantities are Z3 expressions over the unknowns
(division is Z3's total division); the only auxiliary variables are implicit roots (a radiator's
derived temperature), each defined by a total definition so it never removes a point from the
ranges. A quantity the encoder does not know raises: it never becomes a silent ``True``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable

import z3

from checker import model as m, registry

SIGMA = Fraction("5.670374419e-8")  # Stefan–Boltzmann constant, W m^-2 K^-4 (CODATA 2018, exact in SI 2019)


def val(x: Fraction | int, ctx: z3.Context) -> z3.ArithRef:
    """An exact rational in the session's context: 'p/q' reaches Z3 digit for digit."""
    x = Fraction(x)
    return z3.RealVal(f"{x.numerator}/{x.denominator}", ctx)


def _max(terms: list[z3.ArithRef]) -> z3.ArithRef:
    best = terms[0]
    for t in terms[1:]:
        best = z3.If(t > best, t, best)
    return best


def _min(terms: list[z3.ArithRef]) -> z3.ArithRef:
    best = terms[0]
    for t in terms[1:]:
        best = z3.If(t < best, t, best)
    return best


def ceil_log2(n: int) -> int:
    """⌈log₂ n⌉ for a whole n ≥ 1, in integers."""
    return (n - 1).bit_length() if n >= 1 else 0


class EncodingError(Exception):
    """A construct the encoder does not handle: an internal error, never a silent pass."""


@dataclass
class Encoding:
    """The unknowns, the definitions of auxiliary variables, and the terms of every quantity."""

    model: m.Model
    ctx: z3.Context  # the solving session's own context: no state shared with other files
    variables: dict[str, z3.ArithRef] = field(default_factory=dict)  # unknown id -> var
    definitions: list[tuple[str, z3.BoolRef]] = field(default_factory=list)
    cache: dict[tuple[str, ...], z3.ArithRef] = field(default_factory=dict)
    # what each quantity was computed from: field paths, and tokens such as (workload, "exchange")
    uses: dict[tuple[str, ...], frozenset[tuple[str, ...]]] = field(default_factory=dict)
    _frames: list[set[tuple[str, ...]]] = field(default_factory=list)
    memo: dict[tuple[str, ...], object] = field(default_factory=dict)  # rule modules' per-model constants

    def val(self, x: Fraction | int) -> z3.ArithRef:
        return val(x, self.ctx)

    # ---- dependencies -------------------------------------------------------------------

    def record(self, token: tuple[str, ...]) -> None:
        """Record that the quantity being encoded rests on a field or an intermediate."""
        if self._frames and token:
            self._frames[-1].add(token)

    def depends(self, claim: m.Claim) -> frozenset[tuple[str, ...]]:
        """Every field path and token the claim's quantities are computed from."""
        self._frames.append(set())
        try:
            for c in claim.conditions:
                self.comparison(c, [])
        finally:
            found = self._frames.pop()
        return frozenset(found)

    # ---- inputs ---------------------------------------------------------------------

    def param(self, p: m.Param | None) -> z3.ArithRef:
        if p is None:
            raise EncodingError("a missing parameter reached the encoder")
        self.record(p.path)
        if isinstance(p.value, Fraction):
            return self.val(p.value)
        return self.variables[p.value.id]

    def ranges(self) -> list[tuple[m.Unknown, z3.BoolRef]]:
        out = []
        for unknown in self.model.unknowns:
            v = self.variables[unknown.id]
            out.append((unknown, z3.And(v >= self.val(unknown.low), v <= self.val(unknown.high))))
        return out

    # ---- claims -----------------------------------------------------------------------

    def expr(self, e: m.Expr, divisors: list[z3.ArithRef]) -> z3.ArithRef:
        if isinstance(e, m.Lit):
            return self.val(e.value)
        if isinstance(e, m.QRef):
            return self.quantity(e.path)
        if isinstance(e, m.Neg):
            return -self.expr(e.operand, divisors)
        if isinstance(e, m.Op):
            left, right = self.expr(e.left, divisors), self.expr(e.right, divisors)
            if e.op == "+":
                return left + right
            if e.op == "-":
                return left - right
            if e.op == "*":
                return left * right
            if e.op == "/":
                divisors.append(right)
                return left / right
        if isinstance(e, m.Fn):
            args = [self.expr(a, divisors) for a in e.args]
            return _max(args) if e.name == "max" else _min(args)
        raise EncodingError(f"cannot encode {type(e).__name__}")

    def comparison(self, c: m.Comparison, divisors: list[z3.ArithRef]) -> tuple[z3.BoolRef, z3.ArithRef, z3.ArithRef]:
        left, right = self.expr(c.left, divisors), self.expr(c.right, divisors)
        ops = {"<=": left <= right, "<": left < right, ">=": left >= right, ">": left > right, "==": left == right}
        return ops[c.op], left, right

    # ---- quantities ---------------------------------------------------------------------

    def quantity(self, path: tuple[str, ...]) -> z3.ArithRef:
        if path not in self.cache:
            self._frames.append(set())
            try:
                self.cache[path] = self._quantity(path)
            finally:
                self.uses[path] = frozenset(self._frames.pop())
        if self._frames:
            self._frames[-1].update(self.uses[path])
        return self.cache[path]

    def _quantity(self, path: tuple[str, ...]) -> z3.ArithRef:
        block = self.model.block(path[0])
        rest = path[1:]
        given = self._field(block, rest)
        if given is not None:
            return given
        family = registry.family_of(block)
        entry = registry.find(family, rest)
        rule = SYMBOLIC.get((family, entry.path)) if entry is not None else None
        if entry is None or rule is None:
            raise EncodingError(f"no symbolic rule for {family} quantity {'.'.join(rest)}")
        return rule(self, block, rest[-1] if entry.per_pool else None)

    def _field(self, block: m.Block, rest: tuple[str, ...]) -> z3.ArithRef | None:
        """A field the spec gives (or defaults): its value, or its unknown. None otherwise."""
        kind, holder, name = registry.field_holder(block, rest)
        if holder is None:
            return None
        if kind == "workload" and name == "jitter":
            return self.param(block.jitter[_pool_index(block, rest[1])])
        value = getattr(holder, name)
        if isinstance(value, m.Param):
            return self.param(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return self.val(value)
        return None

    # helpers the rules share

    def low(self, g: m.Gpu) -> z3.ArithRef:
        """The power a GPU drops to while it waits: max(idle, floor), the floor in W or % of tdp."""
        floor = self.param(g.floor) * self.param(g.tdp) if g.floor_relative else self.param(g.floor)
        return _max([self.param(g.idle), floor])


SYMBOLIC: dict[tuple[str, tuple[str, ...]], Callable[[Encoding, m.Block, str | None], z3.ArithRef]] = {}


def symbolic(family: str, name: str):
    """Register the closed form of a registry quantity (checker/registry.py names them all)."""

    def register(rule):
        SYMBOLIC[(family, tuple(name.split(".")))] = rule
        return rule

    return register


def _pool_index(w: m.Workload, pool: str) -> int:
    for index, p in enumerate(w.cluster.pools):
        if p.name == pool:
            return index
    raise EncodingError(f"no pool {pool}")


# ---- radiator: area · ε · σ · sides · (T⁴ − T_sink⁴) = heat ---------------------------------


def _per_area(e: Encoding, r: m.Radiator) -> z3.ArithRef:
    return e.param(r.emissivity) * e.val(SIGMA) * e.val(r.sides)


@symbolic("radiator", "area")
def _area(e: Encoding, r: m.Radiator, _pool) -> z3.ArithRef:
    t, sink = e.param(r.temperature), e.param(r.sink)
    return e.param(r.heat) / (_per_area(e, r) * (t**4 - sink**4))


@symbolic("radiator", "temperature")
def _temperature(e: Encoding, r: m.Radiator, _pool) -> z3.ArithRef:
    t = z3.Real(f"aux:{r.name}.temperature", e.ctx)
    fourth = e.param(r.sink) ** 4 + e.param(r.heat) / (_per_area(e, r) * e.param(r.area))
    # total: a root exists whenever the right side is positive; otherwise T is pinned to 0
    e.definitions.append((f"{r.name}.temperature", z3.And(t >= 0, z3.If(fourth > 0, t**4 == fourth, t == 0))))
    return t


@symbolic("radiator", "flux")
def _flux(e: Encoding, r: m.Radiator, _pool) -> z3.ArithRef:
    return e.param(r.heat) / e.quantity((r.name, "area"))


# ---- cluster --------------------------------------------------------------------------------


@symbolic("cluster", "gpus")
def _gpus(e: Encoding, c: m.Cluster, _pool) -> z3.ArithRef:
    return e.val(c.gpus)


@symbolic("cluster", "peak")
def _peak(e: Encoding, c: m.Cluster, _pool) -> z3.ArithRef:
    return z3.Sum([e.val(p.count) * e.param(p.gpu.peak) for p in c.pools])


@symbolic("cluster", "power.draw")
def _draw(e: Encoding, c: m.Cluster, _pool) -> z3.ArithRef:
    it = z3.Sum([e.val(p.count) * e.param(p.gpu.tdp) for p in c.pools])
    return it * (1 + e.param(c.power.overhead)) * e.param(c.power.pue)


# ---- workloads, both kinds ------------------------------------------------------------------


def _both(name: str):
    def register(rule):
        for family in registry.WORKLOADS:
            symbolic(family, name)(rule)
        return rule

    return register


@_both("flops_per_token")
def _flops_per_token(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return e.val(6 if w.kind == "training" else 2) * e.param(w.params)


@_both("state_bytes")
def _state_bytes(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return e.val(16 if w.kind == "training" else 2)


@_both("memory_per_gpu")
def _memory_per_gpu(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return e.quantity((w.name, "state_bytes")) * e.param(w.params) / e.val(w.shards)


@symbolic("inference", "swing")
@symbolic("inference", "ramp")
@symbolic("inference", "floor_cost")
def _nothing_swings(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return e.val(0)  # no synchronous phases: nothing swings


@symbolic("inference", "throughput")
def _serving(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    capacity = z3.Sum([e.val(p.count) * e.param(p.gpu.peak) for p in w.cluster.pools])
    return capacity * e.param(w.efficiency) / e.quantity((w.name, "flops_per_token"))


# ---- training -------------------------------------------------------------------------------


@symbolic("training", "swing")
@symbolic("transformer", "swing")
def _swing(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return z3.Sum([e.val(p.count) * (e.param(p.gpu.tdp) - e.low(p.gpu)) for p in w.cluster.pools])


@symbolic("training", "floor_cost")
@symbolic("transformer", "floor_cost")
def _floor_cost(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return z3.Sum([e.val(p.count) * (e.low(p.gpu) - e.param(p.gpu.idle)) for p in w.cluster.pools])


@symbolic("training", "ramp")
@symbolic("transformer", "ramp")
def _ramp(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    transition = e.param(w.cluster.power.transition)
    terms = []
    for p in w.cluster.pools:
        natural = (e.param(p.gpu.tdp) - e.low(p.gpu)) / transition
        terms.append(e.val(p.count) * (natural if p.gpu.ramp is None else _min([e.param(p.gpu.ramp), natural])))
    return z3.Sum(terms)


def _flops(e: Encoding, w: m.Workload) -> z3.ArithRef:
    return e.quantity((w.name, "flops_per_token")) * e.param(w.batch)


@symbolic("training", "pool_time")
def _pool_time(e: Encoding, w: m.Workload, pool: str | None) -> z3.ArithRef:
    index = _pool_index(w, pool or "")
    p = w.cluster.pools[index]
    peak = e.param(p.gpu.peak)
    if w.balance == "uniform":
        work = _flops(e, w) / e.val(w.cluster.gpus)
    else:
        work = _flops(e, w) * peak / e.quantity((w.cluster.name, "peak"))
    return work / (peak * e.param(w.efficiency)) * (1 + e.param(w.jitter[index]))


@symbolic("training", "compute_time")
def _compute_time(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return _max([e.quantity((w.name, "pool_time", p.name)) for p in w.cluster.pools])


@symbolic("training", "comm_time")
def _comm_time(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return _collective(e, w)


@symbolic("training", "step_time")
def _step_time(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return e.quantity((w.name, "compute_time")) + (1 - e.param(w.overlap)) * e.quantity((w.name, "comm_time"))


@symbolic("training", "mfu")
def _mfu(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return _flops(e, w) / (e.quantity((w.name, "step_time")) * e.quantity((w.cluster.name, "peak")))


@symbolic("training", "throughput")
def _throughput(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return e.param(w.batch) / e.quantity((w.name, "step_time"))


@symbolic("training", "wait")
def _wait(e: Encoding, w: m.Workload, pool: str | None) -> z3.ArithRef:
    return 1 - e.quantity((w.name, "pool_time", pool or "")) / e.quantity((w.name, "step_time"))


@symbolic("training", "average_power")
def _average_power(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    step = e.quantity((w.name, "step_time"))
    terms = []
    for p in w.cluster.pools:
        t = e.quantity((w.name, "pool_time", p.name))
        terms.append(e.val(p.count) * (e.param(p.gpu.tdp) * t + e.low(p.gpu) * (step - t)))
    return z3.Sum(terms) / step


@symbolic("training", "energy_per_step")
def _energy_per_step(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return e.quantity((w.name, "average_power")) * e.quantity((w.name, "step_time"))


@symbolic("training", "energy_per_token")
def _energy_per_token(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    return e.quantity((w.name, "energy_per_step")) / e.param(w.batch)


def _collective(e: Encoding, w: m.Workload) -> z3.ArithRef:
    """The gradient all-reduce over one data-parallel group (Thakur, Rabenseifner & Gropp)."""
    net = w.cluster.network
    if net is None:
        raise EncodingError("training without a network")
    e.record((w.name, "exchange"))  # defined only when the GPUs divide into whole groups
    n = Fraction(w.cluster.gpus, w.shards)  # GPUs per data-parallel group
    size = e.param(w.grad_bytes) * e.param(w.params) / e.val(w.shards)
    alpha, bandwidth = e.param(net.latency), e.param(net.bandwidth)
    if n <= 1:
        return e.val(0)  # a group of one exchanges nothing
    if net.topology == "ring":
        return 2 * e.val(n - 1) * alpha + 2 * e.val((n - 1) / n) * size / bandwidth
    if net.topology == "tree":
        depth = ceil_log2(-(-n.numerator // n.denominator))
        return 2 * e.val(depth) * alpha + 2 * size / bandwidth
    if net.topology == "hierarchical":
        g = Fraction(net.domain or 1)
        domains = n / g
        inner = e.val(g - 1) * e.param(net.domain_latency) + e.val((g - 1) / g) * size / e.param(net.domain_bandwidth)
        outer = 2 * e.val(domains - 1) * alpha + 2 * e.val((domains - 1) / domains) * (size / e.val(g)) / bandwidth
        return 2 * inner + outer
    raise EncodingError(f"unknown topology {net.topology}")


def _nodes(terms, definitions: list[tuple[str, z3.BoolRef]]):
    """Every subterm of the terms, once each, following auxiliary variables into their
    definitions; yields (node, is_unknown) where is_unknown marks a leaf that is an unknown."""
    defined = {f"aux:{name}": fact for name, fact in definitions}
    stack = list(terms)
    seen: set[int] = set()
    while stack:
        e = stack.pop()
        if e.get_id() in seen:
            continue
        seen.add(e.get_id())
        leaf = z3.is_const(e) and e.decl().kind() == z3.Z3_OP_UNINTERPRETED
        if leaf and e.decl().name() in defined:
            stack.append(defined.pop(e.decl().name()))
            leaf = False
        yield e, leaf
        stack.extend(e.children())


def variables_of(terms, definitions: list[tuple[str, z3.BoolRef]]) -> set[str]:
    """The names of the unknowns a set of terms depends on, through auxiliary definitions too."""
    return {e.decl().name() for e, leaf in _nodes(terms, definitions) if leaf}


def denominators(terms, definitions: list[tuple[str, z3.BoolRef]]) -> list[z3.ArithRef]:
    """Every non-constant divisor in the terms (through auxiliary definitions too). Z3's division
    is total, so where one of these is zero a quantity has an arbitrary value: callers treat such
    points as failures (claims), exclude them (assumptions, worst-case searches)."""
    found = {e.arg(1).get_id(): e.arg(1) for e, _ in _nodes(terms, definitions) if z3.is_app_of(e, z3.Z3_OP_DIV) and not z3.is_rational_value(e.arg(1))}
    return [found[k] for k in sorted(found)]


def encode(model: m.Model, ctx: z3.Context) -> Encoding:
    enc = Encoding(model, ctx)
    for unknown in model.unknowns:
        enc.variables[unknown.id] = z3.Real(unknown.id, ctx)
    return enc


@symbolic("model", "parameters")
def _parameters(e: Encoding, shape: m.Transformer, _pool) -> z3.ArithRef:
    return e.val(shape.parameters)


@symbolic("model", "active_parameters")
def _active_parameters(e: Encoding, shape: m.Transformer, _pool) -> z3.ArithRef:
    return e.val(shape.active_parameters)


from checker import encode_transformer  # noqa: E402,F401  (registers the transformer family's rules)
from checker import encode_money  # noqa: E402,F401  (registers the money rules of serving)
from checker import encode_serving  # noqa: E402,F401  (registers the serving family's rules)
