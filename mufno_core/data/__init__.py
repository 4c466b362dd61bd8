"""Data sets of the FNO benchmarks: presets, generation to HDF5, loading as torch tensors.

- :func:`dataset_spec` (name, preset) -> :class:`DatasetSpec`; :func:`list_presets`.
- :func:`generate_dataset` (spec, out) and :func:`mufno_core.data.generate.generate` (name,
  preset, overrides) write a self-describing HDF5 file;
  :func:`ensure_dataset` (name, preset, data_dir) returns its path, generating it if missing.
- :func:`load_split` (path, split, n, subsample) -> (x, y) raw channel-first float32 tensors;
  :func:`load_splits` -> :class:`Splits` (normalised train/test tensors, ``decode`` for the loss);
  :class:`H5Dataset` the torch Dataset (lazy h5py per worker); :class:`UnitGaussianNormalizer`.
"""

from mufno_core import lazy_exports

_LAZY = {
    "H5Dataset": ".dataset", "Splits": ".dataset", "UnitGaussianNormalizer": ".dataset",
    "load_split": ".dataset", "load_splits": ".dataset", "check_file": ".integrity",
    "ensure_dataset": ".generate", "generate_dataset": ".generate",
    "DatasetSpec": ".presets", "dataset_spec": ".presets", "list_presets": ".presets",
}

__all__ = sorted(_LAZY)


# generating data (``mufno data``, the generation workers) never imports torch, which only
# loading a data set needs
__getattr__ = lazy_exports(__name__, _LAZY)
