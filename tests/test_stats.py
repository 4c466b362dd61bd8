"""Generic statistics: the few-seeds bootstrap SE, the t quantile, slopes, exponent intervals and
the comparison of an interval with a threshold (borderline within the round-off tolerance)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mufno_core.stats import (
    bootstrap_indices,
    bootstrap_se,
    compare,
    exponent_fit,
    exponent_interval,
    paired_seed_exponent,
    resampled_means,
    slope,
    student_t,
)


def test_bootstrap_se_corrects_for_few_seeds():
    samples = np.array([1.0, 2.0, 3.0, 4.0])
    assert bootstrap_se(samples, 4) == pytest.approx(np.std(samples) * math.sqrt(4 / 3))
    assert math.isnan(bootstrap_se(samples, 1))
    assert math.isnan(bootstrap_se(np.full(3, np.nan), 5))


def test_student_t_is_wider_than_the_normal_for_few_seeds():
    assert student_t(2) == pytest.approx(4.3027, abs=1e-4)
    assert student_t(1000) == pytest.approx(1.96, abs=0.01)
    assert student_t(7, level=0.6) < student_t(7)


def test_the_bootstrap_indices_resample_seeds_and_the_means_follow_them():
    idx = bootstrap_indices(3, 50, np.random.default_rng(0))
    assert idx.shape == (50, 3) and idx.min() >= 0 and idx.max() <= 2
    values = np.array([[0.0, 1.0, 2.0], [10.0, 11.0, 12.0]])  # (grid points, seeds)
    means = resampled_means(values, np.array([[0, 0, 0], [2, 2, 1]]))
    np.testing.assert_allclose(means, [[0.0, 10.0], [5 / 3, 35 / 3]])


@pytest.mark.parametrize("truth", [-0.5, 0.0, 0.7])
def test_slope_is_least_squares_along_the_last_axis(truth):
    x = np.log(np.array([1.0, 2.0, 3.5, 5.0]))
    y = np.stack([1 + truth * x, 2 + truth * x])
    np.testing.assert_allclose(slope(x, y), [truth, truth])


def test_exponent_interval_decides_from_its_ends():
    fit = exponent_interval("alpha", -0.51, 0.09, 8, theory=-0.5, half_value=-0.5)
    assert fit["alpha_low"] == pytest.approx(-0.51 - student_t(7) * 0.09)
    assert fit["consistent"] and fit["excludes_zero"] and not fit["excludes_half"]


@pytest.mark.parametrize(("low", "high", "side", "margin"), [
    (-0.70, -0.32, "below", 0.32),     # Darcy SP against 0: clear
    (0.30, 0.50, "above", 0.30),
    (-0.22, 0.24, "holds", -0.22),
    (-0.30, -0.003, "borderline", 0.003),  # Burgers SP on an AMD EPYC
    (-0.27, 0.05, "borderline", -0.05),    # … and on an Intel Xeon
    (0.01, 0.28, "borderline", 0.01),
    (-0.02, 0.03, "holds", -0.02),          # the whole interval within round-off of 0
    (0.01, 0.05, "holds", 0.01),
    (math.nan, 0.2, "unknown", math.nan),
])
def test_compare_an_interval_with_a_threshold(low, high, side, margin):
    c = compare(low, high, 0.0, 0.06)
    assert c.side == side
    if math.isnan(margin):
        assert math.isnan(c.margin)
    else:
        assert c.margin == pytest.approx(margin)
    assert c.excludes == (side in ("below", "above"))


def test_compare_moves_with_its_threshold_and_tolerance():
    assert compare(-0.70, -0.32, -0.5, 0.06).side == "holds"
    assert compare(-0.30, -0.003, 0.0, 0.0).side == "below"  # no tolerance: the old decision
    assert compare(-0.30, -0.10, 0.0, 0.06).side == "below"


def power_law_table(exponent: float, seed_offsets: np.ndarray, noise: float = 0.0):
    """ln q for K = 2 … 64 and one column per seed: exponent · ln(log K) + a seed's offset (+ noise)."""
    x = np.log(np.log(np.array([2.0, 4.0, 8.0, 16.0, 64.0])))
    rng = np.random.default_rng(3)
    values = exponent * x[:, None] + seed_offsets[None, :] + noise * rng.standard_normal(
        (len(x), len(seed_offsets)))
    return x, values


@pytest.mark.parametrize("truth", [-0.5, 0.0, 0.3])
def test_the_paired_fit_removes_what_a_seed_shifts_at_every_k(truth):
    """A seed that moves q by the same factor at every K does not move the fitted exponent: paired
    draws give every draw the true slope (SE 0), where an unpaired resampling would not."""
    x, values = power_law_table(truth, np.array([0.0, 1.0, -2.0, 0.5]))
    fit = paired_seed_exponent("beta", x, values, n_boot=200, theory=truth)
    assert fit["beta"] == pytest.approx(truth)
    assert fit["half_width"] == pytest.approx(0.0, abs=1e-12) and fit["consistent"]
    assert fit["growth"] == pytest.approx(math.exp(truth * (x[-1] - x[0])))
    assert fit["_samples"].shape == (200,)


def test_the_paired_fit_has_an_interval_that_holds_the_truth_under_noise():
    x, values = power_law_table(0.4, np.random.default_rng(1).normal(0, 1, 8), noise=0.05)
    fit = paired_seed_exponent("alpha", x, values, theory=0.4, half_value=-0.5)
    assert fit["alpha_low"] < 0.4 < fit["alpha_high"] and fit["excludes_zero"]
    assert 0 < fit["half_width"] < 0.2 and fit["alpha_se"] > 0


def test_exponent_fit_needs_two_ks():
    fit = exponent_fit("alpha", np.array([0.3]), np.array([1.0]), np.ones((5, 1)), 4, theory=0.0)
    assert math.isnan(fit["alpha"]) and math.isnan(fit["half_width"])
    assert fit["_samples"].shape == (5,) and np.isnan(fit["_samples"]).all()
