#!/usr/bin/env python3
"""Mutation evidence: deliberate mistakes in the encoder AND in the simulation core must fail
at least one named test suite.

Each mutation replaces a small snippet of one module (checker/encode.py, checker/sim/*.py) in
a temporary copy of the project (the working tree is never touched). A snippet is matched
token by token, so re-spacing or re-wrapping the code does not break it; a snippet that no
longer occurs exactly once is an error, reported loudly (tests/test_mutation.py fails on it).

A mutant's suites run in one pytest process, cheapest first (its examples' figures and golden
reports, then the hand-computed tests, the differential tests last), stopping at the first failing test: its
suite killed the mutant. A mutant that no suite kills SURVIVED. The unmutated copy must pass
every test that killed a mutant (its run comes after the mutants': one pytest process over exactly
those tests; with --every-suite, every suite any mutant runs).
Hypothesis runs with few examples and no shrinking (DIFFERENTIAL_EXAMPLES, DIFFERENTIAL_NO_SHRINK):
the differential tests' fixed corpus carries most of the weight.

    python scripts/mutate.py              # all mutations, 2 workers, prints the table
    python scripts/mutate.py --list       # just list them
    python scripts/mutate.py --every-suite   # run every suite on every mutant (slower)
    python scripts/mutate.py -k ring      # only mutations whose name contains 'ring'
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES_FOR_MUTANTS = 4  # generated Hypothesis examples per property test in a mutant run

# suite name -> pytest arguments (paths relative to the project)
SUITES: dict[str, list[str]] = {
    "semantics": ["tests/test_semantics.py"],
    "differential": ["tests/test_differential.py"],
    "serving": ["tests/test_serving.py"],  # money and serving: hand-computed and against the core
    "placement": ["tests/test_placement.py"],  # a layout on tiers: hand-computed and against the core
    "apart": ["tests/test_disaggregated.py"],  # prefill and decode apart: by hand and against the core
    "experts": ["tests/test_experts_training.py"],  # training a mixture of experts: by hand and against the core
    "slicing": ["tests/test_slicing.py"],  # the solver's queries: slices, exact arithmetic, corners
    "records": ["tests/test_records.py"],  # record classes against their dataclass twins
}


def golden(example: str) -> tuple[str, list[str]]:
    """The golden report of one example, byte for byte."""
    return f"golden:{example}", [f"tests/test_golden.py::test_golden_report[examples/{example}.spec]"]


def corpus(name: str) -> str:
    """One entry of the differential tests' fixed corpus, compared at its corners."""
    return f"tests/test_differential.py::test_every_quantity_agrees_at_the_corners_of_the_corpus[{name}]"


def figures(example: str) -> tuple[str, list[str]]:
    """The figures an example's header states, against its report."""
    return f"figures:{example}", [f"tests/test_golden.py::test_example_figures_are_the_reports[{example}]"]


@dataclass(frozen=True)
class Mutation:
    name: str
    path: str  # the module mutated
    original: str  # a snippet that must occur exactly once (modulo spacing)
    mutated: str
    examples: tuple[str, ...] = ()  # examples whose figures and golden report are run too
    # tests known to reach the mutated code, tried before the suites: scheduling only (the
    # suites still follow; whichever test fails first kills the mutant)
    first: tuple[str, ...] = ()
    suite: str | None = None  # the suite that must kill it, when not the module's own

    @property
    def suites(self) -> tuple[str, ...]:
        # the hand-computed tests evaluate the encoder only: they cannot see a core mutant
        if self.suite is not None:
            return (self.suite,)
        if self.path in SERVING_MODULES:
            return ("serving",)
        if self.path in PLACEMENT_MODULES:
            return ("placement",)
        if self.path in EXPERT_MODULES:
            return ("experts",)
        return ("semantics", "differential") if self.path == "checker/encode.py" else ("differential",)

    def plan(self) -> list[tuple[str, list[str]]]:
        """The suites in the order they run: an example's figures and golden report first (one
        `verify` run each, seconds), then the hand-computed tests, the differential tests last
        (the slowest); the run stops at the first failing test, so a mutant costs only the
        suites up to the one that kills it."""
        out: list[tuple[str, list[str]]] = [("first", list(self.first))] if self.first else []
        for example in self.examples:
            out += [figures(example), golden(example)]
        return out + [(name, SUITES[name]) for name in self.suites]


RAD = "checker/sim/radiator.py"
ENC, SCEN, JOBS, COLL, POWER, TRAIN = ("checker/encode.py", "checker/sim/scenario.py", "checker/sim/jobs.py",
                                       "checker/sim/collectives.py", "checker/sim/power.py", "checker/sim/training.py")
NET, ALGO, EXCH, TIERS = "checker/encode_network.py", "checker/sim/algorithms.py", "checker/sim/exchanges.py", "checker/sim/tiers.py"
TORUS = "checker/sim/torus.py"

SERVING_MODULES = ("checker/encode_money.py", "checker/encode_serving.py", "checker/sim/lease.py", "checker/sim/serving.py", "checker/sim/disaggregated.py")
MONEY_ENC, SERVE_ENC, LEASE, SERVE, APART = SERVING_MODULES
PLACEMENT_MODULES = ("checker/encode_placement.py", "checker/sim/placement.py")
PLACE_ENC, PLACE = PLACEMENT_MODULES
EXPERT_ENC, EXPERT_SIM = "checker/encode_experts.py", "checker/sim/experts_training.py"
EXPERT_MODULES = (EXPERT_ENC, EXPERT_SIM)

MUTATIONS: list[Mutation] = [
    # the encoder (symbolic closed forms)
    Mutation("enc: ring latency (n-1)·α instead of 2(n-1)·α", ENC, "return 2 * e.val(n - 1) * alpha +", "return e.val(n - 1) * alpha +", ("ring-vs-tree",)),
    Mutation("enc: barrier takes the min instead of the max", ENC, '_max([e.quantity((w.name, "pool_time", p.name))', '_min([e.quantity((w.name, "pool_time", p.name))', ("colossus1",)),
    Mutation("enc: radiator T^3 instead of T^4", ENC, "(t**4 - sink**4)", "(t**3 - sink**3)", ("orbital-radiator",)),
    Mutation("enc: tree depth floor(log2 n) instead of ceil", ENC, "return (n - 1).bit_length() if n >= 1 else 0", "return n.bit_length() - 1 if n >= 1 else 0", ("ring-vs-tree",)),
    Mutation("enc: overlap hides the wrong share", ENC, "(1 - e.param(w.overlap)) * e.quantity", "e.param(w.overlap) * e.quantity", ("colossus2",)),
    Mutation("enc: swing from idle instead of max(idle, floor)", ENC, "(e.param(p.gpu.tdp) - e.low(p.gpu)) for p in w.cluster.pools", "(e.param(p.gpu.tdp) - e.param(p.gpu.idle)) for p in w.cluster.pools", ("power-smoothing",)),
    Mutation("enc: hierarchical inner bandwidth term without (g-1)/g", ENC, "e.val((g - 1) / g) * size / e.param(net.domain_bandwidth)", "size / e.param(net.domain_bandwidth)"),
    Mutation("enc: gradient bytes per parameter ignored (2 B)", ENC, "size = e.param(w.grad_bytes) * e.param(w.params)", "size = e.val(2) * e.param(w.params)", first=(corpus("ring-shards-grad"),)),
    Mutation("enc: albedo load without the view factor", ENC, "_or(e, r.albedo, ALBEDO) * view", "_or(e, r.albedo, ALBEDO)", ("radiator-sunlight",)),
    Mutation("enc: rack power counted per GPU", ENC, "return 0 if size is None else sum(-(-p.count // size) for p in c.pools)", "return 0 if size is None else sum(p.count for p in c.pools)", ("rack-power",)),
    Mutation("enc: hysteresis ignored in the step swing", ENC, "held = wait if g.hysteresis is None else wait - e.param(g.hysteresis)", "held = wait", ("smoothing-profile",)),
    Mutation("enc: ramp-up rate ignored", ENC, "up = z3.Sum([e.val(p.count) * _rate(e, w, p.gpu, p.gpu.ramp_up or p.gpu.ramp) for p in pools])", "up = down", ("smoothing-profile",)),
    Mutation("enc: storage never empties", ENC, "peak = z3.If(out_rate * busy > capacity, high, high - out_rate)", "peak = high - out_rate"),
    Mutation("enc: fin efficiency ignored", ENC, "return base if r.fin is None else e.param(r.fin) * base", "return base"),
    Mutation("enc: every stage of a start counted as rising at once", "checker/encode_power.py", "moving = z3.Sum([z3.If(span > e.val(k) * gap * rate, e.val(1), e.val(0)) for k in range(stages)])", "moving = e.val(stages)", ("grid-limits",)),
    Mutation("enc: harmonics not divided by their number", "checker/encode_power.py", "for a, d in pools]) / e.val(k * PI_LOW)", "for a, d in pools]) / e.val(PI_LOW)", ("grid-limits",), first=("tests/test_differential.py::test_oscillation_agrees_with_the_cores_fourier_sum_within_the_enclosure",)),
    # the simulation core (operational rules)
    Mutation("sim: Earth infrared absorbed with the absorptance, not the emissivity", RAD, "infrared = as_fraction(emissivity, \"emissivity\") * ir * view", "infrared = a * ir * view", ("radiator-sunlight",)),
    Mutation("sim: no hold in the step's wait", "checker/sim/smoothing.py", "held = min(hysteresis, wait)", "held = Fraction(0)", ("smoothing-profile",)),
    Mutation("sim: storage charges without a limit on its room", "checker/sim/storage.py", "room = charge if sign < 0 else full - charge", "room = charge if sign < 0 else full", ("storage-site",)),
    Mutation("sim: every stage of a job starts at once", "checker/sim/jobstart.py", "while started < stages and started * gap <= now:", "while started < stages:", ("grid-limits",)),
    Mutation("sim: harmonics not divided by their number", "checker/sim/oscillation.py", "return low / (PI[1] * k), high / (PI[0] * k)", "return low / PI[1], high / PI[0]", ("grid-limits",)),
    Mutation("sim: sunlight absorbed in shadow too", RAD, "sunlight = a * s * lit * cos", "sunlight = a * s * cos"),
    # the eclipse transient (checker/encode_eclipse.py, checker/sim/eclipse.py)
    Mutation("enc: the eclipse keeps the sunlight", "checker/encode_eclipse.py", "excess = (heat - eclipse_heat) / area + _sunlight(e, r)", "excess = (heat - eclipse_heat) / area", ("radiator-eclipse",)),
    Mutation("enc: the eclipse's tangent without its slope", "checker/encode_eclipse.py", "beta = 3 / (c * tangent)", "beta = 0 / (c * tangent)", ("radiator-eclipse",)),
    Mutation("sim: the eclipse's upper path stepped explicitly", "checker/sim/eclipse.py", "high = _implicit_up(high, a, b, d) if a * high**4 >= b else explicit_ceil(high, a, b, d)", "high = explicit_floor(high, a, b, d) if a * high**4 >= b else explicit_ceil(high, a, b, d)", ("radiator-eclipse",)),
    Mutation("sim: the eclipse's heat ignored", "checker/sim/panel.py", "heat = s.heat if s.eclipse_heat is None else s.eclipse_heat", "heat = s.heat", ("radiator-eclipse",)),
    Mutation("sim: ring all-reduce chunk size/(n-1) instead of size/n", COLL, "chunk = size / n", "chunk = size / (n - 1)", ("ring-vs-tree",)),
    Mutation("sim: tree rounds floor(log2 n) instead of ceil", COLL, "while informed < n:", "while 2 * informed <= n:", ("ring-vs-tree",)),
    Mutation("sim: jitter ignored", TRAIN, "ticks = stretch(on_grid(base, unit), on_grid(jitter, unit), unit)", "ticks = stretch(on_grid(base, unit), 0, unit)", ("colossus2",)),
    Mutation("sim: PUE dropped from the facility draw", SCEN, "return self.it * power.pue + cooling", "return self.it + cooling", ("colossus1",)),
    Mutation("sim: a partly filled rack draws nothing", SCEN, "while left > 0:", "while left >= size:", ("rack-power",)),
    Mutation("sim: floor as a share of tdp read as watts", SCEN, "return gpu.floor * gpu.tdp if gpu.floor_is_share else gpu.floor", "return gpu.floor", ("power-smoothing",)),
    Mutation("sim: slew limit ignored", POWER, "limit = None if ramp is None else as_fraction(ramp, \"ramp\") * tick", "limit = None", ("power-smoothing",)),
    Mutation("sim: energy per token divides by the FLOPs", JOBS, "return self.energy_per_step / self.spec.batch", "return self.energy_per_step / self.flops"),
    # money and serving (checker/encode_money.py, encode_serving.py, sim/lease.py, sim/serving.py)
    Mutation("enc: serving, energy cost without the PUE", MONEY_ENC, "(1 + e.param(power.overhead)) * e.param(power.pue) * e.param(w.electricity)", "(1 + e.param(power.overhead)) * e.param(w.electricity)", ("colossus1-lease",)),
    Mutation("enc: serving, KV cache with keys only", SERVE_ENC, "e.val(F(2 * md.layers * md.kv_heads * md.hidden, md.heads * gpus))", "e.val(F(md.layers * md.kv_heads * md.hidden, md.heads * gpus))", ("colossus1-lease",)),
    Mutation("enc: serving, decode ignores the cache it reads", SERVE_ENC, "(weights + cached_tokens * _kv_token(e, w)) / byte_rate", "weights / byte_rate", ("colossus1-lease",)),
    Mutation("sim: serving, the lease ignores utilisation", LEASE, "revenue += count * busy_hours * (price * HOUR)", "revenue += count * hours * (price * HOUR)", ("colossus1-lease",)),
    Mutation("sim: serving, the cache does not grow while decoding", SERVE, "cached += batch", "cached += 0", ("colossus1-lease",)),
    Mutation("enc: serving, the busiest expert's load ignored", SERVE_ENC, "e.val(2 * md.routed_parameters) * load", "e.val(2 * md.routed_parameters)", ("deepseek-v3-serving",)),
    Mutation("sim: serving, every expert read whatever the tokens reach", SERVE, "read += min(Fraction(ex.count), slots) * self.expert", "read += ex.count * self.expert", ("deepseek-v3-serving",), first=("tests/test_serving.py::test_experts_by_hand",)),
    Mutation("sim: serving, prefill attends over the whole prompt for every token", SERVE, "attention += prompts * self.attention_flops(position)", "attention += prompts * self.attention_flops(length)", ("colossus1-lease",)),
    Mutation("sim: state bytes default 16 B for inference too", JOBS, "return Fraction(16 if self.TRAINING else 2)", "return Fraction(16)", ("inference",)),
    # training a mixture of experts (checker/encode_experts.py, sim/experts_training.py)
    Mutation("enc: experts, the all-to-all sends all S to every partner", EXPERT_ENC, "e.val(n - g) * (a_out + size / (e.val(n) * b_out * s_out))", "e.val(n - g) * (a_out + size / (b_out * s_out))", ("deepseek-v3-training",)),
    Mutation("enc: experts, their state sharded over every data-parallel rank", EXPERT_ENC, "sh.n_ep = max(sh.n_dp // x.expert, 1)", "sh.n_ep = sh.n_dp", ("deepseek-v3-training",)),
    Mutation("enc: experts, the busiest GPU's load ignored", EXPERT_ENC, "return 1 + (e.val(0) if w.expert_load is None else e.param(w.expert_load))", "return 1 + e.val(0)", ("deepseek-v3-training",)),
    Mutation("enc: experts, model FLOPs on every expert", EXPERT_ENC, "(md.top_k + md.shared_experts) * g * h * fe", "(md.experts + md.shared_experts) * g * h * fe", ("deepseek-v3-training",)),
    Mutation("sim: experts, the busiest GPU gets the mean load", EXPERT_SIM, "visits = tokens * ex.top_k * self._load / here", "visits = tokens * ex.top_k / here", ("deepseek-v3-training",)),
    Mutation("sim: experts, every partner over the network", EXPERT_SIM, "g = domain_partners(self.spec.expert, x.t * x.c, self.domain, sum(p.count for p in self.pools))", "g = 1", ("deepseek-v3-training",)),
    Mutation("sim: experts, their gradients reduced over every rank", EXPERT_SIM, "for ranks, params in ((n, shared), (n_experts, routed)):", "for ranks, params in ((n, shared), (n, routed)):", ("deepseek-v3-training",)),
    # prefill and decode apart (checker/encode_serving.py, sim/disaggregated.py)
    Mutation("enc: serving apart, the cache sent without its efficiency", SERVE_ENC, "e.param(w.prompt) * _kv_token(e, w) / (e.param(net.bandwidth) * share)", "e.param(w.prompt) * _kv_token(e, w) / e.param(net.bandwidth)", suite="apart"),
    Mutation("enc: serving apart, the rates add instead of the slower side", SERVE_ENC, "return _min([e.quantity((w.name, \"pool_throughput\", w.prefill_pool)), decoding])", "return e.quantity((w.name, \"pool_throughput\", w.prefill_pool)) + decoding", suite="apart"),
    Mutation("sim: serving apart, TTFT without the transfer", APART, "return self._replicas[self.spec.prefill_pool].prefill(1, self.P) + self.kv_transfer_time", "return self._replicas[self.spec.prefill_pool].prefill(1, self.P)", suite="apart"),
    Mutation("sim: serving apart, the decode pools prefill too", APART, "busy = r.prefill(b, self.P) if i == self.spec.prefill_pool else sum(r.decode(b, self.P, self.O), Fraction(0))", "busy = r.prefill(b, self.P) + sum(r.decode(b, self.P, self.O), Fraction(0))", suite="apart"),
    # switched networks and the other collectives
    Mutation("enc: double tree of two GPUs sends the whole vector", NET, "busiest = size / 2 if n == 2 else size", "busiest = size", first=(corpus("switch-double-tree-pair"),)),
    Mutation("enc: in-network reduction crosses the switch levels once", NET, "terms[\"in_network\"] = 2 * v(_levels(n, radix)) * alpha", "terms[\"in_network\"] = v(_levels(n, radix)) * alpha", ("collectives",)),
    Mutation("enc: ring all-to-all without relaying", NET, "return e.val(n - 1) * alpha + e.val((n - 1) / 2) * size / bandwidth", "return e.val(n - 1) * alpha + e.val((n - 1) / n) * size / bandwidth", ("collectives",)),
    Mutation("sim: double tree carries the whole vector in each tree", ALGO, "half = size / 2", "half = size", ("collectives",)),
    Mutation("sim: halving-doubling never unfolds", ALGO, "if r:  # GPU i hands the result back", "if False:  # GPU i hands the result back", first=(corpus("switch-auto-no-reduction"),)),
    Mutation("sim: ring all-to-all forwards every piece each step", EXCH, "carried = size * (n - k) / n", "carried = size * (n - 1) / n", ("collectives",)),
    Mutation("sim: in-network reduce-scatter sends the whole vector", EXCH, "out = size - size / n", "out = size", first=(corpus("switch-auto"),)),
    Mutation("enc: a tier's oversubscription multiplies its bandwidth", NET, "e.param(t.efficiency) / e.param(t.oversubscription)", "e.param(t.efficiency) * e.param(t.oversubscription)", first=(corpus("tiers"),)),
    Mutation("sim: each tier moves the whole vector", TIERS, "held, below = held / g, tier.size", "held, below = held, tier.size", ("tiers",)),
    # torus networks and slices
    Mutation("enc: a torus ring runs one way only", NET, "e.val(Fraction(k - 1, 2 * k * below)) * size / bandwidth", "e.val(Fraction(k - 1, k * below)) * size / bandwidth", ("collectives",), first=(corpus("torus-2d"),)),
    Mutation("enc: a slice number names the next slice", NET, "out = z3.If(s <= e.val(i), term(net.slices[i - 1]), out)", "out = z3.If(s < e.val(i), term(net.slices[i - 1]), out)", ("slices",)),
    Mutation("sim: a torus dimension leaves each chip all it held", TORUS, "held = held / k  # each chip keeps", "held = held  # each chip keeps", first=(corpus("torus-2d"),)),
    Mutation("sim: every dimension at once, the shares never shrink", TORUS, "held[j] = held[j] / dims[axis]", "held[j] = held[j]", ("collectives",)),
    # a training layout's groups placed on tiers
    Mutation("enc: a group's members per tier ignore its stride", PLACE_ENC, "count *= min(k[name], max(1, size // sigma[name]))", "count *= min(k[name], max(1, size))", ("llama3-tiers",)),
    Mutation("enc: a stage-to-stage message on the innermost tier it uses", PLACE_ENC, "return _max(terms) if terms else e.val(0)", "return terms[0] if terms else e.val(0)", ("llama3-tiers",)),
    Mutation("sim: every rank a group of its own on the tiers", PLACE, "first -= (r // sigma) % k * sigma", "first -= 0", ("llama3-tiers",)),
    Mutation("sim: every stage-to-stage message on the innermost tier", PLACE, "used.add(next(i for i, t in enumerate(ladder) if rank // t.size == other // t.size))", "used.add(0)", ("llama3-tiers",)),
    # the solver's shortcuts and the record classes: each must still be caught
    Mutation("solve: the best corner taken for the worst case without the query beyond it", "checker/solve.py", 'if status != "unsat":\n            return None', "if False:\n            return None", suite="slicing"),
    Mutation("solve: an unknown whose other end changes the value taken as free", "checker/solve.py", "if values[tuple(flipped)] != values[best]:\n                continue", "if values[tuple(flipped)] != values[best]:\n                free.append(unknown.id)\n                continue", suite="slicing"),
    Mutation("records: equality and hashing on the first field only", "checker/records.py", "values = get if len(names) != 1 else", "values = get if False else", suite="records"),
]

_TOKEN = re.compile(r"\w+|\*\*|[^\s\w]")


class SnippetError(Exception):
    """A mutation's snippet does not occur exactly once in its module."""


def pattern(snippet: str) -> re.Pattern[str]:
    """The snippet as a regular expression that ignores spacing and line breaks between
    tokens (and the kind of quotes), but not the tokens themselves."""
    tokens = _TOKEN.findall(snippet)
    parts: list[str] = []
    for i, token in enumerate(tokens):
        if i:
            word = tokens[i - 1][-1].isalnum() or tokens[i - 1][-1] == "_"
            parts.append(r"\s+" if word and (token[0].isalnum() or token[0] == "_") else r"\s*")
        parts.append("[\"']" if token in "\"'" else re.escape(token))
    return re.compile("".join(parts))


def apply(source: str, mutation: Mutation) -> str:
    matches = list(pattern(mutation.original).finditer(source))
    if len(matches) != 1:
        raise SnippetError(f"{mutation.name}: the snippet {mutation.original!r} occurs {len(matches)} times in {mutation.path}, not once")
    match = matches[0]
    return source[: match.start()] + mutation.mutated + source[match.end():]


def check_snippets() -> list[str]:
    """Every mutation's snippet occurs exactly once: the errors (empty when all apply)."""
    errors = []
    for mutation in MUTATIONS:
        try:
            mutated = apply((ROOT / mutation.path).read_text(encoding="utf-8"), mutation)
            compile(mutated, mutation.path, "exec")
        except (SnippetError, SyntaxError) as exc:
            errors.append(str(exc))
    return errors


# a pytest plugin written into each copy: it records the exact id of every failing test (ids
# may hold spaces, so pytest's own summary line cannot be parsed back reliably)
FAILED_RECORD = "_mutate_failed.txt"
PLUGIN = f"""
def pytest_runtest_logreport(report):
    if report.failed:
        with open({FAILED_RECORD!r}, "a", encoding="utf-8") as out:
            out.write(report.nodeid + "\\n")


def pytest_collectreport(report):
    pytest_runtest_logreport(report)
"""


def copy_project(into: Path) -> None:
    for name in ("checker", "grammars", "tests", "examples", "pyproject.toml"):
        source = ROOT / name
        if source.is_dir():
            # compiled bytecode is copied too (a module's .pyc records its source's time and
            # size, so the mutated module is recompiled and the rest is not)
            shutil.copytree(source, into / name, ignore=shutil.ignore_patterns(".hypothesis"))
        else:
            shutil.copy(source, into / name)
    (into / "_mutate_plugin.py").write_text(PLUGIN, encoding="utf-8")


def run_suite(where: Path, args: list[str]) -> tuple[bool, float, str]:
    """(passed, seconds, the first failing test's id) of one pytest run in a copy."""
    start = time.perf_counter()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(where), "PYTHONDONTWRITEBYTECODE": "1",
           "DIFFERENTIAL_NO_SHRINK": "1", "DIFFERENTIAL_EXAMPLES": str(EXAMPLES_FOR_MUTANTS), "HOME": str(where)}
    try:
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-o", "addopts=", "-q", "-x", "-p", "no:cacheprovider", "-p", "_mutate_plugin", "--no-header", *args],
            cwd=where, capture_output=True, text=True, timeout=600, env=env,
        )
    except subprocess.TimeoutExpired:
        return False, time.perf_counter() - start, "timeout"  # a hang fails CI too
    record = where / FAILED_RECORD
    failed = record.read_text(encoding="utf-8").splitlines() if record.exists() else []
    record.unlink(missing_ok=True)
    return run.returncode == 0, time.perf_counter() - start, failed[0] if failed else ("" if run.returncode == 0 else f"exit {run.returncode}")


@dataclass
class Outcome:
    mutation: Mutation | None  # None: the unmutated project
    results: list[tuple[str, bool, float, str]] = field(default_factory=list)  # suite, passed, s, first failure
    error: str = ""

    @property
    def killed_by(self) -> list[tuple[str, str]]:
        return [(suite, test) for suite, passed, _, test in self.results if not passed]

    @property
    def seconds(self) -> float:
        return sum(s for _, _, s, _ in self.results)


def suite_of(test: str, plan: list[tuple[str, list[str]]]) -> str:
    """The suite of the plan a failing test id belongs to."""
    for suite, args in plan:
        if any(test == a if "::" in a else test.startswith(a + "::") for a in args):
            return suite
    return test


def run_mutant(mutation: Mutation | None, every_suite: bool, plan: list[tuple[str, list[str]]] | None = None) -> Outcome:
    """Run a mutant's suites in one pytest process, in order, stopping at the first failure
    (the suite that failing test belongs to killed it); with every_suite, one process per
    suite and all of them. The unmutated project (mutation None) runs `plan`."""
    outcome = Outcome(mutation)
    plan = plan if plan is not None else mutation.plan()
    with tempfile.TemporaryDirectory(prefix="mutant-") as tmp:
        where = Path(tmp)
        copy_project(where)
        if mutation is not None:
            target = where / mutation.path
            try:
                target.write_text(apply(target.read_text(encoding="utf-8"), mutation), encoding="utf-8")
            except SnippetError as exc:
                outcome.error = str(exc)
                return outcome
        if every_suite:
            for suite, args in plan:
                passed, seconds, test = run_suite(where, args)
                outcome.results.append((suite, passed, seconds, test))
        else:
            passed, seconds, test = run_suite(where, [a for _, args in plan for a in args])
            suite = "all" if passed else suite_of(test, plan)
            outcome.results.append((suite, passed, seconds, test))
    return outcome


def all_suites(mutations: list[Mutation]) -> list[tuple[str, list[str]]]:
    """Every suite any of the mutations runs, once."""
    seen: dict[str, list[str]] = {}
    for mutation in mutations:
        for suite, args in mutation.plan():
            seen.setdefault(suite, args)
    return list(seen.items())


def killing_tests(outcomes: list[Outcome]) -> list[tuple[str, list[str]]]:
    """Each test that failed on some mutant, once (a whole suite where the run failed without
    naming a test): what the unmutated copy must pass for the kills to prove anything."""
    seen: dict[str, list[str]] = {}
    for outcome in outcomes:
        assert outcome.mutation is not None
        plan = outcome.mutation.plan()
        for suite, passed, _, test in outcome.results:
            if passed:
                continue
            if "::" in test:
                seen.setdefault(test, [test])
            else:  # a timeout or a crash: the unmutated copy runs the suite it happened in
                for name, args in (plan if suite == "all" else [(n, a) for n, a in plan if n == suite] or plan):
                    seen.setdefault(name, args)
    return list(seen.items())


def run_all(mutations: list[Mutation], workers: int = 2, every_suite: bool = False, progress=None) -> tuple[Outcome, list[Outcome]]:
    """The unmutated copy's outcome and each mutant's, mutants run `workers` at a time. The
    unmutated copy runs afterwards: every test that killed a mutant must pass on it (with
    every_suite, every suite any mutant runs)."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(run_mutant, m, every_suite) for m in mutations]
        outcomes = []
        for future in futures:
            outcomes.append(future.result())
            if progress:
                progress(outcomes[-1])
    checks = all_suites(mutations) if every_suite else killing_tests(outcomes)
    base = run_mutant(None, every_suite, checks) if checks else Outcome(None)
    return base, outcomes


def line(outcome: Outcome) -> str:
    assert outcome.mutation is not None
    if outcome.error:
        return f"{'ERROR':8}  {outcome.mutation.name}: {outcome.error}"
    killers = outcome.killed_by
    verdict = "killed" if killers else "SURVIVED"
    detail = "; ".join(f"{suite} {'KILLED' if not passed else 'missed'} ({seconds:.1f} s){' by ' + test if test and not passed else ''}"
                       for suite, passed, seconds, test in outcome.results)
    return f"{verdict:8}  {outcome.mutation.name:58} [{detail}]"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--list", action="store_true", help="list the mutations and the suites each runs")
    parser.add_argument("--every-suite", action="store_true", help="run every suite of each mutant, not only up to the first that kills it")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("-k", dest="keyword", default="", help="only mutations whose name contains this")
    args = parser.parse_args()
    chosen = [m for m in MUTATIONS if args.keyword in m.name]
    if args.list:
        for m in chosen:
            print(f"{m.name:58} {m.path:28} suites: {', '.join(s for s, _ in m.plan())}")
        return 0
    errors = check_snippets()
    if errors:
        print("\n".join(errors))
        return 2
    start = time.perf_counter()
    base, outcomes = run_all(chosen, args.workers, args.every_suite, progress=lambda o: print(line(o), flush=True))
    for suite, passed, seconds, test in base.results:
        print(f"unmutated: {suite} {'pass' if passed else 'FAIL ' + test} ({seconds:.1f} s)")
    if base.killed_by:
        print("the unmutated project must pass its suites first: the kills above prove nothing")
        return 1
    survivors = [o for o in outcomes if not o.killed_by]
    print(f"{len(outcomes) - len(survivors)} of {len(outcomes)} mutations killed in {time.perf_counter() - start:.0f} s")
    return 1 if survivors else 0


if __name__ == "__main__":
    raise SystemExit(main())
