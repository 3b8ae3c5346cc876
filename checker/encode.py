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


# ---- radiator: area · (fin · ε · σ · sides · (T⁴ − T_sink⁴) − absorbed) = heat ----------------

SOLAR = Fraction(1361)  # W/m², total solar irradiance at 1 AU (Kopp & Lean 2011)
ALBEDO = Fraction(3, 10)  # Earth's mean albedo (Gilmore, Spacecraft Thermal Control Handbook)
EARTH_IR = Fraction(237)  # W/m², Earth's mean outgoing infrared (same source)


def _or(e: Encoding, p: m.Param | None, default: Fraction) -> z3.ArithRef:
    """A field the spec may leave out: its value, or its default as a constant."""
    return e.val(default) if p is None else e.param(p)


def _per_area(e: Encoding, r: m.Radiator) -> z3.ArithRef:
    """fin · ε · σ · sides: emitted power per m² and per K⁴ (no fin factor when none is given)."""
    base = e.param(r.emissivity) * e.val(SIGMA) * e.val(r.sides)
    return base if r.fin is None else e.param(r.fin) * base


def _in_space(r: m.Radiator) -> bool:
    """Deep space: no environment field given, so nothing is absorbed (and no term is added)."""
    return all(getattr(r, n) is None for n in registry.RADIATOR_ENVIRONMENT if n != "fin")


def _absorbed(e: Encoding, r: m.Radiator) -> z3.ArithRef:
    """α · S · sunlit · (sun_view + albedo · earth_view) + ε · earth_ir · earth_view."""
    if _in_space(r):
        return e.val(0)
    alpha, solar = _or(e, r.absorptance, Fraction(0)), _or(e, r.solar, SOLAR)
    lit, view = _or(e, r.sunlit, Fraction(1)), _or(e, r.earth_view, Fraction(0))
    sunlight = alpha * solar * lit * (_or(e, r.sun_view, Fraction(0)) + _or(e, r.albedo, ALBEDO) * view)
    return sunlight + e.param(r.emissivity) * _or(e, r.earth_ir, EARTH_IR) * view


@symbolic("radiator", "area")
def _area(e: Encoding, r: m.Radiator, _pool) -> z3.ArithRef:
    t, sink = e.param(r.temperature), e.param(r.sink)
    emitted = _per_area(e, r) * (t**4 - sink**4)
    return e.param(r.heat) / (emitted if _in_space(r) else emitted - _absorbed(e, r))


@symbolic("radiator", "temperature")
def _temperature(e: Encoding, r: m.Radiator, _pool) -> z3.ArithRef:
    t = z3.Real(f"aux:{r.name}.temperature", e.ctx)
    load = e.param(r.heat) / e.param(r.area)
    load = load if _in_space(r) else load + _absorbed(e, r)
    fourth = e.param(r.sink) ** 4 + load / _per_area(e, r)
    # total: a root exists whenever the right side is positive; otherwise T is pinned to 0
    e.definitions.append((f"{r.name}.temperature", z3.And(t >= 0, z3.If(fourth > 0, t**4 == fourth, t == 0))))
    return t


@symbolic("radiator", "flux")
def _flux(e: Encoding, r: m.Radiator, _pool) -> z3.ArithRef:
    return e.param(r.heat) / e.quantity((r.name, "area"))


@symbolic("radiator", "absorbed")
def _absorbed_rule(e: Encoding, r: m.Radiator, _pool) -> z3.ArithRef:
    return _absorbed(e, r)


@symbolic("radiator", "emitted")
def _emitted(e: Encoding, r: m.Radiator, _pool) -> z3.ArithRef:
    t = e.quantity((r.name, "temperature"))
    return _per_area(e, r) * (t**4 - e.param(r.sink) ** 4)


# ---- cluster --------------------------------------------------------------------------------


@symbolic("cluster", "gpus")
def _gpus(e: Encoding, c: m.Cluster, _pool) -> z3.ArithRef:
    return e.val(c.gpus)


@symbolic("cluster", "peak")
def _peak(e: Encoding, c: m.Cluster, _pool) -> z3.ArithRef:
    return z3.Sum([e.val(p.count) * e.param(p.gpu.peak) for p in c.pools])


def _per_gpu(c: m.Cluster, size: int | None) -> int:
    """Σ_c ⌈N_c / size⌉: racks (or nodes) never mix pools; 0 without a size."""
    return 0 if size is None else sum(-(-p.count // size) for p in c.pools)


@symbolic("cluster", "power.racks")
def _racks(e: Encoding, c: m.Cluster, _pool) -> z3.ArithRef:
    return e.val(_per_gpu(c, c.power.rack))


@symbolic("cluster", "power.nodes")
def _nodes_of(e: Encoding, c: m.Cluster, _pool) -> z3.ArithRef:
    return e.val(_per_gpu(c, c.power.node))


@symbolic("cluster", "power.it")
def _it(e: Encoding, c: m.Cluster, _pool) -> z3.ArithRef:
    """Σ N_c · tdp_c · (1 + overhead) + racks · rack_power + nodes · node_power."""
    it = z3.Sum([e.val(p.count) * e.param(p.gpu.tdp) for p in c.pools]) * (1 + e.param(c.power.overhead))
    for size, power in ((c.power.rack, c.power.rack_power), (c.power.node, c.power.node_power)):
        if size is not None:
            it = it + e.val(_per_gpu(c, size)) * e.param(power)
    return it


@symbolic("cluster", "power.draw")
def _draw(e: Encoding, c: m.Cluster, _pool) -> z3.ArithRef:
    draw = e.quantity((c.name, "power", "it")) * e.param(c.power.pue)
    return draw if c.power.cooling is None else draw + e.param(c.power.cooling)


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


def _rate(e: Encoding, w: m.Workload, g: m.Gpu, limit: m.Param | None) -> z3.ArithRef:
    """A GPU's rate in one direction: its limit, never faster than it moves unsmoothed."""
    natural = (e.param(g.tdp) - e.low(g)) / e.param(w.cluster.power.transition)
    return natural if limit is None else _min([e.param(limit), natural])


def _directed(g: m.Gpu) -> bool:
    return g.ramp_up is not None or g.ramp_down is not None or g.hysteresis is not None


@symbolic("training", "ramp")
@symbolic("transformer", "ramp")
def _ramp(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    pools = w.cluster.pools
    if not any(_directed(p.gpu) for p in pools):
        return z3.Sum([e.val(p.count) * _rate(e, w, p.gpu, p.gpu.ramp) for p in pools])
    # every GPU falls at once, or every GPU rises at once: the faster of the two sums
    down = z3.Sum([e.val(p.count) * _rate(e, w, p.gpu, p.gpu.ramp_down or p.gpu.ramp) for p in pools])
    up = z3.Sum([e.val(p.count) * _rate(e, w, p.gpu, p.gpu.ramp_up or p.gpu.ramp) for p in pools])
    return _max([down, up])


def _storage(e: Encoding, w: m.Workload) -> dict[str, z3.ArithRef]:
    """The step's worst alignment through the storage (spec/semantics.md, "Energy storage")."""
    pools, power = w.cluster.pools, w.cluster.power
    high = z3.Sum([e.val(p.count) * e.param(p.gpu.tdp) for p in pools])
    low = z3.Sum([e.val(p.count) * e.low(p.gpu) for p in pools])
    busy, step = e.quantity((w.name, "compute_time")), e.quantity((w.name, "step_time"))
    wait = step - busy
    level = (high * busy + low * wait) / step
    capacity = _or(e, power.storage, Fraction(0))
    rate = _or(e, power.storage_power, Fraction(0))
    out_rate, in_rate = _min([rate, high - level]), _min([rate, level - low])
    depth = _min([capacity, out_rate * busy])
    peak = z3.If(out_rate * busy > capacity, high, high - out_rate)
    trough = z3.If(wait > 0, z3.If(depth < in_rate * wait, low, low + in_rate), peak)
    return {  # built afresh for each quantity, so each records what it rests on
        "grid_peak": peak, "grid_trough": trough, "grid_swing": peak - trough,
        "storage_depth": depth, "storage_shortfall": _max([e.val(0), depth - in_rate * wait]),
    }


def _storage_rule(name: str):
    @symbolic("training", name)
    def rule(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
        return _storage(e, w)[name]

    return rule


for _name in ("grid_peak", "grid_trough", "grid_swing", "storage_depth", "storage_shortfall"):
    _storage_rule(_name)


@symbolic("training", "step_swing")
def _step_swing(e: Encoding, w: m.Workload, _pool) -> z3.ArithRef:
    """Σ N_c · min(tdp_c − low_c, down_c · max(0, wait_c − hysteresis_c)), wait_c = step − t_c."""
    step = e.quantity((w.name, "step_time"))
    terms = []
    for p in w.cluster.pools:
        g = p.gpu
        wait = step - e.quantity((w.name, "pool_time", p.name))
        held = wait if g.hysteresis is None else wait - e.param(g.hysteresis)
        falling = _rate(e, w, g, g.ramp_down or g.ramp) * _max([e.val(0), held])
        terms.append(e.val(p.count) * _min([e.param(g.tdp) - e.low(g), falling]))
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


def group(e: Encoding, w: m.Workload) -> tuple[Fraction, z3.ArithRef]:
    """One data-parallel group: its GPUs n and the bytes S each exchanges (a shard's gradients)."""
    if w.cluster.network is None:
        raise EncodingError("training without a network")
    e.record((w.name, "exchange"))  # defined only when the GPUs divide into whole groups
    return Fraction(w.cluster.gpus, w.shards), e.param(w.grad_bytes) * e.param(w.params) / e.val(w.shards)


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
    if net.topology == "tiers":
        return encode_network.tiered(e, net, n, size)
    if net.topology == "torus":
        return encode_network.per_slice(e, net, lambda dims: 2 * encode_network.torus_half(e, dims, size, alpha, bandwidth, net.dimensions == "at_once"))
    if net.topology == "switch":
        whole = -(-n.numerator // n.denominator)  # a whole group: the exchange token guards the rest
        return encode_network.allreduce(e, net.algorithm or "auto", whole, size, alpha, bandwidth, net.radix)
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
from checker import encode_network  # noqa: E402  (switched networks' all-reduce; the other collectives' rules)
from checker import encode_money  # noqa: E402,F401  (registers the money rules of serving)
from checker import encode_serving  # noqa: E402,F401  (registers the serving family's rules)
from checker import encode_power  # noqa: E402,F401  (job start and end, oscillation in the grid's band)
from checker import encode_eclipse  # noqa: E402,F401  (a radiator's eclipse transient)
