"""Checking a whole sweep before its first trial: every problem in one line, nothing trained.

:func:`validate_trials` checks what the trial configs alone cannot: the device; the folder the
records go to (writable); the data file of each data set (against its own description: shapes,
grid, attributes, dtypes, :mod:`mufno_core.data.integrity`; of the right PDE and grid; finite);
the channels, n_train / n_test and the subsampling against the file; the batch size against the
training set; K against the data's grid; and each trial's memory (weights, gradients, Adam's
moments, activations and data, counted on the meta device) against this machine's. Each setting's
type and range is checked when a :class:`~mufno_core.sweep.config.TrialConfig` is made; the
command line's paths by :func:`~mufno_core.checks.check_folder`.
:func:`~mufno_core.sweep.executors.run_sweep_trials` calls it, so the CLI and notebooks both get it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

from mufno_core.checks import check_folder, check_writable
from mufno_core.data.dataset import _check_subsample
from mufno_core.data.integrity import DataFileError, DataFileFacts, generate_command, inspect_file
from mufno_core.data.pdes import PDE_SPECS
from mufno_core.data.presets import dataset_spec
from mufno_core.spectral import as_modes, check_grid
from mufno_core.sweep.budget import trial_memory
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


def machine_memory() -> int:
    """Bytes of physical memory on this machine (0 where the system does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def device_memory(device: str | None) -> tuple[int, str]:
    """(bytes, name) of the memory a trial's tensors live in: a CUDA device's own, else this
    machine's (CPU, MPS's unified memory, "auto")."""
    if isinstance(device, str) and device.startswith("cuda") and torch.cuda.is_available():
        index = torch.device(device).index
        index = torch.cuda.current_device() if index is None else index
        return torch.cuda.get_device_properties(index).total_memory, f"cuda:{index}'s"
    return machine_memory(), "this machine's"


def _bytes(n: float) -> str:
    """``n`` bytes in GiB (or MiB below one GiB), e.g. "12.3 GiB"."""
    return f"{n / 2**30:.3g} GiB" if n >= 2**30 else f"{n / 2**20:.3g} MiB"


def _file_facts(dataset: str, preset: str, data_dir: str | Path) -> dict[str, Any]:
    """What the checks need from a data set's file: its facts, or its problems."""
    spec = dataset_spec(dataset, preset)
    path = spec.path(data_dir)
    regenerate = f"regenerate it with `{generate_command(path)} --force`"
    try:
        facts = inspect_file(path)
    except DataFileError as err:
        return {"problems": err.problems}
    except (FileNotFoundError, ValueError) as err:
        return {"problems": [str(err)]}
    if facts.pde != spec.pde:
        return {"problems": [f"{path}: holds {facts.pde} data, but data set {dataset!r} is "
                             f"{spec.pde}; {regenerate}"]}
    problems = []
    if facts.resolution != spec.resolution:
        problems.append(f"{path}: stored at {facts.resolution} points per axis, but "
                        f"{dataset!r} at preset {preset!r} has {spec.resolution}; {regenerate}")
    try:
        bad = nonfinite_problem(path)
    except ValueError as err:
        bad = str(err)
    if bad:
        problems.append(bad)
    return {"problems": problems, "facts": facts}


def _model_grid(facts: DataFileFacts, subsample: int) -> tuple[int, ...]:
    """Points per axis of the model's input (the stored grid, subsampled; time axis kept)."""
    shape = facts.target_shape[1:]
    timed = PDE_SPECS[facts.pde].time_steps
    grid = tuple(math.ceil(n / subsample) for n in (shape[:-1] if timed else shape))
    return grid + (shape[-1],) if timed else grid


def _trial_against_file(config: TrialConfig, facts: DataFileFacts) -> list[str]:
    """A trial against its data file: channels, sample counts, subsampling."""
    problems = []
    path = facts.path
    for name, dataset, asked, held, shape in (
            ("in_channels", "input", config.in_channels, facts.in_channels, facts.input_shape),
            ("out_channels", "target", config.out_channels, facts.out_channels,
             facts.target_shape)):
        if asked != held:
            problems.append(f"{path}: dataset {dataset!r} gives {held} channel(s) (shape "
                            f"{shape}), but experiment {config.experiment!r} expects "
                            f"{name}={asked}")
    for name, asked, held in (("n_train", config.n_train, facts.n_train),
                              ("n_test", config.n_test, facts.n_test)):
        if asked is not None and asked > held:
            split = "training" if name == "n_train" else "test"
            problems.append(f"{name}={asked}: asks for more {split} samples than {path} "
                            f"holds ({held})")
    if min(config.n_train or facts.n_train, facts.n_train) < 2:
        problems.append(f"n_train={config.n_train or facts.n_train}: the data's normaliser is "
                        f"fitted on the training samples and needs at least 2 ({path})")
    try:
        _check_subsample(facts.pde, facts.resolution, config.subsample, path)
    except ValueError as err:
        problems.append(f"subsample={config.subsample}: {err}")
    return problems


def _config_problems(config: TrialConfig, facts: dict[str, Any]) -> list[str]:
    """A trial against its data: the file's checks, then the batch size and K against the grid."""
    if config.dataset == "synthetic":
        train_size = config.n_train or 64
        grid = (SYNTHETIC_RESOLUTION[config.dim],) * config.dim
        where, problems = "", []
    else:
        file_facts: DataFileFacts = facts["facts"]
        problems = _trial_against_file(config, file_facts)
        if any(line.startswith("subsample=") for line in problems):
            return problems  # the model's grid is unknown
        train_size = min(config.n_train or file_facts.n_train, file_facts.n_train)
        grid = _model_grid(file_facts, config.subsample)
        where = f" of {file_facts.path}"
    if config.batch_size > train_size:
        problems.append(f"batch_size={config.batch_size} is larger than the training set "
                        f"({train_size} samples); use batch_size <= {train_size}")
    try:
        check_grid(as_modes(config.modes_per_axis(), config.dim), grid)
    except ValueError as err:
        problems.append(f"modes={config.modes}: {err}{where}")
    return problems


def _memory_problem(config: TrialConfig, available: int, where: str) -> str | None:
    """One line when the trial's weights, optimizer state, activations and data
    (:func:`~mufno_core.sweep.budget.trial_memory`) cannot fit in ``available`` bytes (of
    ``where``, e.g. "this machine's"). A model that cannot be counted on the meta device is left
    to the trial, which records why it cannot be built."""
    try:
        need = trial_memory(config)
    except (RuntimeError, ValueError, NotImplementedError):
        return None
    if not available or need.total <= available:
        return None
    return (f"width={config.width}, depth={config.depth}, modes={config.modes}, batch_size="
            f"{config.batch_size}: one trial needs {_bytes(need.total)} ({_bytes(need.parameters)}"
            f" of weights ×4 with gradients and Adam's moments, {_bytes(need.activations)} of "
            f"activations, {_bytes(need.data)} of data), more than {where} "
            f"{_bytes(available)} of memory")


def validate_trials(configs: Iterable[TrialConfig], data_dir: str | Path = "data",
                    device: str | None = None, local: bool = True,
                    results: str | Path | None = None) -> None:
    """Raise :class:`SweepConfigError` (one line per problem) if any trial cannot run.

    Data files must exist (call :func:`~mufno_core.sweep.data.prepare_datasets` first); a missing
    one is a problem, and each is checked against its own description
    (:func:`~mufno_core.data.integrity.inspect_file`) and against the trials that read it. With
    ``local`` (the trials run here) a trial whose memory (:func:`_memory_problem`) exceeds that of
    ``device`` (:func:`device_memory`: a CUDA device's, else this machine's) is refused.
    ``device`` None skips the device check; ``local`` as in :func:`check_device`. ``results``
    (the folder the records go to) must accept a new file.
    """
    problems: list[str] = []
    if device is not None:
        try:
            check_device(device, local)
        except ValueError as err:
            problems.append(str(err))
    try:
        check_folder("data folder", data_dir)
    except ValueError as err:
        problems.append(str(err))
    if results is not None:
        try:
            check_writable("results folder", results)
        except ValueError as err:
            problems.append(str(err))
    available, where = device_memory(device) if local else (0, "")
    facts_of: dict[tuple[str, str], dict[str, Any]] = {}
    refused: set[tuple] = set()
    for config in configs:
        key = (config.dataset, config.preset)
        if key not in facts_of:
            if config.dataset == "synthetic":
                facts_of[key] = {"problems": []}
            else:
                try:
                    facts_of[key] = _file_facts(config.dataset, config.preset, data_dir)
                except (ValueError, KeyError, OSError) as err:
                    facts_of[key] = {"problems": [f"data set {config.dataset!r} at preset "
                                                  f"{config.preset!r}: {err}"]}
            problems.extend(facts_of[key]["problems"])
        facts = facts_of[key]
        if config.dataset != "synthetic" and "facts" not in facts:
            continue
        config_problems = _config_problems(config, facts)
        problems.extend(config_problems)
        shape = config.group_key()
        if not config_problems and shape not in refused:  # memory of a trial that can run
            memory = _memory_problem(config, available, where)
            if memory is not None:
                refused.add(shape)
                problems.append(memory)
    unique = list(dict.fromkeys(problems))
    if unique:
        raise SweepConfigError(unique)
