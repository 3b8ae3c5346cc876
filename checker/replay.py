"""Replay: counterexamples and worst cases run through the simulation core.

The simulation core (checker.sim) is a second, independent implementation of the semantics:
it steps through collectives hop by hop, runs GPUs to a barrier, merges power traces and
bisects for radiator temperatures. This module only feeds it the model's values at a point
and compares what it computes with what Z3 reported. A disagreement is never dropped: it
makes the file's result inconsistent (exit 4) and the report names both values.
"""

from __future__ import annotations

from fractions import Fraction

from checker import model as m, registry, sim
from checker.claims import Undefined, close, direction, evaluate, holds
from checker.verdicts import Point, Verdict
from checker.records import record

AGREE = Fraction(1, 1_000_000_000)  # relative, where either side is approximate (an irrational root); else exact


@record
class Replay:
    # confirmed; indeterminate (too close to call at the simulation's precision); disagrees;
    # skipped (beyond what the core steps through, e.g. a ring longer than sim.MAX_RING: said in
    # the summary); failed (the core refused a point of a well-formed model: an internal error, exit 4)
    status: str
    left: Fraction | None = None
    right: Fraction | None = None
    expected: Fraction | None = None  # what Z3 said the left side is
    detail: str = ""
    worst: Fraction | None = None  # a violated check's worst case, reproduced by the simulation
    chosen: str = ""  # at the worst case, the algorithm each `algorithm = auto` exchange ran
    slice: str = ""  # at the worst case, the shape each `slice = any` torus was (by the core)


class Simulation:
    """The model's quantities at one point, read from the simulation core's runs of its blocks.

    This class only maps: the spec's field values at the point go in (defaults the spec leaves
    out stay out: the core has its own), and a quantity comes back as the attribute its registry
    entry names. Nothing is computed here."""

    def __init__(self, model: m.Model, point: Point) -> None:
        self.model = model
        self.values = dict(point.values)
        self.runs: dict[str, object] = {}
        self.approximate = False  # set when a value comes from a bisection (a radiator's temperature)

    def v(self, p: m.Param | None) -> Fraction | None:
        if p is None:
            return None
        return p.value if isinstance(p.value, Fraction) else self.values[p.value.id]

    def quantity(self, path: tuple[str, ...]) -> Fraction:
        block = self.model.block(path[0])
        rest = path[1:]
        kind, holder, name = registry.field_holder(block, rest)
        if holder is not None:
            if kind == "workload" and name == "jitter":
                return self.values_of_jitter(block)[rest[1]]
            given = getattr(holder, name)
            if isinstance(given, m.Param):
                return self.v(given)
            if isinstance(given, int) and not isinstance(given, bool):
                return Fraction(given)
        entry = registry.find(registry.family_of(block), rest)
        if entry is None:
            raise TypeError(f"no quantity {'.'.join(path)}")
        run = self.run(block)
        value = getattr(run, entry.sim)
        if getattr(run, "approximate", False) and entry.sim == "temperature":
            self.approximate = True
        pool = rest[len(entry.path):]
        return value[pool[0]] if pool else value

    def values_of_jitter(self, w: m.Workload) -> dict[str, Fraction]:
        return {p.name: self.v(j) for p, j in zip(w.cluster.pools, w.jitter)}

    def run(self, block: m.Block):
        if block.name not in self.runs:
            self.runs[block.name] = self._run(block)
        return self.runs[block.name]

    def _run(self, block: m.Block):
        if isinstance(block, m.Radiator):
            environment = {name: self.v(getattr(block, name)) for name in registry.RADIATOR_OPTIONAL}
            return sim.Radiator(sim.RadiatorSpec(self.v(block.heat), self.v(block.emissivity), self.v(block.temperature), self.v(block.area), self.v(block.sink), block.sides, **environment))
        if isinstance(block, m.Cluster):
            return sim.Cluster(self.cluster(block))
        if isinstance(block, m.Workload):
            w = block
            spec = sim.WorkloadSpec(
                self.cluster(w.cluster), self.v(w.params), self.v(w.batch), self.v(w.efficiency), w.balance,
                tuple(self.v(j) for j in w.jitter), w.shards, self.v(w.overlap), self.v(w.grad_bytes),
                self.v(w.state_bytes), self.v(w.flops_per_token), self.lease(w),
            )
            if w.model is not None and w.kind == "inference":
                return (sim.Disaggregated if w.prefill_pool is not None else sim.Serving)(self.serving(w))
            if w.model is not None:
                return (sim.ExpertTraining if w.model.experts else sim.TransformerTraining)(self.transformer(w))
            return sim.Training(spec) if w.kind == "training" else sim.Inference(spec)
        if isinstance(block, m.Transformer):
            return sim.ExpertShape(self.shape(block), self.experts(block)) if block.experts else sim.Shape(self.shape(block))
        raise TypeError(f"a {type(block).__name__} has no derived quantities")

    def lease(self, w: m.Workload) -> sim.LeaseSpec:
        pools = w.cluster.pools
        return sim.LeaseSpec(tuple(self.v(p.gpu.lease) for p in pools), tuple(self.v(p.gpu.capital) for p in pools), self.v(w.utilisation), self.v(w.electricity), self.v(w.life))

    def serving(self, w: m.Workload) -> sim.ServingSpec:
        pools = w.cluster.pools
        return sim.ServingSpec(
            self.cluster(w.cluster), self.shape(w.model), w.layout.tensor, w.layout.pipeline, w.concurrency, self.v(w.prompt), self.v(w.output),
            self.v(w.state_bytes), self.v(w.kv_bytes), tuple(self.v(p.gpu.matmul) for p in pools), tuple(self.v(p.gpu.memory_bandwidth) for p in pools),
            tuple(self.v(p.gpu.memory_efficiency) for p in pools), self.v(w.efficiency), self.lease(w), self.experts(w.model), self.v(w.expert_load),
            [p.name for p in pools].index(w.prefill_pool) if w.prefill_pool is not None else None,
        )

    def experts(self, s: m.Transformer) -> sim.Experts:
        return sim.Experts(s.experts, s.top_k, s.shared_experts, s.expert_ffn, s.dense_layers)

    def shape(self, s: m.Transformer) -> sim.Model:
        return sim.Model(s.layers, s.hidden, s.heads, s.seq, s.vocab, s.kv_heads, s.ffn, s.gated)

    def transformer(self, w: m.Workload) -> sim.TransformerSpec:
        x, net, pools = w.layout, w.cluster.network, w.cluster.pools
        layout = sim.Layout(x.tensor, x.pipeline, x.data, x.microbatch, x.batch_sequences, x.context, x.virtual, x.sequence_parallel, x.recompute, x.zero, x.flash)
        return sim.TransformerSpec(
            self.cluster(w.cluster), self.shape(w.model), layout, self.v(w.efficiency), tuple(self.v(j) for j in w.jitter), self.v(w.overlap),
            tuple(self.v(p.gpu.matmul) for p in pools), tuple(self.v(p.gpu.memory_bandwidth) for p in pools),
            tuple(self.v(p.gpu.memory_efficiency) for p in pools), self.v(net.efficiency), self.v(net.domain_efficiency), x.trim, x.order,
            self.experts(w.model), x.expert, self.v(w.expert_load),
        )

    def cluster(self, c: m.Cluster) -> sim.ClusterSpec:
        net = c.network
        network = None if net is None else sim.NetworkSpec(net.topology, self.v(net.bandwidth), self.v(net.latency), net.domain, self.v(net.domain_bandwidth), self.v(net.domain_latency), net.algorithm, net.radix,
                                                       self.v(net.efficiency), self.v(net.oversubscription), tuple(self.tier(t) for t in net.tiers), net.dims, net.dimensions, self.v(net.slice), net.cube, net.extent)
        power = sim.PowerSpec(self.v(c.power.pue), self.v(c.power.overhead), self.v(c.power.transition), c.power.rack, self.v(c.power.rack_power), c.power.node, self.v(c.power.node_power), self.v(c.power.cooling), self.v(c.power.storage), self.v(c.power.storage_power),
                              c.power.start_stages, self.v(c.power.start_time), self.v(c.power.band_low), self.v(c.power.band_high))
        return sim.ClusterSpec(tuple(sim.PoolSpec(p.name, p.count, self.gpu(p.gpu)) for p in c.pools), network, power)

    def tier(self, t: m.Tier) -> sim.TierSpec:
        return sim.TierSpec(t.size, self.v(t.bandwidth), self.v(t.latency), self.v(t.efficiency), self.v(t.oversubscription))

    def gpu(self, g: m.Gpu) -> sim.GpuSpec:
        return sim.GpuSpec(self.v(g.peak), self.v(g.memory), self.v(g.tdp), self.v(g.idle), self.v(g.floor), g.floor_relative, self.v(g.ramp), self.v(g.ramp_up), self.v(g.ramp_down), self.v(g.hysteresis))

    def expr(self, e: m.Expr) -> Fraction:
        return evaluate(e, self.quantity)


def replay_verdict(model: m.Model, verdict: Verdict) -> Replay | None:
    """Run a counterexample, and the worst case, through the simulation core."""
    try:
        return _replay(model, verdict)
    except (sim.OutOfReach, Undefined) as exc:
        return Replay("skipped", detail=str(exc))
    except (ValueError, ArithmeticError):
        # The core checks its own preconditions (an emissivity within (0, 1], a jitter >= 0...).
        # Checks on a model that breaks them are not established and never reach here, so a
        # refusal now means the two semantics disagree on what the model is: an internal error.
        return Replay("failed", detail="the simulation core refused this point of a well-formed model")


def _agree(simulated: Fraction, solver: Fraction, exact: bool, relation: str = "exact") -> bool:
    """The simulation's value against the solver's: equal, or on the side the closed form
    bounds it from (relation "upper": the solver's is never below; "lower": never above)."""
    if relation == "upper" and simulated <= solver:
        return True
    if relation == "lower" and simulated >= solver:
        return True
    return simulated == solver if exact else close(simulated, solver, AGREE)


def _relations(model: m.Model, comparison: m.Comparison) -> tuple[str | None, str | None]:
    def bound_of(path: tuple[str, ...]) -> str | None:
        block = model.block(path[0])
        entry = registry.find(registry.family_of(block), path[1:])
        return entry.bound if entry is not None else None

    return direction(comparison.left, bound_of), direction(comparison.right, bound_of)


def _transfers(op: str, left: str | None, right: str | None) -> bool:
    """A proof about the closed form holds for the simulated model too: for `A <= B` when A's
    closed form is an upper bound (or exact) and B's a lower bound (or exact); the mirror for >=."""
    if op in ("<=", "<"):
        return left in ("exact", "upper") and right in ("exact", "lower")
    if op in (">=", ">"):
        return left in ("exact", "lower") and right in ("exact", "upper")
    return left == right == "exact"


def _worst(model: m.Model, verdict: Verdict, relation: str = "exact") -> tuple[Fraction, bool] | None:
    """The left side at the worst-case point, by simulation, and whether it agrees."""
    worst = verdict.worst
    if worst is None:
        return None
    simulation = Simulation(model, worst.point)
    left = simulation.expr(verdict.claim.conditions[0].left)
    exact = not worst.point.approximate and not simulation.approximate
    return left, _agree(left, worst.value, exact, relation), _chosen(simulation), _slices(simulation)


def _slices(simulation: Simulation) -> str:
    """The slice each `slice = any` torus the claim read was at the point, by workload."""
    ran = [(name, run) for name, run in sorted(simulation.runs.items()) if getattr(run, "slice_shape", None) is not None]
    return ", ".join(f"{name} runs on {' x '.join(str(k) for k in run.slice_shape)}" for name, run in ran)


def _chosen(simulation: Simulation) -> str:
    """What `algorithm = auto` picked for the all-reduces the claim read (a run that ran one
    holds it), by workload."""
    ran = [(name, run) for name, run in sorted(simulation.runs.items()) if "_switched" in getattr(run, "__dict__", {})]
    picks = [(name, run.exchange_algorithm) for name, run in ran]
    return ", ".join(f"{name} exchanges by {pick}" for name, pick in picks if pick)


BOUND = "within the closed form's bound"


def _replay(model: m.Model, verdict: Verdict) -> Replay | None:
    if verdict.status == "violated" and verdict.point is not None and verdict.left is not None and verdict.right is not None:
        comparison = verdict.claim.conditions[verdict.failing]
        relation_left, relation_right = _relations(model, comparison)
        simulation = Simulation(model, verdict.point)
        left, right = simulation.expr(comparison.left), simulation.expr(comparison.right)
        if relation_left is None or relation_right is None:
            return Replay("one-sided", left, right, verdict.left, "the closed forms in this claim bound their quantities from opposite sides, so neither a proof nor a counterexample of them carries over to the simulated schedule")
        exact = not verdict.point.approximate and not simulation.approximate
        agree = _agree(left, verdict.left, exact, relation_left) and _agree(right, verdict.right, exact, relation_right)
        fails = not holds(left, comparison.op, right) or verdict.zero_divisor
        worst = _worst(model, verdict, relation_left)
        if agree and worst is not None and not worst[1]:
            return Replay("disagrees", worst[0], None, verdict.worst.value if verdict.worst else None, "the worst case differs")
        worst_left = worst[0] if worst is not None else None
        chosen = worst[2] if worst is not None else ""
        shape = worst[3] if worst is not None else ""
        bounded = (relation_left, relation_right) != ("exact", "exact") and (left != verdict.left or right != verdict.right)
        if agree and fails:
            return Replay("confirmed", left, right, verdict.left, BOUND if bounded else "" if exact else "to one part in 10^9", worst_left, chosen, shape)
        if agree and bounded:
            return Replay("loose", left, right, verdict.left, "the closed form is a bound here, and at this point the simulated schedule meets the claim; the bound is too loose to decide it", worst_left)
        if agree and not exact:
            # the values agree to the simulation's precision, which cannot tell which side of the bound
            return Replay("indeterminate", left, right, verdict.left, "the values agree to one part in 10^9, too close to the bound to decide", worst_left)
        why = "the simulation does not find the claim broken" if agree else "the values differ"
        return Replay("disagrees", left, right, verdict.left, why, worst_left)
    if verdict.status == "proved" and verdict.worst is not None:
        comparison = verdict.claim.conditions[0]
        relation_left, relation_right = _relations(model, comparison)
        if not _transfers(comparison.op, relation_left, relation_right):
            return Replay("one-sided", None, None, verdict.worst.value, "the closed form bounds this quantity from the other side, so its proof does not carry over to the simulated schedule")
        left, agree, chosen, shape = _worst(model, verdict, relation_left or "exact") or (None, False, "", "")
        if agree:
            bounded = relation_left != "exact" and left != verdict.worst.value
            return Replay("confirmed", left, None, verdict.worst.value, BOUND if bounded else "", chosen=chosen, slice=shape)
        return Replay("disagrees", left, None, verdict.worst.value, "the worst case differs")
    return None
