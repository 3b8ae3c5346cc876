"""Power traces and the smoothing controller, for a GB200-class GPU (1200 W tdp, 150 W idle)."""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from checker.sim import (Segment, average_power, energy, gpu_max_slew, gpu_step_segments,
                         gpu_swing, merge_traces, site_ramp, site_step_segments, site_swing,
                         smooth)

TDP, IDLE = F(1200), F(150)
TRANSITION = F(1, 20)  # 50 ms


def test_gpu_step_segments_by_hand():
    trace = gpu_step_segments(F(3), F(5), TDP, IDLE)
    assert trace == (Segment(F(3), TDP), Segment(F(2), IDLE))
    assert energy(trace) == 3 * 1200 + 2 * 150
    assert average_power(trace) == F(3900, 5)
    assert gpu_step_segments(F(5), F(5), TDP, IDLE) == (Segment(F(5), TDP),)


def test_site_trace_merges_gpus_on_one_timeline():
    cohorts = ((2, F(3), TDP, IDLE), (1, F(4), F(700), F(100)))
    site = site_step_segments(cohorts, F(5))
    assert site == (Segment(F(3), F(3100)), Segment(F(1), F(1000)), Segment(F(1), F(400)))
    per_gpu = sum(n * energy(gpu_step_segments(c, F(5), t, lo)) for n, c, t, lo in cohorts)
    assert energy(site) == per_gpu == 10700


def test_merge_joins_equal_neighbours_and_checks_spans():
    a = (Segment(F(1), F(10)), Segment(F(1), F(20)))
    b = (Segment(F(1), F(20)), Segment(F(1), F(10)))
    assert merge_traces((a, b), (1, 1)) == (Segment(F(2), F(30)),)
    with pytest.raises(ValueError):
        merge_traces((a, (Segment(F(1), F(1)),)), (1, 1))


def test_average_power_needs_time():
    with pytest.raises(ValueError):
        average_power(())


def test_controller_by_hand():
    # 10 ms tick, 50 kW/s slew limit = 500 W per tick, floor 300 W
    demand = (TDP, IDLE, IDLE, IDLE, TDP)
    out = smooth(demand, F(1, 100), F(300), F(50_000), TDP, TDP)
    assert out == (F(1200), F(700), F(300), F(300), F(800))
    assert smooth(demand, F(1, 100), F(300), None, TDP, TDP) == (
        F(1200), F(300), F(300), F(300), F(1200))
    with pytest.raises(ValueError):
        smooth(demand, F(1, 100), F(300), None, TDP, F(100))  # start below the floor


@pytest.mark.parametrize("floor, swing", [(F(0), F(1050)), (F(100), F(1050)),
                                          (F(600), F(600)), (F(1200), F(0))])
def test_gpu_swing(floor, swing):
    assert gpu_swing(TDP, IDLE, floor) == swing


@pytest.mark.parametrize("floor, ramp, slew", [
    (F(0), None, F(21_000)),           # (1200 - 150) W / 50 ms
    (F(0), F(5_000), F(5_000)),        # the slew limit binds
    (F(600), None, F(12_000)),         # (1200 - 600) W / 50 ms
    (F(600), F(20_000), F(12_000)),    # the limit is above the natural slope
    (F(1200), F(5_000), F(0)),         # a floor at tdp: flat
])
def test_gpu_max_slew(floor, ramp, slew):
    for ticks in (1, 7, 64):
        assert gpu_max_slew(TDP, IDLE, floor, ramp, TRANSITION, ticks) == slew


def test_site_swing_and_ramp_add_the_gpus():
    fleet = ((150_000, F(700), F(100), F(0)), (50_000, F(700), F(100), F(0)),
             (20_000, TDP, IDLE, F(0)))
    assert site_swing(fleet) == 150_000 * 600 + 50_000 * 600 + 20_000 * 1050  # 141 MW
    ramps = ((10, TDP, IDLE, F(600), F(5_000)), (4, F(700), F(100), F(0), None))
    # 10 * min(5000, 12000) + 4 * (600 W / 50 ms)
    assert site_ramp(ramps, TRANSITION, 16) == 10 * 5_000 + 4 * 12_000


def test_levels_outside_tdp_are_refused():
    with pytest.raises(ValueError):
        gpu_swing(TDP, F(1300), F(0))


def test_a_site_counts_its_racks_and_nodes_pool_by_pool_by_hand():
    from checker.sim import Cluster, ClusterSpec, GpuSpec, PoolSpec, PowerSpec

    gpu = GpuSpec(F(2500 * 10**12), F(186 * 10**9), F(1200), F(0), F(0), False, None)
    power = PowerSpec(F(1), F(0), F(1, 20), rack=72, rack_power=F(10000), node=4, node_power=F(600), cooling=F(5000))
    site = Cluster(ClusterSpec((PoolSpec("a", 73, gpu), PoolSpec("b", 72, gpu)), None, power))
    # pool a fills 2 racks (the second with one GPU), pool b exactly 1; nodes: 19 + 18
    assert site.racks == 3 and site.nodes == 37
    assert site.it == 145 * 1200 + 3 * 10000 + 37 * 600  # 174000 + 30000 + 22200 = 226200 W
    assert site.draw == 226200 + 5000


# ---- separate ramp-up and ramp-down rates, ramp-down hysteresis (NVML) ------------------

from checker.sim import hold_track, max_slews, slew_traces, track_rates, wait_drop  # noqa: E402


def test_track_rates_by_hand():
    assert track_rates(100, 200, 0, 300, 30, 10) == 130  # rising: at most up
    assert track_rates(100, 0, 40, 300, 30, 10) == 90  # falling: at most down
    assert track_rates(100, 0, 95, 300, 30, 10) == 95  # to the floor, no further
    assert track_rates(100, 500, 0, 300, None, 10) == 300  # unlimited up, capped at tdp


def test_hold_track_waits_out_the_hysteresis_then_falls():
    out, below, trace = 100, 0, []
    for _ in range(5):
        out, below = hold_track(out, 0, 0, 100, 10, 25, below, 2)
        trace.append(out)
    assert trace == [100, 100, 75, 50, 25]  # two ticks held, then 25 per tick
    assert hold_track(50, 80, 0, 100, 10, 25, 7, 2) == (60, 0)  # rising resets the count


def test_asymmetric_rates_by_hand():
    # tdp 1200 W, low 600 W, over 50 ms: the GPU itself moves 12 kW/s; down 1 kW/s, up 2 kW/s
    fall, rise = max_slews(F(1200), F(600), F(600), F(2000), F(1000), F(0), F(1, 20), 64)
    assert (fall, rise) == (1000, 2000)
    # unlimited both ways: the GPU's own 12 kW/s; a hysteresis delays the fall, not its rate
    assert max_slews(F(1200), F(600), F(0), None, None, F(1, 10), F(1, 20), 64) == (12000, 12000)
    falling, _ = slew_traces(F(1200), F(600), F(0), None, None, F(1, 10), F(1, 20), 64)
    assert falling[:129] == (F(1200),) * 129  # held for 100 ms = 128 ticks of 50/64 ms


def test_wait_drop_by_hand():
    # 1.2 kW -> 600 W, down 1 kW/s: a 0.5 s wait with a 0.2 s hysteresis drops 0.3 s * 1 kW/s
    assert wait_drop(F(1200), F(600), F(600), F(1000), F(1, 20), F(1, 5), F(1, 2)) == 300
    assert wait_drop(F(1200), F(600), F(600), F(1000), F(1, 20), F(1, 5), F(1, 10)) == 0  # rides through
    assert wait_drop(F(1200), F(600), F(600), F(1000), F(1, 20), F(0), F(5)) == 600  # reaches low
    assert wait_drop(F(1200), F(600), F(0), None, F(1, 20), F(0), F(1, 100)) == 120  # own 12 kW/s


# ---- energy storage between the GPUs and the grid ------------------------------------------

from checker.sim import storage_step, store  # noqa: E402


def test_store_never_leaves_its_bounds():
    assert store(5, 10, 12) == 12 and store(5, -10, 12) == 0 and store(5, -3, 12) == 2


def test_storage_step_by_hand():
    # 14 MW for 1 s, 2 MW for 1 s: the grid's target is the 8 MW average; 4 MW of storage
    # shaves the peak to 10 MW and lifts the trough to 6 MW; it draws 4 MJ and takes them back
    run = storage_step(F(14 * 10**6), F(2 * 10**6), F(1), F(2), F(10**7), F(4 * 10**6))
    assert run.grid == ((1, 10 * 10**6), (1, 6 * 10**6))
    assert run.drawn == 4 * 10**6 and run.charges == (6 * 10**6, 10**7)
    # a 3 MJ store empties after 0.75 s: the grid sees the full 14 MW for the last 0.25 s, and
    # the wait refills it in 0.75 s, the grid dropping to 2 MW after that
    run = storage_step(F(14 * 10**6), F(2 * 10**6), F(1), F(2), F(3 * 10**6), F(4 * 10**6))
    assert run.grid == ((F(3, 4), 10 * 10**6), (F(1, 4), 14 * 10**6), (F(3, 4), 6 * 10**6), (F(1, 4), 2 * 10**6))
    # compute longer than the wait: the average is 8 MW, so 2 MW out for 1.5 s (3 MJ) and
    # 4 MW back in for 0.5 s (2 MJ): 1 MJ short each step, it drains
    run = storage_step(F(10 * 10**6), F(2 * 10**6), F(3, 2), F(2), F(10**7), F(4 * 10**6))
    assert run.drawn == 3 * 10**6 and run.charges[-1] == 10**7 - 10**6


from checker.sim import StageGroup, staged_ramp, staged_trace  # noqa: E402


def test_staged_start_by_hand():
    # 3 stages 1 s apart of 2 GPUs each, rising 0 -> 100 W at 40 W/s: 2.5 s each, so the
    # three overlap from 2 s to 2.5 s: 3 * 2 * 40 = 240 W/s
    group = (StageGroup(F(2), F(0), F(100), F(40)),)
    assert staged_ramp(group, 3, F(1)) == 240
    trace = staged_trace(group, 3, F(1))
    assert trace[0] == (0, 0) and trace[-1] == (F(9, 2), 600)
    assert (F(2), 80 + 160 + 240 + 0) not in trace and (F(2), 2 * 80 + 2 * 40) in trace
    # far apart (10 s): one stage at a time
    assert staged_ramp(group, 3, F(10)) == 80
    # falling mirrors it
    assert staged_ramp((StageGroup(F(2), F(100), F(0), F(40)),), 3, F(1)) == 240


def test_staged_start_refuses_bad_input():
    with pytest.raises(ValueError):
        staged_trace((StageGroup(F(1), F(0), F(1), F(1)),), 0, F(1))


from checker.sim import band_harmonics, band_peak, harmonic, outward, pi_interval, turn  # noqa: E402

PI_DIGITS = F("3.14159265358979323846264338327950288")  # π cut at 35 decimals: π lies in [this, this + 1e-35]


def test_pi_by_machin_brackets_its_digits():
    low, high = pi_interval()
    assert low <= PI_DIGITS and PI_DIGITS + F(1, 10**35) <= high
    assert high - low < F(1, 10**27)


def test_sine_and_cosine_of_a_turn_by_hand():
    for r, (s, c) in ((F(0), (0, 1)), (F(1, 4), (1, 0)), (F(1, 2), (0, -1)), (F(3, 4), (-1, 0)), (F(5, 4), (1, 0))):
        (s_lo, s_hi), (c_lo, c_hi) = turn(r)
        assert s_lo <= s <= s_hi and c_lo <= c <= c_hi and s_hi - s_lo < F(1, 10**25)
    (s_lo, s_hi), _ = turn(F(1, 12))  # sin 30° = 1/2
    assert s_lo <= F(1, 2) <= s_hi and s_hi - s_lo < F(1, 10**25)
    _, (c_lo, c_hi) = turn(F(-1, 6))  # cos(-60°) = 1/2
    assert c_lo <= F(1, 2) <= c_hi


def test_outward_rounding_never_moves_an_end_inward():
    assert outward(1, 3, 2, 3, 16) == (5, 11)  # [1/3, 2/3] on sixteenths: [5/16, 11/16]
    assert outward(-1, 3, 1, 3, 16) == (-6, 6)


def test_square_wave_harmonics_by_hand():
    # 1000 W for 1 s, 0 W for 1 s: a 2 s period, duty 1/2; harmonic k has 2·1000·|sin(kπ/2)|/(kπ)
    wave = ((F(1), F(1000)), (F(1), F(0)))
    low, high = pi_interval()
    for k, expected_times_pi in ((1, F(2000)), (2, F(0)), (3, F(2000, 3))):
        a_lo, a_hi = harmonic(wave, k)
        assert expected_times_pi / high - F(1, 10**20) <= a_lo <= a_hi <= expected_times_pi / low + F(1, 10**20)
    # duty 1/6 over 3 s: the fundamental (1/3 Hz) is 2·600·sin(π/6)/π = 600/π
    short = ((F(1, 2), F(700)), (F(5, 2), F(100)))
    a_lo, a_hi = harmonic(short, 1)
    assert 600 / high - F(1, 10**20) <= a_lo <= a_hi <= 600 / low + F(1, 10**20)
    # a band from 0.6 Hz leaves the fundamental (0.5 Hz) out: the third harmonic (1.5 Hz) is the largest left
    assert [k for k, _ in band_harmonics(wave, F(3, 5), F(20))][0] == 2
    peak_lo, peak_hi = band_peak(wave, F(3, 5), F(20))
    assert F(2000, 3) / high - F(1, 10**20) <= peak_lo <= peak_hi <= F(2000, 3) / low + F(1, 10**20)
    assert band_peak(wave, F(30), F(40)) != (0, 0) and band_peak(wave, F(1, 10), F(2, 5)) == (0, 0)  # no harmonic below 0.5 Hz
