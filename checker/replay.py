"""Replay: counterexamples and worst cases run through the simulation core.

The simulation core (checker.sim) is a second, independent implementation of the semantics:
it steps through collectives hop by hop, runs GPUs to a barrier, merges power traces and
bisects for radiator temperatures. This module only feeds it the model's values at a point
and compares what it computes with what Z3 reported. A disagreement is never dropped: it
makes the file's result inconsistent (exit 4) and the report names both values.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from checker import model as m
from checker import sim
from checker.solve import Point, Verdict

AGREE = Fraction(1, 10**9)  # relative, where either side is approximate (an irrational root); else exact
TICKS = 64  # ticks per transition when the power controller is simulated
MAX_RING = 1_000_000  # GPUs in a ring the simulation steps through hop by hop (a larger one is not replayed)


@dataclass(frozen=True, slots=True)
class Replay:
    # confirmed; indeterminate (too close to call at the simulation's precision); disagrees;
    # skipped (beyond what the core steps through, e.g. a ring longer than MAX_RING: said in the
    # summary); failed (the core refused a point of a well-formed model: an internal error, exit 4)
    status: str
    left: Fraction | None = None
    right: Fraction | None = None
    expected: Fraction | None = None  # what Z3 said the left side is
    detail: str = ""
    worst: Fraction | None = None  # a violated check's worst case, reproduced by the simulation


class Unsupported(Exception):
    """The point cannot be simulated (e.g. a group that is not a whole number of GPUs)."""


class Simulation:
    """The model's quantities at one point, computed by the simulation core."""

    def __init__(self, model: m.Model, point: Point) -> None:
        self.model = model
        self.values = dict(point.values)
        self.cache: dict[tuple[str, ...], Fraction] = {}
        self.approximate = False  # set when a value comes from a bisection (a radiator's temperature)

    def v(self, p: m.Param | None) -> Fraction:
        if p is None:
            raise Unsupported("a missing parameter")
        return p.value if isinstance(p.value, Fraction) else self.values[p.value.id]

    def quantity(self, path: tuple[str, ...]) -> Fraction:
        if path not in self.cache:
            self.cache[path] = self._quantity(path)
        return self.cache[path]

    def _quantity(self, path: tuple[str, ...]) -> Fraction:
        block = self.model.block(path[0])
        rest = path[1:]
        if isinstance(block, m.Radiator):
            return self._radiator(block, rest[0])
        if isinstance(block, m.Gpu):
            return self.v(getattr(block, rest[0]))
        if isinstance(block, m.Cluster):
            return self._cluster(block, rest)
        if isinstance(block, m.Workload):
            return self._workload(block, rest)
        raise Unsupported(".".join(path))

    def _radiator(self, r: m.Radiator, name: str) -> Fraction:
        if name in ("heat", "emissivity", "sink"):
            return self.v(getattr(r, name))
        if name == "sides":
            return Fraction(r.sides)
        heat, eps, sink = self.v(r.heat), self.v(r.emissivity), self.v(r.sink)
        if name == "area":
            if r.area is not None:
                return self.v(r.area)
            return sim.area_for(heat, eps, self.v(r.temperature), sink, r.sides)
        if name == "temperature":
            if r.temperature is not None:
                return self.v(r.temperature)
            self.approximate = True
            return sim.temperature_for(heat, eps, self.v(r.area), sink, r.sides)
        if name == "flux":
            return heat / self.quantity((r.name, "area"))
        raise Unsupported(name)

    def _cluster(self, c: m.Cluster, rest: tuple[str, ...]) -> Fraction:
        if rest == ("gpus",):
            return Fraction(sum(p.count for p in c.pools))
        if rest == ("peak",):
            return sum((p.count * self.v(p.gpu.peak) for p in c.pools), Fraction(0))
        if rest == ("power", "draw"):
            # every GPU at full power, plus its share of host overhead, times the facility's PUE
            it = sum((p.count * self.v(p.gpu.tdp) for p in c.pools), Fraction(0))
            return it * (1 + self.v(c.power.overhead)) * self.v(c.power.pue)
        section = getattr(c, rest[0])
        return self.v(getattr(section, rest[1]))

    def cohorts(self, w: m.Workload) -> tuple[sim.Cohort, ...]:
        return tuple(sim.Cohort(p.name, p.count, self.v(p.gpu.peak), self.v(w.jitter[i])) for i, p in enumerate(w.cluster.pools))

    def low(self, g: m.Gpu) -> Fraction:
        floor = self.v(g.floor) * self.v(g.tdp) if g.floor_relative else self.v(g.floor)
        return max(self.v(g.idle), floor)

    def fpt(self, w: m.Workload) -> Fraction:
        if w.flops_per_token is not None:
            return self.v(w.flops_per_token)
        return (6 if w.kind == "training" else 2) * self.v(w.params)

    def step(self, w: m.Workload) -> sim.Step:
        flops = self.fpt(w) * self.v(w.batch)
        return sim.training_step(self.cohorts(w), flops, self.v(w.efficiency), w.balance, self.comm(w), self.v(w.overlap))

    def comm(self, w: m.Workload) -> Fraction:
        net = w.cluster.network
        if net is None:
            raise Unsupported("no network")
        total = w.cluster.gpus
        if total % w.shards:
            raise Unsupported(f"{total} GPUs do not divide into {w.shards} shards")
        n = total // w.shards
        size = self.v(w.grad_bytes) * self.v(w.params) / w.shards
        if n == 1:
            return Fraction(0)
        ring = {"ring": n, "tree": 0}.get(net.topology, max(net.domain or 1, n // (net.domain or 1)))  # hierarchical: the longer ring
        if ring > MAX_RING:
            raise Unsupported(f"a ring of {ring} GPUs is longer than the simulation steps through hop by hop (at most {MAX_RING})")
        if net.topology == "ring":
            return sim.ring_allreduce(n, size, self.v(net.latency), self.v(net.bandwidth)).time
        if net.topology == "tree":
            return sim.tree_allreduce(n, size, self.v(net.latency), self.v(net.bandwidth)).time
        domain = net.domain or 1
        if n % domain:
            raise Unsupported(f"a group of {n} GPUs does not divide into domains of {domain}")
        return sim.hierarchical_allreduce(n, domain, size, self.v(net.domain_latency), self.v(net.domain_bandwidth), self.v(net.latency), self.v(net.bandwidth)).time

    def _workload(self, w: m.Workload, rest: tuple[str, ...]) -> Fraction:
        name = rest[0]
        pools = w.cluster.pools
        if name == "jitter":
            return self.v(w.jitter[[p.name for p in pools].index(rest[1])])
        if name in ("params", "batch", "efficiency", "overlap", "grad_bytes", "state_bytes"):
            return self.v(getattr(w, name))
        if name == "flops_per_token":
            return self.fpt(w)
        if name == "memory_per_gpu":
            return self.v(w.state_bytes) * self.v(w.params) / w.shards
        if w.kind == "inference":
            if name in ("swing", "ramp", "floor_cost"):
                return Fraction(0)
            if name == "throughput":
                return sim.serving_throughput(self.cohorts(w), self.v(w.efficiency), self.fpt(w))
            raise Unsupported(name)
        transition = self.v(w.cluster.power.transition)
        if name == "swing":
            return sum((p.count * sim.gpu_swing(self.v(p.gpu.tdp), self.v(p.gpu.idle), self.low(p.gpu)) for p in pools), Fraction(0))
        if name == "ramp":
            total = Fraction(0)
            for p in pools:
                ramp = None if p.gpu.ramp is None else self.v(p.gpu.ramp)
                total += p.count * sim.gpu_max_slew(self.v(p.gpu.tdp), self.v(p.gpu.idle), self.low(p.gpu), ramp, transition, TICKS)
            return total
        if name == "floor_cost":
            return sum((p.count * (self.low(p.gpu) - self.v(p.gpu.idle)) for p in pools), Fraction(0))
        step = self.step(w)
        if name == "pool_time":
            return step.finish[[p.name for p in pools].index(rest[1])]
        if name == "compute_time":
            return step.compute_time
        if name == "comm_time":
            return step.comm_time
        if name == "step_time":
            return step.step_time
        if name == "mfu":
            flops = self.fpt(w) * self.v(w.batch)
            return flops / (step.step_time * self.quantity((w.cluster.name, "peak")))
        if name == "throughput":
            return self.v(w.batch) / step.step_time
        if name == "wait":
            return 1 - self.quantity((w.name, "pool_time", rest[1])) / step.step_time
        if name in ("average_power", "energy_per_step", "energy_per_token"):
            segments = sim.site_step_segments(
                tuple((p.count, step.finish[i], self.v(p.gpu.tdp), self.low(p.gpu)) for i, p in enumerate(pools)), step.step_time
            )
            if name == "average_power":
                return sim.average_power(segments)
            energy = sim.energy(segments)
            return energy if name == "energy_per_step" else energy / self.v(w.batch)
        raise Unsupported(name)

    # ---- claims -----------------------------------------------------------------------

    def expr(self, e: m.Expr) -> Fraction:
        if isinstance(e, m.Lit):
            return e.value
        if isinstance(e, m.QRef):
            return self.quantity(e.path)
        if isinstance(e, m.Neg):
            return -self.expr(e.operand)
        if isinstance(e, m.Fn):
            values = [self.expr(a) for a in e.args]
            return max(values) if e.name == "max" else min(values)
        if isinstance(e, m.Op):
            left, right = self.expr(e.left), self.expr(e.right)
            if e.op == "/":
                if right == 0:
                    raise Unsupported("a division by zero")
                return left / right
            return {"+": left + right, "-": left - right, "*": left * right}[e.op]
        raise Unsupported(type(e).__name__)


def holds(left: Fraction, op: str, right: Fraction) -> bool:
    return {"<=": left <= right, "<": left < right, ">=": left >= right, ">": left > right, "==": left == right}[op]


def close(a: Fraction, b: Fraction, tolerance: Fraction) -> bool:
    return abs(a - b) <= tolerance * max(abs(a), abs(b), Fraction(1, 10**30))


def replay_verdict(model: m.Model, verdict: Verdict) -> Replay | None:
    """Run a counterexample, and the worst case, through the simulation core."""
    try:
        return _replay(model, verdict)
    except Unsupported as exc:
        return Replay("skipped", detail=str(exc))
    except (ValueError, ArithmeticError):
        # The core checks its own preconditions (an emissivity within (0, 1], a jitter >= 0...).
        # Checks on a model that breaks them are not established and never reach here, so a
        # refusal now means the two semantics disagree on what the model is: an internal error.
        return Replay("failed", detail="the simulation core refused this point of a well-formed model")


def _agree(simulated: Fraction, solver: Fraction, exact: bool) -> bool:
    return simulated == solver if exact else close(simulated, solver, AGREE)


def _worst(model: m.Model, verdict: Verdict) -> tuple[Fraction, bool] | None:
    """The left side at the worst-case point, by simulation, and whether it agrees."""
    worst = verdict.worst
    if worst is None:
        return None
    simulation = Simulation(model, worst.point)
    left = simulation.expr(verdict.claim.conditions[0].left)
    exact = not worst.point.approximate and not simulation.approximate
    return left, _agree(left, worst.value, exact)


def _replay(model: m.Model, verdict: Verdict) -> Replay | None:
    if verdict.status == "violated" and verdict.point is not None and verdict.left is not None and verdict.right is not None:
        comparison = verdict.claim.conditions[verdict.failing]
        simulation = Simulation(model, verdict.point)
        left, right = simulation.expr(comparison.left), simulation.expr(comparison.right)
        exact = not verdict.point.approximate and not simulation.approximate
        agree = _agree(left, verdict.left, exact) and _agree(right, verdict.right, exact)
        fails = not holds(left, comparison.op, right) or verdict.zero_divisor
        worst = _worst(model, verdict)
        if agree and worst is not None and not worst[1]:
            return Replay("disagrees", worst[0], None, verdict.worst.value if verdict.worst else None, "the worst case differs")
        worst_left = worst[0] if worst is not None else None
        if agree and fails:
            return Replay("confirmed", left, right, verdict.left, "" if exact else "to one part in 10^9", worst_left)
        if agree and not exact:
            # the values agree to the simulation's precision, which cannot tell which side of the bound
            return Replay("indeterminate", left, right, verdict.left, "the values agree to one part in 10^9, too close to the bound to decide", worst_left)
        why = "the simulation does not find the claim broken" if agree else "the values differ"
        return Replay("disagrees", left, right, verdict.left, why, worst_left)
    if verdict.status == "proved" and verdict.worst is not None:
        left, agree = _worst(model, verdict) or (None, False)
        if agree:
            return Replay("confirmed", left, None, verdict.worst.value)
        return Replay("disagrees", left, None, verdict.worst.value, "the worst case differs")
    return None
