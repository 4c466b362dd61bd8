"""The notebook-facing API of the sweeps (re-exported by :mod:`mufno_core.sweep`): run or resume
one (:func:`run_sweep`), refuse a GPU preset's missing trials on a CPU (:func:`check_complete`), and
forecast the time of the trials a results store lacks (:func:`forecast`)."""

from __future__ import annotations

import math
from typing import Any

from mufno_core.sweep.config import TrialConfig
from mufno_core.sweep.estimate import SweepEstimate, default_workers, estimate_sweep
from mufno_core.sweep.experiments import get_experiment, grid, in_grid
from mufno_core.sweep.fingerprint import data_path
from mufno_core.sweep.store import ResultsStore, load_results, pending_trials
from mufno_core.sweep.twins import without_twins

# Running trials, counting their FLOPs and stacking them import torch inside the functions that do
# it: reading a store and forecasting one that holds every trial load without it.


def run_sweep(
    experiment: str,
    preset: str,
    results_dir: str = "results",
    executor: str = "inline",
    workers: int | None = None,
    scheduler: str | None = None,
    data_dir: str = "data",
    device: str | None = "cpu",
    stack: bool | None = None,
    progress: bool = True,
    limit: int | None = None,
    compute_on_cpu: bool = False,
    **overrides: Any,
):
    """Run (or resume) ``experiment`` at ``preset`` and return its results as a DataFrame.

    Finished trials in ``results_dir`` are skipped, so calling it again only loads. ``overrides``
    replace grid axes or fixed settings (see :func:`grid`); ``limit`` runs only the first N trials.
    Returns :func:`load_results` of the experiment restricted to this grid's trials. ``stack``
    None takes the preset's choice (:attr:`~mufno_core.sweep.experiments.Preset.stack`).

    The gpu and paper presets are meant to be rendered from a results store written on a GPU: with
    trials missing there and the CPU as the device, this raises a ValueError that says what is
    missing and how to compute it, unless ``compute_on_cpu``.
    """
    from mufno_core.sweep.executors import run_sweep_trials  # imports torch
    from mufno_core.sweep.trial import resolve_device  # imports torch

    configs = grid(experiment, preset, **overrides)
    if stack is None:
        stack = get_experiment(experiment).presets[preset].stack
    if limit is not None:
        configs = configs[:limit]
    store = ResultsStore(results_dir, experiment)
    if preset in GPU_PRESETS and not compute_on_cpu and resolve_device(device) == "cpu":
        check_complete(experiment, preset, configs, store)
    run_sweep_trials(configs, store, executor=executor, workers=workers, scheduler=scheduler,
                     data_dir=data_dir, device=device, stack=stack, progress=progress)
    df = load_results(store.folder)
    return df[in_grid(df, configs)].reset_index(drop=True)


GPU_PRESETS = ("gpu", "paper")
"""Presets whose sweeps a CPU does not compute unasked (days of work, see ``mufno sweep --list --flops``)."""


def check_complete(experiment: str, preset: str, configs: list[TrialConfig], store: ResultsStore) -> None:
    """Raise a ValueError naming the missing trials' count and cost, and how to compute them."""
    from mufno_core.sweep.budget import sweep_flops  # imports torch

    todo, done = pending_trials(configs, store)
    if todo:
        raise ValueError(
            f"{store.folder} holds {done} of {done + len(todo)} trials of {experiment} at preset "
            f"{preset!r}; the {len(todo)} missing ones are {sweep_flops(todo):.1e} training FLOPs, "
            f"days on a CPU. Compute them on a GPU (scripts/gpu_sweeps.sh {experiment}, or mufno sweep "
            f"{experiment} --preset {preset} --device cuda --stack --results {store.root}) and commit "
            f"the results store, or pass compute_on_cpu=True to run them here anyway.")


def forecast(sweeps: list[str | tuple[str, dict[str, Any]]], preset: str, results_dir: str = "results",
             executor: str = "process", workers: int | None = None, data_dir: str = "data",
             device: str = "cpu") -> tuple[list[SweepEstimate], float]:
    """The expected time of the trials of ``sweeps`` (experiment names, or (name, grid overrides))
    at ``preset`` that ``results_dir`` does not hold yet, on this machine: one
    :class:`~mufno_core.sweep.estimate.SweepEstimate` per sweep and their total (the sweeps run one
    after the other). A store that holds every trial costs no calibration. A sweep whose data file
    is missing has no estimate (NaN seconds; ``make data`` makes the file)."""
    estimates = []
    for sweep in sweeps:
        experiment, overrides = (sweep, {}) if isinstance(sweep, str) else sweep
        try:
            configs = grid(experiment, preset, **overrides)
        except ValueError as err:  # e.g. a calibrated grid whose exponent the chapter measures itself
            estimates.append(SweepEstimate(0, 0, 1, math.nan, 0.0, str(err).split(";")[0]))
            continue
        path = data_path(configs[0], data_dir)
        if path is not None and not path.is_file():
            estimates.append(SweepEstimate(len(configs), 0, 1, math.nan, 0.0, f"no data file {path}"))
            continue
        store = ResultsStore(results_dir, experiment)
        todo, _ = without_twins(pending_trials(configs, store, data_dir)[0], store, data_dir)
        stack = get_experiment(experiment).presets[preset].stack
        units = [[c] for c in todo]
        if stack and todo:
            from mufno_core.sweep.executors import group_trials  # imports torch

            units = group_trials(todo)
        estimates.append(estimate_sweep(units, data_dir, device,
                                        default_workers(executor, workers),
                                        one_thread=executor != "inline", stack=stack))
    return estimates, sum(e.seconds for e in estimates if not math.isnan(e.seconds))
