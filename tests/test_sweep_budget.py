"""The cost of a sweep before it runs: each trial's grid and steps, and the grid's FLOPs."""

from __future__ import annotations

import pytest

from mufno_core.sweep import grid
from mufno_core.sweep.budget import step_flops, sweep_flops, trial_flops, trial_grid, trial_steps
from mufno_core.sweep.data import load_trial_data

BY_DIM = {1: "burgers_lr", 2: "darcy_lr", 3: "navier_stokes_lr"}


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_trial_grid_is_the_grid_the_model_sees(dim, tmp_path):
    config = grid(BY_DIM[dim], "smoke")[0].with_(n_train=4, n_test=2)
    data = load_trial_data(config, data_dir=str(tmp_path))
    assert trial_grid(config) == tuple(data.x_train.shape[2:])
    assert len(trial_grid(config)) == config.dim == dim


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_synthetic_and_subsampled_grids(dim):
    config = grid("synthetic_lr", "smoke")[0].with_(dim=dim)
    assert len(trial_grid(config)) == dim
    darcy = grid("darcy_lr", "gpu")[0]
    assert trial_grid(darcy) == (85, 85)
    assert trial_grid(darcy.with_(subsample=2)) == (43, 43)


def test_steps_from_epochs_and_the_flops_of_a_grid():
    config = grid("darcy_lr", "smoke")[0]
    assert trial_steps(config.with_(steps=None, epochs=3, n_train=50, batch_size=20)) == 9
    configs = grid("darcy_lr", "smoke")
    expected = sum(step_flops(c, trial_grid(c)) * c.steps for c in configs)
    assert sweep_flops(configs) == pytest.approx(expected)
    wide = trial_flops(config.with_(width=2 * config.width))
    assert 2 * trial_flops(config) < wide  # the pointwise and spectral work grow ~ width²
