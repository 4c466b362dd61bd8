"""Resumable hyperparameter sweeps over (parametrization × K × LR × seed × …) and their analysis.

The notebook-facing API::

    df = run_sweep("darcy_lr", "quick", "results/quick", executor="process")
    optimal_lr_per_k(df)        # lr* per (parametrization, K) with a seed-bootstrap CI
    lr_drift(df)                # lr*(K_max) / lr*(K_min) for SP and μP, with a CI
    plot_lr_curves(df)          # loss vs LR, one curve per K, SP | μP
    plot_hparam_curves(df, "batch_size")   # or "beta2"

Records live in ``<results>/<experiment>/<trial_id>.json`` (see :mod:`~mufno_core.sweep.store`).
Plot functions import matplotlib/seaborn on first use; the Dask executor imports dask on use.
"""

from __future__ import annotations

from typing import Any

from mufno_core.sweep.analysis import lr_drift, optimal_hparam_per_k, optimal_lr_per_k, summary_table
from mufno_core.sweep.config import TrialConfig
from mufno_core.sweep.experiments import EXPERIMENTS, get_experiment, grid, grid_ids, list_experiments
from mufno_core.sweep.runner import SweepOutcome, run_sweep_trials, run_trial
from mufno_core.sweep.store import ResultsStore, load_results

__all__ = [
    "EXPERIMENTS", "ResultsStore", "SweepOutcome", "TrialConfig", "get_experiment", "grid", "grid_ids",
    "list_experiments", "load_results", "lr_drift", "optimal_hparam_per_k", "optimal_lr_per_k",
    "plot_hparam_curves", "plot_lr_curves", "run_sweep", "run_trial", "summary_table",
]


def run_sweep(
    experiment: str,
    preset: str,
    results_dir: str = "results",
    executor: str = "inline",
    workers: int | None = None,
    scheduler: str | None = None,
    data_dir: str = "data",
    device: str | None = "cpu",
    stack: bool = False,
    progress: bool = True,
    limit: int | None = None,
    **overrides: Any,
):
    """Run (or resume) ``experiment`` at ``preset`` and return its results as a DataFrame.

    Finished trials in ``results_dir`` are skipped, so calling it again only loads. ``overrides``
    replace grid axes or fixed settings (see :func:`grid`); ``limit`` runs only the first N trials.
    Returns :func:`load_results` of the experiment restricted to this grid's trials.
    """
    configs = grid(experiment, preset, **overrides)
    if limit is not None:
        configs = configs[:limit]
    store = ResultsStore(results_dir, experiment)
    run_sweep_trials(configs, store, executor=executor, workers=workers, scheduler=scheduler,
                     data_dir=data_dir, device=device, stack=stack, progress=progress)
    df = load_results(store.folder)
    return df[df["trial_id"].isin(grid_ids(configs))].reset_index(drop=True)


def plot_lr_curves(df, *args, **kwargs):
    """See :func:`mufno_core.sweep.plots.plot_lr_curves` (imported lazily)."""
    from mufno_core.sweep.plots import plot_lr_curves as plot

    return plot(df, *args, **kwargs)


def plot_hparam_curves(df, *args, **kwargs):
    """See :func:`mufno_core.sweep.plots.plot_hparam_curves` (imported lazily)."""
    from mufno_core.sweep.plots import plot_hparam_curves as plot

    return plot(df, *args, **kwargs)
