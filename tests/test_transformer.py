"""Training a transformer on a parallel layout: hand-computed values from the papers' formulas,
the closed forms against the simulated schedule (equal where exact, on the bound's side where
a bound), what a bound means for a verdict, and the layout's rules.
"""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from checker.api import check_text
from agreement import assert_agrees, corner, quantities
from conftest import verify

NETWORK = """  network {
    topology = ring; bandwidth = 25 GB/s; latency = 5 us; efficiency = 90 %
    domain = 8; domain_bandwidth = 300 GB/s; domain_latency = 5 us; domain_efficiency = DOMAIN_EFFICIENCY
  }"""


def spec(layout: str, gpus: int = 64, pools: str = "", extra: str = "", domain_efficiency: str = "60 %", model: str = "") -> str:
    model = model or "model gpt { layers = 8; hidden = 1024; heads = 16; seq = 2048; vocab = 51200 }"
    pools = pools or f"  pool a = {gpus} x A100"
    return (f"{model}\ncluster c {{\n{pools}\n{NETWORK.replace('DOMAIN_EFFICIENCY', domain_efficiency)}\n}}\n"
            f"workload w on c {{ kind = training; model = gpt; batch = 64 * 2048 token{extra}; layout {{ {layout} }} }}\n")


# ---- hand-computed -------------------------------------------------------------------------


def test_model_flops_are_the_papers():
    """Narayanan et al. SC21 eq. 3 / Korthikanti et al.: 72 B s l h^2 (1 + s/6h + V/12lh)."""
    q = quantities(spec("tensor = 8; pipeline = 2"))
    B, s, l, h, V = 64, 2048, 8, 1024, 51200
    assert q["flops"][0] == q["flops"][1] == 72 * B * s * l * h * h * (1 + F(s, 6 * h) + F(V, 12 * l * h))


def test_bubble_and_microbatches():
    q = quantities(spec("tensor = 8; pipeline = 4; virtual = 2; data = 2"))
    m = 64 // (2 * 1)
    assert q["microbatches"][0] == q["microbatches"][1] == m
    assert q["bubble"][0] == q["bubble"][1] == F(4 - 1, 2 * m)


def test_memory_is_korthikantis():
    """State 18 B per parameter (no sharding); activations sbh/t (34 + 5as/h) per layer with
    sequence parallelism and no recomputation, one microbatch in flight without pipelining."""
    q = quantities(spec("tensor = 8; pipeline = 1; data = 8; recompute = none; optimizer = none"))
    s, b, h, a, t, l, V = 2048, 1, 1024, 16, 8, 8, 51200
    assert q["state_per_gpu"][0] == q["state_per_gpu"][1] == 18 * (F(12 * l * h * h, t) + F(V * h, t))
    assert q["activation_per_gpu"][0] == q["activation_per_gpu"][1] == l * F(s * b * h, t) * (34 + F(5 * a * s, h))


def test_without_pipelining_the_step_is_exact():
    q = quantities(spec("tensor = 8; pipeline = 1"))
    for name, (closed, simulated, _) in q.items():
        assert closed == simulated, name


def _tp_allreduce(t: int) -> F:
    """One ring all-reduce of a b s h bf16 activation (b = 1) on the NVLink domain of NETWORK:
    2 (t − 1) α + 2 (t − 1)/t · S / (β · share), α = 5 µs, β = 300 GB/s, share 60 %."""
    size = 2 * 1 * 2048 * 1024
    return 2 * (t - 1) * F(5, 10**6) + 2 * F(t - 1, t) * size / (300 * 10**9 * F(60, 100))


@pytest.mark.parametrize(
    ("layers", "layout", "gpus", "m", "stage"),
    [
        (8, "pipeline = 2; data = 8; trim = 1", 64, 8, 4),  # chunks 5 − 1 and 5 − 1: l/2 each
        (6, "pipeline = 2; virtual = 2; data = 8; trim = 1", 64, 8, 3),  # chunks (1, 2) and (2, 1)
        (7, "pipeline = 3; data = 4; trim = 1", 48, 16, 3),  # 2, 3, 2: the middle stage is full
    ],
)
def test_trimmed_stages_by_hand(layers, layout, gpus, m, stage):
    """Llama 3's uneven stages (Dubey et al. 2024, section 3.3.2): the first and the last chunk
    hold `trim` layers fewer. A stage's quantities are the busiest real stage's: with p = 2 both
    stages hold a trimmed chunk (l/2 layers each, as without trim), with p = 3 the middle one
    holds (l + 2 trim)/p. Tensor-parallel time m · L_s · 4 ring all-reduces (two per pass); the
    other parts scale with L_s alone, so with p = 2 they equal the untrimmed p = 2, v = 1 layout's."""
    model = f"model gpt {{ layers = {layers}; hidden = 1024; heads = 16; seq = 2048; vocab = 51200 }}"
    q = quantities(spec(f"tensor = 4; recompute = none; {layout}", gpus=gpus, model=model))
    tp = m * stage * 4 * _tp_allreduce(4)
    assert q["tp_comm_time"][0] == q["tp_comm_time"][1] == tp
    if "pipeline = 2" in layout:
        even = quantities(spec("tensor = 4; recompute = none; pipeline = 2; data = 8", gpus=gpus, model=model))  # l/2 each, one chunk
        for name in ("compute_time", "recompute_time", "tp_comm_time", "cp_comm_time", "busy_time"):
            assert q[name][0] == q[name][1] == even[name][0] == even[name][1], name
    for name in ("compute_time", "busy_time"):  # m · L_s · (forward + backward of a layer), per layer alike
        assert q[name][0] == q[name][1] != 0, name
    assert q["busy_time"][0] == q["compute_time"][0] + q["tp_comm_time"][0] + q["recompute_time"][0] + q["cp_comm_time"][0]


def test_verify_replays_a_trimmed_two_stage_layout_without_disagreement():
    """Each of the two stages runs l/2 = 4 layers: the core's 18.45 ms of compute, which the
    replay compares with the solver's worst case (a mismatch would be an internal inconsistency)."""
    claims = "check a: w.compute_time <= 18.46 ms\ncheck b: w.compute_time >= 18.45 ms\ncheck c: w.busy_time <= 1 s\ncheck d: w.tp_comm_time <= 1 s\n"
    result = verify(_file(spec("tensor = 4; pipeline = 2; data = 8; trim = 1") + claims))
    assert result.code == 0, result.out
    assert "inconsistent" not in result.out and result.out.count("confirmed by simulation") == 4


@pytest.mark.parametrize("layout", ["pipeline = 1; trim = 1", "pipeline = 1; virtual = 2; trim = 1"])
def test_a_trim_without_pipelining_is_refused(layout):
    """With p = 1 the one stage would be both edges: the layout rules refuse it, on the line."""
    result = verify(_file(spec(f"tensor = 8; {layout}") + "check s: w.compute_time <= 1000 s\n"))
    assert result.code == 1
    assert "check 's' is not established" in result.out
    assert "not a multiple of pipeline x virtual = 1" in result.out or "needs pipeline > 1" in result.out


# ---- the closed form against the schedule --------------------------------------------------

LAYOUTS = [
    ("tensor = 8; pipeline = 2", 64),
    ("tensor = 8; pipeline = 4; virtual = 2", 64),
    ("tensor = 4; pipeline = 4; data = 4; microbatch = 2; recompute = full; sequence_parallel = no", 64),
    ("tensor = 2; pipeline = 2; context = 2; data = 8; attention = flash; optimizer = weights", 64),
    ("tensor = 2; pipeline = 5; data = 2; trim = 1; recompute = none", 20),
    ("tensor = 4; pipeline = 2; data = 8; trim = 1", 64),  # both stages trimmed: no full stage
    ("tensor = 4; pipeline = 2; virtual = 2; data = 8; trim = 2", 64),
]


@pytest.mark.parametrize("layout, gpus", LAYOUTS)
@pytest.mark.parametrize("side", ["low", "high"])
def test_every_quantity_against_the_schedule(layout, gpus, side):
    text = spec(layout, gpus=gpus, extra="; jitter = 0 % .. 10 %; overlap = 0 % .. 50 %", domain_efficiency="50 % .. 70 %")
    assert_agrees(text, corner(text, high=side == "high"))


def test_two_pools_wait_for_the_slower():
    text = spec("tensor = 8; pipeline = 2", pools="  pool a = 32 x A100\n  pool h = 32 x H100", extra="; jitter = 0 % .. 5 %")
    q = quantities(text)
    assert q["pool_time.a"][0] > q["pool_time.h"][0]  # the A100 replicas are the slower ones
    assert q["pipeline_time"][0] == q["pool_time.a"][0]


# ---- verdicts on bounds ----------------------------------------------------------------------


def test_a_proof_in_the_bounds_direction_carries_over():
    result = verify(_file(spec("tensor = 8; pipeline = 2") + "check s: w.step_time <= 1000 s\ncheck u: w.mfu >= 1 %\n"))
    assert result.code == 0
    assert result.out.count("within the closed form's bound") == 2


def test_a_claim_against_the_bounds_direction_is_unknown():
    result = verify(_file(spec("tensor = 8; pipeline = 2") + "check s: w.step_time >= 1 ms\n"))
    assert result.code == 3
    assert "the closed form cannot decide it" in result.out and "proved" not in result.out.split("built-in")[0]


def test_a_counterexample_the_schedule_does_not_reproduce_is_unknown():
    text = spec("tensor = 8; pipeline = 4; virtual = 2")
    q = quantities(text)
    closed, simulated, _ = q["step_time"]
    assert simulated < closed
    between = (closed + simulated) / 2
    result = verify(_file(text + f"check s: w.step_time <= {between.numerator / between.denominator!r} s\n"))
    assert result.code == 3 and "too loose to decide it" in result.out


# ---- the layout's rules -------------------------------------------------------------------------


def test_a_layout_that_does_not_divide_establishes_nothing():
    result = verify(_file(spec("tensor = 8; pipeline = 3") + "check s: w.step_time <= 1000 s\ncheck p: c.peak >= 1 FLOP/s\n"))
    assert result.code == 1
    assert "violated  invariant: w: 8 layers divide into pipeline x virtual stages" in result.out.replace("        ", "  ")
    assert "check 's' is not established" in result.out
    assert "proved          p" in result.out  # the cluster's peak does not rest on the layout


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("; balance = proportional", "'balance' must be uniform"),
        ("; params = 1e9", "'params' comes from the model and its layout here"),
        ("; shards = 8", "'shards' comes from the model and its layout here"),
    ],
)
def test_fields_a_layout_replaces(change, message):
    result = verify(_file(spec("tensor = 8", extra=change)))
    assert result.code == 2 and message in result.out


def test_a_gpu_without_a_profile_needs_one():
    text = spec("tensor = 8", pools="  pool b = 64 x B200")
    result = verify(_file(text))
    assert result.code == 2 and "needs a 'matmul' share" in result.out


def test_model_params_are_checked_against_the_shape():
    good = "model gpt { layers = 8; hidden = 1024; heads = 16; seq = 2048; vocab = 51200; params = 153e6 }"
    bad = good.replace("153e6", "175e9")
    assert verify(_file(spec("tensor = 8", model=good))).code == 0
    result = verify(_file(spec("tensor = 8", model=bad)))
    assert result.code == 1 and "params agrees with the shape within 5 %" in result.out


_COUNTER = [0]


def _file(text: str) -> str:
    import tempfile
    from pathlib import Path

    _COUNTER[0] += 1
    path = Path(tempfile.mkdtemp()) / f"t{_COUNTER[0]}.spec"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_check_text_gives_the_same_verdicts():
    result = check_text("t.spec", spec("tensor = 8; pipeline = 2") + "check s: w.step_time <= 1000 s\n")
    assert [v.status for v in result.verdicts if v.claim.kind == "check"] == ["proved"]


def test_a_schedule_beyond_the_cores_reach_is_not_replayed_and_says_so():
    """A billion microbatches: the closed form proves the claim in no time, and the replay says
    it does not step through that many operations (counted in the summary line), instead of
    running for ever."""
    text = spec("tensor = 8; pipeline = 2").replace("batch = 64 * 2048 token", "batch = 1e9 * 2048 token")
    result = verify(_file(text + "check s: w.step_time <= 1e15 s\ncheck m: w.microbatches >= 1\n"))
    assert "not replayed: a schedule of" in result.out
    assert "not replayed" in result.out.splitlines()[-2]
