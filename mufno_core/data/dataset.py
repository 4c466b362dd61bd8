"""Loading a generated HDF5 data set as channel-first float32 torch tensors.

Layouts returned (r = ``subsample``, s' = stored s / r):

- burgers: x (B, 1, N') = u0, y (B, 1, N') = u(1).
- darcy: x (B, 1, s', s') = a, y (B, 1, s', s') = u.
- navier_stokes (FNO-3D): x (B, t_in, s', s', t_out) = the t_in input snapshots repeated along a
  time axis of length t_out, y (B, 1, s', s', t_out); the model appends the grid itself.

Normalisation (:class:`UnitGaussianNormalizer`, per-point mean/std fitted on the training split)
follows the original FNO scripts, except that Burgers normalises its targets (its
:attr:`~mufno_core.data.pdes.PDESpec.normalize`);
Darcy and Navier–Stokes both inputs and targets,
with predictions and targets decoded before the loss (:attr:`Splits.decode`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import torch

from mufno_core.data.integrity import check_file, generate_command
from mufno_core.data.pdes import pde_spec


def _check_subsample(pde: str, n: int, r: int, path: Path) -> None:
    if not isinstance(r, int) or r < 1:
        raise ValueError(f"subsample must be a positive int, got {r!r}")
    spec = pde_spec(pde)
    if spec.fine_and_coarse(n, 1)[0] % r:
        raise ValueError(f"{path}: subsample {r} does not divide {spec.subsample_rule(n)}; the "
                         "coarse grid would not cover the domain")


def to_channel_first(pde: str, x: np.ndarray, y: np.ndarray,
                     subsample: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Stored sample-first arrays -> the channel-first float32 tensors described above."""
    spec = pde_spec(pde)
    spatial = (slice(None, None, subsample),) * spec.dim
    yt = torch.from_numpy(np.ascontiguousarray(y[(slice(None), None, *spatial)], dtype=np.float32))
    if not spec.time_steps:
        xt = torch.from_numpy(np.ascontiguousarray(x[(slice(None), None, *spatial)],
                                                   dtype=np.float32))
        return xt, yt
    # the t_in snapshots become channels, repeated along the t_out target records
    xt = torch.from_numpy(np.ascontiguousarray(np.moveaxis(x[(slice(None), *spatial)], -1, 1),
                                               dtype=np.float32))
    return xt[..., None].expand(*xt.shape, y.shape[-1]).contiguous(), yt


class H5Dataset(torch.utils.data.Dataset):
    """One split of a data file as (x, y) pairs, channel-first (see the module docstring).

    The HDF5 file is opened lazily in each process, so the dataset is safe with DataLoader
    workers. ``n`` keeps the first n samples of the split.
    """

    def __init__(self, path: str | Path, split: str = "train", n: int | None = None,
                 subsample: int = 1) -> None:
        self.path = Path(path)
        self.attrs = check_file(self.path)
        self.pde = str(self.attrs["pde"])
        n_train, n_test = int(self.attrs["n_train"]), int(self.attrs["n_test"])
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        available = n_train if split == "train" else n_test
        if n is None:
            n = available
        if not isinstance(n, int) or not 1 <= n <= available:
            raise ValueError(f"{self.path}: asked for n={n!r} {split} samples, the file has "
                             f"{available}")
        self.start = 0 if split == "train" else n_train
        self.n = n
        self.split = split
        _check_subsample(self.pde, int(self.attrs["resolution"]), subsample, self.path)
        self.subsample = subsample
        self._h5: h5py.File | None = None
        self._pid: int | None = None

    def _file(self) -> h5py.File:
        if self._h5 is None or self._pid != os.getpid():
            self._h5, self._pid = h5py.File(self.path, "r"), os.getpid()
        return self._h5

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_h5"], state["_pid"] = None, None
        return state

    def __len__(self) -> int:
        return self.n

    def _read(self, start: int, stop: int) -> tuple[torch.Tensor, torch.Tensor]:
        h5 = self._file()
        try:
            x, y = h5["input"][start:stop], h5["target"][start:stop]
        except OSError as err:
            raise ValueError(f"{self.path}: cannot read samples {start}:{stop} (corrupt?): "
                             f"{err}") from err
        return to_channel_first(self.pde, x, y, self.subsample)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not -self.n <= index < self.n:
            raise IndexError(f"index {index} out of range for {self.n} samples")
        i = self.start + index % self.n
        x, y = self._read(i, i + 1)
        return x[0], y[0]

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The whole split at once, (x, y) with a leading batch axis."""
        return self._read(self.start, self.start + self.n)

    def close(self) -> None:
        if self._h5 is not None:
            self._h5.close()
            self._h5 = None


def load_split(path: str | Path, split: str = "train", n: int | None = None,
               subsample: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """(x, y) of one split, raw (not normalised), channel-first float32."""
    dataset = H5Dataset(path, split, n, subsample)
    try:
        return dataset.tensors()
    finally:
        dataset.close()


class UnitGaussianNormalizer:
    """Per-point standardisation x ↦ (x − μ)/(σ + ε), μ and σ over the training samples (dim 0)."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor, eps: float = 1e-5) -> None:
        if mean.shape != std.shape:
            raise ValueError(f"mean {tuple(mean.shape)} and std {tuple(std.shape)} differ in shape")
        self.mean, self.std, self.eps = mean.float(), std.float(), float(eps)

    @classmethod
    def fit(cls, x: torch.Tensor, eps: float = 1e-5) -> UnitGaussianNormalizer:
        if x.shape[0] < 2:
            raise ValueError(f"need at least 2 samples to fit a normaliser, got {x.shape[0]}")
        return cls(x.mean(0), x.std(0), eps)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        mean, std = self.mean.to(x.device), self.std.to(x.device)
        return (x - mean) / (std + self.eps)

    def decode(self, x: torch.Tensor) -> torch.Tensor:
        mean, std = self.mean.to(x.device), self.std.to(x.device)
        return x * (std + self.eps) + mean

    def to_dict(self) -> dict[str, Any]:
        return {"mean": self.mean.tolist(), "std": self.std.tolist(), "eps": self.eps}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> UnitGaussianNormalizer:
        return cls(torch.tensor(state["mean"]), torch.tensor(state["std"]), state["eps"])


@dataclass
class Splits:
    """Training and test tensors, normalised where the normalisers are set.

    ``y_train`` and ``y_test`` are both encoded when ``y_normalizer`` is set: pass
    :attr:`decode` to the trainer, which applies it to predictions and targets before the loss.
    ``x_normalizer.decode(x)`` gives the raw input back (e.g. the coefficient a for a physics loss).
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    x_normalizer: UnitGaussianNormalizer | None = None
    y_normalizer: UnitGaussianNormalizer | None = None
    pde: str = ""

    @property
    def decode(self) -> Callable[[torch.Tensor], torch.Tensor] | None:
        return None if self.y_normalizer is None else self.y_normalizer.decode

    @property
    def decode_input(self) -> Callable[[torch.Tensor], torch.Tensor] | None:
        return None if self.x_normalizer is None else self.x_normalizer.decode

    def to(self, device: str | torch.device) -> Splits:
        """The same splits with the four tensors on ``device`` (the normalisers follow the data)."""
        return replace(self, x_train=self.x_train.to(device), y_train=self.y_train.to(device),
                       x_test=self.x_test.to(device), y_test=self.y_test.to(device))


def load_splits(path: str | Path, n_train: int | None = None, n_test: int | None = None,
                subsample: int = 1, normalize_input: bool | None = None,
                normalize_target: bool | None = None) -> Splits:
    """Both splits of a data file, normalised as in the original FNO scripts unless overridden.

    Data with NaN/inf values are refused with a ValueError naming the file and the split.
    """
    x_train, y_train = load_split(path, "train", n_train, subsample)
    x_test, y_test = load_split(path, "test", n_test, subsample)
    for name, tensor in (("training inputs", x_train), ("training targets", y_train),
                         ("test inputs", x_test), ("test targets", y_test)):
        if not bool(torch.isfinite(tensor).all()):
            bad = int((~torch.isfinite(tensor)).sum())
            raise ValueError(f"{path}: the {name} contain {bad} NaN/inf values; regenerate the "
                             f"file with `{generate_command(path)} --force`")
    pde = str(check_file(path)["pde"])
    default_x, default_y = pde_spec(pde).normalize
    x_norm = y_norm = None
    if default_x if normalize_input is None else normalize_input:
        x_norm = UnitGaussianNormalizer.fit(x_train)
        x_train, x_test = x_norm.encode(x_train), x_norm.encode(x_test)
    if default_y if normalize_target is None else normalize_target:
        y_norm = UnitGaussianNormalizer.fit(y_train)
        y_train, y_test = y_norm.encode(y_train), y_norm.encode(y_test)
    return Splits(x_train, y_train, x_test, y_test, x_norm, y_norm, pde)
