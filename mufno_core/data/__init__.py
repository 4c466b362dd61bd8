"""Data sets of the FNO benchmarks: presets, generation to HDF5, loading as torch tensors.

- :func:`dataset_spec` (name, preset) -> :class:`DatasetSpec`; :func:`list_presets`.
- :func:`generate_dataset` (spec, out) and :func:`mufno_core.data.generate.generate` (name,
  preset, overrides) write a self-describing HDF5 file;
  :func:`ensure_dataset` (name, preset, data_dir) returns its path, generating it if missing.
- :func:`load_split` (path, split, n, subsample) -> (x, y) raw channel-first float32 tensors;
  :func:`load_splits` -> :class:`Splits` (normalised train/test tensors, ``decode`` for the loss);
  :class:`H5Dataset` the torch Dataset (lazy h5py per worker); :class:`UnitGaussianNormalizer`.
"""

from mufno_core.data.dataset import (
    H5Dataset,
    Splits,
    UnitGaussianNormalizer,
    check_file,
    load_split,
    load_splits,
)
from mufno_core.data.generate import ensure_dataset, generate_dataset
from mufno_core.data.presets import DatasetSpec, dataset_spec, list_presets

__all__ = [
    "DatasetSpec", "H5Dataset", "Splits", "UnitGaussianNormalizer", "check_file", "dataset_spec",
    "ensure_dataset", "generate_dataset", "list_presets", "load_split", "load_splits",
]
