"""The pinned formulas, hand-computed: each quantity of spec/semantics.md against exact values."""

from __future__ import annotations

from fractions import Fraction as F

import pytest
import z3

from checker.encode import SIGMA, encode, val
from checker.parse import parse_text
from checker.resolve import resolve
from checker.solve import fraction

US, MS, GB = F(1, 10**6), F(1, 1000), 10**9


def value(text: str, dotted: str, **point: F) -> F:
    """The exact value of a quantity with every unknown fixed (by id, dots as '__')."""
    model, diagnostics = resolve(parse_text("t.spec", text))
    assert model is not None, [d.header() for d in diagnostics]
    ctx = z3.Context()
    enc = encode(model, ctx)
    term = enc.quantity(tuple(dotted.split(".")))
    fixed = {k.replace("__", "."): v for k, v in point.items()}
    subs = [(enc.variables[u.id], val(fixed[u.id], ctx)) for u in model.unknowns]
    simple = z3.simplify(z3.substitute(term, *subs) if subs else term)
    assert z3.is_rational_value(simple), simple
    return fraction(simple)[0]


PANEL = "radiator p { heat = 1 MW; emissivity = 0.85; temperature = 330 K; sink = 3 K; sides = 2 }\n"


def test_radiator_area_and_flux():
    area = F(10**6) / (F(85, 100) * SIGMA * 2 * (F(330) ** 4 - 3**4))
    assert value(PANEL, "p.area") == area
    assert round(float(area), 1) == 874.7
    assert value(PANEL, "p.flux") == F(10**6) / area


def test_a_panel_in_deep_space_absorbs_nothing_and_emits_its_flux():
    assert value(PANEL, "p.absorbed") == 0
    assert value(PANEL, "p.emitted") == value(PANEL, "p.flux") == F(85, 100) * SIGMA * 2 * (F(330) ** 4 - 3**4)


SUNNY = ("radiator p { heat = 1 MW; emissivity = 0.9; temperature = 300 K; sides = 2; absorptance = 0.2; "
         "sun_view = 0.5; sunlit = 0.6; albedo = 0.3; earth_ir = 240 W/m^2; earth_view = 0.4; fin = 0.8 }\n")


def test_a_panel_in_sunlight_by_hand():
    # absorbed = 0.2 * 1361 * 0.6 * (0.5 + 0.3 * 0.4) + 0.9 * 240 * 0.4 = 101.2584 + 86.4 = 187.6584 W/m^2
    assert value(SUNNY, "p.absorbed") == F("187.6584")
    emitted = F(8, 10) * F(9, 10) * SIGMA * 2 * F(300) ** 4  # fin * eps * sigma * sides * T^4
    assert value(SUNNY, "p.emitted") == emitted
    assert value(SUNNY, "p.area") == F(10**6) / (emitted - F("187.6584"))
    assert value(SUNNY, "p.flux") == emitted - F("187.6584")


def test_the_constant_is_codata():
    assert SIGMA == F(5670374419, 10**17)


def cluster(topology: str, pools: str = "pool a = 1024 x H100", extra: str = "") -> str:
    return f"""gpu H100 {{ peak = 989 TFLOP/s; memory = 80 GB; tdp = 700 W; idle = 100 W }}
gpu FAST {{ peak = 1978 TFLOP/s; memory = 80 GB; tdp = 1400 W; idle = 200 W; floor = 50 % }}
cluster c {{
  {pools}
  network {{ topology = {topology}; bandwidth = 50 GB/s; latency = 5 us {extra} }}
  power {{ facility = 10 MW; pue = 1.25; overhead = 20 %; transition = 50 ms }}
}}
"""


def training(body: str = "", **kw) -> str:
    fields = {"kind": "training", "params": "5e8", "batch": "1e6 token", "efficiency": "50 %"}
    fields.update(kw)
    return "workload w on c {\n" + "\n".join(f"  {k} = {v}" for k, v in fields.items()) + "\n" + body + "}\n"


def test_ring_checkpoint_1GB_1024_gpus():
    # a 1 GB ring all-reduce over 1024 GPUs at 50 GB/s and 5 us per hop: 50.2 ms
    t = value(cluster("ring") + training(), "w.comm_time")
    assert t == 2 * 1023 * 5 * US + F(2 * 1023, 1024) * F(GB, 50 * GB)
    assert round(float(t) * 1000, 1) == 50.2


def test_hierarchical_checkpoint_128_nodes_of_8():
    text = cluster("hierarchical", extra="; domain = 8; domain_bandwidth = 450 GB/s; domain_latency = 2 us") + training()
    t = value(text, "w.comm_time")
    inner = 7 * 2 * US + F(7, 8) * F(GB, 450 * GB)
    outer = 2 * 127 * 5 * US + 2 * F(127, 128) * F(GB, 8) / (50 * GB)
    assert t == 2 * inner + outer
    assert round(float(t) * 1000, 1) == 10.1


@pytest.mark.parametrize("gpus, depth", [(1024, 10), (1000, 10), (1025, 11), (2, 1)])
def test_tree_latency_uses_ceil_log2(gpus, depth):
    t = value(cluster("tree", pools=f"pool a = {gpus} x H100") + training(), "w.comm_time")
    assert t == 2 * depth * 5 * US + 2 * F(GB, 50 * GB)


def test_a_group_of_one_exchanges_nothing():
    text = cluster("tree", pools="pool a = 8 x H100") + training(shards="8")
    assert value(text, "w.comm_time") == 0


def test_shards_split_the_gradient_and_the_group():
    t = value(cluster("ring") + training(shards="4"), "w.comm_time")
    n, size = 256, F(GB, 4)
    assert t == 2 * (n - 1) * 5 * US + F(2 * (n - 1), n) * size / (50 * GB)


MIXED = "pool slow = 100 x H100\n  pool fast = 28 x FAST"


def test_uniform_balance_waits_for_the_slow_pool():
    text = cluster("ring", pools=MIXED) + training(jitter="0 % .. 10 %")
    flops = 6 * F(5 * 10**8) * 10**6
    per_gpu = flops / 128
    slow = per_gpu / (F(989 * 10**12) * F(1, 2))
    fast = per_gpu / (F(1978 * 10**12) * F(1, 2))
    point = {"w__jitter__slow": F(1, 10), "w__jitter__fast": F(0)}
    assert value(text, "w.pool_time.slow", **point) == slow * F(11, 10)
    assert value(text, "w.pool_time.fast", **point) == fast
    assert value(text, "w.compute_time", **point) == slow * F(11, 10)
    comm = value(text, "w.comm_time", **point)
    step = slow * F(11, 10) + comm
    assert value(text, "w.step_time", **point) == step
    peak = 100 * F(989 * 10**12) + 28 * F(1978 * 10**12)
    assert value(text, "w.mfu", **point) == flops / (step * peak)
    assert value(text, "w.throughput", **point) == F(10**6) / step
    assert value(text, "w.wait.fast", **point) == 1 - fast / step


def test_proportional_balance_equalises_compute():
    text = cluster("ring", pools=MIXED) + training(balance="proportional")
    assert value(text, "w.pool_time.slow") == value(text, "w.pool_time.fast")
    flops = 6 * F(5 * 10**8) * 10**6
    peak = 100 * F(989 * 10**12) + 28 * F(1978 * 10**12)
    assert value(text, "w.compute_time") == flops / (peak * F(1, 2))


def test_overlap_hides_part_of_the_exchange():
    text = cluster("ring") + training(overlap="75 %")
    assert value(text, "w.step_time") == value(text, "w.compute_time") + value(text, "w.comm_time") / 4


def test_memory_per_gpu_and_flops_per_token():
    text = cluster("ring") + training(shards="4", state_bytes="18 B", flops_per_token="4e9 FLOP/token")
    assert value(text, "w.memory_per_gpu") == 18 * F(5 * 10**8) / 4
    assert value(text, "w.flops_per_token") == 4 * 10**9
    assert value(cluster("ring") + training(), "w.memory_per_gpu") == 16 * 5 * 10**8


def test_power_draw():
    text = cluster("ring", pools=MIXED) + training()
    assert value(text, "c.power.draw") == (100 * 700 + 28 * 1400) * F(12, 10) * F(125, 100)


RACKS = """gpu G { peak = 2500 TFLOP/s; memory = 186 GB; tdp = 1200 W }
cluster c {
  pool a = 100 x G; pool b = 7 x G
  power { rack = 72; rack_power = 25 kW; node = 4; node_power = 600 W; overhead = 10 %; pue = 1.2; cooling = 2 MW }
}
"""


def test_rack_and_node_power_beside_the_gpus_by_hand():
    # racks never mix pools: ceil(100/72) + ceil(7/72) = 2 + 1 = 3; nodes: 25 + 2 = 27
    assert value(RACKS, "c.power.racks") == 3 and value(RACKS, "c.power.nodes") == 27
    it = 107 * 1200 * F(11, 10) + 3 * 25000 + 27 * 600  # 141240 + 75000 + 16200 = 232440 W
    assert value(RACKS, "c.power.it") == it == 232440
    assert value(RACKS, "c.power.draw") == it * F(12, 10) + 2 * 10**6  # 2278928 W
    plain = cluster("ring", pools=MIXED) + training()
    assert value(plain, "c.power.racks") == 0 and value(plain, "c.power.it") == (100 * 700 + 28 * 1400) * F(12, 10)


PROFILE = """gpu G { peak = 1000 TFLOP/s; memory = 80 GB; tdp = 1200 W; idle = 150 W; floor = 50 %
        ramp_up = 2 kW/s; ramp_down = 1 kW/s; hysteresis = 200 ms }
gpu H { peak = 1000 TFLOP/s; memory = 80 GB; tdp = 1000 W; idle = 100 W; ramp = 3 kW/s }
cluster c {
  pool g = 8 x G; pool h = 8 x H
  network { topology = ring; bandwidth = 10 GB/s; latency = 0 s }
  power { transition = 100 ms }
}
workload w on c { kind = training; params = 1e9; batch = 16e3 token; efficiency = 48 %; jitter = 0 % }
"""


def test_separate_rates_and_hysteresis_by_hand():
    # falls: G min(1 kW/s, 600 W / 0.1 s) = 1 kW/s, H min(3 kW/s, 9 kW/s) = 3 kW/s: 8 * 4 kW/s
    # rises: G 2 kW/s, H 3 kW/s: 8 * 5 kW/s = 40 kW/s, the faster
    assert value(PROFILE, "w.ramp") == 40000
    # compute: 6e9 * 16e3 / 16 / (1e15 * 0.48) = 12.5 ms; ring over 16 GPUs: 2 * 15/16 * 2e9 B / 10 GB/s = 375 ms
    # so a 387.5 ms step and a 375 ms wait: G holds 200 ms then falls 175 ms * 1 kW/s = 175 W;
    # H falls at 3 kW/s and reaches its idle (900 W below tdp) after 300 ms
    assert value(PROFILE, "w.step_time") == F(3875, 10000)
    assert value(PROFILE, "w.step_swing") == 8 * 175 + 8 * 900
    assert value(PROFILE, "w.swing") == 8 * 600 + 8 * 900  # the bound without the wait: unchanged


STORED = """gpu G { peak = 1000 TFLOP/s; memory = 80 GB; tdp = 1000 W; idle = 100 W }
cluster c {
  pool g = 16 x G
  network { topology = ring; bandwidth = 10 GB/s; latency = 0 s }
  power { storage = 2 kJ; storage_power = 5 kW }
}
workload w on c { kind = training; params = 1e9; batch = 32e3 token; efficiency = 48 %; jitter = 0 % }
"""


def test_storage_between_the_gpus_and_the_grid_by_hand():
    # compute: 6e9 * 32e3 / 16 / (1e15 * 0.48) = 25 ms; exchange 375 ms; step 400 ms
    # high 16 kW, low 1.6 kW, average (16 * 0.025 + 1.6 * 0.375) / 0.4 = 2.5 kW
    # out: min(5 kW, 13.5 kW) = 5 kW for 25 ms = 125 J (the 2 kJ store holds it): peak 11 kW
    # in: min(5 kW, 0.9 kW) = 0.9 kW, 125 J back within 0.139 s of the 375 ms wait: trough 1.6 kW
    assert value(STORED, "w.grid_peak") == 11000
    assert value(STORED, "w.grid_trough") == 1600
    assert value(STORED, "w.grid_swing") == 9400
    assert value(STORED, "w.storage_depth") == 125
    assert value(STORED, "w.storage_shortfall") == 0
    tiny = STORED.replace("storage = 2 kJ", "storage = 100 J")  # empties after 20 ms: the grid sees 16 kW
    assert value(tiny, "w.grid_peak") == 16000 and value(tiny, "w.storage_depth") == 100


def test_swing_ramp_and_floor_cost_in_a_mixed_cluster():
    text = cluster("ring", pools=MIXED) + training()
    # H100: low = idle 100 W; FAST: floor 50 % of 1400 W = 700 W above its 200 W idle
    assert value(text, "w.swing") == 100 * (700 - 100) + 28 * (1400 - 700)
    assert value(text, "w.ramp") == 100 * F(600) / F(1, 20) + 28 * F(700) / F(1, 20)
    assert value(text, "w.floor_cost") == 28 * (700 - 200)


def test_slew_limit_caps_the_ramp_and_floor_can_be_a_range():
    text = cluster("ring").replace("idle = 100 W }", "idle = 100 W; floor = 20 % .. 90 %; ramp = 2 kW/s }") + training()
    assert value(text, "w.swing", H100__floor=F(1, 2)) == 1024 * (700 - 350)
    assert value(text, "w.ramp", H100__floor=F(1, 2)) == 1024 * 2000  # 350 W / 50 ms = 7 kW/s > 2 kW/s
    assert value(text, "w.ramp", H100__floor=F(9, 10)) == 1024 * F(70) / F(1, 20)  # 1.4 kW/s < 2 kW/s
    assert value(text, "w.floor_cost", H100__floor=F(1, 5)) == 1024 * (140 - 100)


def test_average_power_and_energy():
    text = cluster("ring", pools=MIXED) + training()
    step = value(text, "w.step_time")
    t_slow, t_fast = value(text, "w.pool_time.slow"), value(text, "w.pool_time.fast")
    energy = 100 * (700 * t_slow + 100 * (step - t_slow)) + 28 * (1400 * t_fast + 700 * (step - t_fast))
    assert value(text, "w.average_power") == energy / step
    assert value(text, "w.energy_per_step") == energy
    assert value(text, "w.energy_per_token") == energy / 10**6


def test_inference_has_no_barrier_and_no_swing():
    text = cluster("ring", pools=MIXED) + training(kind="inference", efficiency="40 %").replace("  batch = 1e6 token\n", "")
    peak = 100 * F(989 * 10**12) + 28 * F(1978 * 10**12)
    assert value(text, "w.throughput") == peak * F(2, 5) / (2 * F(5 * 10**8))
    assert value(text, "w.swing") == 0 and value(text, "w.ramp") == 0
    assert value(text, "w.memory_per_gpu") == 2 * 5 * 10**8


STAGED = """gpu G { peak = 2500 TFLOP/s; memory = 186 GB; tdp = 1200 W; idle = 200 W; ramp_up = 2 kW/s }
gpu H { peak = 1000 TFLOP/s; memory = 80 GB; tdp = 700 W; idle = 100 W; ramp = 3 kW/s; ramp_down = 1 kW/s }
cluster c {
  pool g = 100 x G; pool h = 50 x H
  network { topology = ring; bandwidth = 50 GB/s; latency = 5 us }
  power { transition = 50 ms; start_stages = 10; start_time = 2 s }
}
workload w on c { kind = training; params = 1e6; batch = 1e6 token; efficiency = 40 % }
"""


def test_a_staged_job_start_and_end_by_hand():
    # 10 stages, one every 0.2 s, each 10 G and 5 H.
    # start: G rises at min(2 kW/s, 1000 W / 50 ms) = 2 kW/s for 0.5 s: 3 stages at once when the last starts;
    #        H at min(3 kW/s, 12 kW/s) = 3 kW/s for 0.2 s: 1 stage (it ends as the next starts)
    assert value(STAGED, "w.start_ramp") == 10 * 2000 * 3 + 5 * 3000 * 1
    # end: G falls at its own 20 kW/s for 50 ms: 1 stage; H at 1 kW/s for 0.6 s: 3 stages
    assert value(STAGED, "w.end_ramp") == 10 * 20000 * 1 + 5 * 1000 * 3
    # one stage (the default): every GPU at once
    single = STAGED.replace("; start_stages = 10; start_time = 2 s", "")
    assert value(single, "w.start_ramp") == 100 * 2000 + 50 * 3000
    # ten stages all at once (no start_time): the same
    assert value(STAGED.replace("; start_time = 2 s", ""), "w.start_ramp") == 100 * 2000 + 50 * 3000


def test_sine_upper_bound_by_hand():
    from checker.encode_power import PI_HIGH, PI_LOW, abs_sine_upper

    ctx = z3.Context()
    enc = encode(resolve(parse_text("t.spec", ""))[0], ctx)

    def at(x: F) -> F:
        term = z3.simplify(abs_sine_upper(enc, val(x, ctx)))
        assert z3.is_rational_value(term), term
        return fraction(term)[0]

    assert PI_LOW < F("3.14159265358979") < PI_HIGH and PI_HIGH - PI_LOW == F(1, 10**10)
    for x, exact in ((F(0), 0), (F(1, 6), F(1, 2)), (F(13, 6), F(1, 2)), (F(5, 6), F(1, 2)), (F(3), 0), (F(1, 2), 1), (F(7, 2), 1)):
        assert exact <= at(x) <= exact + F(2, 10**9), x  # an upper bound, 2e-9 wide at most


OSCILLATING = """gpu G { peak = 1000 TFLOP/s; memory = 80 GB; tdp = 1000 W; idle = 100 W }
cluster c {
  pool g = 16 x G
  network { topology = ring; bandwidth = 10 GB/s; latency = 0 s }
  power { band_low = 0.1 Hz; band_high = 20 Hz }
}
workload w on c { kind = training; params = 1e9; batch = 32e3 token; efficiency = 48 %; jitter = 0 % }
"""


def test_oscillation_of_a_step_by_hand():
    # compute 25 ms, step 400 ms (test_storage_between_the_gpus_and_the_grid_by_hand): duty 1/16,
    # 2.5 Hz fundamental; A = 16 · 900 W; harmonic k is 2A·sin(kπ/16)/(kπ), largest at k = 1
    from checker.encode_power import PI_LOW

    got = value(OSCILLATING, "w.oscillation")
    sin_pi_16 = F("0.19509032201612826784828486847702224")  # sin(π/16), to 35 places
    exact = 2 * 16 * 900 * sin_pi_16 / F("3.14159265358979323846264338327950288")
    assert exact <= got <= exact + 2 * 16 * 900 * F(3, 10**9) / PI_LOW
    # a band from 3 Hz (the second harmonic, 5 Hz, and up): 2A·sin(π/8)/(2π)
    narrow = value(OSCILLATING.replace("band_low = 0.1 Hz", "band_low = 3 Hz"), "w.oscillation")
    sin_pi_8 = F("0.38268343236508977172845998403039887")
    assert 2 * 16 * 900 * sin_pi_8 / (2 * F("3.14159265358979323846264338327950288")) <= narrow < got
    # a band that no harmonic reaches (below the 2.5 Hz fundamental): nothing oscillates in it
    assert value(OSCILLATING.replace("band_low = 0.1 Hz; band_high = 20 Hz", "band_low = 0.1 Hz; band_high = 2 Hz"), "w.oscillation") == 0
