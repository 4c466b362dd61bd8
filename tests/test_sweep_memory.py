"""A trial's memory counted on the meta device: what validation refuses a trial on (issue 21)."""

from __future__ import annotations

import pytest
import torch

from mufno_core.cost import training_step_memory
from mufno_core.sweep import grid
from mufno_core.sweep.budget import _counts_at_depth, _model_step_counts, trial_grid, trial_memory
from mufno_core.sweep.validate import device_memory, machine_memory

BY_DIM = {1: "burgers_lr", 2: "darcy_lr", 3: "navier_stokes_lr"}


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_counts_from_depth_1_and_2_are_the_counts_at_depth_4(dim):
    config = grid(BY_DIM[dim], "smoke")[0].with_(depth=4)
    shape = trial_grid(config)
    assert _model_step_counts(config, shape) == _counts_at_depth(config, shape)


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
