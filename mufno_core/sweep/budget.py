"""What a sweep costs before it runs: the training FLOPs of its grid, counted on the meta device.

Each trial costs (FLOPs of one training step of its model on one batch) × (its optimizer steps);
the step is counted by :func:`step_flops` (forward and backward through PyTorch's FLOP counter,
:func:`mufno_core.cost.training_step_flops`, FFTs and complex products included, nothing
allocated). Evaluations and the Adam update are left out (a few % for these models). Turning FLOPs
into time needs a measured throughput (``benchmarks/README.md``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import replace

import torch

from mufno_core.cost import training_step_flops
from mufno_core.data.presets import dataset_spec
from mufno_core.sweep.config import TrialConfig
from mufno_core.sweep.data import SYNTHETIC_RESOLUTION


def trial_grid(config: TrialConfig) -> tuple[int, ...]:
    """The spatial grid the trial's model sees: the data set's stored grid after ``subsample``
    (Navier–Stokes: x, y and the t_out predicted time steps)."""
    if config.dataset == "synthetic":
        return (SYNTHETIC_RESOLUTION[config.dim],) * config.dim
    spec = dataset_spec(config.dataset, config.preset)
    n = len(range(0, spec.resolution, config.subsample))
    if spec.pde == "navier_stokes":
        return (n, n, int(spec.constants["t_out"]))
    return (n,) * config.dim


def trial_steps(config: TrialConfig) -> int:
    """Optimizer steps of the trial, by the trainer's own rule (:meth:`TrainConfig.total_steps`)."""
    n_train = config.n_train
    if n_train is None and config.steps is None:
        n_train = dataset_spec(config.dataset, config.preset).n_train
    return config.train_config().total_steps(n_train or 0)


@functools.lru_cache(maxsize=64)
def _model_step_flops(config: TrialConfig, grid: tuple[int, ...]) -> int:
    model = config.build_model("meta")
    x = torch.empty(config.batch_size, config.in_channels, *grid, device="meta")
    y = torch.empty(config.batch_size, config.out_channels, *grid, device="meta")
    return training_step_flops(model, x, y)


def step_flops(config: TrialConfig, grid: tuple[int, ...]) -> int:
    """FLOPs of one training step of the trial's model on one batch of samples on ``grid``,
    counted on the meta device (nothing is allocated, so any size can be counted)."""
    # only the model and the batch shape matter: normalise the rest so the cache is shared
    shape_only = replace(config, lr=1.0, seed=0, beta2=0.999, beta1=0.9)
    return _model_step_flops(shape_only, tuple(grid))


def trial_flops(config: TrialConfig) -> float:
    """Training FLOPs of one trial."""
    return float(step_flops(config, trial_grid(config))) * trial_steps(config)


def sweep_flops(configs: Iterable[TrialConfig]) -> float:
    """Training FLOPs of every trial of a grid."""
    return sum(trial_flops(c) for c in configs)
