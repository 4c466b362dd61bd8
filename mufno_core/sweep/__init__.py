"""Resumable hyperparameter sweeps over (parametrization × K × LR × seed × …): running, storing
and validating trials.

The notebook-facing API::

    df = run_sweep("darcy_lr", "quick", "results/quick", executor="process")

Their analysis lives above this package: :mod:`mufno_core.analysis.optima` (``optimal_lr_per_k``,
``lr_drift``, ``lr_exponent``, ``hparam_shift``, all reductions of one ``locate``) and
:mod:`mufno_core.book.plots` (``plot_lr_curves``, ``plot_hparam_curves``).

Records live in ``<results>/<experiment>/<trial_id>.json`` (see :mod:`~mufno_core.sweep.store`).
The Dask executor imports dask on use.
"""

from mufno_core import lazy_exports

_EXPORTS = {
    "run_sweep": ".api", "check_complete": ".api", "forecast": ".api", "GPU_PRESETS": ".api",
    "sweep_flops": ".budget", "TrialConfig": ".config",
    "SweepEstimate": ".estimate", "default_workers": ".estimate", "estimate_sweep": ".estimate",
    "SweepOutcome": ".executors", "group_trials": ".executors", "pending_trials": ".store",
    "run_sweep_trials": ".executors",
    "EXPERIMENTS": ".experiments", "get_experiment": ".experiments", "grid": ".experiments",
    "grid_ids": ".experiments", "in_grid": ".experiments",
    "data_path": ".fingerprint", "ResultsStore": ".store", "load_results": ".store",
    "resolve_device": ".trial", "run_trial": ".trial", "without_twins": ".twins",
}

__all__ = [
    "EXPERIMENTS", "ResultsStore", "SweepOutcome", "TrialConfig", "get_experiment", "grid", "grid_ids",
    "forecast", "load_results", "run_sweep", "run_trial",
]

# each name is imported from its module on first use: reading records (the book's driver scripts,
# the analysis) does not import torch, which only training and the FLOP counts need
__getattr__ = lazy_exports(__name__, _EXPORTS)
