"""The tensors of a trial: the built-in synthetic problem, or a data set of ``mufno_core.data``.

Loaded data are cached per process (keyed by data set, preset, sizes, device and the file's size and
mtime), so that the trials one worker runs one after the other do not reload the file, while a
file replaced on disk is read again. Data with NaN/inf values are refused (ValueError naming the
file) before any training.
"""

from __future__ import annotations

import functools

from mufno_core.data import Splits, ensure_dataset, load_splits
from mufno_core.data.synthetic import synthetic_dataset
from mufno_core.sweep.config import TrialConfig
from mufno_core.sweep.fingerprint import data_path

SYNTHETIC_RESOLUTION = {1: 64, 2: 16, 3: 8}
"""Grid points per axis of the synthetic problem in 1, 2 and 3 dimensions."""


def load_trial_data(config: TrialConfig, data_dir: str = "data", device: str = "cpu") -> Splits:
    """The data of ``config`` as :class:`~mufno_core.data.Splits` on ``device`` (cached per
    process): ``decode`` and ``decode_input`` undo the normalisers of targets and inputs, or are
    None."""
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
            file_state: tuple[int, int] | None = None) -> Splits:
    if dataset == "synthetic":
        x, y, xt, yt = synthetic_dataset(dim, SYNTHETIC_RESOLUTION[dim], n_train or 64, n_test or 16)
        return Splits(x, y, xt, yt).to(device)
    return _load_project_dataset(dataset, preset, n_train, n_test, subsample, data_dir, device)


def _load_project_dataset(dataset: str, preset: str, n_train: int | None, n_test: int | None,
                          subsample: int, data_dir: str, device: str) -> Splits:
    """A data set of ``mufno_core.data`` (generated on first use), cut, subsampled and normalised
    as in the original FNO scripts."""
    return load_splits(ensure_dataset(dataset, preset, data_dir=data_dir), n_train=n_train,
                       n_test=n_test, subsample=subsample).to(device)


def prepare_datasets(configs, data_dir: str = "data") -> None:
    """Generate the data sets of ``configs`` that are missing, once, before workers start."""
    needed = {(c.dataset, c.preset) for c in configs if c.dataset != "synthetic"}
    if needed:
        for dataset, preset in sorted(needed):
            ensure_dataset(dataset, preset, data_dir=data_dir)
