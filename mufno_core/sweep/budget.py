"""What a sweep costs before it runs: the training FLOPs of its grid, counted on the meta device.

Each trial costs (FLOPs of one training step of its model on one batch) × (its optimizer steps);
the step is counted by :func:`mufno_core.end_to_end.step_flops` (forward and backward through
PyTorch's FLOP counter, FFTs and complex products included, nothing allocated). Evaluations and
the Adam update are left out (a few % for these models). Turning FLOPs into time needs a measured
throughput: see the README's "Sweeps" for what the presets were sized with.
"""

from __future__ import annotations

from collections.abc import Iterable

from mufno_core.sweep.config import TrialConfig
from mufno_core.sweep.data import SYNTHETIC_RESOLUTION


def trial_grid(config: TrialConfig) -> tuple[int, ...]:
    """The spatial grid the trial's model sees: the data set's stored grid after ``subsample``
    (Navier–Stokes: x, y and the t_out predicted time steps)."""
    if config.dataset == "synthetic":
        return (SYNTHETIC_RESOLUTION[config.dim],) * config.dim
    from mufno_core.data.presets import dataset_spec

    spec = dataset_spec(config.dataset, config.preset)
    n = len(range(0, spec.resolution, config.subsample))
    if spec.pde == "navier_stokes":
        return (n, n, int(spec.constants["t_out"]))
    return (n,) * config.dim


def trial_steps(config: TrialConfig) -> int:
    """Optimizer steps of the trial, by the trainer's own rule (:meth:`TrainConfig.total_steps`)."""
    from mufno_core.sweep.runner import train_config

    n_train = config.n_train
    if n_train is None and config.steps is None:
        from mufno_core.data.presets import dataset_spec

        n_train = dataset_spec(config.dataset, config.preset).n_train
    return train_config(config).total_steps(n_train or 0)


def trial_flops(config: TrialConfig) -> float:
    """Training FLOPs of one trial."""
    from mufno_core.end_to_end import step_flops

    return float(step_flops(config, trial_grid(config))) * trial_steps(config)


def sweep_flops(configs: Iterable[TrialConfig]) -> float:
    """Training FLOPs of every trial of a grid."""
    return sum(trial_flops(c) for c in configs)
