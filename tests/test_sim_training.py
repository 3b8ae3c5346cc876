"""Training steps and inference serving in the simulation core, computed by hand."""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from checker.sim import (Cohort, Step, barrier, gpu_finish_times, serving_throughput,
                         simulate_training, training_step, work_per_gpu)

# two slow GPUs without jitter, one fast GPU that runs 10 % slow
A = Cohort("a", 2, F(100), F(0))
B = Cohort("b", 1, F(300), F(1, 10))
FLEET = (A, B)


def test_uniform_work_is_the_same_on_every_gpu():
    assert work_per_gpu(FLEET, F(1000), "uniform") == (F(1000, 3), F(1000, 3))


def test_proportional_work_follows_peak():
    # sum of count * peak = 2*100 + 300 = 500
    assert work_per_gpu(FLEET, F(1000), "proportional") == (F(200), F(600))


@pytest.mark.parametrize("balance", ["uniform", "proportional"])
def test_work_adds_up_to_the_batch_over_all_gpus(balance):
    work = work_per_gpu(FLEET, F(1000), balance)
    assert sum(c.count * w for c, w in zip(FLEET, work)) == 1000


def test_unknown_balance_is_refused():
    with pytest.raises(ValueError):
        work_per_gpu(FLEET, F(1000), "greedy")


def test_finish_times_by_hand():
    # proportional at efficiency 1/2: a: 200 / 50 = 4 s; b: 600 / 150 * 1.1 = 4.4 s
    assert gpu_finish_times(FLEET, (F(200), F(600)), F(1, 2)) == (F(4), F(22, 5))
    # uniform: a: (1000/3) / 50 = 20/3 s; b: (1000/3) / 150 * 1.1 = 22/9 s
    assert gpu_finish_times(FLEET, (F(1000, 3),) * 2, F(1, 2)) == (F(20, 3), F(22, 9))


def test_barrier_waits_for_the_last():
    assert barrier((F(4), F(22, 5), F(3))) == F(22, 5)
    assert barrier((F(7, 3),)) == F(7, 3)
    with pytest.raises(ValueError):
        barrier(())


def test_training_step_by_hand():
    step = training_step(FLEET, F(1000), F(1, 2), "proportional", F(2), F(1, 4))
    # barrier at 4.4 s, then 3/4 of the 2 s exchange is exposed
    assert step == Step(F(22, 5), F(2), F(59, 10), (F(4), F(22, 5)))
    uniform = training_step(FLEET, F(1000), F(1, 2), "uniform", F(2), F(1))
    assert uniform.step_time == uniform.compute_time == F(20, 3)


def test_a_cohort_is_the_same_as_its_gpus_one_by_one():
    fleet = (Cohort("a", 3, F(100), F(1, 20)), Cohort("b", 2, F(250), F(0)))
    singles = tuple(Cohort(c.pool, 1, c.peak, c.jitter) for c in fleet for _ in range(c.count))
    for balance in ("uniform", "proportional"):
        grouped = training_step(fleet, F(10**6), F(2, 5), balance, F(3), F(1, 2))
        alone = training_step(singles, F(10**6), F(2, 5), balance, F(3), F(1, 2))
        assert (grouped.compute_time, grouped.comm_time, grouped.step_time) == (
            alone.compute_time, alone.comm_time, alone.step_time)
        assert alone.finish == (grouped.finish[0],) * 3 + (grouped.finish[1],) * 2


def test_steps_on_a_timeline_repeat_and_add_up():
    steps = simulate_training(FLEET, F(1000), F(1, 2), "proportional", F(2), F(1, 4), 5)
    one = training_step(FLEET, F(1000), F(1, 2), "proportional", F(2), F(1, 4))
    assert steps == (one,) * 5
    assert sum(s.step_time for s in steps) == 5 * F(59, 10)
    assert simulate_training(FLEET, F(1000), F(1, 2), "proportional", F(2), F(1, 4), 0) == ()


def test_more_jitter_never_shortens_the_step():
    base = training_step(FLEET, F(1000), F(1, 2), "proportional", F(2), F(1, 4))
    slower = (A, Cohort("b", 1, F(300), F(1, 5)))
    grown = training_step(slower, F(1000), F(1, 2), "proportional", F(2), F(1, 4))
    assert grown.step_time == F(24, 5) + F(3, 2) > base.step_time


def test_serving_throughput_sums_every_gpu():
    # (2 * 100 + 300) FLOP/s * 1/2 / 10 FLOP per token = 25 token/s
    assert serving_throughput(FLEET, F(1, 2), F(10)) == 25
    singles = (Cohort("a", 1, F(100), F(0)),) * 2 + (Cohort("b", 1, F(300), F(0)),)
    assert serving_throughput(singles, F(1, 2), F(10)) == 25
