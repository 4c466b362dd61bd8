"""What a trial was trained on: a content fingerprint of its data file, and a scan for non-finite values.

:func:`scan_data_file` reads every dataset of an HDF5 file once, in blocks, and returns the
SHA-256 of their names, dtypes, shapes and bytes (the attributes, e.g. the command that wrote the
file, are left out: equal data give equal fingerprints) together with the count of NaN/inf values
per dataset. The result is cached per process by (path, size, mtime), so a sweep pays one read
per file. A record stores the fingerprint as ``data_fingerprint``; a record made on other data is
not reused (:func:`mufno_core.sweep.store.record_is_current`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mufno_core.data.presets import dataset_spec
from mufno_core.sweep.config import TrialConfig

BLOCK_BYTES = 1 << 24
"""Bytes read at a time while scanning a dataset."""


@dataclass(frozen=True)
class DataScan:
    """``fingerprint`` ("sha256:<hex>") and the non-finite count of each dataset that has any."""

    fingerprint: str
    nonfinite: dict[str, int] = field(default_factory=dict)


_CACHE: dict[tuple[str, int, int], DataScan] = {}


def scan_data_file(path: str | Path) -> DataScan:
    """Fingerprint and non-finite counts of the HDF5 file ``path`` (cached by path, size, mtime).

    Raises ValueError naming the file when it cannot be read.
    """
    import h5py

    path = Path(path).resolve()
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key in _CACHE:
        return _CACHE[key]
    digest = hashlib.sha256(b"mufno.data/1\n")
    nonfinite: dict[str, int] = {}
    try:
        with h5py.File(path, "r") as h5:
            for name in sorted(h5):
                ds = h5[name]
                if not isinstance(ds, h5py.Dataset):
                    continue
                digest.update(f"{name}|{ds.dtype.str}|{ds.shape}\n".encode())
                count = 0
                for block in _blocks(ds):
                    digest.update(np.ascontiguousarray(block).tobytes())
                    if block.dtype.kind in "fc":
                        count += int(block.size - np.count_nonzero(np.isfinite(block)))
                if count:
                    nonfinite[name] = count
    except OSError as err:
        raise ValueError(f"{path}: cannot read the data file (truncated or corrupt?): {err}") \
            from err
    scan = DataScan("sha256:" + digest.hexdigest(), nonfinite)
    if len(_CACHE) > 32:
        _CACHE.clear()
    _CACHE[key] = scan
    return scan


def _blocks(ds):
    if ds.shape == () or ds.size == 0:
        yield np.asarray(ds[()])
        return
    row = max(1, ds.dtype.itemsize * int(np.prod(ds.shape[1:], dtype=np.int64)))
    step = max(1, BLOCK_BYTES // row)
    for start in range(0, ds.shape[0], step):
        yield ds[start : start + step]


def data_path(config: TrialConfig, data_dir: str | Path = "data") -> Path | None:
    """The data file a trial trains on (None for the built-in synthetic problem)."""
    if config.dataset == "synthetic":
        return None

    return dataset_spec(config.dataset, config.preset).path(data_dir)


def data_fingerprint(config: TrialConfig, data_dir: str | Path = "data") -> str | None:
    """The fingerprint of a trial's data file; None for synthetic data or a file not (yet) there."""
    try:
        path = data_path(config, data_dir)
    except ValueError:  # an unknown data set: no file to bind to
        return None
    if path is None or not path.is_file():
        return None
    return scan_data_file(path).fingerprint


def nonfinite_problem(path: str | Path) -> str | None:
    """One line naming the file and its datasets with NaN/inf values; None when all are finite."""
    scan = scan_data_file(path)
    if not scan.nonfinite:
        return None
    where = ", ".join(f"{n} non-finite values in {name!r}" for name, n in scan.nonfinite.items())
    return f"{path}: the data contain NaN/inf ({where}); regenerate the file (mufno data ... --force)"
