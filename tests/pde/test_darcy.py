"""Darcy solver: manufactured solution with a variable coefficient, second-order convergence."""

import numpy as np
import pytest

from mufno_core.pde import darcy


def manufactured(s: int):
    """u = sin πx sin πy, a = 1 + x y², f = −∇·(a∇u) on the s×s nodes of [0, 1]²."""
    x = np.linspace(0.0, 1.0, s)
    X, Y = np.meshgrid(x, x, indexing="ij")
    a = 1 + X * Y ** 2
    u = np.sin(np.pi * X) * np.sin(np.pi * Y)
    u_x = np.pi * np.cos(np.pi * X) * np.sin(np.pi * Y)
    u_y = np.pi * np.sin(np.pi * X) * np.cos(np.pi * Y)
    f = -(Y ** 2 * u_x + 2 * X * Y * u_y) + 2 * np.pi ** 2 * a * u
    return a, f, u


def test_second_order_convergence():
    errors = []
    for s in (33, 65):
        a, f, u = manufactured(s)
        errors.append(np.abs(darcy.solve(a[None], f[None])[0] - u).max())
    assert errors[0] < 1e-3 and errors[1] < 2.5e-4
    assert np.log2(errors[0] / errors[1]) == pytest.approx(2.0, abs=0.05)


@pytest.mark.parametrize("s", [3, 4, 9, 12])
def test_matrix_symmetric_positive_and_constant_coefficient(s):
    a = np.full((s, s), 2.0)
    A = darcy.assemble(a)
    assert abs(A - A.T).max() == 0
    assert np.linalg.eigvalsh(A.toarray()).min() > 0
    u = darcy.solve(np.stack([a, 2 * a]), 1.0)  # u scales as 1/a
    np.testing.assert_allclose(u[0], 2 * u[1], rtol=1e-12)
    assert np.all(u[:, 0] == 0) and np.all(u[:, :, -1] == 0)


def test_batch_matches_single_and_array_f():
    rng = np.random.default_rng(0)
    a = np.where(rng.standard_normal((3, 17, 17)) > 0, 12.0, 3.0)
    u = darcy.solve(a)
    np.testing.assert_allclose(darcy.solve(a[1:2])[0], u[1], rtol=1e-12)
    np.testing.assert_allclose(darcy.solve(a, np.ones_like(a)), u, rtol=1e-12)


@pytest.mark.parametrize(("a", "f", "message"), [
    (np.ones((5, 5)), 1.0, "shape"),
    (np.ones((1, 5, 6)), 1.0, "shape"),
    (-np.ones((1, 5, 5)), 1.0, "positive"),
    (np.ones((1, 5, 5)), np.ones((5, 5)), "f must"),
])
def test_bad_input(a, f, message):
    with pytest.raises(ValueError, match=message):
        darcy.solve(a, f)
