"""The TUD schedule: segment boundaries, selection statistics, fixed and ramp schedules."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from vrestore.degrade.ops import TUD_OPS
from vrestore.degrade.schedule import FramePlan, Schedule
from vrestore.degrade.spec import parse_spec
from vrestore.errors import UsageError


def take(schedule: Schedule, n: int) -> list[FramePlan]:
    return list(itertools.islice(schedule.plans(), n))


@pytest.mark.parametrize("interval", [6, 12, 24])
def test_segments_change_exactly_every_interval(interval):
    # The official script overwrites the interval with 6; here T12/T24 really hold for 12/24 frames.
    plans = take(Schedule(seed=11, size=(48, 64), interval=interval), 5 * interval)
    for plan in plans:
        assert plan.segment == plan.index // interval
    by_segment = [[p for p in plans if p.segment == s] for s in range(5)]
    for segment in by_segment:
        assert len(segment) == interval
        types = {tuple(step.op for step in p.steps) for p in segment}
        assert len(types) == 1, "type set and order are fixed within a segment"
    first = [tuple(step.op for step in seg[0].steps) for seg in by_segment]
    assert len(set(first)) > 1, "a new pipeline is drawn per segment"
    sigmas = [s.params for p in plans for s in p.steps if s.op in ("gaussian", "speckle")]
    if sigmas:
        assert len({s["seed"] for s in sigmas}) == len(sigmas)


def test_intensities_are_redrawn_every_frame():
    chain = [parse_spec("gaussian"), parse_spec("jpeg")]
    plans = take(Schedule(seed=1, size=(48, 64), chain=chain, interval=12), 12)
    assert len({p.steps[0].params["sigma"] for p in plans}) == 12


def test_selection_statistics_over_many_seeds():
    counts = np.zeros(len(TUD_OPS))
    sizes = []
    for seed in range(200):
        schedule = Schedule(seed=seed, size=(8, 8), prob=0.55)
        for _ in range(100):
            kept = [spec.name for spec in schedule.draw_selection()]
            sizes.append(len(kept))
            for name in kept:
                counts[TUD_OPS.index(name)] += 1
    assert np.mean(sizes) == pytest.approx(3.15, abs=0.1)
    assert np.all(np.abs(counts / len(sizes) - 0.45) < 0.02), counts / len(sizes)


def test_order_is_random():
    orders = set()
    for seed in range(50):
        kept = Schedule(seed=seed, size=(8, 8), prob=0.0).draw_selection()
        orders.add(tuple(s.name for s in kept))
    assert len(orders) > 40


def test_same_seed_same_plans_and_clip_key_changes_them():
    a = [p.to_dict() for p in take(Schedule(seed=5, size=(48, 64)), 30)]
    b = [p.to_dict() for p in take(Schedule(seed=5, size=(48, 64)), 30)]
    c = [p.to_dict() for p in take(Schedule(seed=5, size=(48, 64), key=7), 30)]
    assert a == b and a != c


def test_fixed_schedule_holds_parameters_but_not_noise():
    plans = take(Schedule(seed=2, size=(48, 64), mode="fixed", prob=0.0), 30)
    names = {tuple(s.op for s in p.steps) for p in plans}
    assert len(names) == 1 and len(next(iter(names))) == 7
    for step_idx, step in enumerate(plans[0].steps):
        for plan in plans[1:]:
            other = plan.steps[step_idx].params
            assert {k: v for k, v in other.items() if k != "seed"} == {
                k: v for k, v in step.params.items() if k != "seed"}
    seeds = [p.steps[[s.op for s in p.steps].index("gaussian")].params["seed"] for p in plans]
    assert len(set(seeds)) == len(seeds)


def test_ramp_raises_intensity_over_time():
    chain = [parse_spec("gaussian"), parse_spec("jpeg")]
    plans = take(Schedule(seed=3, size=(48, 64), chain=chain, mode="ramp", frame_count=21), 21)
    sigmas = [p.steps[0].params["sigma"] for p in plans]
    qualities = [p.steps[1].params["quality"] for p in plans]
    assert sigmas == sorted(sigmas) and sigmas[0] == 10.0 and sigmas[-1] == 15.0
    assert qualities == sorted(qualities, reverse=True) and qualities[0] == 40 and qualities[-1] == 20


def test_user_values_are_kept_and_clip_steps_share_a_chunk():
    chain = [parse_spec("gaussian:sigma=20"), parse_spec("compress")]
    plans = take(Schedule(seed=4, size=(48, 64), chain=chain, interval=4), 8)
    assert all(p.steps[0].params["sigma"] == 20 for p in plans)
    assert [p.steps[1].chunk for p in plans] == [0, 0, 0, 0, 4, 4, 4, 4]
    assert plans[0].steps[1].params == plans[3].steps[1].params


def test_weather_is_applied_first_with_fixed_field_and_moving_time():
    weather = parse_spec("rain:strength=0.3")
    plans = take(Schedule(seed=4, size=(48, 64), weather=weather), 3)
    assert [p.steps[0].op for p in plans] == ["rain"] * 3
    assert [p.steps[0].params["t"] for p in plans] == [0, 1, 2]
    assert len({p.steps[0].params["seed"] for p in plans}) == 1
    assert plans[0].steps[0].params["strength"] == 0.3


def test_a_pool_limits_the_operators_drawn():
    drawn = set()
    for seed in range(30):
        schedule = Schedule(seed=seed, size=(8, 8), prob=0.3, pool=["gaussian", "speckle"])
        for _ in range(10):
            drawn.update(spec.name for spec in schedule.draw_selection())
    assert drawn == {"gaussian", "speckle"}


@pytest.mark.parametrize("kwargs", [{"mode": "weekly"}, {"interval": 0}, {"prob": 1.5}, {"pool": ["rain"]}])
def test_bad_schedule_settings_are_usage_errors(kwargs):
    with pytest.raises(UsageError):
        Schedule(seed=0, size=(8, 8), **kwargs)


def test_plans_round_trip_through_dicts():
    for plan in take(Schedule(seed=9, size=(48, 64)), 13):
        assert FramePlan.from_dict(plan.to_dict()) == plan
