"""mufno_core: Fourier Neural Operators with the maximal-update parametrization (μP) over modes K.

After "Maximal Update Parametrization and Zero-Shot Hyperparameter Transfer for Fourier Neural
Operators" (ICML 2025, arXiv 2506.19396).
"""

import importlib
from collections.abc import Callable, Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("mufno")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.1.0"

__all__ = ["FNO", "SpectralConv", "__version__"]


def lazy_exports(package: str, modules: Mapping[str, str]) -> Callable[[str], Any]:
    """A package's PEP 562 ``__getattr__``: it returns ``name`` from the module ``modules[name]``
    (relative to ``package`` when it starts with a dot), importing that module on first use. (A
    package that re-exported eagerly imported torch for any one name: ~2 s of CPU for every process
    that only generates data or reads records.)"""
    def __getattr__(name: str) -> Any:
        if name not in modules:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(modules[name], package), name)

    return __getattr__


# ``import mufno_core`` does not import torch, so the ``mufno`` command (:mod:`mufno_core.cli.main`)
# handles Ctrl-C from its first line
__getattr__ = lazy_exports(__name__, {"FNO": ".model", "SpectralConv": ".spectral"})
