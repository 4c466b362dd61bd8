"""What a sweep costs before it runs: the training FLOPs of its grid, counted on the meta device.

Each trial costs (FLOPs of one training step of its model on one batch) × (its optimizer steps);
the step is counted by :func:`step_flops` (forward and backward through PyTorch's FLOP counter,
:func:`mufno_core.cost.training_step_flops`, FFTs and complex products included, nothing
allocated). Evaluations and the Adam update are left out (a few % for these models). Turning FLOPs
into time needs a measured throughput (``benchmarks/README.md``). :func:`trial_memory` counts the
bytes a trial holds the same way (weights, gradients, Adam's moments, activations, data), so that
validation can refuse a trial that cannot fit in memory before it starts.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from dataclasses import MISSING, dataclass, fields, replace

import torch

from mufno_core.cost import training_step_flops, training_step_memory
from mufno_core.data.pdes import PDE_SPECS
from mufno_core.data.presets import dataset_spec
from mufno_core.eager import skip_dynamo_import
from mufno_core.sweep.config import TrialConfig
from mufno_core.sweep.data import SYNTHETIC_RESOLUTION


def trial_grid(config: TrialConfig) -> tuple[int, ...]:
    """The spatial grid the trial's model sees: the data set's stored grid after ``subsample``
    (Navier–Stokes: x, y and the t_out predicted time steps)."""
    if config.dataset == "synthetic":
        return (SYNTHETIC_RESOLUTION[config.dim],) * config.dim
    spec = dataset_spec(config.dataset, config.preset)
    n = len(range(0, spec.resolution, config.subsample))
    if PDE_SPECS[spec.pde].time_steps:  # x, y and the t_out target records
        return (n,) * (config.dim - 1) + (spec.t_out,)
    return (n,) * config.dim


def trial_steps(config: TrialConfig) -> int:
    """Optimizer steps of the trial, by the trainer's own rule (:meth:`TrainConfig.total_steps`)."""
    n_train = config.n_train
    if n_train is None and config.steps is None:
        n_train = dataset_spec(config.dataset, config.preset).n_train
    return config.train_config().total_steps(n_train or 0)


@functools.lru_cache(maxsize=4096)
def _counts_at_depth(config: TrialConfig, grid: tuple[int, ...]) -> tuple[int, int, int]:
    """(FLOPs, parameter bytes, activation bytes) of one training step, counted on meta."""
    skip_dynamo_import()  # the meta device runs torch's reference implementations
    model = config.build_model("meta")
    x = torch.empty(config.batch_size, config.in_channels, *grid, device="meta")
    y = torch.empty(config.batch_size, config.out_channels, *grid, device="meta")
    return (training_step_flops(model, x, y), *training_step_memory(model, x, y))


@functools.lru_cache(maxsize=4096)
def _model_step_counts(config: TrialConfig, grid: tuple[int, ...]) -> tuple[int, ...]:
    """:func:`_counts_at_depth` at the trial's depth L, from L = 1 and 2: the Fourier layers are
    identical, so every count is c(1) + (L − 1)·(c(2) − c(1)), exactly, and a depth of a million
    costs what a depth of two does."""
    if config.depth <= 2:
        return _counts_at_depth(config, grid)
    one, two = (_counts_at_depth(replace(config, depth=depth), grid) for depth in (1, 2))
    return tuple(a + (config.depth - 1) * (b - a) for a, b in zip(one, two))


_SHAPE_FIELDS = frozenset({"dim", "in_channels", "out_channels", "modes", "width", "depth",
                           "batch_size", "time_modes_max"})
"""The fields that, with the grid, set the operations of a training step; the rest (names, LRs,
seeds, the parametrization's factors, the budget, the loss weights' values) only scale numbers."""


def _shape_only(config: TrialConfig) -> TrialConfig:
    """The trial with every field but :data:`_SHAPE_FIELDS` at its default (the physics loss only
    as on or off: it wraps the model), so that the trials of a grid share one count per shape."""
    defaults = {f.name: f.default for f in fields(TrialConfig)
                if f.name not in _SHAPE_FIELDS and f.default is not MISSING}
    return replace(config, **{**defaults, "pde_weight": 1.0 if config.pde_weight > 0 else 0.0},
                   experiment="shape", dataset="shape", preset="shape", parametrization="sp",
                   lr=1.0, seed=0)


def step_flops(config: TrialConfig, grid: tuple[int, ...]) -> int:
    """FLOPs of one training step of the trial's model on one batch of samples on ``grid``,
    counted on the meta device (nothing is allocated, so any size can be counted)."""
    return _model_step_counts(_shape_only(config), tuple(grid))[0]


@dataclass(frozen=True)
class TrialMemory:
    """Bytes a trial holds while it trains, counted on the meta device."""

    parameters: int
    activations: int
    data: int

    @property
    def total(self) -> int:
        """The weights with their gradients and Adam's two moments (4 × ``parameters``), the
        activations of one batch and the data set's tensors."""
        return 4 * self.parameters + self.activations + self.data


def trial_samples(config: TrialConfig) -> tuple[int, int]:
    """(training, test) samples the trial loads."""
    if config.dataset == "synthetic":
        return config.n_train or 64, config.n_test or 16
    spec = dataset_spec(config.dataset, config.preset)
    return config.n_train or spec.n_train, config.n_test or spec.n_test


def trial_memory(config: TrialConfig) -> TrialMemory:
    """What one trial holds in memory (one member; a stacked group holds one per member)."""
    grid = trial_grid(config)
    _, weights, activations = _model_step_counts(_shape_only(config), grid)
    points = math.prod(grid) * (config.in_channels + config.out_channels)
    return TrialMemory(weights, activations, 4 * points * sum(trial_samples(config)))


def trial_flops(config: TrialConfig) -> float:
    """Training FLOPs of one trial."""
    return float(step_flops(config, trial_grid(config))) * trial_steps(config)


def sweep_flops(configs: Iterable[TrialConfig]) -> float:
    """Training FLOPs of every trial of a grid."""
    return sum(trial_flops(c) for c in configs)
