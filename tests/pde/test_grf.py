"""Gaussian random fields: exact pointwise variances, determinism per sample index."""

import numpy as np
import pytest

from mufno_core.pde import grf


def test_rngs_independent_of_chunking():
    whole = grf.burgers_initial_condition(grf.sample_rngs(7, 0, 6), 64)
    parts = [grf.burgers_initial_condition(grf.sample_rngs(7, i, i + 2), 64) for i in (0, 2, 4)]
    np.testing.assert_array_equal(whole, np.concatenate(parts))
    assert not np.allclose(whole[0], grf.burgers_initial_condition(grf.sample_rngs(8, 0, 1), 64))


def test_burgers_low_modes_shared_across_resolutions():
    coarse = grf.burgers_initial_condition(grf.sample_rngs(0, 0, 2), 64)
    fine = grf.burgers_initial_condition(grf.sample_rngs(0, 0, 2), 256)
    k = 10
    np.testing.assert_allclose(np.fft.rfft(coarse)[:, :k] / 64, np.fft.rfft(fine)[:, :k] / 256,
                               atol=1e-12)


def empirical_vs_exact(samples: np.ndarray, exact_var: float) -> float:
    return samples.var() / exact_var


@pytest.mark.parametrize("field", ["burgers", "navier_stokes", "darcy"])
def test_pointwise_variance(field):
    rngs = grf.sample_rngs(0, 0, 400)
    if field == "burgers":
        n = 128
        k = np.arange(1, (n - 1) // 2 + 1)
        exact = np.sum(2 * (25.0 / ((2 * np.pi * k) ** 2 + 25.0)) ** 2)
        samples = grf.burgers_initial_condition(rngs, n)
    elif field == "navier_stokes":
        s = 32
        k = np.fft.fftfreq(s, 1.0 / s)
        lam = 4 * np.pi ** 2 * (k[:, None] ** 2 + k[None, :] ** 2) + 49.0
        lam[0, 0] = np.inf
        exact = 7.0 ** 1.5 * np.sum(lam ** -2.5)
        samples = grf.navier_stokes_initial_vorticity(rngs, s)
    else:
        s = 17
        samples = grf.darcy_gaussian_field(rngs, s)
        k = np.arange(s)
        lam = np.pi ** 2 * (k[:, None] ** 2 + k[None, :] ** 2) + 9.0
        lam[0, 0] = np.inf
        # variance at the node x: Σ λ^-2 n² cos²(πk1x) n² cos²(πk2y); check at the corner (0, 0)
        norm2 = np.where(k == 0, 1.0, 2.0)
        exact = np.sum(lam ** -2.0 * np.outer(norm2, norm2))
        samples = samples[:, 0, 0]
    assert abs(samples.mean()) < 4 * np.sqrt(exact / 400) + 1e-12
    assert empirical_vs_exact(samples, exact) == pytest.approx(1.0, abs=0.15)


def test_darcy_coefficient_two_values():
    a = grf.darcy_coefficient(grf.darcy_gaussian_field(grf.sample_rngs(0, 0, 20), 29))
    assert set(np.unique(a)) == {3.0, 12.0}
    assert 0.35 < (a == 12.0).mean() < 0.65


@pytest.mark.parametrize(("seed", "start", "stop"), [(-1, 0, 1), (0, 2, 1), (1.5, 0, 1)])
def test_bad_seed_range(seed, start, stop):
    with pytest.raises(ValueError):
        grf.sample_rngs(seed, start, stop)
