"""The cost of a sweep before it runs: each trial's grid and steps, the grid's FLOPs, and a trial's
memory counted on the meta device (what validation refuses a trial on)."""

from __future__ import annotations

import pytest
import torch

from mufno_core.cost import training_step_flops, training_step_memory
from mufno_core.sweep import grid
from mufno_core.sweep.budget import (
    _counts_at_depth,
    _model_step_counts,
    step_flops,
    sweep_flops,
    trial_flops,
    trial_grid,
    trial_memory,
    trial_steps,
)
from mufno_core.sweep.data import load_trial_data
from mufno_core.sweep.validate import device_memory, machine_memory

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


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_counts_from_depth_1_and_2_are_the_counts_at_depth_4(dim):
    config = grid(BY_DIM[dim], "smoke")[0].with_(depth=4)
    shape = trial_grid(config)
    assert _model_step_counts(config, shape) == _counts_at_depth(config, shape)


@pytest.mark.parametrize("dim, variant", [(2, "physics loss")] + [(d, v) for d in (1, 2, 3) for v in [
    {"parametrization": "mup", "base_modes": 2}, {"parametrization": "cal", "base_modes": 2,
                                                  "cal_exponent": 0.3},
    {"other_lr": 1e-3, "lr": 3e-2, "seed": 7, "steps": 9}]])
def test_trials_that_differ_only_in_numbers_share_the_count_of_their_own_model(dim, variant):
    """The cache keys a count by shape alone (:func:`_shape_only`): what it returns for any trial is
    what that trial's own model counts."""
    experiment = "pino_darcy" if variant == "physics loss" else BY_DIM[dim]
    config = grid(experiment, "smoke")[0].with_(modes=3, **({} if variant == "physics loss" else variant))
    shape = trial_grid(config)
    model = config.build_model("meta")
    x = torch.empty(config.batch_size, config.in_channels, *shape, device="meta")
    y = torch.empty(config.batch_size, config.out_channels, *shape, device="meta")
    assert step_flops(config, shape) == training_step_flops(model, x, y)
    assert trial_memory(config).parameters == training_step_memory(model, x, y)[0]


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_meta_counts_are_those_of_a_real_step(dim):
    config = grid(BY_DIM[dim], "smoke")[0]
    shape = trial_grid(config)
    counts = {}
    for device in ("meta", "cpu"):
        model = config.build_model(device)
        x = torch.zeros(config.batch_size, config.in_channels, *shape, device=device)
        y = torch.ones(config.batch_size, config.out_channels, *shape, device=device)
        counts[device] = training_step_memory(model, x, y)
    assert counts["meta"] == counts["cpu"]
    weights = sum(p.numel() * p.element_size() for p in config.build_model("meta").parameters())
    assert counts["cpu"][0] == weights


def test_activations_grow_with_the_batch_and_weights_with_the_width():
    config = grid("darcy_lr", "smoke")[0]
    base, double_batch = trial_memory(config), trial_memory(config.with_(batch_size=16))
    assert double_batch.activations == pytest.approx(2 * base.activations, rel=0.01)
    assert double_batch.parameters == base.parameters
    wide = trial_memory(config.with_(width=2 * config.width))
    assert 3 * base.parameters < wide.parameters  # spectral and skip weights ~ width²
    assert base.total == 4 * base.parameters + base.activations + base.data
    assert base.data == 4 * (16 + 8) * 2 * 29 * 29  # (n_train + n_test) × (in + out) × grid


def test_trials_are_held_to_the_memory_of_their_device():
    assert device_memory("cpu") == device_memory(None) == (machine_memory(), "this machine's")
    assert machine_memory() > 2**28  # any machine that runs the tests has 256 MiB
    if torch.cuda.is_available():
        total = torch.cuda.get_device_properties(0).total_memory
        assert device_memory("cuda:0") == (total, "cuda:0's")
