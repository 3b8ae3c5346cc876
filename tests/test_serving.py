"""Money of a leased fleet and the serving model: hand-computed values, the closed forms
against the simulation core, unit errors on money."""

from __future__ import annotations

from fractions import Fraction as F

import pytest
import z3
from hypothesis import HealthCheck, given, settings, strategies as st

from checker import registry
from checker.encode import encode
from checker.parse import parse_text
from checker.replay import Simulation
from checker.resolve import resolve
from checker.solve import fraction
from checker.verdicts import Point
from conftest import verify

YEAR = 365 * 24 * 3600


def quantities(text: str, point: dict[str, F] | None = None, block: str = "w") -> dict[str, tuple[F, F, str | None]]:
    """Every derived quantity of the workload: (closed form, simulation core, the registry's bound)."""
    model, diagnostics = resolve(parse_text("t.spec", text))
    assert model is not None, [d.header() for d in diagnostics]
    values = tuple((u.id, (point or {}).get(u.id, u.low)) for u in model.unknowns)
    ctx = z3.Context()
    enc = encode(model, ctx)
    subs = [(enc.variables[uid], enc.val(value)) for uid, value in values]
    simulation = Simulation(model, Point(values))
    w = model.block(block)
    family = registry.family_of(w)
    out = {}
    for path in registry.namespace(w):
        entry = registry.find(family, path)
        if entry is None:
            continue
        term = enc.quantity((block,) + path)
        closed = fraction(z3.simplify(z3.substitute(term, *subs) if subs else term))[0]
        out[".".join(path)] = (closed, simulation.quantity((block,) + path), entry.bound)
    return out


def _agree(values: dict[str, tuple[F, F, str | None]]) -> None:
    for name, (closed, simulated, bound) in values.items():
        if bound == "upper":
            assert simulated <= closed, name
        elif bound == "lower":
            assert simulated >= closed, name
        else:
            assert closed == simulated, (name, float(closed), float(simulated))


# ---- money ---------------------------------------------------------------------------------

LEASE = """gpu A { peak = 1000 TFLOP/s; memory = 80 GB; tdp = 700 W; idle = 100 W; lease = 2 USD/h .. 3 USD/h; capital = 25000 USD }
gpu B { peak = 2500 TFLOP/s; memory = 192 GB; tdp = 1200 W; idle = 200 W; lease = 5 USD/h; capital = 50000 USD }
cluster c { pool a = 1000 x A; pool b = 100 x B
  power { pue = 1.25; overhead = 20 % } }
workload w on c { kind = inference; params = 1e10; efficiency = 40 %; utilisation = 50 % .. 100 %;
  electricity = 80 USD/MWh .. 100 USD/MWh; life = 5 yr }
"""


def test_money_by_hand():
    """At the low corner: lease 2 USD/h, utilisation 50 %, electricity 80 USD/MWh."""
    q = quantities(LEASE)
    hours = 8760
    revenue = (1000 * 2 + 100 * 5) * hours * F(1, 2)  # GPU-hours leased x price, USD per year
    assert q["revenue"][0] * YEAR == revenue == 10_950_000
    power = 1000 * (350 + 50) + 100 * (600 + 100)  # W: half the year at tdp, half at idle
    assert q["average_power"][0] == power == 470_000
    energy_mwh = power * F(6, 5) * F(5, 4) * hours / F(10**6)  # overhead, then pue: 6175.8 MWh
    assert q["energy_cost"][0] * YEAR == energy_mwh * 80 == 494_064
    assert q["depreciation"][0] * YEAR == (1000 * 25000 + 100 * 50000) / 5 == 6_000_000
    assert q["cost"][0] * YEAR == energy_mwh * 80 + 6_000_000
    assert q["margin"][0] * YEAR == revenue - energy_mwh * 80 - 6_000_000
    throughput = F(1000 * 10**15 + 100 * 25 * 10**14) * F(2, 5) / (2 * 10**10)  # compute ceiling
    assert q["served"][0] == throughput / 2
    assert q["price_per_token"][0] * 10**6 == F(revenue, YEAR) / (throughput / 2) * 10**6
    assert q["cost_per_token"][0] == q["cost"][0] / (throughput / 2)


@pytest.mark.parametrize("corner", ["low", "high"])
def test_money_against_the_ledger(corner):
    model, _ = resolve(parse_text("t.spec", LEASE))
    point = {u.id: (u.low if corner == "low" else u.high) for u in model.unknowns}
    _agree(quantities(LEASE, point))


def test_revenue_is_proved_over_prices_and_utilisation(spec):
    result = verify(spec(LEASE + "check r: w.revenue >= 1e7 USD/yr\ncheck m: w.margin >= 1e7 USD/yr\n"))
    assert "proved    r" in result.out and "violated  m" in result.out
    assert "worst case: w.revenue = 10950000 USD/yr" in result.out
    assert "confirmed by simulation" in result.out


def test_money_without_its_price_cannot_be_named(spec):
    text = LEASE.replace("lease = 2 USD/h .. 3 USD/h; ", "").replace("; life = 5 yr", "")
    result = verify(spec(text + "check r: w.revenue >= 1 USD/yr\ncheck d: w.depreciation >= 1 USD/yr\n"))
    assert result.code == 2
    assert "'w.revenue' needs 'lease', which every gpu of its cluster leaves out [missing-field]" in result.out
    assert "'w.depreciation' needs 'life', which workload 'w' leaves out [missing-field]" in result.out


def test_cost_without_capital_is_the_energy():
    q = quantities(LEASE.replace("; life = 5 yr", ""))
    assert "depreciation" not in q and q["cost"][0] == q["energy_cost"][0]


@pytest.mark.parametrize("claim,units", [
    ("w.revenue + 1 W >= 0 USD/yr", "units do not match (USD/s and W)"),
    ("w.revenue >= 5e9 USD", "units do not match (USD/s and USD)"),
    ("w.cost_per_token <= 1 USD/MWh", "units do not match (USD/token and USD/MWh)"),
])
def test_money_is_checked_like_any_unit(spec, claim, units):
    result = verify(spec(LEASE + f"check x: {claim}\n"))
    assert result.code == 2 and units in result.out, result.out
    assert "money adds only to money of the same kind" in result.out


def test_a_lease_price_needs_money_per_time(spec):
    result = verify(spec(LEASE.replace("lease = 5 USD/h", "lease = 5 USD")))
    assert result.code == 2 and "'lease' takes USD/yr" in result.out, result.out


# ---- serving a model -----------------------------------------------------------------------

TINY = """model tiny { layers = 2; hidden = 64; heads = 4; kv_heads = 2; ffn = 256; seq = 128; vocab = 1000 }
gpu G { peak = 100 GFLOP/s; memory = 1 GB; tdp = 500 W; idle = 100 W; matmul = 50 %; memory_bandwidth = 1 GB/s }
cluster c { pool a = 4 x G }
workload w on c { kind = inference; model = tiny; prompt = 10 token; output = 3 token; concurrency = 4; layout { tensor = 2 } }
"""


def test_serving_by_hand():
    """2 layers, hidden 64, 4 heads (head_dim 16), 2 kv heads, tensor 2: N = 2(64^2 (2 + 2·2/4)
    + 2·64·256) + 1000·64 = 154112 weights, 128 cache bytes per token per GPU; 50 GFLOP/s and
    1 GB/s per GPU, so every pass here is bound by memory."""
    q = quantities(TINY)
    n = 2 * (64**2 * 3 + 2 * 64 * 256) + 1000 * 64
    assert n == 154112
    assert q["weights_per_gpu"][0] == n * 2 / 2
    assert q["kv_per_token"][0] == F(2 * 2 * 2 * 16 * 2, 2) == 128  # 2 · layers · kv_heads · head_dim · 2 B / t
    assert q["kv_cache_per_gpu"][0] == 4 * (10 + 3) * 128
    assert q["memory_per_gpu"][0] == n + 4 * 13 * 128
    assert q["max_batch.a"][0] == (10**9 - n) // (13 * 128) == 600868
    # prefill of one prompt: 2N·10 + 2·L·h·10·11 FLOPs over 2 GPUs at 50 GFLOP/s, or weights plus 10 tokens' cache at 1 GB/s
    flops = 2 * n * 10 + 2 * 2 * 64 * 10 * 11
    assert q["ttft"][0] == max(F(flops, 2 * 50 * 10**9), F(n + 10 * 128, 10**9)) == F(155392, 10**9)
    # the last decode step: 4 tokens attending over 12 positions; the cache holds 4 x 12 tokens
    assert q["tpot"][0] == max(F(4 * (2 * n + 4 * 2 * 64 * 12), 2 * 50 * 10**9), F(n + 4 * 12 * 128, 10**9)) == F(160256, 10**9)
    batch_time = F(n + 40 * 128 + n + 44 * 128 + n + 48 * 128, 10**9)  # prefill of 4 prompts, two decode steps
    assert q["pool_throughput.a"][0] == 2 * F(4 * 3) / batch_time  # two replicas of two GPUs
    assert q["throughput"][0] == q["throughput"][1] == q["pool_throughput.a"][0]  # one regime: the chord is exact
    assert q["throughput_per_gpu"][0] == q["throughput"][0] / 4


MIXED = """model m { layers = 8; hidden = 1024; heads = 16; kv_heads = 4; ffn = 4096; mlp = swiglu; seq = 4096; vocab = 32000 }
gpu A { peak = 989 TFLOP/s; memory = 80 GB; tdp = 700 W; idle = 100 W; matmul = 60 % .. 75 %; memory_bandwidth = 3350 GB/s; memory_efficiency = 80 %; lease = 2 USD/h }
gpu B { peak = 2500 TFLOP/s; memory = 186 GB; tdp = 1200 W; idle = 150 W; matmul = 60 %; memory_bandwidth = 8 TB/s; lease = 4 USD/h .. 5 USD/h }
cluster c { pool a = 8 x A; pool b = 4 x B; power { pue = 1.2 } }
workload w on c { kind = inference; model = m; prompt = 100 token .. 3000 token; output = 2 token .. 400 token; concurrency = 64;
  kv_bytes = 1 B .. 2 B; utilisation = 70 % .. 100 %; electricity = 50 USD/MWh; layout { tensor = 2; pipeline = 2 } }
"""


@pytest.mark.parametrize("corner", ["low", "high", "mixed"])
def test_serving_against_the_stepped_batch(corner):
    """Every quantity at a corner: exact where the registry says so, else on the bound's side."""
    model, _ = resolve(parse_text("t.spec", MIXED))
    pick = {"low": lambda i, u: u.low, "high": lambda i, u: u.high, "mixed": lambda i, u: u.low if i % 2 else u.high}[corner]
    point = {u.id: pick(i, u) for i, u in enumerate(model.unknowns)}
    values = quantities(MIXED, point)
    assert {"ttft", "tpot", "throughput", "pool_throughput.a", "pool_throughput.b", "max_batch.b", "revenue", "cost_per_token"} <= set(values)
    _agree(values)


def test_the_chord_bounds_a_decode_that_changes_regime():
    """A batch whose decode turns from memory-bound to compute-bound as its cache grows: the
    closed form's throughput is below the stepped one, never above."""
    text = TINY.replace("memory_bandwidth = 1 GB/s", "memory_bandwidth = 5 GB/s").replace("output = 3 token", "output = 400 token").replace("concurrency = 4", "concurrency = 64")
    closed, stepped, bound = quantities(text)["throughput"]
    assert bound == "lower" and closed < stepped


def test_serving_claims_are_proved_and_replayed(spec):
    result = verify(spec(MIXED + "check t: w.ttft <= 300 ms\ncheck p: w.tpot <= 10 ms\ncheck x: w.throughput >= 1e9 token/s\n"))
    assert "proved    t" in result.out and "proved    p" in result.out and "violated  x" in result.out, result.out
    assert result.out.count("confirmed by simulation") == 3
    assert "w.pool_throughput.a = " in result.out and "w.pool_throughput.b = " in result.out  # each pool's share


def test_a_claim_against_the_bound_is_not_carried_over(spec):
    result = verify(spec(MIXED + "check x: w.throughput <= 1e12 token/s\n"))
    assert result.code == 3 and "bounds this quantity from the other side" in result.out, result.out


@pytest.mark.parametrize("change,message", [
    ("layout { tensor = 2; pipeline = 2 }", None),
    ("layout { tensor = 3 }", "must be multiples of tensor = 3"),
    ("layout { tensor = 2; pipeline = 3 }", "8 layers are not a multiple of pipeline = 3"),
    ("layout { tensor = 2; data = 2 }", "a serving layout has tensor and pipeline only"),
])
def test_a_serving_layout_must_divide(spec, change, message):
    result = verify(spec(MIXED.replace("layout { tensor = 2; pipeline = 2 }", change) + "check t: w.ttft <= 1 s\n"))
    if message is None:
        assert result.code == 0, result.out
    else:
        assert result.code != 0 and message in result.out, result.out


def test_serving_needs_a_request_shape_and_no_params(spec):
    result = verify(spec(TINY.replace("prompt = 10 token; ", "params = 1e9; ")))
    assert result.code == 2
    assert "needs 'prompt'" in result.out and "'params' comes from the model" in result.out


def test_a_batch_that_does_not_fit_breaks_the_memory_invariant(spec):
    result = verify(spec(TINY.replace("concurrency = 4", "concurrency = 700000") + "check t: w.ttft <= 1 s\n"))
    assert result.code != 0 and "fits in the memory of pool a" in result.out, result.out


@pytest.mark.parametrize("field,message", [
    ("prompt = 100 token", "'prompt' describes the requests of an inference workload that serves a model"),
    ("concurrency = 8", "'concurrency' describes the requests"),
])
def test_a_request_shape_needs_a_model(spec, field, message):
    result = verify(spec(LEASE.replace("life = 5 yr", f"life = 5 yr; {field}")))
    assert result.code == 2 and message in result.out, result.out


def test_training_has_no_prices(spec):
    text = """gpu A { peak = 989 TFLOP/s; memory = 80 GB; tdp = 700 W }
cluster c { pool a = 8 x A; network { topology = ring; bandwidth = 50 GB/s; latency = 5 us } }
workload w on c { kind = training; params = 1e9; batch = 1e6 token; efficiency = 40 %; electricity = 80 USD/MWh }
"""
    result = verify(spec(text))
    assert result.code == 2 and "'electricity' prices a leased inference fleet" in result.out, result.out


# ---- random specs: the closed forms against the stepped batch ------------------------------

@st.composite
def served(draw) -> tuple[str, dict]:
    """A small model served on one or two pools, with ranges on the request shape, the shares
    and the prices; and a point inside every range."""
    layers = draw(st.sampled_from([2, 4]))
    heads = draw(st.sampled_from([4, 8]))
    kv = draw(st.sampled_from([k for k in (1, 2, 4, 8) if heads % k == 0]))
    tensor = draw(st.sampled_from([t for t in (1, 2, 4) if kv % t == 0]))
    pipeline = draw(st.sampled_from([p for p in (1, 2) if layers % p == 0]))
    replica = tensor * pipeline
    p_lo = draw(st.integers(1, 300))
    p_hi = draw(st.integers(p_lo, 400))
    o_lo = draw(st.integers(1, 100))
    o_hi = draw(st.integers(o_lo, 150))
    b = draw(st.integers(1, 64))
    bw = draw(st.sampled_from(["1 GB/s", "10 GB/s", "100 GB/s .. 200 GB/s"]))
    pools = "pool a = {} x A".format(replica * draw(st.integers(1, 3)))
    if draw(st.booleans()):
        pools += "; pool b = {} x B".format(replica * draw(st.integers(1, 3)))
    moe, load = "", ""
    if draw(st.booleans()):  # a mixture of experts, its load uneven over a range
        experts = draw(st.sampled_from([4, 8, 64]))
        shared, dense = draw(st.integers(0, 2)), draw(st.integers(0, layers - 1))
        moe = f"; experts = {experts}; top_k = {draw(st.integers(1, 4))}; expert_ffn = 64" + (f"; shared_experts = {shared}" if shared else "") + (f"; dense_layers = {dense}" if dense else "")
        load = "; expert_load = 0 % .. 200 %"
    text = f"""model m {{ layers = {layers}; hidden = {heads * 32}; heads = {heads}; kv_heads = {kv}; seq = 512; vocab = 1000; mlp = swiglu{moe} }}
gpu A {{ peak = 100 GFLOP/s .. 400 GFLOP/s; memory = 10 GB; tdp = 700 W; idle = 100 W; matmul = 50 % .. 80 %; memory_bandwidth = {bw}; lease = 1 USD/h .. 3 USD/h }}
gpu B {{ peak = 2 TFLOP/s; memory = 20 GB; tdp = 1 kW; idle = 100 W; matmul = 60 %; memory_bandwidth = 5 GB/s; memory_efficiency = 70 % .. 90 %; lease = 4 USD/h }}
cluster c {{ {pools} }}
workload w on c {{ kind = inference; model = m; prompt = {p_lo} token .. {p_hi} token; output = {o_lo} token .. {o_hi} token; concurrency = {b};
  kv_bytes = 1 B .. 2 B; utilisation = 50 % .. 100 %; electricity = 40 USD/MWh .. 90 USD/MWh{load}; layout {{ tensor = {tensor}; pipeline = {pipeline} }} }}
"""
    model, diagnostics = resolve(parse_text("t.spec", text))
    assert model is not None, [d.header() for d in diagnostics]
    point = {}
    for unknown in model.unknowns:
        if unknown.id in ("w.prompt", "w.output"):  # the core steps through whole tokens
            point[unknown.id] = F(draw(st.integers(int(unknown.low), int(unknown.high))))
        else:
            t = draw(st.fractions(min_value=0, max_value=1, max_denominator=100))
            point[unknown.id] = unknown.low + (unknown.high - unknown.low) * t
    return text, point


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(served())
def test_serving_agrees_with_the_stepped_batch_at_random_points(case):
    text, point = case
    _agree(quantities(text, point))


# ---- mixture of experts --------------------------------------------------------------------

MOE = """model moe { layers = 4; hidden = 64; heads = 4; kv_heads = 2; ffn = 256; seq = 128; vocab = 1000; mlp = swiglu
  experts = 8; top_k = 2; shared_experts = 1; expert_ffn = 32; dense_layers = 1 }
gpu G { peak = 100 GFLOP/s; memory = 1 GB; tdp = 500 W; idle = 100 W; matmul = 50 %; memory_bandwidth = 1 GB/s; lease = 1 USD/h }
cluster c { pool a = 4 x G }
workload w on c { kind = inference; model = moe; prompt = 10 token; output = 3 token; concurrency = 2; expert_load = 50 %; layout { tensor = 2 } }
"""


def test_experts_by_hand():
    """4 layers (1 dense), hidden 64, swiglu: attention 64^2 (2 + 2·2/4) = 12288 a layer, the
    dense MLP 3·64·256 = 49152, an expert 3·64·32 = 6144, the router 64·8 = 512."""
    q = quantities(MOE)
    model, _ = resolve(parse_text("t.spec", MOE))
    shape = model.block("moe")
    attention, dense, one, router, embed = 12288, 49152, 6144, 512, 1000 * 64
    total = 4 * attention + dense + 3 * ((8 + 1) * one + router) + embed
    active = 4 * attention + dense + 3 * ((2 + 1) * one + router) + embed
    assert shape.parameters == total == 329728 and shape.active_parameters == active == 219136
    q_model = quantities(MOE, block="moe")
    assert q_model["parameters"] == (total, total, None) and q_model["active_parameters"] == (active, active, None)
    assert q["weights_per_gpu"][0] == total  # every expert held: 2 B each over 2 GPUs
    # the last decode step: 2 tokens, each 2 routed slots, the busiest expert 50 % above the mean:
    # 2·2·1.5 = 6 slots a layer, so 6 of the 8 experts are read; the cache holds 2 x 12 tokens
    routed = 3 * 2 * one
    flops = 2 * (2 * (active - routed) + 2 * routed * F(3, 2)) + 2 * 4 * 4 * 64 * 12
    read = (total - 3 * 8 * one) + 3 * 6 * one
    kv = F(2 * 4 * 2 * 16 * 2, 2)
    assert q["tpot"][0] == max(F(flops, 2 * 50 * 10**9), (F(read * 2, 2) + 2 * 12 * kv) / 10**9)
    _agree(q)


@pytest.mark.parametrize("corner", ["low", "high"])
def test_experts_against_the_stepped_batch(corner):
    text = MOE.replace("expert_load = 50 %", "expert_load = 0 % .. 400 %").replace("prompt = 10 token", "prompt = 1 token .. 40 token").replace("concurrency = 2", "concurrency = 16")
    model, _ = resolve(parse_text("t.spec", text))
    point = {u.id: (u.low if corner == "low" else u.high) for u in model.unknowns}
    _agree(quantities(text, point))


def test_training_a_mixture_of_experts_is_modelled(spec):
    """The same model trains (tests/test_experts_training.py has the details)."""
    text = MOE.split("gpu G")[0] + """cluster c { pool a = 8 x A100; network { topology = ring; bandwidth = 50 GB/s; latency = 5 us } }
workload t on c { kind = training; model = moe; batch = 8 * 128 token; expert_load = 0 % .. 20 %; layout { expert = 4 } }
check e: t.ep_comm_time > 0 s
"""
    result = verify(spec(text))
    assert result.code == 0 and "check 'e' is proved" in result.out, result.out


@pytest.mark.parametrize("change,message", [
    ("experts = 8; top_k = 2; ", "'shared_experts' describes a mixture of experts; give 'experts' too"),
    ("top_k = 2; ", "a mixture of experts needs 'top_k'"),
    ("top_k = 2", "top_k = 9"),
])
def test_expert_fields_hold_together(spec, change, message):
    text = MOE.replace(change, "top_k = 9" if change == "top_k = 2" else "")
    result = verify(spec(text + "check t: w.ttft <= 1 s\n"))
    assert result.code != 0 and message in result.out, result.out


def test_an_imbalance_needs_experts(spec):
    result = verify(spec(TINY.replace("concurrency = 4", "concurrency = 4; expert_load = 10 %")))
    assert result.code == 2 and "'expert_load' is the imbalance of a mixture of experts" in result.out, result.out
