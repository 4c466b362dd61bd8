"""PINO on Darcy: the discrete residual, its convergence, the mollifier and the combined loss."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch
from torch.func import functional_call, stack_module_state

from mufno_core.losses import darcy_pde_loss, darcy_residual
from mufno_core.model import FNO
from mufno_core.pde import darcy
from mufno_core.pino import Mollified, make_pino_loss, mollifier, mollify, resample_nodes
from mufno_core.train import TrainConfig, train


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models run faster on one thread (and do not thrash a busy machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def piecewise_coefficient(batch: int, s: int, seed: int = 0) -> np.ndarray:
    """A 12/3 coefficient from a smooth random cosine field (stand-in for the Darcy data's)."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0.0, 1.0, s)
    g = np.zeros((batch, s, s))
    for k1 in range(4):
        for k2 in range(4):
            if k1 + k2:
                c = rng.standard_normal((batch, 1, 1)) / (k1 ** 2 + k2 ** 2 + 1)
                g += c * np.cos(np.pi * k1 * x)[:, None] * np.cos(np.pi * k2 * x)[None, :]
    return np.where(g >= 0, 12.0, 3.0)


def scipy_darcy_solve(a: np.ndarray, f: float = 1.0) -> np.ndarray:
    """Reference solve of the 5-point scheme with node-averaged face coefficients, u = 0 on ∂."""
    s = a.shape[-1]
    h2 = 1.0 / (s - 1) ** 2
    n = s - 2
    idx = np.arange(n * n).reshape(n, n)
    out = np.zeros_like(a)
    for b in range(a.shape[0]):
        rows, cols, vals = [], [], []
        for i in range(1, s - 1):
            for j in range(1, s - 1):
                r = idx[i - 1, j - 1]
                diag = 0.0
                for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                    face = 0.5 * (a[b, i, j] + a[b, i + di, j + dj])
                    diag += face
                    ii, jj = i + di, j + dj
                    if 1 <= ii <= s - 2 and 1 <= jj <= s - 2:
                        rows.append(r)
                        cols.append(idx[ii - 1, jj - 1])
                        vals.append(-face / h2)
                rows.append(r)
                cols.append(r)
                vals.append(diag / h2)
        matrix = sp.csr_matrix((vals, (rows, cols)), shape=(n * n, n * n))
        out[b, 1:-1, 1:-1] = spla.spsolve(matrix, np.full(n * n, f)).reshape(n, n)
    return out


def test_residual_of_the_solver_solution_is_round_off() -> None:
    a = piecewise_coefficient(2, 33)
    u = darcy.solve(a, 1.0)
    assert np.abs(u - scipy_darcy_solve(a)).max() < 1e-12 * np.abs(u).max()  # the same scheme
    res = darcy_residual(torch.from_numpy(u), torch.from_numpy(a))
    assert res.shape == (2, 31, 31)
    assert res.abs().max().item() < 1e-9  # f = 1, operator entries ~ a/h² ≈ 1e4
    assert darcy_pde_loss(torch.from_numpy(u), torch.from_numpy(a)).item() < 1e-10
    assert darcy_pde_loss(torch.zeros(2, 33, 33), torch.from_numpy(a)).item() == pytest.approx(1.0)


def manufactured(s: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """u = sin(πx) sin(2πy), a = 1 + ½ sin(2πx) cos(πy), f = −∇·(a∇u) exactly; (1, s, s) each."""
    t = torch.linspace(0.0, 1.0, s, dtype=torch.float64)
    x, y = torch.meshgrid(t, t, indexing="ij")
    pi = math.pi
    u = torch.sin(pi * x) * torch.sin(2 * pi * y)
    a = 1 + 0.5 * torch.sin(2 * pi * x) * torch.cos(pi * y)
    u_x = pi * torch.cos(pi * x) * torch.sin(2 * pi * y)
    u_y = 2 * pi * torch.sin(pi * x) * torch.cos(2 * pi * y)
    a_x = pi * torch.cos(2 * pi * x) * torch.cos(pi * y)
    a_y = -0.5 * pi * torch.sin(2 * pi * x) * torch.sin(pi * y)
    f = -(a_x * u_x + a_y * u_y + a * (-5 * pi ** 2) * u)
    return u[None], a[None], f[None]


def test_residual_of_a_smooth_solution_falls_at_second_order() -> None:
    sizes = [17, 33, 65, 129]  # h halves: s -> 2s − 1
    errors = []
    for s in sizes:
        u, a, f = manufactured(s)
        errors.append(darcy_residual(u, a, f).abs().max().item())
    orders = [math.log2(e0 / e1) for e0, e1 in zip(errors, errors[1:])]
    assert all(1.8 <= p <= 2.2 for p in orders), (errors, orders)


def test_residual_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match="shape"):
        darcy_residual(torch.zeros(1, 8, 8), torch.zeros(1, 8, 7))
    with pytest.raises(ValueError, match="square"):
        darcy_residual(torch.zeros(1, 8, 7), torch.zeros(1, 8, 7))
    with pytest.raises(ValueError, match="f must be"):
        darcy_residual(torch.zeros(2, 8, 8), torch.zeros(2, 8, 8), torch.zeros(2, 9, 9))


def test_mollifier_vanishes_on_the_boundary() -> None:
    m = mollifier((9, 9), scale=2.0, dtype=torch.float64)
    assert m[0].abs().max() == m[-1].abs().max() == m[:, 0].abs().max() == m[:, -1].abs().max() == 0
    assert m[4, 4].item() == pytest.approx(2.0)
    u = torch.randn(3, 1, 9, 9)
    assert torch.allclose(mollify(u, 2.0), u * m.float())
    assert torch.equal(resample_nodes(u, 17, "nearest")[..., ::2, ::2], u)
    assert torch.allclose(resample_nodes(u, 17, "bilinear")[..., ::2, ::2], u, atol=1e-6)


def tiny_fno(parametrization: str = "sp") -> Mollified:
    torch.manual_seed(0)
    fno = FNO(2, 1, 1, modes=4, width=8, depth=2, parametrization=parametrization, projection_width=16)
    return Mollified(fno, scale=1e-2)


@pytest.mark.parametrize("parametrization", ["sp", "mup"])
def test_pde_loss_gradient_reaches_the_spectral_weights(parametrization: str) -> None:
    model = tiny_fno(parametrization)
    a = torch.from_numpy(piecewise_coefficient(2, 17)).float()[:, None]
    loss = make_pino_loss(data_weight=0.0, pde_weight=1.0)(model, a, torch.zeros_like(a))
    loss.backward()
    for layer in model.model.spectral:
        assert layer.weight_as_real.grad is not None and layer.weight_as_real.grad.abs().sum() > 0


def test_data_free_training_lowers_the_pde_loss() -> None:
    model = tiny_fno()
    a = torch.from_numpy(piecewise_coefficient(8, 17)).float()[:, None]
    loss_fn = make_pino_loss(data_weight=0.0, pde_weight=1.0)
    with torch.no_grad():
        initial = darcy_pde_loss(model(a)[:, 0], a[:, 0]).item()
    config = TrainConfig(lr=2e-2, batch_size=4, steps=25, clip_value=None, eval_every=5)
    history = train(model, (a, torch.full_like(a, math.nan)), None, config, loss_fn=loss_fn,
                    progress=False)
    assert not history.diverged
    with torch.no_grad():
        final = darcy_pde_loss(model(a)[:, 0], a[:, 0]).item()
    assert final < 0.7 * initial, (initial, history.train_loss, final)


def test_combined_loss_and_a_finer_pde_grid() -> None:
    model = tiny_fno()
    a = torch.from_numpy(piecewise_coefficient(2, 9)).float()[:, None]
    u = torch.from_numpy(scipy_darcy_solve(a[:, 0].double().numpy())).float()[:, None]
    seen: list[tuple[int, ...]] = []
    model.model.lift.register_forward_hook(lambda m, i, o: seen.append(tuple(o.shape[-2:])))
    fine = make_pino_loss(data_weight=5.0, pde_weight=1.0, pde_resolution=17)(model, a, u)
    assert seen == [(9, 9), (17, 17)]
    fine.backward()
    assert all(layer.weight_as_real.grad.abs().sum() > 0 for layer in model.model.spectral)
    with torch.no_grad():
        parts = (make_pino_loss(5.0, 0.0)(model, a, u), make_pino_loss(0.0, 1.0, pde_resolution=17)(
            model, a, u), make_pino_loss(0.0, 1.0, pde_resolution=17, interpolation="nearest")(model, a, u))
    assert torch.isclose(fine.detach(), parts[0] + parts[1], rtol=1e-5)
    assert parts[2].item() != parts[1].item()


def test_pino_loss_runs_under_vmap_over_stacked_members() -> None:
    members = [tiny_fno() for _ in range(2)]
    with torch.no_grad():
        members[1].model.spectral[0].weight.mul_(2.0)
    params, buffers = stack_module_state(members)
    base = copy.deepcopy(members[0]).to("meta")
    a = torch.from_numpy(piecewise_coefficient(2, 9)).float()[:, None]
    loss_fn = make_pino_loss(5.0, 1.0, pde_resolution=17)

    def member_loss(p, b, x, y):
        return loss_fn(lambda z: functional_call(base, (p, b), (z,)), x, y)

    stacked = torch.vmap(member_loss, in_dims=(0, 0, None, None))(params, buffers, a, a + 1)
    expected = torch.stack([loss_fn(m, a, a + 1) for m in members])
    assert torch.allclose(stacked, expected, rtol=1e-5)


def test_pino_loss_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="both 0"):
        make_pino_loss(0.0, 0.0)
    with pytest.raises(ValueError, match="already Mollified"):
        make_pino_loss(mollifier_scale=1e-3)(tiny_fno(), torch.ones(1, 1, 9, 9), torch.ones(1, 1, 9, 9))
    with pytest.raises(ValueError, match=r"\(batch, 1, s, s\)"):
        make_pino_loss()(tiny_fno(), torch.ones(1, 9, 9), torch.ones(1, 9, 9))


def test_the_sweep_runner_trains_a_pino_trial() -> None:
    """The pino_darcy experiment's wiring (Mollified + make_pino_loss), on the built-in 2-D data."""
    from mufno_core.sweep import grid, run_trial

    config = grid("pino_darcy", "smoke")[0].with_(dataset="synthetic", n_train=8, n_test=4)
    assert config.pde_weight > 0
    assert isinstance(config.build_model("cpu"), Mollified)
    record = run_trial(config, device="cpu")
    assert record["status"] == "ok", record.get("error")
    assert math.isfinite(record["final_train_loss"])


def test_stacked_pino_training_equals_one_by_one() -> None:
    """train_stacked with PINO's loss (data + physics, finer PDE grid) = train, member by member."""
    from mufno_core.stacked import build_members, train_stacked
    from mufno_core.train import train

    a = torch.from_numpy(piecewise_coefficient(6, 9))[:, None]
    u = torch.from_numpy(scipy_darcy_solve(a[:, 0].numpy()))[:, None]
    loss_fn = make_pino_loss(5.0, 1.0, pde_resolution=17)

    def make_model() -> Mollified:
        fno = FNO(2, 1, 1, modes=3, width=6, depth=2, parametrization="mup", projection_width=8,
                  dtype=torch.float64)
        return Mollified(fno, scale=1e-2)

    configs = [TrainConfig(lr=lr, seed=seed, batch_size=2, steps=4, eval_every=2, clip_value=None)
               for lr in (1e-3, 1e-2) for seed in (0, 1)]
    models = build_members(make_model, [c.seed for c in configs])
    stacked = train_stacked(models, (a, u), (a, u), configs, progress=False, loss_fn=loss_fn)
    for config, got in zip(configs, stacked):
        torch.manual_seed(config.seed)
        want = train(make_model(), (a, u), (a, u), config, loss_fn=loss_fn, progress=False)
        torch.testing.assert_close(got.train_loss, want.train_loss, rtol=1e-10, atol=0)
        torch.testing.assert_close(got.test_loss, want.test_loss, rtol=1e-10, atol=0)


def test_the_sweep_runner_stacks_pino_trials() -> None:
    from mufno_core.sweep import grid
    from mufno_core.sweep.executors import group_trials
    from mufno_core.sweep.trial import run_unit

    configs = [c.with_(dataset="synthetic", n_train=8, n_test=4)
               for c in grid("pino_darcy", "smoke") if c.modes == 4 and c.parametrization == "mup"]
    group = group_trials(configs)[0]
    assert len(group) > 1
    records = run_unit(group, stack=True)
    assert all(r["stacked"] and r["status"] in ("ok", "diverged") for r in records)
