"""The tensors of a trial: the built-in synthetic problem, or a data set of ``mufno_core.data``.

Loaded data are cached per process (keyed by data set, preset, sizes, device and the file's size and
mtime), so that the trials one worker runs one after the other do not reload the file, while a
file replaced on disk is read again. Data with NaN/inf values are refused (ValueError naming the
file) before any training.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch

from mufno_core.data import ensure_dataset, load_splits
from mufno_core.losses import Decode
from mufno_core.sweep.config import TrialConfig
from mufno_core.sweep.fingerprint import data_path
from mufno_core.sweep.synthetic import synthetic_dataset

SYNTHETIC_RESOLUTION = {1: 64, 2: 16, 3: 8}
"""Grid points per axis of the synthetic problem in 1, 2 and 3 dimensions."""


@dataclass(frozen=True)
class TrialData:
    """Train and test tensors on the trial's device, and the normalisers' inverses (or None)."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    decode: Decode | None = None
    decode_input: Decode | None = None


def load_trial_data(config: TrialConfig, data_dir: str = "data", device: str = "cpu") -> TrialData:
    """The data of ``config`` on ``device`` (cached per process)."""
    return _cached(config.dataset, config.preset, config.dim, config.n_train, config.n_test,
                   config.subsample, str(data_dir), device, _file_state(config, data_dir))


def _file_state(config: TrialConfig, data_dir: str) -> tuple[int, int] | None:
    """(size, mtime) of the trial's data file, or None (synthetic, or not generated yet)."""
    try:
        path = data_path(config, data_dir)
    except ValueError:
        return None
    if path is None or not path.is_file():
        return None
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


@functools.lru_cache(maxsize=4)
def _cached(dataset: str, preset: str, dim: int, n_train: int | None, n_test: int | None,
            subsample: int, data_dir: str, device: str,
            file_state: tuple[int, int] | None = None) -> TrialData:
    if dataset == "synthetic":
        x, y, xt, yt = synthetic_dataset(dim, SYNTHETIC_RESOLUTION[dim], n_train or 64, n_test or 16)
        return TrialData(x.to(device), y.to(device), xt.to(device), yt.to(device))
    return _load_project_dataset(dataset, preset, n_train, n_test, subsample, data_dir, device)


def _load_project_dataset(dataset: str, preset: str, n_train: int | None, n_test: int | None,
                          subsample: int, data_dir: str, device: str) -> TrialData:
    """A data set of ``mufno_core.data`` (generated on first use), cut, subsampled and normalised
    as in the original FNO scripts."""
    splits = load_splits(ensure_dataset(dataset, preset, data_dir=data_dir), n_train=n_train,
                         n_test=n_test, subsample=subsample)
    return TrialData(splits.x_train.to(device), splits.y_train.to(device),
                     splits.x_test.to(device), splits.y_test.to(device), decode=splits.decode,
                     decode_input=None if splits.x_normalizer is None else splits.x_normalizer.decode)


def prepare_datasets(configs, data_dir: str = "data") -> None:
    """Generate the data sets of ``configs`` that are missing, once, before workers start."""
    needed = {(c.dataset, c.preset) for c in configs if c.dataset != "synthetic"}
    if needed:
        for dataset, preset in sorted(needed):
            ensure_dataset(dataset, preset, data_dir=data_dir)
