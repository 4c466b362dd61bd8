"""Burgers solver against the exact Cole–Hopf solution."""

import numpy as np
import pytest

from mufno_core.pde import burgers, grf


def cole_hopf(u0: np.ndarray, nu: float, t: float) -> np.ndarray:
    """Exact periodic solution u = −2ν ∂x log φ with φ0 = exp(−∫u0 / 2ν) (u0 of zero mean)."""
    n = u0.shape[-1]
    k = np.fft.rfftfreq(n, 1.0 / n)
    u_hat = np.fft.rfft(u0)
    prim_hat = np.zeros_like(u_hat)
    prim_hat[..., 1:] = u_hat[..., 1:] / (2j * np.pi * k[1:])
    phi_hat = np.fft.rfft(np.exp(-np.fft.irfft(prim_hat, n=n) / (2 * nu)))
    phi_hat *= np.exp(-nu * (2 * np.pi * k) ** 2 * t)
    phi = np.fft.irfft(phi_hat, n=n)
    return -2 * nu * np.fft.irfft(2j * np.pi * k * phi_hat, n=n) / phi


@pytest.mark.parametrize(("nu", "dt", "n", "tol"), [
    (0.1, 1e-2, 1024, 2e-6), (0.1, 5e-3, 8192, 2e-7), (0.1, 1e-3, 1024, 2e-9),
    (0.02, 1e-3, 1024, 1e-9),
])
def test_matches_cole_hopf(nu, dt, n, tol):
    u0 = grf.burgers_initial_condition(grf.sample_rngs(0, 0, 3), n)
    exact = cole_hopf(u0, nu, 1.0)
    u = burgers.solve(u0, nu, 1.0, dt=dt)
    assert np.abs(u - exact).max() / np.abs(exact).max() < tol


def test_zero_time_is_identity():
    u0 = grf.burgers_initial_condition(grf.sample_rngs(1, 0, 2), 64)
    np.testing.assert_array_equal(burgers.solve(u0, 0.1, 0.0), u0)


@pytest.mark.parametrize(("u0", "nu", "message"), [
    (np.zeros(64), 0.1, "shape"),
    (np.full((1, 64), np.nan), 0.1, "NaN"),
    (np.zeros((1, 64)), -1.0, "nu"),
])
def test_bad_input(u0, nu, message):
    with pytest.raises(ValueError, match=message):
        burgers.solve(u0, nu, 1.0)
