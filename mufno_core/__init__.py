"""mufno_core: Fourier Neural Operators with the maximal-update parametrization (μP) over modes K.

After "Maximal Update Parametrization and Zero-Shot Hyperparameter Transfer for Fourier Neural
Operators" (ICML 2025, arXiv 2506.19396).
"""

import importlib
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mufno")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.1.0"

__all__ = ["FNO", "SpectralConv", "__version__"]

_LAZY = {"FNO": "mufno_core.model", "SpectralConv": "mufno_core.spectral"}


def __getattr__(name: str):
    """``FNO`` and ``SpectralConv``, imported on first use: ``import mufno_core`` does not import
    torch, so the ``mufno`` command (:mod:`mufno_core.cli.main`) handles Ctrl-C from its first line."""
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mufno_core' has no attribute {name!r}")
