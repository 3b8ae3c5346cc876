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

import z3

from checker import model as m

SIGMA = Fraction("5.670374419e-8")  # Stefan–Boltzmann constant, W m^-2 K^-4 (CODATA 2018, exact in SI 2019)


def val(x: Fraction | int) -> z3.ArithRef:
    x = Fraction(x)
    return z3.RealVal(f"{x.numerator}/{x.denominator}")


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
    variables: dict[str, z3.ArithRef] = field(default_factory=dict)  # unknown id -> var
    definitions: list[tuple[str, z3.BoolRef]] = field(default_factory=list)
    cache: dict[tuple[str, ...], z3.ArithRef] = field(default_factory=dict)
    # what each quantity was computed from: field paths, and tokens such as (workload, "exchange")
    uses: dict[tuple[str, ...], frozenset[tuple[str, ...]]] = field(default_factory=dict)
    _frames: list[set[tuple[str, ...]]] = field(default_factory=list)

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
            return val(p.value)
        return self.variables[p.value.id]

    def ranges(self) -> list[tuple[m.Unknown, z3.BoolRef]]:
        out = []
        for unknown in self.model.unknowns:
            v = self.variables[unknown.id]
            out.append((unknown, z3.And(v >= val(unknown.low), v <= val(unknown.high))))
        return out

    # ---- claims -----------------------------------------------------------------------

    def expr(self, e: m.Expr, divisors: list[z3.ArithRef]) -> z3.ArithRef:
        if isinstance(e, m.Lit):
            return val(e.value)
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
        if isinstance(block, m.Radiator):
            return self._radiator(block, rest)
        if isinstance(block, m.Gpu):
            return self._gpu(block, rest)
        if isinstance(block, m.Cluster):
            return self._cluster(block, rest)
        if isinstance(block, m.Workload):
            return self._workload(block, rest)
        raise EncodingError(f"no quantity {'.'.join(path)}")

    # radiator: area · ε · σ · sides · (T⁴ − T_sink⁴) = heat
    def _radiator(self, r: m.Radiator, rest: tuple[str, ...]) -> z3.ArithRef:
        name = rest[0]
        if name in ("heat", "emissivity", "sink"):
            return self.param(getattr(r, name))
        if name == "sides":
            return val(r.sides)
        if name == "area" and r.area is not None:
            return self.param(r.area)
        if name == "temperature" and r.temperature is not None:
            return self.param(r.temperature)
        heat, eps, sink = self.param(r.heat), self.param(r.emissivity), self.param(r.sink)
        per_area = eps * val(SIGMA) * val(r.sides)
        if name == "area":
            t = self.param(r.temperature)
            return heat / (per_area * (t**4 - sink**4))
        if name == "temperature":
            t = z3.Real(f"aux:{r.name}.temperature")
            fourth = sink**4 + heat / (per_area * self.param(r.area))
            # total: a root exists whenever the right side is positive; otherwise T is pinned to 0
            self.definitions.append((f"{r.name}.temperature", z3.And(t >= 0, z3.If(fourth > 0, t**4 == fourth, t == 0))))
            return t
        if name == "flux":
            return heat / self.quantity((r.name, "area"))
        raise EncodingError(f"radiator has no quantity {name}")

    def _gpu(self, g: m.Gpu, rest: tuple[str, ...]) -> z3.ArithRef:
        value = getattr(g, rest[0])
        if isinstance(value, m.Param):
            return self.param(value)
        raise EncodingError(f"gpu has no quantity {rest[0]}")

    def _cluster(self, c: m.Cluster, rest: tuple[str, ...]) -> z3.ArithRef:
        if rest == ("gpus",):
            return val(c.gpus)
        if rest == ("peak",):
            return z3.Sum([val(p.count) * self.param(p.gpu.peak) for p in c.pools])
        if rest == ("power", "draw"):
            power = c.power
            if power is None:
                raise EncodingError("draw of a cluster without power")
            it = z3.Sum([val(p.count) * self.param(p.gpu.tdp) for p in c.pools])
            return it * (1 + self.param(power.overhead)) * self.param(power.pue)
        section = getattr(c, rest[0], None)
        if len(rest) == 2 and isinstance(section, (m.Network, m.Power)):
            return self.param(getattr(section, rest[1]))
        raise EncodingError(f"cluster has no quantity {'.'.join(rest)}")

    # ---- workloads ---------------------------------------------------------------------

    def _workload(self, w: m.Workload, rest: tuple[str, ...]) -> z3.ArithRef:
        q = lambda *p: self.quantity((w.name,) + p)  # noqa: E731
        name = rest[0]
        pools = w.cluster.pools
        if len(rest) == 2 and name == "jitter":
            return self.param(w.jitter[self._pool_index(w, rest[1])])
        if len(rest) == 1 and name in ("params", "batch", "efficiency", "overlap", "grad_bytes", "state_bytes"):
            return self.param(getattr(w, name))
        if name == "flops_per_token":
            if w.flops_per_token is not None:
                return self.param(w.flops_per_token)
            return val(6 if w.kind == "training" else 2) * self.param(w.params)
        if name == "memory_per_gpu":
            return self.param(w.state_bytes) * self.param(w.params) / val(w.shards)
        if name in ("swing", "ramp", "floor_cost") and w.kind == "inference":
            return val(0)  # no synchronous phases: nothing swings
        if name == "swing":
            return z3.Sum([val(p.count) * (self.param(p.gpu.tdp) - self._low(p.gpu)) for p in pools])
        if name == "floor_cost":
            return z3.Sum([val(p.count) * (self._low(p.gpu) - self.param(p.gpu.idle)) for p in pools])
        if name == "ramp":
            transition = self._power(w).transition
            terms = []
            for p in pools:
                natural = (self.param(p.gpu.tdp) - self._low(p.gpu)) / self.param(transition)
                terms.append(val(p.count) * (natural if p.gpu.ramp is None else _min([self.param(p.gpu.ramp), natural])))
            return z3.Sum(terms)
        if w.kind == "inference" and name == "throughput":
            capacity = z3.Sum([val(p.count) * self.param(p.gpu.peak) for p in pools])
            return capacity * self.param(w.efficiency) / q("flops_per_token")
        if w.kind != "training":
            raise EncodingError(f"inference workload has no quantity {name}")
        if name == "flops":
            return q("flops_per_token") * self.param(w.batch)
        if name == "pool_time":
            index = self._pool_index(w, rest[1])
            pool = pools[index]
            peak = self.param(pool.gpu.peak)
            if w.balance == "uniform":
                work = q("flops") / val(w.cluster.gpus)
            else:
                work = q("flops") * peak / self.quantity((w.cluster.name, "peak"))
            return work / (peak * self.param(w.efficiency)) * (1 + self.param(w.jitter[index]))
        if name == "compute_time":
            return _max([q("pool_time", p.name) for p in pools])
        if name == "comm_time":
            return self._collective(w)
        if name == "step_time":
            return q("compute_time") + (1 - self.param(w.overlap)) * q("comm_time")
        if name == "mfu":
            return q("flops") / (q("step_time") * self.quantity((w.cluster.name, "peak")))
        if name == "throughput":
            return self.param(w.batch) / q("step_time")
        if name == "wait":
            return 1 - q("pool_time", rest[1]) / q("step_time")
        if name == "average_power":
            step = q("step_time")
            terms = []
            for p in pools:
                t = q("pool_time", p.name)
                terms.append(val(p.count) * (self.param(p.gpu.tdp) * t + self._low(p.gpu) * (step - t)))
            return z3.Sum(terms) / step
        if name == "energy_per_step":
            return q("average_power") * q("step_time")
        if name == "energy_per_token":
            return q("energy_per_step") / self.param(w.batch)
        raise EncodingError(f"workload has no quantity {'.'.join(rest)}")

    def _pool_index(self, w: m.Workload, pool: str) -> int:
        for index, p in enumerate(w.cluster.pools):
            if p.name == pool:
                return index
        raise EncodingError(f"no pool {pool}")

    def _power(self, w: m.Workload) -> m.Power:
        if w.cluster.power is None:
            raise EncodingError("a cluster without its power section")
        return w.cluster.power

    def _low(self, g: m.Gpu) -> z3.ArithRef:
        """The power a GPU drops to while it waits: max(idle, floor)."""
        floor = self.param(g.floor) * self.param(g.tdp) if g.floor_relative else self.param(g.floor)
        return _max([self.param(g.idle), floor])

    def _collective(self, w: m.Workload) -> z3.ArithRef:
        net = w.cluster.network
        if net is None:
            raise EncodingError("training without a network")
        self.record((w.name, "exchange"))  # defined only when the GPUs divide into whole groups
        n = Fraction(w.cluster.gpus, w.shards)  # GPUs per data-parallel group
        size = self.param(w.grad_bytes) * self.param(w.params) / val(w.shards)
        alpha, bandwidth = self.param(net.latency), self.param(net.bandwidth)
        if n <= 1:
            return val(0)  # a group of one exchanges nothing
        if net.topology == "ring":
            return 2 * val(n - 1) * alpha + 2 * val((n - 1) / n) * size / bandwidth
        if net.topology == "tree":
            depth = ceil_log2(-(-n.numerator // n.denominator))
            return 2 * val(depth) * alpha + 2 * size / bandwidth
        if net.topology == "hierarchical":
            g = Fraction(net.domain or 1)
            domains = n / g
            inner = val(g - 1) * self.param(net.domain_latency) + val((g - 1) / g) * size / self.param(net.domain_bandwidth)
            outer = 2 * val(domains - 1) * alpha + 2 * val((domains - 1) / domains) * (size / val(g)) / bandwidth
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


def encode(model: m.Model) -> Encoding:
    enc = Encoding(model)
    for unknown in model.unknowns:
        enc.variables[unknown.id] = z3.Real(unknown.id)
    return enc
