"""The operator norm of random Fourier layers: exact per-mode norms, the max-of-Gaussians law."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from mufno_core import theory
from mufno_core.spectral import SpectralConv
from mufno_core.theory import (
    expected_max_complex_modulus,
    expected_max_gaussian,
    growth_table,
    kept_mode_count,
    max_gaussian_asymptote,
    mode_block_norms,
    operator_norm_vs_modes,
    random_spectral_layer,
    spectral_operator_norm,
    summarize_norms,
    verify_with_layer,
    width_sum_growth,
)

LARGE_K = {1: 256, 2: 24, 3: 10}


def test_expected_max_gaussian_known_values_and_monte_carlo():
    assert expected_max_gaussian(1) == pytest.approx(0.0, abs=1e-6)
    assert expected_max_gaussian(2) == pytest.approx(1 / math.sqrt(math.pi), rel=1e-5)
    sample = np.random.default_rng(0).standard_normal((20000, 100)).max(axis=1).mean()
    assert expected_max_gaussian(100) == pytest.approx(sample, rel=0.01)
    assert expected_max_gaussian(10**4) < max_gaussian_asymptote(10**4)  # the bound is an upper one


def test_expected_max_complex_modulus():
    assert expected_max_complex_modulus(1) == pytest.approx(math.sqrt(math.pi) / 2, rel=1e-5)
    z = np.random.default_rng(1).standard_normal((20000, 50, 2)) / math.sqrt(2)
    sample = np.abs(z[..., 0] + 1j * z[..., 1]).max(axis=1).mean()
    assert expected_max_complex_modulus(50) == pytest.approx(sample, rel=0.01)
    assert expected_max_complex_modulus(50, std=3.0) == pytest.approx(3 * expected_max_complex_modulus(50))


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_norm_is_the_largest_block_and_the_layer_attains_it(dim):
    layer = random_spectral_layer(dim, 3, 4, std=0.7, seed=dim)
    blocks = layer.weight.detach().reshape(-1, 4, 4)
    brute = max(float(torch.linalg.svdvals(b)[0]) for b in blocks)
    assert spectral_operator_norm(layer) == pytest.approx(brute, rel=1e-5)
    assert mode_block_norms(layer).shape == layer.weight.shape[:-2]
    check = verify_with_layer(layer)
    assert check["gain_on_top_mode_input"] == pytest.approx(check["largest_block_off_zero_plane"], rel=1e-4)
    assert check["largest_block_off_zero_plane"] <= check["norm_from_weights"] * (1 + 1e-6)
    assert check["gain_on_random_input"] < check["norm_from_weights"]


def test_multiplier_scales_the_norm():
    layer = SpectralConv(2, 3, 3, 4, init_std=1.0, multiplier=1.0)
    norm = spectral_operator_norm(layer)
    layer.multiplier = -2.5
    assert spectral_operator_norm(layer) == pytest.approx(2.5 * norm)


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_m1_norm_matches_the_max_of_complex_gaussians(dim):
    """m = 1: the norm is the max of |r| over 2^(d-1) K^d complex Gaussians; within 20% at large K."""
    df = operator_norm_vs_modes(dim, [2, LARGE_K[dim]], width=1, n_draws=12, seed=7, std=1.5)
    summary = summarize_norms(df)
    large = summary[summary["modes"] == LARGE_K[dim]].iloc[0]
    assert large["n_modes"] == kept_mode_count(dim, LARGE_K[dim])
    assert large["ratio"] == pytest.approx(1.0, abs=0.2)


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_norm_grows_like_sqrt_log_not_sqrt_n(dim):
    df = operator_norm_vs_modes(dim, [2, 4, LARGE_K[dim]], width=8, n_draws=4, seed=3)
    summary = summarize_norms(df)
    assert (summary["norm"] <= summary["predicted"]).all()  # the m > 1 prediction is an upper estimate
    row = growth_table(summary).iloc[0]
    assert row["measured_growth"] > 1.05  # it does grow …
    assert row["measured_growth"] < 1.5 < row["sqrt_n_growth"]  # … but nothing like sqrt(n)
    assert row["power_of_n"] < 0.1


def test_width_sums_aligned_grow_linearly_random_like_sqrt():
    df = width_sum_growth([16, 256, 4096], n_draws=64, seed=0)
    for kind, slope in [("aligned", 1.0), ("independent", 0.5)]:
        g = df[df["kind"].str.startswith(kind)]
        fitted = np.polyfit(np.log(g["width"]), np.log(g["value"]), 1)[0]
        assert fitted == pytest.approx(slope, abs=0.08)


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_norm_exponent_is_the_max_law_at_width_one_and_far_below_it_at_width_sixteen(dim):
    ks = {1: [2, 8, 32, 128], 2: [2, 4, 8, 16], 3: [2, 3, 5, 8]}[dim]
    norms = pd.concat([theory.operator_norm_vs_modes(dim, ks, width=m, n_draws=24, seed=1)
                       for m in (1, 16)], ignore_index=True)
    fits = theory.norm_exponent(norms).set_index("width")
    wide, narrow = fits.loc[16], fits.loc[1]
    assert narrow.beta_low <= narrow.predicted_beta <= narrow.beta_high  # the exact E max
    assert wide.beta_high < 0.2 < narrow.beta_low  # a maximum of m×m blocks barely grows


def test_theory_verdict_follows_the_numbers():
    norms = theory.operator_norm_vs_modes(1, [2, 8, 32], width=1, n_draws=16, seed=0)
    summary = theory.summarize_norms(norms)
    assert theory.theory_verdict(summary, theory.growth_table(summary)).startswith("Confirmed")
    doubled = summary.assign(ratio=summary["ratio"] * 2)  # measured twice the prediction
    assert theory.theory_verdict(doubled, theory.growth_table(summary)).startswith("Not confirmed")
