"""Navier–Stokes solver: decaying Taylor–Green-type vortex and the exact advection term."""

import numpy as np
import pytest

from mufno_core.pde import navier_stokes as ns


def grid(s: int):
    x = np.arange(s) / s
    return np.meshgrid(x, x, indexing="ij")


def taylor_green(s: int) -> np.ndarray:
    """Modes with |k|² = 5 only: ψ ∝ w, so u·∇w = 0 and w decays as e^{−20π²νt}."""
    X, Y = grid(s)
    return (np.sin(2 * np.pi * X) * np.cos(4 * np.pi * Y) + 0.5 * np.cos(2 * np.pi * (2 * X + Y))
            + np.sin(2 * np.pi * (X - 2 * Y)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_taylor_green_decay_second_order_in_time(dtype):
    w0, nu = taylor_green(32), 1e-2
    exact = w0[..., None] * np.exp(-20 * np.pi ** 2 * nu * np.array([0.5, 1.0]))
    errors = []
    for dt in (1e-2, 5e-3):
        w = ns.solve(w0[None], nu, 1.0, dt=dt, record_every=0.5, dtype=dtype)[0]
        assert w.shape == (32, 32, 2) and w.dtype == dtype
        errors.append(np.abs(w - exact).max() / np.abs(exact).max())
    assert errors[0] < 4e-5
    if dtype == np.float64:  # float32 rounding (~1e-6) blurs the order
        assert np.log2(errors[0] / errors[1]) == pytest.approx(2.0, abs=0.05)


def test_one_step_advection_exact():
    """ψ = sin 2πx + sin 4πy: −u·∇w = 96π⁴ cos 2πx cos 4πy exactly (modes kept by 2/3 rule)."""
    X, Y = grid(16)
    w0 = 4 * np.pi ** 2 * np.sin(2 * np.pi * X) + 16 * np.pi ** 2 * np.sin(4 * np.pi * Y)
    dt = 1e-4
    w1 = ns.solve(w0[None], 0.0, dt, dt=dt)[0, ..., 0]
    exact = 96 * np.pi ** 4 * np.cos(2 * np.pi * X) * np.cos(4 * np.pi * Y)
    assert np.abs((w1 - w0) / dt - exact).max() / np.abs(exact).max() < 1e-9


def test_forcing_steady_state():
    """f on one |k|² shell and w0 = 0: w(t) = f (1 − e^{−λνt}) / (λν), no advection."""
    s, nu = 16, 0.05
    f = ns.forcing_fno(s)  # |k|² = 2
    lam = 8 * np.pi ** 2
    w = ns.solve(np.zeros((1, s, s)), nu, 2.0, forcing=f, dt=1e-3)[0, ..., 0]
    np.testing.assert_allclose(w, f * (1 - np.exp(-lam * nu * 2.0)) / (lam * nu), atol=1e-5)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"w0": np.zeros((4, 4))}, "shape"),
    ({"w0": np.zeros((1, 5, 5))}, "even"),
    ({"forcing": np.zeros((3, 3))}, "forcing"),
    ({"record_every": 0.3}, "multiple"),
    ({"nu": -1.0}, "nu"),
])
def test_bad_input(kwargs, message):
    args = {"w0": np.zeros((1, 8, 8)), "nu": 1e-3, "t_end": 1.0} | kwargs
    with pytest.raises(ValueError, match=message):
        ns.solve(**args)
