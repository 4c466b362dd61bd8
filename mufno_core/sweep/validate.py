"""Checking a whole sweep before its first trial: every problem in one line, nothing trained.

:func:`validate_trials` checks what the trial configs alone cannot: the device, the data file of
each data set (complete, of the right PDE and grid, finite), K against the data's grid, n_train /
n_test against the file, the batch size against the training set and the subsampling. Each
setting's type and range is checked when a :class:`~mufno_core.sweep.config.TrialConfig` is made.
:func:`~mufno_core.sweep.executors.run_sweep_trials` calls it, so the CLI and notebooks both get it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

from mufno_core.data.dataset import _check_subsample, check_file, generate_command
from mufno_core.data.presets import dataset_spec
from mufno_core.spectral import as_modes, check_grid
from mufno_core.sweep.config import TrialConfig
from mufno_core.sweep.data import SYNTHETIC_RESOLUTION
from mufno_core.sweep.fingerprint import nonfinite_problem

DEVICE_TYPES = ("cpu", "cuda", "mps")


class SweepConfigError(ValueError):
    """A sweep that cannot run as configured; the message has one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def check_device(device: str | None, local: bool = True) -> str:
    """``device`` checked: "auto"/None, or a torch device of type cpu, cuda or mps.

    With ``local`` (the trials run on this machine) a CUDA/MPS device must also be present here.
    Returns the device as given ("auto" stays "auto"). ValueError in one line otherwise.
    """
    if device in (None, "auto"):
        return "auto"
    if not isinstance(device, str):
        raise ValueError(f"device must be a string such as 'cpu', 'cuda', 'cuda:1' or 'auto', "
                         f"got {device!r}")
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError, TypeError):
        dev = None
    if dev is None or dev.type not in DEVICE_TYPES:
        raise ValueError(f"unknown device {device!r}; use cpu, cuda, cuda:N, mps or auto")
    if local and dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r} asked for, but torch sees no CUDA device")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"device {device!r} asked for, but torch sees only "
                             f"{torch.cuda.device_count()} CUDA device(s)")
    if local and dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {device!r} asked for, but torch sees no MPS device")
    return device


def _file_facts(dataset: str, preset: str, data_dir: str | Path) -> dict[str, Any]:
    """What the checks need from a data set's file: its path, sizes and grid, or its problems."""
    spec = dataset_spec(dataset, preset)
    path = spec.path(data_dir)
    regenerate = f"regenerate it with `{generate_command(path)} --force`"
    try:
        attrs = check_file(path)
    except (FileNotFoundError, ValueError) as err:
        return {"problems": [str(err)]}
    pde = str(attrs["pde"])
    if pde != spec.pde:
        return {"problems": [f"{path}: holds {pde} data, but data set {dataset!r} is {spec.pde}; "
                             f"{regenerate}"]}
    problems = []
    if int(attrs["resolution"]) != spec.resolution:
        problems.append(f"{path}: stored at {int(attrs['resolution'])} points per axis, but "
                        f"{dataset!r} at preset {preset!r} has {spec.resolution}; {regenerate}")
    try:
        bad = nonfinite_problem(path)
    except ValueError as err:
        bad = str(err)
    if bad:
        problems.append(bad)
    import h5py

    with h5py.File(path, "r") as h5:
        target_shape = tuple(h5["target"].shape[1:])
    return {"problems": problems, "path": path, "pde": pde, "n_train": int(attrs["n_train"]),
            "n_test": int(attrs["n_test"]), "resolution": int(attrs["resolution"]),
            "target_shape": target_shape}


def _model_grid(facts: dict[str, Any], subsample: int) -> tuple[int, ...]:
    """Points per axis of the model's input (the stored grid, subsampled; time axis kept)."""
    shape = facts["target_shape"]
    spatial = shape if facts["pde"] != "navier_stokes" else shape[:-1]
    grid = tuple(math.ceil(n / subsample) for n in spatial)
    return grid + (shape[-1],) if facts["pde"] == "navier_stokes" else grid


def _config_problems(config: TrialConfig, facts: dict[str, Any]) -> list[str]:
    problems = []
    where = f" of {facts['path']}" if "path" in facts else ""
    n_train, n_test = facts["n_train"], facts["n_test"]
    if "path" in facts:
        for name, asked, held in (("n_train", config.n_train, n_train),
                                  ("n_test", config.n_test, n_test)):
            if asked is not None and asked > held:
                split = "training" if name == "n_train" else "test"
                problems.append(f"{name}={asked}: asks for more {split} samples than {facts['path']}"
                                f" holds ({held})")
        try:
            _check_subsample(facts["pde"], facts["resolution"], config.subsample, facts["path"])
        except ValueError as err:
            problems.append(f"subsample={config.subsample}: {err}")
            return problems
        grid = _model_grid(facts, config.subsample)
    else:
        grid = facts["grid"]
    train_size = min(config.n_train or n_train, n_train) if "path" in facts else \
        (config.n_train or n_train)
    if config.batch_size > train_size:
        problems.append(f"batch_size={config.batch_size} is larger than the training set "
                        f"({train_size} samples); use batch_size <= {train_size}")
    try:
        check_grid(as_modes(config.modes_per_axis(), config.dim), grid)
    except ValueError as err:
        problems.append(f"modes={config.modes}: {err}{where}")
    return problems


def validate_trials(configs: Iterable[TrialConfig], data_dir: str | Path = "data",
                    device: str | None = None, local: bool = True) -> None:
    """Raise :class:`SweepConfigError` (one line per problem) if any trial cannot run.

    Data files must exist (call :func:`~mufno_core.sweep.data.prepare_datasets` first); a missing
    one is a problem. ``device`` None skips the device check; ``local`` as in :func:`check_device`.
    """
    problems: list[str] = []
    if device is not None:
        try:
            check_device(device, local)
        except ValueError as err:
            problems.append(str(err))
    facts_of: dict[tuple[str, str, int], dict[str, Any]] = {}
    for config in configs:
        key = (config.dataset, config.preset, config.dim)
        if key not in facts_of:
            if config.dataset == "synthetic":
                facts_of[key] = {"problems": [], "n_train": config.n_train or 64,
                                 "n_test": config.n_test or 16,
                                 "grid": (SYNTHETIC_RESOLUTION[config.dim],) * config.dim}
            else:
                try:
                    facts_of[key] = _file_facts(config.dataset, config.preset, data_dir)
                except (ValueError, KeyError, OSError) as err:
                    facts_of[key] = {"problems": [f"data set {config.dataset!r} at preset "
                                                  f"{config.preset!r}: {err}"]}
            problems.extend(facts_of[key]["problems"])
        facts = facts_of[key]
        if "n_train" in facts:
            if config.dataset == "synthetic":
                facts = {**facts, "n_train": config.n_train or 64}
            problems.extend(_config_problems(config, facts))
    unique = list(dict.fromkeys(problems))
    if unique:
        raise SweepConfigError(unique)
