"""The time estimate a sweep prints before it starts (mufno_core.sweep.estimate)."""

from __future__ import annotations

import math

import pytest

from mufno_core.sweep.estimate import (
    SweepEstimate,
    UnitTiming,
    _unit_flops,
    estimate_sweep,
    format_duration,
    makespan,
    unit_seconds,
)
from mufno_core.sweep.executors import group_trials
from mufno_core.sweep.experiments import grid


def test_makespan_is_the_balanced_share_or_the_longest_unit():
    assert makespan([10.0, 10.0, 10.0, 10.0], 2) == 20.0
    assert makespan([100.0, 1.0, 1.0], 2) == 100.0
    assert makespan([], 4) == 0.0


def test_a_unit_between_the_calibrated_ones_follows_their_power_law():
    configs = grid("synthetic_lr", "smoke")
    small = [c for c in configs if c.modes == min(x.modes for x in configs)][:2]
    large = [c for c in configs if c.modes == max(x.modes for x in configs)][:2]
    f0, f1 = _unit_flops(small), _unit_flops(large)
    assert f1 > f0
    # seconds per step ∝ FLOPs^1, fixed part constant: the estimate must reproduce both exactly
    low = UnitTiming(f0, 2, fixed=0.4, per_step=2 * 1e-3)
    high = UnitTiming(f1, 2, fixed=0.4, per_step=2 * 1e-3 * f1 / f0)
    steps = small[0].steps
    assert unit_seconds(small, low, high) == pytest.approx(0.4 + steps * 2e-3)
    assert unit_seconds(large, low, high) == pytest.approx(0.4 + steps * 2e-3 * f1 / f0)
    # members scale linearly: twice the members, twice the time
    assert unit_seconds(small * 2, low, high) == pytest.approx(2 * unit_seconds(small, low, high))


def test_a_smoke_sweep_is_calibrated_on_this_machine(tmp_path):
    units = group_trials(grid("synthetic_lr", "smoke"))
    estimate = estimate_sweep(units, data_dir=str(tmp_path), workers=2, stack=True)
    assert estimate.trials == sum(len(u) for u in units)
    assert estimate.workers == min(2, len(units))
    assert math.isfinite(estimate.seconds) and estimate.seconds > 0
    assert 0 < estimate.calibration_seconds < 60
    assert "expected" in estimate.line("sweep synthetic_lr")


def test_nothing_to_run_says_so():
    estimate = estimate_sweep([], workers=2)
    assert estimate.seconds == 0 and "nothing to run" in estimate.line("sweep x")
    assert isinstance(estimate, SweepEstimate)


@pytest.mark.parametrize("seconds, text", [(42, "42 s"), (210, "3.5 min"), (7200, "2.0 h")])
def test_durations_read_in_the_unit_that_fits(seconds, text):
    assert format_duration(seconds) == text
